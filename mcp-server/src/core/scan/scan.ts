/**
 * `scanCandles`: every requested detector over one market's closed candles, evaluated at one bar (the
 * last by default), plus that market's contribution to the market conditions. Pure and causal: the
 * answer for bar t depends on bars 0..t only, so appending candles never changes it.
 */
import type { Candles } from '../candles.js';
import { detectBreakouts } from './breakouts.js';
import { symbolMetrics, type SymbolMetrics } from './conditions.js';
import { detectInstitutional } from './institutional.js';
import { detectReversals } from './reversals.js';
import { scanSeries, type ScanSeries } from './series.js';
import type { ScanHit, ScanType } from './types.js';
import { detectVolumeSurge } from './volume-surge.js';

/** Fewer closed candles than this are too short to scan (EMA 50, 50-candle levels, swings). */
export const MIN_SCAN_CANDLES = 60;

const DETECTORS: Record<ScanType, (s: ScanSeries, t: number) => ScanHit[]> = {
  breakouts: detectBreakouts,
  reversals: detectReversals,
  institutional: detectInstitutional,
  volume_surge: detectVolumeSurge,
};

export interface CandleScan {
  hits: ScanHit[];
  metrics: SymbolMetrics;
}

/**
 * @param types detectors to run
 * @param at bar to evaluate (default the last); only bars 0..at are read
 */
export function scanCandles(c: Candles, types: readonly ScanType[], at = c.close.length - 1): CandleScan {
  const n = c.close.length;
  if (n < MIN_SCAN_CANDLES)
    throw new RangeError(`a scan needs at least ${MIN_SCAN_CANDLES} candles, got ${n}`);
  if (!Number.isInteger(at) || at < MIN_SCAN_CANDLES - 1 || at >= n) {
    throw new RangeError(`scan bar must be an integer from ${MIN_SCAN_CANDLES - 1} to ${n - 1}, got ${at}`);
  }
  const s = scanSeries(c);
  const hits: ScanHit[] = [];
  for (const type of types) hits.push(...DETECTORS[type](s, at));
  return { hits, metrics: symbolMetrics(s, at) };
}
