import { assertPeriod, assertSameLength } from './guards.js';
import { allocSeries } from './series.js';

/** Slow stochastic %K and %D, each aligned with the input bars. */
export interface StochasticResult {
  /** Slow %K, 0..100: SMA of the raw %K. */
  k: Float64Array;
  /** Slow %D, 0..100: SMA of the slow %K. */
  d: Float64Array;
}

/** Bars before the first %K / %D value: `(fastK - 1) + (slowK - 1) + (slowD - 1)`. */
export function stochasticLookback(fastK = 14, slowK = 3, slowD = 3): number {
  return fastK - 1 + (slowK - 1) + (slowD - 1);
}

/**
 * Slow stochastic oscillator (TA-Lib `STOCH` with SMA smoothing for both %K and %D).
 *
 * Raw %K = 100 * (close - lowest low) / (highest high - lowest low) over the last `fastK` bars (0 when
 * the range is 0), slow %K = SMA(raw %K, slowK), %D = SMA(slow %K, slowD). As in TA-Lib, %K is NaN
 * until %D exists, so both start on the same bar.
 *
 * @param high highs, oldest first
 * @param low lows, same length
 * @param close closes, same length
 * @param fastK raw %K window, integer >= 1, default 14
 * @param slowK %K smoothing period, integer >= 1, default 3
 * @param slowD %D smoothing period, integer >= 1, default 3
 * @returns new series of the same length, NaN for the first `stochasticLookback(fastK, slowK, slowD)` bars
 */
export function stochastic(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  fastK = 14,
  slowK = 3,
  slowD = 3,
): StochasticResult {
  assertPeriod('Stochastic fastK period', fastK);
  assertPeriod('Stochastic slowK period', slowK);
  assertPeriod('Stochastic slowD period', slowD);
  assertSameLength('Stochastic', high, low, close);
  const n = close.length;
  const lookback = stochasticLookback(fastK, slowK, slowD);
  const result: StochasticResult = { k: allocSeries(n, lookback), d: allocSeries(n, lookback) };
  if (n <= lookback) return result;
  const { k, d } = result;

  const rawK = new Float64Array(n);
  // Monotonic deques of bar indices: the window's highest high / lowest low is always at the head, so
  // the rolling extremes cost O(1) amortised per bar whatever the window length.
  const highs = new Int32Array(n);
  const lows = new Int32Array(n);
  let highsHead = 0;
  let highsTail = 0;
  let lowsHead = 0;
  let lowsTail = 0;
  const firstRawK = fastK - 1;
  const firstK = firstRawK + slowK - 1;
  let kSum = 0;
  let dSum = 0;
  for (let i = 0; i < n; i++) {
    while (highsTail > highsHead && high[highs[highsTail - 1]] <= high[i]) highsTail--;
    highs[highsTail++] = i;
    if (highs[highsHead] <= i - fastK) highsHead++;
    while (lowsTail > lowsHead && low[lows[lowsTail - 1]] >= low[i]) lowsTail--;
    lows[lowsTail++] = i;
    if (lows[lowsHead] <= i - fastK) lowsHead++;
    if (i < firstRawK) continue;

    const lowest = low[lows[lowsHead]];
    // TA-Lib divides by range / 100 rather than multiplying by 100 afterwards; same order, same bits.
    const onePercentOfRange = (high[highs[highsHead]] - lowest) / 100;
    rawK[i] = onePercentOfRange !== 0 ? (close[i] - lowest) / onePercentOfRange : 0;

    // Running-sum SMAs in TA-Lib's order. Slow %K is kept from bar firstK because %D averages it;
    // its values before %D exists are blanked again at the end.
    kSum += rawK[i];
    if (i < firstK) continue;
    k[i] = kSum / slowK;
    kSum -= rawK[i - slowK + 1];
    dSum += k[i];
    if (i < lookback) continue;
    d[i] = dSum / slowD;
    dSum -= k[i - slowD + 1];
  }
  k.fill(NaN, 0, lookback);
  return result;
}
