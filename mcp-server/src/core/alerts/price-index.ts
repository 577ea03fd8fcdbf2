/**
 * Tick evaluation of price alerts (`kind: 'price'`, or an `any` of them such as `price crosses 70000`).
 *
 * Per symbol the levels of each operator are kept sorted, so the alerts a tick fires are one or two
 * binary searches away: `above` fires the levels below the price (a prefix), `below` the levels above it
 * (a suffix), and crosses the levels between the previous tick and this one. A tick costs
 * O(log n + fired), whatever the number of alerts.
 *
 * `above` / `below` fire on every tick while they hold: once-only and cooldowns are the caller's (it
 * removes or pauses the alert). Crosses fire on the tick that moves from one side of the level to the
 * other: `crosses_above` when the previous tick was at or below the level and this one is above it.
 */
import type { AlertCondition } from './types.js';

type PriceOp = 'above' | 'below' | 'crosses_above' | 'crosses_below';

/** Levels of one operator, ascending, with the alert id of each. */
interface Side {
  levels: number[];
  ids: string[];
}

interface Book {
  above: Side;
  below: Side;
  crosses_above: Side;
  crosses_below: Side;
  /** Previous tick's price and time (NaN before the first tick). */
  prev: number;
  time: number;
  /** Alerts with several levels in this book: their ids may fire twice in a tick and are de-duplicated. */
  multi: number;
}

interface Leaf {
  op: PriceOp;
  level: number;
}

/** First index whose level is >= x (`strict`: > x). */
function bound(levels: number[], x: number, strict: boolean): number {
  let lo = 0;
  let hi = levels.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (strict ? levels[mid]! <= x : levels[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function push(side: Side, from: number, to: number, out: string[]): void {
  for (let i = from; i < to; i++) out.push(side.ids[i]!);
}

/** The price leaves of a tick condition, or null when it is not one (a candle or portfolio condition). */
function priceLeaves(c: AlertCondition): Leaf[] | null {
  if (c.kind === 'price') return [{ op: c.op, level: c.level }];
  if (c.kind !== 'any' || c.conditions.length === 0) return null;
  const leaves: Leaf[] = [];
  for (const child of c.conditions) {
    const sub = priceLeaves(child);
    if (sub === null) return null;
    leaves.push(...sub);
  }
  return leaves;
}

const emptyBook = (): Book => ({
  above: { levels: [], ids: [] },
  below: { levels: [], ids: [] },
  crosses_above: { levels: [], ids: [] },
  crosses_below: { levels: [], ids: [] },
  prev: NaN,
  time: -Infinity,
  multi: 0,
});

export class PriceAlertIndex {
  private readonly books = new Map<string, Book>();
  private readonly alerts = new Map<string, { symbol: string; leaves: Leaf[] }>();

  get size(): number {
    return this.alerts.size;
  }

  /**
   * Add (or replace) a price alert.
   *
   * @returns false (and nothing indexed) when the condition is not a price condition or an `any` of them
   */
  add(id: string, symbol: string, condition: AlertCondition): boolean {
    this.remove(id);
    const leaves = priceLeaves(condition);
    if (leaves === null || leaves.some((l) => !Number.isFinite(l.level))) return false;
    let book = this.books.get(symbol);
    if (!book) this.books.set(symbol, (book = emptyBook()));
    for (const { op, level } of leaves) {
      const side = book[op];
      const at = bound(side.levels, level, true);
      side.levels.splice(at, 0, level);
      side.ids.splice(at, 0, id);
    }
    if (leaves.length > 1) book.multi++;
    this.alerts.set(id, { symbol, leaves });
    return true;
  }

  /** Remove an alert; false when it was not indexed. */
  remove(id: string): boolean {
    const entry = this.alerts.get(id);
    if (!entry) return false;
    this.alerts.delete(id);
    const book = this.books.get(entry.symbol)!;
    for (const { op, level } of entry.leaves) {
      const side = book[op];
      // Equal levels sit together: scan them from the first for this id.
      for (
        let i = bound(side.levels, level, false);
        i < side.levels.length && side.levels[i] === level;
        i++
      ) {
        if (side.ids[i] === id) {
          side.levels.splice(i, 1);
          side.ids.splice(i, 1);
          break;
        }
      }
    }
    if (entry.leaves.length > 1) book.multi--;
    // The book stays (it is small) so the last tick is kept for crosses of alerts added later.
    return true;
  }

  /**
   * Ids of the alerts a trade at `price` fires. Ticks older than the last one seen for the symbol are
   * ignored (out-of-order delivery must not fake a cross); the first tick of a symbol fires no cross.
   */
  onTick(symbol: string, price: number, time: number): string[] {
    const book = this.books.get(symbol);
    if (!book || !(price > 0) || time < book.time) return [];
    const out: string[] = [];
    const { above, below, crosses_above: up, crosses_below: down, prev } = book;
    if (above.levels.length > 0) push(above, 0, bound(above.levels, price, false), out);
    if (below.levels.length > 0) push(below, bound(below.levels, price, true), below.levels.length, out);
    if (price > prev && up.levels.length > 0) {
      push(up, bound(up.levels, prev, false), bound(up.levels, price, false), out);
    } else if (price < prev && down.levels.length > 0) {
      push(down, bound(down.levels, price, true), bound(down.levels, prev, true), out);
    }
    book.prev = price;
    book.time = time;
    return book.multi > 0 && out.length > 1 ? [...new Set(out)] : out;
  }
}
