/**
 * PostgreSQL through a `pg` pool. Nothing connects until the first query, which also applies pending
 * migrations; while the server is unreachable every call fails fast with STORE_UNAVAILABLE and the pool
 * simply opens new connections once it is back, so the same instance recovers without a restart.
 *
 * Rows come back with pg's default parsing: numeric and bigint as strings (exact), timestamptz as Date,
 * json/jsonb parsed. The stores convert numerics to numbers at their edge; no process-wide type parser is
 * changed, so other pg users in the process are unaffected.
 */
import pg from 'pg';
import { AppError } from '../errors.js';
import { log, redact } from '../logger.js';
import { DEFAULT_MIGRATIONS_DIR, migrate, type ScriptClient } from './migrate.js';
import type { SqlDatabase, StoreHealth } from './types.js';

export interface PgDatabaseOptions {
  /** postgres://user:password@host:port/db?options=... Never logged nor echoed in errors. */
  connectionString: string;
  /** Connections in the pool. Default 10. */
  max?: number;
  /** How long opening a connection (or waiting for a free one) may take before the call fails. Default 3000 ms. */
  connectTimeoutMs?: number;
  migrationsDir?: string;
}

const HEALTH_TIMEOUT_MS = 2_000;

export class PgDatabase implements SqlDatabase {
  readonly backend = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly migrationsDir: string;
  /** Migrations applied; reset to null when that failed so the next call tries again. */
  private ready: Promise<void> | null = null;
  /** Whether the last call found the server unreachable: only transitions are logged, not every failure. */
  private unreachable = false;
  private closed = false;

  constructor(options: PgDatabaseOptions) {
    this.migrationsDir = options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR;
    this.pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.max ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 3_000,
      // TCP keep-alive notices a peer that vanished without closing the connection (host down, NAT drop).
      keepAlive: true,
    });
    // An idle pooled connection whose server went away emits 'error'; unheard, it would crash the process.
    // The pool discards that connection by itself.
    this.pool.on('error', (err) => log.warn('idle database connection lost', { reason: describe(err) }));
  }

  async query<R extends Record<string, unknown> = Record<string, unknown>>(
    text: string,
    params?: readonly unknown[],
  ): Promise<R[]> {
    await this.whenReady();
    return this.run(async () => (await this.pool.query<R>(text, params && [...params])).rows);
  }

  async transaction<T>(fn: (tx: ScriptClient) => Promise<T>): Promise<T> {
    await this.whenReady();
    return this.inTransaction(fn);
  }

  async health(): Promise<StoreHealth> {
    const base = { name: 'database', backend: 'postgres' };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(unavailable('no answer within 2 s')), HEALTH_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.query('select 1'), timeout]);
      return { ...base, status: 'ok' };
    } catch (err) {
      const detail = err instanceof AppError ? err.message : String(redact(describe(err)));
      return { ...base, status: 'down', detail };
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  /** Connects and migrates once; a failure is not remembered, so the next call retries. */
  private whenReady(): Promise<void> {
    if (this.closed) {
      return Promise.reject(
        new AppError('STORE_UNAVAILABLE', 'The database connection is closed (shutting down).'),
      );
    }
    this.ready ??= migrate({ transaction: (fn) => this.inTransaction(fn) }, this.migrationsDir).then(
      () => undefined,
      (err: unknown) => {
        this.ready = null;
        throw err;
      },
    );
    return this.ready;
  }

  private async inTransaction<T>(fn: (tx: ScriptClient) => Promise<T>): Promise<T> {
    const client = await this.run(() => this.pool.connect());
    // A checked-out connection is not watched by the pool: if the server drops it between two statements
    // it emits 'error' here, which must be heard (not crash the process) and must not return to the pool.
    let lost = false;
    const onError = (err: Error) => {
      lost = true;
      log.warn('database connection lost during a transaction', { reason: describe(err) });
    };
    client.on('error', onError);
    const tx: ScriptClient = {
      query: async <R extends Record<string, unknown>>(text: string, params?: readonly unknown[]) =>
        this.run(async () => (await client.query<R>(text, params && [...params])).rows),
      exec: async (script: string) => {
        await this.run(() => client.query(script));
      },
    };
    try {
      await tx.exec('begin');
      const result = await fn(tx);
      await tx.exec('commit');
      return result;
    } catch (err) {
      if (!lost && !isUnavailable(err)) {
        await client.query('rollback').catch(() => (lost = true));
      } else {
        lost = true;
      }
      throw err;
    } finally {
      client.off('error', onError);
      client.release(lost); // true destroys the connection instead of pooling it
    }
  }

  /** Runs one database call, turning connection-level failures into STORE_UNAVAILABLE. */
  private async run<T>(call: () => Promise<T>): Promise<T> {
    try {
      const result = await call();
      if (this.unreachable) {
        this.unreachable = false;
        log.info('database reachable again');
      }
      return result;
    } catch (err) {
      const reason = unreachableReason(err);
      if (reason === undefined) throw err;
      if (!this.unreachable) {
        this.unreachable = true;
        log.warn('database unreachable', { reason, error: describe(err) });
      }
      throw unavailable(reason);
    }
  }
}

/** Connection-level error codes (Node socket errors and SQLSTATEs) and how they are reported. */
const UNREACHABLE_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'connection closed',
  '53300': 'too many connections',
  '57P01': 'server shutting down',
  '57P02': 'server crashed',
  '57P03': 'server starting up',
};

/** Why `err` means the server cannot be reached, or undefined for any other error (SQL, constraint...). */
export function unreachableReason(err: unknown): string | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const { code, message, errors } = err as { code?: unknown; message?: unknown; errors?: unknown };
  if (typeof code === 'string') {
    if (code in UNREACHABLE_CODES) return UNREACHABLE_CODES[code];
    if (/^08[0-9A-Z]{3}$/.test(code)) return 'connection failure'; // SQLSTATE class 08
  }
  const text = typeof message === 'string' ? message : '';
  if (/timeout exceeded when trying to connect|connection timeout/i.test(text)) return 'connection timed out';
  if (/connection terminated|not queryable|connection error/i.test(text)) return 'connection lost';
  // Connecting to a host name with several addresses fails with an AggregateError of per-address errors.
  if (Array.isArray(errors)) {
    for (const inner of errors) {
      const reason = unreachableReason(inner);
      if (reason) return reason;
    }
  }
  return undefined;
}

function isUnavailable(err: unknown): boolean {
  return (
    (err instanceof AppError && err.code === 'STORE_UNAVAILABLE') || unreachableReason(err) !== undefined
  );
}

/** The error callers see. Details hold no address: the raw error (host, port) only goes to the log. */
function unavailable(reason: string): AppError {
  return new AppError(
    'STORE_UNAVAILABLE',
    `The database is unreachable (${reason}); check that PostgreSQL is running and that DATABASE_URL ` +
      'points to it. The request can be retried once it is back.',
    { backend: 'postgres', reason },
  );
}

/** Code and message of an error, for logs; the logger redacts credentials that a message might carry. */
function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
