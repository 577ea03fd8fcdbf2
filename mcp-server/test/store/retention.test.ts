/**
 * Retention against the real Postgres (and PGlite): rows older than the cutoff go, in batches; newer
 * rows, unfinished messages and the users' own data (alerts, firings) stay.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlAlertStore } from '../../src/store/alert-store.js';
import { PgDatabase } from '../../src/store/pg-database.js';
import { PgliteDatabase } from '../../src/store/pglite-database.js';
import { pruneExpired } from '../../src/store/retention.js';
import type { SqlDatabase } from '../../src/store/types.js';
import { newAlert } from '../helpers/alert-fixtures.js';
import { isolatedPostgresUrl } from '../helpers/postgres.js';

const DAY = 86_400_000;
const RECORD_KEYS = [
  'attempts',
  'last_error',
  'outbox_id',
  'provider_error_code',
  'provider_id',
  'provider_status',
  'status',
];

async function seed(db: SqlDatabase) {
  const store = new SqlAlertStore(db);
  const channel = { type: 'webhook' as const, url: 'https://example.test/hook' };
  // One alert fired four times (not fireAlert's one alert per firing): the firings are counted below.
  const alert = await store.create('retention', newAlert({ channel }));
  const outbox: string[] = [];
  for (let i = 0; i < 4; i++) {
    const r = await store.recordFiring(
      { alert_id: alert.id, at: Date.now() - (10 - i) * 3_600_000, values: { price: 2 }, message: `m${i}` },
      channel,
      `m${i}`,
    );
    outbox.push(r!.outbox_id);
  }
  // 0: sent 100 days ago; 1: failed 100 days ago; 2: sent yesterday; 3: still pending since 100 days.
  const set = (id: string, status: string, daysAgo: number) =>
    db.query(
      `update outbox set status = $2, updated_at = now() - make_interval(days => $3::int) where id = $1`,
      [id, status, daysAgo],
    );
  await set(outbox[0]!, 'sent', 100);
  await set(outbox[1]!, 'failed', 100);
  await db.query(`update outbox set provider_id = 'SMold', attempts = 1 where id = $1`, [outbox[0]]);
  await db.query(`update outbox set provider_id = 'SMkept' where id = $1`, [outbox[2]]);
  await db.query(`update outbox set last_error = '21211: invalid number', attempts = 1 where id = $1`, [
    outbox[1],
  ]);
  await set(outbox[2]!, 'sent', 1);
  await set(outbox[3]!, 'pending', 100);
  for (const [daysAgo, tool] of [
    [100, 'old'],
    [100, 'old'],
    [89, 'recent'],
  ] as const) {
    await db.query(
      `insert into audit_log (at, tool, caller, transport, duration_ms, status)
       values (now() - make_interval(days => $1::int), $2, 'c', 'http', 1, 'ok')`,
      [daysAgo, tool],
    );
  }
  for (const [daysAgo, sid] of [
    [100, 'SMold'],
    [2, 'SMnew'],
    [100, 'SMkept'], // old, but its message (sent yesterday) is still in the outbox
  ] as const) {
    await db.query(
      `insert into message_status (provider_id, status, at) values ($1, 'delivered', now() - make_interval(days => $2::int))`,
      [sid, daysAgo],
    );
  }
  return { alert, outbox };
}

describe.each([
  ['postgres', true],
  ['pglite', false],
] as const)('pruneExpired on %s', (_name, postgres) => {
  let db: SqlDatabase;
  let drop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    if (postgres) {
      const schema = await isolatedPostgresUrl();
      drop = schema.drop;
      db = new PgDatabase({ connectionString: schema.url });
    } else db = new PgliteDatabase({ dataDir: 'memory' });
  });
  afterAll(async () => {
    await db?.close();
    await drop?.();
  });

  it('deletes finished messages, audit rows and status callbacks older than the cutoff, nothing else', async () => {
    const { alert, outbox } = await seed(db);
    const store = new SqlAlertStore(db);
    const before = await store.history('retention', alert.id, 10);
    expect(await pruneExpired(db, 90)).toEqual({ audit_log: 2, outbox: 2, message_status: 1 });
    const left = await db.query<{ id: string }>('select id from outbox order by id');
    expect(left.map((r) => r.id).sort()).toEqual([outbox[2]!, outbox[3]!].sort());
    expect(await db.query('select tool from audit_log')).toEqual([{ tool: 'recent' }]);
    expect(await db.query('select provider_id from message_status order by provider_id')).toEqual([
      { provider_id: 'SMkept' },
      { provider_id: 'SMnew' },
    ]);
    // The alert and all four firings are the user's: kept.
    const firings = await db.query<{ n: number }>(
      'select count(*)::int as n from alert_firings where alert_id = $1',
      [alert.id],
    );
    expect(firings[0]!.n).toBe(4);
    // Their history still tells how each message ended, Twilio's last status included.
    const after = await store.history('retention', alert.id, 10);
    expect(after).toEqual(before);
    expect(after.find((h) => h.outbox_id === outbox[0])).toMatchObject({
      delivery: 'sent',
      attempts: 1,
      provider_id: 'SMold',
      provider_status: 'delivered',
    });
    expect(after.find((h) => h.outbox_id === outbox[1])).toMatchObject({
      delivery: 'failed',
      last_error: '21211: invalid number',
    });
    // Without the recipient or the text.
    const records = await db.query<{ r: Record<string, unknown> }>(
      'select delivery_record as r from alert_firings where delivery_record is not null',
    );
    expect(records).toHaveLength(2);
    for (const { r } of records) expect(Object.keys(r).sort()).toEqual(RECORD_KEYS);
    // Nothing more to do the second time.
    expect(await pruneExpired(db, 90)).toEqual({ audit_log: 0, outbox: 0, message_status: 0 });
    // A shorter retention reaches the newer rows too (the cutoff moves with `now`).
    expect(await pruneExpired(db, 90, Date.now() + 89 * DAY)).toMatchObject({ audit_log: 1, outbox: 1 });
  });
});
