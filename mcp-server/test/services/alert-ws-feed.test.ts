import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AlertChannel } from '../../src/core/alerts/types.js';
import { sliceCandles } from '../../src/core/candles.js';
import { MarketData } from '../../src/market/market-data.js';
import { AlertEngine } from '../../src/services/alerts/engine.js';
import {
  PollingFeed,
  type CandleCloseEvent,
  type FeedHandlers,
  type FeedMarket,
  type TickEvent,
} from '../../src/services/alerts/feed.js';
import { WebSocketFeed } from '../../src/services/alerts/ws-feed.js';
import { SqlAlertStore } from '../../src/store/alert-store.js';
import { PgDatabase } from '../../src/store/pg-database.js';
import { startBinanceWsFixture, type BinanceWsFixture } from '../helpers/binance-ws-fixture.js';
import { startFixtureExchange, type FixtureExchange } from '../helpers/fixture-exchange.js';
import { isolatedPostgresUrl } from '../helpers/postgres.js';

const HOUR = 3_600_000;
const LIMIT = 50;

/** MarketData that records the candle requests. */
function recording(
  market: MarketData,
): FeedMarket & { candleCalls: Parameters<MarketData['getCandles']>[0][] } {
  const candleCalls: Parameters<MarketData['getCandles']>[0][] = [];
  return {
    candleCalls,
    getCandles: (r) => {
      candleCalls.push(r);
      return market.getCandles(r);
    },
    getTickers: (r) => market.getTickers(r),
  };
}

function collector() {
  const closes: CandleCloseEvent[] = [];
  const ticks: TickEvent[] = [];
  const handlers: FeedHandlers = {
    candleClose: (e) => void closes.push(e),
    tick: (e) => void ticks.push(e),
  };
  return { closes, ticks, handlers };
}

const settle = (ms = 150) => new Promise((r) => setTimeout(r, ms));

describe('WebSocketFeed over a local Binance stream', () => {
  let rest: FixtureExchange;
  let ws: BinanceWsFixture;
  /** Open time of the newest snapshot candle: closed at the REST fixture's clock. */
  let H: number;
  const feeds: WebSocketFeed[] = [];

  beforeAll(async () => {
    const probe = await startFixtureExchange();
    H = probe.now - 30 * 60_000; // the fixture's default clock is 30 min into the newest hourly candle
    await probe.close();
    rest = await startFixtureExchange({ now: H + HOUR });
    ws = await startBinanceWsFixture();
  });
  afterEach(async () => {
    await Promise.all(feeds.splice(0).map((f) => f.close()));
  });
  afterAll(async () => {
    await ws.close();
    await rest.close();
  });

  const newFeed = (market: FeedMarket, fallback?: PollingFeed) => {
    const feed = new WebSocketFeed({
      market,
      exchangeId: 'binance',
      wsUrl: ws.url,
      restBaseUrl: rest.baseUrl,
      backoffMs: 50,
      maxBackoffMs: 200,
      ...(fallback && { fallback }),
    });
    feeds.push(feed);
    return feed;
  };
  const marketData = () =>
    recording(new MarketData({ mode: 'exchange', exchangeOptions: { baseUrl: rest.baseUrl, retries: 0 } }));
  const kline = (open: number, c: number) =>
    ws.push({ interval: '1h', open, closeTime: open + HOUR - 1, o: 100, h: Math.max(c, 100), l: 90, c });

  it('emits one close per candle, when the next candle opens, with the closed series', async () => {
    const market = marketData();
    const feed = newFeed(market);
    const { closes, handlers } = collector();
    feed.subscribe(
      { candles: [{ exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h', candles: LIMIT }], ticks: [] },
      handlers,
    );
    expect(feed.transport('binance', '1h')).toBe('websocket');
    await ws.waitForStream('btcusdt@kline_1h');

    // The first update of the forming candle H evaluates the newest closed one (closing at H), as
    // PollingFeed's first poll does. REST's clock is an hour ahead here (H is closed there), so its
    // series does not end at H: that close is skipped, not emitted with the wrong candles.
    kline(H, 101);
    await vi.waitFor(() => expect(market.candleCalls).toHaveLength(1));
    // More updates of the forming candle H: nothing closes.
    for (const c of [102, 103, 104]) {
      kline(H, c);
      await settle(50);
    }
    await settle();
    expect(closes).toEqual([]);
    expect(market.candleCalls).toHaveLength(1);

    // Candle H+1h opens: H closed, once, however many updates of H+1h follow.
    kline(H + HOUR, 110);
    await vi.waitFor(() => expect(closes).toHaveLength(1));
    for (const c of [111, 112, 113]) {
      kline(H + HOUR, c);
      await settle(50);
    }
    await settle();
    expect(closes).toHaveLength(1);
    const [first] = closes;
    expect(first).toMatchObject({ exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h', at: H + HOUR });
    const s1 = first!.candles.get('1h')!;
    expect(s1.time.length).toBe(LIMIT);
    expect(s1.time[LIMIT - 1]).toBe(H); // the REST series holds H (closed at the REST clock)
    expect(market.candleCalls).toEqual(
      Array(2).fill({ symbol: 'BTC/USDT', timeframe: '1h', limit: LIMIT, exchange: 'binance' }),
    );

    // H+2h opens; REST (clock at H+1h) lacks H+1h, so the streamed candle is appended.
    kline(H + 2 * HOUR, 120);
    await vi.waitFor(() => expect(closes).toHaveLength(2));
    const s2 = closes[1]!.candles.get('1h')!;
    expect(closes[1]!.at).toBe(H + 2 * HOUR);
    expect(closes[1]!.initial).toBeUndefined();
    expect(s2.time.length).toBe(LIMIT);
    expect(s2.time[LIMIT - 1]).toBe(H + HOUR);
    expect(s2.close[LIMIT - 1]).toBe(113); // its last streamed update
    expect(s2.time[LIMIT - 2]).toBe(H);
  });

  it('emits ticks, and reconnects after the connections drop', async () => {
    const market = marketData();
    const feed = newFeed(market);
    const { closes, ticks, handlers } = collector();
    feed.subscribe(
      {
        candles: [{ exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h', candles: LIMIT }],
        ticks: [{ exchange: 'binance', symbol: 'BTC/USDT' }],
      },
      handlers,
    );
    expect(feed.transport('binance')).toBe('websocket');
    expect(feed.polling).toEqual({ candles: [], ticks: [] });
    await ws.waitForStream('btcusdt@kline_1h');
    const tickStream = () => ws.streams().find((s) => /^btcusdt@(mini)?ticker$/i.test(s));
    await vi.waitFor(() => expect(tickStream()).toBeDefined());

    const t0 = H + HOUR + 60_000;
    await vi.waitFor(() => {
      ws.pushTicker(65_000.5, { time: t0 });
      expect(ticks.length).toBeGreaterThan(0);
    });
    expect(ticks[0]).toEqual({ exchange: 'binance', symbol: 'BTC/USDT', price: 65_000.5, time: t0 });

    // The first update of the forming H+1h: H, which closed before the feed started, is evaluated.
    kline(H + HOUR, 100);
    await vi.waitFor(() => expect(closes).toHaveLength(1));
    expect(closes[0]).toMatchObject({ at: H + HOUR, initial: true }); // only for alerts older than it

    const requestsBefore = ws.requests.length;
    ws.dropConnections();
    await vi.waitFor(() => expect(ws.connections()).toBe(0));
    // The watchers re-subscribe on new connections.
    await vi.waitFor(
      () => {
        expect(ws.requests.length).toBeGreaterThanOrEqual(requestsBefore + 2);
        expect(ws.streams()).toContain('btcusdt@kline_1h');
        expect(tickStream()).toBeDefined();
      },
      { timeout: 10_000 },
    );
    const n = ticks.length;
    await vi.waitFor(() => {
      ws.pushTicker(66_000, { time: t0 + 1000 });
      expect(ticks.length).toBeGreaterThan(n);
    });
    expect(ticks.at(-1)).toMatchObject({ price: 66_000, time: t0 + 1000 });
    // Candles keep closing: the forming H+1h seen before the drop closes when H+2h opens.
    await vi.waitFor(() => {
      kline(H + 2 * HOUR, 130);
      expect(closes).toHaveLength(2);
    });
    expect(closes[1]!.at).toBe(H + 2 * HOUR);
    expect(closes[1]!.initial).toBeUndefined();
  });

  it('tries the close at start again on later updates while REST lags it (a restart just after a close)', async () => {
    const market = marketData();
    // REST's first answer lacks the newest closed candle (a cache filled just before the close).
    let lagged = false;
    const lagging: FeedMarket = {
      ...market,
      getCandles: async (r) => {
        const s = await market.getCandles(r);
        if (lagged) return s;
        lagged = true;
        return { ...s, candles: sliceCandles(s.candles, 0, s.candles.time.length - 1) };
      },
    };
    const feed = newFeed(lagging);
    const { closes, handlers } = collector();
    feed.subscribe(
      { candles: [{ exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h', candles: LIMIT }], ticks: [] },
      handlers,
    );
    await ws.waitForStream('btcusdt@kline_1h');
    kline(H + HOUR, 100); // the feed starts while H+1h forms: H closed just before
    await vi.waitFor(() => expect(market.candleCalls).toHaveLength(1));
    let price = 100;
    await vi.waitFor(() => {
      kline(H + HOUR, ++price);
      expect(closes).toHaveLength(1);
    });
    expect(closes[0]!.at).toBe(H + HOUR);
    expect(closes[0]!.candles.get('1h')!.time.at(-1)).toBe(H);
  });

  it('closes no candle from the snapshot standing in for a REST outage (auto mode), and resumes', async () => {
    let down = true;
    // REST answers 503 (an outage: the snapshot stands in) while the stream keeps pushing.
    const fetchImplementation = (url: string, init: RequestInit) =>
      down ? Promise.resolve(new Response('unavailable', { status: 503 })) : fetch(url, init);
    const market = recording(
      new MarketData({
        mode: 'auto',
        cacheTtlMs: 0,
        outageMs: 0,
        exchangeOptions: { baseUrl: rest.baseUrl, retries: 0, ccxt: { rateLimit: 1, fetchImplementation } },
      }),
    );
    const feed = newFeed(market);
    const { closes, handlers } = collector();
    feed.subscribe(
      { candles: [{ exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h', candles: LIMIT }], ticks: [] },
      handlers,
    );
    await ws.waitForStream('btcusdt@kline_1h');
    kline(H, 104);
    await settle(50);
    // H closes. The snapshot's newest candle is H too, so its series would fit: it must not be used.
    const before = market.candleCalls.length; // the close at start (H's, from history) was tried
    kline(H + HOUR, 110);
    await vi.waitFor(() => expect(market.candleCalls.length).toBeGreaterThan(before));
    await settle();
    expect(closes).toEqual([]);

    down = false;
    await vi.waitFor(() => {
      kline(H + 2 * HOUR, 120);
      expect(closes).toHaveLength(1);
    });
    expect(closes[0]!.at).toBe(H + 2 * HOUR);
    const series = closes[0]!.candles.get('1h')!;
    expect(series.time.at(-1)).toBe(H + HOUR); // the exchange's candles, extended by the streamed one
  });

  it('falls back to polling for exchanges without watchers, and for symbols whose watcher keeps failing', async () => {
    const market = marketData();
    const fallback = new PollingFeed({ market, manual: true });
    const subscribe = vi.spyOn(fallback, 'subscribe');
    const feed = newFeed(market, fallback);
    const { handlers } = collector();
    expect(feed.transport('bitstamp', '1h')).toBe('polling'); // has.watchOHLCV false
    expect(feed.transport('bitstamp')).toBe('polling'); // has.watchTicker false
    expect(feed.transport('coinbase', '1h')).toBe('polling');
    expect(feed.transport('coinbase')).toBe('websocket');
    feed.subscribe(
      {
        candles: [
          { exchange: 'bitstamp', symbol: 'BTC/USD', timeframe: '1h', candles: 10 },
          { exchange: 'binance', symbol: 'NOPE/USDT', timeframe: '1h', candles: 10 },
        ],
        ticks: [{ exchange: 'bitstamp', symbol: 'BTC/USD' }],
      },
      handlers,
    );
    expect(subscribe).toHaveBeenLastCalledWith(
      {
        candles: [{ exchange: 'bitstamp', symbol: 'BTC/USD', timeframe: '1h', candles: 10 }],
        ticks: [{ exchange: 'bitstamp', symbol: 'BTC/USD' }],
      },
      handlers,
    );
    // NOPE/USDT is no market: watchOHLCV fails every time, and after maxFailures (5) the symbol polls.
    await vi.waitFor(
      () =>
        expect(subscribe).toHaveBeenLastCalledWith(
          {
            candles: [
              { exchange: 'bitstamp', symbol: 'BTC/USD', timeframe: '1h', candles: 10 },
              { exchange: 'binance', symbol: 'NOPE/USDT', timeframe: '1h', candles: 10 },
            ],
            ticks: [{ exchange: 'bitstamp', symbol: 'BTC/USD' }],
          },
          handlers,
        ),
      { timeout: 10_000 },
    );
    const stop = vi.spyOn(fallback, 'stop');
    await feed.close();
    expect(stop).toHaveBeenCalled();
  });

  it('stop() closes the sockets', async () => {
    const feed = newFeed(marketData());
    const { ticks, handlers } = collector();
    feed.subscribe({ candles: [], ticks: [{ exchange: 'binance', symbol: 'BTC/USDT' }] }, handlers);
    await vi.waitFor(() => expect(ws.connections()).toBeGreaterThan(0));
    await feed.close();
    await vi.waitFor(() => expect(ws.connections()).toBe(0));
    const n = ticks.length;
    ws.pushTicker(1);
    await settle();
    expect(ticks.length).toBe(n);
  });

  describe('end to end with AlertEngine and Postgres', () => {
    let db: PgDatabase;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      const schema = await isolatedPostgresUrl();
      drop = schema.drop;
      db = new PgDatabase({ connectionString: schema.url });
    });
    afterAll(async () => {
      await db.close();
      await drop();
    });

    it('a price alert fires on the pushed tick crossing its level', async () => {
      const store = new SqlAlertStore(db);
      const channel: AlertChannel = { type: 'webhook', url: 'https://example.test/hook' };
      const alert = await store.create('ws-owner', {
        symbol: 'BTC/USDT',
        exchange: 'binance',
        timeframe: '1h',
        condition: { kind: 'price', op: 'crosses_above', level: 70_000 },
        expression: 'price crosses above 70000',
        channel,
        template: null,
        repeat: { mode: 'once' },
        expires_at: null,
        quiet_hours: null,
      });
      const market = marketData();
      const feed = newFeed(market);
      const engine = new AlertEngine({ market, store, feed });
      const onTick = vi.spyOn(engine, 'onTick');
      await engine.start();
      try {
        await vi.waitFor(() =>
          expect(ws.streams().some((s) => /^btcusdt@(mini)?ticker$/i.test(s))).toBe(true),
        );
        const t = H + HOUR + 5 * 60_000;
        // Below the level first (the cross needs a previous tick), then above it.
        await vi.waitFor(() => {
          ws.pushTicker(69_500, { time: t });
          expect(onTick).toHaveBeenCalledWith({
            exchange: 'binance',
            symbol: 'BTC/USDT',
            price: 69_500,
            time: t,
          });
        });
        await settle(100);
        expect(engine.stats.recorded).toBe(0);
        await vi.waitFor(() => {
          ws.pushTicker(70_250, { time: t + 1000 });
          expect(engine.stats.recorded).toBe(1);
        });
        const history = await store.history('ws-owner', alert.id, 10);
        expect(history.map((h) => h.at)).toEqual([t + 1000]);
        expect(history[0]!.values).toEqual({ price: 70_250 });
      } finally {
        engine.stop();
      }
    });
  });
});
