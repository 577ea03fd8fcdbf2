import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sliceCandles, type Candles } from '../../src/core/candles.js';
import { formatNumber } from '../../src/core/alerts/message.js';
import type { AlertChannel, AlertDefinition, AlertFiring } from '../../src/core/alerts/types.js';
import { computeSeries, parseSeriesRef } from '../../src/core/rules/series.js';
import { MarketData } from '../../src/market/market-data.js';
import { candleCloseTime } from '../../src/market/timeframes.js';
import { AlertEngine, type EngineStore } from '../../src/services/alerts/engine.js';
import { PollingFeed, ReplayFeed, type FeedMarket } from '../../src/services/alerts/feed.js';
import { decideFiring, inQuietHours } from '../../src/services/alerts/firing-policy.js';
import { SqlAlertStore } from '../../src/store/alert-store.js';
import { PgDatabase } from '../../src/store/pg-database.js';
import type { NewAlert } from '../../src/store/types.js';
import { newAlert } from '../helpers/alert-fixtures.js';
import { startFixtureExchange } from '../helpers/fixture-exchange.js';
import { isolatedPostgresUrl } from '../helpers/postgres.js';

const HOUR = 3_600_000;
const OWNER = 'engine-test';
const channel: AlertChannel = { type: 'webhook', url: 'https://example.test/hook' };
const STEPS = 300;

/** The standard test alert, but `close > 0` (true at every candle close), once, to `channel`. */
function engineAlert(over: Partial<NewAlert>): NewAlert {
  return newAlert({
    condition: { kind: 'compare', left: { series: 'close' }, op: '>', right: 0 },
    channel,
    repeat: { mode: 'once' },
    ...over,
  });
}

/** Local hour in Berlin, computed independently of the policy (toLocaleString). */
function berlinHour(ms: number): number {
  return Number(
    new Date(ms).toLocaleString('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', hourCycle: 'h23' }),
  );
}

describe('firing policy', () => {
  const base: Pick<AlertDefinition, 'status' | 'expires_at' | 'repeat' | 'quiet_hours'> = {
    status: 'active',
    expires_at: null,
    repeat: { mode: 'repeat', cooldown_s: 3600 },
    quiet_hours: null,
  };
  const t = Date.UTC(2026, 0, 15, 12, 0);

  it('fires, skips on cooldown, staleness, status and expires', () => {
    expect(decideFiring(base, t, null)).toEqual({ action: 'fire' });
    expect(decideFiring(base, t, t - 3599_000)).toEqual({ action: 'skip', reason: 'cooldown' });
    expect(decideFiring(base, t, t - 3600_000)).toEqual({ action: 'fire' });
    expect(decideFiring(base, t, t)).toEqual({ action: 'skip', reason: 'stale' });
    expect(decideFiring({ ...base, status: 'paused' }, t, null)).toEqual({
      action: 'skip',
      reason: 'not_active',
    });
    expect(decideFiring({ ...base, expires_at: new Date(t).toISOString() }, t, null)).toEqual({
      action: 'expire',
    });
    expect(decideFiring({ ...base, expires_at: new Date(t + 1).toISOString() }, t, null)).toEqual({
      action: 'fire',
    });
  });

  it('quiet hours span midnight in the time zone, start inclusive, end exclusive', () => {
    const q = { start: '22:00', end: '07:00', time_zone: 'Europe/Berlin' };
    // January: Berlin is UTC+1.
    expect(inQuietHours(q, Date.UTC(2026, 0, 15, 20, 59))).toBe(false); // 21:59
    expect(inQuietHours(q, Date.UTC(2026, 0, 15, 21, 0))).toBe(true); // 22:00
    expect(inQuietHours(q, Date.UTC(2026, 0, 15, 23, 30))).toBe(true); // 00:30
    expect(inQuietHours(q, Date.UTC(2026, 0, 16, 5, 59))).toBe(true); // 06:59
    expect(inQuietHours(q, Date.UTC(2026, 0, 16, 6, 0))).toBe(false); // 07:00
    // July: UTC+2.
    expect(inQuietHours(q, Date.UTC(2026, 6, 15, 20, 0))).toBe(true); // 22:00
    const day = { start: '09:00', end: '17:00', time_zone: 'UTC' };
    expect(inQuietHours(day, Date.UTC(2026, 0, 15, 12))).toBe(true);
    expect(inQuietHours(day, Date.UTC(2026, 0, 15, 17))).toBe(false);
    expect(inQuietHours({ ...day, time_zone: 'Not/AZone' }, Date.UTC(2026, 0, 15, 12))).toBe(false);
    expect(decideFiring({ ...base, quiet_hours: q }, Date.UTC(2026, 0, 15, 23), null)).toEqual({
      action: 'skip',
      reason: 'quiet_hours',
    });
  });
});

describe('AlertEngine over the offline snapshot and Postgres', () => {
  let db: PgDatabase;
  let drop: () => Promise<void>;
  let store: SqlAlertStore;
  const market = new MarketData({ mode: 'offline' });
  let all: Candles;
  /** Index of the first replayed candle; the replay's first step is its close. */
  let s: number;
  let start: number;

  beforeAll(async () => {
    const schema = await isolatedPostgresUrl();
    drop = schema.drop;
    db = new PgDatabase({ connectionString: schema.url });
    store = new SqlAlertStore(db);
    all = await market.snapshot.candles('BTC/USDT', '1h');
    s = all.time.length - STEPS;
    start = all.time[s]! + HOUR;
  });
  afterAll(async () => {
    await db.close();
    await drop();
  });
  beforeEach(async () => {
    await db.query(`update alerts set status = 'deleted'`);
  });

  const closeAt = (i: number) => all.time[i]! + HOUR;
  const firingsOf = async (id: string) =>
    (await store.history(OWNER, id, 500)).map((h) => h.at).sort((a, b) => a - b);
  const counts = async () => {
    const f = await db.query<{ n: string }>('select count(*)::text as n from alert_firings');
    const o = await db.query<{ n: string }>('select count(*)::text as n from outbox');
    return { firings: Number(f[0]!.n), outbox: Number(o[0]!.n) };
  };
  const replayEngine = (m: FeedMarket = market, st: EngineStore = store) => {
    const feed = new ReplayFeed({ market: m, start });
    const engine = new AlertEngine({ market: m, store: st, feed, now: () => feed.now() });
    return { feed, engine };
  };

  it('fires once alerts at the first candle that holds, with cooldown, quiet hours, expiry and outbox rows', async () => {
    // Level: the highest close of the first 50 replayed candles, first exceeded later.
    const X = Math.max(...all.close.subarray(s, s + 50));
    let firstAbove = -1;
    for (let i = s; i < s + STEPS && firstAbove < 0; i++) if (all.close[i]! > X) firstAbove = i;
    expect(firstAbove).toBeGreaterThan(s + 49);

    // RSI over the same 142 candles the evaluator asks for (10 * 14 + 2).
    const rsi = parseSeriesRef('rsi(14)');
    let firstRsi = -1;
    let rsiValue = NaN;
    for (let i = s; i < s + STEPS && firstRsi < 0; i++) {
      const v = computeSeries(sliceCandles(all, i - 141, i + 1), rsi, new Map())[141]!;
      if (v < 30) [firstRsi, rsiValue] = [i, v];
    }
    expect(firstRsi).toBeGreaterThan(s);

    const level = await store.create(
      OWNER,
      engineAlert({
        condition: { kind: 'compare', left: { series: 'close', timeframe: '1h' }, op: '>', right: X },
        expression: `close(1h) > ${X}`,
      }),
    );
    const oversold = await store.create(
      OWNER,
      engineAlert({
        condition: { kind: 'compare', left: { series: 'rsi(14)', timeframe: '1h' }, op: '<', right: 30 },
        expression: 'rsi(14,1h) < 30',
        template: 'RSI {rsi(14,1h)} on {symbol}',
      }),
    );
    const price = await store.create(
      OWNER,
      engineAlert({ condition: { kind: 'price', op: 'above', level: X }, expression: `price > ${X}` }),
    );
    const cooldown = await store.create(
      OWNER,
      engineAlert({ repeat: { mode: 'repeat', cooldown_s: 6 * 3600 } }),
    );
    const quiet = await store.create(
      OWNER,
      engineAlert({
        repeat: { mode: 'repeat', cooldown_s: 0 },
        quiet_hours: { start: '22:00', end: '06:00', time_zone: 'Europe/Berlin' },
      }),
    );
    const expiring = await store.create(
      OWNER,
      engineAlert({
        repeat: { mode: 'repeat', cooldown_s: 0 },
        expires_at: new Date(start + 10 * HOUR).toISOString(),
      }),
    );

    const { feed, engine } = replayEngine();
    await engine.start();
    expect(engine.size).toBe(6);
    await feed.run(STEPS);
    engine.stop();

    expect(await firingsOf(level.id)).toEqual([closeAt(firstAbove)]);
    expect(await firingsOf(oversold.id)).toEqual([closeAt(firstRsi)]);
    expect(await firingsOf(price.id)).toEqual([closeAt(firstAbove)]);
    expect((await store.get(OWNER, level.id))!.status).toBe('fired');

    const cd = await firingsOf(cooldown.id);
    expect(cd).toEqual(Array.from({ length: STEPS / 6 }, (_, k) => start + k * 6 * HOUR));

    const q = await firingsOf(quiet.id);
    const steps = Array.from({ length: STEPS }, (_, k) => start + k * HOUR);
    const outside = steps.filter((t) => {
      const h = berlinHour(t);
      return h >= 6 && h < 22;
    });
    expect(outside.length).toBeLessThan(STEPS);
    expect(q).toEqual(outside);

    expect(await firingsOf(expiring.id)).toEqual(steps.slice(0, 10));
    expect(engine.stats.expired).toBe(1);

    // The outbox row carries the rendered message.
    const rows = await db.query<{ body: string; recipient: string; status: string }>(
      `select o.body, o.recipient, o.status from outbox o join alert_firings f on f.id = o.firing_id
        where f.alert_id = $1::uuid`,
      [oversold.id],
    );
    expect(rows).toEqual([
      {
        body: `RSI ${formatNumber(rsiValue)} on BTC/USDT`,
        recipient: 'https://example.test/hook',
        status: 'pending',
      },
    ]);
    const [levelRow] = await db.query<{ body: string }>(
      `select o.body from outbox o join alert_firings f on f.id = o.firing_id where f.alert_id = $1::uuid`,
      [level.id],
    );
    expect(levelRow!.body).toContain(`BTC/USDT 1h close ${formatNumber(all.close[firstAbove]!)} >`);
    expect(levelRow!.body).toContain(`(alert "close(1h) > ${X}")`);

    // Restart: a new engine replaying the same candles records nothing new.
    const before = await counts();
    const again = replayEngine();
    await again.engine.start();
    await again.feed.run(STEPS);
    again.engine.stop();
    expect(await counts()).toEqual(before);
    expect(again.engine.stats.recorded).toBe(0);
  });

  it('two engines evaluating the same close record one firing and one outbox row', async () => {
    const a = await store.create(OWNER, engineAlert({}));
    const one = replayEngine();
    const two = replayEngine();
    await one.engine.start();
    await two.engine.start();
    await one.feed.step();
    await two.feed.step();
    expect(await firingsOf(a.id)).toEqual([start]);
    expect(one.engine.stats.recorded).toBe(1);
    expect(two.engine.stats).toMatchObject({ recorded: 0, duplicates: 1 });
    const rows = await db.query(
      `select o.id from outbox o join alert_firings f on f.id = o.firing_id where f.alert_id = $1::uuid`,
      [a.id],
    );
    expect(rows).toHaveLength(1);
  });

  /** An alert created before the candle closes the polling feed starts with (as before a restart). */
  const createdBefore = async (over: Partial<NewAlert>, at: number) => {
    const a = await store.create(OWNER, engineAlert(over));
    await db.query('update alerts set created_at = $2::timestamptz where id = $1', [
      a.id,
      new Date(at - HOUR).toISOString(),
    ]);
    return a;
  };

  it("evaluates a live feed's first close for the alerts older than it only (a restart, not a new alert)", async () => {
    const last = all.time[all.time.length - 1]! + HOUR;
    const existing = await createdBefore({}, last);
    const fresh = await store.create(OWNER, engineAlert({}));
    const feed = new PollingFeed({ market, now: () => last + 60_000, manual: true });
    const engine = new AlertEngine({ market, store, feed, now: () => last });
    await engine.start();
    await feed.pollOnce();
    expect(await firingsOf(existing.id)).toEqual([last]);
    expect(await firingsOf(fresh.id)).toEqual([]); // created after that close: waits for the next one
    expect(engine.stats.skipped.before_created).toBe(1);
    engine.stop();
  });

  it('survives a failing poll and fires on the next one', async () => {
    const last0 = all.time[all.time.length - 1]! + HOUR;
    const a = await createdBefore({}, last0);
    let calls = 0;
    const flaky: FeedMarket = {
      getCandles: (r) => {
        calls++;
        if (calls === 1) return Promise.reject(new Error('exchange down'));
        return market.getCandles(r);
      },
      getTickers: (r) => market.getTickers(r),
    };
    const last = all.time[all.time.length - 1]! + HOUR;
    const feed = new PollingFeed({ market: flaky, now: () => last + 60_000, manual: true });
    const engine = new AlertEngine({ market: flaky, store, feed, now: () => last });
    await engine.start();
    await feed.pollOnce(); // fails, logged
    expect(await firingsOf(a.id)).toEqual([]);
    await feed.pollOnce();
    expect(await firingsOf(a.id)).toEqual([last]);
    await feed.pollOnce(); // no new candle is due: no call, nothing emitted twice
    expect(calls).toBe(2);
    engine.stop();
  });

  it('retries a firing the store failed to record', async () => {
    const a = await store.create(OWNER, engineAlert({ repeat: { mode: 'repeat', cooldown_s: 0 } }));
    let fail = true;
    const flakyStore: EngineStore = {
      listActive: (sym) => store.listActive(sym),
      recordFiring: (f, c, b) => (fail ? Promise.reject(new Error('db down')) : store.recordFiring(f, c, b)),
    };
    const { feed, engine } = replayEngine(market, flakyStore);
    await engine.start();
    await feed.step();
    expect(engine.stats.errors).toBe(1);
    fail = false;
    await feed.step();
    expect(await firingsOf(a.id)).toEqual([start, start + HOUR]);
    engine.stop();
  });
});

describe('AlertEngine cost', () => {
  it('1,000 alerts on one symbol cost one getCandles per new candle per timeframe', async () => {
    const market = new MarketData({ mode: 'offline' });
    const calls: string[] = [];
    const counting: FeedMarket = {
      getCandles: (r) => {
        calls.push(r.timeframe);
        return market.getCandles(r);
      },
      getTickers: (r) => market.getTickers(r),
    };
    const now = new Date().toISOString();
    const alerts: AlertDefinition[] = Array.from({ length: 1000 }, (_, i) => ({
      id: `a${i}`,
      owner: 'o',
      symbol: 'BTC/USDT',
      exchange: 'binance',
      timeframe: i % 10 === 0 ? '4h' : '1h',
      condition:
        i % 10 === 0
          ? { kind: 'compare', left: { series: 'rsi(14)' }, op: '>', right: 101 }
          : { kind: 'compare', left: { series: 'close' }, op: '>', right: 50_000 + i * 100 },
      expression: null,
      channel,
      template: null,
      repeat: { mode: 'repeat', cooldown_s: 3600 },
      expires_at: null,
      quiet_hours: null,
      status: 'active',
      created_at: now,
      updated_at: now,
      last_fired_at: null,
    }));
    const recorded: AlertFiring[] = [];
    const fake: EngineStore = {
      listActive: () => Promise.resolve(alerts),
      recordFiring: (f) => {
        recorded.push(f);
        return Promise.resolve({ firing_id: 'f', outbox_id: 'o', created: true });
      },
    };
    const all = await market.snapshot.candles('BTC/USDT', '1h');
    // A 4h close near the end of the data.
    let i = all.time.length - 48;
    while ((all.time[i]! + HOUR) % (4 * HOUR) !== 0) i++;
    const feed = new ReplayFeed({ market: counting, start: all.time[i]! + HOUR });
    const engine = new AlertEngine({ market: counting, store: fake, feed, now: () => feed.now() });
    await engine.start();
    expect(engine.size).toBe(1000);
    await feed.run(24);
    engine.stop();
    expect(calls.filter((tf) => tf === '1h')).toHaveLength(24);
    expect(calls.filter((tf) => tf === '4h')).toHaveLength(6);
    expect(calls).toHaveLength(30);
    // Each 1h alert whose level is below the close fired on the first step (cooldown 1h: every step).
    const firstClose = all.close[i]!;
    const expected = alerts.filter((a, k) => k % 10 !== 0 && 50_000 + k * 100 < firstClose).length;
    expect(recorded.filter((f) => f.at === all.time[i]! + HOUR)).toHaveLength(expected);
  });
});

describe('PollingFeed ticks from the offline snapshot', () => {
  it("ticks each market at its own newest hourly close, not at the derived tickers' common moment", async () => {
    const market = new MarketData({ mode: 'offline' });
    const ticks: { symbol: string; price: number; time: number }[] = [];
    const feed = new PollingFeed({ market, manual: true });
    // ETH has history into 2026; PEPE only the universe window, which the derived tickers describe.
    feed.subscribe(
      { candles: [], ticks: ['ETH/USDT', 'PEPE/USDT'].map((symbol) => ({ exchange: 'binance', symbol })) },
      { candleClose: () => undefined, tick: (t) => void ticks.push(t) },
    );
    await feed.pollOnce();
    const derived = await market.getTickers({});
    for (const symbol of ['ETH/USDT', 'PEPE/USDT']) {
      const series = await market.getCandles({ symbol, timeframe: '1h', limit: 1 });
      expect(ticks.find((t) => t.symbol === symbol)).toEqual({
        exchange: 'binance',
        symbol,
        price: series.candles.close[0],
        time: series.asOf,
      });
    }
    const eth = ticks.find((t) => t.symbol === 'ETH/USDT')!;
    const ethTicker = derived.tickers.find((t) => t.symbol === 'ETH/USDT')!;
    expect(eth.time).toBeGreaterThan(ethTicker.timestamp! + 300 * 24 * HOUR);
    expect(eth.price).not.toBe(ethTicker.last);
    // Where the windows meet, both say the same: the derived ticker's last is that market's last close.
    const pepe = ticks.find((t) => t.symbol === 'PEPE/USDT')!;
    expect(pepe.price).toBe(derived.tickers.find((t) => t.symbol === 'PEPE/USDT')!.last);
  });
});

describe('PollingFeed in offline mode for another exchange', () => {
  it('feeds the snapshot it was asked to use (not a stand-in for an outage)', async () => {
    const market = new MarketData({ mode: 'offline' });
    const closes: number[] = [];
    const ticks: number[] = [];
    const feed = new PollingFeed({ market, manual: true });
    feed.subscribe(
      {
        candles: [{ exchange: 'kraken', symbol: 'ETH/USDT', timeframe: '1h', candles: 24 }],
        ticks: [{ exchange: 'kraken', symbol: 'ETH/USDT' }],
      },
      { candleClose: (e) => void closes.push(e.at), tick: (t) => void ticks.push(t.price) },
    );
    await feed.pollOnce();
    const series = await market.getCandles({
      symbol: 'ETH/USDT',
      timeframe: '1h',
      limit: 1,
      exchange: 'kraken',
    });
    expect(series.fallback).toMatchObject({ requestedExchange: 'kraken', outage: false });
    expect(closes).toEqual([candleCloseTime(series.candles.time[0]!, '1h')]);
    expect(ticks).toEqual([series.candles.close[0]]);
  });
});

describe('PollingFeed in auto mode while the exchange is down', () => {
  it('takes neither ticks nor candle closes from the snapshot standing in, and resumes with the exchange', async () => {
    const fx = await startFixtureExchange();
    try {
      let down = true;
      // The exchange's answers while it is "down": 503s, which ccxt takes for an outage.
      const fetchImplementation = (url: string, init: RequestInit) =>
        down ? Promise.resolve(new Response('unavailable', { status: 503 })) : fetch(url, init);
      const market = new MarketData({
        mode: 'auto',
        now: () => fx.now,
        cacheTtlMs: 0,
        outageMs: 0,
        exchangeOptions: {
          baseUrl: fx.baseUrl,
          retryBaseDelayMs: 5,
          retryMaxDelayMs: 20,
          ccxt: { rateLimit: 1, fetchImplementation },
        },
      });
      const closes: number[] = [];
      const ticks: number[] = [];
      const feed = new PollingFeed({ market, manual: true, now: () => fx.now });
      feed.subscribe(
        {
          candles: [{ exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h', candles: 24 }],
          ticks: [{ exchange: 'binance', symbol: 'BTC/USDT' }],
        },
        { candleClose: (e) => void closes.push(e.at), tick: (t) => void ticks.push(t.price) },
      );
      // The snapshot answers (the fallback really happened), but the feed passes nothing on.
      const standIn = await market.getTickers({});
      expect(standIn.fallback).toMatchObject({ outage: true, reason: expect.any(String) });
      await feed.pollOnce();
      expect(closes).toEqual([]);
      expect(ticks).toEqual([]);

      down = false;
      await feed.pollOnce();
      const live = await market.getCandles({ symbol: 'BTC/USDT', timeframe: '1h', limit: 1 });
      expect(live.fallback).toBeUndefined();
      expect(closes).toEqual([candleCloseTime(live.candles.time[0]!, '1h')]);
      const tickers = await market.getTickers({});
      expect(ticks).toEqual([tickers.tickers.find((t) => t.symbol === 'BTC/USDT')!.last]);
    } finally {
      await fx.close();
    }
  });
});
