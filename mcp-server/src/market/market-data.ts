import type { Candles } from '../core/candles.js';
import { AppError, isAppError } from '../errors.js';
import { log } from '../logger.js';
import { TIMED_OUT, within } from '../deadline.js';
import { MemoryCache, type CacheStore } from './cache.js';
import {
  CcxtSource,
  exchangeErrorKind,
  isOutage,
  knownExchangeId,
  type CcxtSourceOptions,
} from './ccxt-source.js';
import { exchangeErrors } from '../observability/instruments.js';
import { SnapshotSource } from './snapshot.js';
import { candleCloseTime, parseTimeframe, type Timeframe } from './timeframes.js';
import type { CandleSeries, DataSourceKind, SnapshotFallback, Ticker24h } from './types.js';

/**
 * - `exchange`: live data only; an unreachable exchange is EXCHANGE_UNAVAILABLE.
 * - `offline`: the bundled snapshot (Binance data) only, whichever exchange is asked for.
 * - `auto`: the exchange; for Binance, the snapshot's exchange, the snapshot stands in while it is
 *   unreachable. Other exchanges answer EXCHANGE_UNAVAILABLE then: Binance candles are not theirs.
 * In every mode an exchange id ccxt does not know is UNKNOWN_EXCHANGE.
 */
export type MarketDataMode = 'auto' | 'exchange' | 'offline';

export interface MarketDataOptions {
  /** Default 'auto'. */
  mode?: MarketDataMode;
  /** ccxt id of the default exchange. Default 'binance'. */
  exchange?: string;
  /**
   * Options of the ccxt client; `baseUrl` applies to the default exchange only. In auto mode `retries`
   * defaults to 1 for the snapshot's exchange (Binance), so that when unreachable it falls back after
   * about two timeouts rather than four; other exchanges have no fallback and keep the usual 3.
   */
  exchangeOptions?: Omit<CcxtSourceOptions, 'exchange'>;
  /** Directory of the offline snapshot. Default: the bundled data/snapshot. */
  snapshotDir?: string;
  /** Default: an in-process MemoryCache. */
  cache?: CacheStore;
  /** Clock in ms. Default Date.now. */
  now?: () => number;
  /** How long fetched candles and tickers are reused. Default 60 000 ms. */
  cacheTtlMs?: number;
  /** In auto mode, how long an unreachable exchange is skipped before it is tried again. Default 60 000 ms. */
  outageMs?: number;
}

export interface CandleRequest {
  /** Any accepted form: 'BTCUSDT', 'BTC/USDT', 'btc-usdt', ... */
  symbol: string;
  timeframe: Timeframe;
  /** Number of closed candles wanted, 1..MAX_CANDLE_LIMIT. Default 500. */
  limit?: number;
  /** ccxt exchange id; default the one configured. */
  exchange?: string | undefined;
  /**
   * Only candles whose close time (open time + timeframe) is <= endTime (ms), e.g. to align two markets
   * whose data ends at different times. Default: now (for the snapshot: where its data ends).
   */
  endTime?: number | undefined;
}

export interface TickerSet {
  exchange: string;
  source: DataSourceKind;
  /** For the snapshot: computed from its candles rather than reported by the exchange. */
  derived: boolean;
  tickers: Ticker24h[];
  /** Set when the snapshot answered although the caller asked for another exchange or live data. */
  fallback?: SnapshotFallback;
}

export interface ExchangeContact {
  /** False after an outage only; an exchange that answered with an error is reachable (see `reason`). */
  reachable: boolean;
  /** When (ms) the exchange last answered or failed. */
  at: number;
  reason?: string;
}

/** The default exchange's reachability as one request found it, for /health/infrastructure. */
export interface ExchangeProbe {
  exchange: string;
  mode: MarketDataMode;
  /** disabled: offline mode, the exchange is never contacted. degraded: it answered, rate-limiting us. */
  status: 'ok' | 'degraded' | 'down' | 'disabled';
  /** Round trip of the probe request; null when there was none or it failed. */
  latency_ms: number | null;
  /** When the probe ran (ms); probes are reused for a few seconds. */
  probed_at: number;
  /** Why it is not ok; never a URL (ccxt's raw messages are not used). */
  detail?: string;
}

/** Probes are reused this long, so frequent health checks do not become exchange traffic. */
const PROBE_TTL_MS = 10_000;
/** A successful exchange request this recent makes a probe that timed out `degraded`, not `down`. */
const RECENT_CONTACT_MS = 60_000;

export const DEFAULT_CANDLE_LIMIT = 500;
export const MAX_CANDLE_LIMIT = 10_000;
/**
 * Cached live candles expire at the next candle close, but are kept at least this long: the exchange may
 * publish a closed candle a moment late, and a halted market never publishes one.
 */
const MIN_LIVE_TTL_MS = 5_000;
const SNAPSHOT_IS_BINANCE_ONLY = 'the offline snapshot holds Binance data only';

/** The market data facade the services use: source selection, fallback, caching. */
export class MarketData {
  readonly mode: MarketDataMode;
  readonly defaultExchange: string;
  readonly snapshot: SnapshotSource;
  private readonly exchangeOptions: Omit<CcxtSourceOptions, 'exchange'>;
  private readonly cache: CacheStore;
  private readonly now: () => number;
  private readonly cacheTtlMs: number;
  private readonly outageMs: number;
  private readonly sources = new Map<string, CcxtSource>();
  /** Exchanges found unreachable (auto mode): skipped until `until`, answering with `error`'s reason. */
  private readonly outages = new Map<string, { until: number; error: AppError }>();
  /** The last exchange call's outcome per exchange, for health reporting. */
  private readonly lastContact = new Map<string, ExchangeContact>();
  private probe: { until: number; result: Promise<ExchangeProbe> } | null = null;

  constructor(options: MarketDataOptions = {}) {
    this.mode = options.mode ?? 'auto';
    this.defaultExchange = knownExchangeId(options.exchange ?? 'binance');
    this.exchangeOptions = options.exchangeOptions ?? {};
    this.snapshot = new SnapshotSource(options.snapshotDir === undefined ? {} : { dir: options.snapshotDir });
    this.cache = options.cache ?? new MemoryCache({ now: options.now });
    this.now = options.now ?? Date.now;
    this.cacheTtlMs = options.cacheTtlMs ?? 60_000;
    this.outageMs = options.outageMs ?? 60_000;
    // Fail at start on an unusable exchange configuration (e.g. base URL) rather than on the first request.
    if (this.mode !== 'offline') this.source(this.defaultExchange);
  }

  /**
   * The latest `limit` closed candles of a market, closing by `endTime` if given (for the snapshot: the
   * last ones it has).
   */
  async getCandles(request: CandleRequest): Promise<CandleSeries> {
    const timeframe = parseTimeframe(request.timeframe);
    const limit = request.limit ?? DEFAULT_CANDLE_LIMIT;
    const { endTime } = request;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_CANDLE_LIMIT) {
      const message = `limit must be an integer from 1 to ${MAX_CANDLE_LIMIT}, got ${limit}.`;
      throw new AppError('INVALID_ARGUMENT', message, { limit });
    }
    if (endTime !== undefined && (typeof endTime !== 'number' || Number.isNaN(new Date(endTime).getTime()))) {
      const message = `endTime must be a time in ms since 1970-01-01 UTC, got ${String(endTime)}.`;
      throw new AppError('INVALID_ARGUMENT', message, { endTime });
    }
    const end = endTime ?? 'latest';
    return this.withFallback(
      request.exchange,
      async (source) => {
        const symbol = await source.resolveSymbol(request.symbol);
        const key = `exchange:${source.exchangeId}:${symbol}:${timeframe}:${limit}:${end}`;
        // Reuse until the next candle closes (so a new candle is seen at once), at most the cache TTL.
        const untilNextClose = (s: CandleSeries) => candleCloseTime(s.asOf, timeframe) - source.now();
        const ttl = (s: CandleSeries) =>
          Math.min(this.cacheTtlMs, Math.max(MIN_LIVE_TTL_MS, untilNextClose(s)));
        return this.cache.getOrLoad(key, ttl, async () => {
          const { candles } = await source.fetchOHLCV(symbol, timeframe, { limit, endTime });
          return this.series(symbol, source.exchangeId, timeframe, candles, 'exchange', endTime);
        });
      },
      async (fallback) => {
        const symbol = await this.snapshot.resolveSymbol(request.symbol);
        const key = `offline:${this.snapshot.exchange}:${symbol}:${timeframe}:${limit}:${end}`;
        const series = await this.cache.getOrLoad(key, this.cacheTtlMs, async () => {
          const candles = await this.snapshot.latest(symbol, timeframe, limit, endTime);
          return this.series(symbol, this.snapshot.exchange, timeframe, candles, 'offline', endTime);
        });
        return fallback ? { ...series, fallback } : series; // the cached object is shared: not changed
      },
    );
  }

  /** 24h tickers of all spot markets (for the snapshot: derived from its last 24 hourly candles). */
  async getTickers(request: { exchange?: string | undefined } = {}): Promise<TickerSet> {
    return this.withFallback<TickerSet>(
      request.exchange,
      (source) =>
        this.cache.getOrLoad(`tickers:${source.exchangeId}`, this.cacheTtlMs, async () => ({
          exchange: source.exchangeId,
          source: 'exchange',
          derived: false,
          tickers: await source.fetchTickers(),
        })),
      async (fallback) => ({
        exchange: this.snapshot.exchange,
        source: 'offline',
        derived: true,
        tickers: (await this.snapshot.tickers()).tickers,
        ...(fallback && { fallback }),
      }),
    );
  }

  /** Unified form ('BTC/USDT') of a user symbol on the exchange (or the snapshot); UNKNOWN_SYMBOL if absent. */
  async resolveSymbol(symbol: string, exchange?: string): Promise<string> {
    return this.withFallback(
      exchange,
      (source) => source.resolveSymbol(symbol),
      () => this.snapshot.resolveSymbol(symbol),
    );
  }

  /** Spot symbols of the exchange (or of the snapshot). */
  async listSymbols(exchange?: string): Promise<string[]> {
    return this.withFallback(
      exchange,
      (source) => source.listSymbols(),
      () => this.snapshot.listSymbols(),
    );
  }

  /** Mode, default exchange and how each exchange answered last time (none yet: not contacted). */
  health(): { data_source: MarketDataMode; exchange: string; exchanges: Record<string, ExchangeContact> } {
    return {
      data_source: this.mode,
      exchange: this.defaultExchange,
      exchanges: Object.fromEntries(this.lastContact),
    };
  }

  /**
   * Whether the default exchange answers one cheap request (its server time) within `timeoutMs`, measured.
   * Not retried, not counted as an exchange error, and reused for PROBE_TTL_MS; offline mode never
   * contacts the exchange and says so.
   */
  probeExchange(timeoutMs = 2_000): Promise<ExchangeProbe> {
    const exchange = this.defaultExchange;
    const base = { exchange, mode: this.mode };
    if (this.mode === 'offline') {
      return Promise.resolve({
        ...base,
        status: 'disabled',
        latency_ms: null,
        probed_at: this.now(),
        detail: 'DATA_SOURCE=offline: the bundled snapshot answers and the exchange is not contacted',
      });
    }
    const now = this.now();
    if (this.probe && this.probe.until > now) return this.probe.result;
    const result = (async (): Promise<ExchangeProbe> => {
      const started = performance.now();
      try {
        const outcome = await within(this.source(exchange).ping(), timeoutMs);
        if (outcome === TIMED_OUT) {
          // ccxt queues requests behind its rate limiter: during a large scan the probe can wait its turn
          // although the exchange answers. A request that succeeded a moment ago says it is reachable.
          const last = this.lastContact.get(exchange);
          const recent = last?.reachable === true && !last.reason && this.now() - last.at < RECENT_CONTACT_MS;
          return {
            ...base,
            status: recent ? 'degraded' : 'down',
            latency_ms: null,
            probed_at: now,
            detail: recent
              ? `no answer within ${timeoutMs} ms, but a request succeeded ${Math.round((this.now() - last.at) / 1000)} s ago (requests may be queued behind the rate limiter)`
              : `no answer within ${timeoutMs} ms`,
          };
        }
        const latency = Math.round((performance.now() - started) * 10) / 10;
        return { ...base, status: 'ok', latency_ms: latency, probed_at: now };
      } catch (e) {
        if (!isAppError(e)) log.error('exchange probe failed', { exchange, error: e });
        const detail = isAppError(e) ? e.message : 'the probe failed unexpectedly (logged)';
        const status = exchangeErrorKind(e) === 'rate_limited' ? 'degraded' : 'down';
        return { ...base, status, latency_ms: null, probed_at: now, detail };
      }
    })();
    this.probe = { until: now + PROBE_TTL_MS, result };
    return result;
  }

  /**
   * Run `live` or `offline` according to the mode; in auto mode an outage of the snapshot's exchange
   * switches to `offline`. `offline` receives why it stands in, if it does for another exchange or an outage.
   */
  private async withFallback<T>(
    requested: string | undefined,
    live: (source: CcxtSource) => Promise<T>,
    offline: (fallback?: SnapshotFallback) => Promise<T>,
  ): Promise<T> {
    const exchange = knownExchangeId(requested ?? this.defaultExchange);
    if (this.mode === 'offline') {
      const asked = exchange === this.snapshot.exchange;
      return offline(
        asked ? undefined : { requestedExchange: exchange, reason: SNAPSHOT_IS_BINANCE_ONLY, outage: false },
      );
    }
    const source = this.source(exchange);
    const canFallBack = this.mode === 'auto' && exchange === this.snapshot.exchange;
    const outage = this.outages.get(exchange);
    if (canFallBack && outage && outage.until > this.now()) return this.fallBack(offline, outage.error);
    try {
      const result = await live(source);
      this.lastContact.set(exchange, { reachable: true, at: this.now() });
      return result;
    } catch (e) {
      const kind = exchangeErrorKind(e);
      if (kind) exchangeErrors.inc({ exchange, kind });
      // Only an outage makes the exchange unreachable: a rate limit, a refusal or an error is an answer.
      if (isAppError(e) && (e.code === 'EXCHANGE_UNAVAILABLE' || e.code === 'RATE_LIMITED'))
        this.lastContact.set(exchange, { reachable: !isOutage(e), at: this.now(), reason: e.message });
      // A rate limit passes in a minute and says so: no reason to answer with older data meanwhile.
      if (!canFallBack || !isOutage(e)) throw e;
      this.outages.set(exchange, { until: this.now() + this.outageMs, error: e });
      log.warn('exchange unavailable, answering from the offline snapshot', {
        exchange,
        code: e.code,
        retryAfterMs: this.outageMs,
      });
      return this.fallBack(offline, e);
    }
  }

  private async fallBack<T>(
    offline: (fallback: SnapshotFallback) => Promise<T>,
    outage: AppError,
  ): Promise<T> {
    try {
      return await offline({
        requestedExchange: this.snapshot.exchange,
        reason: outage.message,
        outage: true,
      });
    } catch (e) {
      if (!isAppError(e)) throw e;
      throw new AppError(
        outage.code,
        `${outage.message} The offline snapshot cannot stand in: ${e.message}`,
        { ...e.details, offlineCode: e.code },
      );
    }
  }

  private source(exchange: string): CcxtSource {
    let source = this.sources.get(exchange);
    if (!source) {
      const { baseUrl, ...shared } = this.exchangeOptions;
      source = new CcxtSource({
        now: this.now,
        // Fall back after about two timeouts, not four; exchanges without a fallback keep retrying.
        ...(this.mode === 'auto' && exchange === this.snapshot.exchange && { retries: 1 }),
        ...shared,
        ...(exchange === this.defaultExchange && baseUrl !== undefined ? { baseUrl } : {}),
        exchange,
      });
      this.sources.set(exchange, source);
    }
    return source;
  }

  private series(
    symbol: string,
    exchange: string,
    timeframe: Timeframe,
    candles: Candles,
    source: DataSourceKind,
    endTime?: number,
  ): CandleSeries {
    const n = candles.time.length;
    if (n === 0) {
      const by = endTime === undefined ? 'yet' : `closing by ${new Date(endTime).toISOString()}`;
      throw new AppError(
        'INSUFFICIENT_DATA',
        `${symbol} has no closed ${timeframe} candles on ${exchange} ${by}.`,
        {
          symbol,
          exchange,
          timeframe,
          source,
          ...(endTime !== undefined && { endTime }),
        },
      );
    }
    return {
      symbol,
      exchange,
      timeframe,
      candles,
      source,
      asOf: candleCloseTime(candles.time[n - 1], timeframe),
      fetchedAt: this.now(),
    };
  }
}
