/**
 * Volume surge: the last candle trades at least 3x the average volume of the 20 candles before it.
 * Its direction is the candle's (close above or below its open; a doji takes the close-to-close change;
 * no change, no direction and no hit). Stronger with a larger multiple (log scale, 3x to 12x) and a
 * larger body (in ATR). Invalid beyond the surge candle's far end (bullish: its low).
 */
import { combineSignals, fmt, signal } from './hits.js';
import { scale, volumeRatio, type ScanSeries } from './series.js';
import type { ScanHit, ScanSignal } from './types.js';

export const SURGE_RATIO = 3;

export function volumeSurge(s: ScanSeries, t: number): ScanSignal | null {
  const c = s.candles;
  if (t < 1) return null;
  const vr = volumeRatio(c, t);
  if (!(vr >= SURGE_RATIO)) return null;
  const close = c.close[t]!;
  const open = c.open[t]!;
  const prev = c.close[t - 1]!;
  const move = close !== open ? close - open : close - prev;
  if (move === 0) return null;
  const bullish = move > 0;
  const atr = s.atr[t]!;
  const bodyAtr = atr > 0 ? Math.abs(close - open) / atr : NaN;
  const changePct = prev === 0 ? 0 : ((close - prev) / prev) * 100;
  return signal(c, {
    name: 'volume_surge',
    direction: bullish ? 'bullish' : 'bearish',
    index: t,
    strength:
      30 + 50 * scale(Math.log(vr), Math.log(SURGE_RATIO), Math.log(12)) + 20 * scale(bodyAtr, 0.5, 2),
    detail:
      `volume ${fmt(vr, 3)}x the 20-candle average on a ${bullish ? 'rising' : 'falling'} candle ` +
      `(${changePct >= 0 ? '+' : ''}${fmt(changePct, 3)} %)`,
    values: {
      volume: c.volume[t]!,
      volume_ratio: vr,
      change_pct: changePct,
      close,
      ...(Number.isFinite(bodyAtr) && { body_atr: bodyAtr }),
    },
    invalidation: bullish ? c.low[t]! : c.high[t]!,
    invalidationBasis: `the surge candle's ${bullish ? 'low' : 'high'}`,
  });
}

export function detectVolumeSurge(s: ScanSeries, t: number): ScanHit[] {
  const surge = volumeSurge(s, t);
  return combineSignals('volume_surge', s.candles, t, surge ? [surge] : []);
}
