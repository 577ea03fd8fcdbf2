import type { Candles } from '../candles.js';
import { mergeOrdered, mirrorCandles, sideSwings, type SideSwings } from './mirror.js';
import type { Swing } from './swings.js';

/** Resting liquidity: two or more swing highs (buy-side) or lows (sell-side) at about the same price. */
export interface LiquidityPool {
  /** 'buy-side' above equal highs (buy stops), 'sell-side' below equal lows (sell stops). */
  readonly type: 'buy-side' | 'sell-side';
  /** Mean level of the member swings, as of the last bar. */
  readonly level: number;
  /** Member swings (bar indices), first one first; later members join while the pool is unswept. */
  readonly swingIndices: readonly number[];
  /** Confirmation bar of the second member: the pool exists from then on. */
  readonly confirmedIndex: number;
  /** First bar after the first member whose high (low) reaches the band's far edge, else null. */
  readonly sweptIndex: number | null;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Swings grouped around a first swing ("anchor"); it becomes a pool at its second member. */
interface Group {
  readonly anchor: number;
  readonly bandLow: number;
  readonly bandHigh: number;
  readonly members: number[];
  sum: number;
  pool: Mutable<LiquidityPool> | null;
}

/**
 * Liquidity pools after smartmoneyconcepts `liquidity(ohlc, swing_highs_lows, range_percent)`.
 *
 * Library rule: each swing high not already used anchors a band `level ± range`; later unused swing highs
 * inside the band (inclusive) join it until the band is swept, the first bar after the anchor with
 * `high >= level + range`. Two or more members make a pool at their mean level. Lows mirror it
 * (`low <= level - range` sweeps). A swing joins the earliest unswept band that contains it.
 *
 * Differences from the library, for live use:
 * - Band width. The library's `range` is `range_percent` of the whole series' high-low range, which
 *   depends on every future bar. Here it is `rangePercent` of the high-low range of the bars up to the
 *   anchor's confirmation bar, fixed from then on: the same measure, with past data only (on a window that
 *   ends at that bar it equals the library's).
 * - A swing joins a band only when it is confirmed, so members are added while the band is unswept.
 * - A swing that supersedes the previous swing of its run (see `swingHighsLows`) takes its place: if that
 *   one was a lone anchor its band is dropped, as the library never sees it. One that already formed a
 *   pool stays in it.
 *
 * On the first t candles the result is the pools with `confirmedIndex < t`, with members, level and
 * sweep as of bar t-1. Ordered by `confirmedIndex`, buy-side first on ties.
 */
export function liquidity(
  c: Candles,
  swings: readonly Swing[],
  { rangePercent = 0.01 }: { rangePercent?: number } = {},
): LiquidityPool[] {
  if (!(rangePercent >= 0)) throw new RangeError(`rangePercent must be >= 0, got ${rangePercent}`);
  const buySide = buySidePools(c, sideSwings(swings, 'high'), rangePercent, 'buy-side');
  const sellSide = buySidePools(mirrorCandles(c), sideSwings(swings, 'low'), rangePercent, 'sell-side');
  for (const p of sellSide) p.level = -p.level;
  return mergeOrdered<LiquidityPool>(buySide, sellSide, (p) => p.confirmedIndex);
}

/** Pools above the swing highs of `c`; on mirrored candles and swing lows, the sell-side pools (negated). */
function buySidePools(
  c: Candles,
  highs: SideSwings,
  rangePercent: number,
  type: LiquidityPool['type'],
): Mutable<LiquidityPool>[] {
  const { high, low } = c;
  const n = high.length;
  const pools: Mutable<LiquidityPool>[] = [];
  const open: Group[] = []; // unswept bands, in anchor order
  let sweepAt = Infinity; // lowest band top among them
  let lastAnchored: Group | null = null; // band anchored by the latest swing, if it anchored one
  let highest = -Infinity;
  let lowest = Infinity;
  let next = 0;
  for (let bar = 0; bar < n; bar++) {
    highest = Math.max(highest, high[bar]!);
    lowest = Math.min(lowest, low[bar]!);
    for (; next < highs.count && highs.confirmedIndex[next]! <= bar; next++) {
      const index = highs.index[next]!;
      const level = highs.level[next]!;
      if (highs.supersedes[next] && lastAnchored?.members.length === 1) {
        const at = open.indexOf(lastAnchored);
        if (at >= 0) open.splice(at, 1);
      }
      lastAnchored = null;
      const group = open.find((g) => g.bandLow <= level && level <= g.bandHigh);
      if (group) {
        group.members.push(index);
        group.sum += level;
        if (group.pool) {
          group.pool.level = group.sum / group.members.length;
        } else {
          group.pool = {
            type,
            level: group.sum / group.members.length,
            swingIndices: group.members,
            confirmedIndex: bar,
            sweptIndex: null,
          };
          pools.push(group.pool);
        }
        continue;
      }
      const range = rangePercent * (highest - lowest);
      const anchored: Group = {
        anchor: index,
        bandLow: level - range,
        bandHigh: level + range,
        members: [index],
        sum: level,
        pool: null,
      };
      // Bars inside the swing's own window cannot reach level + range unless range is 0 (flat prices).
      let swept = false;
      for (let k = index + 1; k < bar && !swept; k++) swept = high[k]! >= anchored.bandHigh;
      if (swept) continue;
      open.push(anchored);
      lastAnchored = anchored;
      sweepAt = Math.min(sweepAt, anchored.bandHigh);
    }
    if (high[bar]! >= sweepAt) {
      sweepAt = Infinity;
      let kept = 0;
      for (const g of open) {
        if (g.anchor < bar && high[bar]! >= g.bandHigh) {
          if (g.pool) g.pool.sweptIndex = bar;
          continue;
        }
        sweepAt = Math.min(sweepAt, g.bandHigh);
        open[kept++] = g;
      }
      open.length = kept;
    }
  }
  return pools;
}
