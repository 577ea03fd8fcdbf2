/**
 * How the REST API answers failures: always JSON `{ "error": "<CODE>", "message": "<what to fix>" }`,
 * with the HTTP status the code implies. n8n nodes branch on the status and show the message, so the
 * message is the same one an MCP client sees after `CODE: `.
 */
import type { ErrorRequestHandler, Response } from 'express';
import { z } from 'zod';
import type { ErrorCode } from '../errors.js';
import { log } from '../logger.js';
import { bodyFault } from './body-faults.js';
import type { InvocationError } from './tool-invocation.js';

/** Every application error code has a status: adding a code without one does not compile. */
export const STATUS_OF_CODE: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  UNKNOWN_EXCHANGE: 400,
  UNSUPPORTED_TIMEFRAME: 400,
  INSUFFICIENT_DATA: 400,
  UNKNOWN_SYMBOL: 404,
  NOT_FOUND: 404,
  RATE_LIMITED: 429,
  EXCHANGE_UNAVAILABLE: 503,
  DATA_UNAVAILABLE: 503,
  STORE_UNAVAILABLE: 503,
  WORKER_UNAVAILABLE: 503,
  INTERNAL: 500,
};

/** Codes the REST layer adds for requests that never reach a tool. */
export type RestOnlyCode =
  'UNKNOWN_TOOL' | 'METHOD_NOT_ALLOWED' | 'PAYLOAD_TOO_LARGE' | 'UNSUPPORTED_MEDIA_TYPE';

/** The error body, as a schema so the OpenAPI document is generated from it. */
export const restErrorSchema = z.object({
  error: z
    .string()
    .describe(
      `Machine-readable code: ${Object.keys(STATUS_OF_CODE).join(', ')}, or UNKNOWN_TOOL, ` +
        'METHOD_NOT_ALLOWED, PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE; 401/403 from the edge use ' +
        'unauthorized/forbidden',
    ),
  message: z.string().describe('What went wrong and what to do about it'),
});

export function sendError(
  res: Response,
  status: number,
  code: ErrorCode | RestOnlyCode,
  message: string,
): void {
  res.status(status).json({ error: code, message });
}

/** A failed tool invocation at the status its code implies; 429 says when to come back. */
export function sendInvocationError(res: Response, error: InvocationError): void {
  if (error.retryAfterS !== undefined) res.set('Retry-After', String(error.retryAfterS));
  sendError(res, STATUS_OF_CODE[error.code], error.code, error.message);
}

/**
 * Errors raised before or outside a route: the JSON body parser's (malformed JSON, over 256kb, an
 * unsupported charset) and anything a route throws. Without this express answers with an HTML page,
 * which an n8n node cannot read.
 */
export const restErrorHandler: ErrorRequestHandler = (err: unknown, _req, res, next) => {
  if (res.headersSent) return next(err);
  const fault = bodyFault(err);
  switch (fault?.kind) {
    case 'too_large':
      return sendError(
        res,
        413,
        'PAYLOAD_TOO_LARGE',
        `The request body is larger than ${fault.limitBytes !== null ? `${Math.round(fault.limitBytes / 1024)} kB` : 'the limit'}; send less data.`,
      );
    case 'not_json':
      return sendError(
        res,
        400,
        'INVALID_ARGUMENT',
        'The request body is not valid JSON; send a JSON object with Content-Type: application/json.',
      );
    case 'unsupported_encoding':
      return sendError(
        res,
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        'Send the body as UTF-8 JSON without Content-Encoding, with Content-Type: application/json.',
      );
    case 'unreadable':
      return sendError(
        res,
        fault.status,
        'INVALID_ARGUMENT',
        'The request could not be read; send a JSON object.',
      );
  }
  log.error('rest request failed', { error: err });
  sendError(res, 500, 'INTERNAL', 'The request failed unexpectedly; the error was logged. Try again.');
};
