/**
 * Reversals: a change of character, RSI divergence at the last two swings, and exhaustion at a level.
 *
 * - CHoCH: a change of character whose break candle is at most 2 candles old. Stronger with volume, a
 *   wider margin past the level and a larger RSI turn from the extreme. Invalid once a close passes the
 *   extreme the reversal started from (the lowest low between the broken swing and the break, bullish).
 * - RSI divergence: of the last two swing lows (alternating swing sequence, so a low that superseded
 *   the previous one replaces it), the second is lower in price and higher in RSI(14), and it was
 *   confirmed at most 2 candles ago; highs mirror it. Invalid once a close passes the second swing.
 * - Exhaustion: the last candle trades to (within 0.1 ATR of) or through the 50-candle extreme before
 *   it, closes back inside with a wick of at least half its range, and RSI(14) is stretched (>= 65 on
 *   this or the previous candle for a top, <= 35 for a bottom). Invalid beyond the candle's extreme.
 */
import type { Swing } from '../smc/index.js';
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

export const EXHAUSTION_LEVEL_PERIOD = 50;

export function changesOfCharacter(s: ScanSeries, t: number): ScanSignal[] {
  const c = s.candles;
  const out: ScanSignal[] = [];
  for (const e of s.smc.structure) {
    if (e.type !== 'CHoCH' || e.confirmedIndex > t || e.index < t - RECENT_BARS + 1) continue;
    const i = e.index;
    const atr = s.atr[i]!;
    if (!(atr > 0)) continue;
    const bullish = e.direction === 'bullish';
    const vr = volumeRatio(c, i);
    const marginAtr = ((c.close[i]! - e.level) * (bullish ? 1 : -1)) / atr;
    const start = extreme(c, e.swingIndex, i, bullish ? 'low' : 'high');
    let rsiExtreme = bullish ? Infinity : -Infinity;
    for (let k = e.swingIndex; k <= i; k++) {
      const r = s.rsi[k]!;
      if (Number.isFinite(r)) rsiExtreme = bullish ? Math.min(rsiExtreme, r) : Math.max(rsiExtreme, r);
    }
    const rsiTurn = Number.isFinite(rsiExtreme) ? Math.abs(s.rsi[i]! - rsiExtreme) : NaN;
    out.push(
      signal(c, {
        name: 'change_of_character',
        direction: e.direction,
        index: i,
        strength:
          (40 + 20 * scale(vr, 1, 3) + 15 * scale(marginAtr, 0, 1) + 25 * scale(rsiTurn, 5, 25)) *
          ageFactor(t - i),
        detail:
          `${e.direction} CHoCH: close ${fmt(c.close[i]!)} through the swing ${bullish ? 'high' : 'low'} ` +
          `${fmt(e.level)} after a ${bullish ? 'lower low' : 'higher high'} at ${fmt(start)}` +
          (Number.isFinite(vr) ? `, ${fmt(vr, 3)}x average volume` : ''),
        values: {
          level: e.level,
          close: c.close[i]!,
          reversal_extreme: start,
          margin_atr: marginAtr,
          ...(Number.isFinite(vr) && { volume_ratio: vr }),
          ...(Number.isFinite(rsiTurn) && { rsi: s.rsi[i]!, rsi_turn: rsiTurn }),
        },
        invalidation: start,
        invalidationBasis: bullish
          ? 'the low the reversal started from'
          : 'the high the reversal started from',
      }),
    );
  }
  return out;
}

/** The swings known at t as an alternating high/low sequence (a superseding swing replaces the last). */
export function alternatingSwings(swings: readonly Swing[], t: number): Swing[] {
  const seq: Swing[] = [];
  for (const sw of swings) {
    if (sw.confirmedIndex > t) break;
    if (seq.length > 0 && seq[seq.length - 1]!.type === sw.type) seq[seq.length - 1] = sw;
    else seq.push(sw);
  }
  return seq;
}

export function rsiDivergences(s: ScanSeries, t: number): ScanSignal[] {
  const c = s.candles;
  const seq = alternatingSwings(s.smc.swings, t);
  const out: ScanSignal[] = [];
  for (const type of ['low', 'high'] as const) {
    const pair = seq.filter((sw) => sw.type === type).slice(-2);
    if (pair.length < 2) continue;
    const [a, b] = pair as [Swing, Swing];
    if (b.confirmedIndex < t - RECENT_BARS + 1) continue;
    const bullish = type === 'low';
    const ra = s.rsi[a.index]!;
    const rb = s.rsi[b.index]!;
    const atr = s.atr[b.index]!;
    if (!Number.isFinite(ra) || !Number.isFinite(rb) || !(atr > 0)) continue;
    const priceOk = bullish ? b.level < a.level : b.level > a.level;
    const rsiOk = bullish ? rb > ra : rb < ra;
    if (!priceOk || !rsiOk) continue;
    const rsiGap = Math.abs(rb - ra);
    const stretch = bullish ? 40 - rb : rb - 60;
    const depthAtr = Math.abs(b.level - a.level) / atr;
    out.push(
      signal(c, {
        name: 'rsi_divergence',
        direction: bullish ? 'bullish' : 'bearish',
        index: b.confirmedIndex,
        strength:
          (35 + 30 * scale(rsiGap, 2, 15) + 20 * scale(stretch, 0, 15) + 15 * scale(depthAtr, 0.2, 2)) *
          ageFactor(t - b.confirmedIndex),
        detail:
          `${bullish ? 'lower low' : 'higher high'} ${fmt(b.level)} (was ${fmt(a.level)}) with RSI ` +
          `${fmt(rb, 3)} ${bullish ? 'above' : 'below'} its earlier ${fmt(ra, 3)}`,
        values: { swing_1: a.level, swing_2: b.level, rsi_1: ra, rsi_2: rb, rsi_gap: rsiGap },
        invalidation: b.level,
        invalidationBasis: `the second swing ${type}`,
      }),
    );
  }
  return out;
}

export function exhaustion(s: ScanSeries, t: number): ScanSignal | null {
  const c = s.candles;
  const P = EXHAUSTION_LEVEL_PERIOD;
  if (t < P) return null;
  const atr = s.atr[t]!;
  const high = c.high[t]!;
  const low = c.low[t]!;
  const close = c.close[t]!;
  const open = c.open[t]!;
  const range = high - low;
  if (!(atr > 0) || !(range > 0)) return null;
  const rsiNow = s.rsi[t]!;
  const rsiPrev = s.rsi[t - 1]!;
  const top = priorHigh(c, t, P);
  const bottom = priorLow(c, t, P);
  const upperWick = (high - Math.max(open, close)) / range;
  const lowerWick = (Math.min(open, close) - low) / range;
  const vr = volumeRatio(c, t);
  const rsiHot = Math.max(rsiNow, rsiPrev);
  const rsiCold = Math.min(rsiNow, rsiPrev);
  const bearish = high >= top - 0.1 * atr && close < top && upperWick >= 0.5 && rsiHot >= 65;
  const bullish = low <= bottom + 0.1 * atr && close > bottom && lowerWick >= 0.5 && rsiCold <= 35;
  if (bearish === bullish) return null; // neither, or a candle that rejects both ends: no direction
  const wick = bullish ? lowerWick : upperWick;
  const stretch = bullish ? 35 - rsiCold : rsiHot - 65;
  const level = bullish ? bottom : top;
  return signal(c, {
    name: 'exhaustion',
    direction: bullish ? 'bullish' : 'bearish',
    index: t,
    strength: 35 + 20 * scale(wick, 0.5, 0.8) + 25 * scale(stretch, 0, 20) + 20 * scale(vr, 1, 3),
    detail:
      `rejected the ${P}-candle ${bullish ? 'low' : 'high'} ${fmt(level)}: ${bullish ? 'low' : 'high'} ` +
      `${fmt(bullish ? low : high)}, close ${fmt(close)}, ${fmt(wick * 100, 3)} % wick, RSI ` +
      `${fmt(bullish ? rsiCold : rsiHot, 3)}`,
    values: {
      level,
      [bullish ? 'low' : 'high']: bullish ? low : high,
      close,
      wick_pct: wick * 100,
      rsi: bullish ? rsiCold : rsiHot,
      ...(Number.isFinite(vr) && { volume_ratio: vr }),
    },
    invalidation: bullish ? low : high,
    invalidationBasis: `the exhaustion candle's ${bullish ? 'low' : 'high'}`,
  });
}

export function detectReversals(s: ScanSeries, t: number): ScanHit[] {
  const ex = exhaustion(s, t);
  return combineSignals('reversals', s.candles, t, [
    ...changesOfCharacter(s, t),
    ...rsiDivergences(s, t),
    ...(ex ? [ex] : []),
  ]);
}
