import type { Candles } from '../candles.js';
import type { Swing } from './swings.js';

/** A break of structure (trend continuation) or change of character (reversal). */
export interface StructureBreak {
  readonly type: 'BOS' | 'CHoCH';
  readonly direction: 'bullish' | 'bearish';
  /** The broken swing level. */
  readonly level: number;
  /** The broken swing. */
  readonly swingIndex: number;
  /** The break bar: first bar from `swingIndex + 2` on whose close (or wick) is beyond `level`. */
  readonly index: number;
  /**
   * When the break became known: `index`, or later when price had already crossed the level before the
   * swing after it confirmed the pattern (then the library reports the same `index`, found in hindsight).
   */
  readonly confirmedIndex: number;
}

const IDLE = 0;
const PENDING = 1;
const DONE = 2;
const BOS = 1;
const CHOCH = 2;

/**
 * BOS and CHoCH after smartmoneyconcepts `bos_choch(ohlc, swing_highs_lows, close_break)`.
 *
 * The library reads the alternating swings in fours. For low, high, low, high (l0, h1, l2, h3) the level is
 * h1: a bullish BOS when l0 < l2 < h1 < h3 (higher low, higher high), a bullish CHoCH when
 * l2 < l0 < h1 < h3 (a lower low, then a higher high). Bearish mirrors it on high, low, high, low with level
 * l1. The break is the first bar from the swing + 2 on whose close (`closeBreak`, default) or high/low
 * crosses the level strictly; a signal that never breaks is dropped, and a break drops every unbroken
 * signal anchored on an earlier swing (the library drops those whose break comes at or after it).
 *
 * Causal form, as it would run bar by bar on `swings` from `swingHighsLows`:
 * - The swings form an alternating sequence; a swing that supersedes the previous one of its type
 *   replaces it, which is the library's run reduction applied as the swings arrive.
 * - A level becomes a candidate once the swing after it is confirmed (l2 for h1) and classifies it. The
 *   library also waits for the next same-side swing (h3 > h1); here the close beyond h1 is that evidence,
 *   so the break is reported at once. If that swing confirms first and does not exceed h1, the candidate
 *   is dropped, as in the library. Candidates are re-classified while their last swings can still change.
 * - If price crossed the level before the candidate was established, the break keeps the library's
 *   `index` (the first crossing) and gets `confirmedIndex` = the bar the pattern was confirmed.
 * - A break drops the pending (not yet reported) candidates on earlier swings; one already reported cannot
 *   be withdrawn, so where the library drops an earlier break retroactively both are reported here.
 *
 * On the first t candles the result is exactly the breaks with `confirmedIndex < t`, in report order.
 */
export function breakOfStructure(
  c: Candles,
  swings: readonly Swing[],
  { closeBreak = true }: { closeBreak?: boolean } = {},
): StructureBreak[] {
  const n = c.close.length;
  const above = closeBreak ? c.close : c.high; // what must exceed a swing high
  const below = closeBreak ? c.close : c.low; // what must undercut a swing low
  // The alternating swing sequence and, per position, the candidate anchored on that swing.
  const m = swings.length;
  const seqIndex = new Int32Array(m);
  const seqLevel = new Float64Array(m);
  const seqDir = new Int8Array(m); // +1 swing high (bullish break candidate), -1 swing low
  const status = new Uint8Array(m);
  const kind = new Uint8Array(m);
  let len = 0;
  let frozenBelow = 0; // candidates on earlier positions were dropped by a later break
  const pending: number[] = [];
  const out: StructureBreak[] = [];

  const crosses = (p: number, k: number): boolean =>
    seqDir[p] === 1 ? above[k]! > seqLevel[p]! : below[k]! < seqLevel[p]!;

  const report = (p: number, index: number, bar: number): void => {
    out.push({
      type: kind[p] === BOS ? 'BOS' : 'CHoCH',
      direction: seqDir[p] === 1 ? 'bullish' : 'bearish',
      level: seqLevel[p]!,
      swingIndex: seqIndex[p]!,
      index,
      confirmedIndex: bar,
    });
    status[p] = DONE;
    // This break drops every candidate on an earlier swing, still pending or not yet established.
    for (const q of pending) if (q < p) status[q] = DONE;
    removeWhere(pending, (q) => status[q] === DONE);
    frozenBelow = Math.max(frozenBelow, p);
  };

  // Re-classify the candidate on position p from its neighbours; `bar` is the current bar.
  const evaluate = (p: number, bar: number): void => {
    if (p < 1 || p < frozenBelow || status[p] === DONE) return;
    // Multiplying by the direction turns the bearish conditions into the bullish ones.
    const d = seqDir[p]!;
    const before = d * seqLevel[p - 1]!;
    const level = d * seqLevel[p]!;
    const after = d * seqLevel[p + 1]!;
    const exceeded = p + 2 >= len || d * seqLevel[p + 2]! > level;
    let k = 0;
    if (exceeded && before < after && after < level) k = BOS;
    else if (exceeded && after < before && before < level) k = CHOCH;
    if (k === 0) {
      if (status[p] === PENDING) removeWhere(pending, (q) => q === p);
      status[p] = IDLE;
      return;
    }
    kind[p] = k;
    if (status[p] === PENDING) return;
    status[p] = PENDING;
    pending.push(p);
    for (let j = seqIndex[p]! + 2; j <= bar; j++) {
      if (crosses(p, j)) return report(p, j, bar);
    }
  };

  let s = 0;
  for (let bar = 0; bar < n; bar++) {
    for (; s < m && swings[s]!.confirmedIndex <= bar; s++) {
      const sw = swings[s]!;
      const dir = sw.type === 'high' ? 1 : -1;
      if (len === 0 || seqDir[len - 1] !== dir) len++;
      seqIndex[len - 1] = sw.index;
      seqLevel[len - 1] = sw.level;
      seqDir[len - 1] = dir;
      evaluate(len - 2, bar); // the new swing is its follower
      evaluate(len - 3, bar); // ... or the next swing on its side
    }
    // Of the candidates crossing on this bar the latest swing wins and drops the earlier ones.
    let winner = -1;
    for (const p of pending) if (p > winner && crosses(p, bar)) winner = p;
    if (winner >= 0) report(winner, bar, bar);
  }
  return out;
}

function removeWhere(list: number[], drop: (x: number) => boolean): void {
  let kept = 0;
  for (const x of list) if (!drop(x)) list[kept++] = x;
  list.length = kept;
}
