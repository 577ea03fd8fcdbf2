/**
 * The operator scripts of scripts/, run as an operator runs them (bash, real tools, real services):
 * migrate.sh against a fresh database; backup.sh then restore.sh round trips through the real Postgres
 * (a database of its own on the test server) and a private password-protected Redis; health-check.sh
 * against stub servers (every status it maps) and the real server; services.sh status/start (never
 * stop: other test files use the services). MongoDB parts run only when MONGODB_URL is set and the
 * mongo database tools are installed.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.js';
import { TEST_DATABASE_URL } from '../helpers/postgres.js';
import { SHARED_REDIS_URL } from '../helpers/redis.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SCRIPTS = join(ROOT, 'scripts');
const MIGRATION_COUNT = readdirSync(join(ROOT, 'mcp-server/migrations')).filter((f) =>
  /^\d{4}_.+\.sql$/.test(f),
).length;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs scripts/<name> with bash and only the environment given (plus PATH and HOME). */
function script(name: string, args: string[] = [], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(SCRIPTS, name), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(join(dir, command)));
}

// --- Postgres: a database of its own per use, dropped afterwards --------------------------------------

async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(
  sql: string,
  url = TEST_DATABASE_URL,
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

const databases: string[] = [];

/** A new empty database on the test server; its URL (same server and user as TEST_DATABASE_URL). */
async function freshDatabase(label: string): Promise<string> {
  const name = `ops_${label}_${process.pid}_${randomBytes(3).toString('hex')}`;
  await adminQuery(`create database ${name}`);
  databases.push(name);
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  url.search = '';
  return url.toString();
}

afterAll(async () => {
  for (const name of databases) await adminQuery(`drop database if exists ${name} with (force)`);
});

// --- Redis: a private server with a password, so the snapshot and the restore use auth ----------------

interface PrivateRedis {
  port: number;
  password: string;
  url: string;
  client: () => Redis;
  stop: () => Promise<void>;
}

async function startRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  // Characters that need URL encoding and escaping on the way to MIGRATE's AUTH.
  const password = `p@ss"w\\rd-${randomBytes(4).toString('hex')}`;
  const dir = await mkdtemp(join(tmpdir(), 'ops-redis-'));
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--requirepass',
      password,
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
    ],
    { stdio: 'ignore' },
  );
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  const client = () =>
    new Redis({ port, host: '127.0.0.1', password, lazyConnect: false }).on('error', () => undefined);
  const probe = client();
  try {
    for (let i = 0; ; i++) {
      try {
        await probe.ping();
        break;
      } catch (err) {
        if (i > 100) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  } finally {
    probe.disconnect();
  }
  return {
    port,
    password,
    url: `redis://:${encodeURIComponent(password)}@127.0.0.1:${port}/0`,
    client,
    stop: async () => {
      process.off('exit', reap);
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// --- migrate.sh -----------------------------------------------------------------------------------------

describe('scripts/migrate.sh', () => {
  it('migrates an empty database to the latest schema, and a second run changes nothing', async () => {
    const url = await freshDatabase('migrate');
    const first = await script('migrate.sh', [], { DATABASE_URL: url });
    expect(first.stderr).not.toMatch(/error/i);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`schema version ${MIGRATION_COUNT}`);
    const rows = await adminQuery<{ version: number }>('select version from schema_migrations', url);
    expect(rows).toHaveLength(MIGRATION_COUNT);

    const second = await script('migrate.sh', [], { DATABASE_URL: url });
    expect(second.code).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(second.stderr).not.toContain('database migrated');
  });

  it('refuses to run without DATABASE_URL (exit 2)', async () => {
    const run = await script('migrate.sh');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('DATABASE_URL is not set');
  });

  it('fails with exit 1 on an unreachable database, without printing its password', async () => {
    const password = `hunter2-${randomBytes(6).toString('hex')}`;
    const run = await script('migrate.sh', [], {
      DATABASE_URL: `postgres://app:${password}@127.0.0.1:${await freePort()}/app`,
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/unreachable/i);
    expect(run.stdout + run.stderr).not.toContain(password);
  });
});

// --- backup.sh / restore.sh -------------------------------------------------------------------------------

describe('scripts/backup.sh and scripts/restore.sh', () => {
  let source: string;
  let redis: PrivateRedis;
  let out: string;
  let backup: string;

  const portfolioRows = (url: string) =>
    adminQuery<{ id: string; cash: string; symbol: string; quantity: string }>(
      `select p.id, p.cash::text, s.symbol, s.quantity::text from portfolios p
         join positions s on s.owner = p.owner and s.portfolio_id = p.id order by p.id, s.symbol`,
      url,
    );
  const relationCount = async (url: string) =>
    Number(
      (
        await adminQuery<{ n: string }>(
          `select count(*) as n from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = 'public' and c.relkind in ('r', 'S', 'v')`,
          url,
        )
      )[0]!.n,
    );

  beforeAll(async () => {
    source = await freshDatabase('src');
    const migrated = await script('migrate.sh', [], { DATABASE_URL: source });
    expect(migrated.code, migrated.stderr).toBe(0);
    await adminQuery(
      `insert into portfolios (owner, id, cash) values ('ops', 'main', 1250.5), ('ops', 'alt', 0);
       insert into positions (owner, portfolio_id, symbol, quantity, entry_price) values
         ('ops', 'main', 'BTC/USDT', 0.125, 61000), ('ops', 'main', 'ETH/USDT', 2, 2400.25),
         ('ops', 'alt', 'SOL/USDT', 40, 140)`,
      source,
    );
    redis = await startRedis();
    const r = redis.client();
    await r.set('crypto-mcp:cache:ticker:BTC/USDT', JSON.stringify({ last: 63655.21 }), 'EX', 3600);
    await r.hset('bull:alert-outbox:42', { name: 'deliver', data: '{"outbox_id":"42"}' });
    await r.select(3);
    await r.rpush('crypto-mcp:list', 'a', 'b', 'c');
    r.disconnect();
    out = await mkdtemp(join(tmpdir(), 'ops-backups-'));
  });

  afterAll(async () => {
    await redis?.stop();
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('writes a timestamped directory with the dumps, a manifest and checksums, and no password', async () => {
    const run = await script('backup.sh', ['--out', out], { DATABASE_URL: source, REDIS_URL: redis.url });
    expect(run.code, run.stderr).toBe(0);
    backup = run.stdout.trim();
    expect(backup).toMatch(new RegExp(`^${out}/\\d{8}T\\d{6}Z$`));
    expect(readdirSync(backup).sort()).toEqual(['SHA256SUMS', 'manifest.json', 'postgres.dump', 'redis.rdb']);
    expect(readdirSync(out)).toEqual([backup.slice(out.length + 1)]); // no .partial left behind

    const manifest = JSON.parse(readFileSync(join(backup, 'manifest.json'), 'utf8')) as {
      format: string;
      schema_version: number;
      parts: { part: string; file: string; bytes: number; source: string }[];
    };
    expect(manifest.format).toBe('crypto-intel-backup/1');
    expect(manifest.schema_version).toBe(MIGRATION_COUNT);
    expect(manifest.parts.map((p) => p.part)).toEqual(['postgres', 'redis']);
    for (const part of manifest.parts) expect(part.bytes).toBeGreaterThan(0);

    const check = await new Promise<number>((resolve) =>
      spawn('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: backup, stdio: 'ignore' }).once(
        'close',
        resolve,
      ),
    );
    expect(check).toBe(0);
    const everything = run.stdout + run.stderr + readFileSync(join(backup, 'manifest.json'), 'utf8');
    expect(everything).not.toContain(redis.password);
    expect(everything).not.toContain(encodeURIComponent(redis.password));
  });

  it('refuses to restore over a database that has tables, and leaves it alone (exit 3)', async () => {
    await adminQuery(`update portfolios set cash = 99 where id = 'main'`, source);
    const run = await script('restore.sh', ['--only', 'postgres', backup], { DATABASE_URL: source });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/not empty.*--force/);
    expect(
      (await adminQuery<{ cash: string }>(`select cash::text from portfolios where id = 'main'`, source))[0],
    ).toEqual({ cash: '99' });
  });

  it('with --force brings the data back after rows were deleted and a table altered', async () => {
    const before = await portfolioRows(source);
    await adminQuery(
      `delete from positions where symbol = 'ETH/USDT';
       delete from portfolios where id = 'alt';
       alter table positions add column note text`,
      source,
    );
    expect((await portfolioRows(source)).length).toBe(1);

    const run = await script('restore.sh', ['--force', '--only', 'postgres', backup], {
      DATABASE_URL: source,
    });
    expect(run.code, run.stderr).toBe(0);
    const after = await portfolioRows(source);
    expect(after).toEqual([
      { id: 'alt', cash: '0', symbol: 'SOL/USDT', quantity: '40' },
      { id: 'main', cash: '1250.5', symbol: 'BTC/USDT', quantity: '0.125' },
      { id: 'main', cash: '1250.5', symbol: 'ETH/USDT', quantity: '2' },
    ]);
    expect(after).not.toEqual(before); // `before` had the cash of 99 set after the backup
    const columns = await adminQuery<{ column_name: string }>(
      `select column_name from information_schema.columns where table_name = 'positions' and column_name = 'note'`,
      source,
    );
    expect(columns).toEqual([]);
    // The restored database is still the server's: migrating again finds nothing to do.
    const migrated = await script('migrate.sh', [], { DATABASE_URL: source });
    expect(migrated.code).toBe(0);
    expect(migrated.stderr).not.toContain('database migrated');
  });

  it('restores into a new empty database without --force', async () => {
    const target = await freshDatabase('dst');
    const run = await script('restore.sh', ['--only', 'postgres', backup], { DATABASE_URL: target });
    expect(run.code, run.stderr).toBe(0);
    expect(await portfolioRows(target)).toEqual(await portfolioRows(source));
    expect(
      (await adminQuery<{ n: string }>('select count(*)::text as n from schema_migrations', target))[0],
    ).toEqual({ n: String(MIGRATION_COUNT) });
  });

  it('copies the Redis snapshot back into the live server (every database, values and TTLs)', async () => {
    const r = redis.client();
    try {
      await r.flushall();
      const run = await script('restore.sh', ['--only', 'redis', backup], { REDIS_URL: redis.url });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout + run.stderr).not.toContain(redis.password);
      expect(await r.get('crypto-mcp:cache:ticker:BTC/USDT')).toBe(JSON.stringify({ last: 63655.21 }));
      const ttl = await r.ttl('crypto-mcp:cache:ticker:BTC/USDT');
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(3600);
      expect(await r.hgetall('bull:alert-outbox:42')).toEqual({
        name: 'deliver',
        data: '{"outbox_id":"42"}',
      });
      await r.select(3);
      expect(await r.lrange('crypto-mcp:list', 0, -1)).toEqual(['a', 'b', 'c']);

      // Now the target has keys: refused without --force, replaced with it.
      await r.rpush('crypto-mcp:list', 'd');
      const refused = await script('restore.sh', ['--only', 'redis', backup], { REDIS_URL: redis.url });
      expect(refused.code).toBe(3);
      expect(await r.lrange('crypto-mcp:list', 0, -1)).toEqual(['a', 'b', 'c', 'd']);
      const forced = await script('restore.sh', ['--force', '--only', 'redis', backup], {
        REDIS_URL: redis.url,
      });
      expect(forced.code, forced.stderr).toBe(0);
      expect(await r.lrange('crypto-mcp:list', 0, -1)).toEqual(['a', 'b', 'c']);
    } finally {
      r.disconnect();
    }
  });

  it('checks every target before restoring any part: a refusal leaves all of them as they were', async () => {
    // The database is empty (postgres would be restored) but Redis holds keys (refused): nothing is done.
    const r = redis.client();
    try {
      await r.set('crypto-mcp:live', '1');
      const target = await freshDatabase('preflight');
      const run = await script('restore.sh', [backup], { DATABASE_URL: target, REDIS_URL: redis.url });
      expect(run.code, run.stderr).toBe(3);
      expect(run.stderr).toMatch(/redis: the target already holds keys/);
      expect(await relationCount(target)).toBe(0);
    } finally {
      r.disconnect();
    }
  });

  it('refuses a backup whose files no longer match their checksums, before touching anything', async () => {
    const damaged = await mkdtemp(join(tmpdir(), 'ops-damaged-'));
    try {
      for (const file of readdirSync(backup)) {
        await writeFile(join(damaged, file), readFileSync(join(backup, file)));
      }
      const dump = readFileSync(join(damaged, 'postgres.dump'));
      dump[dump.length - 10] ^= 0xff;
      await writeFile(join(damaged, 'postgres.dump'), dump);
      const target = await freshDatabase('damaged');
      const run = await script('restore.sh', ['--only', 'postgres', damaged], { DATABASE_URL: target });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('checksums do not match');
      expect(await relationCount(target)).toBe(0);
    } finally {
      await rm(damaged, { recursive: true, force: true });
    }
  });

  it('refuses a file that SHA256SUMS does not cover, before touching anything', async () => {
    // A backup made without Redis, with a redis.rdb dropped in afterwards: nothing vouches for it.
    const partial = await mkdtemp(join(tmpdir(), 'ops-unlisted-'));
    const r = redis.client();
    try {
      for (const file of readdirSync(backup)) {
        await writeFile(join(partial, file), readFileSync(join(backup, file)));
      }
      const sums = readFileSync(join(partial, 'SHA256SUMS'), 'utf8');
      await writeFile(
        join(partial, 'SHA256SUMS'),
        sums
          .split('\n')
          .filter((l) => !l.endsWith('redis.rdb'))
          .join('\n'),
      );
      await r.flushall();
      const run = await script('restore.sh', ['--only', 'redis', partial], { REDIS_URL: redis.url });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('redis.rdb is not listed in SHA256SUMS');
      expect(await r.dbsize()).toBe(0);
    } finally {
      r.disconnect();
      await rm(partial, { recursive: true, force: true });
    }
  });

  it('says what is missing: no DATABASE_URL for a backup, no directory for a restore', async () => {
    const backupRun = await script('backup.sh', ['--out', out]);
    expect(backupRun.code).toBe(2);
    expect(backupRun.stderr).toContain('DATABASE_URL is not set');
    const restoreRun = await script('restore.sh');
    expect(restoreRun.code).toBe(2);
    expect(restoreRun.stderr).toContain('Usage: scripts/restore.sh');
    const named = await script('restore.sh', ['--only', 'postgres', backup]);
    expect(named.code).toBe(2);
    expect(named.stderr).toContain('DATABASE_URL is not set');
  });

  const mongoUrl = process.env.MONGODB_URL;
  const mongoTools = onPath('mongodump') && onPath('mongorestore');
  if (!mongoUrl || !mongoTools) {
    it.skip(`MongoDB round trip (skipped: ${!mongoUrl ? 'MONGODB_URL is not set' : 'mongodump/mongorestore are not installed'})`, () => {});
  } else {
    it('backs up and restores the MongoDB archive database', async () => {
      const db = `ops_${process.pid}_${randomBytes(3).toString('hex')}`;
      const url = new URL(mongoUrl);
      url.pathname = `/${db}`;
      const client = new MongoClient(url.toString());
      await client.connect();
      try {
        const analyses = client.db(db).collection('analyses');
        await analyses.insertMany([
          { symbol: 'BTC/USDT', confidence: 80, created_at: new Date() },
          { symbol: 'ETH/USDT', confidence: 55, created_at: new Date() },
        ]);
        const run = await script('backup.sh', ['--out', out, '--skip', 'redis'], {
          DATABASE_URL: source,
          MONGODB_URL: url.toString(),
        });
        expect(run.code, run.stderr).toBe(0);
        const dir = run.stdout.trim();
        expect(readdirSync(dir)).toContain('mongo.archive.gz');
        await analyses.deleteMany({ symbol: 'ETH/USDT' });
        const restore = await script('restore.sh', ['--force', '--only', 'mongo', dir], {
          MONGODB_URL: url.toString(),
        });
        expect(restore.code, restore.stderr).toBe(0);
        expect((await analyses.find().sort({ symbol: 1 }).toArray()).map((d) => d.symbol)).toEqual([
          'BTC/USDT',
          'ETH/USDT',
        ]);
      } finally {
        await client.db(db).dropDatabase();
        await client.close();
      }
    });
  }
});

// --- the --compose form, with a stand-in for docker ---------------------------------------------------------

describe('scripts/backup.sh and scripts/restore.sh --compose (MongoDB)', () => {
  // `docker compose ... exec -T [-e K=V]... <service> <command...>` runs the command here, with the
  // container's environment taken from this one; mongodump and mongorestore record their argv, their
  // --config file and what they read. No Docker engine or mongo tools needed.
  const password = `root"pw\\it's $(whoami)-${randomBytes(4).toString('hex')}`;
  let bin: string;
  let logs: string;
  let out: string;

  const fakeDocker = `#!/usr/bin/env bash
set -euo pipefail
while [ "$1" != exec ]; do shift; done
shift
envs=()
while [ $# -gt 0 ]; do
  case "$1" in
    -T) shift ;;
    -e) envs+=("$2"); shift 2 ;;
    *) break ;;
  esac
done
shift # the service
exec env "\${envs[@]}" "$@"
`;
  const fakeTool = (name: string, io: string) => `#!/usr/bin/env bash
printf '%s\\n' "$@" >"$LOGS/${name}.argv"
for arg in "$@"; do
  case "$arg" in
    --config=*) cfg="\${arg#--config=}" ;;
  esac
done
prev=""
for arg in "$@"; do
  [ "$prev" = "--config" ] && cfg="$arg"
  prev="$arg"
done
if [ -n "\${cfg:-}" ]; then
  cp "$cfg" "$LOGS/${name}.config"
  stat -c %a "$cfg" >"$LOGS/${name}.mode"
  echo "$cfg" >"$LOGS/${name}.path"
fi
${io}
`;

  beforeAll(async () => {
    bin = await mkdtemp(join(tmpdir(), 'ops-fake-bin-'));
    logs = await mkdtemp(join(tmpdir(), 'ops-fake-logs-'));
    out = await mkdtemp(join(tmpdir(), 'ops-compose-backups-'));
    await writeFile(join(bin, 'docker'), fakeDocker, { mode: 0o755 });
    await writeFile(join(bin, 'mongodump'), fakeTool('mongodump', "printf 'ARCHIVE-BYTES'"), {
      mode: 0o755,
    });
    await writeFile(join(bin, 'mongorestore'), fakeTool('mongorestore', 'cat >"$LOGS/mongorestore.stdin"'), {
      mode: 0o755,
    });
  });
  afterAll(async () => {
    for (const dir of [bin, logs, out]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  const env = () => ({
    PATH: `${bin}:${process.env.PATH ?? ''}`,
    LOGS: logs,
    COMPOSE_FILE_PATH: '/nonexistent/docker-compose.production.yml',
    ENV_FILE: '/nonexistent/.env.production',
    // The mongo container's environment.
    MONGO_INITDB_ROOT_USERNAME: 'root',
    MONGO_INITDB_ROOT_PASSWORD: password,
    MONGO_APP_DB: 'crypto_mcp',
  });
  const yamlQuoted = (v: string) => `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

  it('keeps the Mongo root password off the command lines, in a private file removed afterwards', async () => {
    const backupRun = await script(
      'backup.sh',
      ['--compose', '--out', out, '--skip', 'postgres', '--skip', 'n8n', '--skip', 'redis'],
      env(),
    );
    expect(backupRun.code, backupRun.stderr).toBe(0);
    const dir = backupRun.stdout.trim();
    expect(readFileSync(join(dir, 'mongo.archive.gz'), 'utf8')).toBe('ARCHIVE-BYTES');

    const restoreRun = await script('restore.sh', ['--compose', '--only', 'mongo', dir], env());
    expect(restoreRun.code, restoreRun.stderr).toBe(0);
    expect(readFileSync(join(logs, 'mongorestore.stdin'), 'utf8')).toBe('ARCHIVE-BYTES');

    for (const tool of ['mongodump', 'mongorestore']) {
      const argv = readFileSync(join(logs, `${tool}.argv`), 'utf8').split('\n');
      expect(argv.join(' '), tool).not.toContain(password);
      expect(argv, tool).not.toContain('--password');
      expect(argv, tool).toEqual(expect.arrayContaining(['--username', 'root', '--authenticationDatabase']));
      expect(readFileSync(join(logs, `${tool}.config`), 'utf8'), tool).toBe(
        `password: ${yamlQuoted(password)}\n`,
      );
      expect(readFileSync(join(logs, `${tool}.mode`), 'utf8').trim(), tool).toBe('600');
      expect(existsSync(readFileSync(join(logs, `${tool}.path`), 'utf8').trim()), tool).toBe(false);
    }
    expect(readFileSync(join(logs, 'mongorestore.argv'), 'utf8')).toContain('--nsTo=crypto_mcp.*');
    for (const run of [backupRun, restoreRun]) expect(run.stdout + run.stderr).not.toContain(password);
  });
});

// --- health-check.sh ----------------------------------------------------------------------------------------

interface StubAnswer {
  status: number;
  body: unknown;
}

/** An HTTP server answering /health and /health/infrastructure as told, recording what it received. */
async function healthStub(answers: Record<string, StubAnswer | ((req: IncomingMessage) => StubAnswer)>) {
  const seen: { path: string; authorization?: string }[] = [];
  const server: Server = createHttpServer((req, res) => {
    const path = req.url ?? '/';
    seen.push({ path, ...(req.headers.authorization && { authorization: req.headers.authorization }) });
    const answer = answers[path];
    const { status, body } =
      typeof answer === 'function' ? answer(req) : (answer ?? { status: 404, body: { error: 'not_found' } });
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const LIVE = { status: 200, body: { status: 'ok', version: '0.1.0' } };

describe('scripts/health-check.sh', () => {
  it.each([
    [
      'ok',
      { status: 200, body: { status: 'ok', stores: [{ name: 'database', status: 'ok' }] } },
      0,
      'infrastructure: ok',
    ],
    [
      'degraded',
      {
        status: 200,
        body: {
          status: 'degraded',
          stores: [
            { name: 'database', status: 'ok' },
            { name: 'cache', status: 'down', detail: 'Redis unreachable (ECONNREFUSED); reconnecting' },
          ],
        },
      },
      1,
      'cache: down (Redis unreachable (ECONNREFUSED); reconnecting)',
    ],
    [
      'down',
      {
        status: 503,
        body: { status: 'down', stores: [{ name: 'database', status: 'down', detail: 'refused' }] },
      },
      2,
      'database: down (refused)',
    ],
    ['503 without a body', { status: 503, body: {} }, 2, 'infrastructure: down'],
  ] as const)('maps infrastructure %s to its exit code', async (_label, infra, code, line) => {
    const stub = await healthStub({ '/health': LIVE, '/health/infrastructure': infra });
    try {
      const run = await script('health-check.sh', [stub.url]);
      expect(run.code, run.stdout + run.stderr).toBe(code);
      expect(run.stdout).toContain('health: live (ok)');
      expect(run.stdout).toContain(line);
    } finally {
      await stub.close();
    }
  });

  it('sends the API key as a bearer header, from the argument or HEALTH_API_KEY, and never prints it', async () => {
    const key = `key-${randomBytes(12).toString('hex')}`;
    const stub = await healthStub({
      '/health': LIVE,
      '/health/infrastructure': (req) =>
        req.headers.authorization === `Bearer ${key}`
          ? { status: 200, body: { status: 'ok' } }
          : { status: 401, body: { error: 'unauthorized' } },
    });
    try {
      const withoutKey = await script('health-check.sh', [stub.url]);
      expect(withoutKey.code).toBe(2);
      expect(withoutKey.stdout).toContain('pass an API key');

      const fromEnv = await script('health-check.sh', [stub.url], { HEALTH_API_KEY: key });
      expect(fromEnv.code, fromEnv.stdout).toBe(0);
      const fromArg = await script('health-check.sh', [stub.url, key]);
      expect(fromArg.code, fromArg.stdout).toBe(0);
      const wrong = await script('health-check.sh', [stub.url, 'not-the-key-0123456789']);
      expect(wrong.code).toBe(2);
      expect(wrong.stdout).toContain('the API key was not accepted');

      for (const run of [withoutKey, fromEnv, fromArg, wrong])
        expect(run.stdout + run.stderr).not.toContain(key);
      // Liveness is asked without the key; only the details carry it.
      expect(stub.seen.filter((s) => s.path === '/health').every((s) => s.authorization === undefined)).toBe(
        true,
      );
    } finally {
      await stub.close();
    }
  });

  it('falls back to the details of /health when /health/infrastructure does not exist', async () => {
    const stub = await healthStub({
      '/health': (req) =>
        req.headers.authorization
          ? { status: 200, body: { status: 'degraded', stores: [{ name: 'archive', status: 'down' }] } }
          : LIVE,
    });
    try {
      const run = await script('health-check.sh', [`${stub.url}/`, 'k'.repeat(20)]);
      expect(run.code).toBe(1);
      expect(run.stdout).toContain('no /health/infrastructure');
      expect(run.stdout).toContain('archive: down');
    } finally {
      await stub.close();
    }
  });

  it('exits 2 when nothing answers, when /health fails, and on usage errors', async () => {
    const nothing = await script('health-check.sh', [`http://127.0.0.1:${await freePort()}`], {
      HEALTH_TIMEOUT: '5',
    });
    expect(nothing.code).toBe(2);
    expect(nothing.stdout).toContain('unreachable');

    const stub = await healthStub({ '/health': { status: 500, body: { status: 'error' } } });
    try {
      const failing = await script('health-check.sh', [stub.url]);
      expect(failing.code).toBe(2);
      expect(failing.stdout).toContain('HTTP 500');
    } finally {
      await stub.close();
    }
    expect((await script('health-check.sh')).code).toBe(2);
    expect((await script('health-check.sh', ['ftp://example.com'])).code).toBe(2);
  });

  describe('against the real server', () => {
    const KEY = `ops-${randomBytes(12).toString('hex')}`;
    let server: ServerProcess | undefined;
    afterAll(async () => server?.stop());

    /** What the server itself says, mapped as the script documents it. */
    async function expectedCode(origin: string): Promise<number> {
      const auth = { authorization: `Bearer ${KEY}` };
      let res = await fetch(`${origin}/health/infrastructure`, { headers: auth });
      if (res.status === 404) res = await fetch(`${origin}/health`, { headers: auth });
      if (res.status === 503) return 2;
      const { status } = (await res.json()) as { status: string };
      return status === 'ok' ? 0 : status === 'degraded' ? 1 : 2;
    }

    it('reports a healthy server as ok (exit 0)', async () => {
      server = await startServer({ MCP_API_KEYS: KEY });
      const run = await script('health-check.sh', [server.origin], { HEALTH_API_KEY: KEY });
      expect(await expectedCode(server.origin)).toBe(0);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toMatch(/: ok$/m);
      await server.stop();
      server = undefined;
    });

    it('reports a server whose database is unreachable as not ok, as the server itself does', async () => {
      server = await startServer({
        MCP_API_KEYS: KEY,
        DATABASE_URL: `postgres://nobody@127.0.0.1:${await freePort()}/none`,
      });
      const expected = await expectedCode(server.origin);
      expect(expected).toBeGreaterThan(0);
      const run = await script('health-check.sh', [server.origin, KEY]);
      expect(run.code, run.stdout + run.stderr).toBe(expected);
      expect(run.stdout).toMatch(/database: down/);
    });
  });
});

// --- services.sh ---------------------------------------------------------------------------------------------

describe('scripts/services.sh', () => {
  // The ports the test suite itself uses (TEST_DATABASE_URL, TEST_REDIS_URL).
  const ports = {
    PG_PORT: new URL(TEST_DATABASE_URL).port || '5432',
    REDIS_PORT: new URL(SHARED_REDIS_URL).port || '6379',
  };

  it('reports both services up, and start is a no-op when they run', async () => {
    const status = await script('services.sh', ['status'], ports);
    expect(status.code, status.stdout + status.stderr).toBe(0);
    expect(status.stdout).toContain('postgres: up');
    expect(status.stdout).toContain('redis: up');
    const start = await script('services.sh', ['start'], ports);
    expect(start.code, start.stdout + start.stderr).toBe(0);
    expect(start.stdout).toContain('postgres: already running');
    expect(start.stdout).toContain('redis: already running');
  });

  it('answers an unknown command with its usage and exit 2', async () => {
    const run = await script('services.sh', ['restart-everything']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Usage: scripts/services.sh start|stop|status');
  });
});
