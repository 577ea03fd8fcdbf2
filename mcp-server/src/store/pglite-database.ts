/**
 * Embedded PostgreSQL (PGlite, Postgres compiled to WASM) for single-process installs without a database
 * server: the same SQL and migrations as PgDatabase, data in a directory (or in memory).
 *
 * PGlite has no multi-process coordination: two processes opening one data directory corrupt it. A lock
 * file next to the directory (`<dataDir>.lock`, holding the pid) makes the second one fail with a clear
 * message instead. Queries and transactions are serialised by PGlite itself.
 */
import { PGlite, types } from '@electric-sql/pglite';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { AppError } from '../errors.js';
import { log } from '../logger.js';
import { DEFAULT_MIGRATIONS_DIR, migrate, type ScriptClient } from './migrate.js';
import type { SqlDatabase, StoreHealth } from './types.js';

export interface PgliteDatabaseOptions {
  /** Directory of the database files, created if missing; 'memory' keeps everything in memory. */
  dataDir: string;
  migrationsDir?: string;
}

/** bigint comes back as a string, as pg returns it, so code behaves the same on both backends. */
const PARSERS = { [types.INT8]: (value: string) => value };

export class PgliteDatabase implements SqlDatabase {
  readonly backend = 'pglite' as const;
  /** Absolute data directory, or null in memory. */
  private readonly dataDir: string | null;
  private readonly migrationsDir: string;
  /** The opened and migrated database; reset to null when opening failed so the next call retries. */
  private opening: Promise<PGlite> | null = null;
  private closed = false;

  constructor(options: PgliteDatabaseOptions) {
    this.dataDir = options.dataDir === 'memory' ? null : resolve(options.dataDir);
    this.migrationsDir = options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR;
  }

  async query<R extends Record<string, unknown> = Record<string, unknown>>(
    text: string,
    params?: readonly unknown[],
  ): Promise<R[]> {
    const db = await this.open();
    return (await db.query<R>(text, params && [...params])).rows;
  }

  async transaction<T>(fn: (tx: ScriptClient) => Promise<T>): Promise<T> {
    return transactionOf(await this.open(), fn);
  }

  async health(): Promise<StoreHealth> {
    const base = { name: 'database', backend: 'pglite' };
    try {
      await this.query('select 1');
      return { ...base, status: 'ok' };
    } catch (err) {
      return { ...base, status: 'down', detail: err instanceof Error ? err.message : String(err) };
    }
  }

  /** Closes the database and releases the lock; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const opening = this.opening;
    this.opening = null;
    const db = await opening?.catch(() => null); // a failed open has cleaned up after itself
    if (!db) return;
    try {
      await db.close();
    } finally {
      if (this.dataDir) await releaseLock(lockPathOf(this.dataDir));
    }
  }

  private open(): Promise<PGlite> {
    if (this.closed) {
      return Promise.reject(
        new AppError('STORE_UNAVAILABLE', 'The embedded database is closed (shutting down).'),
      );
    }
    this.opening ??= this.start().catch((err: unknown) => {
      this.opening = null;
      throw err;
    });
    return this.opening;
  }

  private async start(): Promise<PGlite> {
    const dir = this.dataDir;
    if (dir) {
      await mkdir(dir, { recursive: true });
      await acquireLock(lockPathOf(dir), dir);
    }
    let db: PGlite | undefined;
    try {
      db = await PGlite.create(dir ?? undefined, { parsers: PARSERS }).catch((err: unknown) => {
        throw new AppError(
          'STORE_UNAVAILABLE',
          `The embedded database in ${dir ?? 'memory'} could not be opened (${(err as Error)?.message ?? err}); ` +
            'restore the directory from a backup, point DATA_DIR to a new directory, or set DATABASE_URL.',
          { backend: 'pglite' },
        );
      });
      await migrate({ transaction: (fn) => transactionOf(db!, fn) }, this.migrationsDir);
      return db;
    } catch (err) {
      await db?.close().catch(() => undefined);
      if (dir) await releaseLock(lockPathOf(dir));
      throw err;
    }
  }
}

function transactionOf<T>(db: PGlite, fn: (tx: ScriptClient) => Promise<T>): Promise<T> {
  return db.transaction((tx) =>
    fn({
      query: async <R extends Record<string, unknown>>(text: string, params?: readonly unknown[]) =>
        (await tx.query<R>(text, params && [...params])).rows,
      exec: async (script: string) => {
        await tx.exec(script);
      },
    }),
  );
}

function lockPathOf(dataDir: string): string {
  return `${dataDir}.lock`;
}

/**
 * Lock files taken by this process. A lock naming our own pid that is not in here was left by an earlier
 * process that had the same pid, as happens to pid 1 in a restarted container: it is stale.
 */
const heldLocks = new Set<string>();

/**
 * Creates the lock file exclusively; a lock whose process is gone (crash, kill -9) is taken over. Two
 * processes taking over the same stale lock in the same instant could both succeed: starting several
 * servers on one data directory at once is unsupported anyway, and the message below says so.
 */
async function acquireLock(lockPath: string, dataDir: string): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(lockPath, `${process.pid}\n`, { flag: 'wx' });
      heldLocks.add(lockPath);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10);
    if (isHeld(holder, lockPath)) throw lockedError(dataDir, lockPath, holder);
    log.warn('taking over the lock of a process that is gone', { lock: lockPath, pid: holder });
    await rm(lockPath, { force: true });
  }
  throw new AppError(
    'STORE_UNAVAILABLE',
    `Could not lock the embedded database in ${dataDir}: ${lockPath} keeps reappearing, so another process ` +
      'is opening it. Use one process per DATA_DIR, or set DATABASE_URL to share a PostgreSQL server.',
    { backend: 'pglite' },
  );
}

function isHeld(pid: number, lockPath: string): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false; // empty or garbled: written by a crashing process
  if (pid === process.pid) return heldLocks.has(lockPath);
  try {
    process.kill(pid, 0); // signal 0 only checks that the process exists
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, but belongs to another user
  }
}

function lockedError(dataDir: string, lockPath: string, pid: number): AppError {
  const who = pid === process.pid ? `process ${pid} (this one, through another instance)` : `process ${pid}`;
  return new AppError(
    'STORE_UNAVAILABLE',
    `The embedded database in ${dataDir} is already open in ${who}, and PGlite allows only one process per ` +
      'data directory. Set DATA_DIR to another directory, or set DATABASE_URL to a PostgreSQL server that ' +
      `several processes can share. If process ${pid} is not this server, delete ${lockPath}.`,
    { backend: 'pglite', pid },
  );
}

/** Removes the lock file if it is still ours. */
async function releaseLock(lockPath: string): Promise<void> {
  if (!heldLocks.delete(lockPath)) return;
  const holder = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10);
  if (holder === process.pid) await rm(lockPath, { force: true });
}
