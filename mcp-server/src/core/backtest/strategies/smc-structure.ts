import { z } from 'zod';
import type { Candles } from '../../candles.js';
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
} from '../../smc/index.js';
import type { Signals } from '../types.js';
import { defineStrategy } from './types.js';

/**
 * Smart-money structure trading, long side (shorts mirror it):
 * - Entry on the bar a bullish BOS or CHoCH is confirmed, stop at the last confirmed swing low (none
 *   when that is not below the close).
 * - Or, while the last confirmed break is bullish, entry on a retest of a fresh bullish order block or
 *   fair value gap: the bar that first trades into it (its mitigation bar) and holds it, i.e. does not
 *   trade below its bottom (for a block: does not turn it into a breaker) and closes above the bottom.
 *   Stop at the bottom of the zone (the lowest one when several are retested on the bar).
 * - Target: the nearest level above the close at least 1R away (R = close - stop) among unswept
 *   buy-side liquidity pools and swing highs not yet traded through; else `target_r` R.
 * - Exit on a bearish CHoCH.
 *
 * Every item is used from the bar it becomes known (`confirmedIndex`, mitigation, sweep and break bars
 * are all bars whose data has closed), and a pool's level is the mean of the members confirmed so far,
 * so the signals are causal. Entries of both sides on one bar cancel in the engine; `stopPrice` then
 * holds the long stop.
 */
export const smcStructure = defineStrategy({
  name: 'smc_structure',
  description:
    'Smart-money structure: long on a bullish BOS/CHoCH, or on the first retest of a bullish order ' +
    'block / fair value gap while structure is bullish; stop below the zone or the last swing low, ' +
    'target at the nearest buy-side liquidity or swing high (else target_r R); exit on a bearish ' +
    'CHoCH. Shorts the mirror image.',
  params: z.strictObject({
    swing_length: z
      .int()
      .min(1)
      .max(200)
      .default(5)
      .describe('Bars on each side that confirm a swing (confirmation lags by this many bars)'),
    target_r: z
      .number()
      .gt(0)
      .max(50)
      .default(2)
      .describe('Target in multiples of the risk when no liquidity level is at least 1R away'),
  }),
  signals(candles, { swing_length: length, target_r: targetR }) {
    return smcSignals(candles, length, targetR);
  },
});

function smcSignals(c: Candles, length: number, targetR: number): Signals {
  const { high, low, close } = c;
  const n = close.length;
  const swings = swingHighsLows(c, length);
  const breaks = breakOfStructure(c, swings);
  const zones: (OrderBlock | FairValueGap)[] = [...orderBlocks(c, swings), ...fairValueGaps(c)];
  const pools = liquidity(c, swings);
  const confirmedAt = new Map(swings.map((s) => [s.index, s.confirmedIndex]));
  const { longStop: retestLong, shortStop: retestShort } = retests(c, zones);

  const enterLong = new Uint8Array(n);
  const exitLong = new Uint8Array(n);
  const enterShort = new Uint8Array(n);
  const exitShort = new Uint8Array(n);
  const stopPrice = new Float64Array(n).fill(NaN);
  const targetPrice = new Float64Array(n).fill(NaN);

  // Swing highs not yet traded through, as a stack: a higher swing high breaks every lower one before
  // it is confirmed itself, so levels never increase toward the top, and the top is the lowest.
  const highs: number[] = [];
  const lows: number[] = [];
  let lastLow = NaN;
  let lastHigh = NaN;
  let bias = 0; // direction of the last confirmed break: 1 bullish, -1 bearish
  let s = 0;
  let b = 0;
  for (let i = 0; i < n; i++) {
    for (; s < swings.length && swings[s]!.confirmedIndex <= i; s++) {
      const sw: Swing = swings[s]!;
      if (sw.type === 'high') {
        highs.push(sw.level);
        lastHigh = sw.level;
      } else {
        lows.push(sw.level);
        lastLow = sw.level;
      }
    }
    while (highs.length > 0 && highs[highs.length - 1]! < high[i]) highs.pop();
    while (lows.length > 0 && lows[lows.length - 1]! > low[i]) lows.pop();

    let bullBreak = false;
    let bearBreak = false;
    for (; b < breaks.length && breaks[b]!.confirmedIndex <= i; b++) {
      const br = breaks[b]!;
      const bullish = br.direction === 'bullish';
      if (bullish) bullBreak = true;
      else bearBreak = true;
      if (br.type === 'CHoCH') (bullish ? exitShort : exitLong)[i] = 1;
      bias = bullish ? 1 : -1;
    }

    const price = close[i];
    let longStop = NaN;
    let shortStop = NaN;
    if (bullBreak) longStop = lastLow < price ? lastLow : NaN;
    else if (bias > 0 && retestLong[i] === retestLong[i]) longStop = retestLong[i];
    if (bearBreak) shortStop = lastHigh > price ? lastHigh : NaN;
    else if (bias < 0 && retestShort[i] === retestShort[i]) shortStop = retestShort[i];
    const longEntry = bullBreak || longStop === longStop;
    const shortEntry = bearBreak || shortStop === shortStop;

    if (shortEntry) {
      enterShort[i] = 1;
      stopPrice[i] = shortStop;
      targetPrice[i] = target(price, shortStop, -1, lows, pools, 'sell-side', i, confirmedAt, c, targetR);
    }
    if (longEntry) {
      enterLong[i] = 1;
      stopPrice[i] = longStop;
      targetPrice[i] = target(price, longStop, 1, highs, pools, 'buy-side', i, confirmedAt, c, targetR);
    }
  }
  return { enterLong, exitLong, enterShort, exitShort, stopPrice, targetPrice };
}

/**
 * Per bar, the stop of a long retest (lowest bottom among bullish zones first touched and held on that
 * bar) and of a short retest (highest top among bearish ones); NaN on bars without one.
 */
function retests(
  c: Candles,
  zones: readonly (OrderBlock | FairValueGap)[],
): { longStop: Float64Array; shortStop: Float64Array } {
  const { high, low, close } = c;
  const n = close.length;
  const longStop = new Float64Array(n).fill(NaN);
  const shortStop = new Float64Array(n).fill(NaN);
  for (const z of zones) {
    const m = z.mitigatedIndex;
    if (m === null) continue;
    if ('breakerIndex' in z && z.breakerIndex !== null && z.breakerIndex <= m) continue;
    if (z.type === 'bullish') {
      if (low[m] < z.bottom || !(close[m] > z.bottom)) continue;
      if (!(longStop[m] <= z.bottom)) longStop[m] = z.bottom;
    } else {
      if (high[m] > z.top || !(close[m] < z.top)) continue;
      if (!(shortStop[m] >= z.top)) shortStop[m] = z.top;
    }
  }
  return { longStop, shortStop };
}

/**
 * Target of an entry at `price` with `stop` (side 1 long, -1 short): the nearest untraded swing level
 * or unswept pool level at least 1R beyond the price, else `targetR` R; NaN without a stop.
 */
function target(
  price: number,
  stop: number,
  side: 1 | -1,
  swingLevels: readonly number[],
  pools: readonly LiquidityPool[],
  poolType: LiquidityPool['type'],
  bar: number,
  confirmedAt: ReadonlyMap<number, number>,
  c: Candles,
  targetR: number,
): number {
  const risk = side * (price - stop);
  if (!(risk > 0)) return NaN;
  const minimum = price + side * risk;
  let best = Infinity; // distance beyond `minimum`, in the trade's direction
  // The stack's top is the nearest level; deeper entries are farther, so stop at the first that counts.
  for (let k = swingLevels.length - 1; k >= 0; k--) {
    const d = side * (swingLevels[k]! - minimum);
    if (d >= 0) {
      best = d;
      break;
    }
  }
  const extreme = side === 1 ? c.high : c.low;
  for (const p of pools) {
    if (p.confirmedIndex > bar) break; // ordered by confirmedIndex
    if (p.type !== poolType || (p.sweptIndex !== null && p.sweptIndex <= bar)) continue;
    // The level as of this bar: members confirmed later have not joined yet.
    let sum = 0;
    let count = 0;
    for (const index of p.swingIndices) {
      if (confirmedAt.get(index)! <= bar) {
        sum += extreme[index];
        count++;
      }
    }
    const d = side * (sum / count - minimum);
    if (d >= 0 && d < best) best = d;
  }
  return best < Infinity ? minimum + side * best : price + side * targetR * risk;
}
