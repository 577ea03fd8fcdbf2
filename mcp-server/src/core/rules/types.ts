/**
 * The rule vocabulary shared by JSON backtest strategies (now) and alerts (later): named series computed
 * from closed candles, and conditions over them evaluated per bar. A rule set is plain JSON, validated
 * by zod at the edge, and compiled into per-bar boolean arrays with every series computed once.
 *
 * Series references are strings: a field (`close`, `open`, `high`, `low`, `volume`), an indicator with
 * parameters in parentheses (`ema(20)`, `sma(50)`, `rsi(14)`, `atr(14)`, `adx(14)`, `plus_di(14)`,
 * `minus_di(14)`, `macd(12,26,9)`, `macd_signal(12,26,9)`, `macd_hist(12,26,9)`, `bb_upper(20,2)`,
 * `bb_middle(20,2)`, `bb_lower(20,2)`, `stoch_k(14,3,3)`, `stoch_d(14,3,3)`, `obv`, `donchian_high(20)`,
 * `donchian_low(20)` (highest high / lowest low of the PREVIOUS n bars), `volume_sma(20)`, `volume_ratio(20)` (volume over the previous n bars' average: a surge is
 * `volume_ratio(20) > 3`)), or an SMC
 * event flag, 1 on the bar it becomes known (`bos_bullish`, `bos_bearish`, `choch_bullish`,
 * `choch_bearish`, `sweep_buy_side`, `sweep_sell_side`), or an SMC state flag, 1 on a bar whose close is
 * inside a fresh zone: confirmed, not touched before that bar (so at most its first retest) and, for an
 * order block, not traded through (`in_bullish_ob`, `in_bearish_ob`, `in_bullish_fvg`, `in_bearish_fvg`).
 * Parameters with defaults may be left out (`rsi` = `rsi(14)`); SMC flags other than the FVG ones take
 * an optional swing length (`choch_bullish(10)`, default 5). `series.ts` has the full list and limits.
 */
export type SeriesRef = string;

export type Operand = SeriesRef | number;

export type Comparison = '>' | '>=' | '<' | '<=' | 'crosses_above' | 'crosses_below';

export type Condition =
  | { left: Operand; op: Comparison; right: Operand }
  /** A flag series is true (e.g. `{ "is": "choch_bullish" }`). */
  | { is: SeriesRef }
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition };

export interface RuleStrategySpec {
  /** When to open a long (evaluated on each closed bar; acts at the next open). */
  entry_long?: Condition;
  exit_long?: Condition;
  entry_short?: Condition;
  exit_short?: Condition;
  /** Fraction from entry, e.g. 0.03. */
  stop_loss_pct?: number;
  take_profit_pct?: number;
  /** Stop at this many ATR(14) from the signal bar's close (overrides stop_loss_pct when set). */
  stop_atr?: number;
}
