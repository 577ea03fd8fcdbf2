/**
 * Evaluate rule conditions over candles, bar by bar, as whole columns: each series a condition names is
 * computed once (through the cache) and each condition node becomes one Uint8Array pass. Shared by JSON
 * backtest strategies and, later, alerts (an alert fires where its condition is 1 on the last bar).
 *
 * Conditions are assumed valid (parse them with `ruleStrategySpecSchema` / `ruleConditionSchema` at the
 * edge); an invalid series reference still throws here with the same message.
 */
import type { Candles } from '../candles.js';
import type { Signals } from '../backtest/types.js';
import { compareSeries, type SeriesOrConstant } from './compare.js';
import { computeSeries, type SeriesCache } from './series.js';
import type { Condition, Operand, RuleStrategySpec } from './types.js';

/** ATR period behind `stop_atr`. */
export const STOP_ATR_PERIOD = 14;

/**
 * Per-bar truth of a condition: 1 where it holds on that closed bar, 0 elsewhere.
 *
 * Comparisons follow `compareSeries` (a NaN operand is false; crosses compare bars i-1 and i).
 * `{ is: ref }` holds where the series is non-zero and not NaN. `all` / `any` are AND / OR of their
 * children (an empty `all` holds everywhere, an empty `any` nowhere) and `not` inverts its child, so
 * note that `not` of a comparison is true during the warm-up, where the comparison is false.
 * Causal because every series is: bar i reads bars <= i.
 *
 * @param cache series cache of these candles (see `SeriesCache`), shared across calls to reuse series
 */
export function evaluateCondition(
  c: Candles,
  condition: Condition,
  cache: SeriesCache = new Map(),
): Uint8Array {
  const n = c.close.length;
  if ('left' in condition) {
    return compareSeries(
      operand(c, condition.left, cache),
      condition.op,
      operand(c, condition.right, cache),
      n,
    );
  }
  if ('is' in condition) {
    const values = computeSeries(c, condition.is, cache);
    const out = new Uint8Array(n);
    // NaN !== 0 is true, so test the NaN case explicitly.
    for (let i = 0; i < n; i++) out[i] = values[i] !== 0 && values[i] === values[i] ? 1 : 0;
    return out;
  }
  if ('not' in condition) {
    const out = evaluateCondition(c, condition.not, cache);
    for (let i = 0; i < n; i++) out[i] ^= 1;
    return out;
  }
  const all = 'all' in condition;
  const children = all ? condition.all : condition.any;
  const out = new Uint8Array(n).fill(all ? 1 : 0);
  for (const child of children) {
    const truth = evaluateCondition(c, child, cache);
    if (all) for (let i = 0; i < n; i++) out[i] &= truth[i];
    else for (let i = 0; i < n; i++) out[i] |= truth[i];
  }
  return out;
}

function operand(c: Candles, x: Operand, cache: SeriesCache): SeriesOrConstant {
  return typeof x === 'number' ? x : computeSeries(c, x, cache);
}

/**
 * Backtest signals of a rule strategy: `enterLong` from `entry_long`, `exitLong` from `exit_long`, and
 * the short pair when `entry_short` or `exit_short` is given (otherwise `enterShort` / `exitShort` are
 * left out). A missing exit rule gives an all-zero exit array: positions then close by stop, target or
 * the end of the data. Signals are raw rule truth: a rule true on consecutive bars signals on each.
 *
 * With `stop_atr`, `stopPrice` holds close -/+ stop_atr * ATR(14) of the signal bar on entry bars
 * (below the close for a long entry, above for a short one; `Signals` has one stop column, so each entry
 * bar carries the stop of the side that enters there, the long one if both do) and NaN elsewhere,
 * including during the ATR warm-up. `stop_loss_pct` / `take_profit_pct` are engine settings measured
 * from the fill: see `ruleRiskConfig`.
 */
export function ruleSignals(c: Candles, spec: RuleStrategySpec, cache: SeriesCache = new Map()): Signals {
  const n = c.close.length;
  const truth = (rule: Condition | undefined) =>
    rule === undefined ? new Uint8Array(n) : evaluateCondition(c, rule, cache);
  const signals: Signals = { enterLong: truth(spec.entry_long), exitLong: truth(spec.exit_long) };
  if (spec.entry_short !== undefined || spec.exit_short !== undefined) {
    signals.enterShort = truth(spec.entry_short);
    signals.exitShort = truth(spec.exit_short);
  }
  if (spec.stop_atr !== undefined) {
    const range = computeSeries(c, `atr(${STOP_ATR_PERIOD})`, cache);
    const stop = new Float64Array(n).fill(NaN);
    const { enterLong, enterShort } = signals;
    for (let i = 0; i < n; i++) {
      const distance = spec.stop_atr * range[i];
      if (enterLong[i]) stop[i] = c.close[i] - distance;
      else if (enterShort?.[i]) stop[i] = c.close[i] + distance;
    }
    signals.stopPrice = stop;
  }
  return signals;
}

/**
 * The engine settings a rule spec implies: `stop_loss_pct` and `take_profit_pct` as the engine's
 * `stopLossPct` / `takeProfitPct` (fractions from the entry fill). `stop_atr` overrides `stop_loss_pct`
 * through the engine's own precedence (a strategy `stopPrice` beats `stopLossPct` for that trade), so
 * with both set the percentage stop only acts where the ATR stop is NaN (its warm-up).
 */
export function ruleRiskConfig(spec: RuleStrategySpec): { stopLossPct?: number; takeProfitPct?: number } {
  const out: { stopLossPct?: number; takeProfitPct?: number } = {};
  if (spec.stop_loss_pct !== undefined) out.stopLossPct = spec.stop_loss_pct;
  if (spec.take_profit_pct !== undefined) out.takeProfitPct = spec.take_profit_pct;
  return out;
}
