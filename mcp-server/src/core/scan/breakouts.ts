/**
 * Breakouts: a close out of the prior Donchian range, and a break of structure (BOS), each on above
 * average volume.
 *
 * - Donchian: the last candle closes above the highest high (below the lowest low) of the 20 candles
 *   before it, the candle before had not, and its volume is at least 1.5x the 20-candle average.
 *   Stronger with more volume, a wider margin past the level (in ATR) and a tighter prior range.
 *   Invalid once a close falls back half an ATR inside the broken level.
 * - BOS: a bullish (bearish) break of structure whose break candle is at most 2 candles old, on at
 *   least 1.5x average volume; stronger with more volume, a wider margin and a larger impulse from the
 *   pullback (in ATR), weaker with age. Invalid once a close undercuts the pullback low between the broken swing
 *   and the break (the higher low) or, bearish, exceeds the pullback high.
 */
import { combineSignals, fmt, signal } from './hits.js';
import {
  ageFactor,
  extreme,
  priorHigh,
  priorLow,
  RECENT_BARS,
  scale,
  volumeRatio,
  type ScanSeries,
} from './series.js';
import type { ScanHit, ScanSignal } from './types.js';

export const DONCHIAN_PERIOD = 20;
export const BREAKOUT_VOLUME_RATIO = 1.5;

export function donchianBreakout(s: ScanSeries, t: number): ScanSignal | null {
  const c = s.candles;
  const P = DONCHIAN_PERIOD;
  if (t < P + 1) return null;
  const atr = s.atr[t]!;
  const vr = volumeRatio(c, t);
  if (!(atr > 0) || !(vr >= BREAKOUT_VOLUME_RATIO)) return null;
  const hi = priorHigh(c, t, P);
  const lo = priorLow(c, t, P);
  const close = c.close[t]!;
  const prev = c.close[t - 1]!;
  const bullish = close > hi && prev <= priorHigh(c, t - 1, P);
  const bearish = close < lo && prev >= priorLow(c, t - 1, P);
  if (!bullish && !bearish) return null;
  const level = bullish ? hi : lo;
  const marginAtr = Math.abs(close - level) / atr;
  const widthAtr = (hi - lo) / atr;
  return signal(c, {
    name: 'donchian_breakout',
    direction: bullish ? 'bullish' : 'bearish',
    index: t,
    strength: 35 + 30 * scale(vr, 1.5, 4) + 20 * scale(marginAtr, 0, 1) + 15 * (1 - scale(widthAtr, 3, 12)),
    detail:
      `close ${fmt(close)} ${bullish ? 'above the' : 'below the'} ${P}-candle ${bullish ? 'high' : 'low'} ` +
      `${fmt(level)} on ${fmt(vr, 3)}x average volume (range ${fmt(widthAtr, 3)} ATR wide)`,
    values: {
      level,
      close,
      volume_ratio: vr,
      margin_atr: marginAtr,
      range_high: hi,
      range_low: lo,
      range_width_atr: widthAtr,
      atr,
    },
    invalidation: bullish ? level - 0.5 * atr : level + 0.5 * atr,
    invalidationBasis: `half an ATR back inside the broken ${P}-candle ${bullish ? 'high' : 'low'}`,
  });
}

export function structureBreaks(s: ScanSeries, t: number): ScanSignal[] {
  const c = s.candles;
  const out: ScanSignal[] = [];
  for (const e of s.smc.structure) {
    if (e.type !== 'BOS' || e.confirmedIndex > t || e.index < t - RECENT_BARS + 1) continue;
    const i = e.index;
    const vr = volumeRatio(c, i);
    const atr = s.atr[i]!;
    if (!(vr >= BREAKOUT_VOLUME_RATIO) || !(atr > 0)) continue;
    const bullish = e.direction === 'bullish';
    const marginAtr = ((c.close[i]! - e.level) * (bullish ? 1 : -1)) / atr;
    const pullback = extreme(c, e.swingIndex, i, bullish ? 'low' : 'high');
    const impulseAtr = Math.abs(c.close[i]! - pullback) / atr;
    out.push(
      signal(c, {
        name: 'break_of_structure',
        direction: e.direction,
        index: i,
        strength:
          (40 + 25 * scale(vr, 1.5, 4) + 20 * scale(marginAtr, 0, 1) + 15 * scale(impulseAtr, 1, 4)) *
          ageFactor(t - i),
        detail:
          `${e.direction} BOS: close ${fmt(c.close[i]!)} through the swing ${bullish ? 'high' : 'low'} ` +
          `${fmt(e.level)} on ${fmt(vr, 3)}x average volume`,
        values: {
          level: e.level,
          close: c.close[i]!,
          volume_ratio: vr,
          margin_atr: marginAtr,
          impulse_atr: impulseAtr,
          pullback,
          atr,
        },
        invalidation: pullback,
        invalidationBasis: bullish
          ? 'the pullback low before the break (the higher low)'
          : 'the pullback high before the break (the lower high)',
      }),
    );
  }
  return out;
}

export function detectBreakouts(s: ScanSeries, t: number): ScanHit[] {
  const donchian = donchianBreakout(s, t);
  return combineSignals('breakouts', s.candles, t, [
    ...(donchian ? [donchian] : []),
    ...structureBreaks(s, t),
  ]);
}
