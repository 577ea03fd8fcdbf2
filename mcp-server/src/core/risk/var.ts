/**
 * Value at Risk and Conditional VaR (expected shortfall), historical and Gaussian.
 *
 * Every result is a positive loss as a fraction of value, per period of the return series (0.031 = a 3.1 %
 * loss over one candle of that timeframe), floored at 0: a window where even the worst quantile is a gain
 * reports no loss, never a negative one. Historical figures make no distributional assumption and capture
 * crypto's fat tails; parametric ones assume normal returns and so understate the tail, which is why both
 * are reported side by side.
 */
import { normalPdf, normalQuantile, quantile } from './stats.js';

/**
 * Fewest returns for a meaningful historical VaR. At 95 % the quantile sits among the worst 5 %: with
 * 30 returns that is the 1.5th worst observation, and any fewer leaves the tail to one or two points
 * (at 99 % even 30 only interpolates between the two worst). Callers should refuse or flag smaller windows.
 */
export const MIN_VAR_OBSERVATIONS = 30;

function assertConfidence(confidence: number): void {
  if (!(confidence > 0 && confidence < 1)) {
    throw new RangeError(`VaR confidence must be in (0, 1), got ${confidence}`);
  }
}

/** A sorted (ascending) copy of `x`; typed-array sort is numeric, unlike `Array.prototype.sort`. */
export function sortedCopy(x: ArrayLike<number>): Float64Array {
  return Float64Array.from(x).sort();
}

/** `historicalVar` on returns already sorted ascending, so several confidences share one sort. */
export function historicalVarSorted(sortedReturns: ArrayLike<number>, confidence: number): number {
  assertConfidence(confidence);
  return Math.max(0, -quantile(sortedReturns, 1 - confidence));
}

/** `historicalCvar` on returns already sorted ascending, so several confidences share one sort. */
export function historicalCvarSorted(sortedReturns: ArrayLike<number>, confidence: number): number {
  assertConfidence(confidence);
  const cutoff = quantile(sortedReturns, 1 - confidence);
  // The interpolated quantile lies between two order statistics, so at least the lower one is <= cutoff.
  let sum = 0;
  let count = 0;
  for (let i = 0; i < sortedReturns.length && sortedReturns[i] <= cutoff; i++) {
    sum += sortedReturns[i];
    count++;
  }
  return Math.max(0, -sum / count);
}

/**
 * Historical VaR: the loss at the (1 - confidence) empirical quantile of the returns (type 7, see
 * `quantile`), i.e. the loss exceeded in (1 - confidence) of the periods of the window.
 *
 * @param returns simple returns, any order; needs `MIN_VAR_OBSERVATIONS` or more to mean much
 * @param confidence in (0, 1), e.g. 0.95
 * @throws RangeError when confidence is outside (0, 1) or there are no returns
 */
export function historicalVar(returns: ArrayLike<number>, confidence: number): number {
  return historicalVarSorted(sortedCopy(returns), confidence);
}

/**
 * Historical CVaR (expected shortfall): the mean loss of the returns at or below the VaR quantile, i.e.
 * how bad the bad periods are on average, not just where they start. Always >= `historicalVar`.
 *
 * @param returns simple returns, any order; needs `MIN_VAR_OBSERVATIONS` or more to mean much
 * @param confidence in (0, 1), e.g. 0.95
 * @throws RangeError when confidence is outside (0, 1) or there are no returns
 */
export function historicalCvar(returns: ArrayLike<number>, confidence: number): number {
  return historicalCvarSorted(sortedCopy(returns), confidence);
}

/**
 * Gaussian VaR: max(0, z * sd - mean) with z the standard normal `confidence` quantile (1.645 at 95 %).
 *
 * @param mean mean return per period
 * @param sd standard deviation of the return per period
 * @param confidence in (0, 1)
 */
export function parametricVar(mean: number, sd: number, confidence: number): number {
  assertConfidence(confidence);
  return Math.max(0, normalQuantile(confidence) * sd - mean);
}

/**
 * Gaussian CVaR: max(0, sd * φ(z) / (1 - confidence) - mean), the mean of a normal distribution's tail
 * beyond its VaR (φ the standard normal density; 2.063 sd at 95 %).
 *
 * @param mean mean return per period
 * @param sd standard deviation of the return per period
 * @param confidence in (0, 1)
 */
export function parametricCvar(mean: number, sd: number, confidence: number): number {
  assertConfidence(confidence);
  return Math.max(0, (sd * normalPdf(normalQuantile(confidence))) / (1 - confidence) - mean);
}
