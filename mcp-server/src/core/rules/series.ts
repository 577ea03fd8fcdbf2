/**
 * Named series for rules: parse a reference such as `ema(20)` or `bb_lower(20,2)` and compute it over
 * candles as one Float64Array aligned with the bars.
 *
 * Values are NaN during an indicator's warm-up. SMC references are 0/1 flags: events are 1 on the bar
 * the event becomes known, zone states 1 on a bar whose close is inside a fresh zone (see `zoneFlags`).
 * Every series is causal: the value at bar i depends on bars <= i only, so a rule evaluated on a closed
 * bar never peeks at the future.
 *
 * Parameters may be omitted from the right when they have defaults (`rsi` = `rsi(14)`,
 * `bb_upper(20)` = `bb_upper(20,2)`). SMC references take an optional swing length (default 5, as in
 * `analyzeSmc`). Each reference has one canonical key (`rsi(14)`), under which it is cached.
 */
import type { Candles } from '../candles.js';
import { adx, atr, bollinger, ema, macd, obv, rsi, sma, stochastic } from '../indicators/index.js';
import { donchianHigh, donchianLow } from './donchian.js';
import { fvgZoneFlags, orderBlockZoneFlags, structureFlags, sweepFlags } from './smc-flags.js';

/**
 * Computed series by canonical key, for one candle set. Pass the same map to every call over the same
 * candles (and never across candle sets) so each distinct series is computed once. Cached arrays are
 * shared: treat them as read-only.
 */
export type SeriesCache = Map<string, Float64Array>;

/** `field` and `indicator` are numeric; `event` and `zone` are 0/1 flags (SMC). */
export type SeriesKind = 'field' | 'indicator' | 'event' | 'zone';

interface ParamDef {
  readonly name: string;
  readonly integer: boolean;
  readonly min: number;
  readonly max: number;
  /** Parameters with a default may be omitted (from the right). */
  readonly default?: number;
}

interface SeriesDef {
  readonly name: string;
  readonly kind: SeriesKind;
  readonly params: readonly ParamDef[];
}

/** A validated series reference. */
export interface ParsedSeriesRef {
  readonly name: string;
  readonly kind: SeriesKind;
  /** Every parameter, defaults filled in. */
  readonly params: readonly number[];
  /** Canonical form, e.g. `rsi(14)`; equal keys mean equal series. */
  readonly key: string;
}

/** Longest indicator window accepted: far beyond any sensible setting, short of absurd allocations. */
export const MAX_SERIES_PERIOD = 10_000;
const MAX_SWING_LENGTH = 500;

const period = (name: string, fallback?: number): ParamDef => ({
  name,
  integer: true,
  min: 1,
  max: MAX_SERIES_PERIOD,
  default: fallback,
});
const swing: ParamDef = { name: 'swing', integer: true, min: 1, max: MAX_SWING_LENGTH, default: 5 };
const bb: readonly ParamDef[] = [
  period('n', 20),
  { name: 'mult', integer: false, min: 0, max: 10, default: 2 },
];
const macdParams = [period('fast', 12), period('slow', 26), period('signal', 9)];
const stochParams = [period('k', 14), period('smooth', 3), period('d', 3)];

const DEFS: readonly SeriesDef[] = [
  ...['open', 'high', 'low', 'close', 'volume'].map((name) => ({ name, kind: 'field' as const, params: [] })),
  { name: 'sma', kind: 'indicator', params: [period('n')] },
  { name: 'ema', kind: 'indicator', params: [period('n')] },
  { name: 'rsi', kind: 'indicator', params: [period('n', 14)] },
  { name: 'atr', kind: 'indicator', params: [period('n', 14)] },
  { name: 'adx', kind: 'indicator', params: [period('n', 14)] },
  { name: 'plus_di', kind: 'indicator', params: [period('n', 14)] },
  { name: 'minus_di', kind: 'indicator', params: [period('n', 14)] },
  { name: 'macd', kind: 'indicator', params: macdParams },
  { name: 'macd_signal', kind: 'indicator', params: macdParams },
  { name: 'macd_hist', kind: 'indicator', params: macdParams },
  { name: 'bb_upper', kind: 'indicator', params: bb },
  { name: 'bb_middle', kind: 'indicator', params: bb },
  { name: 'bb_lower', kind: 'indicator', params: bb },
  { name: 'stoch_k', kind: 'indicator', params: stochParams },
  { name: 'stoch_d', kind: 'indicator', params: stochParams },
  { name: 'obv', kind: 'indicator', params: [] },
  { name: 'donchian_high', kind: 'indicator', params: [period('n', 20)] },
  { name: 'donchian_low', kind: 'indicator', params: [period('n', 20)] },
  { name: 'volume_sma', kind: 'indicator', params: [period('n', 20)] },
  { name: 'volume_ratio', kind: 'indicator', params: [period('n', 20)] },
  ...[
    'bos_bullish',
    'bos_bearish',
    'choch_bullish',
    'choch_bearish',
    'sweep_buy_side',
    'sweep_sell_side',
  ].map((name) => ({ name, kind: 'event' as const, params: [swing] })),
  { name: 'in_bullish_ob', kind: 'zone', params: [swing] },
  { name: 'in_bearish_ob', kind: 'zone', params: [swing] },
  { name: 'in_bullish_fvg', kind: 'zone', params: [] },
  { name: 'in_bearish_fvg', kind: 'zone', params: [] },
];
const BY_NAME = new Map(DEFS.map((d) => [d.name, d]));

function signature(d: SeriesDef): string {
  if (d.params.length === 0) return d.name;
  const params = d.params.map((p) => (p.default === undefined ? p.name : `${p.name}=${p.default}`));
  return `${d.name}(${params.join(',')})`;
}

/** Every accepted reference with its parameters, e.g. `ema(n)`, `rsi(n=14)`: for error messages and docs. */
export const ACCEPTED_SERIES: readonly string[] = DEFS.map(signature);

/** The 0/1 flag references (SMC events and zone states): what `{ "is": ... }` accepts. */
export const FLAG_SERIES: readonly string[] = DEFS.filter((d) => d.kind === 'event' || d.kind === 'zone').map(
  signature,
);

const REF_PATTERN = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\(([^()]*)\))?\s*$/;

/**
 * Validate a series reference and return its canonical form.
 *
 * @throws Error whose message names the reference and what is wrong: an unknown name (listing every
 *   accepted reference), a wrong parameter count, or a parameter out of range
 */
export function parseSeriesRef(ref: string): ParsedSeriesRef {
  const match = REF_PATTERN.exec(ref);
  const def = match ? BY_NAME.get(match[1]!.toLowerCase()) : undefined;
  if (!match || !def) {
    throw new Error(`unknown series ${JSON.stringify(ref)}; accepted: ${ACCEPTED_SERIES.join(', ')}`);
  }
  const raw =
    match[2] === undefined || match[2].trim() === '' ? [] : match[2].split(',').map((s) => s.trim());
  const required = def.params.filter((p) => p.default === undefined).length;
  const total = def.params.length;
  const where = `series ${JSON.stringify(ref)}`;
  if (raw.length < required || raw.length > total) {
    const expected =
      total === 0
        ? 'no parameters'
        : required === total
          ? `${total} parameter${total > 1 ? 's' : ''}`
          : `${required} to ${total} parameters`;
    throw new Error(`${where}: ${def.name} takes ${expected} (${signature(def)}), got ${raw.length}`);
  }
  const params = def.params.map((p, k) => {
    if (k >= raw.length) return p.default!;
    const text = raw[k]!;
    const value = text === '' ? NaN : Number(text);
    const kind = p.integer ? 'an integer' : 'a number';
    if (
      !Number.isFinite(value) ||
      (p.integer && !Number.isInteger(value)) ||
      value < p.min ||
      value > p.max
    ) {
      throw new Error(
        `${where}: ${p.name} must be ${kind} from ${p.min} to ${p.max}, got ${JSON.stringify(text)}`,
      );
    }
    return value;
  });
  const key = params.length === 0 ? def.name : `${def.name}(${params.join(',')})`;
  return { name: def.name, kind: def.kind, params, key };
}

/**
 * The series a reference names, aligned with `c` (NaN during warm-up; flags 0/1).
 *
 * Results are cached under the canonical key, and indicators with several outputs (MACD, Bollinger,
 * stochastic, ADX/DI, SMC flags) store all their outputs at once, so `bb_upper(20,2)` and
 * `bb_lower(20,2)` cost one Bollinger pass. Fields are returned as the candle columns themselves.
 *
 * @param cache the cache of these candles (see `SeriesCache`); a fresh one per call when omitted
 * @throws Error for an invalid reference (see `parseSeriesRef`)
 */
export function computeSeries(
  c: Candles,
  ref: string | ParsedSeriesRef,
  cache: SeriesCache = new Map(),
): Float64Array {
  const parsed = typeof ref === 'string' ? parseSeriesRef(ref) : ref;
  if (parsed.kind === 'field') return c[parsed.name as 'open' | 'high' | 'low' | 'close' | 'volume'];
  const hit = cache.get(parsed.key);
  if (hit) return hit;
  const found = compute(c, parsed, cache);
  cache.set(parsed.key, found);
  return found;
}

/** Compute `ref`, storing sibling outputs of the same calculation in `cache`. */
function compute(c: Candles, ref: ParsedSeriesRef, cache: SeriesCache): Float64Array {
  const { high, low, close, volume } = c;
  const p = ref.params;
  const args = `(${p.join(',')})`;
  const store = (outputs: Record<string, Float64Array>): Float64Array => {
    for (const [name, values] of Object.entries(outputs)) cache.set(`${name}${args}`, values);
    return cache.get(ref.key)!;
  };
  switch (ref.name) {
    case 'sma':
      return sma(close, p[0]!);
    case 'ema':
      return ema(close, p[0]!);
    case 'rsi':
      return rsi(close, p[0]!);
    case 'atr':
      return atr(high, low, close, p[0]!);
    case 'adx':
    case 'plus_di':
    case 'minus_di': {
      const r = adx(high, low, close, p[0]!);
      return store({ adx: r.adx, plus_di: r.plusDI, minus_di: r.minusDI });
    }
    case 'macd':
    case 'macd_signal':
    case 'macd_hist': {
      const r = macd(close, p[0]!, p[1]!, p[2]!);
      return store({ macd: r.macd, macd_signal: r.signal, macd_hist: r.histogram });
    }
    case 'bb_upper':
    case 'bb_middle':
    case 'bb_lower': {
      const r = bollinger(close, p[0]!, p[1]!);
      return store({ bb_upper: r.upper, bb_middle: r.middle, bb_lower: r.lower });
    }
    case 'stoch_k':
    case 'stoch_d': {
      const r = stochastic(high, low, close, p[0]!, p[1]!, p[2]!);
      return store({ stoch_k: r.k, stoch_d: r.d });
    }
    case 'obv':
      return obv(close, volume);
    case 'donchian_high':
      return donchianHigh(high, p[0]!);
    case 'donchian_low':
      return donchianLow(low, p[0]!);
    case 'volume_sma':
      return sma(volume, p[0]!);
    case 'volume_ratio':
      return volumeRatio(volume, p[0]!);
    case 'bos_bullish':
    case 'bos_bearish':
    case 'choch_bullish':
    case 'choch_bearish': {
      const f = structureFlags(c, p[0]!);
      return store({
        bos_bullish: f.bosBullish,
        bos_bearish: f.bosBearish,
        choch_bullish: f.chochBullish,
        choch_bearish: f.chochBearish,
      });
    }
    case 'sweep_buy_side':
    case 'sweep_sell_side': {
      const f = sweepFlags(c, p[0]!);
      return store({ sweep_buy_side: f.buySide, sweep_sell_side: f.sellSide });
    }
    case 'in_bullish_ob':
    case 'in_bearish_ob': {
      const f = orderBlockZoneFlags(c, p[0]!);
      return store({ in_bullish_ob: f.bullish, in_bearish_ob: f.bearish });
    }
    case 'in_bullish_fvg':
    case 'in_bearish_fvg': {
      // No parameters: the keys are the bare names.
      const f = fvgZoneFlags(c);
      cache.set('in_bullish_fvg', f.bullish);
      cache.set('in_bearish_fvg', f.bearish);
      return ref.name === 'in_bullish_fvg' ? f.bullish : f.bearish;
    }
    default:
      throw new Error(`series ${ref.name} has no implementation`);
  }
}

/**
 * Volume over the average volume of the PREVIOUS n bars (the current bar excluded, so a surge is measured
 * against what came before it): 3 means three times the usual volume. NaN while warming up or when the
 * previous bars traded nothing.
 */
function volumeRatio(volume: Float64Array, n: number): Float64Array {
  const out = new Float64Array(volume.length).fill(NaN);
  let sum = 0;
  for (let i = 0; i < volume.length; i++) {
    if (i >= n) {
      const mean = sum / n;
      if (mean > 0) out[i] = volume[i]! / mean;
      sum -= volume[i - n]!;
    }
    sum += volume[i]!;
  }
  return out;
}
