/**
 * Parameter grid search: every combination of a strategy's parameter values backtested on the same
 * candles, ranked best first.
 *
 * Pure and synchronous, and `evaluateGrid` works on any slice of the combinations, so a service can
 * spread chunks of `parameterGrid(space)` over worker threads and merge the answers with `rankResults`:
 * the merged order is the one a single call over all combinations would give (ties keep grid order as
 * long as the chunks are concatenated in grid order).
 */
import type { Candles } from '../candles.js';
import { runBacktestFrom } from './engine.js';
import type { BacktestConfig, BacktestMetrics, Signals } from './types.js';

export type ParamValue = number | string | boolean;
/** One combination: a value for each parameter name. */
export type GridParams = Record<string, ParamValue>;
/** The values to try for each parameter. */
export type ParamSpace = Record<string, readonly ParamValue[]>;
/** What a ranking maximises: Sharpe ratio, total return, Calmar ratio or SQN. */
export const RANK_BY = ['sharpe', 'total_return', 'calmar', 'sqn'] as const;
export type RankBy = (typeof RANK_BY)[number];

function assertRankBy(rankBy: RankBy): void {
  if (!RANK_BY.includes(rankBy)) throw new RangeError(`unknown rankBy ${String(rankBy)}`);
}

/**
 * A strategy's signals for one combination. `candles` are the bars being backtested (a walk-forward
 * window passes its own slice), so a function that ignores them must have been built for those candles.
 */
export type MakeSignals = (params: GridParams, candles: Candles) => Signals;

export interface GridResult {
  params: GridParams;
  metrics: BacktestMetrics;
}

/**
 * Cartesian product of the parameter values, in a fixed order: keys in the object's insertion order,
 * the first key varying slowest and the last fastest (as Python's itertools.product). An empty space
 * has one combination, `{}`; a parameter without values leaves none.
 */
export function parameterGrid(space: ParamSpace): GridParams[] {
  let combos: GridParams[] = [{}];
  for (const [key, values] of Object.entries(space)) {
    const next: GridParams[] = [];
    for (const combo of combos) {
      for (const value of values) next.push({ ...combo, [key]: value });
    }
    combos = next;
  }
  return combos;
}

/** The metric a ranking maximises; null (also for NaN) when it is undefined for the run. */
export function rankValue(metrics: BacktestMetrics, rankBy: RankBy): number | null {
  let v: number | null;
  switch (rankBy) {
    case 'sharpe':
      v = metrics.sharpe;
      break;
    case 'total_return':
      v = metrics.totalReturnPct;
      break;
    case 'calmar':
      v = metrics.calmar;
      break;
    case 'sqn':
      v = metrics.sqn;
      break;
    default:
      throw new RangeError(`unknown rankBy ${String(rankBy)}`);
  }
  return v === null || Number.isNaN(v) ? null : v;
}

/**
 * Sort results best first by `rankBy` (higher is better), results without a value last, ties in their
 * given order (the sort is stable). Sorts in place and returns the array.
 */
export function rankResults<T extends GridResult>(results: T[], rankBy: RankBy = 'sharpe'): T[] {
  assertRankBy(rankBy);
  const keyed = results.map((r, i) => ({ r, i, v: rankValue(r.metrics, rankBy) }));
  keyed.sort((a, b) => {
    if (a.v === null) return b.v === null ? a.i - b.i : 1;
    if (b.v === null) return -1;
    return b.v - a.v || a.i - b.i;
  });
  for (let k = 0; k < keyed.length; k++) results[k] = keyed[k].r;
  return results;
}

/**
 * Backtest every combination on the same candles and config, best first by `rankBy`.
 *
 * @param combos any slice of `parameterGrid(space)`
 * @param makeSignals the strategy's signals for one combination, given the candles
 * @param start first bar traded and measured; the bars before it only warm the indicators up, so every
 *   combination, whatever its lookback, trades the whole range it is ranked on
 */
export function evaluateGrid(
  candles: Candles,
  combos: readonly GridParams[],
  makeSignals: MakeSignals,
  config: BacktestConfig,
  rankBy: RankBy = 'sharpe',
  start = 0,
): GridResult[] {
  assertRankBy(rankBy);
  const results: GridResult[] = new Array(combos.length);
  for (let k = 0; k < combos.length; k++) {
    const params = combos[k];
    const signals = makeSignals(params, candles);
    results[k] = { params, metrics: runBacktestFrom(candles, signals, config, start).metrics };
  }
  return rankResults(results, rankBy);
}
