/**
 * The backtest engine on hand-computed series: next-open fills with slippage and fees, stops and targets
 * inside bars and through gaps, shorts, sizing, and the no-look-ahead property on real BTC candles.
 *
 * Unless a test says otherwise: capital 10,000, fee 0.1 % and slippage 0.05 % per side, all-in sizing,
 * hourly bars. All-in at a long fill of 100.05 buys qty = 10000 / (100.05 * 1.001) = 99.85017481269357.
 */
import { describe, expect, it } from 'vitest';
import { candlesFromRows, sliceCandles, type Candles } from '../../src/core/candles.js';
import {
  DEFAULT_BACKTEST_CONFIG,
  runBacktest,
  type BacktestConfig,
  type Signals,
} from '../../src/core/backtest/index.js';
import { fixturePath, loadCandlesCsv } from '../helpers/csv.js';

const H = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);
const CONFIG: BacktestConfig = { ...DEFAULT_BACKTEST_CONFIG };
const QTY = 10_000 / (100.05 * 1.001);

function expectClose(actual: number, expected: number, tolerance = 1e-12): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(expected)));
}

/** Hourly candles from [open, high, low, close] rows. */
function bars(rows: [number, number, number, number][]): Candles {
  return candlesFromRows(rows.map(([o, h, l, c], i) => [T0 + i * H, o, h, l, c, 1]));
}

/** Signals with the given bars set. */
function signals(
  n: number,
  set: { enterLong?: number[]; exitLong?: number[]; enterShort?: number[]; exitShort?: number[] },
): Signals {
  const column = (at: number[] = []): Uint8Array => {
    const a = new Uint8Array(n);
    for (const i of at) a[i] = 1;
    return a;
  };
  return {
    enterLong: column(set.enterLong),
    exitLong: column(set.exitLong),
    enterShort: column(set.enterShort),
    exitShort: column(set.exitShort),
  };
}

// A steady rise: the long entered at bar 1's open (100) is still in profit everywhere.
const RISE = bars([
  [100, 101, 99, 100],
  [100, 103, 99, 102],
  [102, 106, 101, 105],
  [105, 109, 104, 108],
  [110, 111, 108, 109],
  [109, 110, 108, 109],
]);

describe('runBacktest: fills, fees and equity', () => {
  it('enters at the next open and exits at the open after the exit signal, net of slippage and fees', () => {
    const { trades, equity, metrics } = runBacktest(
      RISE,
      signals(6, { enterLong: [0], exitLong: [3] }),
      CONFIG,
    );
    expect(trades).toHaveLength(1);
    const t = trades[0];
    expect(t).toMatchObject({
      side: 'long',
      entryIndex: 1,
      entryTime: T0 + H,
      exitIndex: 4,
      exitTime: T0 + 4 * H,
      exitReason: 'signal',
      bars: 3,
      stopPrice: null,
      targetPrice: null,
    });
    // Buy at 100 * 1.0005 = 100.05; sell at 110 * 0.9995 = 109.945.
    expectClose(t.entryPrice, 100.05);
    expectClose(t.exitPrice, 109.945);
    expectClose(t.quantity, 99.85017481269357);
    // Fees 0.001 * qty * (100.05 + 109.945) = 20.968037459791585.
    expectClose(t.fees, 20.968037459791585);
    // pnl = qty * (109.945 - 100.05) - fees = 987.9...-20.968... = 967.0494423118108.
    expectClose(t.pnl, 967.0494423118108);
    // returnPct = pnl / (qty * 100.05) = 967.049... / 9990.00999 = 0.09680164917541226.
    expectClose(t.returnPct, 0.09680164917541226);
    // Equity: 10,000 until the entry; then all cash is in the position, worth qty * close.
    expect(equity[0]).toBe(10_000);
    expectClose(equity[1], QTY * 102, 1e-10); // 10184.717830894744
    expectClose(equity[3], QTY * 108, 1e-10); // 10783.818879770904
    expectClose(equity[4], 10_000 + 967.0494423118108, 1e-10);
    expectClose(equity[5], equity[4]);
    expectClose(metrics.finalEquity, 10_967.049442311811, 1e-10);
    expectClose(metrics.feesPaid, t.fees);
  });

  it('closes an open position at the last close (end_of_data), with slippage and fee', () => {
    const { trades, equity } = runBacktest(RISE, signals(6, { enterLong: [0] }), CONFIG);
    expect(trades).toHaveLength(1);
    const t = trades[0];
    expect(t.exitReason).toBe('end_of_data');
    expect(t.exitIndex).toBe(5);
    // The fill is at the last bar's close, one hour after its open.
    expect(t.exitTime).toBe(T0 + 6 * H);
    expectClose(t.exitPrice, 109 * 0.9995);
    // pnl = qty * (108.9455 - 100.05) - 0.001 * qty * (100.05 + 108.9455) = 867.3489928362505
    expectClose(t.pnl, 867.3489928362505, 1e-10);
    expectClose(equity[5], 10_000 + t.pnl, 1e-10);
  });

  it('ignores a signal on the last bar, and entries that conflict or come with their own exit', () => {
    expect(runBacktest(RISE, signals(6, { enterLong: [5] }), CONFIG).trades).toEqual([]);
    expect(runBacktest(RISE, signals(6, { enterLong: [1], exitLong: [1] }), CONFIG).trades).toEqual([]);
    const both = signals(6, { enterLong: [1], enterShort: [1] });
    expect(runBacktest(RISE, both, { ...CONFIG, allowShort: true }).trades).toEqual([]);
    // Shorts not allowed: the short entry is not read, the long goes ahead.
    expect(runBacktest(RISE, both, CONFIG).trades).toHaveLength(1);
  });

  it('keeps a position on repeated entry signals', () => {
    const { trades } = runBacktest(RISE, signals(6, { enterLong: [0, 1, 2, 3], exitLong: [4] }), CONFIG);
    expect(trades).toHaveLength(1);
    expect(trades[0]).toMatchObject({ entryIndex: 1, exitIndex: 5 });
  });

  it('goes short with mirrored slippage and marks the short to market', () => {
    const candles = bars([
      [100, 101, 99, 100],
      [100, 101, 97, 98],
      [98, 99, 95, 96],
      [95, 96, 94, 95],
      [95, 96, 94, 95],
    ]);
    const s = signals(5, { enterShort: [0], exitShort: [2] });
    expect(runBacktest(candles, s, CONFIG).trades).toEqual([]);
    const { trades, equity } = runBacktest(candles, s, { ...CONFIG, allowShort: true });
    expect(trades).toHaveLength(1);
    const t = trades[0];
    expect(t).toMatchObject({ side: 'short', entryIndex: 1, exitIndex: 3, exitReason: 'signal' });
    // Sell at 100 * 0.9995 = 99.95, buy back at 95 * 1.0005 = 95.0475; qty = 10000 / (99.95 * 1.001).
    expectClose(t.entryPrice, 99.95);
    expectClose(t.exitPrice, 95.0475);
    expectClose(t.quantity, 99.95007493756869);
    // pnl = qty * (99.95 - 95.0475) - 0.001 * qty * (99.95 + 95.0475) = 470.5152276437923.
    expectClose(t.pnl, 470.5152276437923, 1e-10);
    // At bar 1's close (98): cash 0 + entry notional + unrealised pnl = qty * (2 * 99.95 - 98).
    expectClose(equity[1], 10184.91263613825, 1e-10);
    expectClose(equity[4], 10_000 + t.pnl, 1e-10);
  });

  it('reverses on an opposite entry: closes and opens the other side at the same open', () => {
    const s = signals(6, { enterLong: [0], enterShort: [2] });
    const { trades } = runBacktest(RISE, s, { ...CONFIG, allowShort: true });
    expect(trades.map((t) => [t.side, t.entryIndex, t.exitIndex, t.exitReason])).toEqual([
      ['long', 1, 3, 'signal'],
      ['short', 3, 5, 'end_of_data'],
    ]);
    expectClose(trades[0].exitPrice, 105 * 0.9995);
    expectClose(trades[1].entryPrice, 105 * 0.9995);
    // The short is sized from the cash the long left: 10,000 + its pnl, all in.
    expectClose(trades[1].quantity, (10_000 + trades[0].pnl) / (105 * 0.9995 * 1.001), 1e-10);
  });
});

describe('runBacktest: stops and targets', () => {
  // With stopLossPct 5 % and takeProfitPct 10 % the long filled at 100.05 has its stop at
  // 100.05 * 0.95 = 95.0475 and its target at 100.05 * 1.1 = 110.055.
  const STOPS: BacktestConfig = { ...CONFIG, stopLossPct: 0.05, takeProfitPct: 0.1 };
  const enter = signals(4, { enterLong: [0] });
  const series = (bar2: [number, number, number, number]): Candles =>
    bars([[100, 101, 99, 100], [100, 102, 98, 101], bar2, [96, 97, 95, 96]]);

  it('fills a stop touched inside a bar at the stop, with slippage', () => {
    const { trades, equity } = runBacktest(series([101, 102, 94, 96]), enter, STOPS);
    expect(trades).toHaveLength(1);
    const t = trades[0];
    expect(t).toMatchObject({ exitIndex: 2, exitReason: 'stop_loss', bars: 1 });
    expectClose(t.stopPrice!, 95.0475);
    expectClose(t.targetPrice!, 110.055);
    // 95.0475 * 0.9995 = 94.99997625
    expectClose(t.exitPrice, 94.99997625);
    // pnl = qty * (94.99997625 - 100.05) - 0.001 * qty * (100.05 + 94.99997625) = -523.721528471528
    expectClose(t.pnl, -523.721528471528, 1e-10);
    expectClose(equity[2], 10_000 + t.pnl, 1e-10);
    expectClose(equity[3], equity[2]);
  });

  it('fills a stop the bar opened through at the open (worse than the stop)', () => {
    const { trades } = runBacktest(series([90, 91, 88, 89]), enter, STOPS);
    expect(trades[0]).toMatchObject({ exitIndex: 2, exitReason: 'stop_loss' });
    // 90 * 0.9995 = 89.955; pnl = qty * (89.955 - 100.05) - 0.001 * qty * (100.05 + 89.955)
    expectClose(trades[0].exitPrice, 89.955);
    expectClose(trades[0].pnl, -1026.9595471994273, 1e-10);
  });

  it('takes the stop when both stop and target lie inside one bar', () => {
    const { trades } = runBacktest(series([101, 111, 94, 105]), enter, STOPS);
    expect(trades[0]).toMatchObject({ exitIndex: 2, exitReason: 'stop_loss' });
    expectClose(trades[0].exitPrice, 94.99997625);
  });

  it('fills a target at the target without slippage, or at the open when gapped through', () => {
    const hit = runBacktest(series([101, 111, 100, 110]), enter, STOPS).trades[0];
    expect(hit).toMatchObject({ exitIndex: 2, exitReason: 'take_profit' });
    expectClose(hit.exitPrice, 110.055);
    // pnl = qty * (110.055 - 100.05) - 0.001 * qty * (100.05 + 110.055) = 978.0219780219791
    expectClose(hit.pnl, 978.0219780219791, 1e-10);
    const gap = runBacktest(series([112, 113, 111, 112]), enter, STOPS).trades[0];
    expect(gap).toMatchObject({ exitIndex: 2, exitReason: 'take_profit', exitPrice: 112 });
  });

  it('checks the stop inside the entry bar (0 bars held)', () => {
    const candles = bars([
      [100, 101, 99, 100],
      [100, 102, 94, 96],
      [96, 97, 95, 96],
    ]);
    const { trades } = runBacktest(candles, signals(3, { enterLong: [0] }), STOPS);
    expect(trades[0]).toMatchObject({ entryIndex: 1, exitIndex: 1, bars: 0, exitReason: 'stop_loss' });
    expect(trades[0].exitTime - trades[0].entryTime).toBe(0);
  });

  it('mirrors stops and targets for a short', () => {
    // Short filled at 99.95: stop 99.95 * 1.05 = 104.9475, target 99.95 * 0.9 = 89.955.
    const candles = bars([
      [100, 101, 99, 100],
      [100, 101, 97, 98],
      [98, 106, 97, 105],
      [105, 106, 104, 105],
    ]);
    const s = signals(4, { enterShort: [0] });
    const { trades } = runBacktest(candles, s, { ...STOPS, allowShort: true });
    expect(trades[0]).toMatchObject({ side: 'short', exitIndex: 2, exitReason: 'stop_loss' });
    expectClose(trades[0].stopPrice!, 104.9475);
    expectClose(trades[0].targetPrice!, 89.955);
    // Buying back at the stop with slippage: 104.9475 * 1.0005
    expectClose(trades[0].exitPrice, 104.9475 * 1.0005);
  });

  it("prefers the strategy's stop and target at the signal bar, and skips an entry the open has invalidated", () => {
    const candles = series([101, 102, 96, 97]);
    const s = signals(4, { enterLong: [0] });
    s.stopPrice = new Float64Array(4).fill(NaN);
    s.targetPrice = new Float64Array(4).fill(NaN);
    s.stopPrice[0] = 97;
    const t = runBacktest(candles, s, STOPS).trades[0];
    // Stop 97 (not 95.0475) is hit at bar 2 (low 96); target still from takeProfitPct.
    expect(t).toMatchObject({ exitIndex: 2, exitReason: 'stop_loss', stopPrice: 97 });
    expectClose(t.exitPrice, 97 * 0.9995);
    expectClose(t.targetPrice!, 110.055);
    // A stop at or above the entry bar's open (100): the setup failed before the fill, no trade.
    s.stopPrice[0] = 100;
    expect(runBacktest(candles, s, STOPS).trades).toEqual([]);
    s.stopPrice[0] = NaN;
    s.targetPrice[0] = 99;
    expect(runBacktest(candles, s, STOPS).trades).toEqual([]);
  });

  it('re-enters after a stop while the entry signal persists', () => {
    const { trades } = runBacktest(series([101, 102, 94, 96]), signals(4, { enterLong: [0, 1, 2] }), STOPS);
    expect(trades.map((t) => [t.entryIndex, t.exitIndex, t.exitReason])).toEqual([
      [1, 2, 'stop_loss'],
      [3, 3, 'end_of_data'],
    ]);
  });
});

describe('runBacktest: sizing', () => {
  const candles = bars([
    [100, 101, 99, 100],
    [100, 102, 98, 101],
    [101, 102, 94, 96],
    [96, 97, 95, 96],
  ]);
  const withStop = (stop: number): Signals => {
    const s = signals(4, { enterLong: [0] });
    s.stopPrice = new Float64Array(4).fill(NaN);
    s.stopPrice[0] = stop;
    return s;
  };

  it('fixed fraction 0.5 puts half the equity (entry fee included) in the trade', () => {
    const { trades, equity } = runBacktest(RISE, signals(6, { enterLong: [0] }), {
      ...CONFIG,
      sizing: { mode: 'fixed_fraction', fraction: 0.5 },
    });
    // qty = 5000 / (100.05 * 1.001) = QTY / 2; cash left 5000.
    expectClose(trades[0].quantity, QTY / 2);
    expectClose(equity[1], 5_000 + (QTY / 2) * 102, 1e-10);
  });

  it('risk_per_trade loses exactly riskPct % of equity at the stop, fees and slippage included', () => {
    const config: BacktestConfig = { ...CONFIG, sizing: { mode: 'risk_per_trade', riskPct: 1 } };
    const t = runBacktest(candles, withStop(95), config).trades[0];
    // Stop fill 95 * 0.9995 = 94.9525; loss per unit = (100.05 - 94.9525) + 0.001 * (100.05 + 94.9525)
    // = 5.0975 + 0.1950025 = 5.2925025; qty = 100 / 5.2925025 = 18.894653332709822.
    expectClose(t.quantity, 18.894653332709822, 1e-10);
    expect(t.exitReason).toBe('stop_loss');
    expectClose(t.pnl, -100, 1e-10);
  });

  it('risk_per_trade is capped at the whole equity, and sizes a trade without a stop as a 100 % stop', () => {
    // A 1.05 stop distance at 50 % risk would buy ~4,700 units; the cap is all-in, QTY.
    const capped = runBacktest(candles, withStop(99), {
      ...CONFIG,
      sizing: { mode: 'risk_per_trade', riskPct: 50 },
    }).trades[0];
    expectClose(capped.quantity, QTY);
    // No stop: notional + entry fee = 1 % of 10,000 = 100, qty = 100 / (100.05 * 1.001).
    const noStop = runBacktest(candles, signals(4, { enterLong: [0] }), {
      ...CONFIG,
      sizing: { mode: 'risk_per_trade', riskPct: 1 },
    }).trades[0];
    expectClose(noStop.quantity, QTY / 100);
  });

  it('rejects invalid configs and signal columns of the wrong length', () => {
    const s = signals(4, { enterLong: [0] });
    expect(() => runBacktest(candles, s, { ...CONFIG, feeRate: -0.1 })).toThrow(RangeError);
    expect(() =>
      runBacktest(candles, s, { ...CONFIG, sizing: { mode: 'fixed_fraction', fraction: 1.5 } }),
    ).toThrow(RangeError);
    expect(() => runBacktest(candles, s, { ...CONFIG, stopLossPct: 0 })).toThrow(RangeError);
    expect(() => runBacktest(candles, signals(3, {}), CONFIG)).toThrow(/enterLong has 3 values for 4/);
  });
});

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function truncate(s: Signals, k: number): Signals {
  return {
    enterLong: s.enterLong.subarray(0, k),
    exitLong: s.exitLong.subarray(0, k),
    enterShort: s.enterShort?.subarray(0, k),
    exitShort: s.exitShort?.subarray(0, k),
    stopPrice: s.stopPrice?.subarray(0, k),
    targetPrice: s.targetPrice?.subarray(0, k),
  };
}

/** First index below `end` where the two series differ, or -1. */
function firstDifference(a: Float64Array, b: Float64Array, end: number): number {
  for (let i = 0; i < end; i++) if (a[i] !== b[i]) return i;
  return -1;
}

describe('runBacktest: no look-ahead', () => {
  const btc = loadCandlesCsv(fixturePath('BTCUSDT-1h-20k.csv.gz'));
  const n = btc.time.length;

  function randomSignals(seed: number): Signals {
    const rnd = random(seed);
    const s: Signals = {
      enterLong: new Uint8Array(n),
      exitLong: new Uint8Array(n),
      enterShort: new Uint8Array(n),
      exitShort: new Uint8Array(n),
      stopPrice: new Float64Array(n).fill(NaN),
      targetPrice: new Float64Array(n).fill(NaN),
    };
    for (let i = 0; i < n; i++) {
      s.enterLong[i] = rnd() < 0.03 ? 1 : 0;
      s.exitLong[i] = rnd() < 0.03 ? 1 : 0;
      s.enterShort![i] = rnd() < 0.03 ? 1 : 0;
      s.exitShort![i] = rnd() < 0.03 ? 1 : 0;
      // Now and then a strategy stop / target around the signal bar's close.
      if (rnd() < 0.3) s.stopPrice![i] = btc.close[i] * (rnd() < 0.5 ? 0.98 : 1.02);
      if (rnd() < 0.3) s.targetPrice![i] = btc.close[i] * (rnd() < 0.5 ? 1.03 : 0.97);
    }
    return s;
  }

  const variants: [string, BacktestConfig][] = [
    ['long only, all in, 3 % stop', { ...CONFIG, stopLossPct: 0.03 }],
    [
      'long and short, 1 % risk, stops and targets',
      {
        ...CONFIG,
        allowShort: true,
        stopLossPct: 0.02,
        takeProfitPct: 0.04,
        sizing: { mode: 'risk_per_trade', riskPct: 1 },
      },
    ],
  ];

  for (const [name, config] of variants) {
    it(`appending future bars never changes earlier trades (${name})`, () => {
      const s = randomSignals(name.length);
      const full = runBacktest(btc, s, config);
      expect(full.trades.length).toBeGreaterThan(100);
      // About 200 cut points: each truncated run must agree with the full run on everything it settled.
      for (let k = 2; k < n; k += 97) {
        const part = runBacktest(sliceCandles(btc, 0, k), truncate(s, k), config);
        // Exits up to bar k-1 (at its open or inside it) depend on bars up to k-1 only.
        const settled = part.trades.filter((t) => t.exitReason !== 'end_of_data');
        // (Compared as JSON, exact for finite numbers: deep equality of ~400 runs' trades takes seconds.)
        expect(JSON.stringify(settled)).toBe(JSON.stringify(full.trades.filter((t) => t.exitIndex <= k - 1)));
        // The position closed at the end is one the full run held past bar k-1, same entry and size.
        const rest = part.trades.filter((t) => t.exitReason === 'end_of_data');
        expect(rest.length).toBeLessThanOrEqual(1);
        for (const t of rest) {
          const same = full.trades.find((f) => f.entryIndex === t.entryIndex);
          expect(same, 'the position open at the end was opened in the full run too').toBeDefined();
          expect(same!.exitIndex).toBeGreaterThan(k - 1);
          expect(t.quantity).toBe(same!.quantity);
          expect(t.entryPrice).toBe(same!.entryPrice);
        }
        expect(firstDifference(part.equity, full.equity, k - 1)).toBe(-1);
      }
    });
  }
});
