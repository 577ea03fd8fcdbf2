/**
 * The analysis capability: fetch closed candles (and, when asked, a higher timeframe and a comparison
 * symbol), build the report in core, and attach provenance. Reports are memoised per candle series
 * object, which the market cache keeps for its TTL, so repeated calls on unchanged data are cheap
 * while a newly closed candle always produces a fresh report.
 */
import { buildReport, MIN_REPORT_CANDLES, type MarketReport } from '../core/report/index.js';
import type { CandleSeries, MarketData, Timeframe } from '../market/index.js';
import { AppError } from '../errors.js';
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
}

export interface Provenance {
  data_source: 'exchange' | 'offline';
  exchange: string;
  as_of: string;
  data_age_ms: number;
  candles: number;
  first_candle: string;
}

export type AnalysisResult = { symbol: string; timeframe: string } & Provenance &
  MarketReport & { notes: string[]; disclaimer: string };

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

export function provenance(series: CandleSeries, now: number): Provenance {
  const n = series.candles.time.length;
  return {
    data_source: series.source,
    exchange: series.exchange,
    as_of: new Date(series.asOf).toISOString(),
    data_age_ms: Math.max(0, now - series.asOf),
    candles: n,
    first_candle: new Date(series.candles.time[0]!).toISOString(),
  };
}

export class AnalysisService {
  private readonly memo = new WeakMap<CandleSeries, Map<string, { report: MarketReport; notes: string[] }>>();

  constructor(
    private readonly market: MarketData,
    private readonly now: () => number = Date.now,
  ) {}

  async analyze(req: AnalyzeRequest): Promise<AnalysisResult> {
    const series = await this.market.getCandles({
      symbol: req.symbol,
      timeframe: req.timeframe,
      limit: req.limit,
      exchange: req.exchange,
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
    const higher =
      higherTf && higherTf !== 'none' && higherTf !== req.timeframe
        ? await this.optionalSeries(series, higherTf, notes)
        : undefined;
    const comparison = req.comparison_symbol
      ? await this.market.getCandles({
          symbol: req.comparison_symbol,
          timeframe: req.timeframe,
          limit: req.limit,
          exchange: req.exchange,
        })
      : undefined;

    const key = `${higher ? `${higherTf}@${higher.asOf}` : '-'}|${comparison ? `${comparison.symbol}@${comparison.asOf}` : '-'}`;
    let perSeries = this.memo.get(series);
    if (!perSeries) this.memo.set(series, (perSeries = new Map()));
    let entry = perSeries.get(key);
    if (!entry) {
      const report = buildReport(series.candles, {
        ...(higher ? { higher: { timeframe: higher.timeframe, candles: higher.candles } } : {}),
        ...(comparison ? { comparison: { symbol: comparison.symbol, candles: comparison.candles } } : {}),
      });
      if (comparison && report.comparison === null) {
        notes.push(
          `${comparison.symbol} shares too few candle times with ${series.symbol} for a comparison.`,
        );
      }
      entry = { report, notes };
      perSeries.set(key, entry);
    }
    const now = this.now();
    return {
      symbol: series.symbol,
      timeframe: series.timeframe,
      ...provenance(series, now),
      ...entry.report,
      notes: series.source === 'offline' ? [...entry.notes, offlineNote(series, now)] : entry.notes,
      disclaimer: DISCLAIMER,
    };
  }

  /** The higher timeframe adds confluence; when it cannot be served the analysis goes on without it. */
  private async optionalSeries(
    base: CandleSeries,
    timeframe: Timeframe,
    notes: string[],
  ): Promise<CandleSeries | undefined> {
    try {
      return await this.market.getCandles({
        symbol: base.symbol,
        timeframe,
        limit: 300,
        exchange: base.exchange,
      });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      log.debug('higher timeframe unavailable', { timeframe, message });
      notes.push(`No ${timeframe} confluence: ${message}`);
      return undefined;
    }
  }
}

function offlineNote(series: CandleSeries, now: number): string {
  return (
    `Offline data: the bundled Binance snapshot ends ${new Date(series.asOf).toISOString()} ` +
    `(${formatAge(now - series.asOf)} ago); use DATA_SOURCE=auto or exchange with internet access for live candles.`
  );
}
