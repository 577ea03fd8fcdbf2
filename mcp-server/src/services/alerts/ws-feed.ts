/**
 * Live alert feed over ccxt.pro WebSocket watchers, with REST polling where they are missing.
 *
 * - Candles: one `watchOHLCV(symbol, timeframe)` loop per subscribed (exchange, symbol, timeframe).
 *   ccxt returns the forming candle, updated in place; a candle counts as closed when a candle with a
 *   LATER open time appears. The feed then emits one `candleClose` (at = the new candle's open time, i.e.
 *   the close time of the newest closed candle) with closed series fetched through
 *   `market.getCandles({ symbol, timeframe, limit })` (limit: the subscription's `candles`, as PollingFeed
 *   passes it), so that indicators have history. REST may lag the stream (cache, exchange clock), so when
 *   the fetched series lacks the candle the stream just closed, that candle (its last streamed values) is
 *   appended. The first update of a frame also emits the newest closed candle (where the forming one
 *   opens), as PollingFeed's first poll does: a candle that closed while the process was down (a deploy
 *   on the hour) is evaluated, and the store's idempotent `recordFiring` makes a repeat harmless. With no
 *   streamed row for it, that close needs REST to have it; until it does, later updates try again.
 * - Price: one `watchTicker(symbol)` loop per subscribed (exchange, symbol); each update whose `last` is a
 *   positive price becomes a `tick` (time: the ticker's timestamp, else the feed's clock). Updates that
 *   arrive while a handler runs are coalesced into the next one (the newest price wins).
 * - Fallback: a symbol goes to a `PollingFeed` (same MarketData) when its exchange has no ccxt.pro class,
 *   lacks `has.watchOHLCV` / `has.watchTicker`, does not stream one of the symbol's timeframes, or when a
 *   watcher failed `maxFailures` times in a row (it then stays on polling until `stop()`). All timeframes
 *   of a symbol go together, so that a candle close always carries every timeframe's series.
 * - Errors: a failed watch is logged (at most once a minute per key) and retried with exponential backoff
 *   and jitter; ccxt reconnects the socket on the next watch call. Handler errors are logged, not retried.
 *   Nothing throws out of the feed. `stop()` closes every WebSocket (`exchange.close()`).
 */
import { Agent } from 'node:http';
import { pro, type Exchange, type OHLCV, type Ticker } from 'ccxt';
import { candlesFromRows, sliceCandles, type Candles } from '../../core/candles.js';
import { log } from '../../logger.js';
import {
  TIMEFRAMES,
  candleCloseTime,
  candleOpenTime,
  timeframeMs,
  type Timeframe,
} from '../../market/timeframes.js';
import {
  groupKey,
  groupSubscriptions,
  PollingFeed,
  SNAPSHOT_STANDS_IN,
  type AlertFeed,
  type FeedHandlers,
  type FeedMarket,
  type FeedSubscription,
} from './feed.js';
import { ErrorLog } from './error-log.js';

export interface WebSocketFeedOptions {
  market: FeedMarket;
  /** ccxt id of the exchange `wsUrl` / `restBaseUrl` apply to (the app's default exchange). Default 'binance'. */
  exchangeId?: string;
  /**
   * Replace the exchange's public spot WebSocket URL (tests, proxies): `urls.api.ws.spot` (or `urls.api.ws`
   * when it is a plain string). Binance tells spot from futures streams by '/stream' in the URL, so a
   * Binance override must contain it, e.g. 'ws://127.0.0.1:9000/stream/ws'.
   */
  wsUrl?: string;
  /** Replace the public REST base URL (`urls.api.public`), which ccxt.pro uses to load the market list. */
  restBaseUrl?: string;
  now?: () => number;
  /** Feed of the symbols without working watchers. Default: a PollingFeed over `market`. */
  fallback?: AlertFeed;
  /** Consecutive watcher failures after which a symbol moves to the fallback. Default 5. */
  maxFailures?: number;
  /** First reconnect delay; doubles per failure, with jitter. Default 1000 ms. */
  backoffMs?: number;
  /** Longest reconnect delay. Default 30 000 ms. */
  maxBackoffMs?: number;
  /** Further ccxt constructor options. */
  ccxt?: Record<string, unknown>;
}

export type FeedTransport = 'websocket' | 'polling';

interface Frame {
  timeframe: Timeframe;
  limit: number;
  /** Open time of the forming candle (null: no update seen yet). */
  forming: number | null;
  /** Last streamed row per open time (the forming candle and the one before). */
  rows: Map<number, OHLCV>;
  /** Close time of the last emitted close. */
  lastAt: number;
  /**
   * The close a frame's first update announced but REST could not serve yet (it lags a fresh close by a
   * few seconds: caches, the exchange's own delay), with the updates left to try it again on.
   */
  pendingStart: { at: number; triesLeft: number } | null;
  /** Latest closed series (null: not fetched yet, or the limit changed). */
  series: Candles | null;
}

interface CandleGroup {
  exchange: string;
  symbol: string;
  frames: Map<Timeframe, Frame>;
}

interface TickWatch {
  exchange: string;
  symbol: string;
}

type ProClass = new (config: object) => Exchange;
const proClassById = pro as unknown as Record<string, ProClass>;

/** Stream updates (Binance: one every ~2 s) on which a close at start that REST lacked is tried again. */
const START_RETRIES = 10;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** `c` with `row` appended when `row` opens after its last candle, trimmed to the last `limit` candles. */
function appendRow(c: Candles, row: OHLCV, limit: number): Candles {
  const n = c.time.length;
  if (n > 0 && row[0]! <= c.time[n - 1]!) return c;
  const rows: number[][] = [];
  for (let i = 0; i < n; i++)
    rows.push([c.time[i]!, c.open[i]!, c.high[i]!, c.low[i]!, c.close[i]!, c.volume[i]!]);
  rows.push(row.slice(0, 6).map((v) => Number(v)));
  const out = candlesFromRows(rows);
  return out.time.length > limit ? sliceCandles(out, out.time.length - limit) : out;
}

export class WebSocketFeed implements AlertFeed {
  private readonly market: FeedMarket;
  private readonly exchangeId: string;
  private readonly wsUrl: string | undefined;
  private readonly restBaseUrl: string | undefined;
  private readonly now: () => number;
  private readonly fallback: AlertFeed;
  private readonly maxFailures: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly ccxtOptions: Record<string, unknown>;
  private readonly errors: ErrorLog;
  private readonly clients = new Map<string, Exchange | null>();
  private readonly groups = new Map<string, CandleGroup>();
  private readonly ticks = new Map<string, TickWatch>();
  /** Candle groups and tick keys moved to polling after repeated watcher failures. */
  private readonly failedCandles = new Set<string>();
  private readonly failedTicks = new Set<string>();
  private readonly sleeps = new Set<{ timer: NodeJS.Timeout; done: () => void }>();
  private subscription: FeedSubscription = { candles: [], ticks: [] };
  private polled: FeedSubscription = { candles: [], ticks: [] };
  private handlers: FeedHandlers | null = null;
  private stopped = true;
  private closing: Promise<void> = Promise.resolve();

  constructor(options: WebSocketFeedOptions) {
    this.market = options.market;
    this.exchangeId = options.exchangeId ?? 'binance';
    this.wsUrl = options.wsUrl;
    this.restBaseUrl = options.restBaseUrl;
    this.now = options.now ?? Date.now;
    this.fallback = options.fallback ?? new PollingFeed({ market: options.market, now: this.now });
    this.maxFailures = options.maxFailures ?? 5;
    this.backoffMs = options.backoffMs ?? 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.ccxtOptions = options.ccxt ?? {};
    this.errors = new ErrorLog(this.now);
  }

  /** How a candle timeframe (or, without one, the price) of `exchange` is delivered. */
  transport(exchange: string, timeframe?: Timeframe): FeedTransport {
    const client = this.client(exchange);
    if (!client) return 'polling';
    if (timeframe === undefined) return client.has['watchTicker'] === true ? 'websocket' : 'polling';
    const streamed =
      client.has['watchOHLCV'] === true && isRecord(client.timeframes) && timeframe in client.timeframes;
    return streamed ? 'websocket' : 'polling';
  }

  /** What is currently delegated to the polling fallback. */
  get polling(): FeedSubscription {
    return this.polled;
  }

  subscribe(subscription: FeedSubscription, handlers: FeedHandlers): void {
    this.handlers = handlers;
    this.stopped = false;
    this.subscription = subscription;
    this.apply();
  }

  stop(): void {
    this.stopped = true;
    this.handlers = null;
    this.groups.clear();
    this.ticks.clear();
    this.failedCandles.clear();
    this.failedTicks.clear();
    for (const s of this.sleeps) {
      clearTimeout(s.timer);
      s.done();
    }
    this.sleeps.clear();
    this.fallback.stop();
    const clients = [...this.clients.values()].filter((c): c is Exchange => c !== null);
    this.clients.clear();
    this.closing = Promise.all(
      clients.map((c) =>
        c.close().catch((error: unknown) => log.warn('alert ws feed: closing a client failed', { error })),
      ),
    ).then(() => undefined);
  }

  /** `stop()`, resolved once every WebSocket is closed. */
  async close(): Promise<void> {
    this.stop();
    await this.closing;
  }

  /** Split the subscription into WebSocket watchers and the polling fallback; start new watchers. */
  private apply(): void {
    const sub = this.subscription;
    const handlers = this.handlers;
    if (!handlers) return;
    const polled: FeedSubscription = { candles: [], ticks: [] };

    const wantedGroups = new Set<string>();
    for (const [k, subs] of groupSubscriptions(sub)) {
      const { exchange, symbol } = subs[0]!;
      const ws =
        !this.failedCandles.has(k) &&
        subs.every((s) => this.transport(exchange, s.timeframe) === 'websocket');
      if (!ws) {
        polled.candles.push(...subs);
        continue;
      }
      wantedGroups.add(k);
      let g = this.groups.get(k);
      if (!g) this.groups.set(k, (g = { exchange, symbol, frames: new Map() }));
      for (const tf of [...g.frames.keys()]) if (!subs.some((s) => s.timeframe === tf)) g.frames.delete(tf);
      for (const s of subs) {
        const f = g.frames.get(s.timeframe);
        if (!f) {
          const frame: Frame = {
            timeframe: s.timeframe,
            limit: s.candles,
            forming: null,
            rows: new Map(),
            lastAt: -Infinity,
            pendingStart: null,
            series: null,
          };
          g.frames.set(s.timeframe, frame);
          void this.runCandles(g, frame);
        } else if (f.limit !== s.candles) {
          f.limit = s.candles;
          f.series = null; // refetched at the next close
        }
      }
    }
    for (const k of [...this.groups.keys()]) if (!wantedGroups.has(k)) this.groups.delete(k);

    const wantedTicks = new Set<string>();
    for (const t of sub.ticks) {
      const k = groupKey(t.exchange, t.symbol);
      if (wantedTicks.has(k)) continue;
      if (this.failedTicks.has(k) || this.transport(t.exchange) !== 'websocket') {
        if (!polled.ticks.some((p) => p.exchange === t.exchange && p.symbol === t.symbol))
          polled.ticks.push(t);
        continue;
      }
      wantedTicks.add(k);
      if (!this.ticks.has(k)) {
        const w: TickWatch = { exchange: t.exchange, symbol: t.symbol };
        this.ticks.set(k, w);
        void this.runTicks(w);
      }
    }
    for (const k of [...this.ticks.keys()]) if (!wantedTicks.has(k)) this.ticks.delete(k);

    this.polled = polled;
    this.fallback.subscribe(polled, handlers);
  }

  /** The ccxt.pro client of an exchange (null: ccxt.pro has none), created on first use. */
  private client(exchange: string): Exchange | null {
    if (this.clients.has(exchange)) return this.clients.get(exchange)!;
    let client: Exchange | null = null;
    const Class = Object.hasOwn(proClassById, exchange) ? proClassById[exchange] : undefined;
    if (Class) {
      try {
        client = new Class({
          enableRateLimit: true,
          // Spot only, as CcxtSource: no futures/options market lists are downloaded.
          options: { fetchMarkets: { types: ['spot'] }, defaultType: 'spot' },
          ...this.ccxtOptions,
        });
        if (exchange === this.exchangeId) this.override(client);
      } catch (error) {
        log.warn('alert ws feed: no WebSocket client, polling instead', { exchange, error });
        client = null;
      }
    }
    this.clients.set(exchange, client);
    return client;
  }

  private override(client: Exchange): void {
    const api = (client.urls as { api: unknown }).api;
    if (this.wsUrl !== undefined) {
      if (!isRecord(api)) throw new Error(`cannot override the WebSocket URL of ${client.id}`);
      if (typeof api['ws'] === 'string') api['ws'] = this.wsUrl;
      else if (isRecord(api['ws']) && typeof api['ws']['spot'] === 'string') api['ws']['spot'] = this.wsUrl;
      else throw new Error(`cannot override the WebSocket URL of ${client.id}`);
      // ccxt connects plain ws:// URLs only through an HTTP agent it is given (normally via loadHttpProxyAgent).
      if (this.wsUrl.startsWith('ws://')) (client as unknown as { httpAgent: Agent }).httpAgent = new Agent();
    }
    if (this.restBaseUrl !== undefined) {
      if (isRecord(api) && typeof api['public'] === 'string') api['public'] = this.restBaseUrl;
      else throw new Error(`cannot override the REST base URL of ${client.id}`);
    }
  }

  private candleLive(g: CandleGroup, f: Frame): boolean {
    return (
      !this.stopped &&
      this.groups.get(groupKey(g.exchange, g.symbol)) === g &&
      g.frames.get(f.timeframe) === f
    );
  }

  private tickLive(w: TickWatch): boolean {
    return !this.stopped && this.ticks.get(groupKey(w.exchange, w.symbol)) === w;
  }

  private async runCandles(g: CandleGroup, f: Frame): Promise<void> {
    const key = `${g.exchange}|${g.symbol}|${f.timeframe}`;
    let failures = 0;
    while (this.candleLive(g, f)) {
      const client = this.client(g.exchange);
      if (!client) return;
      try {
        const rows = await client.watchOHLCV(g.symbol, f.timeframe);
        if (!this.candleLive(g, f)) return;
        failures = 0;
        this.errors.ok(key);
        await this.onRows(g, f, rows);
      } catch (error) {
        if (!this.candleLive(g, f)) return;
        failures++;
        this.errors.report(key, 'alert ws feed: watchOHLCV failed, reconnecting', error, { failures });
        if (failures >= this.maxFailures) {
          log.warn('alert ws feed: watcher keeps failing, polling instead', { key, failures });
          this.failedCandles.add(groupKey(g.exchange, g.symbol));
          this.apply();
          return;
        }
        await this.sleep(this.backoff(failures));
      }
    }
  }

  private async runTicks(w: TickWatch): Promise<void> {
    const key = `ticker|${w.exchange}|${w.symbol}`;
    let failures = 0;
    let last: { price: number; time: number } | null = null;
    while (this.tickLive(w)) {
      const client = this.client(w.exchange);
      if (!client) return;
      let ticker: Ticker;
      try {
        ticker = await client.watchTicker(w.symbol);
        if (!this.tickLive(w)) return;
        failures = 0;
        this.errors.ok(key);
      } catch (error) {
        if (!this.tickLive(w)) return;
        failures++;
        this.errors.report(key, 'alert ws feed: watchTicker failed, reconnecting', error, { failures });
        if (failures >= this.maxFailures) {
          log.warn('alert ws feed: watcher keeps failing, polling instead', { key, failures });
          this.failedTicks.add(groupKey(w.exchange, w.symbol));
          this.apply();
          return;
        }
        await this.sleep(this.backoff(failures));
        continue;
      }
      const price = ticker.last;
      if (typeof price !== 'number' || !(price > 0)) continue;
      const time = typeof ticker.timestamp === 'number' ? ticker.timestamp : this.now();
      if (last && last.price === price && last.time === time) continue; // the same update again
      last = { price, time };
      const handlers = this.handlers;
      if (!handlers) continue;
      try {
        await handlers.tick({ exchange: w.exchange, symbol: w.symbol, price, time });
      } catch (error) {
        this.errors.report(`handler:${key}`, 'alert ws feed: tick handler failed', error);
      }
    }
  }

  /** A watchOHLCV result: remember the rows; a later open time than the forming candle's closes it. */
  private async onRows(g: CandleGroup, f: Frame, rows: OHLCV[]): Promise<void> {
    let newest = -Infinity;
    for (const r of rows) {
      const t = r[0];
      if (typeof t !== 'number' || !Number.isFinite(t)) continue;
      f.rows.set(t, r);
      if (t > newest) newest = t;
    }
    if (newest === -Infinity) return;
    for (const t of [...f.rows.keys()]) if (t < newest - timeframeMs(f.timeframe) * 2) f.rows.delete(t);
    if (f.forming !== null && newest <= f.forming) {
      const pending = f.pendingStart;
      if (pending && pending.at === f.lastAt) {
        pending.triesLeft--;
        if ((await this.emitClose(g, f, pending.at, true)) || pending.triesLeft <= 0) f.pendingStart = null;
      }
      return;
    }
    const first = f.forming === null;
    f.forming = newest;
    // The newest closed candle closes where the new one opens (also after missed candles).
    const at = candleOpenTime(newest, f.timeframe);
    if (at <= f.lastAt) return;
    f.lastAt = at;
    f.pendingStart = null;
    const emitted = await this.emitClose(g, f, at, first);
    // A later close comes with its own streamed candle; the one at start has only REST to go by.
    if (first && !emitted) f.pendingStart = { at, triesLeft: START_RETRIES };
  }

  /**
   * Emits the close at `at` (`initial`: the frame's first, see CandleCloseEvent); false when its closed
   * candle is not available (the close is skipped).
   */
  private async emitClose(g: CandleGroup, f: Frame, at: number, initial: boolean): Promise<boolean> {
    const tf = f.timeframe;
    const closedOpen = candleOpenTime(at - 1, tf);
    const closedRow = f.rows.get(closedOpen);
    const key = `${g.exchange}|${g.symbol}|${tf}`;
    let series: Candles | null = null;
    try {
      const s = await this.market.getCandles({
        symbol: g.symbol,
        timeframe: tf,
        limit: f.limit,
        exchange: g.exchange,
      });
      if (s.fallback?.outage) {
        // The snapshot standing in for a failing REST API is history: extend the previous series instead.
        this.errors.report(`fetch:${key}`, SNAPSHOT_STANDS_IN, s.fallback.reason);
        series = f.series;
      } else series = s.candles;
    } catch (error) {
      this.errors.report(`fetch:${key}`, 'alert ws feed: fetching closed candles failed', error);
      series = f.series; // the previous series, extended by the streamed candle below if contiguous
    }
    if (series && closedRow) {
      const n = series.time.length;
      const contiguous = n === 0 || candleCloseTime(series.time[n - 1]!, tf) >= closedOpen;
      if (contiguous) series = appendRow(series, closedRow, f.limit);
    }
    const n = series?.time.length ?? 0;
    if (!series || n === 0 || candleCloseTime(series.time[n - 1]!, tf) !== at) {
      this.errors.report(`fetch:${key}`, 'alert ws feed: closed candle not available, close skipped', null, {
        at,
      });
      return false;
    }
    if (!this.candleLive(g, f)) return true;
    f.series = series;
    // Other timeframes of the symbol not fetched yet (their own closes refresh them later).
    for (const other of g.frames.values()) {
      if (other === f || other.series !== null) continue;
      try {
        const s = await this.market.getCandles({
          symbol: g.symbol,
          timeframe: other.timeframe,
          limit: other.limit,
          exchange: g.exchange,
        });
        if (!s.fallback?.outage) other.series = s.candles;
      } catch (error) {
        this.errors.report(
          `fetch:${g.exchange}|${g.symbol}|${other.timeframe}`,
          'alert ws feed: fetching candles failed',
          error,
        );
      }
    }
    const candles = new Map<string, Candles>();
    for (const t of TIMEFRAMES) {
      const s = g.frames.get(t)?.series;
      if (s) candles.set(t, s);
    }
    const handlers = this.handlers;
    if (!handlers || !this.candleLive(g, f)) return true;
    try {
      await handlers.candleClose({
        exchange: g.exchange,
        symbol: g.symbol,
        timeframe: tf,
        candles,
        at,
        now: this.now(),
        ...(initial && { initial }),
      });
    } catch (error) {
      this.errors.report(`handler:${key}`, 'alert ws feed: candle handler failed', error);
    }
    return true;
  }

  private backoff(failures: number): number {
    const ms = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** (failures - 1));
    return ms / 2 + (Math.random() * ms) / 2;
  }

  /** A delay that `stop()` ends early. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.sleeps.delete(entry);
          resolve();
        }, ms),
        done: resolve,
      };
      entry.timer.unref?.();
      this.sleeps.add(entry);
    });
  }
}
