/**
 * Errors every layer can raise with a stable machine-readable code. The tool layer turns them into
 * `isError` tool results (MCP) or 4xx/5xx answers (REST) with the message unchanged, so messages must
 * say what went wrong and what to do about it.
 */
export const ERROR_CODES = [
  'INVALID_ARGUMENT',
  'UNKNOWN_SYMBOL',
  'UNKNOWN_EXCHANGE',
  'UNSUPPORTED_TIMEFRAME',
  'INSUFFICIENT_DATA',
  'EXCHANGE_UNAVAILABLE',
  'RATE_LIMITED',
  'DATA_UNAVAILABLE',
  'NOT_FOUND',
  'STORE_UNAVAILABLE',
  'WORKER_UNAVAILABLE',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Whether `code` is one this version knows (a newer worker may answer with another). */
export function isErrorCode(code: unknown): code is ErrorCode {
  return (ERROR_CODES as readonly unknown[]).includes(code);
}

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}
