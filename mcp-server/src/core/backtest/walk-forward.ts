/**
 * Walk-forward validation: choose parameters on a training window, then trade them unseen on the test
 * window that follows, window after window. The chained out-of-sample result is what the optimisation
 * would have earned live; the gap to the in-sample figures measures the overfitting.
 *
 * Two rules keep the test honest:
 *  - the choice sees nothing of the test data: the grid ranks on the training bars, which end at or
 *    before the test window's start (enforced), with up to `historyBars` bars before them as indicator
 *    history (never traded nor measured), so a long lookback is not handicapped by a cold start;
 *  - the test run may look back, not ahead: its signals are computed on every bar up to the window's end
 *    (the bars before the window give the indicators their warm-up, as they would live), but it only
 *    trades inside the window (the first fill is at its first open, on the signal of the bar before; a
 *    position still open leaves at the window's last close). Signals are causal, so the bars up to the
 *    window's end hold nothing a live strategy would not have known.
 *
 * Ranges are bar indices [start, end).
 */
import { allocCandles, sliceCandles, type Candles } from '../candles.js';
import { runBacktestFrom } from './engine.js';
import { evaluateGrid, type GridParams, type MakeSignals, type RankBy } from './grid.js';
import { computeMetrics } from './metrics.js';
import type { BacktestConfig, BacktestMetrics, Trade } from './types.js';

/** Bar indices [start, end). */
export type IndexRange = [number, number];

export interface TrainTestSplit {
  train: IndexRange;
  test: IndexRange;
}

export interface WalkForwardOptions {
  /** Bars in each training window (in the first one when anchored). */
  trainBars: number;
  /** Bars in each test window. */
  testBars: number;
  /** Bars the windows advance by; default testBars, so the test windows tile without overlap. */
  stepBars?: number;
  /** Training windows all start at bar 0 and grow (true), or keep trainBars and roll (false, default). */
  anchored?: boolean;
}

export interface WalkForwardWindowResult extends TrainTestSplit {
  /** The best combination on the training window. */
  best: GridParams;
  /** Its metrics on the training window. */
  inSample: BacktestMetrics;
  /** Its metrics on the test window, starting from the capital the previous test window ended with. */
  outOfSample: BacktestMetrics;
  /** Its trades in the test window, indices into the full candles. */
  trades: Trade[];
}

export interface WalkForwardResult {
  windows: WalkForwardWindowResult[];
  /**
   * Metrics of the test windows joined end to end, capital chained from window to window. Calendar
   * figures (CAGR, drawdown durations, buy-and-hold) run from the first test open to the last test
   * close, so they include any untested bars between windows (stepBars > testBars).
   */
  outOfSample: BacktestMetrics;
  /** All test-window trades in order, indices into the full candles. */
  trades: Trade[];
  /** Equity at each close of the joined test windows (as long as the test windows together). */
  equity: Float64Array;
}

function assertBars(label: string, value: number): void {
  if (!(Number.isInteger(value) && value >= 1)) {
    throw new RangeError(`${label} must be an integer >= 1, got ${value}`);
  }
}

/**
 * One split: the first floor(n * trainFraction) bars train, the rest test.
 *
 * @throws RangeError unless both parts get at least one bar
 */
export function splitTrainTest(n: number, trainFraction: number): TrainTestSplit {
  if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`n must be an integer >= 0, got ${n}`);
  if (!(trainFraction > 0 && trainFraction < 1)) {
    throw new RangeError(`trainFraction must be in (0, 1), got ${trainFraction}`);
  }
  const cut = Math.floor(n * trainFraction);
  if (cut < 1 || cut >= n) {
    throw new RangeError(
      `splitting ${n} bars at ${trainFraction} leaves the training or the test part empty`,
    );
  }
  return { train: [0, cut], test: [cut, n] };
}

/**
 * Walk-forward windows over n bars: each test window follows its training window directly, and window k
 * starts k * stepBars later than the first. Only complete test windows are returned, so up to
 * stepBars - 1 bars at the end may stay untested. Rolling training windows keep `trainBars`; anchored ones
 * all start at bar 0 and end where their test window starts.
 */
export function walkForwardWindows(n: number, options: WalkForwardOptions): TrainTestSplit[] {
  const { trainBars, testBars, stepBars = testBars, anchored = false } = options;
  assertBars('trainBars', trainBars);
  assertBars('testBars', testBars);
  assertBars('stepBars', stepBars);
  const windows: TrainTestSplit[] = [];
  for (let k = 0; ; k++) {
    const testStart = trainBars + k * stepBars;
    const testEnd = testStart + testBars;
    if (testEnd > n) break;
    windows.push({
      train: [anchored ? 0 : testStart - trainBars, testStart],
      test: [testStart, testEnd],
    });
  }
  return windows;
}

/** Training before testing, inside the candles; test windows in order and disjoint (capital chains). */
function assertWindows(windows: readonly TrainTestSplit[], n: number): void {
  if (windows.length === 0) throw new RangeError('walkForward needs at least one window');
  let previousEnd = 0;
  for (const [k, { train, test }] of windows.entries()) {
    const ok =
      Number.isInteger(train[0]) &&
      Number.isInteger(train[1]) &&
      Number.isInteger(test[0]) &&
      Number.isInteger(test[1]) &&
      train[0] >= 0 &&
      train[0] < train[1] &&
      train[1] <= test[0] &&
      test[0] < test[1] &&
      test[1] <= n;
    if (!ok) {
      throw new RangeError(
        `window ${k}: need 0 <= train start < train end <= test start < test end <= ${n}, got train ` +
          `[${train[0]}, ${train[1]}) test [${test[0]}, ${test[1]})`,
      );
    }
    if (test[0] < previousEnd) {
      throw new RangeError(`window ${k}: test windows must be in order and must not overlap`);
    }
    previousEnd = test[1];
  }
}

function shiftTrade(t: Trade, by: number): Trade {
  return { ...t, entryIndex: t.entryIndex + by, exitIndex: t.exitIndex + by };
}

/**
 * Walk-forward optimisation: per window, rank `combos` on the training bars (`evaluateGrid`), then run
 * the best on the test bars (see the module comment). Window k's test run starts with the capital window
 * k - 1 ended with; training runs each start from `config.initialCapital`. When no combination has a
 * value for `rankBy` (e.g. no trades), the first combination counts as the best.
 *
 * @param windows from `walkForwardWindows` or `[splitTrainTest(...)]`
 * @param historyBars bars before each training window that its indicators warm up on (at most): the
 *   ranking then measures every combination on the whole training window, long lookbacks included
 * @throws RangeError when there are no combinations or no windows, a window is out of order, or a short
 *   lost the whole capital before the last window
 */
export function walkForward(
  candles: Candles,
  combos: readonly GridParams[],
  makeSignals: MakeSignals,
  config: BacktestConfig,
  windows: readonly TrainTestSplit[],
  rankBy: RankBy = 'sharpe',
  historyBars = Infinity,
): WalkForwardResult {
  if (combos.length === 0) throw new RangeError('walkForward needs at least one parameter combination');
  assertWindows(windows, candles.time.length);

  const results: WalkForwardWindowResult[] = [];
  const allTrades: Trade[] = [];
  let testBars = 0;
  for (const { test } of windows) testBars += test[1] - test[0];
  const joined = allocCandles(testBars);
  const equity = new Float64Array(testBars);
  const joinedTrades: Trade[] = [];

  let capital = config.initialCapital;
  let offset = 0;
  for (const [k, { train, test }] of windows.entries()) {
    const [start, end] = test;
    // Only a short can lose more than the capital; nothing is left to trade with after that.
    if (!(capital > 0)) throw new RangeError(`walkForward: capital exhausted before window ${k}`);
    const from = Math.max(0, train[0] - historyBars);
    const ranked = evaluateGrid(
      sliceCandles(candles, from, train[1]),
      combos,
      makeSignals,
      config,
      rankBy,
      train[0] - from,
    );
    const best = ranked[0];

    const upToEnd = sliceCandles(candles, 0, end);
    const windowConfig: BacktestConfig = { ...config, initialCapital: capital };
    const run = runBacktestFrom(upToEnd, makeSignals(best.params, upToEnd), windowConfig, start);
    const windowEquity = run.equity;
    const outOfSample = run.metrics;
    results.push({
      train,
      test,
      best: best.params,
      inSample: best.metrics,
      outOfSample,
      trades: run.trades,
    });

    const window = sliceCandles(candles, start, end);
    for (const key of ['time', 'open', 'high', 'low', 'close', 'volume'] as const) {
      joined[key].set(window[key], offset);
    }
    equity.set(windowEquity, offset);
    for (const t of run.trades) {
      allTrades.push(t);
      joinedTrades.push(shiftTrade(t, offset - start));
    }
    offset += end - start;
    capital = outOfSample.finalEquity;
  }

  return {
    windows: results,
    outOfSample: computeMetrics(joined, joinedTrades, equity, config),
    trades: allTrades,
    equity,
  };
}
