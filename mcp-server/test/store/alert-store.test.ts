import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertChannel } from '../../src/core/alerts/types.js';
import { SqlAlertStore } from '../../src/store/alert-store.js';
import type { NewAlert, SqlDatabase } from '../../src/store/types.js';
import { SQL_BACKENDS, type TestDatabase } from '../helpers/postgres.js';

const channel: AlertChannel = { type: 'whatsapp', to: '+4915112345678' };

function newAlert(over: Partial<NewAlert> = {}): NewAlert {
  return {
    symbol: 'BTC/USDT',
    exchange: 'binance',
    timeframe: '1h',
    condition: { kind: 'price', op: 'above', level: 70000 },
    expression: 'price > 70000',
    channel,
    template: null,
    repeat: { mode: 'once' },
    expires_at: null,
    quiet_hours: null,
    ...over,
  };
}

describe.each(SQL_BACKENDS)('SqlAlertStore on $backend', ({ open }) => {
  let t: TestDatabase;
  let db: SqlDatabase;
  let store: SqlAlertStore;
  beforeAll(async () => {
    t = await open();
    db = t.db;
    store = new SqlAlertStore(db);
  });
  afterAll(() => t.close());

  it('creates, reads, updates, lists, pauses, resumes and soft-deletes per owner', async () => {
    const a = await store.create('alice', newAlert());
    expect(a).toMatchObject({ owner: 'alice', status: 'active', symbol: 'BTC/USDT', last_fired_at: null });
    expect(await store.get('alice', a.id)).toEqual(a);
    expect(await store.get('bob', a.id)).toBeNull();
    expect(await store.get('alice', 'not-a-uuid')).toBeNull();

    const u = await store.update('alice', a.id, {
      template: 'Hi {symbol}',
      quiet_hours: { start: '22:00', end: '07:00', time_zone: 'Europe/Berlin' },
    });
    expect(u).toMatchObject({ template: 'Hi {symbol}', expression: 'price > 70000' });
    expect(u!.quiet_hours).toEqual({ start: '22:00', end: '07:00', time_zone: 'Europe/Berlin' });
    expect(await store.update('bob', a.id, { template: 'x' })).toBeNull();
    const cleared = await store.update('alice', a.id, { template: null });
    expect(cleared!.template).toBeNull();

    expect((await store.pause('alice', a.id))!.status).toBe('paused');
    expect(await store.pause('bob', a.id)).toBeNull();
    expect((await store.listActive('BTC/USDT')).some((x) => x.id === a.id)).toBe(false);
    expect((await store.resume('alice', a.id))!.status).toBe('active');
    expect((await store.listActive('BTC/USDT')).some((x) => x.id === a.id)).toBe(true);

    await store.create('bob', newAlert({ symbol: 'ETH/USDT' }));
    expect((await store.list('alice')).map((x) => x.id)).toEqual([a.id]);
    expect(await store.delete('bob', a.id)).toBe(false);
    expect(await store.delete('alice', a.id)).toBe(true);
    expect(await store.delete('alice', a.id)).toBe(false);
    expect(await store.get('alice', a.id)).toBeNull();
    expect(await store.list('alice')).toEqual([]);
    const raw = await db.query<{ status: string }>('select status from alerts where id = $1', [a.id]);
    expect(raw[0]!.status).toBe('deleted');
  });

  it('records a firing with its outbox row once, and marks one-shot alerts fired', async () => {
    const a = await store.create('alice', newAlert());
    const firing = {
      alert_id: a.id,
      at: 1_700_000_000_000,
      values: { price: 70250.5 },
      message: 'BTC above 70000',
    };
    const first = (await store.recordFiring(firing, channel, 'BTC/USDT above 70000: 70250.5'))!;
    expect(first.created).toBe(true);
    const again = await store.recordFiring(firing, channel, 'different body');
    expect(again).toEqual({ firing_id: first.firing_id, outbox_id: first.outbox_id, created: false });
    const counts = await db.query<{ f: number; o: number }>(
      `select (select count(*)::int from alert_firings where alert_id = $1) as f,
              (select count(*)::int from outbox o join alert_firings f on f.id = o.firing_id where f.alert_id = $1) as o`,
      [a.id],
    );
    expect(counts[0]).toEqual({ f: 1, o: 1 });
    const after = await store.get('alice', a.id);
    expect(after!.status).toBe('fired');
    expect(after!.last_fired_at).toBe(new Date(1_700_000_000_000).toISOString());

    const hist = await store.history('alice', a.id, 10);
    expect(hist).toHaveLength(1);
    expect(hist[0]).toMatchObject({
      at: 1_700_000_000_000,
      values: { price: 70250.5 },
      delivery: 'pending',
      outbox_id: first.outbox_id,
    });
    expect(await store.history('bob', a.id, 10)).toEqual([]);
  });

  it('keeps repeating alerts active and records concurrent duplicate firings once', async () => {
    const a = await store.create('alice', newAlert({ repeat: { mode: 'repeat', cooldown_s: 60 } }));
    const firing = { alert_id: a.id, at: 1_700_000_360_000, values: { price: 1 }, message: 'm' };
    const results = await Promise.all([1, 2, 3, 4].map(() => store.recordFiring(firing, channel, 'b')));
    expect(results.filter((r) => r!.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r!.outbox_id)).size).toBe(1);
    expect((await store.get('alice', a.id))!.status).toBe('active');
  });

  it('is atomic: a failing outbox insert leaves no firing behind', async () => {
    const a = await store.create('alice', newAlert());
    const firing = { alert_id: a.id, at: 5, values: {}, message: 'm' };
    // body is NOT NULL: a missing body makes the outbox insert fail inside the transaction, after the
    // firing's insert (the channel comes from the stored alert, so it cannot be made to fail here).
    await expect(
      store.recordFiring(firing, { type: 'whatsapp', to: '+4915100000009' }, null as unknown as string),
    ).rejects.toThrow();
    const rows = await db.query('select 1 from alert_firings where alert_id = $1', [a.id]);
    expect(rows).toHaveLength(0);
    expect((await store.get('alice', a.id))!.status).toBe('active');
  });
});
