/**
 * Crash tests: a dispatcher child process is SIGKILLed before it calls Twilio, and after Twilio stored the
 * message but before the dispatcher could mark it; a restarted dispatcher must deliver every message, and
 * the stub must see each exactly once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { SqlAlertStore } from '../../src/store/alert-store.js';
import { PgDatabase } from '../../src/store/pg-database.js';
import { RecipientStore } from '../../src/services/alerts/recipients.js';
import { fireAlert } from '../helpers/alert-fixtures.js';
import { isolatedPostgresUrl } from '../helpers/postgres.js';
import { startTwilioStub, type TwilioStub } from '../helpers/twilio-stub.js';

const SERVER_DIR = fileURLToPath(new URL('../../', import.meta.url));
const CHILD = fileURLToPath(new URL('../helpers/alert-dispatcher-child.ts', import.meta.url));
const LEASE_MS = 800;

let db: PgDatabase;
let url: string;
let drop: () => Promise<void>;
let stub: TwilioStub;
let store: SqlAlertStore;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  const schema = await isolatedPostgresUrl();
  url = schema.url;
  drop = schema.drop;
  db = new PgDatabase({ connectionString: url });
  store = new SqlAlertStore(db);
  stub = await startTwilioStub();
});
afterEach(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  stub.onCreate = null;
});
afterAll(async () => {
  await stub.close();
  await db.close();
  await drop();
});

function spawnDispatcher(crash?: 'before-send'): ChildProcess {
  // One process (node with tsx's loader), not the tsx CLI wrapper: SIGKILL must hit the dispatcher itself.
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    cwd: SERVER_DIR,
    env: {
      ...process.env,
      DATABASE_URL: url,
      STUB_URL: stub.url,
      TWILIO_ACCOUNT_SID: stub.accountSid,
      TWILIO_AUTH_TOKEN: stub.authToken,
      LEASE_MS: String(LEASE_MS),
      LOG_LEVEL: 'error',
      ...(crash ? { CRASH: crash } : {}),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function fireMany(count: number, to: string): Promise<{ id: string; body: string }[]> {
  await new RecipientStore(db).recordInbound(to);
  const out = [];
  for (let i = 0; i < count; i++) {
    const { outboxId, body } = await fireAlert(store, {
      channel: { type: 'whatsapp', to },
      body: `crash test ${i} ${randomUUID()}`,
      at: 1000 + i,
      values: {},
      repeat: { mode: 'once' },
    });
    out.push({ id: outboxId, body });
  }
  return out;
}

async function statuses(ids: string[]): Promise<string[]> {
  const rows = await db.query<{ id: string; status: string }>(
    'select id, status from outbox where id = any($1::uuid[])',
    [ids],
  );
  return ids.map((id) => rows.find((r) => r.id === id)!.status);
}

async function waitFor(cond: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

function assertExactlyOnce(to: string, msgs: { body: string }[]) {
  const seen = stub.sentTo(to).map((m) => m.body);
  for (const m of msgs) expect(seen.filter((b) => b === m.body)).toHaveLength(1);
  expect(seen).toHaveLength(msgs.length);
}

it('killed before the send: the restarted dispatcher sends it, once', async () => {
  const to = '+4915190000001';
  const msgs = await fireMany(3, to);
  const crashing = spawnDispatcher('before-send');
  const [, signal] = (await once(crashing, 'exit')) as [number | null, string | null];
  expect(signal).toBe('SIGKILL');
  expect(stub.sentTo(to)).toHaveLength(0);
  expect(await statuses(msgs.map((m) => m.id))).toContain('sending');

  const child = spawnDispatcher();
  await waitFor(async () => (await statuses(msgs.map((m) => m.id))).every((s) => s === 'sent'));
  child.kill('SIGTERM');
  await once(child, 'exit');
  assertExactlyOnce(to, msgs);
});

it('killed after Twilio stored each message but before marking it: no message is sent twice', async () => {
  const to = '+4915190000002';
  const msgs = await fireMany(3, to);
  const killedFor = new Set<string>();
  let current: ChildProcess | null = null;
  // Every message's first arrival kills the dispatcher before Twilio's answer reaches it.
  stub.onCreate = async (m) => {
    if (killedFor.has(m.body) || !current) return;
    killedFor.add(m.body);
    const exited = once(current, 'exit');
    current.kill('SIGKILL');
    await exited;
  };
  for (let round = 0; round < 10; round++) {
    current = spawnDispatcher();
    const exited = once(current, 'exit');
    const done = waitFor(
      async () => (await statuses(msgs.map((m) => m.id))).every((s) => s === 'sent'),
      20_000,
    ).then(() => 'done' as const);
    const result = await Promise.race([done, exited.then(() => 'killed' as const)]);
    if (result === 'done') {
      current.kill('SIGTERM');
      await exited;
      break;
    }
  }
  expect(killedFor.size).toBe(3);
  expect(await statuses(msgs.map((m) => m.id))).toEqual(['sent', 'sent', 'sent']);
  assertExactlyOnce(to, msgs);
  // The recovered rows carry Twilio's SID from the message log.
  const rows = await db.query<{ provider_id: string }>(
    'select provider_id from outbox where id = any($1::uuid[])',
    [msgs.map((m) => m.id)],
  );
  expect(rows.every((r) => r.provider_id?.startsWith('SM'))).toBe(true);
});
