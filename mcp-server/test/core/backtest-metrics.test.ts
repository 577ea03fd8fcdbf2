/** Backtest metrics on known equity paths and trade lists, hand-computed. */
import { describe, expect, it } from 'vitest';
import { candlesFromRows, type Candles } from '../../src/core/candles.js';
import {
  barDurationMs,
  computeMetrics,
  DEFAULT_BACKTEST_CONFIG,
  runBacktest,
  type BacktestConfig,
  type Trade,
} from '../../src/core/backtest/index.js';

const H = 3_600_000;
const D = 86_400_000;
const T0 = Date.UTC(2024, 0, 1);
const CONFIG: BacktestConfig = { ...DEFAULT_BACKTEST_CONFIG, initialCapital: 100 };

function expectClose(actual: number | null, expected: number, tolerance = 1e-12): void {
  expect(actual).not.toBeNull();
  expect(Math.abs(actual! - expected)).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(expected)));
}

/** n flat candles at 100 (open and close), `step` ms apart. */
function flat(n: number, step = H): Candles {
  return candlesFromRows(Array.from({ length: n }, (_, i) => [T0 + i * step, 100, 100, 100, 100, 1]));
}

function trade(
  entryIndex: number,
  exitIndex: number,
  pnl: number,
  returnPct: number,
  fees = 0,
  step = H,
): Trade {
  return {
    side: 'long',
    entryIndex,
    entryTime: T0 + entryIndex * step,
    entryPrice: 100,
    exitIndex,
    exitTime: T0 + exitIndex * step,
    exitPrice: 100,
    exitReason: 'signal',
    quantity: 1,
    fees,
    pnl,
    returnPct,
    bars: exitIndex - entryIndex,
    stopPrice: null,
    targetPrice: null,
  };
}

describe('computeMetrics: equity curve', () => {
  it('measures the deepest drawdown and the longest time under water', () => {
    // From 100: peak 120 (close of bar 1) falls to 90 and recovers at 130 (close of bar 4): 3 h under
    // water. Then 130 falls to 65 (-50 %, -65) and never recovers: 2 h to the last close.
    const m = computeMetrics(flat(7), [], Float64Array.from([100, 120, 90, 110, 130, 65, 80]), CONFIG);
    expect(m.maxDrawdownPct).toBe(50);
    expect(m.maxDrawdownAmount).toBe(65);
    expect(m.maxDrawdownDurationMs).toBe(3 * H);
    expect(m.startTime).toBe(T0);
    expect(m.endTime).toBe(T0 + 7 * H);
    expect(m.bars).toBe(7);
    expect(m.finalEquity).toBe(80);
    expectClose(m.totalReturnPct, -20);
  });

  it('takes the largest % fall and the largest amount each on its own', () => {
    // 100 -> 50 is -50 % (-50); 1000 -> 600 is only -40 % but -400.
    const m = computeMetrics(flat(5), [], Float64Array.from([100, 50, 100, 1000, 600]), CONFIG);
    expect(m.maxDrawdownPct).toBe(50);
    expect(m.maxDrawdownAmount).toBe(400);
    // Peak 100 at bar 0's close, back to 100 at bar 2's close: 2 h (the unrecovered fall lasts 1 h).
    expect(m.maxDrawdownDurationMs).toBe(2 * H);
  });

  it('counts a fall from the initial capital from the first open', () => {
    // Capital 100 at bar 0's open, 90 and 80 at the closes: under water from T0 to the last close, 2 h.
    const m = computeMetrics(flat(2), [], Float64Array.from([90, 80]), CONFIG);
    expect(m.maxDrawdownDurationMs).toBe(2 * H);
    expectClose(m.maxDrawdownPct, 20);
    expect(m.maxDrawdownAmount).toBe(20);
  });

  it('has no drawdown, Sharpe or Calmar for a curve that never moves', () => {
    const m = computeMetrics(flat(4), [], new Float64Array(4).fill(100), CONFIG);
    expect(m).toMatchObject({
      maxDrawdownPct: 0,
      maxDrawdownAmount: 0,
      maxDrawdownDurationMs: 0,
      sharpe: null,
      sortino: null,
      calmar: null,
      totalReturnPct: 0,
      cagrPct: 0,
    });
  });

  it('annualises CAGR over calendar time: doubling in 365 days is 100 %, in 730 days 41.42 %', () => {
    const daily: BacktestConfig = { ...CONFIG, periodsPerYear: 365 };
    // 365 daily bars: first open T0, last close T0 + 365 d.
    const year = new Float64Array(365).fill(150);
    year[364] = 200;
    expectClose(computeMetrics(flat(365, D), [], year, daily).cagrPct, 100, 1e-12);
    const twoYears = new Float64Array(730).fill(150);
    twoYears[729] = 200;
    // 2^(1/2) - 1 = 0.41421356237309515
    expectClose(computeMetrics(flat(730, D), [], twoYears, daily).cagrPct, 41.42135623730951, 1e-12);
    // Calmar = CAGR % / max drawdown %: 150 -> 75 is -50 %, so 100 / 50 = 2.
    year[100] = 75;
    expectClose(computeMetrics(flat(365, D), [], year, daily).calmar, 2, 1e-12);
  });

  it('annualises Sharpe and Sortino from per-bar returns, the first from the initial capital', () => {
    // Returns 1 %, -1 %, 3 %, 0 from 100: mean 0.0075, sample sd 0.017078251276599328;
    // Sharpe = 0.0075 / sd * sqrt(8760) = 41.10265893380344.
    // Downside deviation sqrt((0.01²) / 4) = 0.005; Sortino = 0.0075 / 0.005 * sqrt(8760) = 140.3923074815711.
    const equity = Float64Array.from([101, 101 * 0.99, 101 * 0.99 * 1.03, 101 * 0.99 * 1.03]);
    const m = computeMetrics(flat(4), [], equity, CONFIG);
    expectClose(m.sharpe, 41.10265893380344, 1e-9);
    expectClose(m.sortino, 140.3923074815711, 1e-9);
  });

  it('measures buy-and-hold from the first open to the last close with the same costs', () => {
    const candles = candlesFromRows([
      [T0, 100, 101, 99, 120, 1],
      [T0 + H, 120, 151, 119, 150, 1],
    ]);
    // Buy 100 * 1.0005 + 0.1 % fee, sell 150 * 0.9995 - 0.1 % fee:
    // (150 * 0.9995 * 0.999) / (100 * 1.0005 * 1.001) - 1 = 49.550674213342894 %.
    const m = computeMetrics(candles, [], Float64Array.from([100, 100]), { ...CONFIG, initialCapital: 100 });
    expectClose(m.buyAndHoldReturnPct, 49.550674213342894, 1e-12);
  });

  it('rejects an equity curve that does not match the candles', () => {
    expect(() => computeMetrics(flat(3), [], new Float64Array(2), CONFIG)).toThrow(RangeError);
    expect(() => computeMetrics(flat(0), [], new Float64Array(0), CONFIG)).toThrow(RangeError);
  });
});

describe('computeMetrics: trades', () => {
  // Four trades over 10 hourly bars: held bars 1-2, 3-5, 6, 7-9.
  const trades = [
    trade(1, 2, 30, 0.03, 1),
    trade(3, 5, -10, -0.01, 1),
    trade(6, 6, 20, 0.02, 1),
    trade(7, 9, -20, -0.02, 1),
  ];
  const m = computeMetrics(flat(10), trades, new Float64Array(10).fill(120), CONFIG);

  it('computes win rate, profit factor, expectancy, best and worst trade and fees', () => {
    expect(m.trades).toBe(4);
    expect(m.winRatePct).toBe(50);
    // Gross profit 30 + 20 = 50, gross loss 10 + 20 = 30.
    expectClose(m.profitFactor, 50 / 30);
    // (30 - 10 + 20 - 20) / 4
    expect(m.expectancy).toBe(5);
    expectClose(m.bestTradePct, 3);
    expectClose(m.worstTradePct, -2);
    expect(m.feesPaid).toBe(4);
  });

  it("computes Van Tharp's SQN, with n capped at 100", () => {
    // R = 3 %, -1 %, 2 %, -2 %: mean 0.005, sample sd sqrt(0.0017 / 3) = 0.023804761428476166;
    // SQN = sqrt(4) * 0.005 / sd = 0.42008402520840293.
    expectClose(m.sqn, 0.42008402520840293, 1e-12);
    // 150 trades alternating +2 % / -1 %: mean 0.005, sd 0.015050251397039652, SQN = sqrt(100) * mean / sd.
    const many = Array.from({ length: 150 }, (_, k) => trade(k, k, 1, k % 2 === 0 ? 0.02 : -0.01));
    const m150 = computeMetrics(flat(150), many, new Float64Array(150).fill(100), CONFIG);
    expectClose(m150.sqn, 3.3222036417169005, 1e-12);
  });

  it('computes exposure and trade durations', () => {
    // Bars 1-2, 3-5, 6 and 7-9 are 9 of 10 bars.
    expectClose(m.exposurePct, 90);
    // Durations 1 h, 2 h, 0 h, 2 h: mean 1.25 h, median (1 h + 2 h) / 2 = 1.5 h.
    expect(m.avgTradeDurationMs).toBe(1.25 * H);
    expect(m.medianTradeDurationMs).toBe(1.5 * H);
    // A reversal's shared bar counts once: bars 1-3 and 3-5 are 5 of 10.
    const reversal = computeMetrics(
      flat(10),
      [trade(1, 3, 1, 0.01), trade(3, 5, 1, 0.01)],
      new Float64Array(10).fill(100),
      CONFIG,
    );
    expectClose(reversal.exposurePct, 50);
  });

  it('leaves undefined trade statistics null', () => {
    const none = computeMetrics(flat(3), [], new Float64Array(3).fill(100), CONFIG);
    expect(none).toMatchObject({
      trades: 0,
      winRatePct: null,
      profitFactor: null,
      expectancy: null,
      sqn: null,
      avgTradeDurationMs: null,
      medianTradeDurationMs: null,
      bestTradePct: null,
      worstTradePct: null,
      exposurePct: 0,
      feesPaid: 0,
    });
    const one = computeMetrics(flat(3), [trade(1, 2, 5, 0.05)], new Float64Array(3).fill(105), CONFIG);
    expect(one.sqn).toBeNull();
    // No losing trade: no profit factor.
    expect(one.profitFactor).toBeNull();
    expect(one.winRatePct).toBe(100);
  });
});

describe('barDurationMs', () => {
  it('is the smallest step between opens, or a year over periodsPerYear for a single bar', () => {
    expect(barDurationMs(Float64Array.from([0, 2 * H, 3 * H, 7 * H]), 8760)).toBe(H);
    expect(barDurationMs(Float64Array.from([T0]), 8760)).toBe(H);
    expect(barDurationMs(Float64Array.from([T0]), 365)).toBe(D);
  });
});

describe('runBacktest metrics', () => {
  it('match the trades and equity of the run', () => {
    const candles = candlesFromRows(
      [
        [100, 101, 99, 100],
        [100, 103, 99, 102],
        [102, 106, 101, 105],
        [105, 109, 104, 108],
        [110, 111, 108, 109],
        [109, 110, 108, 109],
      ].map(([o, h, l, c], i) => [T0 + i * H, o, h, l, c, 1]),
    );
    const enterLong = Uint8Array.from([1, 0, 0, 0, 0, 0]);
    const exitLong = Uint8Array.from([0, 0, 0, 1, 0, 0]);
    const { trades, equity, metrics } = runBacktest(
      candles,
      { enterLong, exitLong },
      DEFAULT_BACKTEST_CONFIG,
    );
    expect(metrics).toEqual(computeMetrics(candles, trades, equity, DEFAULT_BACKTEST_CONFIG));
    expect(metrics.trades).toBe(1);
    // Held from bar 1's open to bar 4's open: bars 1-4 of 6.
    expectClose(metrics.exposurePct, (4 / 6) * 100);
    expectClose(metrics.totalReturnPct, (metrics.finalEquity / 10_000 - 1) * 100);
    expect(metrics.avgTradeDurationMs).toBe(3 * H);
  });
});
