/**
 * The analysis capability: fetch closed candles (and, when asked, a higher timeframe and a comparison
 * symbol), build the report in core, and attach provenance to every series used.
 *
 * Honesty rules enforced here: secondary series must come from the same kind of source as the main
 * one (never live candles mixed with the months-old snapshot), and higher-timeframe candles are cut
 * at the main series' last close so confluence never sees later data. Reports are cached (Redis when
 * configured, shared by replicas) for 300 s under a key naming every input series by its last close, so
 * repeated calls are cheap and a newly closed candle always produces a fresh report. Notes depend on the
 * request and are built on every call. With `save`, the answer is also written to the analysis archive.
 */
import { sliceCandles } from '../core/candles.js';
import {
  buildReport,
  MIN_HIGHER_CANDLES,
  MIN_REPORT_CANDLES,
  type MarketReport,
} from '../core/report/index.js';
import {
  candleCloseTime,
  DAY_MS,
  timeframeMs,
  type CandleSeries,
  type MarketData,
  type Timeframe,
} from '../market/index.js';
import { MemoryCache, type CacheStore } from '../market/cache.js';
import type { AnalysisArchive } from '../store/types.js';
import { AppError, isAppError } from '../errors.js';
import { log } from '../logger.js';
import { formatAge } from './format-age.js';

export const DISCLAIMER =
  'Analysis of historical market data for information only; not financial advice. Markets are risky.';

export interface AnalyzeRequest {
  symbol: string;
  timeframe: Timeframe;
  exchange?: string | undefined;
  limit: number;
  comparison_symbol?: string | undefined;
  higher_timeframe: Timeframe | 'auto' | 'none';
  /**
   * Analyse the candles closing by this time (ms) instead of the latest: a scan of the offline snapshot
   * happens at one past moment, and its candidates are analysed as of that moment.
   */
  end_time?: number | undefined;
}

export interface Provenance {
  data_source: 'exchange' | 'offline';
  exchange: string;
  as_of: string;
  data_age_ms: number;
  candles: number;
  first_candle: string;
}

interface SeriesSource {
  data_source: 'exchange' | 'offline';
  exchange: string;
  as_of: string;
}

export type AnalysisResult = { symbol: string; timeframe: string } & Provenance &
  Omit<MarketReport, 'confluence' | 'comparison'> & {
    confluence: (SeriesSource & NonNullable<MarketReport['confluence']>) | null;
    comparison: (SeriesSource & NonNullable<MarketReport['comparison']>) | null;
    /** Where the answer was archived; null when not asked to, or when the archive failed (see notes). */
    archive: { id: string; store: AnalysisArchive['backend'] } | null;
    notes: string[];
    disclaimer: string;
  };

/** The next timeframe up, used for confluence when `higher_timeframe` is `auto`. */
export const HIGHER_TIMEFRAME: Partial<Record<Timeframe, Timeframe>> = {
  '1m': '15m',
  '3m': '15m',
  '5m': '1h',
  '15m': '1h',
  '30m': '4h',
  '1h': '4h',
  '2h': '1d',
  '4h': '1d',
  '6h': '1d',
  '8h': '1d',
  '12h': '1d',
  '1d': '1w',
  '3d': '1w',
  '1w': '1M',
};

const HIGHER_LIMIT = 300;

export function provenance(series: CandleSeries, now: number): Provenance {
  return {
    ...seriesSource(series),
    data_age_ms: Math.max(0, now - series.asOf),
    candles: series.candles.time.length,
    first_candle: new Date(series.candles.time[0]!).toISOString(),
  };
}

const seriesSource = (s: CandleSeries): SeriesSource => ({
  data_source: s.source,
  exchange: s.exchange,
  as_of: new Date(s.asOf).toISOString(),
});

/** How long a computed report is reused, as in the original design (its key changes with every close). */
export const REPORT_TTL_MS = 300_000;

export interface AnalysisServiceOptions {
  /** Report cache; default an in-process one. */
  cache?: CacheStore;
  /** Where `save` writes answers; without it `save` is ignored. */
  archive?: AnalysisArchive;
  now?: () => number;
}

export class AnalysisService {
  private readonly cache: CacheStore;
  private readonly archive: AnalysisArchive | undefined;
  private readonly now: () => number;

  constructor(
    private readonly market: MarketData,
    options: AnalysisServiceOptions = {},
  ) {
    this.cache = options.cache ?? new MemoryCache({ maxEntries: 200 });
    this.archive = options.archive;
    this.now = options.now ?? Date.now;
  }

  async analyze(req: AnalyzeRequest, options: { save?: boolean } = {}): Promise<AnalysisResult> {
    const series = await this.market.getCandles({
      symbol: req.symbol,
      timeframe: req.timeframe,
      limit: req.limit,
      exchange: req.exchange,
      endTime: req.end_time,
    });
    const n = series.candles.time.length;
    if (n < MIN_REPORT_CANDLES) {
      throw new AppError(
        'INSUFFICIENT_DATA',
        `${series.symbol} has only ${n} closed ${req.timeframe} candles on ${series.exchange} (${series.source}); ` +
          `analysis needs at least ${MIN_REPORT_CANDLES}. Try a lower timeframe.`,
        { candles: n },
      );
    }
    const notes: string[] = [];
    const higherTf = req.higher_timeframe === 'auto' ? HIGHER_TIMEFRAME[req.timeframe] : req.higher_timeframe;
    const [higher, comparison] = await Promise.all([
      higherTf && higherTf !== 'none' ? this.higherSeries(req, series, higherTf, notes) : undefined,
      req.comparison_symbol ? this.comparisonSeries(req, series, req.comparison_symbol) : undefined,
    ]);

    const key = reportKey(series, higher, comparison);
    const report = await this.cache.getOrLoad(key, REPORT_TTL_MS, async () =>
      buildReport(series.candles, {
        intraday: timeframeMs(series.timeframe) < DAY_MS,
        ...(higher ? { higher: { timeframe: higher.timeframe, candles: higher.candles } } : {}),
        ...(comparison
          ? {
              comparison: {
                symbol: comparison.symbol,
                candles: comparison.candles,
                closeTime: (t: number) => candleCloseTime(t, series.timeframe),
              },
            }
          : {}),
      }),
    );
    if (comparison && report.comparison === null) {
      notes.push(`${comparison.symbol} shares too few candle times with ${series.symbol} for a comparison.`);
    }
    const now = this.now();
    notes.push(...snapshotNotes(series, this.market.mode, now));
    const result: AnalysisResult = {
      symbol: series.symbol,
      timeframe: series.timeframe,
      ...provenance(series, now),
      ...report,
      confluence: report.confluence && higher ? { ...seriesSource(higher), ...report.confluence } : null,
      comparison:
        report.comparison && comparison ? { ...seriesSource(comparison), ...report.comparison } : null,
      archive: null,
      notes,
      disclaimer: DISCLAIMER,
    };
    if (options.save && this.archive) result.archive = await this.save(key, result, this.archive);
    return result;
  }

  /**
   * Archiving is a side effect: when the archive is down the analysis is still answered, with a note.
   * A report is archived once: repeated calls on the same candles get the first entry's id, so the
   * archive counts each signal once when its accuracy is reviewed.
   */
  private async save(
    key: string,
    result: AnalysisResult,
    archive: AnalysisArchive,
  ): Promise<AnalysisResult['archive']> {
    try {
      const id = await this.cache.getOrLoad(`archived|${archive.backend}|${key}`, REPORT_TTL_MS, () =>
        archive.save({
          symbol: result.symbol,
          exchange: result.exchange,
          timeframe: result.timeframe,
          timestamp: new Date(result.as_of),
          confidence: result.recommendation.confidence,
          action: result.recommendation.action,
          report: { ...result, archive: null },
        }),
      );
      return { id, store: archive.backend };
    } catch (err) {
      if (!isAppError(err)) log.error('archive write failed', { error: err });
      result.notes.push(
        `Not archived: ${isAppError(err) ? err.message : 'the archive write failed unexpectedly'}`,
      );
      return null;
    }
  }

  /**
   * Higher-timeframe candles closed by the main series' last close. Confluence is optional: when the
   * series cannot be served, or not from the same kind of source, the analysis goes on without it.
   */
  private async higherSeries(
    req: AnalyzeRequest,
    base: CandleSeries,
    timeframe: Timeframe,
    notes: string[],
  ): Promise<CandleSeries | undefined> {
    let series: CandleSeries;
    try {
      series = await this.market.getCandles({
        symbol: base.symbol,
        timeframe,
        limit: HIGHER_LIMIT,
        exchange: req.exchange,
        endTime: base.asOf,
      });
    } catch (err) {
      if (!isAppError(err)) log.error('higher timeframe failed', { timeframe, error: err });
      notes.push(
        `No ${timeframe} confluence: ${isAppError(err) ? err.message : 'the candles could not be loaded'}`,
      );
      return undefined;
    }
    if (series.source !== base.source) {
      notes.push(
        `No ${timeframe} confluence: its candles came from ${series.source} data, the main series from ${base.source}.`,
      );
      return undefined;
    }
    // endTime asks for this already; checked here too because look-ahead must not depend on a cache.
    let end = series.candles.time.length;
    while (end > 0 && candleCloseTime(series.candles.time[end - 1]!, timeframe) > base.asOf) end--;
    if (end < MIN_HIGHER_CANDLES) {
      notes.push(
        `No ${timeframe} confluence: only ${end} closed ${timeframe} candles, at least ${MIN_HIGHER_CANDLES} needed.`,
      );
      return undefined;
    }
    const candles =
      end === series.candles.time.length ? series.candles : sliceCandles(series.candles, 0, end);
    return end === series.candles.time.length
      ? series
      : { ...series, candles, asOf: candleCloseTime(candles.time[end - 1]!, timeframe) };
  }

  /** The comparison symbol was asked for explicitly, so its failures are errors, not notes. */
  private async comparisonSeries(
    req: AnalyzeRequest,
    base: CandleSeries,
    symbol: string,
  ): Promise<CandleSeries> {
    // Aligned to the main series' last close, so both cover the same window (the snapshot's series end
    // on different days) and the comparison never reads past the analysed candles.
    const series = await this.market.getCandles({
      symbol,
      timeframe: req.timeframe,
      limit: req.limit,
      exchange: req.exchange,
      endTime: base.asOf,
    });
    if (series.source !== base.source) {
      throw new AppError(
        'DATA_UNAVAILABLE',
        `${series.symbol} came from ${series.source} data while ${base.symbol} came from ${base.source}; ` +
          'a comparison across sources would be meaningless. Try again, or drop comparison_symbol.',
      );
    }
    return series;
  }
}

/** Names every input of a report: each series by source, exchange, symbol, timeframe, extent and last close. */
function reportKey(main: CandleSeries, higher?: CandleSeries, comparison?: CandleSeries): string {
  const id = (s: CandleSeries | undefined) =>
    s
      ? `${s.source}:${s.exchange}:${s.symbol}:${s.timeframe}:${s.candles.time.length}:${s.candles.time[0]}:${s.asOf}`
      : '-';
  // Bump the version whenever buildReport's output changes: the cache is shared through Redis across
  // deploys, and an old server must not serve a new one's shape (or the reverse).
  return `report:v1|${id(main)}|${id(higher)}|${id(comparison)}`;
}

/** Why the answer comes from the bundled snapshot and how old it is; nothing for live data. */
function snapshotNotes(series: CandleSeries, mode: MarketData['mode'], now: number): string[] {
  if (series.source !== 'offline') return [];
  const age = `the last candle used closed ${new Date(series.asOf).toISOString()} (${formatAge(now - series.asOf)} ago)`;
  if (mode === 'offline') {
    const other = series.fallback ? ` ${series.fallback.requestedExchange} was not contacted.` : '';
    return [
      `Offline mode: these are Binance candles from the bundled snapshot; ${age}.${other} ` +
        'Set DATA_SOURCE=auto or exchange for live candles.',
    ];
  }
  const requested = series.fallback?.requestedExchange ?? series.exchange;
  const reason = series.fallback ? ` (${series.fallback.reason})` : '';
  return [
    `${requested} could not be reached${reason}, so these are Binance candles from the bundled snapshot; ` +
      `${age}. Live data returns once the exchange answers again.`,
  ];
}
