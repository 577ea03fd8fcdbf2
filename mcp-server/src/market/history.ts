/**
 * A date range of closed candles, longer than `getCandles`' 10 000 limit: for backtests.
 *
 * - Offline (the snapshot, or auto mode while the exchange is unreachable): a time slice of the snapshot
 *   series, no copy.
 * - Live: pages backwards through `getCandles` in chunks of at most 10 000 candles, each closing where the
 *   next one starts, so every chunk goes through the market facade (cache, fallback, errors). A series is
 *   never mixed from both sources: if the snapshot stands in for any chunk, the whole range is read from it.
 *
 * The period is `[start, end]`: candles opening at or after `start` and closing at or before `end`. A period
 * that reaches outside the data is an INVALID_ARGUMENT naming the range there is. Up to `warmupBars` candles
 * before `start` are added where they exist (indicators need a history before the first traded bar).
 */
import { allocCandles, sliceCandles, type Candles } from '../core/candles.js';
import { AppError, isAppError } from '../errors.js';
import { knownExchangeId } from './ccxt-source.js';
import { MAX_CANDLE_LIMIT, type MarketData } from './market-data.js';
import { candleCloseTime, DAY_MS, parseTimeframe, timeframeMs, type Timeframe } from './timeframes.js';
import type { CandleSeries, SnapshotFallback } from './types.js';

/** Most candles (period plus warm-up) one request may load. */
export const MAX_HISTORY_BARS = 200_000;
/** Without `start`: this far back from the end, at most DEFAULT_HISTORY_BARS candles. */
export const DEFAULT_HISTORY_SPAN_MS = 365 * DAY_MS;
export const DEFAULT_HISTORY_BARS = 50_000;

export interface HistoryRequest {
  /** Any accepted form: 'BTCUSDT', 'BTC/USDT', ... */
  symbol: string;
  timeframe: Timeframe;
  /** ms since the epoch: the first candle opens at or after it. Default: `end` minus a year (see above). */
  start?: number | undefined;
  /** ms since the epoch: the last candle closes at or before it. Default: the last closed candle. */
  end?: number | undefined;
  exchange?: string | undefined;
  /** Candles before `start` to add for indicator warm-up, as far as the data has them. Default 0. */
  warmupBars?: number | undefined;
}

export interface HistorySeries extends CandleSeries {
  /** How many leading candles are warm-up before the period (0 when none were asked or exist). */
  warmup: number;
  /** The period as asked (or defaulted), ms. */
  period: { start: number; end: number };
  /** What the caller should know: defaults applied, fewer warm-up candles than asked, ... */
  notes: string[];
}

const SNAPSHOT_IS_BINANCE_ONLY = 'the offline snapshot holds Binance data only';

const iso = (ms: number) => new Date(ms).toISOString();

export async function loadHistory(market: MarketData, request: HistoryRequest): Promise<HistorySeries> {
  const timeframe = parseTimeframe(request.timeframe);
  const warmupBars = Math.max(0, Math.floor(request.warmupBars ?? 0));
  checkTime('start', request.start);
  checkTime('end', request.end);
  if (request.start !== undefined && request.end !== undefined && request.start >= request.end) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `start (${iso(request.start)}) must be before end (${iso(request.end)}).`,
      { start: request.start, end: request.end },
    );
  }
  const exchange = knownExchangeId(request.exchange ?? market.defaultExchange);
  if (market.mode === 'offline') {
    const fallback =
      exchange === market.snapshot.exchange
        ? undefined
        : { requestedExchange: exchange, reason: SNAPSHOT_IS_BINANCE_ONLY, outage: false };
    return fromSnapshot(market, request, timeframe, warmupBars, fallback);
  }
  return fromExchange(market, request, timeframe, warmupBars, exchange);
}

function checkTime(name: string, value: number | undefined): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(new Date(value).getTime()))) {
    throw new AppError('INVALID_ARGUMENT', `${name} must be a time in ms since 1970-01-01 UTC.`, {
      [name]: value,
    });
  }
}

/** The period by default: a year (at most DEFAULT_HISTORY_BARS candles) up to `end`. */
function defaultStart(end: number, timeframe: Timeframe): number {
  return end - Math.min(DEFAULT_HISTORY_SPAN_MS, DEFAULT_HISTORY_BARS * timeframeMs(timeframe));
}

function tooMany(bars: number, timeframe: Timeframe): AppError {
  return new AppError(
    'INVALID_ARGUMENT',
    `The period holds about ${bars} ${timeframe} candles (with warm-up); at most ${MAX_HISTORY_BARS} can be ` +
      'loaded at once. Shorten the period between start and end, or use a larger timeframe.',
    { bars, max: MAX_HISTORY_BARS },
  );
}

function outsideData(
  symbol: string,
  timeframe: Timeframe,
  where: string,
  first: number,
  lastClose: number,
  start: number,
  end: number,
): AppError {
  return new AppError(
    'INVALID_ARGUMENT',
    `The period ${iso(start)} to ${iso(end)} reaches outside the data: ${symbol} ${timeframe} candles on ` +
      `${where} cover ${iso(first)} (first open) to ${iso(lastClose)} (last close). ` +
      'Choose start and end inside that range.',
    {
      symbol,
      timeframe,
      available: { first_candle: iso(first), last_close: iso(lastClose) },
      start: iso(start),
      end: iso(end),
    },
  );
}

/** Leading candles of `c` whose open time is < t (bisect). */
function countOpenBefore(c: Candles, t: number): number {
  let lo = 0;
  let hi = c.time.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (c.time[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Leading candles of `c` that close at or before t (bisect; close times grow with open times). */
function countClosedBy(c: Candles, timeframe: Timeframe, t: number): number {
  let lo = 0;
  let hi = c.time.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (candleCloseTime(c.time[mid]!, timeframe) <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

async function fromSnapshot(
  market: MarketData,
  request: HistoryRequest,
  timeframe: Timeframe,
  warmupBars: number,
  fallback: SnapshotFallback | undefined,
  extraNotes: string[] = [],
): Promise<HistorySeries> {
  const snapshot = market.snapshot;
  const symbol = await snapshot.resolveSymbol(request.symbol);
  const all = await snapshot.candles(symbol, timeframe);
  const n = all.time.length;
  const where = 'the offline snapshot (Binance)';
  if (n === 0) {
    throw new AppError(
      'INSUFFICIENT_DATA',
      `The offline snapshot has no ${timeframe} candles of ${symbol}.`,
      {
        symbol,
        timeframe,
      },
    );
  }
  const first = all.time[0]!;
  const lastClose = candleCloseTime(all.time[n - 1]!, timeframe);
  const notes = [...extraNotes];
  const end = request.end ?? lastClose;
  let start = request.start ?? defaultStart(end, timeframe);
  if (request.start === undefined && start < first && end > first) {
    start = first;
    notes.push(`No start was given and the data begins ${iso(first)}: the period starts there.`);
  }
  if (start < first || end > lastClose || end <= first || start >= lastClose) {
    throw outsideData(symbol, timeframe, where, first, lastClose, start, end);
  }
  const from = countOpenBefore(all, start);
  const to = countClosedBy(all, timeframe, end);
  if (to - from < 1) {
    throw new AppError(
      'INSUFFICIENT_DATA',
      `No ${timeframe} candle of ${symbol} opens and closes within ${iso(start)} to ${iso(end)}; ` +
        'widen the period.',
      { symbol, timeframe },
    );
  }
  const warmFrom = Math.max(0, from - warmupBars);
  if (to - warmFrom > MAX_HISTORY_BARS) throw tooMany(to - warmFrom, timeframe);
  if (warmupBars > 0 && from - warmFrom < warmupBars) {
    notes.push(
      `Only ${from - warmFrom} of ${warmupBars} warm-up candles exist before the period: indicators start ` +
        'colder on the first bars.',
    );
  }
  const candles = sliceCandles(all, warmFrom, to);
  return {
    symbol,
    exchange: snapshot.exchange,
    timeframe,
    candles,
    source: 'offline',
    asOf: candleCloseTime(candles.time[candles.time.length - 1]!, timeframe),
    fetchedAt: Date.now(),
    ...(fallback && { fallback }),
    warmup: from - warmFrom,
    period: { start, end },
    notes,
  };
}

async function fromExchange(
  market: MarketData,
  request: HistoryRequest,
  timeframe: Timeframe,
  warmupBars: number,
  exchange: string,
): Promise<HistorySeries> {
  const span = timeframeMs(timeframe);
  // The newest chunk first: it says where the data ends (and whether the snapshot stands in).
  const head = await market.getCandles({
    symbol: request.symbol,
    timeframe,
    exchange,
    limit: 1,
    ...(request.end !== undefined && { endTime: request.end }),
  });
  if (head.source === 'offline') {
    const why = head.fallback ? [`Read from the offline snapshot: ${head.fallback.reason}`] : [];
    return fromSnapshot(market, request, timeframe, warmupBars, head.fallback, why);
  }
  const lastClose = head.asOf;
  const end = request.end ?? lastClose;
  // An end inside the still-forming candle is fine; beyond a whole candle after the last close is not.
  if (request.end !== undefined && (request.end > head.fetchedAt || request.end >= lastClose + span)) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `end ${iso(request.end)} is after the data: the last closed ${timeframe} candle of ${head.symbol} on ` +
        `${exchange} closed ${iso(lastClose)}. Choose an end at or before that time.`,
      { symbol: head.symbol, timeframe, last_close: iso(lastClose) },
    );
  }
  const notes: string[] = [];
  const start = request.start ?? defaultStart(end, timeframe);
  const estimate = Math.ceil((end - start) / span) + warmupBars;
  if (estimate > MAX_HISTORY_BARS) throw tooMany(estimate, timeframe);

  // Page backwards: each chunk closes where the previous (newer) one opens.
  const wantFrom = start - warmupBars * span;
  const chunks: Candles[] = [];
  let cursor = end;
  let reachedFirst = false;
  while (cursor > wantFrom) {
    const bars = Math.min(MAX_CANDLE_LIMIT, Math.ceil((cursor - wantFrom) / span) + 1);
    let chunk: CandleSeries;
    try {
      chunk = await market.getCandles({
        symbol: head.symbol,
        timeframe,
        exchange,
        limit: bars,
        endTime: cursor,
      });
    } catch (e) {
      // Nothing closes by the cursor: the market's history begins after it.
      if (isAppError(e) && e.code === 'INSUFFICIENT_DATA') {
        reachedFirst = true;
        break;
      }
      throw e;
    }
    if (chunk.source !== 'exchange') {
      // The exchange failed midway and the snapshot answered: read the whole range from it instead.
      const why = chunk.fallback ? [`Read from the offline snapshot: ${chunk.fallback.reason}`] : [];
      return fromSnapshot(market, request, timeframe, warmupBars, chunk.fallback, why);
    }
    const c = chunk.candles;
    if (c.time.length === 0) {
      reachedFirst = true;
      break;
    }
    chunks.unshift(c);
    const oldest = c.time[0]!;
    if (oldest >= cursor) break; // defensive: no progress
    // A short chunk may be a gap (an exchange outage) or the listing: the next chunk tells.
    cursor = oldest;
  }
  const all = concat(chunks);
  const n = all.time.length;
  if (n === 0) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `${head.symbol} has no ${timeframe} candles on ${exchange} between ${iso(start)} and ${iso(end)}; ` +
        `its last candle closed ${iso(lastClose)}.`,
      { symbol: head.symbol, timeframe },
    );
  }
  const first = all.time[0]!;
  if (reachedFirst && start < first) {
    if (request.start === undefined) {
      notes.push(`No start was given and the data begins ${iso(first)}: the period starts there.`);
    } else {
      throw outsideData(head.symbol, timeframe, exchange, first, lastClose, start, end);
    }
  }
  const periodStart = Math.max(start, reachedFirst ? first : start);
  const from = countOpenBefore(all, periodStart);
  const to = countClosedBy(all, timeframe, end);
  if (to - from < 1) {
    throw new AppError(
      'INSUFFICIENT_DATA',
      `No ${timeframe} candle of ${head.symbol} opens and closes within ${iso(periodStart)} to ${iso(end)} ` +
        `on ${exchange}; widen the period.`,
      { symbol: head.symbol, timeframe },
    );
  }
  const warmFrom = Math.max(0, from - warmupBars);
  if (warmupBars > 0 && from - warmFrom < warmupBars) {
    notes.push(
      `Only ${from - warmFrom} of ${warmupBars} warm-up candles exist before the period: indicators start ` +
        'colder on the first bars.',
    );
  }
  const candles = sliceCandles(all, warmFrom, to);
  return {
    symbol: head.symbol,
    exchange,
    timeframe,
    candles,
    source: 'exchange',
    asOf: candleCloseTime(candles.time[candles.time.length - 1]!, timeframe),
    fetchedAt: head.fetchedAt,
    warmup: from - warmFrom,
    period: { start: periodStart, end },
    notes,
  };
}

/** Chunks oldest first into one series; overlapping or repeated open times are kept once. */
function concat(chunks: Candles[]): Candles {
  if (chunks.length === 1) return chunks[0]!;
  const total = chunks.reduce((s, c) => s + c.time.length, 0);
  const out = allocCandles(total);
  let k = 0;
  let last = -Infinity;
  for (const c of chunks) {
    for (let i = 0; i < c.time.length; i++) {
      const t = c.time[i]!;
      if (t <= last) continue;
      out.time[k] = t;
      out.open[k] = c.open[i]!;
      out.high[k] = c.high[i]!;
      out.low[k] = c.low[i]!;
      out.close[k] = c.close[i]!;
      out.volume[k] = c.volume[i]!;
      last = t;
      k++;
    }
  }
  return sliceCandles(out, 0, k);
}
