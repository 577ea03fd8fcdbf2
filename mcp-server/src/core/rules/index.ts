/**
 * Rules: named series over closed candles, conditions over them, and their per-bar evaluation. Shared by
 * JSON backtest strategies and alerts. See `types.ts` for the vocabulary.
 */
export type { Comparison, Condition, Operand, RuleStrategySpec, SeriesRef } from './types.js';
export {
  ACCEPTED_SERIES,
  FLAG_SERIES,
  MAX_SERIES_PERIOD,
  computeSeries,
  parseSeriesRef,
  type ParsedSeriesRef,
  type SeriesCache,
  type SeriesKind,
} from './series.js';
export { compareSeries, crossesAbove, crossesBelow, type SeriesOrConstant } from './compare.js';
export { donchianHigh, donchianLow } from './donchian.js';
export {
  fvgZoneFlags,
  orderBlockZoneFlags,
  structureFlags,
  sweepFlags,
  zoneFlags,
  type SideFlags,
  type StructureFlags,
} from './smc-flags.js';
export { STOP_ATR_PERIOD, evaluateCondition, ruleRiskConfig, ruleSignals } from './evaluate.js';
export {
  COMPARISONS,
  MAX_CONDITIONS,
  MAX_CONDITION_DEPTH,
  conditionIssues,
  countConditions,
  formatRuleIssues,
  ruleConditionSchema,
  ruleStrategySpecSchema,
  type RuleIssue,
} from './schema.js';
