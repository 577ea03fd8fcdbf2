/**
 * Several engines (replicas, workers) hold their own copies of the alerts. The store decides at firing
 * time under a row lock: a once alert fires once across engines even at different tick times, and a
 * paused, deleted or re-addressed alert never fires from a stale copy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MarketData } from '../../src/market/market-data.js';
import { AlertEngine } from '../../src/services/alerts/engine.js';
import type { AlertFeed } from '../../src/services/alerts/feed.js';
import { SqlAlertStore } from '../../src/store/alert-store.js';
import { PgDatabase } from '../../src/store/pg-database.js';
import type { NewAlert } from '../../src/store/types.js';
import { isolatedPostgresUrl } from '../helpers/postgres.js';

const idle: AlertFeed = { subscribe: () => undefined, stop: () => undefined };

describe('engines in several processes', () => {
  const market = new MarketData({ mode: 'offline' });
  let db: PgDatabase;
  let drop: () => Promise<void>;
  let store: SqlAlertStore;

  beforeAll(async () => {
    const isolated = await isolatedPostgresUrl();
    drop = isolated.drop;
    db = new PgDatabase({ connectionString: isolated.url });
    store = new SqlAlertStore(db);
  });
  afterAll(async () => {
    await db.close();
    await drop();
  });

  const priceAlert = (level: number, over: Partial<NewAlert> = {}): NewAlert => ({
    symbol: 'BTC/USDT',
    exchange: 'binance',
    timeframe: '1h',
    condition: { kind: 'price', op: 'crosses_above', level },
    expression: null,
    channel: { type: 'whatsapp', to: '+4915100000100' },
    template: null,
    repeat: { mode: 'once' },
    expires_at: null,
    quiet_hours: null,
    ...over,
  });
  const engines = async () => {
    const make = async () => {
      const e = new AlertEngine({ market, store, feed: idle, reloadEveryMs: 0 });
      await e.start();
      return e;
    };
    return [await make(), await make()] as const;
  };
  const tick = (e: AlertEngine, price: number, time: number) =>
    e.onTick({ exchange: 'binance', symbol: 'BTC/USDT', price, time });
  const outboxRows = async (alertId: string) =>
    (
      await db.query<{ n: number }>(
        'select count(*)::int as n from outbox o join alert_firings f on f.id = o.firing_id where f.alert_id = $1',
        [alertId],
      )
    )[0]!.n;

  it('fires a once alert once, though two engines see the cross at different tick times', async () => {
    const alert = await store.create('alice', priceAlert(70_000));
    const [a, b] = await engines();
    const t = Date.now();
    await Promise.all([tick(a, 69_000, t), tick(b, 69_000, t + 1)]);
    await Promise.all([tick(a, 70_500, t + 1000), tick(b, 70_600, t + 1005)]);
    expect(await outboxRows(alert.id)).toBe(1);
    expect(a.stats.recorded + b.stats.recorded).toBe(1);
    expect(a.stats.refused + b.stats.refused).toBe(1);
    a.stop();
    b.stop();
  });

  it('never fires a paused or deleted alert from another engine, and sends to the stored number', async () => {
    const paused = await store.create('alice', priceAlert(80_000));
    const moved = await store.create(
      'alice',
      priceAlert(80_000, { repeat: { mode: 'repeat', cooldown_s: 60 } }),
    );
    const [a, b] = await engines();
    // Engine a's process pauses one alert and re-addresses the other; engine b still holds old copies.
    await store.pause('alice', paused.id);
    a.remove(paused.id);
    await store.update('alice', moved.id, { channel: { type: 'whatsapp', to: '+4915100000200' } });
    const t = Date.now();
    await tick(b, 79_000, t);
    await tick(b, 80_500, t + 1000);
    expect(await outboxRows(paused.id)).toBe(0);
    const row = await db.query<{ recipient: string }>(
      'select o.recipient from outbox o join alert_firings f on f.id = o.firing_id where f.alert_id = $1',
      [moved.id],
    );
    expect(row.map((r) => r.recipient)).toEqual(['+4915100000200']);
    a.stop();
    b.stop();
  });

  it('honours the cooldown across engines', async () => {
    const alert = await store.create(
      'alice',
      priceAlert(90_000, {
        condition: { kind: 'price', op: 'above', level: 90_000 },
        repeat: { mode: 'repeat', cooldown_s: 3600 },
      }),
    );
    const [a, b] = await engines();
    const t = Date.now();
    await tick(a, 90_500, t);
    await tick(b, 90_600, t + 60_000); // a minute later, inside the hour's cooldown
    expect(await outboxRows(alert.id)).toBe(1);
    a.stop();
    b.stop();
  });
});
