/**
 * The backtest capability: load a period of closed candles, validate a strategy and its parameters,
 * run the engine (one run, a train/test parameter grid, or walk-forward windows), store the run with its
 * inputs, and present it; fetch stored runs again, compare them, and chart them.
 *
 * Honesty rules enforced here:
 * - Indicators warm up on candles before the period (as they would live), but only the period trades.
 * - A grid is ranked on its training part only and reported on the untouched rest; walk-forward windows
 *   choose on a training window and trade the test window that follows (see core/backtest/walk-forward).
 * - A stored run is presented from exactly the data that was stored, so a fetched run reads the same as
 *   the answer that created it; nothing is recomputed on fetch.
 *
 * A large grid runs in chunks: on piscina worker threads from the built server (dist/, where the compiled
 * worker exists), inline between event-loop turns otherwise (tests run the TypeScript sources).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Piscina } from 'piscina';
import {
  parameterGrid,
  rankResults,
  rankValue,
  runBacktestFrom,
  splitTrainTest,
  walkForwardWindows,
  YEAR_MS,
  type BacktestConfig,
  type BacktestMetrics,
  type GridParams,
  type GridResult,
  type ParamValue,
  type RankBy,
  type Trade,
  type TrainTestSplit,
  type WalkForwardResult,
} from '../core/backtest/index.js';
import { STRATEGIES, type StrategyDefinition } from '../core/backtest/strategies/index.js';
import { sliceCandles, type Candles } from '../core/candles.js';
import { equityChartSvg } from '../core/charts/equity-chart.js';
import { priceChartSvg } from '../core/charts/price-chart.js';
import { utcStamp } from '../core/charts/svg.js';
import { AppError, isAppError } from '../errors.js';
import { log } from '../logger.js';
import { loadHistory, type HistorySeries } from '../market/history.js';
import { candleCloseTime, DAY_MS, timeframeMs, type MarketData, type Timeframe } from '../market/index.js';
import type { BacktestMode, BacktestRun, BacktestRunStore, NewBacktestRun } from '../store/types.js';
import type { ToolCall, ToolImage } from '../tools/tool.js';
import { DISCLAIMER } from './analysis.js';
import {
  comboConfig,
  runGridTask,
  runWalkForwardTask,
  type BacktestTask,
  type RiskOverride,
} from './backtest-worker.js';
import { renderChart, type RenderedChart } from './chart-render.js';
import { formatAge } from './format-age.js';

export interface BacktestRequest {
  symbol?: string | undefined;
  timeframe: Timeframe;
  strategy?: string | undefined;
  params?: Record<string, unknown> | undefined;
  spec?: Record<string, unknown> | undefined;
  start?: string | undefined;
  end?: string | undefined;
  exchange?: string | undefined;
  initial_capital: number;
  fee_rate: number;
  slippage: number;
  sizing: 'fixed_fraction' | 'risk_per_trade';
  position_fraction: number;
  risk_per_trade_pct: number;
  allow_short: boolean;
  stop_loss_pct?: number | undefined;
  take_profit_pct?: number | undefined;
  mode: BacktestMode;
  train_fraction: number;
  windows: number;
  anchored: boolean;
  param_grid?: Record<string, ParamValue[]> | undefined;
  rank_by: RankBy;
  charts: 'none' | 'png' | 'svg';
  run_id?: string | undefined;
  compare_run_ids?: string[] | undefined;
}

export type ChartKind = 'equity' | 'price';
export type ChartFormat = 'png' | 'svg';

/** Candles before the period that indicators may warm up on. */
export const WARMUP_BARS = 1_000;
export const MAX_GRID_COMBINATIONS = 5_000;
/** Backtests a walk-forward may run: combinations x windows. */
export const MAX_WALK_FORWARD_RUNS = 25_000;
/** Fewest bars in the period, and in each training or test part. */
export const MIN_PERIOD_BARS = 30;
export const MIN_WINDOW_BARS = 20;
const MAX_EQUITY_POINTS = 500;
const MAX_PRICE_BARS = 500;
const MAX_TRADES_SHOWN = 200;
const MAX_TRADES_STORED = 5_000;
const GRID_TABLE_ROWS = 10;
const INLINE_CHUNK = 50;

/** What a stored run's `result` holds (JSON). */
interface StoredResult {
  version: 1;
  candles: number;
  first_candle: string;
  fallback: { requested_exchange: string; reason: string } | null;
  period: { start: string; end: string; bars: number; traded: { start: string; end: string; bars: number } };
  buy_and_hold: { return_pct: number; excess_return_pct: number };
  trades_total: number;
  trades: TradeOut[];
  equity: EquityOut[];
  /** Downsampled candles of the traded span, for the price chart: [open time ms, open, high, low, close]. */
  price: [number, number, number, number, number][];
  windows: WindowOut[] | null;
  grid: GridOut | null;
  notes: string[];
}

type TradeOut = ReturnType<typeof tradeOut>;
type EquityOut = { time: string; equity: number; drawdown_pct: number; buy_and_hold: number };
type SummaryOut = ReturnType<typeof summaryOut>;
type Span = { start: string; end: string; bars: number };
type WindowOut = {
  index: number;
  train: Span;
  test: Span;
  params: Record<string, unknown>;
  in_sample: SummaryOut;
  out_of_sample: SummaryOut;
};
type GridOut = {
  combinations: number;
  skipped_invalid: number;
  rank_by: RankBy;
  in_sample: Span;
  out_of_sample: Span;
  best_params: Record<string, unknown>;
  table: {
    rank: number;
    params: Record<string, unknown>;
    in_sample: SummaryOut;
    out_of_sample: SummaryOut;
  }[];
};

/** A run as presented: stored (id and time) or not. */
type RunRecord = NewBacktestRun & { id: string | null; created_at: string | null };

/** Images produced for an answer, found again by the tool's `images` hook (the answer object is the key). */
const IMAGES = new WeakMap<object, ToolImage[]>();

/** The chart images attached to a backtest answer, for MCP image content. */
export function backtestImages(result: object): ToolImage[] {
  return IMAGES.get(result) ?? [];
}

export class BacktestService {
  private poolLoad: Promise<Piscina | null> | undefined;
  private closed = false;

  constructor(
    private readonly market: MarketData,
    private readonly store: BacktestRunStore,
    private readonly options: {
      now?: () => number;
      /** Use worker threads when the compiled worker exists. Default true. */
      workers?: boolean;
    } = {},
  ) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** Runs, fetches or compares, as the request says. */
  async run(
    req: BacktestRequest,
    owner: string,
    call?: Pick<ToolCall, 'signal' | 'progress' | 'requestKey'>,
  ) {
    if (req.compare_run_ids) return this.compare(owner, req.compare_run_ids);
    if (req.run_id) {
      const run = await this.load(owner, req.run_id);
      return this.present(run, [fetchedNote(run)], req.charts);
    }
    // A call's key: its tool job run again (a worker lost the lock), or run by the replica after a
    // failed hand-over that landed after all, returns the run stored the first time.
    const requestKey = call?.requestKey;
    const earlier = requestKey ? await this.store.getByRequestKey(owner, requestKey).catch(() => null) : null;
    if (earlier) return this.present(earlier, [], req.charts);
    const record = await this.backtest(req, call);
    const notes: string[] = [];
    let stored: RunRecord;
    try {
      if (requestKey) {
        const once = await this.store.saveOnce(owner, record, requestKey);
        // Stored meanwhile by the other run of the call: answer with that run, so that run_id, the
        // numbers and the charts agree (a candle may have closed between the two runs).
        if (!once.created) return this.present(once.run, [], req.charts);
        stored = { ...record, id: once.run.id, created_at: once.run.created_at };
      } else {
        const saved = await this.store.save(owner, record);
        stored = { ...record, id: saved.id, created_at: saved.created_at };
      }
    } catch (err) {
      if (!isAppError(err)) log.error('storing a backtest run failed', { error: err });
      else log.warn('storing a backtest run failed', { code: err.code });
      const why = isAppError(err) ? err.message : 'unexpected error, logged';
      notes.push(
        `The run could not be stored (${why}): run_id is null, so it cannot be fetched, compared or charted by URL later.`,
      );
      stored = { ...record, id: null, created_at: null };
    }
    const answer = presentRun(stored, notes, this.now());
    if (req.charts !== 'none') await attachCharts(answer, stored, req.charts);
    return answer;
  }

  /** A stored run's answer, with its charts as asked. */
  private async present(run: BacktestRun, notes: string[], charts: BacktestRequest['charts']) {
    const answer = presentRun(run, notes, this.now());
    if (charts !== 'none') await attachCharts(answer, run, charts);
    return answer;
  }

  /** A stored run, presented as when it was created. NOT_FOUND when the owner has no such run. */
  async get(owner: string, id: string) {
    const run = await this.load(owner, id);
    return presentRun(run, [fetchedNote(run)], this.now());
  }

  /** Headline metrics of stored runs side by side, and which is best by each measure. */
  async compare(owner: string, ids: string[]) {
    const unique = [...new Set(ids)];
    const runs = await Promise.all(unique.map((id) => this.store.get(owner, id)));
    const missing = unique.filter((_, i) => runs[i] === null);
    if (missing.length > 0) {
      throw new AppError(
        'NOT_FOUND',
        `No backtest run ${missing.join(', ')} is stored for this API key; run ids come from earlier ` +
          'historical_backtest answers made with the same key.',
        { missing },
      );
    }
    const rows = (runs as BacktestRun[]).map((r) => ({
      run_id: r.id,
      created_at: r.created_at,
      symbol: r.symbol,
      timeframe: r.timeframe,
      exchange: r.exchange,
      data_source: r.data_source,
      strategy: r.strategy,
      mode: r.mode,
      params: r.params,
      period_start: r.period_start,
      period_end: r.period_end,
      metrics: pickSummary(r.metrics as MetricsOut),
    }));
    const bestBy = (key: 'total_return_pct' | 'sharpe' | 'calmar', sign = 1) => {
      let best: (typeof rows)[number] | null = null;
      for (const r of rows) {
        const v = r.metrics[key];
        if (v === null) continue;
        if (best === null || sign * v > sign * (best.metrics[key] as number)) best = r;
      }
      return best?.run_id ?? null;
    };
    let lowestDd = rows[0]!;
    for (const r of rows) if (r.metrics.max_drawdown_pct < lowestDd.metrics.max_drawdown_pct) lowestDd = r;
    const notes: string[] = [];
    const symbols = new Set(rows.map((r) => `${r.symbol} ${r.timeframe}`));
    const periods = new Set(rows.map((r) => `${r.period_start}/${r.period_end}`));
    if (symbols.size > 1 || periods.size > 1) {
      notes.push(
        'The runs cover different markets, timeframes or periods: their figures are not directly comparable.',
      );
    }
    if (rows.some((r) => r.mode !== 'single')) {
      notes.push(
        'Metrics of grid and walk_forward runs are out of sample; those of single runs cover the whole period.',
      );
    }
    return {
      kind: 'comparison' as const,
      comparison: {
        runs: rows,
        best: {
          total_return_pct: bestBy('total_return_pct')!,
          sharpe: bestBy('sharpe'),
          max_drawdown_pct: lowestDd.run_id,
          calmar: bestBy('calmar'),
        },
      },
      notes,
      disclaimer: DISCLAIMER,
    };
  }

  /** A chart of a stored run, for the HTTP route. */
  async chart(owner: string, id: string, kind: ChartKind, format: ChartFormat): Promise<RenderedChart> {
    const run = await this.load(owner, id);
    return renderChart(kind === 'equity' ? equitySvg(run) : priceSvg(run), format);
  }

  /** Stops the worker threads, if any were started. */
  async close(): Promise<void> {
    this.closed = true;
    const pool = await this.poolLoad;
    this.poolLoad = Promise.resolve(null);
    if (pool) await pool.destroy();
  }

  private async load(owner: string, id: string): Promise<BacktestRun> {
    const run = await this.store.get(owner, id);
    if (!run) {
      throw new AppError(
        'NOT_FOUND',
        `No backtest run ${id} is stored for this API key; run ids come from earlier historical_backtest ` +
          'answers made with the same key.',
        { run_id: id },
      );
    }
    return run;
  }

  /** Validates, loads, runs; returns the record to store (not yet stored). */
  private async backtest(
    req: BacktestRequest,
    call?: Pick<ToolCall, 'signal' | 'progress'>,
  ): Promise<NewBacktestRun> {
    const strategy = findStrategy(req.strategy);
    const params = strategyParams(strategy, req);
    const combos = req.param_grid ? gridCombos(strategy, params, req.param_grid) : null;
    if (combos && req.mode === 'single') {
      throw new AppError(
        'INVALID_ARGUMENT',
        'param_grid needs mode "grid" (rank in sample, report out of sample) or "walk_forward"; with mode ' +
          '"single" pass one set of params instead.',
      );
    }
    const { base, override } = engineConfig(req);
    let config = comboConfig(strategy, base, params, override);
    const notes: string[] = [];

    const series = await loadHistory(this.market, {
      symbol: req.symbol!,
      timeframe: req.timeframe,
      start: parseTime(req.start, 'start'),
      end: parseTime(req.end, 'end'),
      exchange: req.exchange,
      warmupBars: WARMUP_BARS,
    });
    notes.push(...series.notes);
    const full = series.candles;
    const warmup = series.warmup;
    const n = full.time.length;
    const periodBars = n - warmup;
    if (periodBars < MIN_PERIOD_BARS) {
      throw new AppError(
        'INSUFFICIENT_DATA',
        `The period holds ${periodBars} ${req.timeframe} candles of ${series.symbol}; a backtest needs at ` +
          `least ${MIN_PERIOD_BARS}. Widen the period or use a smaller timeframe.`,
        { bars: periodBars },
      );
    }

    let traded: { from: number; to: number };
    let metrics: BacktestMetrics;
    let trades: Trade[]; // indices into `full`
    let equity: Float64Array; // as long as the traded span
    let runParams: Record<string, unknown> = params;
    let windows: WindowOut[] | null = null;
    let grid: GridOut | null = null;

    if (req.mode === 'single') {
      const run = runRange(strategy, full, params, config, warmup, n);
      ({ metrics, trades, equity } = run);
      traded = { from: warmup, to: n };
    } else if (req.mode === 'grid') {
      const g = await this.grid(strategy, full, warmup, combos!, base, override, req, call, notes);
      ({ metrics, trades, equity, traded, grid, config } = g);
      runParams = g.best;
    } else {
      const list = combos?.valid ?? [params as GridParams];
      config = uniformConfig(strategy, base, list, override);
      const wf = await this.walkForward(strategy, full, warmup, list, config, req, call, notes);
      if (combos && combos.skipped > 0) notes.push(combos.skippedNote);
      ({ metrics, trades, equity, traded, windows } = wf);
      if (combos)
        notes.push('params shows the base parameters; each window lists the ones it chose in training.');
    }

    const tf = req.timeframe;
    const periodStart = full.time[warmup]!;
    const periodEnd = candleCloseTime(full.time[n - 1]!, tf);
    const asOf = series.asOf;
    const dataNote = sourceNote(series, this.now());
    if (dataNote) notes.push(dataNote);
    if (config.sizing.mode === 'risk_per_trade' && trades.some((t) => t.stopPrice === null)) {
      notes.push(
        'risk_per_trade sizes each trade by the distance to its stop; trades without a stop were sized as if the ' +
          'stop were 100 % away (a position worth risk_per_trade_pct of equity). Set stop_loss_pct to size them properly.',
      );
    }
    if (metrics.trades === 0) {
      notes.push('The strategy made no trades in the period: check the parameters, or use a longer period.');
    }

    const tradesOut = trades.map((t) => tradeOut(t));
    if (tradesOut.length > MAX_TRADES_STORED) {
      notes.push(`The stored run keeps the last ${MAX_TRADES_STORED} of ${tradesOut.length} trades.`);
    }
    const tradedSpan = span(full, traded.from, traded.to, tf);
    const result: StoredResult = {
      version: 1,
      candles: periodBars,
      first_candle: iso(periodStart),
      fallback: series.fallback
        ? { requested_exchange: series.fallback.requestedExchange, reason: series.fallback.reason }
        : null,
      period: { ...span(full, warmup, n, tf), traded: tradedSpan },
      buy_and_hold: {
        return_pct: r4(metrics.buyAndHoldReturnPct),
        excess_return_pct: r4(metrics.totalReturnPct - metrics.buyAndHoldReturnPct),
      },
      trades_total: tradesOut.length,
      trades: tradesOut.slice(-MAX_TRADES_STORED),
      equity: equityCurve(full, traded.from, traded.to, equity, config, tf),
      price: priceBars(full, traded.from, traded.to),
      windows,
      grid,
      notes,
    };
    const record: NewBacktestRun = {
      symbol: series.symbol,
      exchange: series.exchange,
      timeframe: tf,
      strategy: strategy.name,
      params: runParams,
      config: configOut(config, warmup),
      period_start: iso(periodStart),
      period_end: iso(periodEnd),
      mode: req.mode,
      metrics: metricsOut(metrics),
      result: result as unknown as Record<string, unknown>,
      request: requestOut(req),
      data_source: series.source,
      as_of: iso(asOf),
    };
    // Exactly what a read from the database gives back (JSON numbers, no undefined), so the fresh answer
    // and a later fetch are identical.
    return JSON.parse(JSON.stringify(record)) as NewBacktestRun;
  }

  private async grid(
    strategy: StrategyDefinition,
    full: Candles,
    warmup: number,
    combos: Combos,
    base: BacktestConfig,
    override: RiskOverride,
    req: BacktestRequest,
    call: Pick<ToolCall, 'signal' | 'progress'> | undefined,
    notes: string[],
  ) {
    const n = full.time.length;
    const split = shiftSplit(splitOrThrow(n - warmup, req.train_fraction), warmup);
    const [trainFrom, trainTo] = split.train;
    const [testFrom, testTo] = split.test;
    checkWindow('training part', trainTo - trainFrom, req);
    checkWindow('test part', testTo - testFrom, req);
    // Ranked on the training part, with the warm-up bars before it as the indicators' history.
    const ranked = await this.evaluateGrid(
      strategy.name,
      sliceCandles(full, 0, trainTo),
      trainFrom,
      combos.valid,
      base,
      override,
      req.rank_by,
      call,
    );
    const top = ranked.slice(0, GRID_TABLE_ROWS);
    const oos = top.map((g) =>
      runRange(strategy, full, g.params, comboConfig(strategy, base, g.params, override), testFrom, testTo),
    );
    const best = top[0]!;
    const bestOos = oos[0]!;
    if (rankValue(best.metrics, req.rank_by) === null) {
      notes.push(
        `No combination has a ${req.rank_by} in sample (e.g. no trades), so the first combination stands as the best.`,
      );
    }
    const isSharpe = best.metrics.sharpe;
    const oosSharpe = bestOos.metrics.sharpe;
    notes.push(
      `In sample (${iso(full.time[trainFrom]!).slice(0, 10)} to ${iso(candleCloseTime(full.time[trainTo - 1]!, req.timeframe)).slice(0, 10)}) ` +
        `the best of ${combos.valid.length} combinations returned ${fmtPct(best.metrics.totalReturnPct)} ` +
        `(Sharpe ${fmtNum(isSharpe)}); out of sample it returned ${fmtPct(bestOos.metrics.totalReturnPct)} ` +
        `(Sharpe ${fmtNum(oosSharpe)}). The out-of-sample figures are the honest estimate; a large drop means overfitting.`,
    );
    if (combos.skipped > 0) notes.push(combos.skippedNote);
    const varied = Object.keys(req.param_grid ?? {});
    return {
      metrics: bestOos.metrics,
      trades: bestOos.trades,
      equity: bestOos.equity,
      traded: { from: testFrom, to: testTo },
      best: best.params as Record<string, unknown>,
      config: comboConfig(strategy, base, best.params, override),
      grid: {
        combinations: combos.total,
        skipped_invalid: combos.skipped,
        rank_by: req.rank_by,
        in_sample: span(full, trainFrom, trainTo, req.timeframe),
        out_of_sample: span(full, testFrom, testTo, req.timeframe),
        best_params: best.params as Record<string, unknown>,
        table: top.map((g, i) => ({
          rank: i + 1,
          params: Object.fromEntries(varied.map((k) => [k, (g.params as Record<string, unknown>)[k]])),
          in_sample: summaryOut(g.metrics),
          out_of_sample: summaryOut(oos[i]!.metrics),
        })),
      } satisfies GridOut,
    };
  }

  private async walkForward(
    strategy: StrategyDefinition,
    full: Candles,
    warmup: number,
    list: GridParams[],
    config: BacktestConfig,
    req: BacktestRequest,
    call: Pick<ToolCall, 'signal' | 'progress'> | undefined,
    notes: string[],
  ) {
    const n = full.time.length;
    const periodBars = n - warmup;
    // Test windows tile the period after the first training window: train = test * f / (1 - f).
    const ratio = req.train_fraction / (1 - req.train_fraction);
    const testBars = Math.floor(periodBars / (req.windows + ratio));
    const trainBars = Math.floor(testBars * ratio);
    checkWindow('training window', trainBars, req);
    checkWindow('test window', testBars, req);
    const windows = walkForwardWindows(periodBars, { trainBars, testBars, anchored: req.anchored }).map((w) =>
      shiftSplit(w, warmup),
    );
    checkBudget(strategy.name, list.length * windows.length, trainBarsFor(windows, WARMUP_BARS));
    if (list.length * windows.length > MAX_WALK_FORWARD_RUNS) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `walk_forward would run ${list.length} combinations x ${windows.length} windows = ` +
          `${list.length * windows.length} backtests; at most ${MAX_WALK_FORWARD_RUNS}. Drop values from param_grid ` +
          'or use fewer windows.',
      );
    }
    call?.progress?.(0, windows.length, 'walk-forward');
    const task: BacktestTask = {
      kind: 'walk_forward',
      strategy: strategy.name,
      candles: full,
      combos: list,
      config,
      windows,
      rankBy: req.rank_by,
      historyBars: WARMUP_BARS,
    };
    let wf: WalkForwardResult;
    try {
      wf = (await this.execute(task, call?.signal)) as WalkForwardResult;
    } catch (err) {
      // A short can lose more than the capital; nothing is left for the next window then.
      if (err instanceof Error && /capital exhausted/.test(err.message)) {
        throw new AppError(
          'INVALID_ARGUMENT',
          'The walk-forward lost the whole capital before its last window (shorts can lose more than the ' +
            'capital). Lower position_fraction, set stop_loss_pct, or leave allow_short off.',
        );
      }
      throw err;
    }
    call?.progress?.(windows.length, windows.length, 'walk-forward');
    const from = windows[0]!.test[0];
    const to = windows[windows.length - 1]!.test[1];
    const untested = n - to;
    notes.push(
      `Walk-forward: ${windows.length} windows of ${trainBars} training and ${testBars} test candles ` +
        `(${req.anchored ? 'anchored' : 'rolling'}); the headline metrics chain the test windows, capital carried over.`,
    );
    if (untested > 0)
      notes.push(
        `The last ${untested} candles of the period fall short of a whole test window and are not tested.`,
      );
    const inSampleMean =
      wf.windows.reduce((s, w) => s + w.inSample.totalReturnPct, 0) / Math.max(1, wf.windows.length);
    const oosMean =
      wf.windows.reduce((s, w) => s + w.outOfSample.totalReturnPct, 0) / Math.max(1, wf.windows.length);
    notes.push(`Average window return: ${fmtPct(inSampleMean)} in training, ${fmtPct(oosMean)} in test.`);
    return {
      metrics: wf.outOfSample,
      trades: wf.trades,
      equity: wf.equity,
      traded: { from, to },
      windows: wf.windows.map((w, k) => ({
        index: k + 1,
        train: span(full, w.train[0], w.train[1], req.timeframe),
        test: span(full, w.test[0], w.test[1], req.timeframe),
        params: w.best as Record<string, unknown>,
        in_sample: summaryOut(w.inSample),
        out_of_sample: summaryOut(w.outOfSample),
      })),
    };
  }

  /**
   * Ranks combinations on `candles` from bar `start` (the bars before are history) in chunks, on worker
   * threads when available, best first.
   */
  private async evaluateGrid(
    strategy: string,
    candles: Candles,
    start: number,
    combos: GridParams[],
    config: BacktestConfig,
    override: RiskOverride,
    rankBy: RankBy,
    call: Pick<ToolCall, 'signal' | 'progress'> | undefined,
  ): Promise<GridResult[]> {
    checkBudget(strategy, combos.length, candles.time.length);
    const pool = await this.workerPool();
    const size = pool ? Math.max(25, Math.ceil(combos.length / (pool.maxThreads * 4))) : INLINE_CHUNK;
    const chunks: GridParams[][] = [];
    for (let i = 0; i < combos.length; i += size) chunks.push(combos.slice(i, i + size));
    const compact = pool ? compactCandles(candles) : candles;
    let done = 0;
    call?.progress?.(0, combos.length, 'grid search');
    const results = await mapChunks(chunks, pool !== null, async (chunk) => {
      const task: BacktestTask = {
        kind: 'grid',
        strategy,
        candles: compact,
        combos: chunk,
        config,
        override,
        rankBy,
        start,
      };
      const ranked = (await this.execute(task, call?.signal)) as GridResult[];
      done += chunk.length;
      call?.progress?.(done, combos.length, 'grid search');
      return ranked;
    });
    // Chunks concatenated in grid order: ties rank as one call over all combinations would rank them.
    return rankResults(results.flat(), rankBy);
  }

  /** Runs a task on a worker thread when the pool exists, else inline after yielding to the event loop. */
  private async execute(task: BacktestTask, signal: AbortSignal | undefined): Promise<unknown> {
    if (signal?.aborted) throw cancelled();
    const pool = await this.workerPool();
    if (pool) {
      try {
        const payload =
          task.kind === 'walk_forward' ? { ...task, candles: compactCandles(task.candles) } : task;
        return await pool.run(payload, signal ? { signal } : {});
      } catch (err) {
        if (signal?.aborted) throw cancelled();
        throw err;
      }
    }
    await new Promise((resolve) => setImmediate(resolve));
    if (signal?.aborted) throw cancelled();
    return task.kind === 'grid' ? runGridTask(task) : runWalkForwardTask(task);
  }

  /** The piscina pool, started on first use, only where the compiled worker file exists (dist/). */
  private workerPool(): Promise<Piscina | null> {
    this.poolLoad ??= this.startPool();
    return this.poolLoad;
  }

  private async startPool(): Promise<Piscina | null> {
    if (this.options.workers === false || this.closed) return null;
    const url = new URL('./backtest-worker.js', import.meta.url);
    if (!import.meta.url.endsWith('.js') || !existsSync(fileURLToPath(url))) return null;
    try {
      const { Piscina: Pool } = await import('piscina');
      return new Pool({
        filename: url.href,
        // minThreads 0: threads start on demand and idleTimeout retires them again.
        minThreads: 0,
        maxThreads: Math.max(1, Math.min(4, availableParallelism() - 1)),
        idleTimeout: 30_000,
      });
    } catch (error) {
      log.warn('backtest worker threads unavailable; grids run inline', { error });
      return null;
    }
  }
}

type ConfigOut = ReturnType<typeof configOut>;
type MetricsOut = ReturnType<typeof metricsOut>;

/** Maps chunks in order: concurrently (a pool spreads them), or one after another (inline). */
async function mapChunks<T, R>(items: T[], concurrent: boolean, fn: (item: T) => Promise<R>): Promise<R[]> {
  if (concurrent) return Promise.all(items.map(fn));
  const out: R[] = [];
  for (const item of items) out.push(await fn(item));
  return out;
}

/**
 * One request's CPU budget in bar evaluations (backtests x bars x the strategy's relative cost): about
 * ten seconds of one core, the size of vectorbt's 4,851-pair SMA grid over BTC's whole 1h history. The
 * combination caps alone would let a long period or a costly strategy hold a worker for minutes.
 */
export const MAX_BAR_EVALUATIONS = 400_000_000;
/** smc_structure recomputes the smart-money analysis per combination. */
const STRATEGY_COST: Record<string, number> = { smc_structure: 20, rules: 3 };

function checkBudget(strategy: string, runs: number, bars: number): void {
  const cost = runs * bars * (STRATEGY_COST[strategy] ?? 1);
  if (cost > MAX_BAR_EVALUATIONS) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `This would evaluate ${runs} backtests over ${bars} bars of ${strategy} (${(cost / 1e6).toFixed(0)}M bar ` +
        `evaluations; at most ${MAX_BAR_EVALUATIONS / 1e6}M per request). Use fewer param_grid values, a ` +
        'shorter period or a higher timeframe.',
    );
  }
}

/**
 * The longest training span among walk-forward windows with its history: the bars each in-sample run
 * covers.
 */
function trainBarsFor(windows: TrainTestSplit[], historyBars: number): number {
  return Math.max(...windows.map((w) => w.train[1] - Math.max(0, w.train[0] - historyBars)));
}

function cancelled(): AppError {
  return new AppError('INVALID_ARGUMENT', 'The backtest was cancelled by the client.');
}

/** Copies of the columns (a view would carry its whole underlying buffer to a worker). */
function compactCandles(c: Candles): Candles {
  return {
    time: c.time.slice(),
    open: c.open.slice(),
    high: c.high.slice(),
    low: c.low.slice(),
    close: c.close.slice(),
    volume: c.volume.slice(),
  };
}

// ---------------------------------------------------------------------------------------------------
// Validation

function findStrategy(name: string | undefined): StrategyDefinition {
  const names = STRATEGIES.map((s) => s.name);
  const found = STRATEGIES.find((s) => s.name === name?.trim().toLowerCase());
  if (!found) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `Unknown strategy ${JSON.stringify(name ?? '')}; use one of ${names.join(', ')} ` +
        '(rules takes your own JSON spec).',
      { strategy: name, strategies: names },
    );
  }
  return found;
}

/** Parameter names of a strategy's schema (a zod object), or null when it is not an object schema. */
function paramNames(strategy: StrategyDefinition): string[] | null {
  const shape = (strategy.params as unknown as { shape?: Record<string, unknown> }).shape;
  return shape && typeof shape === 'object' ? Object.keys(shape) : null;
}

function describeParams(strategy: StrategyDefinition): string {
  const names = paramNames(strategy);
  if (!names) return '';
  const defaults = strategy.params.safeParse({});
  const values = defaults.success ? (defaults.data as Record<string, unknown>) : {};
  return names
    .map((k) => (values[k] === undefined ? k : `${k} (default ${JSON.stringify(values[k])})`))
    .join(', ');
}

/** The strategy's parameters, defaults filled in; INVALID_ARGUMENT naming the bad one. */
function strategyParams(strategy: StrategyDefinition, req: BacktestRequest): Record<string, unknown> {
  const isRules = strategy.name === 'rules';
  if (!isRules && req.spec !== undefined) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `spec is the JSON rule strategy and only applies to strategy "rules"; for ${strategy.name} pass params ` +
        `(${describeParams(strategy)}).`,
    );
  }
  if (isRules && req.spec !== undefined && req.params !== undefined) {
    throw new AppError(
      'INVALID_ARGUMENT',
      'For strategy "rules" pass the rule strategy as spec, not params.',
    );
  }
  const raw = isRules ? (req.spec ?? req.params) : (req.params ?? {});
  const field = isRules ? (req.spec !== undefined ? 'spec' : 'params') : 'params';
  if (isRules && raw === undefined) {
    throw new AppError(
      'INVALID_ARGUMENT',
      'Strategy "rules" needs spec, a JSON rule strategy, e.g. {"entry_long": {"left": "close", "op": ' +
        '"crosses_above", "right": "ema(50)"}, "exit_long": {"left": "close", "op": "crosses_below", ' +
        '"right": "ema(50)"}, "stop_loss_pct": 0.03}.',
    );
  }
  const onlyShort = typeof raw === 'object' && raw !== null && 'entry_short' in raw && !('entry_long' in raw);
  if (isRules && !req.allow_short && onlyShort) {
    throw new AppError(
      'INVALID_ARGUMENT',
      'The spec only opens shorts (entry_short) while allow_short is false, so it could never trade: set ' +
        'allow_short to true, or add entry_long.',
    );
  }
  const names = paramNames(strategy);
  if (names && !isRules) {
    const unknown = Object.keys(raw!).filter((k) => !names.includes(k));
    if (unknown.length > 0) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `${strategy.name} has no parameter ${unknown.map((k) => JSON.stringify(k)).join(', ')}; its parameters: ` +
          `${describeParams(strategy)}.`,
        { unknown },
      );
    }
  }
  const parsed = strategy.params.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${[field, ...i.path].join('.')}: ${i.message}`).join('; ');
    const help = isRules ? '' : ` Parameters of ${strategy.name}: ${describeParams(strategy)}.`;
    throw new AppError(
      'INVALID_ARGUMENT',
      `${isRules ? 'Invalid rule spec' : `Invalid parameters for ${strategy.name}`}: ${issues}.${help}`,
      {
        issues: parsed.error.issues.map((i) => ({ path: [field, ...i.path].join('.'), message: i.message })),
      },
    );
  }
  return parsed.data as Record<string, unknown>;
}

interface Combos {
  valid: GridParams[];
  total: number;
  skipped: number;
  skippedNote: string;
}

/** Every combination of param_grid over the base parameters, validated; invalid ones are skipped with a note. */
function gridCombos(
  strategy: StrategyDefinition,
  base: Record<string, unknown>,
  space: Record<string, ParamValue[]>,
): Combos {
  const keys = Object.keys(space);
  if (keys.length === 0) throw new AppError('INVALID_ARGUMENT', 'param_grid names no parameter.');
  const names = paramNames(strategy);
  const unknown = names ? keys.filter((k) => !names.includes(k)) : [];
  if (unknown.length > 0) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `param_grid: ${strategy.name} has no parameter ${unknown.map((k) => JSON.stringify(k)).join(', ')}; ` +
        `its parameters: ${describeParams(strategy)}.`,
    );
  }
  const total = keys.reduce((p, k) => p * new Set(space[k]).size, 1);
  if (total > MAX_GRID_COMBINATIONS) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `param_grid has ${total} combinations (${keys.map((k) => `${k}: ${new Set(space[k]).size}`).join(' x ')}); ` +
        `at most ${MAX_GRID_COMBINATIONS}. Drop values or parameters.`,
    );
  }
  const dedup = Object.fromEntries(keys.map((k) => [k, [...new Set(space[k])]]));
  const valid: GridParams[] = [];
  const problems: string[] = [];
  for (const combo of parameterGrid(dedup)) {
    const parsed = strategy.params.safeParse({ ...base, ...combo });
    if (parsed.success) valid.push(parsed.data as GridParams);
    else if (problems.length < 3) {
      const issue = parsed.error.issues[0]!;
      problems.push(`${JSON.stringify(combo)}: ${[...issue.path].join('.') || 'params'}: ${issue.message}`);
    }
  }
  const skipped = total - valid.length;
  if (valid.length === 0) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `No combination of param_grid is valid for ${strategy.name}, e.g. ${problems.join('; ')}. ` +
        `Parameters: ${describeParams(strategy)}.`,
    );
  }
  return {
    valid,
    total,
    skipped,
    skippedNote: `${skipped} of ${total} param_grid combinations were skipped as invalid, e.g. ${problems.join('; ')}.`,
  };
}

/** The engine configuration without stops and targets (see `comboConfig`), and the request's own ones. */
function engineConfig(req: BacktestRequest): { base: BacktestConfig; override: RiskOverride } {
  const tfMs = timeframeMs(req.timeframe);
  return {
    base: {
      initialCapital: req.initial_capital,
      feeRate: req.fee_rate,
      slippage: req.slippage,
      sizing:
        req.sizing === 'risk_per_trade'
          ? { mode: 'risk_per_trade', riskPct: req.risk_per_trade_pct }
          : { mode: 'fixed_fraction', fraction: req.position_fraction },
      allowShort: req.allow_short,
      periodsPerYear: req.timeframe === '1M' ? 12 : YEAR_MS / tfMs,
    },
    override: {
      ...(req.stop_loss_pct !== undefined && { stopLossPct: req.stop_loss_pct }),
      ...(req.take_profit_pct !== undefined && { takeProfitPct: req.take_profit_pct }),
    },
  };
}

/**
 * The one configuration a walk-forward runs with: its combinations must not imply different stops or
 * targets (a walk-forward applies one configuration to every window).
 */
function uniformConfig(
  strategy: StrategyDefinition,
  base: BacktestConfig,
  combos: GridParams[],
  override: RiskOverride,
): BacktestConfig {
  const first = comboConfig(strategy, base, combos[0], override);
  for (const combo of combos) {
    const c = comboConfig(strategy, base, combo, override);
    if (c.stopLossPct !== first.stopLossPct || c.takeProfitPct !== first.takeProfitPct) {
      throw new AppError(
        'INVALID_ARGUMENT',
        'walk_forward applies one stop and target to every window, so param_grid cannot vary stop_loss_pct or ' +
          'take_profit_pct of the spec; fix them in spec (or set stop_loss_pct / take_profit_pct), or use mode grid.',
      );
    }
  }
  return first;
}

/** An ISO time or date; a date alone ends at the end of that day when it is the end. */
function parseTime(value: string | undefined, which: 'start' | 'end'): number | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  if (!Number.isFinite(t)) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `${which} must be an ISO time or date, got ${JSON.stringify(value)}.`,
    );
  }
  return which === 'end' && /^\d{4}-\d{2}-\d{2}$/.test(value) ? t + DAY_MS : t;
}

function splitOrThrow(bars: number, fraction: number): TrainTestSplit {
  try {
    return splitTrainTest(bars, fraction);
  } catch {
    throw new AppError('INSUFFICIENT_DATA', `${bars} candles cannot be split into training and test parts.`);
  }
}

function shiftSplit(w: TrainTestSplit, by: number): TrainTestSplit {
  return { train: [w.train[0] + by, w.train[1] + by], test: [w.test[0] + by, w.test[1] + by] };
}

function checkWindow(what: string, bars: number, req: BacktestRequest): void {
  if (bars >= MIN_WINDOW_BARS) return;
  const hint =
    req.mode === 'walk_forward'
      ? 'Widen the period, use fewer windows, or a smaller timeframe.'
      : 'Widen the period or use a smaller timeframe.';
  throw new AppError(
    'INSUFFICIENT_DATA',
    `The ${what} would hold ${bars} ${req.timeframe} candles; each needs at least ${MIN_WINDOW_BARS}. ${hint}`,
    { bars },
  );
}

// ---------------------------------------------------------------------------------------------------
// Running

/**
 * One run trading bars [from, to) of `full`: signals over every bar up to `to` (the earlier ones warm
 * the indicators up), fills from bar `from`'s open, metrics of the range. Trades keep indices into `full`.
 */
function runRange(
  strategy: StrategyDefinition,
  full: Candles,
  params: Record<string, unknown>,
  config: BacktestConfig,
  from: number,
  to: number,
): { metrics: BacktestMetrics; trades: Trade[]; equity: Float64Array } {
  const upTo = sliceCandles(full, 0, to);
  const signals = strategy.signals(upTo, params as never, new Map());
  return runBacktestFrom(upTo, signals, config, from);
}

// ---------------------------------------------------------------------------------------------------
// Presenting

const iso = (ms: number) => new Date(ms).toISOString();
/** Normalises -0 and NaN (no JSON for NaN). */
const clean = (x: number) => (Number.isFinite(x) ? x + 0 : 0);
const r4 = (x: number) => clean(Math.round(x * 1e4) / 1e4);
const r4n = (x: number | null) => (x === null || !Number.isFinite(x) ? null : r4(x));
/** Prices and amounts: 10 significant digits. */
const sig = (x: number) => clean(Number(x.toPrecision(10)));
const fmtPct = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(2)} %`;
const fmtNum = (x: number | null) => (x === null || !Number.isFinite(x) ? 'n/a' : x.toFixed(2));

function span(c: Candles, from: number, to: number, tf: Timeframe): Span {
  return { start: iso(c.time[from]!), end: iso(candleCloseTime(c.time[to - 1]!, tf)), bars: to - from };
}

function metricsOut(m: BacktestMetrics) {
  return {
    start: iso(m.startTime),
    end: iso(m.endTime),
    bars: m.bars,
    initial_capital: sig(m.initialCapital),
    final_equity: sig(m.finalEquity),
    total_return_pct: r4(m.totalReturnPct),
    cagr_pct: r4n(m.cagrPct), // overflows to Infinity for a short period with a large gain
    max_drawdown_pct: r4(m.maxDrawdownPct),
    max_drawdown_amount: sig(m.maxDrawdownAmount),
    max_drawdown_duration_ms: Math.round(m.maxDrawdownDurationMs),
    sharpe: r4n(m.sharpe),
    sortino: r4n(m.sortino),
    calmar: r4n(m.calmar),
    sqn: r4n(m.sqn),
    trades: m.trades,
    win_rate_pct: r4n(m.winRatePct),
    profit_factor: r4n(m.profitFactor),
    expectancy: m.expectancy === null ? null : sig(m.expectancy),
    exposure_pct: r4(m.exposurePct),
    avg_trade_duration_ms: m.avgTradeDurationMs === null ? null : Math.round(m.avgTradeDurationMs),
    median_trade_duration_ms: m.medianTradeDurationMs === null ? null : Math.round(m.medianTradeDurationMs),
    best_trade_pct: r4n(m.bestTradePct),
    worst_trade_pct: r4n(m.worstTradePct),
    fees_paid: sig(m.feesPaid),
    buy_and_hold_return_pct: r4(m.buyAndHoldReturnPct),
  };
}

function pickSummary(m: ReturnType<typeof metricsOut>) {
  return {
    total_return_pct: m.total_return_pct,
    cagr_pct: m.cagr_pct,
    max_drawdown_pct: m.max_drawdown_pct,
    sharpe: m.sharpe,
    sortino: m.sortino,
    calmar: m.calmar,
    sqn: m.sqn,
    trades: m.trades,
    win_rate_pct: m.win_rate_pct,
    profit_factor: m.profit_factor,
    exposure_pct: m.exposure_pct,
    buy_and_hold_return_pct: m.buy_and_hold_return_pct,
  };
}

function summaryOut(m: BacktestMetrics) {
  return pickSummary(metricsOut(m));
}

function tradeOut(t: Trade) {
  return {
    side: t.side,
    entry_time: iso(t.entryTime),
    entry_price: sig(t.entryPrice),
    exit_time: iso(t.exitTime),
    exit_price: sig(t.exitPrice),
    exit_reason: t.exitReason,
    quantity: sig(t.quantity),
    fees: sig(t.fees),
    pnl: sig(t.pnl),
    return_pct: r4(t.returnPct * 100),
    bars: t.bars,
    stop_price: t.stopPrice === null || !Number.isFinite(t.stopPrice) ? null : sig(t.stopPrice),
    target_price: t.targetPrice === null || !Number.isFinite(t.targetPrice) ? null : sig(t.targetPrice),
  };
}

function configOut(c: BacktestConfig, warmup: number) {
  return {
    initial_capital: c.initialCapital,
    fee_rate: c.feeRate,
    slippage: c.slippage,
    sizing: {
      mode: c.sizing.mode,
      fraction: c.sizing.mode === 'fixed_fraction' ? c.sizing.fraction : null,
      risk_pct: c.sizing.mode === 'risk_per_trade' ? c.sizing.riskPct : null,
    },
    allow_short: c.allowShort,
    stop_loss_pct: c.stopLossPct ?? null,
    take_profit_pct: c.takeProfitPct ?? null,
    periods_per_year: r4(c.periodsPerYear),
    warmup_bars: warmup,
  };
}

function requestOut(req: BacktestRequest): Record<string, unknown> {
  const { charts: _charts, run_id: _runId, compare_run_ids: _compare, ...rest } = req;
  return rest;
}

/**
 * The equity of bars [from, to) (`equity` as long as that), from the initial capital at the first open,
 * downsampled to at most MAX_EQUITY_POINTS: per bucket the lowest and highest equity and the deepest
 * drawdown are kept, so no fall disappears between points.
 */
function equityCurve(
  full: Candles,
  from: number,
  to: number,
  equity: Float64Array,
  config: BacktestConfig,
  tf: Timeframe,
): EquityOut[] {
  const n = to - from;
  const initial = config.initialCapital;
  const entry = full.open[from]! * (1 + config.slippage) * (1 + config.feeRate);
  const dd = new Float64Array(n);
  let peak = initial;
  for (let i = 0; i < n; i++) {
    peak = Math.max(peak, equity[i]!);
    dd[i] = peak > 0 ? (1 - equity[i]! / peak) * 100 : 0;
  }
  const point = (i: number): EquityOut => ({
    time: iso(candleCloseTime(full.time[from + i]!, tf)),
    equity: sig(equity[i]!),
    drawdown_pct: r4(dd[i]!),
    buy_and_hold: sig((initial / entry) * full.close[from + i]!),
  });
  const start: EquityOut = {
    time: iso(full.time[from]!),
    equity: sig(initial),
    drawdown_pct: 0,
    buy_and_hold: sig(initial / (1 + config.slippage) / (1 + config.feeRate)),
  };
  const budget = MAX_EQUITY_POINTS - 1;
  if (n <= budget) return [start, ...Array.from({ length: n }, (_, i) => point(i))];
  const buckets = Math.floor((budget - 2) / 3);
  const keep = new Set<number>([0, n - 1]);
  for (let b = 0; b < buckets; b++) {
    const lo = Math.floor((b * n) / buckets);
    const hi = Math.floor(((b + 1) * n) / buckets);
    let min = lo;
    let max = lo;
    let deep = lo;
    for (let i = lo; i < hi; i++) {
      if (equity[i]! < equity[min]!) min = i;
      if (equity[i]! > equity[max]!) max = i;
      if (dd[i]! > dd[deep]!) deep = i;
    }
    keep.add(min).add(max).add(deep);
  }
  return [start, ...[...keep].sort((a, b) => a - b).map(point)];
}

/** Candles of [from, to) merged into at most MAX_PRICE_BARS buckets (first open, max high, min low, last close). */
function priceBars(full: Candles, from: number, to: number): StoredResult['price'] {
  const n = to - from;
  const per = Math.max(1, Math.ceil(n / MAX_PRICE_BARS));
  const out: StoredResult['price'] = [];
  for (let s = from; s < to; s += per) {
    const e = Math.min(to, s + per);
    let hi = -Infinity;
    let lo = Infinity;
    for (let i = s; i < e; i++) {
      hi = Math.max(hi, full.high[i]!);
      lo = Math.min(lo, full.low[i]!);
    }
    out.push([full.time[s]!, sig(full.open[s]!), sig(hi), sig(lo), sig(full.close[e - 1]!)]);
  }
  return out;
}

function sourceNote(series: HistorySeries, now: number): string | null {
  if (series.source !== 'offline') return null;
  const fallback = series.fallback ? ` (${series.fallback.reason})` : '';
  return (
    `Offline data: candles from the bundled Binance snapshot${fallback}; the last close used is ` +
    `${iso(series.asOf)} (${formatAge(now - series.asOf)} before this run).`
  );
}

// ---------------------------------------------------------------------------------------------------
// Charts

function fetchedNote(run: BacktestRun): string {
  return `Stored run fetched: computed ${run.created_at}; nothing was recomputed, data_age_ms is measured now.`;
}

/** The answer for a run record: the same for a fresh run and for the stored one fetched later. */
function presentRun(run: RunRecord, extraNotes: string[], now: number) {
  const r = run.result as unknown as StoredResult;
  return {
    kind: 'run' as const,
    run_id: run.id,
    created_at: run.created_at,
    symbol: run.symbol,
    timeframe: run.timeframe,
    data_source: run.data_source,
    exchange: run.exchange,
    as_of: run.as_of,
    data_age_ms: Math.max(0, now - Date.parse(run.as_of)),
    candles: r.candles,
    first_candle: r.first_candle,
    mode: run.mode,
    strategy: run.strategy,
    params: run.params,
    config: run.config as ConfigOut,
    period: r.period,
    metrics: run.metrics as MetricsOut,
    buy_and_hold: r.buy_and_hold,
    trades_total: r.trades_total,
    trades: r.trades.slice(-MAX_TRADES_SHOWN),
    equity: r.equity,
    windows: r.windows,
    grid: r.grid,
    charts: chartLinks(run.id, 'png'),
    notes: [...r.notes, ...extraNotes],
    disclaimer: DISCLAIMER,
  };
}

function chartLinks(id: string | null, format: ChartFormat) {
  return {
    equity_url: id ? `/charts/backtests/${id}/equity.${format}` : null,
    price_url: id ? `/charts/backtests/${id}/price.${format}` : null,
    format,
  };
}

/** Renders both charts of a run and attaches them to the answer as images (see `backtestImages`). */
async function attachCharts(answer: BacktestAnswer, run: RunRecord, format: ChartFormat): Promise<void> {
  const rendered = await Promise.all([
    renderChart(equitySvg(run), format),
    renderChart(priceSvg(run), format),
  ]);
  const note = rendered.find((r) => r.note)?.note;
  if (note) answer.notes.push(note);
  answer.charts = chartLinks(run.id, rendered[0]!.format);
  IMAGES.set(
    answer,
    rendered.map((r) => ({ data: r.data.toString('base64'), mimeType: r.mimeType })),
  );
}

function chartTitle(run: RunRecord | BacktestRun): string {
  return `${run.symbol} ${run.timeframe} | ${run.strategy} (${run.mode.replace('_', '-')})`;
}

function chartCaption(run: RunRecord | BacktestRun): string {
  const source =
    run.data_source === 'offline' ? `offline snapshot (${run.exchange})` : `${run.exchange} (live)`;
  const created = run.created_at ? Date.parse(run.created_at) : null;
  const age =
    created === null ? '' : `, ${formatAge(Math.max(0, created - Date.parse(run.as_of)))} before the run`;
  const id = 'id' in run && run.id ? ` | run ${run.id}` : '';
  return `Data: ${source}, last candle closed ${utcStamp(Date.parse(run.as_of))}${age}${id} | Not financial advice`;
}

function equitySvg(run: RunRecord | BacktestRun): string {
  const r = run.result as unknown as StoredResult;
  const m = run.metrics as MetricsOut;
  const windows = r.windows ?? [];
  return equityChartSvg({
    title: chartTitle(run),
    subtitle:
      `Return ${fmtPct(m.total_return_pct)} (buy and hold ${fmtPct(m.buy_and_hold_return_pct)}) | max drawdown ` +
      `${m.max_drawdown_pct.toFixed(2)} % | Sharpe ${fmtNum(m.sharpe)} | ${m.trades} trades` +
      (run.mode === 'single' ? '' : ' | out of sample'),
    caption: chartCaption(run),
    points: r.equity.map((p) => ({
      time: Date.parse(p.time),
      equity: p.equity,
      drawdownPct: p.drawdown_pct,
      benchmark: p.buy_and_hold,
    })),
    initialCapital: (run.config as { initial_capital: number }).initial_capital,
    shaded: windows
      .filter((_, k) => k % 2 === 0)
      .map((w) => ({
        start: Date.parse(w.test.start),
        end: Date.parse(w.test.end),
        label: `window ${w.index}`,
      })),
  });
}

function priceSvg(run: RunRecord | BacktestRun): string {
  const r = run.result as unknown as StoredResult;
  const shown =
    r.trades.length < r.trades_total ? ` (last ${r.trades.length} of ${r.trades_total} stored)` : '';
  return priceChartSvg({
    title: `${chartTitle(run)}: trades`,
    subtitle: `${r.trades_total} trades${shown}, ${r.period.traded.start.slice(0, 10)} to ${r.period.traded.end.slice(0, 10)}`,
    caption: chartCaption(run),
    bars: r.price.map(([time, open, high, low, close]) => ({ time, open, high, low, close })),
    trades: r.trades.map((t) => ({
      side: t.side,
      entryTime: Date.parse(t.entry_time),
      entryPrice: t.entry_price,
      exitTime: Date.parse(t.exit_time),
      exitPrice: t.exit_price,
      pnl: t.pnl,
    })),
  });
}

// ---------------------------------------------------------------------------------------------------
// Text

export function formatBacktestSummary(result: { kind: 'run' | 'comparison' }): string {
  if (result.kind === 'comparison') {
    const c = result as ComparisonAnswer;
    const lines = c.comparison.runs.map(
      (r) =>
        `${r.run_id}: ${r.symbol} ${r.timeframe} ${r.strategy} (${r.mode}) ${r.period_start.slice(0, 10)} to ` +
        `${r.period_end.slice(0, 10)}: return ${fmtPct(r.metrics.total_return_pct)}, max drawdown ` +
        `${r.metrics.max_drawdown_pct.toFixed(2)} %, Sharpe ${fmtNum(r.metrics.sharpe)}, ${r.metrics.trades} trades`,
    );
    return [`Comparison of ${lines.length} backtest runs:`, ...lines, ...c.notes, c.disclaimer].join('\n');
  }
  const a = result as BacktestAnswer;
  const m = a.metrics;
  const scope = a.mode === 'single' ? '' : ' out of sample';
  return [
    `Backtest ${a.symbol} ${a.timeframe}, ${a.strategy} (${a.mode}), ${a.period.traded.start.slice(0, 10)} to ` +
      `${a.period.traded.end.slice(0, 10)}${scope}: return ${fmtPct(m.total_return_pct)} vs buy and hold ` +
      `${fmtPct(m.buy_and_hold_return_pct)}; max drawdown ${m.max_drawdown_pct.toFixed(2)} %; Sharpe ` +
      `${fmtNum(m.sharpe)}, Sortino ${fmtNum(m.sortino)}; ${m.trades} trades, win rate ` +
      `${m.win_rate_pct === null ? 'n/a' : `${m.win_rate_pct.toFixed(1)} %`}, profit factor ${fmtNum(m.profit_factor)}.`,
    `Run id: ${a.run_id ?? 'not stored'}. Data: ${a.data_source} (${a.exchange}), last candle closed ${a.as_of}.`,
    ...a.notes,
    a.disclaimer,
  ].join('\n');
}

export type BacktestAnswer = ReturnType<typeof presentRun>;
export type ComparisonAnswer = Awaited<ReturnType<BacktestService['compare']>>;
