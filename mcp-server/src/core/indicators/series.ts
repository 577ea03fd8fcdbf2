/**
 * A new output series of `n` bars whose first `lookback` bars (the warm-up, where TA-Lib produces no value)
 * are NaN, so `output[i]` always aligns with input bar `i`. Only the warm-up is filled: the rest is
 * overwritten by the indicator, and skipping it saves a pass over the array.
 */
export function allocSeries(n: number, lookback: number): Float64Array {
  return new Float64Array(n).fill(NaN, 0, Math.min(lookback, n));
}
