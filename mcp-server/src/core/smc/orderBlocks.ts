import type { Candles } from '../candles.js';
import { mergeOrdered, mirrorCandles, sideSwings, type SideSwings } from './mirror.js';
import type { Swing } from './swings.js';

/** An order block: the last opposite candle before a displacement that broke a swing. */
export interface OrderBlock {
  /** The block's candle. */
  readonly index: number;
  readonly type: 'bullish' | 'bearish';
  /** High and low of the block's candle. */
  readonly top: number;
  readonly bottom: number;
  /** The swing whose level the displacement closed beyond. */
  readonly swingIndex: number;
  /** The break bar: the first close beyond the swing level. */
  readonly confirmedIndex: number;
  /** Volume of the break bar and the two bars before it (library `OBVolume`). */
  readonly volume: number;
  /**
   * Library `Percentage`, 0-100: min/max of the two volume legs, (break bar + bar before) vs the bar two
   * before the break; 100 when both are 0.
   */
  readonly percentage: number;
  /** First bar after the break that trades into the block (bullish `low <= top`, bearish `high >= bottom`). */
  readonly mitigatedIndex: number | null;
  /**
   * First bar that trades through the far side (bullish `low < bottom`, bearish `high > top`; with
   * `closeMitigation` the candle body instead of the wick): the block failed and acts as a breaker.
   */
  readonly breakerIndex: number | null;
  /** First bar after `breakerIndex` that trades back beyond the near side (bullish `high > top`): void. */
  readonly invalidatedIndex: number | null;
  /** As of the last bar. */
  readonly state: 'active' | 'mitigated' | 'breaker' | 'invalidated';
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Order blocks after smartmoneyconcepts `ob(ohlc, swing_highs_lows, close_mitigation)`.
 *
 * When a close breaks above the last swing high not yet broken, the bullish block is the candle with the
 * lowest low strictly between the swing and the break bar (the last one on ties); top/bottom are its
 * high/low. Bearish mirrors it (close below the last swing low; highest-high candle). Each swing yields
 * at most one block. Volume fields as in the library. Lifecycle is checked from the bar after the break.
 *
 * Differences from the library, for live use:
 * - "Last swing" means the last swing confirmed by the current bar (`swings` from `swingHighsLows`); the
 *   library uses the last swing by index, which it can know only `length` bars later.
 * - The library marks a block mitigated/breaker when price trades through its far side and deletes it
 *   when that breaker is later traded back through its near side. A block is public once its break bar
 *   has closed, so here nothing is deleted: that trade-through is `breakerIndex` (state 'breaker') and the
 *   deletion is `invalidatedIndex` (state 'invalidated'). `mitigatedIndex` is the first touch, as in the
 *   library's `fvg` and its earlier `ob`. The library records a bullish breaker at the bar before the one
 *   that trades through (a bearish one at the bar itself); both record the bar itself here.
 * - When two breaks pick the same candle the library keeps only the later block; both are kept here.
 *
 * On the first t candles every block with `confirmedIndex < t` is returned with its lifecycle as of bar
 * t-1. Ordered by `confirmedIndex`, bullish first on ties.
 */
export function orderBlocks(
  c: Candles,
  swings: readonly Swing[],
  { closeMitigation = false }: { closeMitigation?: boolean } = {},
): OrderBlock[] {
  const bullish = bullishBlocks(c, sideSwings(swings, 'high'), closeMitigation, 'bullish');
  const bearish = bullishBlocks(mirrorCandles(c), sideSwings(swings, 'low'), closeMitigation, 'bearish');
  for (const b of bearish) [b.top, b.bottom] = [-b.bottom, -b.top];
  return mergeOrdered<OrderBlock>(bullish, bearish, (b) => b.confirmedIndex);
}

/** Bullish blocks of `c` breaking `highs`; run on mirrored candles and swing lows it finds bearish blocks. */
function bullishBlocks(
  c: Candles,
  highs: SideSwings,
  closeMitigation: boolean,
  type: OrderBlock['type'],
): Mutable<OrderBlock>[] {
  const { open, high, low, close, volume } = c;
  const n = close.length;
  const blocks: Mutable<OrderBlock>[] = [];
  // Blocks not yet invalidated, and the thresholds at which one of them next changes state, so that
  // bars which change nothing cost three comparisons instead of a walk over every live block.
  const live: Mutable<OrderBlock>[] = [];
  let touchAt = -Infinity; // highest top among untouched blocks
  let breakBelow = -Infinity; // highest bottom among blocks that are not breakers yet
  let voidAbove = Infinity; // lowest top among breakers
  let next = 0; // next swing to confirm
  let swing = -1; // last confirmed swing high
  let broken = true; // whether it already produced a block
  for (let i = 0; i < n; i++) {
    const farSide = closeMitigation ? Math.min(open[i]!, close[i]!) : low[i]!;
    if (low[i]! <= touchAt || farSide < breakBelow || high[i]! > voidAbove) {
      touchAt = breakBelow = -Infinity;
      voidAbove = Infinity;
      let kept = 0;
      for (const b of live) {
        // As in the library, a block turns breaker or void, never both on one bar.
        if (b.breakerIndex !== null) {
          if (high[i]! > b.top) {
            b.invalidatedIndex = i;
            b.state = 'invalidated';
            continue;
          }
        } else {
          if (b.mitigatedIndex === null && low[i]! <= b.top) {
            b.mitigatedIndex = i;
            b.state = 'mitigated';
          }
          if (farSide < b.bottom) {
            b.breakerIndex = i;
            b.state = 'breaker';
          }
        }
        if (b.mitigatedIndex === null) touchAt = Math.max(touchAt, b.top);
        if (b.breakerIndex === null) breakBelow = Math.max(breakBelow, b.bottom);
        else voidAbove = Math.min(voidAbove, b.top);
        live[kept++] = b;
      }
      live.length = kept;
    }
    while (next < highs.count && highs.confirmedIndex[next]! <= i) {
      swing = highs.index[next++]!;
      broken = false;
    }
    if (broken || !(close[i]! > high[swing]!)) continue;
    broken = true;
    // Lowest low strictly between swing and break (a confirmed swing high is >= 2 bars back).
    let m = Math.min(swing + 1, i - 1);
    for (let k = m + 1; k < i; k++) if (low[k]! <= low[m]!) m = k;
    const legNear = volume[i]! + (volume[i - 1] ?? 0);
    const legFar = volume[i - 2] ?? 0;
    const block: Mutable<OrderBlock> = {
      index: m,
      type,
      top: high[m]!,
      bottom: low[m]!,
      swingIndex: swing,
      confirmedIndex: i,
      volume: legNear + legFar,
      percentage:
        Math.max(legNear, legFar) === 0 ? 100 : (Math.min(legNear, legFar) / Math.max(legNear, legFar)) * 100,
      mitigatedIndex: null,
      breakerIndex: null,
      invalidatedIndex: null,
      state: 'active',
    };
    blocks.push(block);
    live.push(block);
    touchAt = Math.max(touchAt, block.top);
    breakBelow = Math.max(breakBelow, block.bottom);
  }
  return blocks;
}
