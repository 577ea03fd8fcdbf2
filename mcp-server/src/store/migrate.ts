/**
 * Forward-only schema migrations: `migrations/NNNN_name.sql`, applied in version order and recorded in
 * `schema_migrations` with a checksum. There is no down step; a change to the schema is a new file, and
 * an applied file that was edited afterwards is refused (its checksum no longer matches), because the
 * databases that already ran it would silently differ from new ones.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { log } from '../logger.js';
import type { SqlClient } from './types.js';

/** `mcp-server/migrations/`, from `src/store/` (tests, tsx) as from `dist/store/` (built). */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

/**
 * Key of the transaction-scoped advisory lock that serialises migrations: replicas starting together
 * wait for the first one instead of applying the same migration twice. Any constant works as long as
 * nothing else in the database uses it; this one is "crypto" in ASCII.
 */
const MIGRATION_LOCK_KEY = 0x63727970746f;

/** A client that can also run a multi-statement script (a migration file has several statements). */
export interface ScriptClient extends SqlClient {
  exec(script: string): Promise<void>;
}

/** What `migrate` needs: PgDatabase and PgliteDatabase hand a ScriptClient to their transactions. */
export interface MigrationTarget {
  transaction<T>(fn: (tx: ScriptClient) => Promise<T>): Promise<T>;
}

export interface MigrationFile {
  version: number;
  name: string;
  checksum: string;
  sql: string;
}

const FILE_NAME = /^(\d{4})_([A-Za-z0-9_-]+)\.sql$/;

/** The migration files of `dir`, by version. Other files are ignored; two files with one version are an error. */
export async function readMigrations(dir: string): Promise<MigrationFile[]> {
  const files: MigrationFile[] = [];
  for (const file of (await readdir(dir)).sort()) {
    const m = FILE_NAME.exec(file);
    if (!m) continue;
    // Line endings are normalised so a checkout with CRLF does not look like an edited migration.
    const sql = (await readFile(join(dir, file), 'utf8')).replace(/\r\n/g, '\n');
    const version = Number(m[1]);
    if (files.some((f) => f.version === version)) {
      throw new Error(`Two migration files have version ${m[1]} in ${dir}; give each file its own number.`);
    }
    files.push({ version, name: m[2]!, checksum: createHash('sha256').update(sql).digest('hex'), sql });
  }
  return files;
}

/**
 * Applies the pending migrations of `dir`, all in one transaction (a failing file leaves the database as
 * it was) that first takes an advisory lock, so concurrent callers apply each migration exactly once.
 * Returns the `NNNN_name`s applied by this call.
 */
export async function migrate(
  db: MigrationTarget,
  dir: string = DEFAULT_MIGRATIONS_DIR,
): Promise<{ applied: string[] }> {
  const files = await readMigrations(dir);
  return db.transaction(async (tx) => {
    await tx.query(`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
    await tx.query(
      `create table if not exists schema_migrations (
         version integer primary key,
         name text not null,
         checksum text not null,
         applied_at timestamptz not null default now()
       )`,
    );
    const rows = await tx.query<{ version: number; name: string; checksum: string }>(
      'select version, name, checksum from schema_migrations order by version',
    );
    const done = new Map(rows.map((r) => [Number(r.version), r]));
    const applied: string[] = [];
    for (const file of files) {
      const previous = done.get(file.version);
      if (previous) {
        if (previous.checksum !== file.checksum) {
          throw new Error(
            `Migration ${label(file)} was changed after it was applied (checksum mismatch). Applied ` +
              'migrations must never be edited: restore the original file and add the change as a new migration.',
          );
        }
        continue;
      }
      await tx.exec(file.sql);
      await tx.query(
        'insert into schema_migrations (version, name, checksum) values ($1::int, $2::text, $3::text)',
        [file.version, file.name, file.checksum],
      );
      applied.push(label(file));
    }
    const unknown = [...done.keys()].filter((v) => !files.some((f) => f.version === v));
    if (unknown.length) {
      // A newer release migrated this database; an older one may still run if the changes were additive.
      log.warn('database has migrations this version does not know', { versions: unknown });
    }
    if (applied.length) log.info('database migrated', { applied });
    return { applied };
  });
}

function label(file: MigrationFile): string {
  return `${String(file.version).padStart(4, '0')}_${file.name}`;
}
