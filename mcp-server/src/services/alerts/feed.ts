/**
 * Market feeds of the alert engine: candle closes and price ticks.
 *
 * - `PollingFeed` polls REST through MarketData. Per (exchange, symbol) one loop fetches each subscribed
 *   timeframe that is due (its next candle should have closed, or it was never fetched) every
 *   min(timeframe / 6, 60 s), jittered by ±10 %, and emits one `candleClose` per NEW closed candle (the
 *   last close time seen per timeframe is kept, so a close is never emitted twice). The market layer
 *   returns closed candles only. Ticks: one bulk `getTickers` per exchange every `tickMs` (from the
 *   offline snapshot, whose tickers are derived for one past moment: each market's last hourly close).
 * - `ReplayFeed` replays stored candles as if live, one step of `stepTimeframe` at a time, without
 *   timers (`step()` / `run(n)`), for tests and demos.
 *
 * A failed poll is logged (at most once a minute per key) and retried at the next interval; it never
 * throws out of the feed. So is an answer from the snapshot standing in for a failing exchange (auto
 * mode): its candles and tickers are history, and alerts must not fire on a past market as if it were
 * now. The first poll of a key emits its latest closed candle (`initial`): after a restart the engine
 * re-evaluates it for the alerts that existed when it closed, which the store's idempotent
 * `recordFiring` makes harmless.
 */
import type { Candles } from '../../core/candles.js';
import type { CandleRequest, MarketData } from '../../market/market-data.js';
import {
  TIMEFRAMES,
  candleCloseTime,
  candleOpenTime,
  timeframeMs,
  type Timeframe,
} from '../../market/timeframes.js';
import { ErrorLog } from './error-log.js';

/** What the feeds use of MarketData (a thin wrapper can count or fail calls). */
export type FeedMarket = Pick<MarketData, 'getCandles' | 'getTickers'>;

export interface CandleSubscription {
  exchange: string;
  symbol: string;
  timeframe: Timeframe;
  /** Closed candles to fetch (the evaluator's requirement). */
  candles: number;
}

export interface TickSubscription {
  exchange: string;
  symbol: string;
}

export interface FeedSubscription {
  candles: CandleSubscription[];
  ticks: TickSubscription[];
}

export interface CandleCloseEvent {
  exchange: string;
  symbol: string;
  /** The timeframe whose candle just closed. */
  timeframe: Timeframe;
  /** Latest closed candles of every subscribed timeframe of the symbol, oldest first. */
  candles: ReadonlyMap<string, Candles>;
  /** Close time (ms) of the new candle. */
  at: number;
  /** The feed's clock at emission (replay: the replayed time). */
  now: number;
  /**
   * The first close a live feed emits for this symbol and timeframe: it may have closed before the feed
   * started, so it counts only for alerts that existed then (a restart just after a close), not for one
   * created since (it is evaluated from the next close, as the ones on a watched symbol are).
   */
  initial?: boolean;
}

export interface TickEvent {
  exchange: string;
  symbol: string;
  price: number;
  time: number;
}

export interface FeedHandlers {
  candleClose(event: CandleCloseEvent): Promise<void> | void;
  tick(event: TickEvent): Promise<void> | void;
}

export interface AlertFeed {
  /** Replace the subscription (state of keys kept in it is preserved) and the handlers. */
  subscribe(subscription: FeedSubscription, handlers: FeedHandlers): void;
  stop(): void;
}

interface Frame {
  timeframe: Timeframe;
  limit: number;
  /** Close time of the newest candle seen (-Infinity: none yet). */
  lastClose: number;
  series: Candles | null;
  /** A close of this timeframe was emitted already (the next one is not `initial`). */
  emitted: boolean;
}

interface Group {
  exchange: string;
  symbol: string;
  frames: Map<Timeframe, Frame>;
  timer: NodeJS.Timeout | null;
  polling: Promise<void> | null;
}

/** Logged while the offline snapshot stands in for a failing exchange (auto mode). */
export const SNAPSHOT_STANDS_IN =
  'alert feed: exchange unavailable, alerts on it wait for live data (the offline snapshot is not)';

export const groupKey = (exchange: string, symbol: string) => `${exchange}|${symbol}`;

function lastCloseOf(c: Candles, tf: Timeframe): number {
  const n = c.time.length;
  return n === 0 ? -Infinity : candleCloseTime(c.time[n - 1]!, tf);
}

/** Candle subscriptions grouped by (exchange, symbol), limits merged (max). */
export function groupSubscriptions(sub: FeedSubscription): Map<string, CandleSubscription[]> {
  const out = new Map<string, Map<Timeframe, CandleSubscription>>();
  for (const c of sub.candles) {
    const k = groupKey(c.exchange, c.symbol);
    let tfs = out.get(k);
    if (!tfs) out.set(k, (tfs = new Map()));
    const prev = tfs.get(c.timeframe);
    if (!prev || prev.candles < c.candles) tfs.set(c.timeframe, c);
  }
  return new Map([...out].map(([k, v]) => [k, [...v.values()]]));
}

function syncFrames(group: Group, subs: CandleSubscription[]): void {
  const wanted = new Set(subs.map((s) => s.timeframe));
  for (const tf of [...group.frames.keys()]) if (!wanted.has(tf)) group.frames.delete(tf);
  for (const s of subs) {
    const f = group.frames.get(s.timeframe);
    if (!f) {
      group.frames.set(s.timeframe, {
        timeframe: s.timeframe,
        limit: s.candles,
        lastClose: -Infinity,
        series: null,
        emitted: false,
      });
    } else if (f.limit !== s.candles) {
      // More (or fewer) candles needed: refetch at the next poll; the close is not emitted again.
      f.limit = s.candles;
      f.series = null;
    }
  }
}

function framesMap(group: Group): Map<string, Candles> {
  const m = new Map<string, Candles>();
  for (const tf of TIMEFRAMES) {
    const s = group.frames.get(tf)?.series;
    if (s) m.set(tf, s);
  }
  return m;
}

/**
 * `live`: a polling feed, whose first close per frame is `initial`; a replay has none (it starts in the
 * past on purpose).
 */
async function emitCloses(
  group: Group,
  advanced: Timeframe[],
  handlers: FeedHandlers | null,
  now: number,
  errors: ErrorLog,
  live: boolean,
): Promise<void> {
  if (!handlers || advanced.length === 0) return;
  const candles = framesMap(group);
  for (const tf of TIMEFRAMES) {
    if (!advanced.includes(tf)) continue;
    const frame = group.frames.get(tf)!;
    const initial = live && !frame.emitted;
    frame.emitted = true;
    try {
      await handlers.candleClose({
        exchange: group.exchange,
        symbol: group.symbol,
        timeframe: tf,
        candles,
        at: frame.lastClose,
        now,
        ...(initial && { initial }),
      });
    } catch (e) {
      errors.report(
        `handler:${group.exchange}|${group.symbol}|${tf}`,
        'alert feed: candle handler failed',
        e,
      );
    }
  }
}

export interface PollingFeedOptions {
  market: FeedMarket;
  now?: () => number;
  /** Ticker poll interval. Default 5000 ms. */
  tickMs?: number;
  /** Longest candle poll interval. Default 60 000 ms. */
  maxCandleIntervalMs?: number;
  random?: () => number;
  /** No timers: polls happen on `pollOnce()` only (tests). */
  manual?: boolean;
}

/** REST polling over MarketData. */
export class PollingFeed implements AlertFeed {
  private readonly market: FeedMarket;
  private readonly now: () => number;
  private readonly tickMs: number;
  private readonly maxIntervalMs: number;
  private readonly random: () => number;
  private readonly errors: ErrorLog;
  private readonly groups = new Map<string, Group>();
  /** Symbols with price alerts, per exchange. */
  private tickSymbols = new Map<string, Set<string>>();
  private tickTimer: NodeJS.Timeout | null = null;
  private handlers: FeedHandlers | null = null;
  private stopped = true;
  private readonly manual: boolean;

  constructor(options: PollingFeedOptions) {
    this.manual = options.manual ?? false;
    this.market = options.market;
    this.now = options.now ?? Date.now;
    this.tickMs = options.tickMs ?? 5000;
    this.maxIntervalMs = options.maxCandleIntervalMs ?? 60_000;
    this.random = options.random ?? Math.random;
    this.errors = new ErrorLog(this.now);
  }

  subscribe(subscription: FeedSubscription, handlers: FeedHandlers): void {
    this.handlers = handlers;
    this.stopped = false;
    const wanted = groupSubscriptions(subscription);
    for (const [k, g] of this.groups) {
      if (wanted.has(k)) continue;
      if (g.timer) clearTimeout(g.timer);
      this.groups.delete(k);
    }
    for (const [k, subs] of wanted) {
      let g = this.groups.get(k);
      if (!g) {
        g = {
          exchange: subs[0]!.exchange,
          symbol: subs[0]!.symbol,
          frames: new Map(),
          timer: null,
          polling: null,
        };
        this.groups.set(k, g);
        syncFrames(g, subs);
        this.schedule(g, 0);
      } else {
        syncFrames(g, subs);
      }
    }
    this.tickSymbols = new Map();
    for (const t of subscription.ticks) {
      let set = this.tickSymbols.get(t.exchange);
      if (!set) this.tickSymbols.set(t.exchange, (set = new Set()));
      set.add(t.symbol);
    }
    if (this.tickSymbols.size > 0 && !this.tickTimer && !this.manual) this.scheduleTicks(0);
    if (this.tickSymbols.size === 0 && this.tickTimer) {
      clearTimeout(this.tickTimer);
      this.tickTimer = null;
    }
  }

  stop(): void {
    this.stopped = true;
    for (const g of this.groups.values()) if (g.timer) clearTimeout(g.timer);
    this.groups.clear();
    if (this.tickTimer) clearTimeout(this.tickTimer);
    this.tickTimer = null;
  }

  /** One poll of every key and of the tickers, now (tests, or a manual refresh). */
  async pollOnce(): Promise<void> {
    for (const g of this.groups.values()) await this.pollGroup(g);
    await this.pollTicks();
  }

  private intervalOf(g: Group): number {
    let ms = this.maxIntervalMs;
    for (const tf of g.frames.keys()) ms = Math.min(ms, timeframeMs(tf) / 6);
    return ms * (0.9 + 0.2 * this.random());
  }

  private schedule(g: Group, delay: number): void {
    if (this.stopped || this.manual) return;
    g.timer = setTimeout(() => {
      g.timer = null;
      void this.pollGroup(g).finally(() => {
        if (this.groups.get(groupKey(g.exchange, g.symbol)) === g) this.schedule(g, this.intervalOf(g));
      });
    }, delay);
    g.timer.unref?.();
  }

  private scheduleTicks(delay: number): void {
    if (this.stopped || this.manual) return;
    this.tickTimer = setTimeout(() => {
      void this.pollTicks().finally(() => {
        if (this.tickTimer && this.tickSymbols.size > 0) this.scheduleTicks(this.tickMs);
        else this.tickTimer = null;
      });
    }, delay);
    this.tickTimer.unref?.();
  }

  private pollGroup(g: Group): Promise<void> {
    // One poll of a group at a time (a timer poll and pollOnce may meet).
    g.polling ??= this.doPollGroup(g).finally(() => (g.polling = null));
    return g.polling;
  }

  private async doPollGroup(g: Group): Promise<void> {
    const advanced: Timeframe[] = [];
    const now = this.now();
    for (const tf of TIMEFRAMES) {
      const f = g.frames.get(tf);
      if (!f) continue;
      const due = f.series === null || now >= candleCloseTime(f.lastClose, tf);
      if (!due) continue;
      const key = `${g.exchange}|${g.symbol}|${tf}`;
      try {
        const s = await this.market.getCandles({
          symbol: g.symbol,
          timeframe: tf,
          limit: f.limit,
          exchange: g.exchange,
        });
        if (s.fallback?.outage) {
          // The snapshot standing in for a failing exchange holds old candles: an alert evaluated on
          // them would fire on a past market. Its close waits for the exchange's own candles.
          this.errors.report(key, SNAPSHOT_STANDS_IN, s.fallback.reason);
          continue;
        }
        this.errors.ok(key);
        const close = lastCloseOf(s.candles, tf);
        f.series = s.candles;
        if (close > f.lastClose) {
          f.lastClose = close;
          advanced.push(tf);
        }
      } catch (e) {
        this.errors.report(key, 'alert feed: candle poll failed, retrying next interval', e);
      }
    }
    await emitCloses(g, advanced, this.handlers, now, this.errors, true);
  }

  private async pollTicks(): Promise<void> {
    const handlers = this.handlers;
    for (const [exchange, symbols] of this.tickSymbols) {
      const key = `tickers|${exchange}`;
      try {
        const set = await this.market.getTickers({ exchange });
        if (set.fallback?.outage) {
          // Derived from the snapshot's past candles, not today's prices: no tick until the exchange answers.
          this.errors.report(key, SNAPSHOT_STANDS_IN, set.fallback.reason);
          continue;
        }
        this.errors.ok(key);
        // The snapshot by choice (offline mode, for any exchange asked).
        if (set.derived) {
          await this.tickFromLastCloses(exchange, symbols);
          continue;
        }
        const now = this.now();
        for (const t of set.tickers) {
          if (!symbols.has(t.symbol) || !(t.last > 0) || !handlers) continue;
          try {
            await handlers.tick({ exchange, symbol: t.symbol, price: t.last, time: t.timestamp ?? now });
          } catch (e) {
            this.errors.report(`handler:${key}`, 'alert feed: tick handler failed', e);
          }
        }
      } catch (e) {
        this.errors.report(key, 'alert feed: ticker poll failed, retrying next interval', e);
      }
    }
  }

  /**
   * Ticks of the offline snapshot. Its 24h tickers are derived for one common moment (the end of the
   * scanner's universe window), while markets with longer history reach further: a price alert must
   * see the price analyze_crypto shows, which is the last close of the market's own newest candle.
   */
  private async tickFromLastCloses(exchange: string, symbols: Set<string>): Promise<void> {
    for (const symbol of symbols) {
      const key = `last-close|${exchange}|${symbol}`;
      try {
        const series = await this.market.getCandles({ exchange, symbol, timeframe: '1h', limit: 1 });
        this.errors.ok(key);
        const price = series.candles.close[series.candles.close.length - 1];
        if (!(price !== undefined && price > 0) || !this.handlers) continue;
        await this.handlers.tick({ exchange, symbol, price, time: series.asOf });
      } catch (e) {
        this.errors.report(key, 'alert feed: last close for a tick failed, retrying next interval', e);
      }
    }
  }
}

export interface ReplayFeedOptions {
  market: FeedMarket;
  /** Close time (ms) of the first replayed step. */
  start: number;
  /** Step length; ticks are this timeframe's closes. Default '1h'. */
  stepTimeframe?: Timeframe;
}

/**
 * Replays stored candles (e.g. the offline snapshot) as if live: each `step()` moves the clock one
 * `stepTimeframe` candle on, emits a tick per price-subscribed symbol (the step candle's close) and a
 * candle close for every subscribed timeframe closing then, from `getCandles({ endTime })`: one call per
 * closing (symbol, timeframe) per step. No timers.
 */
export class ReplayFeed implements AlertFeed {
  private readonly market: FeedMarket;
  private readonly stepTf: Timeframe;
  private time: number;
  private readonly errors: ErrorLog;
  private groups = new Map<string, Group>();
  private ticks: TickSubscription[] = [];
  private handlers: FeedHandlers | null = null;

  constructor(options: ReplayFeedOptions) {
    this.market = options.market;
    this.stepTf = options.stepTimeframe ?? '1h';
    if (candleCloseTime(candleOpenTime(options.start - 1, this.stepTf), this.stepTf) !== options.start) {
      throw new Error(`replay start ${new Date(options.start).toISOString()} is not a ${this.stepTf} close`);
    }
    this.time = options.start - timeframeMs(this.stepTf);
    this.errors = new ErrorLog(() => this.time);
  }

  /** The replayed clock: close time of the last step. */
  now(): number {
    return this.time;
  }

  subscribe(subscription: FeedSubscription, handlers: FeedHandlers): void {
    this.handlers = handlers;
    const wanted = groupSubscriptions(subscription);
    for (const k of [...this.groups.keys()]) if (!wanted.has(k)) this.groups.delete(k);
    for (const [k, subs] of wanted) {
      let g = this.groups.get(k);
      if (!g) {
        g = {
          exchange: subs[0]!.exchange,
          symbol: subs[0]!.symbol,
          frames: new Map(),
          timer: null,
          polling: null,
        };
        this.groups.set(k, g);
      }
      syncFrames(g, subs);
    }
    this.ticks = [...subscription.ticks];
  }

  stop(): void {
    this.handlers = null;
  }

  /** Replay the next step. */
  async step(): Promise<void> {
    const t = candleCloseTime(this.time, this.stepTf);
    this.time = t;
    const handlers = this.handlers;
    for (const s of this.ticks) {
      const key = `tick|${s.exchange}|${s.symbol}`;
      try {
        const c = await this.fetch({
          symbol: s.symbol,
          exchange: s.exchange,
          timeframe: this.stepTf,
          limit: 1,
          endTime: t,
        });
        const n = c.time.length;
        if (n > 0 && candleCloseTime(c.time[n - 1]!, this.stepTf) === t && handlers) {
          await handlers.tick({ exchange: s.exchange, symbol: s.symbol, price: c.close[n - 1]!, time: t });
        }
      } catch (e) {
        this.errors.report(key, 'replay feed: tick failed', e);
      }
    }
    for (const g of [...this.groups.values()]) {
      const advanced: Timeframe[] = [];
      for (const tf of TIMEFRAMES) {
        const f = g.frames.get(tf);
        if (!f) continue;
        const closing = candleCloseTime(candleOpenTime(t - 1, tf), tf) === t;
        if (!closing && f.series !== null) continue;
        try {
          const c = await this.fetch({
            symbol: g.symbol,
            exchange: g.exchange,
            timeframe: tf,
            limit: f.limit,
            endTime: t,
          });
          f.series = c;
          const close = lastCloseOf(c, tf);
          if (closing && close === t && close > f.lastClose) {
            f.lastClose = close;
            advanced.push(tf);
          }
        } catch (e) {
          this.errors.report(`${g.exchange}|${g.symbol}|${tf}`, 'replay feed: candle fetch failed', e);
        }
      }
      await emitCloses(g, advanced, handlers, t, this.errors, false);
    }
  }

  /** Replay `count` steps. */
  async run(count: number): Promise<void> {
    for (let i = 0; i < count; i++) await this.step();
  }

  private async fetch(r: CandleRequest): Promise<Candles> {
    return (await this.market.getCandles(r)).candles;
  }
}
