/**
 * Real PostgreSQL for tests. `isolatedPostgresUrl` gives each test file its own schema in the shared test
 * database, so files running in parallel never see each other's tables. `startPrivatePostgres` runs a
 * whole server of its own, for fault tests that stop and restart it.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { PgDatabase } from '../../src/store/pg-database.js';
import { PgliteDatabase } from '../../src/store/pglite-database.js';
import type { SqlDatabase } from '../../src/store/types.js';
import { freePort } from './ports.js';

const run = promisify(execFile);

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * A new schema in the test database and a URL whose connections use it: pg passes the URL's `options`
 * parameter to the server as startup options, so `-c search_path=<schema>` makes every unqualified table
 * (migrations included) land in that schema.
 */
export async function isolatedPostgresUrl(): Promise<{
  url: string;
  schema: string;
  drop: () => Promise<void>;
}> {
  const schema = `test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await adminQuery(`create schema ${schema}`);
  const separator = TEST_DATABASE_URL.includes('?') ? '&' : '?';
  return {
    url: `${TEST_DATABASE_URL}${separator}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    schema,
    drop: () => adminQuery(`drop schema if exists ${schema} cascade`),
  };
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export interface PrivatePostgres {
  url: string;
  /** Fast shutdown: connected clients are told the server is going away (SQLSTATE 57P01). */
  stop: () => Promise<void>;
  start: () => Promise<void>;
  /** Stops the server if it runs and deletes its files. */
  destroy: () => Promise<void>;
}

/** The server binaries: PG_BIN, or the newest /usr/lib/postgresql/<version>/bin, or the PATH. */
export function postgresBinDir(): string | null {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  return versions.length ? join(root, versions[0]!, 'bin') : null;
}

/**
 * initdb into a temporary directory and start a server on a free port. Postgres refuses to run as root,
 * so as root the server runs as the `postgres` user (through runuser), which then owns the directory.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBinDir();
  const tool = (name: string) => (bin ? join(bin, name) : name);
  const asRoot = process.getuid?.() === 0;
  const exec = (name: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', tool(name), ...args]) : run(tool(name), args);

  const dir = await mkdtemp(join(tmpdir(), 'mcp-pg-'));
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const data = join(dir, 'data');
  await exec('initdb', [
    '-D',
    data,
    '-A',
    'trust',
    '-U',
    'postgres',
    '--no-sync',
    '-E',
    'UTF8',
    '--locale=C',
  ]);
  const port = await freePort();
  const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  let running = false;

  const start = async () => {
    await exec('pg_ctl', ['-D', data, '-o', serverOptions, '-l', join(dir, 'server.log'), '-w', 'start']);
    running = true;
  };
  const stop = async () => {
    await exec('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
    running = false;
  };
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    stop,
    destroy: async () => {
      if (running) await stop().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A SQL database for a test file, and how to dispose of it. */
export interface TestDatabase {
  db: SqlDatabase;
  close: () => Promise<void>;
}

/**
 * The two SQL backends, for `describe.each`: a real PostgreSQL (own schema) and an in-memory PGlite.
 * Open one per test file: a new PGlite takes seconds (initdb in WASM). Both are migrated when returned.
 */
export const SQL_BACKENDS: { backend: SqlDatabase['backend']; open: () => Promise<TestDatabase> }[] = [
  {
    backend: 'postgres',
    open: async () => {
      const schema = await isolatedPostgresUrl();
      const db = new PgDatabase({ connectionString: schema.url });
      await db.query('select 1');
      return { db, close: () => db.close().finally(schema.drop) };
    },
  },
  {
    backend: 'pglite',
    open: async () => {
      const db = new PgliteDatabase({ dataDir: 'memory' });
      await db.query('select 1');
      return { db, close: () => db.close() };
    },
  },
];
