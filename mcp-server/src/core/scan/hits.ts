/**
 * From signals to hits: a signal counts only while no close since its candle has crossed its
 * invalidation price; the remaining signals of one scan type and direction on a market form one hit.
 */
import type { Candles } from '../candles.js';
import { round } from '../report/util.js';
import type { Direction, ScanHit, ScanSignal, ScanType } from './types.js';

/** Share of each further signal's strength added to the strongest one's. */
const CONFLUENCE_WEIGHT = 0.25;

/** Whether every close from the signal's bar to t stays on the signal's side of its invalidation. */
export function stillValid(c: Candles, s: ScanSignal, t: number): boolean {
  for (let k = s.index; k <= t; k++) {
    if (s.direction === 'bullish' ? c.close[k]! <= s.invalidation : c.close[k]! >= s.invalidation)
      return false;
  }
  return true;
}

/** One hit per direction with the valid signals, strongest first (ties: the newer signal first). */
export function combineSignals(type: ScanType, c: Candles, t: number, signals: ScanSignal[]): ScanHit[] {
  const hits: ScanHit[] = [];
  for (const direction of ['bullish', 'bearish'] as Direction[]) {
    const valid = signals
      .filter((s) => s.direction === direction && s.index <= t && stillValid(c, s, t))
      .sort((a, b) => b.strength - a.strength || b.index - a.index);
    const top = valid[0];
    if (!top) continue;
    const extra = valid.slice(1).reduce((sum, s) => sum + s.strength, 0);
    hits.push({
      type,
      direction,
      strength: Math.min(100, Math.round(top.strength + CONFLUENCE_WEIGHT * extra)),
      index: top.index,
      time: top.time,
      barsAgo: t - top.index,
      close: c.close[t]!,
      invalidation: top.invalidation,
      invalidationBasis: top.invalidationBasis,
      signals: valid,
    });
  }
  return hits;
}

/**
 * A signal with its strength clamped to 0-100 and rounded, and its numbers to 10 significant digits (exchange
 * prices have fewer, so they pass unchanged; derived ones lose float noise).
 */
export function signal(
  c: Candles,
  fields: Omit<ScanSignal, 'time' | 'strength' | 'invalidation'> & { strength: number; invalidation: number },
): ScanSignal {
  const values: Record<string, number> = {};
  for (const [k, v] of Object.entries(fields.values)) values[k] = round(v, 10);
  return {
    ...fields,
    time: c.time[fields.index]!,
    strength: Math.round(Math.max(0, Math.min(100, fields.strength))),
    values,
    invalidation: round(fields.invalidation, 10),
  };
}

/** A number for a sentence: 6 significant digits (ratios and RSI need fewer, `digits`). */
export const fmt = (x: number, digits = 6): string => String(round(x, digits));
