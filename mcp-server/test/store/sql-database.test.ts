/**
 * PgDatabase and PgliteDatabase: migrations, transactions, row types, errors and health, the same on
 * both; then what only one of them has (concurrent replicas and unreachable servers for Postgres, the
 * data directory lock for PGlite).
 */
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { DEFAULT_MIGRATIONS_DIR, migrate, readMigrations } from '../../src/store/migrate.js';
import { PostgresArchive } from '../../src/store/pg-archive.js';
import { PgDatabase, unreachableReason } from '../../src/store/pg-database.js';
import { PgliteDatabase } from '../../src/store/pglite-database.js';
import { ARCHIVE_TTL_MS } from '../../src/store/types.js';
import { isolatedPostgresUrl } from '../helpers/postgres.js';

type Db = PgDatabase | PgliteDatabase;

interface Opened {
  db: Db;
  /** Closes the database and opens a new instance on the same data, as a server restart does. */
  reopen: () => Promise<Db>;
  /** The PGlite data directory. */
  dataDir?: string;
  cleanup: () => Promise<void>;
}

const backends: { backend: Db['backend']; open: () => Promise<Opened> }[] = [
  {
    backend: 'postgres',
    open: async () => {
      const schema = await isolatedPostgresUrl();
      const opened: Opened = {
        db: new PgDatabase({ connectionString: schema.url }),
        reopen: async () => {
          await opened.db.close();
          return (opened.db = new PgDatabase({ connectionString: schema.url }));
        },
        cleanup: () => opened.db.close().finally(schema.drop),
      };
      return opened;
    },
  },
  {
    backend: 'pglite',
    open: async () => {
      const root = await mkdtemp(join(tmpdir(), 'mcp-pglite-'));
      const dataDir = join(root, 'nested', 'db'); // created on first use
      const opened: Opened = {
        db: new PgliteDatabase({ dataDir }),
        dataDir,
        reopen: async () => {
          await opened.db.close();
          return (opened.db = new PgliteDatabase({ dataDir }));
        },
        cleanup: async () => {
          await opened.db.close();
          await rm(root, { recursive: true, force: true });
        },
      };
      return opened;
    },
  },
];

/** A copy of the real migrations in a temporary directory, to add or edit files in. */
async function migrationsCopy(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-migrations-'));
  await cp(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

const migrationRows = (db: Db) =>
  db.query<{ version: number; name: string; checksum: string; applied_at: Date }>(
    'select version, name, checksum, applied_at from schema_migrations order by version',
  );

describe.each(backends)('SQL database on $backend', ({ backend, open }) => {
  let t: Opened;
  const dirs: string[] = [];

  beforeAll(async () => {
    t = await open();
  });
  afterAll(async () => {
    await t?.cleanup();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('applies every migration once on first use and records it', async () => {
    const files = await readMigrations(DEFAULT_MIGRATIONS_DIR);
    expect(files.map((f) => f.version)).toContain(1);
    const rows = await migrationRows(t.db);
    expect(rows.map((r) => [r.version, r.name, r.checksum])).toEqual(
      files.map((f) => [f.version, f.name, f.checksum]),
    );
    for (const table of ['portfolios', 'positions', 'audit_log', 'analysis_archive']) {
      expect(await t.db.query('select to_regclass($1)::text as t', [table])).toEqual([{ t: table }]);
    }
  });

  it('applies nothing the second time, nor after a restart', async () => {
    const before = await migrationRows(t.db);
    expect(await migrate(t.db)).toEqual({ applied: [] });
    const db = await t.reopen();
    expect(await migrationRows(db)).toEqual(before);
    expect(await db.health()).toEqual({ name: 'database', backend, status: 'ok' });
  });

  it('refuses a migration that was edited after it was applied', async () => {
    const dir = await migrationsCopy();
    dirs.push(dir);
    await writeFile(
      join(dir, '0001_initial.sql'),
      (await readFile(join(dir, '0001_initial.sql'), 'utf8')) + '\n-- x\n',
    );
    await expect(migrate(t.db, dir)).rejects.toThrow(/0001_initial was changed after it was applied/);
    // CRLF line endings (a Windows checkout) are not a change.
    const crlf = (await readFile(join(DEFAULT_MIGRATIONS_DIR, '0001_initial.sql'), 'utf8')).replace(
      /\n/g,
      '\r\n',
    );
    await writeFile(join(dir, '0001_initial.sql'), crlf);
    expect(await migrate(t.db, dir)).toEqual({ applied: [] });
  });

  it('applies new migrations in version order, all or nothing', async () => {
    const dir = await migrationsCopy();
    dirs.push(dir);
    await writeFile(
      join(dir, '9001_extra.sql'),
      'create table extra (x int);\ninsert into extra values (1);\n',
    );
    await writeFile(
      join(dir, '9002_broken.sql'),
      'alter table extra add column y int;\nselect no_such_function();\n',
    );
    await writeFile(join(dir, 'README.md'), 'not a migration');
    await expect(migrate(t.db, dir)).rejects.toThrow(/no_such_function/);
    expect(await t.db.query("select to_regclass('extra') as t")).toEqual([{ t: null }]);
    expect((await migrationRows(t.db)).map((r) => r.version)).not.toContain(9001);

    await writeFile(join(dir, '9002_broken.sql'), 'alter table extra add column y int default 2;\n');
    expect(await migrate(t.db, dir)).toEqual({ applied: ['9001_extra', '9002_broken'] });
    expect(await t.db.query('select x, y from extra')).toEqual([{ x: 1, y: 2 }]);
    // The server's own migrations dir does not know 9001 and 9002: that is tolerated (an older release).
    expect(await migrate(t.db)).toEqual({ applied: [] });

    await writeFile(join(dir, '9001_duplicate.sql'), 'select 1;');
    await expect(migrate(t.db, dir)).rejects.toThrow(/Two migration files have version 9001/);
  });

  it('commits a transaction, returns its value, and rolls back when the callback throws', async () => {
    const insert = 'insert into portfolios (owner, id) values ($1, $2)';
    const value = await t.db.transaction(async (tx) => {
      await tx.query(insert, ['tx', 'kept']);
      return (
        await tx.query<{ n: number }>('select count(*)::int as n from portfolios where owner = $1', ['tx'])
      )[0]!.n;
    });
    expect(value).toBe(1);
    await expect(
      t.db.transaction(async (tx) => {
        await tx.query(insert, ['tx', 'dropped']);
        throw new AppError('INVALID_ARGUMENT', 'changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    await expect(
      t.db.transaction(async (tx) => {
        await tx.query(insert, ['tx', 'dropped']);
        await tx.query(insert, ['tx', 'kept']); // primary key violation
      }),
    ).rejects.toMatchObject({ code: '23505' });
    const ids = await t.db.query<{ id: string }>('select id from portfolios where owner = $1', ['tx']);
    expect(ids).toEqual([{ id: 'kept' }]);
    // The connection is usable again after a rollback.
    expect(await t.db.transaction((tx) => tx.query('select 1 as one'))).toEqual([{ one: 1 }]);
  });

  it('passes SQL errors on unchanged, not as an outage', async () => {
    const err = await t.db.query('select * from no_such_table').catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: '42P01' });
    expect(await t.db.health()).toMatchObject({ status: 'ok' });
  });

  it("returns pg's row types on both backends", async () => {
    const [row] = await t.db.query(
      `select 0.00012345::numeric as n, 9007199254740993::bigint as b, 7::int as i,
              '2024-01-02T03:04:05.678Z'::timestamptz as ts, '{"a":[1,"x"]}'::jsonb as j,
              '6b5ecd5a-5f49-4a0b-9d44-4a1fcd2c6f2e'::uuid as u, true as t, null::text as nothing,
              $1::text as p`,
      ["it's $1"],
    );
    expect(row).toEqual({
      n: '0.00012345',
      b: '9007199254740993',
      i: 7,
      ts: new Date('2024-01-02T03:04:05.678Z'),
      j: { a: [1, 'x'] },
      u: '6b5ecd5a-5f49-4a0b-9d44-4a1fcd2c6f2e',
      t: true,
      nothing: null,
      p: "it's $1",
    });
  });

  it('PostgresArchive deletes expired rows when saving, at most once a minute', async () => {
    const T0 = Date.UTC(2030, 0, 1);
    let now = T0;
    const archive = new PostgresArchive(t.db, () => now);
    const symbol = 'TTL/USDT';
    const save = (action: string) =>
      archive.save({
        symbol,
        exchange: 'x',
        timeframe: '1h',
        timestamp: new Date(now),
        confidence: 50.4,
        action,
        report: {},
      });
    const stored = async () =>
      (
        await t.db.query<{ action: string }>(
          'select action from analysis_archive where symbol = $1 order by ts',
          [symbol],
        )
      ).map((r) => r.action);

    await save('A'); // sweeps (the first save does)
    now = T0 + ARCHIVE_TTL_MS - 10_000;
    await save('B'); // sweeps; A is 10 s from expiring
    now = T0 + ARCHIVE_TTL_MS + 20_000;
    await save('C'); // A has expired, but the last sweep was 30 s ago
    expect(await stored()).toEqual(['A', 'B', 'C']);
    expect((await archive.find({ symbol, limit: 10 })).map((f) => f.action)).toEqual(['C', 'B']);
    now = T0 + ARCHIVE_TTL_MS + 50_000;
    await save('D'); // a minute after the last sweep: A goes
    expect(await stored()).toEqual(['B', 'C', 'D']);
    expect((await archive.find({ symbol, limit: 1 }))[0]).toMatchObject({ action: 'D', confidence: 50 });

    expect(await archive.health()).toEqual({ name: 'archive', backend: 'postgres-jsonb', status: 'ok' });
    await archive.close(); // the database is shared: it stays open
    expect(await t.db.query('select 1 as one')).toEqual([{ one: 1 }]);
  });

  describe.runIf(backend === 'pglite')('data directory lock', () => {
    const lockFile = () => `${t.dataDir}.lock`;
    const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid!;

    it('refuses a second instance on the same directory, naming the process that holds it', async () => {
      await t.db.query('select 1');
      expect(await readFile(lockFile(), 'utf8')).toBe(`${process.pid}\n`);
      const second = new PgliteDatabase({ dataDir: t.dataDir! });
      const err = await second.query('select 1').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'STORE_UNAVAILABLE', details: { pid: process.pid } });
      expect((err as Error).message).toMatch(new RegExp(`already open in process ${process.pid}`));
      expect((err as Error).message).toMatch(/DATA_DIR.*DATABASE_URL/);
      expect((await second.health()).status).toBe('down');
      await second.close();
      // The refused instance did not take the lock away from the first.
      expect(await readFile(lockFile(), 'utf8')).toBe(`${process.pid}\n`);
      expect(await t.db.query('select 1 as one')).toEqual([{ one: 1 }]);
    });

    it('refuses a directory locked by another live process', async () => {
      await t.db.close();
      await writeFile(lockFile(), `${process.ppid}\n`);
      const db = new PgliteDatabase({ dataDir: t.dataDir! });
      await expect(db.query('select 1')).rejects.toThrow(
        new RegExp(`already open in process ${process.ppid}`),
      );
      await db.close();
      await rm(lockFile());
      t.db = new PgliteDatabase({ dataDir: t.dataDir! });
    });

    it('releases the lock on close and takes over a stale one', async () => {
      await t.db.query('select 1');
      await t.db.close();
      await expect(readFile(lockFile(), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
      // Left by a process that was killed; by an earlier process with our pid (pid 1 in a restarted
      // container); half written.
      for (const stale of [`${deadPid()}\n`, `${process.pid}\n`, '']) {
        await writeFile(lockFile(), stale);
        t.db = new PgliteDatabase({ dataDir: t.dataDir! });
        expect(await t.db.query('select count(*)::int as n from schema_migrations')).not.toEqual([]);
        expect(await readFile(lockFile(), 'utf8')).toBe(`${process.pid}\n`);
        await t.db.close();
      }
      t.db = new PgliteDatabase({ dataDir: t.dataDir! });
    });
  });

  it('fails with STORE_UNAVAILABLE once closed; close is idempotent', async () => {
    const db = await t.reopen();
    await db.query('select 1');
    await db.close();
    await db.close();
    await expect(db.query('select 1')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await expect(db.transaction(async () => 1)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(await db.health()).toMatchObject({ status: 'down' });
  });
});

describe('PgDatabase only', () => {
  it('migrates once when several replicas start on the same database together', async () => {
    const schema = await isolatedPostgresUrl();
    const replicas = Array.from(
      { length: 4 },
      () => new PgDatabase({ connectionString: schema.url, max: 2 }),
    );
    try {
      const counts = await Promise.all(
        replicas.map((db) => db.query<{ n: number }>('select count(*)::int as n from schema_migrations')),
      );
      const files = await readMigrations(DEFAULT_MIGRATIONS_DIR);
      expect(counts.map((c) => c[0]!.n)).toEqual(replicas.map(() => files.length));
    } finally {
      await Promise.all(replicas.map((db) => db.close()));
      await schema.drop();
    }
  });

  it('fails fast with STORE_UNAVAILABLE when nothing listens, without echoing the URL', async () => {
    const db = new PgDatabase({ connectionString: 'postgres://postgres:hunter2@127.0.0.1:1/test' });
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        // Not memoised: every call tries again (and fails again, quickly).
        const started = Date.now();
        const err = await db.query('select 1').catch((e: unknown) => e);
        expect(Date.now() - started).toBeLessThan(2_000);
        expect(err).toMatchObject({ code: 'STORE_UNAVAILABLE', details: { reason: 'connection refused' } });
        const text = `${(err as Error).message} ${JSON.stringify((err as AppError).details)}`;
        expect(text).toMatch(/^The database is unreachable \(connection refused\); .*DATABASE_URL/);
        expect(text).not.toMatch(/hunter2|127\.0\.0\.1|postgres:\/\//);
      }
      await expect(db.transaction(async () => 1)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      const health = await db.health();
      expect(health).toMatchObject({ name: 'database', backend: 'postgres', status: 'down' });
      expect(health.detail).toMatch(/connection refused/);
      expect(health.detail).not.toMatch(/hunter2/);
    } finally {
      await db.close();
    }
  });

  it('reports a host that does not resolve as unreachable', async () => {
    const db = new PgDatabase({ connectionString: 'postgres://u:secret@no-such-host.invalid/test' });
    try {
      await expect(db.query('select 1')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    } finally {
      await db.close();
    }
  });

  it('tells connection failures from other errors', () => {
    const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });
    expect(unreachableReason(withCode('ECONNREFUSED'))).toBe('connection refused');
    expect(unreachableReason(withCode('ETIMEDOUT'))).toBe('connection timed out');
    expect(unreachableReason(withCode('57P01'))).toBe('server shutting down');
    expect(unreachableReason(withCode('57P03'))).toBe('server starting up');
    expect(unreachableReason(withCode('08006'))).toBe('connection failure');
    expect(unreachableReason(new Error('Connection terminated unexpectedly'))).toBe('connection lost');
    expect(unreachableReason(new Error('timeout exceeded when trying to connect'))).toBe(
      'connection timed out',
    );
    const aggregate = Object.assign(new AggregateError([withCode('ECONNREFUSED')], 'failed'), {});
    expect(unreachableReason(aggregate)).toBe('connection refused');
    for (const other of [
      withCode('23514'),
      withCode('42P01'),
      withCode('28P01'),
      new Error('boom'),
      null,
      'x',
    ]) {
      expect(unreachableReason(other)).toBeUndefined();
    }
  });
});
