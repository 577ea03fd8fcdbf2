import { assertPeriod } from './guards.js';
import { allocSeries } from './series.js';

/** MACD line, its signal line and their difference, each aligned with the input bars. */
export interface MacdResult {
  /** Fast EMA - slow EMA. */
  macd: Float64Array;
  /** EMA of the MACD line over the signal period. */
  signal: Float64Array;
  /** `macd - signal`. */
  histogram: Float64Array;
}

/** Bars before the first MACD value: `max(fast, slow) - 1 + signal - 1`. */
export function macdLookback(fast = 12, slow = 26, signal = 9): number {
  return Math.max(fast, slow) - 1 + (signal - 1);
}

/**
 * Moving Average Convergence/Divergence (TA-Lib `MACD`), in one pass.
 *
 * As in TA-Lib, both EMAs start at bar `slow - 1`: the slow EMA is seeded with the SMA of bars
 * `0..slow-1` and the fast EMA with the SMA of bars `slow-fast..slow-1` (not of bars `0..fast-1`). The
 * signal EMA is seeded with the mean of the first `signal` MACD values, and all three outputs start
 * together once the signal exists. If `fast > slow` the two are swapped, as TA-Lib does. A signal
 * period of 1 makes the signal equal the MACD line (TA-Lib accepts 1 but misaligns its output by a bar).
 *
 * @param close closing prices, oldest first
 * @param fast fast EMA period, integer >= 1, default 12
 * @param slow slow EMA period, integer >= 1, default 26
 * @param signal signal EMA period, integer >= 1, default 9
 * @returns new series of the same length, NaN for the first `macdLookback(fast, slow, signal)` bars
 */
export function macd(close: Float64Array, fast = 12, slow = 26, signal = 9): MacdResult {
  assertPeriod('MACD fast period', fast);
  assertPeriod('MACD slow period', slow);
  assertPeriod('MACD signal period', signal);
  if (slow < fast) [fast, slow] = [slow, fast];
  const n = close.length;
  const lookback = macdLookback(fast, slow, signal);
  const result: MacdResult = {
    macd: allocSeries(n, lookback),
    signal: allocSeries(n, lookback),
    histogram: allocSeries(n, lookback),
  };
  if (n <= lookback) return result;
  const { macd: line, signal: trigger, histogram } = result;

  let slowSum = 0;
  for (let i = 0; i < slow; i++) slowSum += close[i];
  let fastSum = 0;
  for (let i = slow - fast; i < slow; i++) fastSum += close[i];
  let slowAverage = slowSum / slow;
  let fastAverage = fastSum / fast;
  const kSlow = 2 / (slow + 1);
  const kFast = 2 / (fast + 1);
  const kSignal = 2 / (signal + 1);

  // Sum the first `signal` MACD values (bars slow-1 .. lookback) to seed the signal EMA.
  let value = fastAverage - slowAverage;
  let signalSum = value;
  for (let i = slow; i <= lookback; i++) {
    fastAverage = (close[i] - fastAverage) * kFast + fastAverage;
    slowAverage = (close[i] - slowAverage) * kSlow + slowAverage;
    value = fastAverage - slowAverage;
    signalSum += value;
  }
  let signalAverage = signalSum / signal;
  line[lookback] = value;
  trigger[lookback] = signalAverage;
  histogram[lookback] = value - signalAverage;

  for (let i = lookback + 1; i < n; i++) {
    fastAverage = (close[i] - fastAverage) * kFast + fastAverage;
    slowAverage = (close[i] - slowAverage) * kSlow + slowAverage;
    value = fastAverage - slowAverage;
    signalAverage = (value - signalAverage) * kSignal + signalAverage;
    line[i] = value;
    trigger[i] = signalAverage;
    histogram[i] = value - signalAverage;
  }
  return result;
}
