import type { Candles } from '../core/candles.js';
import type { Timeframe } from './timeframes.js';

/** Where an answer came from: a live exchange or the bundled offline snapshot (historical Binance data). */
export type DataSourceKind = 'exchange' | 'offline';

/** Closed candles of one market, as the services receive them. */
export interface CandleSeries {
  /** Unified symbol, e.g. 'BTC/USDT'. */
  symbol: string;
  /** ccxt exchange id the candles belong to ('binance' for the offline snapshot). */
  exchange: string;
  timeframe: Timeframe;
  /** Closed candles only, oldest first, at most the requested limit. */
  candles: Candles;
  source: DataSourceKind;
  /** Close time of the last candle (its open time + the timeframe): how current the data is. */
  asOf: number;
  /** When this answer was produced (ms), from the injected clock. */
  fetchedAt: number;
  /** Set when the offline snapshot answered although the caller asked for another exchange or live data. */
  fallback?: SnapshotFallback;
}

/** Why the offline snapshot (Binance data) stood in for the exchange the caller asked for. */
export interface SnapshotFallback {
  /** ccxt id of the exchange asked for. */
  requestedExchange: string;
  /** Why it did not answer: the outage error's message, or that the snapshot holds Binance data only. */
  reason: string;
  /**
   * True when the snapshot stands in because the exchange is unreachable (auto mode): its data is then
   * history rather than the market now. False when offline mode answers for another exchange.
   */
  outage: boolean;
}

/** 24h statistics of one market. */
export interface Ticker24h {
  symbol: string;
  open: number;
  high: number;
  low: number;
  last: number;
  change: number;
  /** Change in percent of `open`. */
  percentage: number;
  /** Volume in the base currency. */
  baseVolume: number;
  /** Volume in the quote currency; an estimate for the offline snapshot. Undefined when unknown. */
  quoteVolume: number | undefined;
  /** End of the 24h window (ms); undefined when the exchange did not say. */
  timestamp: number | undefined;
}
