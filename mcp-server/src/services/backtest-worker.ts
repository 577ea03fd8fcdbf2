/**
 * The CPU-heavy parts of a backtest request, as plain functions of plain data: a chunk of a parameter
 * grid, or a whole walk-forward optimisation. The backtest service calls them inline (tests, or when no
 * compiled worker exists) or, from the built server, on piscina worker threads through the default
 * export, so a large grid neither blocks the event loop nor waits for one core.
 *
 * Tasks name the strategy rather than carry it (functions cannot cross threads); parameters arrive
 * already validated by the strategy's schema.
 */
import {
  evaluateGrid,
  rankResults,
  walkForward,
  type BacktestConfig,
  type GridParams,
  type GridResult,
  type MakeSignals,
  type RankBy,
  type TrainTestSplit,
  type WalkForwardResult,
} from '../core/backtest/index.js';
import {
  getStrategy,
  strategyMakeSignals,
  type StrategyDefinition,
} from '../core/backtest/strategies/index.js';
import type { Candles } from '../core/candles.js';

/** Stops and targets the request sets explicitly; they beat those a strategy's parameters imply. */
export type RiskOverride = Partial<Pick<BacktestConfig, 'stopLossPct' | 'takeProfitPct'>>;

export interface GridTask {
  kind: 'grid';
  strategy: string;
  candles: Candles;
  combos: GridParams[];
  /** Without stops and targets: `comboConfig` adds them per combination. */
  config: BacktestConfig;
  override: RiskOverride;
  rankBy: RankBy;
  /** First bar ranked; the bars before it warm the indicators up. */
  start: number;
}

export interface WalkForwardTask {
  kind: 'walk_forward';
  strategy: string;
  candles: Candles;
  combos: GridParams[];
  config: BacktestConfig;
  windows: TrainTestSplit[];
  rankBy: RankBy;
  /** Bars before each training window its ranking warms up on. */
  historyBars: number;
}

export type BacktestTask = GridTask | WalkForwardTask;

/** The strategy's signals per combination, indicator series shared within each candle set. */
export function signalMaker(strategyName: string): MakeSignals {
  return strategyMakeSignals(getStrategy(strategyName));
}

/**
 * The engine configuration for one parameter set: `base` plus the stop and target the parameters imply
 * (a rule spec's stop_loss_pct, take_profit_pct), unless the request set them explicitly.
 */
export function comboConfig(
  strategy: StrategyDefinition,
  base: BacktestConfig,
  params: unknown,
  override: RiskOverride,
): BacktestConfig {
  const { stopLossPct: _sl, takeProfitPct: _tp, ...rest } = base;
  const implied = strategy.riskConfig?.(params as never) ?? {};
  const stopLossPct = override.stopLossPct ?? implied.stopLossPct;
  const takeProfitPct = override.takeProfitPct ?? implied.takeProfitPct;
  return {
    ...rest,
    ...(stopLossPct !== undefined && { stopLossPct }),
    ...(takeProfitPct !== undefined && { takeProfitPct }),
  };
}

/**
 * A chunk of a grid, ranked best first. Combinations that imply different stops or targets run with their
 * own configuration; ties still rank in grid order.
 */
export function runGridTask(task: GridTask): GridResult[] {
  const strategy = getStrategy(task.strategy);
  const make = signalMaker(task.strategy);
  const groups = new Map<string, { config: BacktestConfig; combos: GridParams[] }>();
  for (const combo of task.combos) {
    const config = comboConfig(strategy, task.config, combo, task.override);
    const key = `${config.stopLossPct}|${config.takeProfitPct}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { config, combos: [] }));
    group.combos.push(combo);
  }
  if (groups.size === 1) {
    const [only] = groups.values();
    return evaluateGrid(task.candles, task.combos, make, only!.config, task.rankBy, task.start);
  }
  const order = new Map(task.combos.map((c, i) => [c, i]));
  const results: GridResult[] = [];
  for (const { config, combos } of groups.values()) {
    results.push(...evaluateGrid(task.candles, combos, make, config, task.rankBy, task.start));
  }
  results.sort((a, b) => order.get(a.params)! - order.get(b.params)!);
  return rankResults(results, task.rankBy);
}

export function runWalkForwardTask(task: WalkForwardTask): WalkForwardResult {
  return walkForward(
    task.candles,
    task.combos,
    signalMaker(task.strategy),
    task.config,
    task.windows,
    task.rankBy,
    task.historyBars,
  );
}

/** piscina's entry point. */
export default function runTask(task: BacktestTask): GridResult[] | WalkForwardResult {
  return task.kind === 'grid' ? runGridTask(task) : runWalkForwardTask(task);
}
