/**
 * The tool-call audit log in SQL. Arguments are stored as jsonb, already redacted by the caller, and
 * capped in size: the log records who called what, it is not a copy of every payload (a large candle
 * upload would otherwise bloat the table).
 */
import type { AuditEntry, AuditLog, SqlDatabase } from './types.js';

/** Largest `args` stored as given, in bytes of JSON; larger ones become `{ truncated: true, bytes }`. */
export const MAX_AUDIT_ARGS_BYTES = 8 * 1024;
/** Most entries `recent` returns. */
export const MAX_AUDIT_RECENT = 1_000;

interface AuditRow extends Record<string, unknown> {
  id: string;
  at: Date;
  tool: string;
  caller: string;
  transport: AuditEntry['transport'];
  args: unknown;
  duration_ms: number;
  status: AuditEntry['status'];
  error: string | null;
}

export class SqlAuditLog implements AuditLog {
  constructor(private readonly db: SqlDatabase) {}

  async record(entry: AuditEntry): Promise<void> {
    await this.db.query(
      `insert into audit_log (tool, caller, transport, args, duration_ms, status, error)
       values ($1, $2, $3, $4::text::jsonb, $5::int, $6, $7)`,
      [
        entry.tool,
        entry.caller,
        entry.transport,
        cappedJson(entry.args),
        // integer column; durations measured with performance.now() have fractions
        Math.min(Math.max(Math.round(entry.duration_ms) || 0, 0), 2 ** 31 - 1),
        entry.status,
        entry.error,
      ],
    );
  }

  /** Newest first, at most MAX_AUDIT_RECENT. */
  async recent(limit: number): Promise<(AuditEntry & { id: string; at: string })[]> {
    const n = Math.min(Math.max(Math.floor(limit) || 0, 0), MAX_AUDIT_RECENT);
    if (n === 0) return [];
    const rows = await this.db.query<AuditRow>(
      `select id::text as id, at, tool, caller, transport, args, duration_ms, status, error
         from audit_log order by audit_log.id desc limit $1::int`,
      [n],
    );
    return rows.map((r) => ({
      id: r.id,
      at: r.at.toISOString(),
      tool: r.tool,
      caller: r.caller,
      transport: r.transport,
      args: r.args,
      duration_ms: r.duration_ms,
      status: r.status,
      error: r.error,
    }));
  }
}

/**
 * `args` as JSON text for a jsonb parameter. It is passed as text because pg would turn a JS array into
 * a Postgres array literal. NUL characters are dropped: jsonb cannot hold them and the insert would fail.
 */
function cappedJson(args: unknown): string {
  let json: string;
  try {
    json =
      JSON.stringify(args ?? null, (_key, value: unknown) =>
        typeof value === 'string'
          ? value.replaceAll('\0', '')
          : typeof value === 'bigint'
            ? String(value)
            : value,
      ) ?? 'null'; // a function or symbol serialises to nothing
  } catch {
    return JSON.stringify({ unserializable: true }); // e.g. a circular structure
  }
  const bytes = Buffer.byteLength(json, 'utf8');
  return bytes > MAX_AUDIT_ARGS_BYTES ? JSON.stringify({ truncated: true, bytes }) : json;
}
