import { assertPeriod } from './guards.js';
import { isNearZero } from './near-zero.js';
import { allocSeries } from './series.js';

/** Bars before the first RSI value: `period` (one bar is used up by the first price change). */
export function rsiLookback(period = 14): number {
  return period;
}

/**
 * Wilder's Relative Strength Index, 0..100 (TA-Lib `RSI`).
 *
 * The average gain and loss are seeded with the plain mean of the first `period` price changes, then
 * smoothed as avg = (avg * (period - 1) + change) / period. Where gain + loss is (near) zero, as in a
 * flat series, the value is 0, as TA-Lib outputs.
 *
 * @param close closing prices, oldest first
 * @param period integer >= 1 (TA-Lib accepts >= 2), default 14
 * @returns a new series of the same length, NaN for the first `period` bars
 */
export function rsi(close: Float64Array, period = 14): Float64Array {
  assertPeriod('RSI period', period);
  const n = close.length;
  const out = allocSeries(n, rsiLookback(period));
  if (n <= period) return out;
  let gain = 0;
  let loss = 0;
  for (let i = 1; i <= period; i++) {
    const change = close[i] - close[i - 1];
    if (change < 0) loss -= change;
    else gain += change;
  }
  gain /= period;
  loss /= period;
  out[period] = strength(gain, loss);
  for (let i = period + 1; i < n; i++) {
    const change = close[i] - close[i - 1];
    // Multiply, add, then divide, in TA-Lib's order, so the results are bit-identical.
    gain *= period - 1;
    loss *= period - 1;
    if (change < 0) loss -= change;
    else gain += change;
    gain /= period;
    loss /= period;
    out[i] = strength(gain, loss);
  }
  return out;
}

/** 100 * gain / (gain + loss): the same value as 100 - 100 / (1 + RS), without the extra division. */
function strength(gain: number, loss: number): number {
  const total = gain + loss;
  return isNearZero(total) ? 0 : 100 * (gain / total);
}
