import {
  BadRequest,
  BadResponse,
  BadSymbol,
  DDoSProtection,
  exchanges as exchangeClasses,
  ExchangeError,
  NetworkError,
  NotSupported,
  RateLimitExceeded,
  RequestTimeout,
  type Exchange,
  type OHLCV,
} from 'ccxt';
import { candlesFromRows, type Candles } from '../core/candles.js';
import { AppError } from '../errors.js';
import { log } from '../logger.js';
import { closeMatches, resolveSymbol } from './symbols.js';
import {
  candleCloseTime,
  candleOpenTime,
  DAY_MS,
  isTimeframe,
  timeframeMs,
  type Timeframe,
} from './timeframes.js';
import type { Ticker24h } from './types.js';

export interface CcxtSourceOptions {
  /** ccxt exchange id. Default 'binance'. */
  exchange?: string;
  /**
   * Replace the exchange's public REST base URL (tests, proxies), e.g. 'http://127.0.0.1:8080/api/v3' for
   * Binance, whose spot public endpoints all live under `urls.api.public`.
   */
  baseUrl?: string;
  /** Per-request timeout. Default 10 000 ms. */
  timeoutMs?: number;
  /** Extra attempts after a transient failure (network, timeout, 429, 5xx; not other 4xx). Default 3. */
  retries?: number;
  /** First retry delay; doubles per attempt, with jitter. Default 500 ms. */
  retryBaseDelayMs?: number;
  /** Upper bound of a retry delay, also for a server's Retry-After. Default 8 000 ms. */
  retryMaxDelayMs?: number;
  /** Local clock; corrected by the exchange's Date header once a response arrived. Default Date.now. */
  now?: () => number;
  /** Further ccxt constructor options (e.g. `rateLimit`). API keys are never needed: public data only. */
  ccxt?: Record<string, unknown>;
}

interface FetchOHLCVOptions {
  /** Oldest open time wanted; without it the latest candles are returned. */
  since?: number;
  /** Only candles whose close time (open + timeframe) is <= endTime. Default: now. */
  endTime?: number;
  limit: number;
}

type ExchangeClass = new (config: object) => Exchange;
const exchangeClassById = exchangeClasses as unknown as Record<string, ExchangeClass>;

/**
 * The ccxt id of a user's exchange name (trimmed, lower case); UNKNOWN_EXCHANGE with close ids when ccxt
 * has no such exchange. Needs no network: ccxt ships its exchange list.
 */
export function knownExchangeId(exchange: string): string {
  const id = exchange.trim().toLowerCase();
  if (Object.hasOwn(exchangeClassById, id)) return id;
  const suggestions = closeMatches(id, Object.keys(exchangeClassById));
  const hint = suggestions.length > 0 ? `; did you mean ${suggestions.join(', ')}?` : '.';
  throw new AppError('UNKNOWN_EXCHANGE', `Unknown exchange "${id}"${hint}`, { exchange: id, suggestions });
}

/**
 * Whether `e` says the exchange is down or unreachable (network error, timeout, 5xx, unreadable body), so
 * that another source may stand in. Rate limits, refusals (HTTP 4xx), exchange-reported errors and
 * unsupported requests are not: the exchange answered.
 */
export function isOutage(e: unknown): e is AppError {
  return e instanceof AppError && e.code === 'EXCHANGE_UNAVAILABLE' && e.details['outage'] === true;
}

/** What went wrong in an exchange request, for the metrics; undefined for errors that are not the exchange's. */
export type ExchangeErrorKind =
  'timeout' | 'network' | 'bad_response' | 'rate_limited' | 'refused' | 'rejected' | 'exchange_error';

export function exchangeErrorKind(e: unknown): ExchangeErrorKind | undefined {
  if (!(e instanceof AppError)) return undefined;
  const kind = e.details['kind'];
  return typeof kind === 'string' ? (kind as ExchangeErrorKind) : undefined;
}

/** Public market data of one exchange through ccxt: spot markets only, no API keys. */
export class CcxtSource {
  readonly exchangeId: string;
  private readonly client: Exchange;
  private readonly retries: number;
  private readonly retryBaseDelayMs: number;
  private readonly retryMaxDelayMs: number;
  private readonly localNow: () => number;
  /** Exchange time minus local time, from the last response's Date header. */
  private clockOffsetMs = 0;
  private spotSymbols?: Promise<ReadonlySet<string>>;

  constructor(options: CcxtSourceOptions = {}) {
    const id = knownExchangeId(options.exchange ?? 'binance');
    this.exchangeId = id;
    this.retries = options.retries ?? 3;
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 500;
    this.retryMaxDelayMs = options.retryMaxDelayMs ?? 8_000;
    this.localNow = options.now ?? Date.now;
    this.client = new exchangeClassById[id]!({
      enableRateLimit: true,
      timeout: options.timeoutMs ?? 10_000,
      // Spot only: no futures/options market lists are downloaded (ccxt merges this into its defaults).
      options: { fetchMarkets: { types: ['spot'] }, defaultType: 'spot' },
      ...options.ccxt,
    });
    if (options.baseUrl !== undefined) this.overrideBaseUrl(options.baseUrl);
    this.rejectMalformedJson();
  }

  /** Human-readable exchange name for messages. */
  get name(): string {
    return this.client.name ?? this.exchangeId;
  }

  /** Current time on the exchange's clock as far as known (local clock until a response arrived). */
  now(): number {
    return this.localNow() + this.clockOffsetMs;
  }

  async listSymbols(): Promise<string[]> {
    return [...(await this.loadSpotSymbols())];
  }

  /** Unified symbol for a user form; UNKNOWN_SYMBOL with close matches when the exchange has no such market. */
  async resolveSymbol(input: string): Promise<string> {
    const known = await this.loadSpotSymbols();
    const symbol = resolveSymbol(input, known);
    if (symbol !== undefined) return symbol;
    const suggestions = closeMatches(input, known);
    const hint = suggestions.length > 0 ? `; did you mean ${suggestions.join(', ')}?` : '.';
    throw new AppError('UNKNOWN_SYMBOL', `Unknown symbol ${input} on ${this.name}${hint}`, {
      symbol: input,
      exchange: this.exchangeId,
      suggestions,
    });
  }

  /**
   * Closed candles, oldest first: the latest `limit` (closing by `endTime` if given), or the first `limit`
   * from `since`. Pages through the exchange's per-request maximum when needed; exchange gaps can make
   * the result shorter. The still-forming candle (open time + timeframe > exchange time) is dropped.
   */
  async fetchOHLCV(
    input: string,
    timeframe: Timeframe,
    { since, endTime = Infinity, limit }: FetchOHLCVOptions,
  ): Promise<{ symbol: string; candles: Candles }> {
    const symbol = await this.resolveSymbol(input);
    const supported = Object.keys(this.client.timeframes ?? {}).filter(isTimeframe);
    if (!supported.includes(timeframe)) {
      throw new AppError(
        'UNSUPPORTED_TIMEFRAME',
        `${this.name} has no ${timeframe} candles; it offers ${supported.join(', ')}.`,
        { timeframe, exchange: this.exchangeId, supported },
      );
    }
    const pageSize = this.maxCandlesPerRequest();
    const what = `${symbol} ${timeframe} candles`;
    const fetchPage = async (from: number | undefined, count: number): Promise<OHLCV[]> => {
      const page = await this.call('fetchOHLCV', what, () =>
        this.client.fetchOHLCV(symbol, timeframe, from, count),
      );
      if (!page.every(isValidRow)) throw this.malformed(what);
      return page;
    };

    let rows: OHLCV[];
    if (since === undefined && endTime === Infinity && limit < pageSize) {
      // One extra, since the newest candle is usually still forming and gets dropped.
      rows = await fetchPage(undefined, limit + 1);
    } else {
      rows = [];
      // `limit` candles back from the end's candle; a month counts 31 days, as 30 could fall one short.
      const candleSpan = timeframe === '1M' ? 31 * DAY_MS : timeframeMs(timeframe);
      const end = Math.min(endTime, this.now());
      let cursor = since ?? candleOpenTime(end, timeframe) - limit * candleSpan;
      for (;;) {
        for (const row of await fetchPage(cursor, pageSize)) {
          if (rows.length === 0 || row[0]! > rows[rows.length - 1]![0]!) rows.push(row);
        }
        const newest = rows[rows.length - 1]?.[0];
        if (newest === undefined || newest < cursor) break; // nothing (new) at or after the cursor
        const newestClose = candleCloseTime(newest, timeframe);
        if (newestClose > this.now() || newestClose >= endTime) break; // reached the forming candle or the end
        if (since !== undefined && rows.length > limit) break;
        cursor = newestClose;
      }
    }

    const cutoff = Math.min(endTime, this.now());
    const closed = rows.filter((row) => candleCloseTime(row[0]!, timeframe) <= cutoff);
    const wanted = since === undefined ? closed.slice(-limit) : closed.slice(0, limit);
    return { symbol, candles: candlesFromRows(wanted as number[][]) };
  }

  /**
   * One cheap request without retries, for health checks: the exchange's server time, or its market list
   * where ccxt has no fetchTime for it. Throws the AppError a failed call would.
   */
  async ping(): Promise<void> {
    try {
      if (this.client.has['fetchTime']) await this.client.fetchTime();
      else await this.client.loadMarkets(true);
      this.syncClock();
    } catch (e) {
      throw this.toAppError(e, 'fetchTime', 'the server time', 1);
    }
  }

  /** 24h tickers of spot markets (all of them, or `symbols` in any accepted form). */
  async fetchTickers(symbols?: string[]): Promise<Ticker24h[]> {
    const unified = symbols && (await Promise.all(symbols.map((s) => this.resolveSymbol(s))));
    const known = await this.loadSpotSymbols();
    const tickers = await this.call('fetchTickers', '24h tickers', () => this.client.fetchTickers(unified));
    return Object.values(tickers)
      .filter((t) => t.symbol !== undefined && known.has(t.symbol))
      .map((t) => ({
        symbol: t.symbol!,
        open: t.open ?? NaN,
        high: t.high ?? NaN,
        low: t.low ?? NaN,
        last: t.last ?? NaN,
        change: t.change ?? NaN,
        percentage: t.percentage ?? NaN,
        baseVolume: t.baseVolume ?? NaN,
        quoteVolume: t.quoteVolume ?? undefined,
        timestamp: t.timestamp, // undefined when the exchange did not say: not invented
      }));
  }

  private loadSpotSymbols(): Promise<ReadonlySet<string>> {
    if (!this.spotSymbols) {
      this.spotSymbols = this.fetchSpotSymbols();
      this.spotSymbols.catch(() => (this.spotSymbols = undefined)); // try again on the next call
    }
    return this.spotSymbols;
  }

  private async fetchSpotSymbols(): Promise<ReadonlySet<string>> {
    // Derivatives-only ids (binanceusdm, binancecoinm, kucoinfutures) list their market types without
    // 'spot'. Our spot-only option replaces that list, and binanceusdm would then load Binance's spot
    // markets and pass them off as its own: refuse before any request.
    const describe = this.client.describe() as { options?: { fetchMarkets?: { types?: unknown } } };
    const types = describe.options?.fetchMarkets?.types;
    if (Array.isArray(types) && !types.includes('spot')) throw this.noSpotMarkets();
    // reload=true: ccxt keeps a failed load's rejected promise and would return it forever otherwise.
    const markets = Object.values(
      await this.call('loadMarkets', 'the market list', () => this.client.loadMarkets(true)),
    );
    // Markets the exchange marks inactive (delisted, halted) have no fresh candles to offer.
    const spot = new Set(markets.filter((m) => m?.spot && m.active !== false).map((m) => m!.symbol));
    if (markets.length === 0) throw this.malformed('the market list');
    if (spot.size === 0) throw this.noSpotMarkets(); // e.g. krakenfutures, whose list ignores the option
    return spot;
  }

  /**
   * Run one ccxt call (`method` names it for errors), retrying transient failures with exponential
   * backoff and jitter.
   */
  private async call<T>(method: string, what: string, request: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await request();
        this.syncClock();
        return result;
      } catch (e) {
        if (
          !(e instanceof NetworkError) ||
          attempt >= this.retries ||
          unreachable(e) ||
          refusedStatus(e) !== undefined
        ) {
          throw this.toAppError(e, method, what, attempt + 1);
        }
        const delayMs = this.retryDelay(attempt, e);
        log.warn('exchange request failed, retrying', {
          exchange: this.exchangeId,
          what,
          attempt: attempt + 1,
          delayMs,
          error: e.name,
        });
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }

  private retryDelay(attempt: number, e: Error): number {
    const backoff = Math.min(this.retryMaxDelayMs, this.retryBaseDelayMs * 2 ** attempt);
    const jittered = backoff / 2 + (Math.random() * backoff) / 2;
    const retryAfterSeconds = Number(this.client.last_response_headers?.['Retry-After']);
    const rateLimited = e instanceof RateLimitExceeded || e instanceof DDoSProtection;
    return rateLimited && retryAfterSeconds > 0
      ? Math.min(this.retryMaxDelayMs, Math.max(jittered, retryAfterSeconds * 1000))
      : jittered;
  }

  /** Track the exchange clock from the Date header, so "still forming" is judged by the exchange's time. */
  private syncClock(): void {
    const date = Date.parse(this.client.last_response_headers?.['Date'] ?? '');
    // Date has whole seconds, truncated: the estimate errs early, which only drops candles more eagerly.
    if (Number.isFinite(date)) this.clockOffsetMs = date - this.localNow();
  }

  private toAppError(e: unknown, method: string, what: string, attempts: number): AppError {
    if (e instanceof AppError) return e;
    const details = {
      exchange: this.exchangeId,
      attempts,
      cause: e instanceof Error ? e.name : typeof e,
      // ccxt messages carry URLs and raw bodies: fine for logs and details, not for the message.
      exchangeMessage: e instanceof Error ? e.message.slice(0, 300) : String(e),
    };
    const tries = attempts > 1 ? ` (${attempts} attempts)` : '';
    if (e instanceof BadSymbol) {
      return new AppError('UNKNOWN_SYMBOL', `${this.name} does not list the market of ${what}.`, details);
    }
    if (e instanceof RateLimitExceeded || e instanceof DDoSProtection) {
      return new AppError(
        'RATE_LIMITED',
        `${this.name} is rate-limiting requests${tries}; try again in a minute.`,
        { ...details, kind: 'rate_limited' },
      );
    }
    const status = refusedStatus(e);
    if (status !== undefined) {
      // No `outage` flag: the exchange answered, so the snapshot does not stand in for it.
      const message =
        status === 451
          ? `${this.name} is not available from this location (HTTP 451), so it cannot provide ${what}; use another exchange or the offline snapshot.`
          : `${this.name} refused the request for ${what} (HTTP ${status}); retrying will not help: check the base URL, a proxy, or whether the exchange blocks this network.`;
      return new AppError('EXCHANGE_UNAVAILABLE', message, {
        ...details,
        httpStatus: status,
        kind: 'refused',
      });
    }
    if (e instanceof RequestTimeout) {
      return new AppError(
        'EXCHANGE_UNAVAILABLE',
        `${this.name} did not answer in time while fetching ${what}${tries}; try again later.`,
        { ...details, outage: true, kind: 'timeout' },
      );
    }
    if (e instanceof NetworkError) {
      return new AppError(
        'EXCHANGE_UNAVAILABLE',
        `${this.name} is unreachable or failing while fetching ${what}${tries}; try again later.`,
        { ...details, outage: true, kind: 'network' },
      );
    }
    if (e instanceof NotSupported) {
      return new AppError(
        'INVALID_ARGUMENT',
        `${this.name} does not support ${method} through ccxt, so it cannot provide ${what}.`,
        { ...details, kind: 'rejected' },
      );
    }
    if (e instanceof BadRequest) {
      return new AppError('INVALID_ARGUMENT', `${this.name} rejected the request for ${what}.`, {
        ...details,
        kind: 'rejected',
      });
    }
    if (e instanceof ExchangeError) {
      return new AppError('EXCHANGE_UNAVAILABLE', `${this.name} returned an error for ${what}.`, {
        ...details,
        kind: 'exchange_error',
      });
    }
    // BadResponse, or a TypeError/SyntaxError from ccxt parsing a body of an unexpected shape.
    return this.malformed(what, details);
  }

  private malformed(what: string, details: Record<string, unknown> = {}): AppError {
    return new AppError(
      'EXCHANGE_UNAVAILABLE',
      `${this.name} sent an unreadable response for ${what}; try again later.`,
      { exchange: this.exchangeId, ...details, outage: true, kind: 'bad_response' },
    );
  }

  private noSpotMarkets(): AppError {
    return new AppError(
      'INVALID_ARGUMENT',
      `${this.name} has no spot market data through ccxt; this server serves spot markets only.`,
      { exchange: this.exchangeId },
    );
  }

  private maxCandlesPerRequest(): number {
    const limit = this.client.features?.['spot']?.['fetchOHLCV']?.limit as unknown;
    return typeof limit === 'number' && limit > 0 ? limit : 500;
  }

  private overrideBaseUrl(baseUrl: string): void {
    // ccxt types urls.api as a dictionary, but single-endpoint exchanges declare a plain string.
    const urls = this.client.urls as { api: unknown };
    if (typeof urls.api === 'string') urls.api = baseUrl;
    else if (isRecord(urls.api) && typeof urls.api['public'] === 'string') urls.api['public'] = baseUrl;
    else {
      throw new AppError('INVALID_ARGUMENT', `Cannot override the REST base URL of ${this.exchangeId}.`, {
        exchange: this.exchangeId,
      });
    }
  }

  /**
   * ccxt turns a body that fails to parse into `undefined` and lets the endpoint parser run on the raw
   * text, which can silently yield empty market lists or garbage. A JSON-looking body that does not
   * parse (e.g. truncated) becomes a BadResponse instead.
   */
  private rejectMalformedJson(): void {
    const parseJson = this.client.parseJson.bind(this.client);
    this.client.parseJson = (text: unknown) => {
      const parsed = parseJson(text);
      if (parsed === undefined && this.client.isJsonEncodedObject(text)) {
        throw new BadResponse(`${this.exchangeId} sent a malformed JSON body`);
      }
      return parsed;
    };
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function isValidRow(row: OHLCV): boolean {
  return (
    Array.isArray(row) &&
    row.length >= 6 &&
    row.slice(0, 6).every((v) => typeof v === 'number' && Number.isFinite(v))
  );
}

/**
 * The HTTP status of a 4xx answer other than 408 (timeout) and 429 (rate limit), if `e` reports one: the
 * exchange answered and refused, e.g. 403 for a blocked network or 451 for a restricted country. Retrying
 * will not help and it is no outage, although ccxt raises most of these as ExchangeNotAvailable, a
 * NetworkError. ccxt keeps the status nowhere but in the message ('binance GET <url> 403 Forbidden <body>').
 * Rate-limit errors (e.g. Binance's 418 IP ban) stay rate limits.
 */
function refusedStatus(e: unknown): number | undefined {
  if (!(e instanceof Error) || e instanceof RateLimitExceeded || e instanceof DDoSProtection)
    return undefined;
  const status = Number(/^\S+ [A-Z]+ \S+ (\d{3}) /.exec(e.message)?.[1]);
  return status >= 400 && status < 500 && status !== 408 && status !== 429 ? status : undefined;
}

/**
 * No host by that name, nothing listening, no route to the network or host: retrying will not help, and
 * answering at once lets auto mode fall back to the snapshot without seconds of backoff on a machine with
 * no internet. EAI_AGAIN is nominally a temporary DNS failure, but without internet it is what the
 * resolver answers, so it is treated the same way.
 */
function unreachable(e: Error): boolean {
  return /\b(ENOTFOUND|ECONNREFUSED|ENETUNREACH|EHOSTUNREACH|EAI_AGAIN)\b/.test(e.message);
}
