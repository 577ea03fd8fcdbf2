/** Trend from three independent views: swing structure, EMA alignment and ADX with its DI lines. */
import type { Candles } from '../candles.js';
import { ema } from '../indicators/index.js';
import type { Swing, StructureBreak } from '../smc/index.js';
import type { Direction, Trend } from './types.js';

export function emaAlignment(
  close: number,
  ema20: number,
  ema50: number,
  ema200: number | null,
): Direction | 'mixed' {
  const long = ema200 === null || ema50 > ema200;
  const short = ema200 === null || ema50 < ema200;
  if (close > ema20 && ema20 > ema50 && long) return 'bullish';
  if (close < ema20 && ema20 < ema50 && short) return 'bearish';
  return 'mixed';
}

/** Describe the last two confirmed swing highs and lows (higher highs/lows, lower highs/lows, mixed). */
export function swingStructure(swings: Swing[]): { label: string; bias: Trend } {
  const highs = swings.filter((s) => s.type === 'high').slice(-2);
  const lows = swings.filter((s) => s.type === 'low').slice(-2);
  if (highs.length < 2 || lows.length < 2) return { label: 'not enough confirmed swings', bias: 'neutral' };
  const hh = highs[1]!.level > highs[0]!.level;
  const hl = lows[1]!.level > lows[0]!.level;
  if (hh && hl) return { label: 'higher highs and higher lows', bias: 'bullish' };
  if (!hh && !hl) return { label: 'lower highs and lower lows', bias: 'bearish' };
  return {
    label: hh ? 'higher highs, lower lows (expanding)' : 'lower highs, higher lows (contracting)',
    bias: 'neutral',
  };
}

export function adxStrength(adx: number | null): 'none' | 'weak' | 'trending' | 'strong' {
  if (adx === null || adx < 15) return 'none';
  if (adx < 20) return 'weak';
  if (adx < 40) return 'trending';
  return 'strong';
}

/** Majority of structure break, swing structure and EMA alignment; neutral without a majority. */
export function combineTrend(votes: (Trend | 'mixed' | undefined)[]): Trend {
  let bull = 0;
  let bear = 0;
  for (const v of votes) {
    if (v === 'bullish') bull++;
    else if (v === 'bearish') bear++;
  }
  if (bull >= 2 && bull > bear) return 'bullish';
  if (bear >= 2 && bear > bull) return 'bearish';
  return 'neutral';
}

/** Trend of a (higher-timeframe) series from its last structure break, swings and EMA 20/50. */
export function seriesTrend(c: Candles, swings: Swing[], structure: StructureBreak[]): Trend {
  const n = c.close.length;
  const e20 = ema(c.close, 20)[n - 1]!;
  const e50 = ema(c.close, 50)[n - 1]!;
  const align = Number.isFinite(e50) ? emaAlignment(c.close[n - 1]!, e20, e50, null) : 'mixed';
  return combineTrend([structure.at(-1)?.direction, swingStructure(swings).bias, align]);
}
