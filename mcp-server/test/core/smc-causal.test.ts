/**
 * No look-ahead and library fidelity on 20,000 real BTCUSDT 1h candles.
 *
 * No look-ahead: for many cut points t, each function run on the first t candles must return exactly the
 * full run's items with `confirmedIndex < t`, their lifecycle fields re-evaluated as of bar t-1 by the
 * naive oracles below. Fidelity: where our rules have no causal difference from smartmoneyconcepts, a
 * direct port of the library's loops must agree exactly.
 */
import { describe, expect, it } from 'vitest';
import { sliceCandles, type Candles } from '../../src/core/candles.js';
import {
  breakOfStructure,
  fairValueGaps,
  liquidity,
  orderBlocks,
  swingHighsLows,
  type FairValueGap,
  type LiquidityPool,
  type OrderBlock,
  type Swing,
} from '../../src/core/smc/index.js';
import { fixturePath, loadCandlesCsv } from '../helpers/csv.js';

const c = loadCandlesCsv(fixturePath('BTCUSDT-1h-20k.csv.gz'));
const n = c.close.length;
const LENGTH = 5;

/** Deterministic cut points: 30 pseudo-random plus the edges. */
function cutPoints(): number[] {
  let seed = 20240601;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const ts = [0, 1, 2, 3, 2 * LENGTH, 2 * LENGTH + 1, 3 * LENGTH, 3 * LENGTH + 1, 100, n - 1, n];
  for (let k = 0; k < 30; k++) ts.push(1 + Math.floor(random() * (n - 1)));
  return ts;
}
const cuts = cutPoints();
const prefix = (t: number) => sliceCandles(c, 0, t);

const swings = swingHighsLows(c, LENGTH);
const swingsAsOf = (t: number): Swing[] => swings.filter((s) => s.confirmedIndex < t);
const confirmedAt = new Map(swings.map((s) => [s.index, s.confirmedIndex]));

/** A gap re-derived as of bar t-1 from the candles: members, edges, first touch and deepest fill. */
function gapAsOf(g: FairValueGap, t: number): FairValueGap {
  const bull = g.type === 'bullish';
  const endIndex = Math.min(g.endIndex, t - 2);
  let top = -Infinity;
  let bottom = Infinity;
  for (let m = g.index; m <= endIndex; m++) {
    top = Math.max(top, bull ? c.low[m + 1]! : c.low[m - 1]!);
    bottom = Math.min(bottom, bull ? c.high[m - 1]! : c.high[m + 1]!);
  }
  let mitigatedIndex: number | null = null;
  let deepest = bull ? Infinity : -Infinity;
  for (let k = endIndex + 2; k < t; k++) {
    if (mitigatedIndex === null && (bull ? c.low[k]! <= top : c.high[k]! >= bottom)) mitigatedIndex = k;
    deepest = bull ? Math.min(deepest, c.low[k]!) : Math.max(deepest, c.high[k]!);
  }
  const depth = bull ? top - deepest : deepest - bottom;
  const filledFraction = Math.min(1, Math.max(0, depth / (top - bottom)));
  const state = mitigatedIndex === null ? 'open' : filledFraction === 1 ? 'filled' : 'mitigated';
  return { ...g, endIndex, top, bottom, mitigatedIndex, filledFraction, state };
}

const before = (index: number | null, t: number) => (index !== null && index < t ? index : null);

function blockAsOf(b: OrderBlock, t: number): OrderBlock {
  const mitigatedIndex = before(b.mitigatedIndex, t);
  const breakerIndex = before(b.breakerIndex, t);
  const invalidatedIndex = before(b.invalidatedIndex, t);
  const state =
    invalidatedIndex !== null
      ? 'invalidated'
      : breakerIndex !== null
        ? 'breaker'
        : mitigatedIndex !== null
          ? 'mitigated'
          : 'active';
  return { ...b, mitigatedIndex, breakerIndex, invalidatedIndex, state };
}

function poolAsOf(p: LiquidityPool, t: number): LiquidityPool {
  const members = p.swingIndices.filter((i) => confirmedAt.get(i)! < t);
  const levelOf = (i: number) => swings.find((s) => s.index === i)!.level;
  const level = members.reduce((sum, i) => sum + levelOf(i), 0) / members.length;
  return { ...p, level, swingIndices: members, sweptIndex: before(p.sweptIndex, t) };
}

describe('no look-ahead: the first t candles give the full run as of bar t-1', () => {
  it('swingHighsLows', () => {
    expect(swings.length).toBeGreaterThan(1000);
    for (const t of cuts) expect(swingHighsLows(prefix(t), LENGTH), `t=${t}`).toEqual(swingsAsOf(t));
  });

  for (const joinConsecutive of [false, true]) {
    it(`fairValueGaps (joinConsecutive ${joinConsecutive})`, () => {
      const full = fairValueGaps(c, { joinConsecutive });
      expect(full.length).toBeGreaterThan(1000);
      // The oracle re-derives every field, so it also checks the full run against the candles.
      expect(full.map((g) => gapAsOf(g, n))).toEqual(full);
      let cutThrough = 0;
      for (const t of cuts) {
        const known = full.filter((g) => g.confirmedIndex < t);
        cutThrough += known.filter((g) => g.mitigatedIndex === null || g.mitigatedIndex >= t).length;
        expect(fairValueGaps(prefix(t), { joinConsecutive }), `t=${t}`).toEqual(
          known.map((g) => gapAsOf(g, t)),
        );
      }
      expect(cutThrough).toBeGreaterThan(0);
    });
  }

  for (const closeMitigation of [false, true]) {
    it(`orderBlocks (closeMitigation ${closeMitigation})`, () => {
      const full = orderBlocks(c, swings, { closeMitigation });
      expect(full.length).toBeGreaterThan(300);
      let cutThrough = 0;
      for (const t of cuts) {
        const known = full.filter((b) => b.confirmedIndex < t);
        const expected = known.map((b) => blockAsOf(b, t));
        cutThrough += expected.filter((b, k) => b.state !== known[k]!.state).length;
        expect(orderBlocks(prefix(t), swingsAsOf(t), { closeMitigation }), `t=${t}`).toEqual(expected);
      }
      expect(cutThrough).toBeGreaterThan(0);
    });
  }

  for (const closeBreak of [true, false]) {
    it(`breakOfStructure (closeBreak ${closeBreak})`, () => {
      const full = breakOfStructure(c, swings, { closeBreak });
      expect(full.length).toBeGreaterThan(300);
      expect(full.some((e) => e.type === 'BOS') && full.some((e) => e.type === 'CHoCH')).toBe(true);
      for (const t of cuts) {
        expect(breakOfStructure(prefix(t), swingsAsOf(t), { closeBreak }), `t=${t}`).toEqual(
          full.filter((e) => e.confirmedIndex < t),
        );
      }
    });
  }

  it('liquidity', () => {
    const full = liquidity(c, swings);
    expect(full.length).toBeGreaterThan(100);
    expect(full.some((p) => p.swingIndices.length > 2)).toBe(true);
    for (const t of cuts) {
      const known = full.filter((p) => p.confirmedIndex < t);
      expect(liquidity(prefix(t), swingsAsOf(t)), `t=${t}`).toEqual(known.map((p) => poolAsOf(p, t)));
    }
  });
});

describe('fidelity to smartmoneyconcepts where no causal change applies', () => {
  it('the last swing of each run is the swing the library keeps (end points aside)', () => {
    const kept = swings.filter((s, k) => swings[k + 1]?.type !== s.type);
    expect(kept.map((s) => [s.index, s.type])).toEqual(librarySwings(c, LENGTH));
  });

  for (const joinConsecutive of [false, true]) {
    it(`fairValueGaps match the library's fvg (join_consecutive ${joinConsecutive})`, () => {
      const ours = fairValueGaps(c, { joinConsecutive }).map((g) => [
        g.endIndex,
        g.type === 'bullish' ? 1 : -1,
        g.top,
        g.bottom,
        g.mitigatedIndex ?? 0,
      ]);
      expect(ours).toEqual(libraryFvg(c, joinConsecutive));
    });
  }
});

/** Port of `smc.swing_highs_lows` without the forced end points: [index, type] of the kept swings. */
function librarySwings(c: Candles, length: number): [number, 'high' | 'low'][] {
  const { high, low } = c;
  const marks: (1 | -1 | 0)[] = [];
  for (let i = 0; i < high.length; i++) {
    let mark: 1 | -1 | 0 = 0;
    // high == high.shift(-L).rolling(2L).max(): the window [i-L+1, i+L], defined from i = 2L-1.
    if (i >= 2 * length - 1 && i + length < high.length) {
      const window = [...Array(2 * length).keys()].map((k) => i - length + 1 + k);
      if (high[i] === Math.max(...window.map((k) => high[k]!))) mark = 1;
      else if (low[i] === Math.min(...window.map((k) => low[k]!))) mark = -1;
    }
    marks.push(mark);
  }
  for (;;) {
    const positions = marks.flatMap((m, i) => (m === 0 ? [] : [i]));
    const remove = new Set<number>();
    for (let k = 0; k + 1 < positions.length; k++) {
      const [a, b] = [positions[k]!, positions[k + 1]!];
      if (marks[a] === 1 && marks[b] === 1) remove.add(high[a]! < high[b]! ? a : b);
      if (marks[a] === -1 && marks[b] === -1) remove.add(low[a]! > low[b]! ? a : b);
    }
    if (remove.size === 0) break;
    for (const i of remove) marks[i] = 0;
  }
  return marks.flatMap((m, i) =>
    m === 0 ? [] : [[i, m === 1 ? 'high' : 'low'] as [number, 'high' | 'low']],
  );
}

/** Port of `smc.fvg`: [index, direction, top, bottom, mitigated index or 0] per gap. */
function libraryFvg(c: Candles, joinConsecutive: boolean): [number, number, number, number, number][] {
  const { open, high, low, close } = c;
  const len = close.length;
  const fvg: number[] = [];
  const top: number[] = [];
  const bottom: number[] = [];
  for (let i = 0; i < len; i++) {
    const up = i > 0 && i + 1 < len && high[i - 1]! < low[i + 1]! && close[i]! > open[i]!;
    const down = i > 0 && i + 1 < len && low[i - 1]! > high[i + 1]! && close[i]! < open[i]!;
    fvg.push(up || down ? (close[i]! > open[i]! ? 1 : -1) : NaN);
    top.push(up ? low[i + 1]! : down ? low[i - 1]! : NaN);
    bottom.push(up ? high[i - 1]! : down ? high[i + 1]! : NaN);
  }
  if (joinConsecutive) {
    for (let i = 0; i + 1 < len; i++) {
      if (fvg[i] === fvg[i + 1]) {
        top[i + 1] = Math.max(top[i]!, top[i + 1]!);
        bottom[i + 1] = Math.min(bottom[i]!, bottom[i + 1]!);
        fvg[i] = top[i] = bottom[i] = NaN;
      }
    }
  }
  const out: [number, number, number, number, number][] = [];
  for (let i = 0; i < len; i++) {
    if (Number.isNaN(fvg[i])) continue;
    let mitigated = 0;
    for (let j = i + 2; j < len && mitigated === 0; j++) {
      if (fvg[i] === 1 ? low[j]! <= top[i]! : high[j]! >= bottom[i]!) mitigated = j;
    }
    out.push([i, fvg[i]!, top[i]!, bottom[i]!, mitigated]);
  }
  return out;
}
