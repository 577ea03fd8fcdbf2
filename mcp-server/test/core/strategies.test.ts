/**
 * Named strategies on 20,000 real BTCUSDT 1h candles: each trades, none looks ahead (signals on the
 * first k candles equal the first k signals on all of them), and small hand-checked cases pin the
 * crossing, channel and threshold rules.
 */
import { describe, expect, it } from 'vitest';
import { sliceCandles, type Candles } from '../../src/core/candles.js';
import { rsi, sma } from '../../src/core/indicators/index.js';
import { evaluateGrid, parameterGrid, runBacktest, type Signals } from '../../src/core/backtest/index.js';
import {
  STRATEGIES,
  STRATEGY_NAMES,
  bollingerReversion,
  donchianBreakout,
  emaCross,
  getStrategy,
  maCrossSignals,
  rsiReversion,
  rules,
  smaCross,
  smaCrossSignals,
  smcStructure,
  strategyMakeSignals,
  strategySignals,
} from '../../src/core/backtest/strategies/index.js';
import { computeSeries } from '../../src/core/rules/index.js';
import { fixturePath, loadCandlesCsv } from '../helpers/csv.js';

const c = loadCandlesCsv(fixturePath('BTCUSDT-1h-20k.csv.gz'));
const n = c.close.length;
const f64 = (xs: number[]) => Float64Array.from(xs);
const ones = (a: ArrayLike<number> | undefined): number[] => {
  const out: number[] = [];
  for (let i = 0; i < (a?.length ?? 0); i++) if (a![i]) out.push(i);
  return out;
};
const COLUMNS = ['enterLong', 'exitLong', 'enterShort', 'exitShort', 'stopPrice', 'targetPrice'] as const;

const EMA_RULES = {
  entry_long: { left: 'ema(12)', op: 'crosses_above', right: 'ema(26)' },
  exit_long: { left: 'ema(12)', op: 'crosses_below', right: 'ema(26)' },
};
const RULES_WITH_EVERYTHING = {
  entry_long: {
    any: [
      {
        all: [
          { left: 'close', op: 'crosses_above', right: 'donchian_high(20)' },
          { left: 'adx(14)', op: '>', right: 20 },
        ],
      },
      { all: [{ is: 'choch_bullish' }, { left: 'rsi(14)', op: '<', right: 60 }] },
      { is: 'in_bullish_fvg' },
    ],
  },
  exit_long: { any: [{ is: 'choch_bearish' }, { left: 'macd_hist', op: 'crosses_below', right: 0 }] },
  entry_short: { all: [{ is: 'sweep_buy_side' }, { left: 'stoch_k', op: '>', right: 'stoch_d' }] },
  exit_short: { left: 'close', op: 'crosses_above', right: 'bb_middle(20,2)' },
  stop_atr: 1.5,
};

/** Parameters for each strategy in the fixture-wide tests (defaults, except the rule spec). */
const PARAMS: Record<string, unknown> = { rules: RULES_WITH_EVERYTHING };

const signalsOf = (name: string, candles: Candles): Signals =>
  strategySignals(name, candles, PARAMS[name] ?? {});

describe('registry', () => {
  it('lists every strategy, each with defaults', () => {
    expect(STRATEGY_NAMES).toEqual([
      'ema_cross',
      'sma_cross',
      'rsi_reversion',
      'donchian_breakout',
      'bollinger_reversion',
      'smc_structure',
      'rules',
    ]);
    for (const s of STRATEGIES) {
      expect(s.description.length, s.name).toBeGreaterThan(40);
      if (s.name !== 'rules') expect(() => s.params.parse({}), s.name).not.toThrow();
    }
    expect(emaCross.params.parse({})).toEqual({ fast: 12, slow: 26 });
    expect(rsiReversion.params.parse({ period: 7 })).toEqual({
      period: 7,
      oversold: 30,
      overbought: 70,
      max_bars: 48,
    });
  });

  it('names the available strategies for an unknown one', () => {
    expect(() => getStrategy('macd_magic')).toThrow(
      'unknown strategy "macd_magic"; available: ema_cross, sma_cross, rsi_reversion, donchian_breakout, bollinger_reversion, smc_structure, rules',
    );
    expect(getStrategy('smc_structure')).toBe(smcStructure);
  });

  it('validates parameters', () => {
    expect(smaCross.params.safeParse({ fast: 50, slow: 20 }).error?.issues[0]?.message).toBe(
      'fast must be shorter than slow',
    );
    expect(emaCross.params.safeParse({ fast: 0 }).success).toBe(false);
    expect(emaCross.params.safeParse({ fats: 5 }).success).toBe(false);
    expect(rsiReversion.params.safeParse({ oversold: 80 }).success).toBe(false);
    expect(bollingerReversion.params.safeParse({ mult: 0 }).success).toBe(false);
    expect(donchianBreakout.params.safeParse({ entry: 2.5 }).success).toBe(false);
    expect(rules.params.safeParse({}).success).toBe(false);
  });
});

describe.each(STRATEGY_NAMES)('%s on BTCUSDT 1h', (name) => {
  const full = signalsOf(name, c);

  it('produces entries and exits on both sides', () => {
    expect(ones(full.enterLong).length).toBeGreaterThan(20);
    expect(ones(full.exitLong).length).toBeGreaterThan(20);
    expect(ones(full.enterShort).length).toBeGreaterThan(20);
    expect(ones(full.exitShort).length).toBeGreaterThan(20);
    for (const column of COLUMNS) if (full[column]) expect(full[column].length).toBe(n);
    const result = runBacktest(c, full, {
      initialCapital: 10_000,
      feeRate: 0.001,
      slippage: 0.0005,
      sizing: { mode: 'fixed_fraction', fraction: 1 },
      allowShort: true,
      periodsPerYear: 8760,
    });
    expect(result.metrics.trades).toBeGreaterThan(20);
  });

  it('never looks ahead: signals on the first k bars are the first k signals', () => {
    for (const k of [1, 40, 613, 4_999, 10_007, 15_432, n - 1]) {
      const prefix = signalsOf(name, sliceCandles(c, 0, k));
      for (const column of COLUMNS) {
        if (full[column] === undefined) {
          expect(prefix[column], `${column} on ${k} bars`).toBeUndefined();
          continue;
        }
        // Arrays of numbers so that NaN equals NaN and a mismatch shows its index.
        expect(Array.from(prefix[column]!), `${column} on ${k} bars`).toEqual(
          Array.from(full[column].subarray(0, k)),
        );
      }
    }
  });

  it('stops and targets sit on the right side of the close on entry bars', () => {
    for (let i = 0; i < n; i++) {
      const stop = full.stopPrice?.[i] ?? NaN;
      const target = full.targetPrice?.[i] ?? NaN;
      const long = full.enterLong[i] === 1;
      const short = full.enterShort?.[i] === 1;
      if (!long && !short) {
        expect(stop, `bar ${i}`).toBeNaN();
        expect(target, `bar ${i}`).toBeNaN();
      } else if (long) {
        if (!Number.isNaN(stop)) expect(stop, `bar ${i}`).toBeLessThan(c.close[i]!);
        if (!Number.isNaN(target)) expect(target, `bar ${i}`).toBeGreaterThan(c.close[i]!);
      } else {
        if (!Number.isNaN(stop)) expect(stop, `bar ${i}`).toBeGreaterThan(c.close[i]!);
        if (!Number.isNaN(target)) expect(target, `bar ${i}`).toBeLessThan(c.close[i]!);
      }
    }
  });
});

describe('moving-average crosses', () => {
  it('cross on the bar the fast average moves past the slow one', () => {
    const fast = f64([NaN, 1, 2, 3, 2, 2, 1, 3]);
    const slow = f64([NaN, 2, 2, 2, 2, 2, 2, 2]);
    const s = maCrossSignals(fast, slow);
    // Bar 2 only touches (2 = 2); bar 3 leaves from a touch, which counts (<= then >).
    expect(ones(s.enterLong)).toEqual([3, 7]);
    expect(ones(s.exitLong)).toEqual([6]); // 3 -> 2 touches, 2 -> 1 crosses below
    expect(ones(s.enterShort)).toEqual([6]);
    expect(ones(s.exitShort)).toEqual([3, 7]);
  });

  it('rules with ema(12)/ema(26) crosses give the same signals as ema_cross 12/26', () => {
    const fromRules = rules.signals(c, rules.params.parse(EMA_RULES));
    const named = emaCross.signals(c, emaCross.params.parse({ fast: 12, slow: 26 }));
    expect(ones(named.enterLong).length).toBeGreaterThan(100);
    expect(fromRules.enterLong).toEqual(named.enterLong);
    expect(fromRules.exitLong).toEqual(named.exitLong);
    const shortRules = rules.signals(
      c,
      rules.params.parse({
        ...EMA_RULES,
        entry_short: EMA_RULES.exit_long,
        exit_short: EMA_RULES.entry_long,
      }),
    );
    expect(shortRules.enterShort).toEqual(named.enterShort);
    expect(shortRules.exitShort).toEqual(named.exitShort);
  });

  it('sma_cross takes precomputed SMAs from the cache, and the fast path agrees', () => {
    const cache = new Map<string, Float64Array>();
    const viaStrategy = smaCross.signals(c, { fast: 10, slow: 30 }, cache);
    expect([...cache.keys()].sort()).toEqual(['sma(10)', 'sma(30)']);
    const fast = sma(c.close, 10);
    const slow = sma(c.close, 30);
    expect(smaCrossSignals(fast, slow)).toEqual(viaStrategy);
    // A cached array is used as is: a sentinel series changes the result.
    cache.set('sma(10)', slow);
    expect(ones(smaCross.signals(c, { fast: 10, slow: 30 }, cache).enterLong)).toEqual([]);
  });

  it('a grid reuses the series of each candle set', () => {
    const make = strategyMakeSignals(smaCross);
    const combos = parameterGrid({ fast: [5, 10], slow: [20, 40] });
    const config = {
      initialCapital: 10_000,
      feeRate: 0.001,
      slippage: 0.0005,
      sizing: { mode: 'fixed_fraction' as const, fraction: 1 },
      allowShort: false,
      periodsPerYear: 8760,
    };
    const results = evaluateGrid(c, combos, make, config, 'sharpe');
    expect(results).toHaveLength(4);
    const direct = runBacktest(c, smaCross.signals(c, { fast: 10, slow: 40 }), config);
    const row = results.find((r) => r.params.fast === 10 && r.params.slow === 40)!;
    expect(row.metrics).toEqual(direct.metrics);
    // A different candle set (a window) gets its own cache, not the full set's series.
    const window = sliceCandles(c, 5_000, 9_000);
    expect(make({ fast: 10, slow: 40 }, window)).toEqual(smaCross.signals(window, { fast: 10, slow: 40 }));
  });
});

describe('donchian_breakout', () => {
  // Bars:        0  1  2  3  4  5  6  7
  const high = f64([10, 12, 11, 13, 12, 11, 10, 9]);
  const low = f64([8, 9, 9, 10, 10, 9, 7, 6]);
  const close = f64([9, 11, 10, 12.5, 11, 10, 8, 9.5]);
  const candles: Candles = {
    time: f64([0, 1, 2, 3, 4, 5, 6, 7]),
    open: close,
    high,
    low,
    close,
    volume: close,
  };

  it('breaks out against the previous bars, stops at the previous exit-channel low', () => {
    const s = donchianBreakout.signals(candles, { entry: 2, exit: 2 });
    // Bar 3: close 12.5 > max(high[1], high[2]) = 12; its own high 13 does not count.
    expect(ones(s.enterLong)).toEqual([3]);
    expect(s.stopPrice![3]).toBe(9); // min(low[1], low[2])
    // Bar 6: close 8 < min(low[4], low[5]) = 9: exit long, and below the 2-bar entry low too: short.
    expect(ones(s.exitLong)).toEqual([6]);
    expect(ones(s.enterShort)).toEqual([6]);
    expect(s.stopPrice![6]).toBe(12); // max(high[4], high[5])
    // The breakout at bar 3 is also above the 2-bar exit high: it would close a short. Bar 7's close
    // 9.5 is not above max(high[5], high[6]) = 11: the short opened at bar 6 stays.
    expect(ones(s.exitShort)).toEqual([3]);
    expect(ones(s.stopPrice!.map((v) => (Number.isNaN(v) ? 0 : 1)))).toEqual([3, 6]);
  });
});

describe('rsi_reversion', () => {
  // RSI(2) by hand (Wilder): bar 2: 0, 3: 0, 4: 50, 5: 75, 6: 87.5, 7: 93.75, 8: 46.875, 9: 23.4375, 10: 11.72.
  const close = f64([10, 9, 8, 7, 8, 9, 10, 11, 10, 9, 8]);
  const candles: Candles = { time: close, open: close, high: close, low: close, close, volume: close };

  it('crosses the thresholds where the RSI does', () => {
    expect(Array.from(rsi(close, 2).subarray(2, 10))).toEqual([0, 0, 50, 75, 87.5, 93.75, 46.875, 23.4375]);
    const s = rsiReversion.signals(candles, { period: 2, oversold: 30, overbought: 70, max_bars: 0 });
    expect(ones(s.enterLong)).toEqual([4]); // 0 -> 50 crosses up through 30
    expect(ones(s.exitLong)).toEqual([5]); // 50 -> 75 crosses up through 70
    expect(ones(s.enterShort)).toEqual([8]); // 93.75 -> 46.875 crosses down through 70
    expect(ones(s.exitShort)).toEqual([9]); // 46.875 -> 23.4 crosses down through 30
  });

  it('leaves after max_bars when the RSI never gets there', () => {
    const s = rsiReversion.signals(candles, { period: 2, oversold: 30, overbought: 95, max_bars: 2 });
    expect(ones(s.enterLong)).toEqual([4]);
    expect(ones(s.exitLong)).toEqual([6]);
    expect(ones(s.enterShort)).toEqual([]);
    const inclusive = rsiReversion.signals(candles, { period: 2, oversold: 50, overbought: 95, max_bars: 0 });
    expect(ones(inclusive.enterLong)).toEqual([5]); // 50 is not above 50; 75 is
  });
});

describe('bollinger_reversion', () => {
  it('enters when the close crosses back inside the bands and exits at the middle', () => {
    const s = bollingerReversion.signals(c, { period: 20, mult: 2 });
    const upper = computeSeries(c, 'bb_upper(20,2)');
    const middle = computeSeries(c, 'bb_middle(20,2)');
    const lower = computeSeries(c, 'bb_lower(20,2)');
    for (const i of ones(s.enterLong)) {
      expect(c.close[i - 1]).toBeLessThanOrEqual(lower[i - 1]!);
      expect(c.close[i]).toBeGreaterThan(lower[i]!);
      expect(c.close[i]).toBeLessThan(middle[i]!);
    }
    for (const i of ones(s.enterShort)) {
      expect(c.close[i - 1]).toBeGreaterThanOrEqual(upper[i - 1]!);
      expect(c.close[i]).toBeLessThan(upper[i]!);
    }
    for (let i = 19; i < n; i++) expect(s.exitLong[i]).toBe(c.close[i]! >= middle[i]! ? 1 : 0);
  });
});

describe('smc_structure', () => {
  const s = smcStructure.signals(c, { swing_length: 5, target_r: 2 });

  it('enters on confirmed structure breaks and exits on an opposite CHoCH', () => {
    const bos = computeSeries(c, 'bos_bullish');
    const choch = computeSeries(c, 'choch_bullish');
    const chochBear = computeSeries(c, 'choch_bearish');
    const entries = ones(s.enterLong);
    // Every bullish break bar is an entry; the other entries are retests.
    for (let i = 0; i < n; i++) if (bos[i] || choch[i]) expect(s.enterLong[i], `bar ${i}`).toBe(1);
    const retests = entries.filter((i) => !bos[i] && !choch[i]);
    expect(retests.length).toBeGreaterThan(50);
    expect(ones(s.exitLong)).toEqual(ones(chochBear));
    // Retest stops are zone bottoms under the bar's low.
    for (const i of retests) expect(s.stopPrice![i]).toBeLessThanOrEqual(c.low[i]!);
  });

  it('targets are liquidity levels at least 1R away, or target_r R', () => {
    let atTwoR = 0;
    let atLevel = 0;
    for (const i of ones(s.enterLong)) {
      const stop = s.stopPrice![i]!;
      const target = s.targetPrice![i]!;
      if (Number.isNaN(stop)) {
        expect(target).toBeNaN();
        continue;
      }
      const risk = c.close[i]! - stop;
      expect(target - c.close[i]!).toBeGreaterThanOrEqual(risk * (1 - 1e-12));
      if (Math.abs(target - (c.close[i]! + 2 * risk)) < 1e-9 * target) atTwoR++;
      else atLevel++;
    }
    expect(atTwoR).toBeGreaterThan(20);
    expect(atLevel).toBeGreaterThan(20);
    const wider = smcStructure.signals(c, { swing_length: 5, target_r: 3 });
    expect(wider.enterLong).toEqual(s.enterLong);
  });
});
