import type { Candles } from '../candles.js';
import { mirrorCandles } from './mirror.js';

/** A fair value gap: the price range a three-candle displacement left untraded. */
export interface FairValueGap {
  /** Middle candle of the three (the first one of a joined run). */
  readonly index: number;
  /** Middle candle of the last gap joined into this one; equals `index` unless `joinConsecutive` merged more. */
  readonly endIndex: number;
  readonly type: 'bullish' | 'bearish';
  readonly top: number;
  readonly bottom: number;
  /** The third candle, `index + 1`: the gap exists once it has closed. */
  readonly confirmedIndex: number;
  /** First bar from `endIndex + 2` on that trades into the gap (library `MitigatedIndex`), else null. */
  readonly mitigatedIndex: number | null;
  /** Deepest fill as of the last bar, 0 (untouched) to 1 (traded through): e.g. (top - lowest low) / height. */
  readonly filledFraction: number;
  /** As of the last bar: 'open' (not reached), 'mitigated' (reached, not fully filled) or 'filled'. */
  readonly state: 'open' | 'mitigated' | 'filled';
}

/**
 * Fair value gaps after smartmoneyconcepts `fvg(ohlc, join_consecutive)`.
 *
 * Middle candle i is a bullish gap when `high[i-1] < low[i+1]` and `close[i] > open[i]` (top `low[i+1]`,
 * bottom `high[i-1]`), a bearish gap when `low[i-1] > high[i+1]` and `close[i] < open[i]` (top `low[i-1]`,
 * bottom `high[i+1]`). It is mitigated at the first bar from i+2 on with `low <= top` (bullish) or
 * `high >= bottom` (bearish), the library's comparisons. With `joinConsecutive`, a gap whose middle candle
 * directly follows a same-type gap is merged into it (highest top, lowest bottom) and mitigation is
 * checked from the last middle candle + 2, as the library does.
 *
 * Causality: a gap is known at its third candle (`confirmedIndex = index + 1`). The library reports a
 * joined run at its last middle candle, which is only known when the run ends; here the run is reported
 * from its first gap on and widened (`endIndex`, `top`, `bottom`) as later gaps join, so on the first t
 * candles every field is the value as of bar t-1. `filledFraction` and `state` are additions.
 */
export function fairValueGaps(
  c: Candles,
  { joinConsecutive = false }: { joinConsecutive?: boolean } = {},
): FairValueGap[] {
  const up = bullishGaps(c, joinConsecutive);
  const down = bullishGaps(mirrorCandles(c), joinConsecutive);
  const gaps: FairValueGap[] = [];
  let a = 0;
  let b = 0;
  while (a < up.count || b < down.count) {
    if (b === down.count || (a < up.count && up.index[a]! < down.index[b]!))
      gaps.push(toGap(up, a++, 'bullish'));
    else gaps.push(toGap(down, b++, 'bearish'));
  }
  return gaps;
}

/** Gaps of one side, columnar (objects are built once, when every field is final). */
interface GapColumns {
  count: number;
  readonly index: Int32Array;
  readonly endIndex: Int32Array;
  readonly top: Float64Array;
  readonly bottom: Float64Array;
  /** -1 while unmitigated. */
  readonly mitigatedIndex: Int32Array;
  readonly filledFraction: Float64Array;
}

function toGap(g: GapColumns, k: number, type: FairValueGap['type']): FairValueGap {
  // Bearish gaps were found on the mirrored series: negate and swap top/bottom back.
  const bearish = type === 'bearish';
  const mitigatedIndex = g.mitigatedIndex[k]! < 0 ? null : g.mitigatedIndex[k]!;
  const filledFraction = g.filledFraction[k]!;
  return {
    index: g.index[k]!,
    endIndex: g.endIndex[k]!,
    type,
    top: bearish ? -g.bottom[k]! : g.top[k]!,
    bottom: bearish ? -g.top[k]! : g.bottom[k]!,
    confirmedIndex: g.index[k]! + 1,
    mitigatedIndex,
    filledFraction,
    state: mitigatedIndex === null ? 'open' : filledFraction === 1 ? 'filled' : 'mitigated',
  };
}

/** Middle candle i of `c` is a bullish gap. */
function isBullishGap(c: Candles, i: number): boolean {
  return c.close[i]! > c.open[i]! && c.high[i - 1]! < c.low[i + 1]!;
}

/** Bullish gaps of `c`; run on mirrored candles it finds the bearish gaps (in negated prices). */
function bullishGaps(c: Candles, joinConsecutive: boolean): GapColumns {
  const { high, low } = c;
  const n = c.close.length;
  let size = 0;
  for (let i = 1; i + 1 < n; i++) if (isBullishGap(c, i)) size++;
  const g: GapColumns = {
    count: 0,
    index: new Int32Array(size),
    endIndex: new Int32Array(size),
    top: new Float64Array(size),
    bottom: new Float64Array(size),
    mitigatedIndex: new Int32Array(size).fill(-1),
    filledFraction: new Float64Array(size),
  };
  // Unmitigated gaps as a stack. One still open at bar j has top < low[j], and a gap confirmed at j has
  // top >= low[j], so tops increase toward the stack top and a low only ever reaches the top entries.
  const unmitigated = new Int32Array(size);
  let depth = 0;
  for (let j = 2; j < n; j++) {
    const i = j - 1;
    const isGap = isBullishGap(c, i);
    const last = g.count - 1;
    // A gap right after a same-type gap joins it; that one was confirmed at bar i, so it is the stack top
    // and not yet checked against bar j.
    const join = isGap && joinConsecutive && last >= 0 && g.endIndex[last] === i - 1;
    if (join) depth--;
    while (depth > 0 && g.top[unmitigated[depth - 1]!]! >= low[j]!)
      g.mitigatedIndex[unmitigated[--depth]!] = j;
    if (join) {
      g.endIndex[last] = i;
      g.top[last] = Math.max(g.top[last]!, low[j]!);
      g.bottom[last] = Math.min(g.bottom[last]!, high[i - 1]!);
      unmitigated[depth++] = last;
    } else if (isGap) {
      const k = g.count++;
      g.index[k] = g.endIndex[k] = i;
      g.top[k] = low[j]!;
      g.bottom[k] = high[i - 1]!;
      unmitigated[depth++] = k;
    }
  }
  // Deepest fill: the lowest low from each gap's first checked bar (endIndex + 2) to the end, walking back.
  let k = g.count - 1;
  while (k >= 0 && g.endIndex[k]! + 2 >= n) k--; // checked from beyond the data: untouched
  let lowest = Infinity;
  for (let j = n - 1; k >= 0; j--) {
    lowest = Math.min(lowest, low[j]!);
    for (; k >= 0 && g.endIndex[k]! + 2 === j; k--) {
      g.filledFraction[k] = Math.min(1, Math.max(0, (g.top[k]! - lowest) / (g.top[k]! - g.bottom[k]!)));
    }
  }
  return g;
}
