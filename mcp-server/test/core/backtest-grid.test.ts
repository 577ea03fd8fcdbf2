/** Parameter grids, ranking, and walk-forward windows and validation. */
import { describe, expect, it } from 'vitest';
import { sliceCandles, type Candles } from '../../src/core/candles.js';
import { ema } from '../../src/core/indicators/index.js';
import {
  DEFAULT_BACKTEST_CONFIG,
  evaluateGrid,
  parameterGrid,
  rankResults,
  rankValue,
  runBacktest,
  splitTrainTest,
  walkForward,
  walkForwardWindows,
  type BacktestConfig,
  type GridResult,
  type MakeSignals,
  type RankBy,
  type Signals,
} from '../../src/core/backtest/index.js';
import { fixturePath, loadCandlesCsv } from '../helpers/csv.js';

const CONFIG: BacktestConfig = { ...DEFAULT_BACKTEST_CONFIG, stopLossPct: 0.05 };

/** Long while the fast EMA is above the slow one; `enabled: false` never trades. */
const emaCross: MakeSignals = (params, candles) => {
  const n = candles.close.length;
  const enterLong = new Uint8Array(n);
  const exitLong = new Uint8Array(n);
  if (params.enabled === false) return { enterLong, exitLong };
  const fast = ema(candles.close, params.fast as number);
  const slow = ema(candles.close, params.slow as number);
  for (let i = 0; i < n; i++) {
    enterLong[i] = fast[i] > slow[i] ? 1 : 0;
    exitLong[i] = fast[i] < slow[i] ? 1 : 0;
  }
  return { enterLong, exitLong };
};

const btc = loadCandlesCsv(fixturePath('BTCUSDT-1h-20k.csv.gz'), 6_000);

describe('parameterGrid', () => {
  it('is the cartesian product, first key slowest, last key fastest', () => {
    expect(parameterGrid({ a: [1, 2], b: ['x', 'y', 'z'], c: [true] })).toEqual([
      { a: 1, b: 'x', c: true },
      { a: 1, b: 'y', c: true },
      { a: 1, b: 'z', c: true },
      { a: 2, b: 'x', c: true },
      { a: 2, b: 'y', c: true },
      { a: 2, b: 'z', c: true },
    ]);
    expect(parameterGrid({ fast: [5, 10, 20], slow: [50, 100], atr: [1, 2, 3, 4] })).toHaveLength(24);
  });

  it('has one empty combination for an empty space and none when a parameter has no values', () => {
    expect(parameterGrid({})).toEqual([{}]);
    expect(parameterGrid({ a: [1, 2], b: [] })).toEqual([]);
  });
});

describe('evaluateGrid', () => {
  const candles = sliceCandles(btc, 0, 3_000);
  const combos = [
    { enabled: false, fast: 0, slow: 0 },
    ...parameterGrid({ enabled: [true], fast: [5, 10, 20], slow: [50, 100] }),
  ];

  it('backtests every combination and ranks best first, undefined values last', () => {
    const ranked = evaluateGrid(candles, combos, emaCross, CONFIG);
    expect(ranked).toHaveLength(7);
    for (const r of ranked) {
      expect(r.metrics).toEqual(runBacktest(candles, emaCross(r.params, candles), CONFIG).metrics);
    }
    // The combination that never trades has no Sharpe and comes last.
    expect(ranked[6].params.enabled).toBe(false);
    expect(ranked[6].metrics.sharpe).toBeNull();
    for (let k = 1; k < 6; k++)
      expect(ranked[k - 1].metrics.sharpe!).toBeGreaterThanOrEqual(ranked[k].metrics.sharpe!);
  });

  it('ranks by each metric', () => {
    for (const rankBy of ['sharpe', 'total_return', 'calmar', 'sqn'] as RankBy[]) {
      const values = evaluateGrid(candles, combos, emaCross, CONFIG, rankBy).map((r) =>
        rankValue(r.metrics, rankBy),
      );
      const defined = values.filter((v): v is number => v !== null);
      // Defined values first, descending; nulls after them.
      expect(values.slice(0, defined.length)).toEqual(defined);
      expect(defined).toEqual([...defined].sort((a, b) => b - a));
    }
    expect(
      rankValue(runBacktest(candles, emaCross(combos[1], candles), CONFIG).metrics, 'total_return'),
    ).toBe(runBacktest(candles, emaCross(combos[1], candles), CONFIG).metrics.totalReturnPct);
    expect(() => evaluateGrid(candles, combos, emaCross, CONFIG, 'profit' as RankBy)).toThrow(RangeError);
  });

  it('gives the same ranking from chunks merged with rankResults', () => {
    const whole = evaluateGrid(candles, combos, emaCross, CONFIG, 'total_return');
    const merged = rankResults(
      [
        ...evaluateGrid(candles, combos.slice(0, 3), emaCross, CONFIG, 'total_return'),
        ...evaluateGrid(candles, combos.slice(3), emaCross, CONFIG, 'total_return'),
      ],
      'total_return',
    );
    expect(merged).toEqual(whole);
  });

  it('keeps ties in their given order', () => {
    const metrics = runBacktest(candles, emaCross(combos[1], candles), CONFIG).metrics;
    const results: GridResult[] = [
      { params: { k: 0 }, metrics: { ...metrics, sqn: null } },
      { params: { k: 1 }, metrics: { ...metrics, sqn: 1 } },
      { params: { k: 2 }, metrics: { ...metrics, sqn: 2 } },
      { params: { k: 3 }, metrics: { ...metrics, sqn: 1 } },
      { params: { k: 4 }, metrics: { ...metrics, sqn: NaN } },
    ];
    expect(rankResults(results, 'sqn').map((r) => r.params.k)).toEqual([2, 1, 3, 0, 4]);
  });
});

describe('walk-forward windows', () => {
  it('splits once into train and test', () => {
    expect(splitTrainTest(100, 0.7)).toEqual({ train: [0, 70], test: [70, 100] });
    expect(splitTrainTest(10, 0.25)).toEqual({ train: [0, 2], test: [2, 10] });
    expect(() => splitTrainTest(100, 1)).toThrow(RangeError);
    expect(() => splitTrainTest(1, 0.5)).toThrow(RangeError);
  });

  it('rolls fixed training windows, test windows tiling the rest', () => {
    expect(walkForwardWindows(100, { trainBars: 40, testBars: 20 })).toEqual([
      { train: [0, 40], test: [40, 60] },
      { train: [20, 60], test: [60, 80] },
      { train: [40, 80], test: [80, 100] },
    ]);
    // Only complete test windows: 99 bars leave the last 19 untested.
    expect(walkForwardWindows(99, { trainBars: 40, testBars: 20 })).toHaveLength(2);
    expect(walkForwardWindows(100, { trainBars: 40, testBars: 20, stepBars: 30 })).toEqual([
      { train: [0, 40], test: [40, 60] },
      { train: [30, 70], test: [70, 90] },
    ]);
    expect(walkForwardWindows(50, { trainBars: 40, testBars: 20 })).toEqual([]);
    expect(() => walkForwardWindows(100, { trainBars: 0, testBars: 20 })).toThrow(RangeError);
  });

  it('anchors training windows at bar 0 when asked', () => {
    expect(walkForwardWindows(100, { trainBars: 40, testBars: 20, anchored: true })).toEqual([
      { train: [0, 40], test: [40, 60] },
      { train: [0, 60], test: [60, 80] },
      { train: [0, 80], test: [80, 100] },
    ]);
  });
});

describe('walkForward', () => {
  const combos = parameterGrid({ fast: [5, 12, 24], slow: [48, 96] });
  const windows = walkForwardWindows(btc.time.length, { trainBars: 2_000, testBars: 1_000 });

  /** The strategy's signals on candles[0, end) with entries outside [start, end) masked off. */
  function masked(params: Record<string, number>, candles: Candles, start: number): Signals {
    const s = emaCross(params, candles);
    if (start > 0) s.enterLong.fill(0, 0, start - 1);
    return s;
  }

  for (const anchored of [false, true]) {
    it(`chooses on the training bars and trades the choice in the test window only (anchored ${anchored})`, () => {
      const w = anchored
        ? walkForwardWindows(btc.time.length, { trainBars: 2_000, testBars: 1_000, anchored })
        : windows;
      expect(w).toHaveLength(4);
      const result = walkForward(btc, combos, emaCross, CONFIG, w, 'sharpe');
      expect(result.windows).toHaveLength(4);
      let capital = CONFIG.initialCapital;
      let tradeCount = 0;
      for (const win of result.windows) {
        // The choice is the grid's best on the training bars, the bars before them as indicator history.
        const [trainStart, trainEnd] = win.train;
        const trainHistory = sliceCandles(btc, 0, trainEnd);
        const train = evaluateGrid(trainHistory, combos, emaCross, CONFIG, 'sharpe', trainStart);
        expect(win.best).toEqual(train[0].params);
        expect(win.inSample).toEqual(train[0].metrics);
        // Measured on the training bars only, as the history's trades with entries before them masked.
        const trainReference = runBacktest(
          trainHistory,
          masked(win.best as Record<string, number>, trainHistory, trainStart),
          CONFIG,
        );
        expect(win.inSample.bars).toBe(trainEnd - trainStart);
        expect(win.inSample.startTime).toBe(btc.time[trainStart]);
        expect(win.inSample.trades).toBe(trainReference.trades.length);
        expect(win.inSample.finalEquity).toBe(trainReference.equity[trainEnd - 1]);
        // Out of sample: trades inside the test window only.
        const [start, end] = win.test;
        expect(win.trades.length).toBeGreaterThan(0);
        for (const t of win.trades) {
          expect(t.entryIndex).toBeGreaterThanOrEqual(start);
          expect(t.exitIndex).toBeLessThan(end);
        }
        // They are the trades of the full history up to the window's end with entries before it masked:
        // the indicators are warmed up on the bars before the window.
        const history = sliceCandles(btc, 0, end);
        const reference = runBacktest(history, masked(win.best as Record<string, number>, history, start), {
          ...CONFIG,
          initialCapital: capital,
        });
        expect(win.trades).toEqual(reference.trades);
        expect(win.outOfSample.initialCapital).toBe(capital);
        expect(win.outOfSample.finalEquity).toBe(reference.equity[end - 1]);
        expect(win.outOfSample.bars).toBe(end - start);
        expect(win.outOfSample.startTime).toBe(btc.time[start]);
        capital = win.outOfSample.finalEquity;
        tradeCount += win.trades.length;
      }
      // Chained: the joined test windows end where the last one does.
      expect(result.outOfSample.initialCapital).toBe(CONFIG.initialCapital);
      expect(result.outOfSample.finalEquity).toBe(capital);
      expect(result.outOfSample.bars).toBe(4_000);
      expect(result.equity).toHaveLength(4_000);
      expect(result.outOfSample.trades).toBe(tradeCount);
      expect(result.trades).toEqual(result.windows.flatMap((win) => win.trades));
      expect(result.outOfSample.startTime).toBe(btc.time[2_000]);
    });
  }

  // The first window trains from bar 0; the second from bar 1,000, with history before it.
  it.each([0, 1])('is not influenced by the test data in its choice (window %i)', (k) => {
    const window = windows[k]!;
    const baseline = walkForward(btc, combos, emaCross, CONFIG, [window]).windows[0];
    // Replace every bar from the test window on by a mirror image of the prices.
    const changed: Candles = {
      time: btc.time,
      volume: btc.volume,
      open: btc.open.slice(),
      high: btc.high.slice(),
      low: btc.low.slice(),
      close: btc.close.slice(),
    };
    for (let i = window.test[0]; i < btc.time.length; i++) {
      const m = 2 * btc.close[window.test[0] - 1];
      changed.open[i] = m - btc.open[i];
      changed.high[i] = m - btc.low[i];
      changed.low[i] = m - btc.high[i];
      changed.close[i] = m - btc.close[i];
    }
    const perturbed = walkForward(changed, combos, emaCross, CONFIG, [window]).windows[0];
    expect(perturbed.best).toEqual(baseline.best);
    expect(perturbed.inSample).toEqual(baseline.inSample);
    expect(perturbed.outOfSample).not.toEqual(baseline.outOfSample);
  });

  it('warms the ranking up on at most historyBars bars before each training window', () => {
    const [, second] = windows;
    const result = walkForward(btc, combos, emaCross, CONFIG, [second!], 'sharpe', 300);
    const [trainStart, trainEnd] = second!.train;
    const expected = evaluateGrid(
      sliceCandles(btc, trainStart - 300, trainEnd),
      combos,
      emaCross,
      CONFIG,
      'sharpe',
      300,
    );
    expect(result.windows[0]!.inSample).toEqual(expected[0]!.metrics);
    expect(result.windows[0]!.best).toEqual(expected[0]!.params);
    // Cold (no history) measures differently: the history matters.
    const cold = evaluateGrid(sliceCandles(btc, trainStart, trainEnd), combos, emaCross, CONFIG, 'sharpe');
    const sameParams = cold.find((g) => JSON.stringify(g.params) === JSON.stringify(expected[0]!.params))!;
    expect(sameParams.metrics).not.toEqual(expected[0]!.metrics);
  });

  it('accepts a single train/test split', () => {
    const split = splitTrainTest(btc.time.length, 0.75);
    const result = walkForward(btc, combos, emaCross, CONFIG, [split], 'total_return');
    expect(result.windows[0].test).toEqual([4_500, 6_000]);
    expect(result.outOfSample).toEqual(result.windows[0].outOfSample);
  });

  it('rejects windows that test before training ends, overlap, or leave the candles', () => {
    const run = (w: { train: [number, number]; test: [number, number] }[]) => () =>
      walkForward(btc, combos, emaCross, CONFIG, w);
    expect(run([{ train: [0, 2_000], test: [1_999, 3_000] }])).toThrow(RangeError);
    expect(
      run([
        { train: [0, 2_000], test: [2_000, 3_000] },
        { train: [500, 2_500], test: [2_500, 3_500] },
      ]),
    ).toThrow(/overlap/);
    expect(run([{ train: [0, 2_000], test: [2_000, 6_001] }])).toThrow(RangeError);
    expect(run([])).toThrow(RangeError);
    expect(() => walkForward(btc, [], emaCross, CONFIG, windows)).toThrow(RangeError);
  });
});
