/**
 * Performance summary of a backtest: return, risk and trade statistics from the trades and the equity
 * curve, plus a buy-and-hold benchmark paid with the same costs.
 *
 * Time conventions. `equity[i]` is the value at bar i's close, and bar i closes one bar duration after
 * its open time (the duration is the candles' timeframe, `barDurationMs`). The curve starts from
 * `initialCapital` at the first bar's open, so there are as many per-bar returns as bars (the first is
 * equity[0] / initialCapital - 1) and a position opened at the first bar's open counts in the drawdown
 * and the ratios. Calendar spans run from the first open to the last close; a year is 365 days, the year
 * of 8760 hourly or 365 daily crypto candles.
 */
import type { Candles } from '../candles.js';
import { sharpeRatio, sortinoRatio } from '../risk/performance.js';
import { mean, quantile, stdev } from '../risk/stats.js';
import type { BacktestConfig, BacktestMetrics, Trade } from './types.js';

/** 365 days in milliseconds: the calendar year of the CAGR. */
export const YEAR_MS = 365 * 86_400_000;

/**
 * Duration of one bar in ms: the smallest positive step between consecutive open times (missing candles
 * only ever lengthen a step), or a year over `periodsPerYear` when the candles have no step (one bar).
 */
export function barDurationMs(time: Float64Array, periodsPerYear: number): number {
  let step = Infinity;
  for (let i = 1; i < time.length; i++) {
    const d = time[i] - time[i - 1];
    if (d > 0 && d < step) step = d;
  }
  return step < Infinity ? step : YEAR_MS / periodsPerYear;
}

/**
 * Return of buying at the first bar's open and selling at the last bar's close with the whole capital,
 * paying the same slippage (against the trader) and fees per side as the strategy, as a percentage.
 */
export function buyAndHoldReturnPct(candles: Candles, feeRate: number, slippage: number): number {
  const n = candles.time.length;
  if (n === 0) return 0;
  const buy = candles.open[0] * (1 + slippage);
  const sell = candles.close[n - 1] * (1 - slippage);
  return ((sell * (1 - feeRate)) / (buy * (1 + feeRate)) - 1) * 100;
}

/** Equity-curve statistics gathered in one pass. */
interface CurveStats {
  maxDrawdownPct: number;
  maxDrawdownAmount: number;
  maxDrawdownDurationMs: number;
}

/**
 * Drawdowns of the curve that starts at `initial` at time[0]. The largest fall in % and in quote
 * currency are each their own maximum (with a compounding curve a late, shallower fall can be the
 * larger amount). A drawdown lasts from the time of its peak to the first close back at or above the
 * peak, or to the last close when the curve never recovers.
 */
function drawdowns(time: Float64Array, equity: Float64Array, initial: number, barMs: number): CurveStats {
  let peak = initial;
  let peakTime = time[0];
  let below = false;
  let pct = 0;
  let amount = 0;
  let duration = 0;
  const n = equity.length;
  for (let i = 0; i < n; i++) {
    const v = equity[i];
    const t = time[i] + barMs;
    if (v >= peak) {
      if (below) {
        if (t - peakTime > duration) duration = t - peakTime;
        below = false;
      }
      peak = v;
      peakTime = t;
    } else {
      below = true;
      const fall = peak - v;
      if (fall > amount) amount = fall;
      if (peak > 0 && fall / peak > pct) pct = fall / peak;
    }
  }
  if (below) {
    const end = time[n - 1] + barMs;
    if (end - peakTime > duration) duration = end - peakTime;
  }
  return { maxDrawdownPct: pct * 100, maxDrawdownAmount: amount, maxDrawdownDurationMs: duration };
}

/**
 * Per-bar simple returns of the curve that starts at `initial`. After a ruin (a value <= 0) there is
 * nothing left to earn a return on, and those returns count as 0.
 */
function barReturns(equity: Float64Array, initial: number): Float64Array {
  const n = equity.length;
  const r = new Float64Array(n);
  let prev = initial;
  for (let i = 0; i < n; i++) {
    const v = equity[i];
    r[i] = prev > 0 ? v / prev - 1 : 0;
    prev = v;
  }
  return r;
}

/**
 * Share of bars during which a position was open at any moment, entry and exit bars included (the
 * convention of Backtesting.py), as a %. A reversal shares its bar between the two trades and counts
 * once. Expects trades in entry order, as the engine emits them.
 */
function exposurePct(trades: readonly Trade[], bars: number): number {
  let covered = 0;
  let last = -1;
  for (const t of trades) {
    const from = Math.max(t.entryIndex, last + 1);
    if (t.exitIndex >= from) covered += t.exitIndex - from + 1;
    if (t.exitIndex > last) last = t.exitIndex;
  }
  return bars > 0 ? (covered / bars) * 100 : 0;
}

/**
 * All metrics of `BacktestMetrics` (see there for each definition) for one run.
 *
 * @param candles the bars the run covered
 * @param trades the run's closed trades, in entry order, with indices into `candles`
 * @param equity equity at each bar's close, as long as the candles
 * @param config the run's configuration (initial capital, costs, periods per year)
 * @throws RangeError when there are no bars or the equity is not as long as the candles
 */
export function computeMetrics(
  candles: Candles,
  trades: readonly Trade[],
  equity: Float64Array,
  config: BacktestConfig,
): BacktestMetrics {
  const { time } = candles;
  const n = time.length;
  if (n === 0) throw new RangeError('computeMetrics needs at least one bar');
  if (equity.length !== n) {
    throw new RangeError(`computeMetrics: equity has ${equity.length} values for ${n} bars`);
  }
  const initial = config.initialCapital;
  const barMs = barDurationMs(time, config.periodsPerYear);
  const startTime = time[0];
  const endTime = time[n - 1] + barMs;
  const finalEquity = equity[n - 1];

  const growth = finalEquity / initial;
  const years = (endTime - startTime) / YEAR_MS;
  const cagrPct = growth > 0 ? Math.expm1(Math.log(growth) / years) * 100 : -100;
  const curve = drawdowns(time, equity, initial, barMs);
  const returns = barReturns(equity, initial);

  const count = trades.length;
  let grossProfit = 0;
  let grossLoss = 0;
  let wins = 0;
  let fees = 0;
  let pnlSum = 0;
  let best = -Infinity;
  let worst = Infinity;
  const tradeReturns = new Float64Array(count);
  const durations = new Float64Array(count);
  for (let k = 0; k < count; k++) {
    const t = trades[k];
    if (t.pnl > 0) {
      grossProfit += t.pnl;
      wins++;
    } else if (t.pnl < 0) {
      grossLoss -= t.pnl;
    }
    pnlSum += t.pnl;
    fees += t.fees;
    tradeReturns[k] = t.returnPct;
    if (t.returnPct > best) best = t.returnPct;
    if (t.returnPct < worst) worst = t.returnPct;
    durations[k] = t.exitTime - t.entryTime;
  }
  let sqn: number | null = null;
  if (count >= 2) {
    const sd = stdev(tradeReturns);
    if (sd > 0) sqn = (Math.sqrt(Math.min(count, 100)) * mean(tradeReturns)) / sd;
  }
  const hasTrades = count > 0;

  return {
    startTime,
    endTime,
    bars: n,
    initialCapital: initial,
    finalEquity,
    totalReturnPct: (growth - 1) * 100,
    cagrPct,
    maxDrawdownPct: curve.maxDrawdownPct,
    maxDrawdownAmount: curve.maxDrawdownAmount,
    maxDrawdownDurationMs: curve.maxDrawdownDurationMs,
    sharpe: sharpeRatio(returns, config.periodsPerYear),
    sortino: sortinoRatio(returns, config.periodsPerYear),
    calmar: curve.maxDrawdownPct > 0 ? cagrPct / curve.maxDrawdownPct : null,
    sqn,
    trades: count,
    winRatePct: hasTrades ? (wins / count) * 100 : null,
    profitFactor: grossLoss > 0 ? grossProfit / grossLoss : null,
    expectancy: hasTrades ? pnlSum / count : null,
    exposurePct: exposurePct(trades, n),
    avgTradeDurationMs: hasTrades ? mean(durations) : null,
    medianTradeDurationMs: hasTrades ? quantile(durations.sort(), 0.5) : null,
    bestTradePct: hasTrades ? best * 100 : null,
    worstTradePct: hasTrades ? worst * 100 : null,
    feesPaid: fees,
    buyAndHoldReturnPct: buyAndHoldReturnPct(candles, config.feeRate, config.slippage),
  };
}
