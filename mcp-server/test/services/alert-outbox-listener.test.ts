/**
 * The LISTEN alert_outbox listener on a real Postgres: a firing recorded through SqlAlertStore wakes it
 * within a second, it survives `pg_terminate_backend` of its connection (reconnects and still hears), and
 * it is a no-op for PGlite (no connection string).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertChannel } from '../../src/core/alerts/types.js';
import { listenForOutbox, type OutboxListener } from '../../src/services/alerts/outbox-listener.js';
import { SqlAlertStore } from '../../src/store/alert-store.js';
import { PgDatabase } from '../../src/store/pg-database.js';
import { fireAlert } from '../helpers/alert-fixtures.js';
import { isolatedPostgresUrl } from '../helpers/postgres.js';

const channel: AlertChannel = { type: 'webhook', url: 'https://example.test/outbox-listener' };

let url: string;
let drop: () => Promise<void>;
let db: PgDatabase;
let store: SqlAlertStore;
let listener: OutboxListener | null = null;

beforeAll(async () => {
  const isolated = await isolatedPostgresUrl();
  url = isolated.url;
  drop = isolated.drop;
  db = new PgDatabase({ connectionString: url });
  store = new SqlAlertStore(db);
  await db.query('select 1');
});

afterAll(async () => {
  await listener?.close();
  await db.close();
  await drop();
});

/** Payloads heard, and a way to wait for one (other test files may notify the same channel). */
function recorder() {
  const heard: (string | undefined)[] = [];
  const waiters: { want: string | undefined; resolve: () => void }[] = [];
  return {
    heard,
    onNotify: (payload?: string) => {
      heard.push(payload);
      for (const w of waiters.splice(0)) {
        if (w.want === payload) w.resolve();
        else waiters.push(w);
      }
    },
    /** Resolves with the elapsed ms once `payload` was heard; rejects after `ms`. */
    waitFor: (payload: string | undefined, ms: number) =>
      new Promise<number>((resolve, reject) => {
        const t0 = Date.now();
        if (heard.includes(payload)) return resolve(0);
        const timer = setTimeout(() => reject(new Error(`no notification ${payload} within ${ms} ms`)), ms);
        waiters.push({
          want: payload,
          resolve: () => {
            clearTimeout(timer);
            resolve(Date.now() - t0);
          },
        });
      }),
  };
}

/** Records a new firing (fireAlert checks it was created) and returns its outbox id. */
async function fire(at: number): Promise<string> {
  return (await fireAlert(store, { owner: 'listener-test', channel, at, body: 'm' })).outboxId;
}

async function adminQuery<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<R[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<R>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

describe('listenForOutbox', () => {
  it('is a no-op without a connection string (PGlite)', async () => {
    let calls = 0;
    const l = await listenForOutbox(null, () => calls++);
    await l.close();
    await l.close();
    expect(calls).toBe(0);
  });

  it('hears recordFiring within a second and survives pg_terminate_backend', async () => {
    const app = `outbox-listener-test-${randomBytes(4).toString('hex')}`;
    const r = recorder();
    listener = await listenForOutbox(url, r.onNotify, {
      applicationName: app,
      backoff: { baseMs: 50, maxMs: 200 },
    });

    const first = await fire(1_000);
    expect(await r.waitFor(first, 1_000)).toBeLessThan(1_000);

    const killed = await adminQuery<{ ok: boolean }>(
      'select pg_terminate_backend(pid) as ok from pg_stat_activity where application_name = $1',
      [app],
    );
    expect(killed.map((k) => k.ok)).toEqual([true]);

    // It reconnects (and wakes the dispatcher once for what it may have missed)...
    await r.waitFor(undefined, 5_000);
    const again = await adminQuery<{ n: string }>(
      'select count(*)::text as n from pg_stat_activity where application_name = $1',
      [app],
    );
    expect(again[0]!.n).toBe('1');
    // ...and hears the next firing.
    const second = await fire(2_000);
    expect(await r.waitFor(second, 1_000)).toBeLessThan(1_000);

    await listener.close();
    listener = null;
    const third = await fire(3_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(r.heard).not.toContain(third);
  });

  it('keeps retrying while the server is unreachable, without throwing', async () => {
    let calls = 0;
    // Nothing listens on port 1.
    const l = await listenForOutbox('postgres://postgres@127.0.0.1:1/none', () => calls++, {
      backoff: { baseMs: 20, maxMs: 50 },
      connectTimeoutMs: 500,
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await l.close();
    expect(calls).toBe(0);
  });
});
