import { ruleRiskConfig, ruleSignals } from '../../rules/evaluate.js';
import { ruleStrategySpecSchema } from '../../rules/schema.js';
import { defineStrategy } from './types.js';

/**
 * The JSON rule strategy: the parameters are a `RuleStrategySpec` (entry/exit conditions over named
 * series, optional stops), the signals its per-bar truth (see `ruleSignals`). Its stop_loss_pct and
 * take_profit_pct reach the engine through `riskConfig`.
 */
export const rules = defineStrategy({
  name: 'rules',
  description:
    'Your own rules as JSON: entry_long / exit_long / entry_short / exit_short conditions over series ' +
    'such as close, ema(20), rsi(14), bb_lower(20,2), donchian_high(20) or SMC flags like choch_bullish, ' +
    'combined with all / any / not; optional stop_loss_pct, take_profit_pct or stop_atr.',
  params: ruleStrategySpecSchema,
  signals: (candles, spec, cache) => ruleSignals(candles, spec, cache),
  riskConfig: ruleRiskConfig,
});
