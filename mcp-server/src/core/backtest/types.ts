/**
 * Contracts of the backtest engine. Strategies turn closed candles into per-bar signals; the engine turns
 * signals into trades with realistic fills; metrics summarise trades and equity. All pure, columnar.
 *
 * Timing rule (no look-ahead): a signal at bar i is computed from bars 0..i only (bar i is closed) and
 * acts at bar i+1's open. Stops and targets are checked inside bars i+1, i+2, ... from their high/low.
 */

/** Per-bar signals, each array as long as the candles. 1 = true. */
export interface Signals {
  /** Open (or keep) a long from the next bar's open. */
  enterLong: Uint8Array;
  /** Close a long at the next bar's open. */
  exitLong: Uint8Array;
  /** Only read when the config allows shorts. */
  enterShort?: Uint8Array;
  exitShort?: Uint8Array;
  /**
   * Optional protective stop price proposed by the strategy at the signal bar (e.g. below an order
   * block); NaN where none. Takes precedence over `stopLossPct` for that trade.
   */
  stopPrice?: Float64Array;
  /** Optional target price proposed at the signal bar; NaN where none. */
  targetPrice?: Float64Array;
}

export type Sizing =
  /** Invest this fraction of current equity (0 < fraction <= 1). */
  | { mode: 'fixed_fraction'; fraction: number }
  /** Size so the loss at the stop is `riskPct` % of current equity (needs a stop), capped at 100 % of equity. */
  | { mode: 'risk_per_trade'; riskPct: number };

export interface BacktestConfig {
  initialCapital: number;
  /** Per side, fraction of notional. Default 0.001 (0.1 %). */
  feeRate: number;
  /** Adverse fill slippage per side, fraction of price. Default 0.0005 (0.05 %). */
  slippage: number;
  sizing: Sizing;
  /** Default false: long only. */
  allowShort: boolean;
  /** Stop at this fraction from the entry fill (e.g. 0.05); undefined: none unless the strategy gives one. */
  stopLossPct?: number;
  /** Target at this fraction from the entry fill; undefined: none unless the strategy gives one. */
  takeProfitPct?: number;
  /** Return periods per year of the candles' timeframe, for annualised metrics (8760 for 1h). */
  periodsPerYear: number;
}

export type ExitReason = 'signal' | 'stop_loss' | 'take_profit' | 'end_of_data';

export interface Trade {
  side: 'long' | 'short';
  /** Bar index of the fill (signal bar + 1) and its open time (ms). */
  entryIndex: number;
  entryTime: number;
  /** Fill price including slippage. */
  entryPrice: number;
  exitIndex: number;
  exitTime: number;
  exitPrice: number;
  exitReason: ExitReason;
  quantity: number;
  /** Entry plus exit fees, in quote currency. */
  fees: number;
  /** Net of fees and slippage. */
  pnl: number;
  /** pnl / (entry notional), as a fraction. */
  returnPct: number;
  /** Bars held (exitIndex - entryIndex, at least 1 when it exits on a later bar, 0 when stopped in the entry bar). */
  bars: number;
  stopPrice: number | null;
  targetPrice: number | null;
}

export interface BacktestMetrics {
  startTime: number;
  endTime: number;
  bars: number;
  initialCapital: number;
  finalEquity: number;
  totalReturnPct: number;
  /** Compound annual growth rate, %, over the window's calendar length. */
  cagrPct: number;
  maxDrawdownPct: number;
  maxDrawdownAmount: number;
  /** Longest peak-to-recovery span (or to the end, if not recovered), in ms. */
  maxDrawdownDurationMs: number;
  sharpe: number | null;
  sortino: number | null;
  /** CAGR / max drawdown; null when there is no drawdown. */
  calmar: number | null;
  /** Van Tharp's System Quality Number: sqrt(min(n,100)) * mean(R) / stdev(R) of trade returns; null under 2 trades. */
  sqn: number | null;
  trades: number;
  winRatePct: number | null;
  /** Gross profit / gross loss; null without losses. */
  profitFactor: number | null;
  /** Mean pnl per trade, quote currency. */
  expectancy: number | null;
  /** Share of bars with a position open, %. */
  exposurePct: number;
  avgTradeDurationMs: number | null;
  medianTradeDurationMs: number | null;
  bestTradePct: number | null;
  worstTradePct: number | null;
  feesPaid: number;
  /** Buy at the first bar's open, sell at the last close, same fees and slippage. */
  buyAndHoldReturnPct: number;
}

export interface BacktestResult {
  trades: Trade[];
  /** Equity at each bar's close (marked to market), same length as the candles. */
  equity: Float64Array;
  metrics: BacktestMetrics;
}
