/**
 * The series the detectors share for one market, each computed once and only when a detector asks for
 * it, plus small causal helpers. Everything read for bar t comes from bars 0..t only: indicators are
 * recursive from the first bar, and smart-money items are read as of t through their `confirmedIndex`
 * and lifecycle indices (see `asOf`), so a detector run at t on a longer series answers exactly as on
 * the first t+1 candles.
 */
import type { Candles } from '../candles.js';
import { atr, ema, rsi } from '../indicators/index.js';
import { analyzeSmc, type SmcAnalysis } from '../smc/index.js';

/** Bars on each side that confirm a swing: the report's value, so scan and analysis see the same swings. */
export const SWING_LENGTH = 5;
/** Bars behind "average volume". */
export const VOLUME_PERIOD = 20;
/** Event signals (structure breaks, sweeps, retests) count while at most this many bars old (0, 1, 2). */
export const RECENT_BARS = 3;
/** Zones older than this many bars are not "fresh". */
export const FRESH_BARS = 100;

export interface ScanSeries {
  readonly candles: Candles;
  readonly length: number;
  /** ATR(14), Wilder. */
  readonly atr: Float64Array;
  /** RSI(14), Wilder. */
  readonly rsi: Float64Array;
  readonly ema50: Float64Array;
  /** Swings, FVGs, order blocks, BOS/CHoCH and liquidity of the whole series; read them as of a bar. */
  readonly smc: SmcAnalysis;
}

export function scanSeries(c: Candles): ScanSeries {
  let atrSeries: Float64Array | undefined;
  let rsiSeries: Float64Array | undefined;
  let ema50: Float64Array | undefined;
  let smc: SmcAnalysis | undefined;
  return {
    candles: c,
    length: c.close.length,
    get atr() {
      return (atrSeries ??= atr(c.high, c.low, c.close, 14));
    },
    get rsi() {
      return (rsiSeries ??= rsi(c.close, 14));
    },
    get ema50() {
      return (ema50 ??= ema(c.close, 50));
    },
    get smc() {
      return (smc ??= analyzeSmc(c, { swingLength: SWING_LENGTH }));
    },
  };
}

/** A lifecycle index (mitigation, sweep, ...) as known at bar t: null when it lies after t. */
export const asOf = (index: number | null, t: number): number | null =>
  index !== null && index <= t ? index : null;

/** Volume of bar t over the mean volume of the `period` bars before it; NaN without history or volume. */
export function volumeRatio(c: Candles, t: number, period = VOLUME_PERIOD): number {
  if (t < period) return NaN;
  let sum = 0;
  for (let k = t - period; k < t; k++) sum += c.volume[k]!;
  return sum > 0 ? c.volume[t]! / (sum / period) : NaN;
}

/** Highest high of the `period` bars before t (Donchian upper band, the current bar excluded). */
export function priorHigh(c: Candles, t: number, period: number): number {
  let hi = -Infinity;
  for (let k = Math.max(0, t - period); k < t; k++) if (c.high[k]! > hi) hi = c.high[k]!;
  return hi;
}

/** Lowest low of the `period` bars before t (Donchian lower band, the current bar excluded). */
export function priorLow(c: Candles, t: number, period: number): number {
  let lo = Infinity;
  for (let k = Math.max(0, t - period); k < t; k++) if (c.low[k]! < lo) lo = c.low[k]!;
  return lo;
}

/** Lowest low (bullish) or highest high (bearish) of bars [from, to]. */
export function extreme(c: Candles, from: number, to: number, side: 'low' | 'high'): number {
  let x = side === 'low' ? Infinity : -Infinity;
  for (let k = Math.max(0, from); k <= to; k++) {
    x = side === 'low' ? Math.min(x, c.low[k]!) : Math.max(x, c.high[k]!);
  }
  return x;
}

/** Linear 0..1 position of x between lo and hi, clamped; 0 for NaN. */
export function scale(x: number, lo: number, hi: number): number {
  if (!Number.isFinite(x)) return 0;
  return Math.max(0, Math.min(1, (x - lo) / (hi - lo)));
}

/** Strength of an event signal fades with its age: 100 % on its bar, 85 % one bar later, 70 % two. */
export const ageFactor = (age: number): number => Math.max(0, 1 - 0.15 * age);
