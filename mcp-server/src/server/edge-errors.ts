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
import { bodyFault } from './body-faults.js';

export const edgeErrorHandler: ErrorRequestHandler = (err: unknown, req, res, _next) => {
  const fault = bodyFault(err);
  const status = fault?.status ?? serverStatus(err);
  if (res.headersSent) {
    log.error('request failed after the answer started', { path: req.path, error: err });
    req.socket.destroy();
    return;
  }
  if (status >= 500) log.error('request failed', { path: req.path, error: err });

  const message =
    fault?.kind === 'too_large'
      ? `The request body is larger than ${fault.limitBytes !== null ? `${fault.limitBytes} bytes` : 'the limit'}.`
      : fault?.kind === 'not_json'
        ? 'The request body is not valid JSON.'
        : fault
          ? 'The request could not be read.'
          : 'The request failed unexpectedly; the error was logged.';
  if (req.path === '/mcp') {
    // As the MCP SDK answers a body it cannot read itself: a JSON-RPC error without an id.
    const code = !fault ? -32603 : fault.kind === 'too_large' ? -32000 : -32700;
    const text =
      code === -32700 ? `Parse error: ${message.charAt(0).toLowerCase()}${message.slice(1)}` : message;
    res.status(status).json({ jsonrpc: '2.0', error: { code, message: text }, id: null });
    return;
  }
  res.status(status).json({ error: fault ? 'invalid_request' : 'internal', message });
};

/** A server-side error's own 5xx status, else 500. */
function serverStatus(err: unknown): number {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === 'number' && status >= 500 && status < 600 ? status : 500;
}
