/**
 * The shape every named strategy has, so the backtest service, the grid search and the MCP tool can
 * treat them alike: a name, a description for users, a zod schema of the parameters (with defaults
 * and ranges: it validates user input and documents it as JSON Schema), and a pure signal function.
 */
import type { z } from 'zod';
import type { Candles } from '../../candles.js';
import type { SeriesCache } from '../../rules/series.js';
import type { BacktestConfig, Signals } from '../types.js';

export interface StrategyDefinition<P = unknown> {
  /** Registry key, snake_case. */
  readonly name: string;
  /** One or two sentences for users: what it trades and when. */
  readonly description: string;
  /** Parameter schema; `params.parse({})` gives the defaults. */
  readonly params: z.ZodType<P>;
  /**
   * Per-bar signals over `candles`, causal (bar i reads bars <= i only), as `Signals` defines them.
   *
   * @param params parsed parameters (the output of `params.parse`)
   * @param cache series cache of these candles (see `SeriesCache`): pass one map per candle set to share
   *   indicator series across calls, e.g. the SMAs of a parameter grid; never share it across candle sets
   */
  signals(candles: Candles, params: P, cache?: SeriesCache): Signals;
  /** Engine settings the parameters imply (e.g. a rule spec's stop_loss_pct); merge them into the config. */
  riskConfig?(params: P): Partial<Pick<BacktestConfig, 'stopLossPct' | 'takeProfitPct'>>;
}

/** Build a definition with `params` typed from its schema. */
export function defineStrategy<S extends z.ZodType>(definition: {
  name: string;
  description: string;
  params: S;
  signals(candles: Candles, params: z.output<S>, cache?: SeriesCache): Signals;
  riskConfig?(params: z.output<S>): Partial<Pick<BacktestConfig, 'stopLossPct' | 'takeProfitPct'>>;
}): StrategyDefinition<z.output<S>> & { readonly params: S } {
  // S's output is z.output<S> by definition; TypeScript cannot see that through the generic.
  return definition as StrategyDefinition<z.output<S>> & { readonly params: S };
}
