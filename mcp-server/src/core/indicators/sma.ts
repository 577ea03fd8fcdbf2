import { assertPeriod } from './guards.js';
import { allocSeries } from './series.js';

/** Bars before the first SMA value: `period - 1`. */
export function smaLookback(period: number): number {
  return period - 1;
}

/**
 * Simple moving average: the mean of the last `period` values (TA-Lib `SMA`).
 *
 * @param values input series, oldest first
 * @param period window length, integer >= 1
 * @returns a new series of the same length, NaN for the first `period - 1` bars
 */
export function sma(values: Float64Array, period: number): Float64Array {
  assertPeriod('SMA period', period);
  const n = values.length;
  const lookback = smaLookback(period);
  const out = allocSeries(n, lookback);
  let sum = 0;
  for (let i = 0; i < lookback && i < n; i++) sum += values[i];
  // Running sum, added and subtracted in TA-Lib's order so the results are bit-identical.
  for (let i = lookback; i < n; i++) {
    sum += values[i];
    out[i] = sum / period;
    sum -= values[i - lookback];
  }
  return out;
}
