/**
 * Trade ideas across the market: the scanner finds the markets with the strongest setups, and each of
 * the best candidates gets the full analyze_crypto analysis (AnalysisService, so the same candles,
 * report, recommendation, cache and defaults as the tool). Only BUY and SELL recommendations at or
 * above the confidence threshold become ideas, with the recommendation's entry, stop, targets,
 * risk/reward and reasons unchanged, plus the scan signals that surfaced the market.
 *
 * `market_cap_range` is a liquidity tier by 24h quote volume in USD (no market-cap source is bundled):
 * large >= 100M, mid 10M-100M, small < 10M, on top of the `min_volume_usd` floor.
 */
import { AppError, isAppError } from '../errors.js';
import { timeframeMs, type Timeframe } from '../market/index.js';
import type { AnalysisResult, AnalysisService } from './analysis.js';
import { DISCLAIMER } from './analysis.js';
import type { ScanCall, ScannerService, ScanResultHit } from './scanner.js';

export type LiquidityTier = 'large' | 'mid' | 'small';
export type MarketCapRange = LiquidityTier | 'all';

/** 24h quote volume bounds in USD: min inclusive, max exclusive. */
export const LIQUIDITY_TIERS: Record<LiquidityTier, { min: number; max?: number }> = {
  large: { min: 100_000_000 },
  mid: { min: 10_000_000, max: 100_000_000 },
  small: { min: 0, max: 10_000_000 },
};

export function liquidityTier(volumeUsd: number | null): LiquidityTier | null {
  if (volumeUsd === null) return null;
  if (volumeUsd >= LIQUIDITY_TIERS.large.min) return 'large';
  return volumeUsd >= LIQUIDITY_TIERS.mid.min ? 'mid' : 'small';
}

/** analyze_crypto's defaults (limit, higher timeframe), so an idea is exactly what that tool answers. */
export const ANALYSIS_DEFAULTS = { limit: 500, higher_timeframe: 'auto' } as const;
/** Candidates analysed at most, and at once (each is one or two candle requests live). */
const MAX_CANDIDATES = 60;
const ANALYSIS_CONCURRENCY = 4;

export interface OpportunitiesRequest {
  timeframe: Timeframe;
  confidence_threshold: number;
  max_results: number;
  market_cap_range: MarketCapRange;
  min_volume_usd: number;
  quote: string;
  exchange?: string | undefined;
}

/**
 * How many of the scan's best markets get a full analysis for `maxResults` ideas: most analyses end in
 * HOLD (offline, about three in four), so six per wanted idea, 20 to 60.
 */
export const candidateCount = (maxResults: number): number =>
  Math.min(MAX_CANDIDATES, Math.max(20, 6 * maxResults));

export class OpportunitiesService {
  constructor(
    private readonly scanner: ScannerService,
    private readonly analysis: AnalysisService,
  ) {}

  async detect(req: OpportunitiesRequest, call: ScanCall = {}) {
    const started = performance.now();
    const tier = req.market_cap_range === 'all' ? { min: 0 } : LIQUIDITY_TIERS[req.market_cap_range];
    const minVolume = Math.max(tier.min, req.min_volume_usd);
    const k = candidateCount(req.max_results);
    let scanTotal = 0;
    const scan = await this.scanner.scan(
      {
        scan_type: 'all',
        timeframe: req.timeframe,
        min_volume_usd: minVolume,
        max_volume_usd: tier.max,
        max_results: Number.MAX_SAFE_INTEGER,
        quote: req.quote,
        exchange: req.exchange,
        include_stablecoins: false,
      },
      {
        signal: call.signal,
        progress: call.progress
          ? (done, total, message) => {
              scanTotal = total;
              call.progress!(done, total + k, message);
            }
          : undefined,
      },
    );
    scanTotal ||= scan.universe.considered;

    // Markets ranked by their strongest hit (hits arrive strongest first), then by how many they have.
    const bySymbol = new Map<string, ScanResultHit[]>();
    for (const h of scan.hits) {
      const list = bySymbol.get(h.symbol);
      if (list) list.push(h);
      else bySymbol.set(h.symbol, [h]);
    }
    const candidates = [...bySymbol]
      .map(([symbol, hits]) => ({ symbol, hits }))
      .sort(
        (a, b) =>
          b.hits[0]!.strength - a.hits[0]!.strength ||
          b.hits.length - a.hits.length ||
          a.symbol.localeCompare(b.symbol),
      )
      .slice(0, k);

    const offline = scan.data_source === 'offline';
    const failures: string[] = [];
    let analysed = 0;
    const reports = await mapLimit(candidates, ANALYSIS_CONCURRENCY, async (cand) => {
      if (call.signal?.aborted) return null;
      try {
        return await this.analysis.analyze(
          {
            symbol: cand.symbol,
            timeframe: req.timeframe,
            exchange: req.exchange,
            ...ANALYSIS_DEFAULTS,
            // Offline the scan is of one past moment; analyse each candidate as of that moment too.
            ...(offline && { end_time: Date.parse(cand.hits[0]!.as_of) }),
          },
          { save: false },
        );
      } catch (e) {
        if (!isAppError(e)) throw e;
        failures.push(`${cand.symbol}: ${e.message}`);
        return null;
      } finally {
        analysed++;
        call.progress?.(
          scanTotal + analysed,
          scanTotal + k,
          `analysed ${analysed} of ${candidates.length} candidates`,
        );
      }
    });

    if (call.signal?.aborted)
      throw new AppError('DATA_UNAVAILABLE', 'The search was cancelled before it finished.');

    const counts = { buy: 0, sell: 0, hold: 0, below_threshold: 0 };
    const qualified: { cand: (typeof candidates)[number]; report: AnalysisResult }[] = [];
    const otherTime: string[] = [];
    const tfMs = timeframeMs(req.timeframe);
    candidates.forEach((cand, i) => {
      const report = reports[i];
      if (!report) return;
      // The scan's signals must describe the analysed candles: a candle may close between the two (live),
      // but an analysis of much later candles (offline: the snapshot's large caps run a year past the
      // scan's window) would pair a recommendation with signals it never saw.
      if (Math.abs(Date.parse(report.as_of) - Date.parse(cand.hits[0]!.as_of)) > tfMs) {
        otherTime.push(`${cand.symbol} (to ${report.as_of})`);
        return;
      }
      const rec = report.recommendation;
      if (rec.action === 'HOLD') {
        counts.hold++;
        return;
      }
      if (rec.action === 'BUY') counts.buy++;
      else counts.sell++;
      if (rec.confidence < req.confidence_threshold) counts.below_threshold++;
      else qualified.push({ cand, report });
    });
    qualified.sort(
      (a, b) =>
        b.report.recommendation.confidence - a.report.recommendation.confidence ||
        (b.report.recommendation.risk_reward ?? 0) - (a.report.recommendation.risk_reward ?? 0) ||
        a.cand.symbol.localeCompare(b.cand.symbol),
    );
    const chosen = qualified.slice(0, req.max_results);

    const notes = [...scan.notes.filter((n) => !n.includes('strongest are listed'))];
    if (req.market_cap_range !== 'all') {
      notes.push(
        'market_cap_range is a liquidity tier by 24h quote volume in USD (large >= 100M, mid 10M-100M, ' +
          'small < 10M), as no market-cap data is bundled.',
      );
    }
    const reportsOk = reports.filter((r) => r !== null).length - otherTime.length;
    notes.push(
      `${reportsOk} of the scan's ${bySymbol.size} markets with hits (the strongest) were analysed as analyze_crypto ` +
        `would (${ANALYSIS_DEFAULTS.limit} candles, higher timeframe ${ANALYSIS_DEFAULTS.higher_timeframe}): ` +
        `${counts.buy} BUY, ${counts.sell} SELL, ${counts.hold} HOLD; ${counts.below_threshold} BUY/SELL below ` +
        `confidence ${req.confidence_threshold}.`,
    );
    if (failures.length > 0) {
      notes.push(`${failures.length} candidates could not be analysed: ${failures.slice(0, 5).join('; ')}.`);
    }
    if (otherTime.length > 0) {
      notes.push(
        `Left out ${otherTime.join(', ')}: analyze_crypto analyses their latest candles, which end more than a ` +
          `candle after the scan's (${scan.as_of}), so the scan signals would not describe them.`,
      );
    }
    if (chosen.length === 0) {
      notes.push(
        reportsOk === 0
          ? 'No candidate could be analysed, so there are no ideas.'
          : `No BUY or SELL at confidence ${req.confidence_threshold} or more; lower confidence_threshold or ` +
              'widen market_cap_range for more ideas.',
      );
    }

    return {
      timeframe: req.timeframe,
      data_source: scan.data_source,
      exchange: scan.exchange,
      as_of: scan.as_of,
      data_age_ms: scan.data_age_ms,
      criteria: {
        confidence_threshold: req.confidence_threshold,
        market_cap_range: req.market_cap_range,
        min_volume_usd: minVolume,
        max_volume_usd: tier.max ?? null,
        quote: req.quote.toUpperCase(),
      },
      scan: {
        considered: scan.universe.considered,
        scanned: scan.universe.scanned,
        skipped: scan.universe.skipped,
        skipped_reasons: scan.universe.skipped_reasons,
        hits: scan.hits_total,
        markets_with_hits: bySymbol.size,
        candidates_analysed: reportsOk,
      },
      recommendations: counts,
      market_conditions: scan.market_conditions,
      ideas: chosen.map(({ cand, report }, i) => idea(i + 1, cand.hits, report)),
      duration_ms: Math.round(performance.now() - started),
      notes,
      disclaimer: DISCLAIMER,
    };
  }
}

function idea(rank: number, hits: ScanResultHit[], r: AnalysisResult) {
  const rec = r.recommendation;
  const side = rec.action === 'BUY' ? 'bullish' : 'bearish';
  const volume = hits[0]!.volume_24h_usd;
  return {
    rank,
    symbol: r.symbol,
    direction: rec.action === 'BUY' ? ('long' as const) : ('short' as const),
    action: rec.action as 'BUY' | 'SELL',
    confidence: rec.confidence,
    score: rec.score,
    entry: rec.entry!,
    stop_loss: rec.stop_loss!,
    stop_basis: rec.stop_basis,
    stop_reference: rec.stop_reference,
    targets: rec.targets,
    risk_reward: rec.risk_reward!,
    rationale: rec.reasons,
    supporting_indicators: {
      trend: r.trend.direction,
      trend_strength: r.trend.strength,
      ema_alignment: r.trend.ema_alignment,
      adx: r.trend.adx,
      rsi: r.indicators.rsi,
      macd_histogram: r.indicators.macd.histogram,
      stochastic_k: r.indicators.stochastic.k,
      rsi_divergence: r.indicators.rsi_divergence,
      obv_slope: r.indicators.obv_slope,
      atr_pct: r.volatility.atr_pct,
      volatility_regime: r.volatility.regime,
    },
    higher_timeframe: r.confluence
      ? { timeframe: r.confluence.timeframe, trend: r.confluence.trend, agrees: r.confluence.agrees }
      : null,
    scan_signals: hits.map((h) => ({
      scan_type: h.scan_type,
      direction: h.direction,
      strength: h.strength,
      signal_at: h.signal_at,
      invalidation: h.invalidation.price,
      summary: h.signals[0]!.detail,
    })),
    scan_agrees: hits.some((h) => h.direction === side),
    liquidity: { tier: liquidityTier(volume), volume_24h_usd: volume },
    data_source: r.data_source,
    exchange: r.exchange,
    as_of: r.as_of,
    data_age_ms: r.data_age_ms,
    candles: r.candles,
    first_candle: r.first_candle,
  };
}

/** `fn` over `items` with at most `limit` in flight; results in input order. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export type OpportunitiesResult = Awaited<ReturnType<OpportunitiesService['detect']>>;
