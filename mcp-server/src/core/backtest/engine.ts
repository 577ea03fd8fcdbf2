/**
 * The backtest engine: one pass over the bars turns per-bar signals into trades filled the way an
 * exchange would fill them (freqtrade-like), and marks equity to market at every close.
 *
 * What happens in bar i, in this order:
 *  1. At the open the signals of bar i-1 act (bar i-1 has closed, bar i is still unknown). A position
 *     whose stop or target the open has gapped through leaves at the open. Otherwise it leaves at the
 *     open on its exit signal, or on a valid entry signal of the other side, which then opens that side
 *     at the same open (a reversal). When flat, a valid entry signal opens a position at the open.
 *  2. Inside the bar the position's stop and target are checked against the bar's low and high, from
 *     the entry bar on (all of the entry bar lies after its open). When both lie inside the bar, the
 *     order of the touches is unknown and the stop is assumed first: the pessimistic reading.
 *  3. At the close equity is marked to market.
 * A signal on the last bar therefore never acts, and a position still open after the last bar leaves at
 * its close (`end_of_data`).
 * Trade times are bar open times: an exit inside a bar is stamped with the bar's open time (when inside
 * the bar is unknown), an end-of-data exit with the last bar's close time.
 *
 * Signals per bar s: a long entry is valid when enterLong[s] is set and exitLong[s] is not, a short
 * entry likewise (shorts only when allowed), and an entry of one side is dropped when the other side's
 * entry is valid too (conflicting signals do nothing). An entry signal of the side already held keeps
 * the position ("open or keep").
 *
 * Fills. Market orders (signal entries and exits, gapped stops, the end-of-data exit) fill at the price
 * moved against the trader by `slippage`: a long buys at open * (1 + slippage) and sells at
 * price * (1 - slippage), a short the mirror image. Stops are stop-market orders: they fill at the stop
 * level, or at the open when the bar opened beyond it, with slippage. Targets are resting limit orders:
 * they fill at the target, or at the open when the bar opened beyond it (the price actually available),
 * without slippage. Fees are `feeRate` times the notional of each fill.
 *
 * Stops and targets are fixed at entry: the strategy's `stopPrice` / `targetPrice` at the signal bar when
 * finite, else `stopLossPct` / `takeProfitPct` away from the entry fill, else none. An entry whose stop
 * or target the entry bar's open has already crossed is not taken: the setup was invalidated before it
 * could be filled.
 *
 * Sizing, from the equity at entry (all cash, since there is one position at a time), never leveraged
 * (notional + entry fee <= equity):
 *  - fixed_fraction f: notional + entry fee = f * equity;
 *  - risk_per_trade r: the quantity whose loss at the stop, with the stop fill's slippage and both fees,
 *    is r % of equity (see `entryQuantity`), capped at the whole equity. Without a stop the trade is
 *    sized as if the stop were 100 % away, i.e. notional + entry fee = r % of equity.
 *
 * Accounting. Cash pays for a long's notional and entry fee and receives the exit proceeds less the exit
 * fee. A short posts its notional (plus the entry fee) as margin and gets back that notional plus its
 * pnl less the exit fee, so equity = cash + entry notional + unrealised pnl. Marking to market ignores
 * the costs of a future exit; the last value, after the end-of-data exit, equals the initial capital plus
 * the sum of the trades' pnl.
 */
import { sliceCandles, type Candles } from '../candles.js';
import { barDurationMs, computeMetrics } from './metrics.js';
import type { BacktestConfig, BacktestResult, ExitReason, Signals, Sizing, Trade } from './types.js';

/** Defaults: 0.1 % fees and 0.05 % slippage per side, all-in long-only positions, 10,000 of capital, hourly bars. */
export const DEFAULT_BACKTEST_CONFIG: Readonly<BacktestConfig> = Object.freeze({
  initialCapital: 10_000,
  feeRate: 0.001,
  slippage: 0.0005,
  sizing: Object.freeze({ mode: 'fixed_fraction', fraction: 1 } as const),
  allowShort: false,
  periodsPerYear: 8760,
});

/** Trades and equity of a run, without the metrics. */
export interface Simulation {
  /** Closed trades in entry order, indices into the candles. */
  trades: Trade[];
  /** Equity at each bar's close, as long as the candles. */
  equity: Float64Array;
}

function assertConfig(config: BacktestConfig): void {
  const { initialCapital, feeRate, slippage, sizing, stopLossPct, takeProfitPct, periodsPerYear } = config;
  if (!(initialCapital > 0 && initialCapital < Infinity)) {
    throw new RangeError(`initialCapital must be a finite number > 0, got ${initialCapital}`);
  }
  if (!(feeRate >= 0 && feeRate < 1)) throw new RangeError(`feeRate must be in [0, 1), got ${feeRate}`);
  if (!(slippage >= 0 && slippage < 1)) throw new RangeError(`slippage must be in [0, 1), got ${slippage}`);
  if (sizing.mode === 'fixed_fraction') {
    if (!(sizing.fraction > 0 && sizing.fraction <= 1)) {
      throw new RangeError(`sizing fraction must be in (0, 1], got ${sizing.fraction}`);
    }
  } else if (sizing.mode === 'risk_per_trade') {
    if (!(sizing.riskPct > 0 && sizing.riskPct <= 100)) {
      throw new RangeError(`sizing riskPct must be in (0, 100], got ${sizing.riskPct}`);
    }
  } else {
    throw new RangeError(`unknown sizing mode ${(sizing as { mode: unknown }).mode}`);
  }
  if (stopLossPct !== undefined && !(stopLossPct > 0 && stopLossPct < Infinity)) {
    throw new RangeError(`stopLossPct must be a finite number > 0, got ${stopLossPct}`);
  }
  if (takeProfitPct !== undefined && !(takeProfitPct > 0 && takeProfitPct < Infinity)) {
    throw new RangeError(`takeProfitPct must be a finite number > 0, got ${takeProfitPct}`);
  }
  if (!(periodsPerYear > 0 && periodsPerYear < Infinity)) {
    throw new RangeError(`periodsPerYear must be a finite number > 0, got ${periodsPerYear}`);
  }
}

function assertSignals(signals: Signals, n: number): void {
  const columns: [string, ArrayLike<number> | undefined][] = [
    ['enterLong', signals.enterLong],
    ['exitLong', signals.exitLong],
    ['enterShort', signals.enterShort],
    ['exitShort', signals.exitShort],
    ['stopPrice', signals.stopPrice],
    ['targetPrice', signals.targetPrice],
  ];
  for (const [name, column] of columns) {
    if (column !== undefined && column.length !== n) {
      throw new RangeError(`signals.${name} has ${column.length} values for ${n} candles`);
    }
  }
}

/**
 * Units to buy or sell short at `fill`.
 *
 * risk_per_trade solves q * (|fill - stopFill| + feeRate * (fill + stopFill)) = risk, the loss of an
 * exit at the stop including the stop's slippage (in `stopFill`) and both fees, the same equation as
 * `risk/position-size`; a gap through the stop can still lose more. Without a stop (stopFill NaN) the
 * loss is the whole notional plus the entry fee.
 */
export function entryQuantity(
  sizing: Sizing,
  equity: number,
  fill: number,
  stopFill: number,
  feeRate: number,
): number {
  const allIn = equity / (fill * (1 + feeRate));
  if (sizing.mode === 'fixed_fraction') return sizing.fraction * allIn;
  const risk = (equity * sizing.riskPct) / 100;
  const lossPerUnit =
    stopFill === stopFill ? Math.abs(fill - stopFill) + feeRate * (fill + stopFill) : fill * (1 + feeRate);
  return Math.min(risk / lossPerUnit, allIn);
}

/** The one open position and the cash beside it; a class so the hot loop sees fixed-shape fields. */
class Book {
  cash: number;
  /** 1 long, -1 short, 0 flat. */
  side = 0;
  quantity = 0;
  entryIndex = 0;
  entryTime = 0;
  entryPrice = 0;
  entryFee = 0;
  /** NaN when none: every comparison with NaN is false, so no branch is needed. */
  stop = NaN;
  target = NaN;

  constructor(
    cash: number,
    readonly trades: Trade[],
    private readonly feeRate: number,
  ) {
    this.cash = cash;
  }

  open(
    side: number,
    quantity: number,
    index: number,
    time: number,
    fill: number,
    stop: number,
    target: number,
  ) {
    const notional = quantity * fill;
    const fee = this.feeRate * notional;
    this.cash -= notional + fee;
    this.side = side;
    this.quantity = quantity;
    this.entryIndex = index;
    this.entryTime = time;
    this.entryPrice = fill;
    this.entryFee = fee;
    this.stop = stop;
    this.target = target;
  }

  close(index: number, time: number, fill: number, reason: ExitReason): void {
    const { quantity, entryPrice, entryFee, side } = this;
    const exitFee = this.feeRate * quantity * fill;
    const pnl = side * quantity * (fill - entryPrice) - entryFee - exitFee;
    // Back come the long's proceeds, or the short's margin and pnl: notional + entry fee + pnl either way.
    this.cash += quantity * entryPrice + entryFee + pnl;
    this.trades.push({
      side: side === 1 ? 'long' : 'short',
      entryIndex: this.entryIndex,
      entryTime: this.entryTime,
      entryPrice,
      exitIndex: index,
      exitTime: time,
      exitPrice: fill,
      exitReason: reason,
      quantity,
      fees: entryFee + exitFee,
      pnl,
      returnPct: pnl / (quantity * entryPrice),
      bars: index - this.entryIndex,
      stopPrice: this.stop === this.stop ? this.stop : null,
      targetPrice: this.target === this.target ? this.target : null,
    });
    this.side = 0;
  }

  /** Cash plus the position valued at `price`: long q * price, short q * (2 * entry - price). */
  value(price: number): number {
    const { side, quantity } = this;
    if (side === 0) return this.cash;
    return side === 1 ? this.cash + quantity * price : this.cash + quantity * (2 * this.entryPrice - price);
  }
}

/**
 * Trades and equity of `signals` over `candles`, without metrics (see the module comment for the rules).
 *
 * `start` makes the bars before it history only: their signals are known, but the first fill can happen
 * at bar `start`'s open (acting on the signal of bar start - 1) and equity stays at the initial capital
 * before it. Walk-forward uses it to give a test window the indicator warm-up of the bars before it
 * while trading inside the window only; the loop starts at `start`, so history costs nothing.
 *
 * @throws RangeError on an invalid config or signal columns not as long as the candles
 */
export function simulate(candles: Candles, signals: Signals, config: BacktestConfig, start = 0): Simulation {
  assertConfig(config);
  const { time, open, high, low, close } = candles;
  const n = time.length;
  assertSignals(signals, n);
  if (!(Number.isInteger(start) && start >= 0)) {
    throw new RangeError(`start must be an integer >= 0, got ${start}`);
  }
  const { feeRate, slippage, sizing, stopLossPct, takeProfitPct } = config;
  const { enterLong, exitLong, stopPrice, targetPrice } = signals;
  const shorts = config.allowShort && signals.enterShort !== undefined;
  // Only read when `shorts`; the fallback merely spares a non-null check in the loop.
  const enterShort = signals.enterShort ?? enterLong;
  const exitShort = signals.exitShort;
  const buySlip = 1 + slippage;
  const sellSlip = 1 - slippage;

  const trades: Trade[] = [];
  const book = new Book(config.initialCapital, trades, feeRate);
  const equity = new Float64Array(n);
  // Nothing can be held before the first bar that can fill (bar 1: bar 0 has no signal before it).
  equity.fill(config.initialCapital, 0, Math.min(Math.max(start, 1), n));

  for (let i = Math.max(start, 1); i < n; i++) {
    const o = open[i];
    const s = i - 1;
    const longEntry = enterLong[s] !== 0 && exitLong[s] === 0;
    const shortEntry = shorts && enterShort[s] !== 0 && (exitShort === undefined || exitShort[s] === 0);
    const goLong = longEntry && !shortEntry;
    const goShort = shortEntry && !longEntry;

    // 1. At the open: gaps through the stop or target, then exits and reversals on signal.
    const side = book.side;
    if (side === 1) {
      if (o <= book.stop) book.close(i, time[i], o * sellSlip, 'stop_loss');
      else if (o >= book.target) book.close(i, time[i], o, 'take_profit');
      else if (exitLong[s] !== 0 || goShort) book.close(i, time[i], o * sellSlip, 'signal');
    } else if (side === -1) {
      if (o >= book.stop) book.close(i, time[i], o * buySlip, 'stop_loss');
      else if (o <= book.target) book.close(i, time[i], o, 'take_profit');
      else if ((exitShort !== undefined && exitShort[s] !== 0) || goLong) {
        book.close(i, time[i], o * buySlip, 'signal');
      }
    }
    if (book.side === 0 && (goLong || goShort)) {
      const dir = goLong ? 1 : -1;
      const fill = goLong ? o * buySlip : o * sellSlip;
      const proposedStop = stopPrice === undefined ? NaN : stopPrice[s];
      const proposedTarget = targetPrice === undefined ? NaN : targetPrice[s];
      const stop = Number.isFinite(proposedStop)
        ? proposedStop
        : stopLossPct === undefined
          ? NaN
          : fill * (1 - dir * stopLossPct);
      const target = Number.isFinite(proposedTarget)
        ? proposedTarget
        : takeProfitPct === undefined
          ? NaN
          : fill * (1 + dir * takeProfitPct);
      // A stop or target the open has already crossed (NaN compares false: no level, no objection).
      const crossed = goLong ? o <= stop || o >= target : o >= stop || o <= target;
      if (!crossed) {
        const stopFill = goLong ? stop * sellSlip : stop * buySlip;
        const quantity = entryQuantity(sizing, book.cash, fill, stopFill, feeRate);
        if (quantity > 0 && quantity < Infinity) book.open(dir, quantity, i, time[i], fill, stop, target);
      }
    }

    // 2. Inside the bar: the stop first when both levels lie in the bar's range.
    if (book.side === 1) {
      if (low[i] <= book.stop) book.close(i, time[i], book.stop * sellSlip, 'stop_loss');
      else if (high[i] >= book.target) book.close(i, time[i], book.target, 'take_profit');
    } else if (book.side === -1) {
      if (high[i] >= book.stop) book.close(i, time[i], book.stop * buySlip, 'stop_loss');
      else if (low[i] <= book.target) book.close(i, time[i], book.target, 'take_profit');
    }

    // 3. At the close.
    equity[i] = book.value(close[i]);
  }

  if (book.side !== 0) {
    const last = n - 1;
    const fill = book.side === 1 ? close[last] * sellSlip : close[last] * buySlip;
    book.close(last, time[last] + barDurationMs(time, config.periodsPerYear), fill, 'end_of_data');
    equity[last] = book.cash;
  }
  return { trades, equity };
}

/**
 * Backtest `signals` over `candles`: trades with realistic fills (see the module comment), equity at
 * every close and the full metric set.
 *
 * @param candles closed candles, oldest first; at least one
 * @param signals per-bar signals as long as the candles, computed from closed bars only
 * @param config capital, costs, sizing, stops (`DEFAULT_BACKTEST_CONFIG` for the usual values)
 * @throws RangeError on an invalid config, no candles, or signal columns not as long as the candles
 */
export function runBacktest(candles: Candles, signals: Signals, config: BacktestConfig): BacktestResult {
  const { trades, equity } = simulate(candles, signals, config);
  return { trades, equity, metrics: computeMetrics(candles, trades, equity, config) };
}

/**
 * `runBacktest` trading from bar `start` on: the bars before it are history (the indicators' warm-up,
 * as they would have it live), nothing is traded there. Equity and metrics cover [start, n); trades keep
 * their indices into `candles`.
 *
 * @param signals computed over all of `candles`, history included
 */
export function runBacktestFrom(
  candles: Candles,
  signals: Signals,
  config: BacktestConfig,
  start: number,
): BacktestResult {
  if (start === 0) return runBacktest(candles, signals, config);
  const n = candles.time.length;
  const { trades, equity } = simulate(candles, signals, config, start);
  const traded = equity.subarray(start, n);
  const shifted = trades.map((t) => ({
    ...t,
    entryIndex: t.entryIndex - start,
    exitIndex: t.exitIndex - start,
  }));
  return {
    trades,
    equity: traded,
    metrics: computeMetrics(sliceCandles(candles, start, n), shifted, traded, config),
  };
}
