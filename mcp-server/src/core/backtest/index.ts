/**
 * Backtesting: strategies turn closed candles into per-bar signals, the engine turns signals into trades
 * with realistic fills (next-open entries, slippage, fees, stops and targets inside bars), metrics
 * summarise them, and grid search and walk-forward choose and validate parameters. Pure and columnar:
 * no I/O, no clock, no globals.
 */
export type {
  BacktestConfig,
  BacktestMetrics,
  BacktestResult,
  ExitReason,
  Signals,
  Sizing,
  Trade,
} from './types.js';
export {
  DEFAULT_BACKTEST_CONFIG,
  entryQuantity,
  runBacktest,
  runBacktestFrom,
  simulate,
  type Simulation,
} from './engine.js';
export { barDurationMs, buyAndHoldReturnPct, computeMetrics, YEAR_MS } from './metrics.js';
export {
  evaluateGrid,
  parameterGrid,
  RANK_BY,
  rankResults,
  rankValue,
  type GridParams,
  type GridResult,
  type MakeSignals,
  type ParamSpace,
  type ParamValue,
  type RankBy,
} from './grid.js';
export {
  splitTrainTest,
  walkForward,
  walkForwardWindows,
  type IndexRange,
  type TrainTestSplit,
  type WalkForwardOptions,
  type WalkForwardResult,
  type WalkForwardWindowResult,
} from './walk-forward.js';

// --- Strategies (src/core/backtest/strategies/): their exports go below this line. ---
export * from './strategies/index.js';
