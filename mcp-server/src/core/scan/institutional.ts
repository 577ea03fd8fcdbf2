/**
 * Institutional footprints: fresh order-block and fair-value-gap retests, and liquidity sweeps.
 *
 * - Order-block retest: an order block at most 100 candles old is traded into for the first time at
 *   most 2 candles ago and has not been traded through (no breaker). Stronger with the block's volume
 *   (against the 3-candle average of the last 100), its freshness and a close back beyond its near
 *   side. Invalid past its far side (bullish: below its bottom), where it would turn into a breaker.
 * - FVG retest: a fair value gap at most 100 candles old is reached for the first time at most 2 candles
 *   ago and is not filled. Stronger with its size (in ATR), less fill and freshness. Invalid past its
 *   far side (the gap is then filled).
 * - Liquidity sweep: a pool of equal lows (highs) is swept at most 2 candles ago and the sweeping candle
 *   closes back above (below) the pool: the stops were taken and price rejected. Stronger with more
 *   touches, a deeper wick (in ATR) and volume. Invalid beyond the sweep candle's extreme.
 */
import { combineSignals, fmt, signal } from './hits.js';
import {
  ageFactor,
  asOf,
  extreme,
  FRESH_BARS,
  RECENT_BARS,
  scale,
  SWING_LENGTH,
  volumeRatio,
  type ScanSeries,
} from './series.js';
import type { ScanHit, ScanSignal } from './types.js';

const iso = (ms: number) => new Date(ms).toISOString();

export function orderBlockRetests(s: ScanSeries, t: number): ScanSignal[] {
  const c = s.candles;
  const atr = s.atr[t]!;
  if (!(atr > 0)) return [];
  let total = 0;
  const from = Math.max(0, t - FRESH_BARS + 1);
  for (let k = from; k <= t; k++) total += c.volume[k]!;
  const avg3 = (total / (t - from + 1)) * 3;
  const out: ScanSignal[] = [];
  for (const b of s.smc.orderBlocks) {
    if (b.confirmedIndex > t) break; // ordered by confirmation
    const touched = asOf(b.mitigatedIndex, t);
    const age = t - b.confirmedIndex;
    if (touched === null || touched < t - RECENT_BARS + 1 || age > FRESH_BARS) continue;
    if (asOf(b.breakerIndex, t) !== null) continue;
    const bullish = b.type === 'bullish';
    const volumeStrength = avg3 > 0 ? Math.min(1, b.volume / avg3 / 2) : 0;
    const reactionAtr = (bullish ? c.close[t]! - b.top : b.bottom - c.close[t]!) / atr;
    out.push(
      signal(c, {
        name: 'order_block_retest',
        direction: b.type,
        index: touched,
        strength:
          (40 + 25 * volumeStrength + 20 * (1 - age / FRESH_BARS) + 15 * scale(reactionAtr, 0, 1)) *
          ageFactor(t - touched),
        detail:
          `first retest of the ${b.type} order block ${fmt(b.bottom)}-${fmt(b.top)} formed ` +
          `${iso(c.time[b.index]!)} (confirmed ${age} candles ago), volume ${fmt(b.volume / (avg3 / 3), 3)}x ` +
          'the average candle',
        values: {
          top: b.top,
          bottom: b.bottom,
          block_volume_ratio: avg3 > 0 ? b.volume / avg3 : 0,
          age_candles: age,
          close: c.close[t]!,
        },
        invalidation: bullish ? b.bottom : b.top,
        invalidationBasis: `the order block's ${bullish ? 'bottom' : 'top'} (it would become a breaker)`,
      }),
    );
  }
  return out;
}

export function fairValueGapRetests(s: ScanSeries, t: number): ScanSignal[] {
  const c = s.candles;
  const atr = s.atr[t]!;
  if (!(atr > 0)) return [];
  const out: ScanSignal[] = [];
  for (const g of s.smc.fairValueGaps) {
    if (g.confirmedIndex > t) break; // ordered by index, confirmed at index + 1
    const touched = asOf(g.mitigatedIndex, t);
    const age = t - g.index;
    if (touched === null || touched < t - RECENT_BARS + 1 || age > FRESH_BARS) continue;
    const bullish = g.type === 'bullish';
    const height = g.top - g.bottom;
    if (!(height > 0)) continue;
    // Deepest fill as of t, from the first bar that could trade into it.
    const deepest = extreme(c, g.endIndex + 2, t, bullish ? 'low' : 'high');
    const fill = Math.max(0, Math.min(1, (bullish ? g.top - deepest : deepest - g.bottom) / height));
    if (fill >= 1) continue;
    const sizeAtr = height / atr;
    out.push(
      signal(c, {
        name: 'fvg_retest',
        direction: g.type,
        index: touched,
        strength:
          (35 + 25 * scale(sizeAtr, 0.3, 2) + 20 * (1 - fill) + 20 * (1 - age / FRESH_BARS)) *
          ageFactor(t - touched),
        detail:
          `first retest of the ${g.type} fair value gap ${fmt(g.bottom)}-${fmt(g.top)} from ` +
          `${iso(c.time[g.index]!)}, ${fmt(fill * 100, 3)} % filled, ${fmt(sizeAtr, 3)} ATR tall`,
        values: { top: g.top, bottom: g.bottom, filled_pct: fill * 100, size_atr: sizeAtr, age_candles: age },
        invalidation: bullish ? g.bottom : g.top,
        invalidationBasis: `the gap's ${bullish ? 'bottom' : 'top'} (the gap would be filled)`,
      }),
    );
  }
  return out;
}

export function liquiditySweeps(s: ScanSeries, t: number): ScanSignal[] {
  const c = s.candles;
  const out: ScanSignal[] = [];
  for (const p of s.smc.liquidity) {
    if (p.confirmedIndex > t) break; // ordered by confirmation
    const k = asOf(p.sweptIndex, t);
    if (k === null || k < t - RECENT_BARS + 1) continue;
    // Sell-side liquidity (equal lows) swept: bullish rejection. The level as of the sweep: the mean of
    // the members confirmed by then (members join until the sweep, so these are all of them).
    const bullish = p.type === 'sell-side';
    let sum = 0;
    let touches = 0;
    for (const m of p.swingIndices) {
      if (m + SWING_LENGTH > k) continue;
      sum += bullish ? c.low[m]! : c.high[m]!;
      touches++;
    }
    if (touches < 2) continue;
    const level = sum / touches;
    const atr = s.atr[k]!;
    const close = c.close[k]!;
    if (!(atr > 0) || (bullish ? close <= level : close >= level)) continue;
    const wick = bullish ? c.low[k]! : c.high[k]!;
    const depthAtr = Math.abs(level - wick) / atr;
    const vr = volumeRatio(c, k);
    out.push(
      signal(c, {
        name: 'liquidity_sweep',
        direction: bullish ? 'bullish' : 'bearish',
        index: k,
        strength:
          (40 + 20 * scale(touches, 2, 4) + 20 * scale(depthAtr, 0.1, 1) + 20 * scale(vr, 1, 3)) *
          ageFactor(t - k),
        detail:
          `swept the ${p.type} liquidity of ${touches} equal ${bullish ? 'lows' : 'highs'} at ${fmt(level)} ` +
          `(${bullish ? 'low' : 'high'} ${fmt(wick)}) and closed back ${bullish ? 'above' : 'below'} at ${fmt(close)}`,
        values: {
          level,
          [bullish ? 'sweep_low' : 'sweep_high']: wick,
          close,
          touches,
          depth_atr: depthAtr,
          ...(Number.isFinite(vr) && { volume_ratio: vr }),
        },
        invalidation: wick,
        invalidationBasis: `the sweep candle's ${bullish ? 'low' : 'high'}`,
      }),
    );
  }
  return out;
}

export function detectInstitutional(s: ScanSeries, t: number): ScanHit[] {
  return combineSignals('institutional', s.candles, t, [
    ...orderBlockRetests(s, t),
    ...fairValueGapRetests(s, t),
    ...liquiditySweeps(s, t),
  ]);
}
