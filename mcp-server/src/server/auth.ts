/**
 * Bearer API-key authentication for every HTTP surface except health. Keys are compared in constant
 * time on their SHA-256 digests, so neither the key length nor a matching prefix leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export function bearerAuth(keys: string[]): RequestHandler {
  const digests = keys.map(digest);
  return (req, res, next) => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const presented = match ? digest(match[1]!) : null;
    // Check every key so the time taken does not depend on which key matched.
    let ok = false;
    for (const d of digests) if (presented && timingSafeEqual(presented, d)) ok = true;
    if (ok) return next();
    res
      .status(401)
      .set('WWW-Authenticate', 'Bearer realm="crypto-mcp"')
      .json({
        error: 'unauthorized',
        message: match
          ? 'The API key is not valid.'
          : 'Missing credentials: send "Authorization: Bearer <API key>" (keys are set with MCP_API_KEYS).',
      });
  };
}
