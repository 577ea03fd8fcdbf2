/**
 * Candle-close evaluation of many alerts at once.
 *
 * An alert fires when its condition holds on the last closed candle, so only the last value of each
 * series matters (and the one before it, for crosses). Alerts are compiled once, on `add`, into trees
 * whose leaves point at shared "slots": one slot per distinct (symbol, timeframe, series), holding that
 * series' last two values. On a candle close each slot the affected alerts read is computed once (one
 * `computeSeries` call per distinct series, whatever the number of alerts), then every alert is a walk
 * over a few numbers. 10,000 alerts on BTC/USDT 1h reading a handful of series cost a handful of series
 * computations plus 10,000 tiny walks.
 *
 * Price (tick) and portfolio leaves are not candle conditions: they never hold here (the parser and the
 * schema keep them out of candle trees anyway).
 */
import { sliceCandles, type Candles } from '../candles.js';
import { computeSeries, parseSeriesRef, type ParsedSeriesRef, type SeriesCache } from '../rules/series.js';
import type { Comparison } from '../rules/types.js';
import { TIMEFRAMES, candleCloseTime, isTimeframe, type Timeframe } from '../../market/timeframes.js';
import { formatCondition, formatSeries } from './expression.js';
import { formatNumber, renderMessage } from './message.js';
import type { AlertCondition, AlertFiring, AlertOperand } from './types.js';

/** What the index needs of an alert. */
export interface CandleAlert {
  id: string;
  symbol: string;
  condition: AlertCondition;
  /** Timeframe of series that name none. */
  timeframe: string;
  template?: string | null;
  /** The expression as written, quoted in the default message; formatCondition(condition) otherwise. */
  expression?: string | null;
}

/** `computeSeries`' signature: injectable to count or trace series computations. */
export type SeriesComputer = (c: Candles, ref: ParsedSeriesRef, cache: SeriesCache) => Float64Array;

/** Candles to keep per timeframe at most, whatever the indicators ask for. */
export const MAX_REQUIRED_CANDLES = 5000;

/** One distinct (symbol, timeframe, series or move) with its last two values, shared by alerts. */
interface Slot {
  readonly key: string;
  readonly timeframe: Timeframe;
  /** null for a move slot. */
  readonly ref: ParsedSeriesRef | null;
  readonly window: number;
  /** Value key with the timeframe, e.g. `rsi(14,1h)`, `move(24,1h)`. */
  readonly label: string;
  /** Candles this slot needs for a settled last value. */
  readonly needs: number;
  refs: number;
  last: number;
  prev: number;
  /** Call number of the last update, so a slot is computed once per call. */
  stamp: number;
}

type Node =
  | { k: 'compare'; left: Slot | number; op: Comparison; right: Slot | number }
  | { k: 'flag'; slot: Slot }
  | { k: 'move'; slot: Slot; pct: number; direction: 'up' | 'down' | 'either' }
  | { k: 'all' | 'any'; children: Node[] }
  | { k: 'never' };

interface Compiled {
  alert: CandleAlert;
  root: Node;
  slots: Slot[];
  timeframes: Timeframe[];
  text: string;
}

interface Group {
  alerts: Map<string, Compiled>;
  /** Slots read by the group's alerts, with how many alerts read each. */
  slots: Map<Slot, number>;
}

interface Frame {
  candles: Candles;
  last: number;
  cache: SeriesCache;
}

const OP_TEXT: Record<Comparison, string> = {
  '>': '>',
  '>=': '>=',
  '<': '<',
  '<=': '<=',
  crosses_above: 'crosses above',
  crosses_below: 'crosses below',
};

/**
 * Candles needed before the last value of `ref` is settled: windows plus one bar for crosses;
 * recursive smoothers (EMA, Wilder) get ten times their period, after which the seed's weight is below
 * 0.01 % of a full-history computation; cumulative and SMC series get a flat 500.
 */
function needsFor(ref: ParsedSeriesRef): number {
  const p = ref.params;
  switch (ref.name) {
    case 'open':
    case 'high':
    case 'low':
    case 'close':
    case 'volume':
      return 2;
    case 'sma':
    case 'volume_sma':
    case 'donchian_high':
    case 'donchian_low':
    case 'bb_upper':
    case 'bb_middle':
    case 'bb_lower':
      return p[0]! + 2;
    case 'stoch_k':
    case 'stoch_d':
      return p[0]! + p[1]! + p[2]! + 2;
    case 'macd':
    case 'macd_signal':
    case 'macd_hist':
      return 10 * Math.max(p[0]!, p[1]!) + 10 * p[2]! + 2;
    case 'ema':
    case 'rsi':
    case 'atr':
    case 'adx':
    case 'plus_di':
    case 'minus_di':
      return 10 * p[0]! + 2;
    default:
      return 500;
  }
}

/** Index of the last candle closed at `now` (-1 when none). */
function lastClosed(c: Candles, tf: Timeframe, now: number): number {
  let i = c.time.length - 1;
  while (i >= 0 && candleCloseTime(c.time[i]!, tf) > now) i--;
  return i;
}

export class CandleAlertIndex {
  private readonly compute: SeriesComputer;
  private readonly alerts = new Map<string, Compiled>();
  /** By `${symbol}|${timeframe}`: the alerts reading that timeframe of that symbol. */
  private readonly groups = new Map<string, Group>();
  /** By symbol, then slot key. */
  private readonly slots = new Map<string, Map<string, Slot>>();
  private calls = 0;

  constructor(options: { computeSeries?: SeriesComputer } = {}) {
    this.compute = options.computeSeries ?? computeSeries;
  }

  get size(): number {
    return this.alerts.size;
  }

  /**
   * Add (or replace) an alert. Series references are validated here.
   *
   * @returns the timeframes it is evaluated on (empty for price or portfolio conditions, which are not
   *   indexed)
   * @throws Error on an invalid series reference or timeframe
   */
  add(alert: CandleAlert): Timeframe[] {
    this.remove(alert.id);
    const slots: Slot[] = [];
    let root: Node;
    try {
      root = this.compileNode(alert, alert.condition, slots);
    } catch (e) {
      this.release(alert.symbol, slots);
      throw e;
    }
    const used = new Set(slots.map((s) => s.timeframe));
    const timeframes = TIMEFRAMES.filter((tf) => used.has(tf));
    if (timeframes.length === 0) {
      this.release(alert.symbol, slots);
      return [];
    }
    const compiled: Compiled = {
      alert,
      root,
      slots,
      timeframes,
      text: alert.expression ?? formatCondition(alert.condition),
    };
    this.alerts.set(alert.id, compiled);
    for (const tf of timeframes) {
      const key = `${alert.symbol}|${tf}`;
      let group = this.groups.get(key);
      if (!group) this.groups.set(key, (group = { alerts: new Map(), slots: new Map() }));
      group.alerts.set(alert.id, compiled);
      for (const s of slots) group.slots.set(s, (group.slots.get(s) ?? 0) + 1);
    }
    return timeframes;
  }

  /** Remove an alert; false when it was not indexed. */
  remove(id: string): boolean {
    const compiled = this.alerts.get(id);
    if (!compiled) return false;
    this.alerts.delete(id);
    const { symbol } = compiled.alert;
    for (const tf of compiled.timeframes) {
      const key = `${symbol}|${tf}`;
      const group = this.groups.get(key)!;
      group.alerts.delete(id);
      for (const s of compiled.slots) {
        const n = group.slots.get(s)! - 1;
        if (n === 0) group.slots.delete(s);
        else group.slots.set(s, n);
      }
      if (group.alerts.size === 0) this.groups.delete(key);
    }
    this.release(symbol, compiled.slots);
    return true;
  }

  /**
   * The timeframes the alerts of `symbol` read, and how many closed candles of each to pass to
   * `onCandleClose` for settled values (capped at `MAX_REQUIRED_CANDLES`), in TIMEFRAMES order.
   */
  requirements(symbol: string): { timeframe: Timeframe; candles: number }[] {
    const need = new Map<Timeframe, number>();
    for (const s of this.slots.get(symbol)?.values() ?? []) {
      need.set(s.timeframe, Math.max(need.get(s.timeframe) ?? 0, s.needs));
    }
    return TIMEFRAMES.filter((tf) => need.has(tf)).map((timeframe) => ({
      timeframe,
      candles: Math.min(MAX_REQUIRED_CANDLES, need.get(timeframe)!),
    }));
  }

  /**
   * Evaluate the alerts that read (`symbol`, `timeframe`) at the candle that just closed.
   *
   * @param seriesByTimeframe candles of `symbol` per timeframe (at least `requirements(symbol)`), oldest
   *   first; a trailing candle not yet closed at `now` is ignored, so each timeframe is read at its
   *   latest closed candle. An alert reading a timeframe missing here does not fire.
   * @param now current time (ms)
   * @returns one firing per alert whose condition holds, with the values that made it hold
   */
  onCandleClose(
    symbol: string,
    timeframe: string,
    seriesByTimeframe: ReadonlyMap<string, Candles>,
    now: number,
  ): AlertFiring[] {
    const group = this.groups.get(`${symbol}|${timeframe}`);
    if (!group || !isTimeframe(timeframe)) return [];
    const frames = new Map<string, Frame | null>();
    const frame = (tf: Timeframe): Frame | null => {
      let f = frames.get(tf);
      if (f !== undefined) return f;
      const c = seriesByTimeframe.get(tf);
      const last = c ? lastClosed(c, tf, now) : -1;
      f =
        c && last >= 0
          ? { candles: last === c.time.length - 1 ? c : sliceCandles(c, 0, last + 1), last, cache: new Map() }
          : null;
      frames.set(tf, f);
      return f;
    };
    const own = frame(timeframe);
    if (own === null) return [];

    const stamp = ++this.calls;
    for (const slot of group.slots.keys()) this.update(slot, frame(slot.timeframe), stamp);

    const at = candleCloseTime(own.candles.time[own.last]!, timeframe);
    const price = own.candles.close[own.last]!;
    const firings: AlertFiring[] = [];
    for (const compiled of group.alerts.values()) {
      if (!holds(compiled.root)) continue;
      const values: Record<string, number> = { price };
      const parts: string[] = [];
      const bare = compiled.timeframes.length === 1;
      describe(compiled.root, values, parts, bare);
      const summary = (bare ? `${timeframe} ` : '') + parts.join(' and ');
      const message = renderMessage(compiled.alert.template ?? null, {
        alert_id: compiled.alert.id,
        symbol,
        timeframe,
        price,
        condition: compiled.text,
        summary,
        at,
        values,
      });
      firings.push({ alert_id: compiled.alert.id, at, values, message });
    }
    return firings;
  }

  private update(slot: Slot, f: Frame | null, stamp: number): void {
    if (slot.stamp === stamp) return;
    slot.stamp = stamp;
    slot.last = NaN;
    slot.prev = NaN;
    if (f === null) return;
    const i = f.last;
    if (slot.ref === null) {
      const close = f.candles.close;
      if (i - slot.window >= 0) slot.last = (close[i]! / close[i - slot.window]! - 1) * 100;
      return;
    }
    const values = this.compute(f.candles, slot.ref, f.cache);
    slot.last = values[i]!;
    if (i >= 1) slot.prev = values[i - 1]!;
  }

  private slot(
    symbol: string,
    key: string,
    make: () => Omit<Slot, 'refs' | 'last' | 'prev' | 'stamp' | 'key'>,
  ): Slot {
    let bySymbol = this.slots.get(symbol);
    if (!bySymbol) this.slots.set(symbol, (bySymbol = new Map()));
    let s = bySymbol.get(key);
    if (!s) bySymbol.set(key, (s = { ...make(), key, refs: 0, last: NaN, prev: NaN, stamp: 0 }));
    s.refs++;
    return s;
  }

  private release(symbol: string, slots: Slot[]): void {
    const bySymbol = this.slots.get(symbol);
    if (!bySymbol) return;
    for (const s of slots) if (--s.refs === 0) bySymbol.delete(s.key);
    if (bySymbol.size === 0) this.slots.delete(symbol);
  }

  private timeframeOf(alert: CandleAlert, tf: string | undefined): Timeframe {
    const t = tf ?? alert.timeframe;
    if (!isTimeframe(t)) throw new Error(`alert ${alert.id}: unsupported timeframe ${JSON.stringify(t)}`);
    return t;
  }

  private seriesSlot(alert: CandleAlert, series: string, tf: string | undefined, out: Slot[]): Slot {
    const ref = parseSeriesRef(series);
    const timeframe = this.timeframeOf(alert, tf);
    const s = this.slot(alert.symbol, `${timeframe}|${ref.key}`, () => ({
      timeframe,
      ref,
      window: 0,
      label: `${ref.name}(${[...ref.params, timeframe].join(',')})`,
      needs: needsFor(ref),
    }));
    out.push(s);
    return s;
  }

  private compileNode(alert: CandleAlert, c: AlertCondition, out: Slot[]): Node {
    const operand = (o: AlertOperand): Slot | number =>
      typeof o === 'number' ? o : this.seriesSlot(alert, o.series, o.timeframe, out);
    switch (c.kind) {
      case 'compare':
        return { k: 'compare', left: operand(c.left), op: c.op, right: operand(c.right) };
      case 'flag':
        return { k: 'flag', slot: this.seriesSlot(alert, c.flag.series, c.flag.timeframe, out) };
      case 'move': {
        const timeframe = this.timeframeOf(alert, c.timeframe);
        const slot = this.slot(alert.symbol, `${timeframe}|move(${c.window})`, () => ({
          timeframe,
          ref: null,
          window: c.window,
          label: `move(${c.window},${timeframe})`,
          needs: c.window + 1,
        }));
        out.push(slot);
        return { k: 'move', slot, pct: c.pct, direction: c.direction };
      }
      case 'all':
      case 'any':
        return { k: c.kind, children: c.conditions.map((x) => this.compileNode(alert, x, out)) };
      default:
        return { k: 'never' };
    }
  }
}

const lastOf = (x: Slot | number): number => (typeof x === 'number' ? x : x.last);
const prevOf = (x: Slot | number): number => (typeof x === 'number' ? x : x.prev);

/** Truth at the last closed candle; NaN operands (warm-up, missing data) are false, as in `compareSeries`. */
function holds(n: Node): boolean {
  switch (n.k) {
    case 'compare': {
      const a = lastOf(n.left);
      const b = lastOf(n.right);
      switch (n.op) {
        case '>':
          return a > b;
        case '>=':
          return a >= b;
        case '<':
          return a < b;
        case '<=':
          return a <= b;
        case 'crosses_above':
          return prevOf(n.left) <= prevOf(n.right) && a > b;
        case 'crosses_below':
          return prevOf(n.left) >= prevOf(n.right) && a < b;
      }
      return false;
    }
    case 'flag':
      return n.slot.last !== 0 && n.slot.last === n.slot.last;
    case 'move': {
      const pct = n.slot.last;
      if (n.direction === 'up') return pct >= n.pct;
      if (n.direction === 'down') return pct <= -n.pct;
      return Math.abs(pct) >= n.pct;
    }
    case 'all':
      for (const c of n.children) if (!holds(c)) return false;
      return true;
    case 'any':
      for (const c of n.children) if (holds(c)) return true;
      return false;
    default:
      return false;
  }
}

/** Values and text of the leaves that hold (all of them under `all`, the true ones under `any`). */
function describe(n: Node, values: Record<string, number>, parts: string[], bare: boolean): void {
  const label = (s: Slot): string => (bare && s.ref ? formatSeries({ series: s.ref.key }) : s.label);
  const side = (x: Slot | number): string => {
    if (typeof x === 'number') return formatNumber(x);
    values[x.label] = x.last;
    return `${label(x)} ${formatNumber(x.last)}`;
  };
  switch (n.k) {
    case 'compare':
      parts.push(`${side(n.left)} ${OP_TEXT[n.op]} ${side(n.right)}`);
      return;
    case 'flag':
      values[n.slot.label] = n.slot.last;
      parts.push(label(n.slot));
      return;
    case 'move': {
      values[n.slot.label] = n.slot.last;
      const sign = n.slot.last >= 0 ? '+' : '';
      parts.push(`${bare ? `move(${n.slot.window})` : n.slot.label} ${sign}${n.slot.last.toFixed(2)}%`);
      return;
    }
    case 'all':
    case 'any':
      for (const c of n.children) if (n.k === 'all' || holds(c)) describe(c, values, parts, bare);
      return;
    default:
      return;
  }
}
