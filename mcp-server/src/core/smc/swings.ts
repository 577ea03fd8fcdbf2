import type { Candles } from '../candles.js';

/** A confirmed swing high or low. */
export interface Swing {
  /** Bar of the extreme. */
  readonly index: number;
  readonly type: 'high' | 'low';
  /** `high[index]` for a swing high, `low[index]` for a swing low. */
  readonly level: number;
  /** First bar at which the swing is known: `index + length`, the last bar its window reads. */
  readonly confirmedIndex: number;
}

/**
 * Swing highs and lows after smartmoneyconcepts `swing_highs_lows(ohlc, swing_length)`, causal.
 *
 * Rule, as in the library's code: bar i is a swing high when `high[i]` equals the maximum high of the
 * 2·length bars `[i - length + 1, i + length]`, otherwise a swing low when `low[i]` equals the minimum low of
 * that window (a bar that is both counts as a high). The first candidate is bar `2·length - 1`, where the
 * library's rolling window first has all its bars. Equal values count, so flat prices give ties.
 *
 * Deliberate differences from the library:
 * 1. No synthetic end points: the library forces a swing at the first and last bars; we do not.
 * 2. Causal run reduction. The library keeps only the most extreme swing of each run of consecutive
 *    same-type swings (the earliest on ties), which needs the whole run, i.e. the future. Here a swing is
 *    decided at its `confirmedIndex` against the previous kept swing: a new swing of the same type is kept
 *    only if it is strictly more extreme (it then supersedes the earlier one, which stays in the list
 *    because it was already known), otherwise dropped. So two consecutive entries of the same type mean
 *    "the later replaced the earlier", and the last entry of each run is exactly the swing the library
 *    keeps from the run as seen so far.
 *
 * Swings come out ordered by index (and so by `confirmedIndex`). The result on the first t candles is
 * exactly the swings of the full run with `confirmedIndex < t`.
 */
export function swingHighsLows(c: Candles, length = 5): Swing[] {
  if (!Number.isInteger(length) || length < 1) {
    throw new RangeError(`swing length must be an integer >= 1, got ${length}`);
  }
  const { high, low } = c;
  const n = high.length;
  const swings: Swing[] = [];
  let lastType: Swing['type'] | null = null;
  let lastLevel = 0;
  for (let i = 2 * length - 1; i + length < n; i++) {
    const from = i - length + 1;
    const to = i + length;
    let type: Swing['type'];
    let level: number;
    if (isWindowMax(high, i, from, to)) {
      type = 'high';
      level = high[i]!;
    } else if (isWindowMin(low, i, from, to)) {
      type = 'low';
      level = low[i]!;
    } else continue;
    if (type === lastType && (type === 'high' ? level <= lastLevel : level >= lastLevel)) continue;
    swings.push({ index: i, type, level, confirmedIndex: to });
    lastType = type;
    lastLevel = level;
  }
  return swings;
}

function isWindowMax(x: Float64Array, i: number, from: number, to: number): boolean {
  const v = x[i]!;
  for (let k = from; k <= to; k++) if (x[k]! > v) return false;
  return true;
}

function isWindowMin(x: Float64Array, i: number, from: number, to: number): boolean {
  const v = x[i]!;
  for (let k = from; k <= to; k++) if (x[k]! < v) return false;
  return true;
}
