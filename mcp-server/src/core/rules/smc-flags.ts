/**
 * Smart-money concepts as per-bar 0/1 series, so rules and alerts can treat them like any other series.
 *
 * Every flag is placed on the bar at which the item becomes known (its `confirmedIndex`, or the sweep
 * bar), never on the bar where it formed: a BOS found `swingLength` bars after its swing is reported on
 * the bar it was found. The smc functions guarantee that a run on the first t candles returns exactly the
 * items with `confirmedIndex < t`, with lifecycle fields as of bar t-1, so these flags are causal.
 */
import type { Candles } from '../candles.js';
import {
  breakOfStructure,
  fairValueGaps,
  liquidity,
  orderBlocks,
  swingHighsLows,
  type FairValueGap,
  type OrderBlock,
} from '../smc/index.js';

export interface StructureFlags {
  bosBullish: Float64Array;
  bosBearish: Float64Array;
  chochBullish: Float64Array;
  chochBearish: Float64Array;
}

/** 1 on the bar each BOS / CHoCH is confirmed (may be later than the break bar itself; see `breakOfStructure`). */
export function structureFlags(c: Candles, swingLength: number): StructureFlags {
  const n = c.close.length;
  const flags: StructureFlags = {
    bosBullish: new Float64Array(n),
    bosBearish: new Float64Array(n),
    chochBullish: new Float64Array(n),
    chochBearish: new Float64Array(n),
  };
  for (const b of breakOfStructure(c, swingHighsLows(c, swingLength))) {
    const bullish = b.direction === 'bullish';
    const target =
      b.type === 'BOS'
        ? bullish
          ? flags.bosBullish
          : flags.bosBearish
        : bullish
          ? flags.chochBullish
          : flags.chochBearish;
    target[b.confirmedIndex] = 1;
  }
  return flags;
}

export interface SideFlags {
  bullish: Float64Array;
  bearish: Float64Array;
}

/**
 * 1 on the bar a liquidity pool is swept: `buySide` when price runs the stops above equal highs,
 * `sellSide` below equal lows. Only pools (two or more swings) count, as in `liquidity`.
 */
export function sweepFlags(
  c: Candles,
  swingLength: number,
): { buySide: Float64Array; sellSide: Float64Array } {
  const n = c.close.length;
  const buySide = new Float64Array(n);
  const sellSide = new Float64Array(n);
  for (const p of liquidity(c, swingHighsLows(c, swingLength))) {
    if (p.sweptIndex !== null) (p.type === 'buy-side' ? buySide : sellSide)[p.sweptIndex] = 1;
  }
  return { buySide, sellSide };
}

/** Order-block zone flags; see `zoneFlags`. A block that trades through its far side (breaker) on a bar is no longer a zone on that bar. */
export function orderBlockZoneFlags(c: Candles, swingLength: number): SideFlags {
  return zoneFlags(c, orderBlocks(c, swingHighsLows(c, swingLength)));
}

/** Fair-value-gap zone flags (gaps not joined); see `zoneFlags`. */
export function fvgZoneFlags(c: Candles): SideFlags {
  return zoneFlags(c, fairValueGaps(c));
}

/**
 * 1 on bar i when close[i] is inside [bottom, top] of a zone that is confirmed by bar i and not
 * mitigated (first touched) before bar i; for order blocks also not turned breaker at or before bar i.
 *
 * That is a "fresh zone" test: the zone counts up to and including the bar that first trades into it,
 * so the flag marks a first retest that closes inside the zone, at most twice per zone. Only two bars
 * can qualify, which is why this is O(zones) and not O(bars x zones): on bars strictly between the
 * confirmation and the first touch price has not reached the zone (bullish `low > top`, bearish
 * `high < bottom`), so the close cannot be inside; after the first touch the zone is spent.
 */
export function zoneFlags(c: Candles, zones: readonly (OrderBlock | FairValueGap)[]): SideFlags {
  const { close } = c;
  const n = close.length;
  const flags: SideFlags = { bullish: new Float64Array(n), bearish: new Float64Array(n) };
  for (const z of zones) {
    const out = z.type === 'bullish' ? flags.bullish : flags.bearish;
    const breakerIndex = 'breakerIndex' in z ? z.breakerIndex : null;
    for (const bar of [z.confirmedIndex, z.mitigatedIndex]) {
      if (bar === null || bar >= n) continue;
      if (breakerIndex !== null && breakerIndex <= bar) continue;
      if (close[bar] >= z.bottom && close[bar] <= z.top) out[bar] = 1;
    }
  }
  return flags;
}
