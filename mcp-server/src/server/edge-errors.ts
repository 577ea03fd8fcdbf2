/**
 * The app's last error handler, for what no route answered: the JSON body parser's failures on /mcp and
 * other paths outside /api/v1 (which has its own, rest-errors.ts), and errors routes pass on.
 *
 * Without it express answers an HTML page with the stack trace and prints the error with console.error,
 * raw request body included: phone numbers and tokens in a malformed body would reach stderr unredacted,
 * outside the JSON log. Client mistakes are answered and not logged (their bodies are the client's);
 * anything else goes through the redacting logger.
 */
import type { ErrorRequestHandler } from 'express';
import { log } from '../logger.js';

export const edgeErrorHandler: ErrorRequestHandler = (err: unknown, req, res, _next) => {
  const e = (err ?? {}) as { type?: unknown; status?: unknown; limit?: unknown };
  const status = typeof e.status === 'number' && e.status >= 400 && e.status < 600 ? e.status : 500;
  if (res.headersSent) {
    log.error('request failed after the answer started', { path: req.path, error: err });
    req.socket.destroy();
    return;
  }
  if (status >= 500) log.error('request failed', { path: req.path, error: err });

  const tooLarge = e.type === 'entity.too.large';
  const message = tooLarge
    ? `The request body is larger than ${typeof e.limit === 'number' ? `${e.limit} bytes` : 'the limit'}.`
    : e.type === 'entity.parse.failed'
      ? 'The request body is not valid JSON.'
      : status < 500
        ? 'The request could not be read.'
        : 'The request failed unexpectedly; the error was logged.';
  if (req.path === '/mcp') {
    // As the MCP SDK answers a body it cannot read itself: a JSON-RPC error without an id.
    const code = status >= 500 ? -32603 : tooLarge ? -32000 : -32700;
    const text =
      code === -32700 ? `Parse error: ${message.charAt(0).toLowerCase()}${message.slice(1)}` : message;
    res.status(status).json({ jsonrpc: '2.0', error: { code, message: text }, id: null });
    return;
  }
  res.status(status).json({ error: status >= 500 ? 'internal' : 'invalid_request', message });
};
