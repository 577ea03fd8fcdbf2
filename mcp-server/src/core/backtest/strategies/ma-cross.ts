import type { Signals } from '../types.js';

/**
 * Moving-average crossover signals from two precomputed averages: long when `fast` crosses above
 * `slow`, out of the long when it crosses below; shorts the mirror image (enter on the cross below,
 * leave on the cross above). Crosses as in `compareSeries`: at bar i, `fast[i-1] <= slow[i-1]` and
 * `fast[i] > slow[i]` (`>=` / `<` for the cross below); NaN (warm-up) bars never cross.
 *
 * One pass and four allocations, no indicator work, so a parameter grid that computes each average
 * once (see `SeriesCache`) pays only this per combination.
 */
export function maCrossSignals(fast: Float64Array, slow: Float64Array): Signals {
  const n = Math.min(fast.length, slow.length);
  const up = new Uint8Array(n);
  const down = new Uint8Array(n);
  let prevFast = fast[0];
  let prevSlow = slow[0];
  for (let i = 1; i < n; i++) {
    const f = fast[i];
    const s = slow[i];
    // Test the current side first: most bars cross nothing, and NaN fails both tests.
    if (f > s) {
      if (prevFast <= prevSlow) up[i] = 1;
    } else if (f < s) {
      if (prevFast >= prevSlow) down[i] = 1;
    }
    prevFast = f;
    prevSlow = s;
  }
  // Separate copies for the short side, so no consumer can change one column through another.
  return { enterLong: up, exitLong: down, enterShort: down.slice(), exitShort: up.slice() };
}
