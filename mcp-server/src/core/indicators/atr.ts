import { assertPeriod, assertSameLength } from './guards.js';
import { allocSeries } from './series.js';
import { trueRange } from './true-range.js';

/** Bars before the first ATR value: `period` (bar 0 has no previous close, so no true range). */
export function atrLookback(period = 14): number {
  return period;
}

/**
 * Average True Range with Wilder's smoothing (TA-Lib `ATR`): the first value, at bar `period`, is the
 * mean true range of bars 1..period; then atr = (atr * (period - 1) + tr) / period.
 *
 * @param high highs, oldest first
 * @param low lows, same length
 * @param close closes, same length
 * @param period integer >= 1, default 14
 * @returns a new series of the same length, NaN for the first `period` bars
 */
export function atr(high: Float64Array, low: Float64Array, close: Float64Array, period = 14): Float64Array {
  assertPeriod('ATR period', period);
  assertSameLength('ATR', high, low, close);
  const n = close.length;
  const out = allocSeries(n, atrLookback(period));
  if (n <= period) return out;
  let sum = 0;
  for (let i = 1; i <= period; i++) sum += trueRange(high[i], low[i], close[i - 1]);
  let average = sum / period;
  out[period] = average;
  for (let i = period + 1; i < n; i++) {
    // Multiply, add, then divide, in TA-Lib's order, so the results are bit-identical.
    average *= period - 1;
    average += trueRange(high[i], low[i], close[i - 1]);
    average /= period;
    out[i] = average;
  }
  return out;
}
