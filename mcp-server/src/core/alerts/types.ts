/**
 * Contracts of the alert engine (issue 5). Conditions are data (structured JSON, or parsed from the small
 * expression language into the same shape), evaluated on closed candles for candle series and on ticks
 * for price conditions. Pure: evaluation takes the market data it needs as arguments.
 */
import type { Comparison, SeriesRef } from '../rules/types.js';

/** A series on a timeframe: `{ series: 'rsi(14)', timeframe: '1h' }`; the timeframe defaults to the alert's. */
export interface TimedSeries {
  series: SeriesRef;
  timeframe?: string;
}

export type AlertOperand = TimedSeries | number;

/**
 * - compare: `close(4h) > 70000`, `rsi(14, 1h) < 30`, `cross_above(ema(20), ema(50))` (op crosses_*).
 * - flag: an SMC event or state flag of core/rules (`choch_bullish`, `in_bullish_ob`, `sweep_sell_side`, ...).
 * - move: price moved `pct` % (up, down or either) over the last `window` closed candles of `timeframe`.
 * - price: last traded price (ticks) above/below/crossing a level; the only condition evaluated on ticks.
 * - portfolio: a stored portfolio's drawdown or one-day VaR95 above a threshold (%).
 */
export type AlertCondition =
  | { kind: 'compare'; left: AlertOperand; op: Comparison; right: AlertOperand }
  | { kind: 'flag'; flag: TimedSeries }
  | { kind: 'move'; timeframe: string; window: number; pct: number; direction: 'up' | 'down' | 'either' }
  | { kind: 'price'; op: 'above' | 'below' | 'crosses_above' | 'crosses_below'; level: number }
  | { kind: 'portfolio'; portfolio_id: string; metric: 'drawdown_pct' | 'var95_pct'; above: number }
  | { kind: 'all'; conditions: AlertCondition[] }
  | { kind: 'any'; conditions: AlertCondition[] };

export type AlertChannel =
  | { type: 'whatsapp'; to: string /* E.164, e.g. +4915112345678 */ }
  | { type: 'webhook'; url: string /* HMAC-signed POST */ };

export interface AlertDefinition {
  id: string;
  /** Caller id (API key digest or 'local'). */
  owner: string;
  /** Unified symbol, e.g. BTC/USDT; null for portfolio alerts. */
  symbol: string | null;
  exchange: string;
  /** Default timeframe of series without one. */
  timeframe: string;
  condition: AlertCondition;
  /** The expression as the user wrote it, when given as text. */
  expression: string | null;
  channel: AlertChannel;
  /** Message template with {placeholders} (symbol, price, condition, values...); null: the default text. */
  template: string | null;
  repeat: { mode: 'once' } | { mode: 'repeat'; cooldown_s: number };
  expires_at: string | null;
  /** Local quiet hours: no delivery between start and end (HH:MM) in the recipient's IANA time zone. */
  quiet_hours: { start: string; end: string; time_zone: string } | null;
  status: 'active' | 'paused' | 'fired' | 'expired' | 'deleted';
  created_at: string;
  updated_at: string;
  last_fired_at: string | null;
}

/** One firing: the values that made the condition hold, at the candle (or tick) that did it. */
export interface AlertFiring {
  alert_id: string;
  /** Candle close time or tick time (ms) that fired it; with alert_id the idempotency key of its message. */
  at: number;
  /** Series values and the price that made it hold, e.g. { 'close(4h)': 70250.5, 'rsi(14,1h)': 28.4 }. */
  values: Record<string, number>;
  message: string;
}
