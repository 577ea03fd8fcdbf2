/**
 * Bearer API-key authentication for every HTTP surface except health. Keys are compared in constant
 * time on their SHA-256 digests, so neither the key length nor a matching prefix leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * A key's stable public id: portfolios, limits and the audit log are per key, and neither the key nor
 * anything that helps guess it is stored or logged (12 hex digits of its SHA-256).
 */
export const keyId = (key: string): string => `key_${digest(key).toString('hex').slice(0, 12)}`;

/**
 * Which of `tokens` the request's `Authorization: Bearer` header carries: its index, or -1 (also when
 * there is no bearer header). Every token is compared, so the time taken does not depend on which matched.
 */
export function bearerMatcher(tokens: string[]): (req: Request) => number {
  const digests = tokens.map(digest);
  return (req) => {
    const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const presented = match ? digest(match[1]!) : null;
    let matched = -1;
    digests.forEach((d, i) => {
      if (presented && timingSafeEqual(presented, d)) matched = i;
    });
    return matched;
  };
}

export function bearerAuth(keys: string[]): RequestHandler {
  const matcher = bearerMatcher(keys);
  const ids = keys.map(keyId);
  return (req, res, next) => {
    const matched = matcher(req);
    if (matched >= 0) {
      // The SDK forwards req.auth to the server factory; the token field carries the id, not the key.
      req.auth = { token: ids[matched]!, clientId: ids[matched]!, scopes: [] };
      return next();
    }
    res
      .status(401)
      .set('WWW-Authenticate', 'Bearer realm="crypto-mcp"')
      .json({
        error: 'unauthorized',
        message: /^Bearer\s+\S+$/i.test(req.headers.authorization ?? '')
          ? 'The API key is not valid.'
          : 'Missing credentials: send "Authorization: Bearer <API key>" (keys are set with MCP_API_KEYS).',
      });
  };
}
