/**
 * The named strategies, by registry name. Each is a `StrategyDefinition`: parameters as a zod schema
 * with defaults and ranges, signals as a pure causal function of closed candles.
 */
import type { Candles } from '../../candles.js';
import type { SeriesCache } from '../../rules/series.js';
import type { GridParams, MakeSignals } from '../grid.js';
import type { Signals } from '../types.js';
import { bollingerReversion } from './bollinger-reversion.js';
import { donchianBreakout } from './donchian-breakout.js';
import { emaCross } from './ema-cross.js';
import { rsiReversion } from './rsi-reversion.js';
import { rules } from './rules.js';
import { smaCross } from './sma-cross.js';
import { smcStructure } from './smc-structure.js';
import type { StrategyDefinition } from './types.js';

export { defineStrategy, type StrategyDefinition } from './types.js';
export { maCrossSignals } from './ma-cross.js';
export { smaCrossSignals } from './sma-cross.js';
export { bollingerReversion, donchianBreakout, emaCross, rsiReversion, rules, smaCross, smcStructure };

/** Every strategy, in the order users see them. */
export const STRATEGIES: readonly StrategyDefinition[] = [
  emaCross,
  smaCross,
  rsiReversion,
  donchianBreakout,
  bollingerReversion,
  smcStructure,
  rules,
];

export const STRATEGY_NAMES: readonly string[] = STRATEGIES.map((s) => s.name);

const BY_NAME = new Map(STRATEGIES.map((s) => [s.name, s]));

/** The strategy registered as `name`. @throws Error listing the registered names when there is none */
export function getStrategy(name: string): StrategyDefinition {
  const found = BY_NAME.get(name);
  if (!found) {
    throw new Error(`unknown strategy ${JSON.stringify(name)}; available: ${STRATEGY_NAMES.join(', ')}`);
  }
  return found;
}

/**
 * Validate raw parameters (defaults filled in) and compute the signals in one call.
 *
 * @throws ZodError for invalid parameters, Error for an unknown strategy
 */
export function strategySignals(
  name: string,
  candles: Candles,
  params: unknown = {},
  cache?: SeriesCache,
): Signals {
  const strategy = getStrategy(name);
  return strategy.signals(candles, strategy.params.parse(params), cache);
}

/**
 * A grid-search / walk-forward `MakeSignals` for a strategy: parses each combination and keeps one
 * series cache per candle set (a walk-forward window passes its own slice), so indicators shared by
 * combinations, such as the SMAs of an `sma_cross` grid, are computed once per candle set.
 */
export function strategyMakeSignals(strategy: StrategyDefinition): MakeSignals {
  const caches = new WeakMap<Candles, SeriesCache>();
  return (params: GridParams, candles: Candles) => {
    let cache = caches.get(candles);
    if (!cache) caches.set(candles, (cache = new Map()));
    return strategy.signals(candles, strategy.params.parse(params), cache);
  };
}
