import type { Comparison } from './types.js';

/** A series aligned with the bars, or a constant. */
export type SeriesOrConstant = Float64Array | number;

/**
 * Per-bar truth of `left op right` over `n` bars: 1 where it holds, 0 elsewhere.
 *
 * Any NaN operand (warm-up) makes the bar false, so an indicator that is not defined yet never fires a
 * rule. `crosses_above` at bar i means `left[i-1] <= right[i-1]` and `left[i] > right[i]` (and
 * `crosses_below` the mirror), so it needs bar i-1 defined and is false on bar 0. Comparing two
 * constants gives the same answer on every bar, and never a cross.
 */
export function compareSeries(
  left: SeriesOrConstant,
  op: Comparison,
  right: SeriesOrConstant,
  n: number,
): Uint8Array {
  const out = new Uint8Array(n);
  // A constant operand has no array; `at` reads either kind, so one loop per operator serves both.
  const a = typeof left === 'number' ? null : left;
  const b = typeof right === 'number' ? null : right;
  const ca = typeof left === 'number' ? left : NaN;
  const cb = typeof right === 'number' ? right : NaN;
  const at = (x: Float64Array | null, c: number, i: number): number => (x === null ? c : x[i]);
  switch (op) {
    case '>':
      for (let i = 0; i < n; i++) out[i] = at(a, ca, i) > at(b, cb, i) ? 1 : 0;
      break;
    case '>=':
      for (let i = 0; i < n; i++) out[i] = at(a, ca, i) >= at(b, cb, i) ? 1 : 0;
      break;
    case '<':
      for (let i = 0; i < n; i++) out[i] = at(a, ca, i) < at(b, cb, i) ? 1 : 0;
      break;
    case '<=':
      for (let i = 0; i < n; i++) out[i] = at(a, ca, i) <= at(b, cb, i) ? 1 : 0;
      break;
    case 'crosses_above':
      if (a === null && b === null) break;
      for (let i = 1; i < n; i++) {
        out[i] = at(a, ca, i - 1) <= at(b, cb, i - 1) && at(a, ca, i) > at(b, cb, i) ? 1 : 0;
      }
      break;
    case 'crosses_below':
      if (a === null && b === null) break;
      for (let i = 1; i < n; i++) {
        out[i] = at(a, ca, i - 1) >= at(b, cb, i - 1) && at(a, ca, i) < at(b, cb, i) ? 1 : 0;
      }
      break;
    default:
      throw new Error(`unknown comparison ${JSON.stringify(op)}`);
  }
  return out;
}

/** `left` crosses above `right` at each bar; see `compareSeries`. */
export function crossesAbove(left: SeriesOrConstant, right: SeriesOrConstant, n: number): Uint8Array {
  return compareSeries(left, 'crosses_above', right, n);
}

/** `left` crosses below `right` at each bar; see `compareSeries`. */
export function crossesBelow(left: SeriesOrConstant, right: SeriesOrConstant, n: number): Uint8Array {
  return compareSeries(left, 'crosses_below', right, n);
}
