import { assertPeriod } from '../indicators/guards.js';
import { allocSeries } from '../indicators/series.js';

/**
 * Donchian channel top: the highest high of the `period` bars BEFORE bar i (bar i excluded).
 *
 * Excluding the current bar is what makes a breakout expressible: `close > donchianHigh(high, 20)` can
 * be true, whereas a channel that includes bar i always contains its close. The value at bar i still
 * uses only closed bars < i, so it is causal.
 *
 * @param high highs, oldest first
 * @param period number of previous bars, integer >= 1
 * @returns a new series of the same length, NaN for the first `period` bars
 */
export function donchianHigh(high: Float64Array, period: number): Float64Array {
  assertPeriod('Donchian period', period);
  return previousExtreme(high, period, 1);
}

/** Donchian channel bottom: the lowest low of the `period` bars before bar i; see `donchianHigh`. */
export function donchianLow(low: Float64Array, period: number): Float64Array {
  assertPeriod('Donchian period', period);
  return previousExtreme(low, period, -1);
}

/** Rolling max (sign 1) or min (sign -1) of `x[i - period .. i - 1]`, O(1) amortised per bar. */
function previousExtreme(x: Float64Array, period: number, sign: 1 | -1): Float64Array {
  const n = x.length;
  const out = allocSeries(n, period);
  // Monotonic deque of bar indices: the window's extreme is always at the head.
  const deque = new Int32Array(n);
  let head = 0;
  let tail = 0;
  for (let i = 1; i < n; i++) {
    const entering = sign * x[i - 1];
    while (tail > head && sign * x[deque[tail - 1]] <= entering) tail--;
    deque[tail++] = i - 1;
    if (deque[head] < i - period) head++;
    if (i >= period) out[i] = x[deque[head]];
  }
  return out;
}
