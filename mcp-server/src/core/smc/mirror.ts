/**
 * Internal: bearish / sell-side rules are the bullish / buy-side rules applied to the price-negated series,
 * so each rule is written once. Negation is exact in floating point, so mirrored results map back exactly.
 */
import type { Candles } from '../candles.js';
import type { Swing } from './swings.js';

/** Candles reflected through price 0: highs become (negated) lows, up-closes become down-closes. */
export function mirrorCandles(c: Candles): Candles {
  const n = c.close.length;
  const m = {
    time: c.time,
    open: new Float64Array(n),
    high: new Float64Array(n),
    low: new Float64Array(n),
    close: new Float64Array(n),
    volume: c.volume,
  };
  for (let i = 0; i < n; i++) {
    m.open[i] = -c.open[i]!;
    m.high[i] = -c.low[i]!;
    m.low[i] = -c.high[i]!;
    m.close[i] = -c.close[i]!;
  }
  return m;
}

/** The swing highs a bullish scan works on, columnar: the highs of `c`, or the lows of `c` for its mirror. */
export interface SideSwings {
  readonly count: number;
  readonly index: Int32Array;
  /** Level in the scanned series' prices (negated for the mirror). */
  readonly level: Float64Array;
  readonly confirmedIndex: Int32Array;
  /** 1 when the swing superseded the previous swing of its side (no opposite swing between them). */
  readonly supersedes: Uint8Array;
}

export function sideSwings(swings: readonly Swing[], side: 'high' | 'low'): SideSwings {
  let count = 0;
  for (const s of swings) if (s.type === side) count++;
  const out = {
    count,
    index: new Int32Array(count),
    level: new Float64Array(count),
    confirmedIndex: new Int32Array(count),
    supersedes: new Uint8Array(count),
  };
  const sign = side === 'high' ? 1 : -1;
  let k = 0;
  for (let j = 0; j < swings.length; j++) {
    const s = swings[j]!;
    if (s.type !== side) continue;
    out.index[k] = s.index;
    out.level[k] = sign * s.level;
    out.confirmedIndex[k] = s.confirmedIndex;
    out.supersedes[k] = j > 0 && swings[j - 1]!.type === side ? 1 : 0;
    k++;
  }
  return out;
}

/** Merge two lists already ordered by `key` into one; on equal keys `a` comes first. */
export function mergeOrdered<T>(a: T[], b: T[], key: (x: T) => number): T[] {
  const out: T[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) out.push(key(b[j]!) < key(a[i]!) ? b[j++]! : a[i++]!);
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}
