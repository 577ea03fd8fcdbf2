/**
 * Market scanner detectors: pure functions over one market's closed candles that say what setup is
 * visible on the last candle, why (signals with their values), how strong (0-100) and where it stops
 * being valid. One file per scan type; `scan.ts` runs them, `conditions.ts` aggregates the market.
 */
export { detectBreakouts, donchianBreakout, structureBreaks, DONCHIAN_PERIOD } from './breakouts.js';
export {
  marketConditions,
  median,
  symbolMetrics,
  type MarketConditions,
  type SymbolMetrics,
} from './conditions.js';
export { combineSignals, stillValid } from './hits.js';
export {
  detectInstitutional,
  fairValueGapRetests,
  liquiditySweeps,
  orderBlockRetests,
} from './institutional.js';
export {
  alternatingSwings,
  changesOfCharacter,
  detectReversals,
  exhaustion,
  rsiDivergences,
} from './reversals.js';
export { MIN_SCAN_CANDLES, scanCandles, type CandleScan } from './scan.js';
export { RECENT_BARS, scanSeries, volumeRatio, type ScanSeries } from './series.js';
export { detectVolumeSurge, SURGE_RATIO, volumeSurge } from './volume-surge.js';
export { SCAN_TYPES, type Direction, type ScanHit, type ScanSignal, type ScanType } from './types.js';
