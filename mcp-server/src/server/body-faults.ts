/**
 * What a failure of express's JSON body parser means, in one place for both error handlers that answer
 * it (rest-errors.ts for /api/v1, edge-errors.ts for /mcp and the rest): each words it for its clients.
 */
export type BodyFault =
  | { kind: 'too_large'; status: 413; limitBytes: number | null }
  | { kind: 'not_json'; status: 400 }
  | { kind: 'unsupported_encoding'; status: 415 }
  | { kind: 'unreadable'; status: number };

/** The body fault `err` is, or null when it is not a client's body mistake (a server error). */
export function bodyFault(err: unknown): BodyFault | null {
  const e = (err ?? {}) as { type?: unknown; status?: unknown; limit?: unknown };
  switch (e.type) {
    case 'entity.too.large':
      return { kind: 'too_large', status: 413, limitBytes: typeof e.limit === 'number' ? e.limit : null };
    case 'entity.parse.failed':
      return { kind: 'not_json', status: 400 };
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return { kind: 'unsupported_encoding', status: 415 };
  }
  return typeof e.status === 'number' && e.status >= 400 && e.status < 500
    ? { kind: 'unreadable', status: e.status }
    : null;
}
