import { assertPeriod } from './guards.js';
import { allocSeries } from './series.js';

/** Bars before the first EMA value: `period - 1`. */
export function emaLookback(period: number): number {
  return period - 1;
}

/**
 * Exponential moving average with smoothing k = 2 / (period + 1), seeded with the SMA of the first
 * `period` values (TA-Lib `EMA` in its default compatibility mode).
 *
 * @param values input series, oldest first
 * @param period integer >= 1
 * @returns a new series of the same length, NaN for the first `period - 1` bars
 */
export function ema(values: Float64Array, period: number): Float64Array {
  assertPeriod('EMA period', period);
  const n = values.length;
  const lookback = emaLookback(period);
  const out = allocSeries(n, lookback);
  if (n <= lookback) return out;
  let sum = 0;
  for (let i = 0; i < period; i++) sum += values[i];
  let average = sum / period;
  out[lookback] = average;
  const k = 2 / (period + 1);
  for (let i = period; i < n; i++) {
    average = (values[i] - average) * k + average;
    out[i] = average;
  }
  return out;
}
