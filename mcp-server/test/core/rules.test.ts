/**
 * Rules: series references (parsing, values, caching, causality), comparisons, condition evaluation,
 * rule signals and the spec schema's error messages. Real BTCUSDT 1h candles where values matter.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { sliceCandles, type Candles } from '../../src/core/candles.js';
import { atr, ema, sma } from '../../src/core/indicators/index.js';
import {
  ACCEPTED_SERIES,
  compareSeries,
  computeSeries,
  conditionIssues,
  donchianHigh,
  donchianLow,
  evaluateCondition,
  formatRuleIssues,
  parseSeriesRef,
  ruleConditionSchema,
  ruleRiskConfig,
  ruleSignals,
  ruleStrategySpecSchema,
  type Condition,
} from '../../src/core/rules/index.js';
import {
  breakOfStructure,
  fairValueGaps,
  liquidity,
  orderBlocks,
  swingHighsLows,
  type FairValueGap,
  type OrderBlock,
} from '../../src/core/smc/index.js';
import { fixturePath, loadCandlesCsv } from '../helpers/csv.js';

const c = loadCandlesCsv(fixturePath('BTCUSDT-1h-20k.csv.gz'));
const n = c.close.length;
const f64 = (xs: number[]) => Float64Array.from(xs);
const ones = (a: ArrayLike<number>): number[] => {
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) if (a[i]) out.push(i);
  return out;
};
/** Equal as arrays, NaN equal to NaN. */
const sameSeries = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  expect(Array.from(a)).toEqual(Array.from(b));

describe('parseSeriesRef', () => {
  it('fills defaults and gives one canonical key', () => {
    expect(parseSeriesRef('rsi')).toMatchObject({
      name: 'rsi',
      kind: 'indicator',
      params: [14],
      key: 'rsi(14)',
    });
    expect(parseSeriesRef(' ema( 20 ) ').key).toBe('ema(20)');
    expect(parseSeriesRef('bb_upper(20)').key).toBe('bb_upper(20,2)');
    expect(parseSeriesRef('bb_lower(10,2.5)').params).toEqual([10, 2.5]);
    expect(parseSeriesRef('macd').key).toBe('macd(12,26,9)');
    expect(parseSeriesRef('close')).toMatchObject({ kind: 'field', key: 'close' });
    expect(parseSeriesRef('choch_bullish')).toMatchObject({ kind: 'event', key: 'choch_bullish(5)' });
    expect(parseSeriesRef('in_bullish_fvg')).toMatchObject({ kind: 'zone', key: 'in_bullish_fvg' });
  });

  it('names the accepted series for an unknown name', () => {
    expect(() => parseSeriesRef('emaa(20)')).toThrow(
      /^unknown series "emaa\(20\)"; accepted: open, high, low, close, volume, sma\(n\), ema\(n\), rsi\(n=14\),/,
    );
    expect(() => parseSeriesRef('ema(20')).toThrow(/^unknown series "ema\(20"; accepted:/);
    expect(ACCEPTED_SERIES).toContain('bb_lower(n=20,mult=2)');
    expect(ACCEPTED_SERIES).toContain('donchian_high(n=20)');
  });

  it('checks parameter counts and ranges', () => {
    expect(() => parseSeriesRef('ema')).toThrow('series "ema": ema takes 1 parameter (ema(n)), got 0');
    expect(() => parseSeriesRef('ema(1,2)')).toThrow('ema takes 1 parameter (ema(n)), got 2');
    expect(() => parseSeriesRef('macd(12,26,9,4)')).toThrow(
      'macd takes 0 to 3 parameters (macd(fast=12,slow=26,signal=9)), got 4',
    );
    expect(() => parseSeriesRef('obv(3)')).toThrow('obv takes no parameters (obv), got 1');
    expect(() => parseSeriesRef('ema(0)')).toThrow(
      'series "ema(0)": n must be an integer from 1 to 10000, got "0"',
    );
    expect(() => parseSeriesRef('rsi(14.5)')).toThrow('n must be an integer from 1 to 10000, got "14.5"');
    expect(() => parseSeriesRef('sma(x)')).toThrow('n must be an integer from 1 to 10000, got "x"');
    expect(() => parseSeriesRef('bb_upper(20,-1)')).toThrow('mult must be a number from 0 to 10, got "-1"');
    expect(() => parseSeriesRef('bos_bullish(0)')).toThrow('swing must be an integer from 1 to 500');
  });
});

describe('computeSeries', () => {
  it('matches the indicators and returns fields as the columns', () => {
    sameSeries(computeSeries(c, 'ema(20)'), ema(c.close, 20));
    sameSeries(computeSeries(c, 'volume_sma(10)'), sma(c.volume, 10));
    sameSeries(computeSeries(c, 'atr'), atr(c.high, c.low, c.close, 14));
    expect(computeSeries(c, 'close')).toBe(c.close);
  });

  it('computes each distinct series once, with sibling outputs', () => {
    const cache = new Map<string, Float64Array>();
    const upper = computeSeries(c, 'bb_upper(20,2)', cache);
    expect([...cache.keys()].sort()).toEqual(['bb_lower(20,2)', 'bb_middle(20,2)', 'bb_upper(20,2)']);
    expect(computeSeries(c, 'bb_upper(20)', cache)).toBe(upper);
    const lower = cache.get('bb_lower(20,2)');
    expect(computeSeries(c, 'bb_lower', cache)).toBe(lower);
    computeSeries(c, 'rsi', cache);
    expect(computeSeries(c, 'rsi(14)', cache)).toBe(cache.get('rsi(14)'));
  });

  it('donchian channels use the previous n bars only', () => {
    const high = f64([1, 5, 3, 2, 4, 6, 1]);
    const low = f64([4, 2, 3, 5, 1, 2, 3]);
    sameSeries(donchianHigh(high, 2), [NaN, NaN, 5, 5, 3, 4, 6]);
    sameSeries(donchianLow(low, 2), [NaN, NaN, 2, 2, 3, 1, 1]);
    sameSeries(donchianHigh(high, 1), [NaN, 1, 5, 3, 2, 4, 6]);
    // Against a naive scan on real data.
    const dh = computeSeries(c, 'donchian_high(20)');
    const dl = computeSeries(c, 'donchian_low(20)');
    for (let i = 20; i < n; i += 7) {
      expect(dh[i]).toBe(Math.max(...c.high.subarray(i - 20, i)));
      expect(dl[i]).toBe(Math.min(...c.low.subarray(i - 20, i)));
    }
    // A breakout is possible because the current bar is excluded.
    expect(ones(compareSeries(c.close, '>', dh, n)).length).toBeGreaterThan(100);
  });

  it('every series is causal: a prefix of the candles gives a prefix of the series', () => {
    // Every name with its defaults (sma / ema have none), plus a few explicit parameters.
    const refs = ACCEPTED_SERIES.map((s) =>
      s.endsWith('(n)') ? s.replace('(n)', '(20)') : s.replace(/\(.*\)$/, ''),
    );
    refs.push(
      'rsi(3)',
      'bb_upper(7,1.5)',
      'macd_hist(5,13,4)',
      'stoch_d(5,2,2)',
      'choch_bearish(3)',
      'in_bearish_ob(12)',
    );
    const full = new Map<string, Float64Array>();
    for (const ref of refs) full.set(ref, computeSeries(c, ref));
    for (const k of [1, 30, 997, 5003, 12_345, n - 1]) {
      const prefix = sliceCandles(c, 0, k);
      const cache = new Map<string, Float64Array>();
      for (const ref of refs) {
        const values = computeSeries(prefix, ref, cache);
        expect(values.length, ref).toBe(k);
        expect(Array.from(values), `${ref} on ${k} bars`).toEqual(Array.from(full.get(ref)!.subarray(0, k)));
      }
    }
  });

  it('flags are 0/1 and fire on the fixture', () => {
    const flags = ACCEPTED_SERIES.filter((s) => /^(bos|choch|sweep|in_)/.test(s)).map((s) =>
      s.replace(/\(.*\)$/, ''),
    );
    expect(flags).toHaveLength(10);
    for (const ref of flags) {
      const values = computeSeries(c, ref);
      expect(
        values.every((v) => v === 0 || v === 1),
        ref,
      ).toBe(true);
      expect(ones(values).length, ref).toBeGreaterThan(20);
    }
  });
});

describe('SMC flags', () => {
  const swings = swingHighsLows(c, 5);

  it('structure events fire exactly on their confirmation bars', () => {
    const breaks = breakOfStructure(c, swings);
    // Some breaks are confirmed after the break bar: those must not flag the break bar.
    expect(breaks.some((b) => b.confirmedIndex > b.index)).toBe(true);
    for (const [ref, type, direction] of [
      ['bos_bullish', 'BOS', 'bullish'],
      ['bos_bearish', 'BOS', 'bearish'],
      ['choch_bullish', 'CHoCH', 'bullish'],
      ['choch_bearish', 'CHoCH', 'bearish'],
    ] as const) {
      const expected = new Set(
        breaks.filter((b) => b.type === type && b.direction === direction).map((b) => b.confirmedIndex),
      );
      expect(ones(computeSeries(c, ref)), ref).toEqual([...expected].sort((a, b) => a - b));
    }
  });

  it('the swing length parameter reaches the structure', () => {
    const breaks = breakOfStructure(c, swingHighsLows(c, 10));
    const expected = new Set(
      breaks.filter((b) => b.direction === 'bullish' && b.type === 'BOS').map((b) => b.confirmedIndex),
    );
    expect(ones(computeSeries(c, 'bos_bullish(10)'))).toEqual([...expected].sort((a, b) => a - b));
  });

  it('sweeps fire on the sweep bar of each pool', () => {
    const pools = liquidity(c, swings);
    for (const [ref, type] of [
      ['sweep_buy_side', 'buy-side'],
      ['sweep_sell_side', 'sell-side'],
    ] as const) {
      const expected = new Set(
        pools.filter((p) => p.type === type && p.sweptIndex !== null).map((p) => p.sweptIndex!),
      );
      expect(ones(computeSeries(c, ref)), ref).toEqual([...expected].sort((a, b) => a - b));
    }
  });

  /** Naive definition: close inside a zone confirmed by bar i, not touched before i, not broken by i. */
  function zoneOracle(zones: readonly (OrderBlock | FairValueGap)[], type: 'bullish' | 'bearish'): number[] {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const inside = zones.some(
        (z) =>
          z.type === type &&
          z.confirmedIndex <= i &&
          (z.mitigatedIndex === null || z.mitigatedIndex >= i) &&
          !('breakerIndex' in z && z.breakerIndex !== null && z.breakerIndex <= i) &&
          c.close[i]! >= z.bottom &&
          c.close[i]! <= z.top,
      );
      if (inside) out.push(i);
    }
    return out;
  }

  it('zone states mark closes inside fresh confirmed zones', () => {
    const blocks = orderBlocks(c, swings);
    const gaps = fairValueGaps(c);
    expect(ones(computeSeries(c, 'in_bullish_ob'))).toEqual(zoneOracle(blocks, 'bullish'));
    expect(ones(computeSeries(c, 'in_bearish_ob'))).toEqual(zoneOracle(blocks, 'bearish'));
    expect(ones(computeSeries(c, 'in_bullish_fvg'))).toEqual(zoneOracle(gaps, 'bullish'));
    expect(ones(computeSeries(c, 'in_bearish_fvg'))).toEqual(zoneOracle(gaps, 'bearish'));
  });
});

describe('compareSeries', () => {
  const left = f64([1, 2, 3, 2, 1, NaN, 3, 1]);
  const right = f64([2, 2, 2, 2, 2, 2, 2, 2]);

  it('crosses compare the previous and the current bar', () => {
    expect(Array.from(compareSeries(left, 'crosses_above', right, 8))).toEqual([0, 0, 1, 0, 0, 0, 0, 0]);
    expect(Array.from(compareSeries(left, 'crosses_below', right, 8))).toEqual([0, 0, 0, 0, 1, 0, 0, 1]);
    expect(Array.from(compareSeries(left, 'crosses_above', 2, 8))).toEqual([0, 0, 1, 0, 0, 0, 0, 0]);
    expect(Array.from(compareSeries(2, 'crosses_below', left, 8))).toEqual([0, 0, 1, 0, 0, 0, 0, 0]);
  });

  it('NaN operands are false', () => {
    expect(Array.from(compareSeries(left, '>', right, 8))).toEqual([0, 0, 1, 0, 0, 0, 1, 0]);
    expect(Array.from(compareSeries(left, '<=', 2, 8))).toEqual([1, 1, 0, 1, 1, 0, 0, 1]);
    expect(Array.from(compareSeries(f64([NaN, 3]), 'crosses_above', 2, 2))).toEqual([0, 0]);
    expect(Array.from(compareSeries(1, '<', 2, 3))).toEqual([1, 1, 1]);
    expect(Array.from(compareSeries(1, 'crosses_above', 0, 3))).toEqual([0, 0, 0]);
  });
});

describe('evaluateCondition', () => {
  const tiny: Candles = {
    time: f64([0, 1, 2, 3, 4]),
    open: f64([1, 2, 3, 4, 5]),
    high: f64([2, 3, 4, 5, 6]),
    low: f64([0, 1, 2, 3, 4]),
    close: f64([1, 3, 2, 5, 4]),
    volume: f64([10, 10, 10, 10, 10]),
  };
  const evaluate = (cond: Condition) => Array.from(evaluateCondition(tiny, cond));

  it('combines comparisons with all / any / not', () => {
    expect(evaluate({ left: 'close', op: '>', right: 'open' })).toEqual([0, 1, 0, 1, 0]);
    expect(evaluate({ left: 'close', op: '>=', right: 2 })).toEqual([0, 1, 1, 1, 1]);
    expect(
      evaluate({
        all: [
          { left: 'close', op: '>', right: 'open' },
          { left: 'close', op: '>', right: 4 },
        ],
      }),
    ).toEqual([0, 0, 0, 1, 0]);
    expect(
      evaluate({
        any: [
          { left: 'close', op: '<', right: 2 },
          { left: 'close', op: '>', right: 4 },
        ],
      }),
    ).toEqual([1, 0, 0, 1, 0]);
    expect(evaluate({ not: { left: 'close', op: '>', right: 'open' } })).toEqual([1, 0, 1, 0, 1]);
    // sma(2) is NaN on bar 0: false there, and so `not` is true there.
    expect(evaluate({ left: 'close', op: '>', right: 'sma(2)' })).toEqual([0, 1, 0, 1, 0]);
    expect(evaluate({ not: { left: 'close', op: '<=', right: 'sma(2)' } })).toEqual([1, 1, 0, 1, 0]);
    expect(evaluate({ left: 'close', op: 'crosses_above', right: 'donchian_high(1)' })).toEqual([
      0, 0, 0, 1, 0,
    ]);
  });

  it('`is` is true where a flag is set', () => {
    const cache = new Map<string, Float64Array>();
    const truth = evaluateCondition(c, { is: 'choch_bullish' }, cache);
    expect(ones(truth)).toEqual(ones(cache.get('choch_bullish(5)')!));
  });
});

describe('ruleSignals', () => {
  const cross: Condition = { left: 'ema(12)', op: 'crosses_above', right: 'ema(26)' };
  const crossDown: Condition = { left: 'ema(12)', op: 'crosses_below', right: 'ema(26)' };

  it('maps rules to signal columns and leaves shorts out when unused', () => {
    const s = ruleSignals(c, { entry_long: cross, exit_long: crossDown });
    expect(ones(s.enterLong).length).toBeGreaterThan(100);
    expect(ones(s.exitLong).length).toBeGreaterThan(100);
    expect(s.enterShort).toBeUndefined();
    expect(s.stopPrice).toBeUndefined();
    const onlyEntry = ruleSignals(c, { entry_short: crossDown });
    expect(ones(onlyEntry.enterShort!)).toEqual(ones(s.exitLong));
    expect(ones(onlyEntry.exitShort!)).toEqual([]);
    expect(ones(onlyEntry.enterLong)).toEqual([]);
  });

  it('puts the ATR stop of the entering side on entry bars', () => {
    const s = ruleSignals(c, { entry_long: cross, entry_short: crossDown, stop_atr: 2 });
    const range = atr(c.high, c.low, c.close, 14);
    let longs = 0;
    let shorts = 0;
    for (let i = 0; i < n; i++) {
      const stop = s.stopPrice![i]!;
      if (s.enterLong[i]) {
        expect(stop).toBe(c.close[i]! - 2 * range[i]!);
        longs++;
      } else if (s.enterShort![i]) {
        expect(stop).toBe(c.close[i]! + 2 * range[i]!);
        shorts++;
      } else expect(stop).toBeNaN();
    }
    expect(longs).toBeGreaterThan(100);
    expect(shorts).toBeGreaterThan(100);
  });

  it('risk settings map to the engine config', () => {
    expect(ruleRiskConfig({ entry_long: cross, stop_loss_pct: 0.03, take_profit_pct: 0.06 })).toEqual({
      stopLossPct: 0.03,
      takeProfitPct: 0.06,
    });
    expect(ruleRiskConfig({ entry_long: cross })).toEqual({});
  });
});

describe('ruleStrategySpecSchema', () => {
  const issues = (spec: unknown): string[] => {
    const r = ruleStrategySpecSchema.safeParse(spec);
    return r.success ? [] : formatRuleIssues(r.error);
  };
  const leaf = { left: 'close', op: '>', right: 'sma(20)' };
  const nest = (depth: number): unknown => {
    let node: unknown = leaf;
    for (let d = 1; d < depth; d++) node = { not: node };
    return node;
  };

  it('accepts a valid spec and returns it typed', () => {
    const spec = {
      entry_long: { all: [leaf, { is: 'choch_bullish' }, { not: { left: 'rsi(14)', op: '>', right: 70 } }] },
      exit_long: {
        any: [{ left: 'close', op: 'crosses_below', right: 'bb_middle(20,2)' }, { is: 'in_bearish_ob' }],
      },
      stop_atr: 2,
      take_profit_pct: 0.1,
    };
    expect(ruleStrategySpecSchema.parse(spec)).toEqual(spec);
  });

  it('points at a bad reference and lists the accepted names', () => {
    const out = issues({
      entry_long: { all: [leaf, { left: 'emaa(20)', op: '>', right: 'ema(50)' }] },
      exit_long: { left: 'close', op: '<', right: 'ema(0)' },
    });
    expect(out).toHaveLength(2);
    expect(out[0]).toMatch(
      /^entry_long\.all\.1\.left: unknown series "emaa\(20\)"; accepted: open, high, low, close, volume, sma\(n\), ema\(n\), /,
    );
    expect(out[0]).toContain('bos_bullish(swing=5)');
    expect(out[1]).toBe('exit_long.right: series "ema(0)": n must be an integer from 1 to 10000, got "0"');
  });

  it('requires an entry rule', () => {
    expect(issues({})).toEqual(['a rule strategy needs entry_long or entry_short']);
    expect(issues({ exit_long: leaf, stop_atr: 2 })).toEqual([
      'a rule strategy needs entry_long or entry_short',
    ]);
    expect(issues({ entry_short: leaf })).toEqual([]);
  });

  it('limits depth, without overflowing on absurd nesting', () => {
    expect(issues({ entry_long: nest(8) })).toEqual([]);
    const tooDeep = issues({ entry_long: nest(9) });
    expect(tooDeep).toEqual([`entry_long${'.not'.repeat(8)}: conditions nest deeper than 8 levels`]);
    expect(issues({ entry_long: nest(100_000) })).toEqual(tooDeep);
  });

  it('limits the number of conditions, per rule and in total', () => {
    expect(issues({ entry_long: { all: Array(49).fill(leaf) } })).toEqual([]);
    expect(issues({ entry_long: { all: Array(60).fill(leaf) } })).toEqual([
      'entry_long.all.49: more than 50 conditions',
    ]);
    expect(
      issues({ entry_long: { all: Array(30).fill(leaf) }, exit_long: { all: Array(30).fill(leaf) } }),
    ).toEqual(['more than 50 conditions in total (62)']);
  });

  it('reports shape errors precisely', () => {
    expect(issues({ entry_long: { left: 'close', op: '>>', right: 1 } })).toEqual([
      'entry_long.op: unknown op ">>"; accepted: >, >=, <, <=, crosses_above, crosses_below',
    ]);
    expect(issues({ entry_long: { lft: 'close', op: '>', right: 1 } })).toEqual([
      'entry_long: unknown key "lft" beside "left", "op", "right"',
      'entry_long: missing "left": a series reference or a number',
    ]);
    expect(issues({ entry_long: { all: [] } })).toEqual([
      'entry_long.all: "all" needs a non-empty array of conditions',
    ]);
    expect(issues({ entry_long: { is: 'x', not: leaf } })[0]).toMatch(
      /^entry_long: a condition is one of .*; got keys "is", "not"$/,
    );
    expect(issues({ entry_long: { is: 'close' } })[0]).toMatch(
      /^entry_long\.is: "close" is not a flag series .*"is" accepts: bos_bullish\(swing=5\),/,
    );
    expect(issues({ entry_long: { left: 1, op: '>', right: 2 } })).toEqual([
      'entry_long: both sides are numbers: compare at least one series',
    ]);
    expect(issues({ entry_long: { left: 'close', op: '>', right: true } })).toEqual([
      'entry_long.right: expected a series reference (string) or a number',
    ]);
    expect(issues({ entry_long: leaf, entry_longg: leaf })).toEqual(['Unrecognized key: "entry_longg"']);
    expect(issues({ entry_long: leaf, stop_loss_pct: 2 })[0]).toMatch(/^stop_loss_pct: /);
  });

  it('checks a single condition and produces a JSON Schema', () => {
    expect(ruleConditionSchema.safeParse({ is: 'sweep_sell_side' }).success).toBe(true);
    expect(conditionIssues({ not: { is: 'nope' } })[0]!.path).toEqual(['not', 'is']);
    const schema = z.toJSONSchema(ruleStrategySpecSchema, { io: 'input' }) as {
      properties: Record<string, unknown>;
    };
    expect(Object.keys(schema.properties)).toEqual([
      'entry_long',
      'exit_long',
      'entry_short',
      'exit_short',
      'stop_loss_pct',
      'take_profit_pct',
      'stop_atr',
    ]);
  });
});

describe('volume_ratio', () => {
  it('divides each volume by the mean of the previous n volumes, for volume surge alerts', async () => {
    const { computeSeries: compute } = await import('../../src/core/rules/series.js');
    const volume = Float64Array.from([10, 10, 10, 10, 40, 10, 0, 0, 0, 0, 5]);
    const c = {
      time: Float64Array.from(volume, (_, i) => i * 3_600_000),
      open: new Float64Array(volume.length).fill(1),
      high: new Float64Array(volume.length).fill(1),
      low: new Float64Array(volume.length).fill(1),
      close: new Float64Array(volume.length).fill(1),
      volume,
    };
    const r = Array.from(compute(c, 'volume_ratio(4)'));
    // Bar 4: 40 / mean(10, 10, 10, 10) = 4; bar 5: 10 / mean(10, 10, 10, 40) = 0.571...; bar 10: the previous
    // four traded nothing, so there is no ratio.
    expect(r.slice(0, 4).every(Number.isNaN)).toBe(true);
    expect(r[4]).toBe(4);
    expect(r[5]).toBeCloseTo(10 / 17.5, 12);
    expect(r[10]).toBeNaN();
  });
});
