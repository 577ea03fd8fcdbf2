/**
 * Fixed-fractional position sizing: how many units to buy (or sell short) so that hitting the stop costs a
 * chosen share of the account, fees included.
 *
 * Sizing on the price distance alone understates the loss: with a tight stop the round-trip fees are a
 * large part of it (a 0.5 % stop with 0.1 % fees per side loses 0.7 %, 40 % more than planned). Here the
 * quantity is solved so that the price loss plus the entry fee plus the exit fee at the stop equals the
 * risk budget exactly. Alongside: the ATR-based size for comparison, reward-to-risk before and after
 * fees, the fee breakeven and the Kelly fraction when a win rate and payoff are known.
 */

export interface PositionSizeInput {
  /** Portfolio value in quote currency. */
  account: number;
  /** % of the account risked, e.g. 2. */
  riskPct: number;
  entry: number;
  stop: number;
  takeProfit?: number;
  side: 'long' | 'short';
  /** Per side, as a fraction (0.001 = 0.1 %), charged on the entry and the exit notional. */
  feeRate: number;
  /** ATR of the chosen timeframe, when known. */
  atr?: number;
  /** Stop distance in ATRs for the volatility-adjusted size, default 2. */
  atrStopMultiple?: number;
  /** 0..1; with payoffRatio enables Kelly. */
  winRate?: number;
  /** Average win / average loss. */
  payoffRatio?: number;
}

export interface PositionSize {
  /** account * riskPct / 100 */
  riskAmount: number;
  /** |entry - stop| */
  stopDistance: number;
  /** stopDistance as a % of entry. */
  stopDistancePct: number;
  /** Units such that the loss at the stop including entry and exit fees equals riskAmount: riskAmount / (stopDistance + feeRate * (entry + stop)); 0 when the stop is on the wrong side. */
  quantity: number;
  /** quantity * entry */
  positionValue: number;
  positionPctOfAccount: number;
  /** quantity * stopDistance + the fees at entry and at the stop exit (= riskAmount unless the stop is on the wrong side). */
  maxLoss: number;
  fees: { entry: number; exitAtStop: number; exitAtTarget: number | null };
  /** Reward over risk per unit before fees, (target move in the trade's direction) / stopDistance; negative when the target is on the wrong side; null without takeProfit or with the stop on the wrong side. */
  riskReward: number | null;
  /** (reward - round-trip fees to the target) / (risk + round-trip fees to the stop), per unit; null like riskReward. */
  riskRewardAfterFees: number | null;
  /** Exit price at which the trade's round-trip fees are covered. */
  breakevenPrice: number;
  /** Size if the stop were atrStopMultiple * ATR away (fees included likewise); null without a positive ATR. */
  volatilityAdjusted: { atr: number; stopDistance: number; quantity: number; positionValue: number } | null;
  /** stopDistance / atr; null without a positive ATR. */
  stopInAtr: number | null;
  /**
   * Kelly for a trade with a stop: f = W - (1 - W) / R (clipped at 0) is the share of the account to
   * RISK, since R is the average win over the average loss and the loss is taken at the stop. So the
   * Kelly size risks f * account at the stop, fees included, exactly like `quantity` risks riskAmount
   * (not f * account of position value, which would understate it by the stop's distance). 0 for a stop
   * on the wrong side; null unless both winRate and payoffRatio are given.
   */
  kelly: {
    fraction: number;
    halfFraction: number;
    riskAmount: number;
    quantity: number;
    positionValue: number;
    halfQuantity: number;
    halfPositionValue: number;
  } | null;
  /** Long with stop >= entry, or short with stop <= entry. */
  stopOnWrongSide: boolean;
  /** takeProfit given and not beyond entry in the trade's direction. */
  targetOnWrongSide: boolean;
}

function assertPositive(label: string, value: number): void {
  if (!(value > 0 && value < Infinity))
    throw new RangeError(`${label} must be a finite number > 0, got ${value}`);
}

function validate(input: PositionSizeInput): void {
  const { account, riskPct, entry, stop, takeProfit, side, feeRate, atrStopMultiple, winRate, payoffRatio } =
    input;
  assertPositive('account', account);
  assertPositive('entry', entry);
  assertPositive('stop', stop);
  if (takeProfit !== undefined) assertPositive('takeProfit', takeProfit);
  if (!(riskPct > 0 && riskPct <= 100)) throw new RangeError(`riskPct must be in (0, 100], got ${riskPct}`);
  if (!(feeRate >= 0 && feeRate < 0.1)) throw new RangeError(`feeRate must be in [0, 0.1), got ${feeRate}`);
  if (side !== 'long' && side !== 'short')
    throw new RangeError(`side must be 'long' or 'short', got ${String(side)}`);
  if (atrStopMultiple !== undefined) assertPositive('atrStopMultiple', atrStopMultiple);
  if (winRate !== undefined && !(winRate >= 0 && winRate <= 1)) {
    throw new RangeError(`winRate must be in [0, 1], got ${winRate}`);
  }
  if (payoffRatio !== undefined) assertPositive('payoffRatio', payoffRatio);
}

/**
 * Units to trade so that a stop-out loses `riskPct` % of the account including fees, with the figures a
 * trader checks before placing the order.
 *
 * Per unit, a stop-out loses the price distance plus the fee on the entry notional plus the fee on the
 * exit notional at the stop price, for longs and shorts alike: |entry - stop| + feeRate * (entry + stop).
 * A stop on the wrong side of the entry (or at it) has no defined risk, so the size is 0 and
 * `stopOnWrongSide` says why; the output never holds NaN or Infinity. The size is not capped by the
 * account: a tight stop can call for a position larger than the account (leverage), which
 * `positionPctOfAccount` shows.
 *
 * @throws RangeError when account, entry, stop, takeProfit (if given), atrStopMultiple (if given) or
 *   payoffRatio (if given) is not a finite number > 0, riskPct is outside (0, 100], feeRate outside
 *   [0, 0.1), winRate outside [0, 1] or side is neither 'long' nor 'short'. A missing, zero or non-finite
 *   ATR only disables the ATR figures: a flat market can legitimately have an ATR of 0.
 */
export function sizePosition(input: PositionSizeInput): PositionSize {
  validate(input);
  const { account, riskPct, entry, stop, takeProfit, side, feeRate, atr, winRate, payoffRatio } = input;
  const atrStopMultiple = input.atrStopMultiple ?? 2;
  const long = side === 'long';
  // +1 when the trade profits from a rise, -1 from a fall: a move in the trade's favour is direction * Δprice.
  const direction = long ? 1 : -1;

  // Scaled before multiplying so an account near the largest double cannot overflow to Infinity.
  const riskAmount = account * (riskPct / 100);
  const stopDistance = Math.abs(entry - stop);
  const stopOnWrongSide = direction * (entry - stop) <= 0;
  const targetOnWrongSide = takeProfit !== undefined && direction * (takeProfit - entry) <= 0;

  const lossPerUnit = stopDistance + feeRate * (entry + stop);
  const quantity = stopOnWrongSide ? 0 : riskAmount / lossPerUnit;
  const fees = {
    entry: feeRate * quantity * entry,
    exitAtStop: feeRate * quantity * stop,
    exitAtTarget: takeProfit === undefined ? null : feeRate * quantity * takeProfit,
  };

  let riskReward: number | null = null;
  let riskRewardAfterFees: number | null = null;
  if (takeProfit !== undefined && !stopOnWrongSide) {
    const reward = direction * (takeProfit - entry);
    riskReward = reward / stopDistance;
    riskRewardAfterFees = (reward - feeRate * (entry + takeProfit)) / lossPerUnit;
  }

  // Long: sell at p with p * (1 - f) = entry * (1 + f). Short: buy back at p with p * (1 + f) = entry * (1 - f).
  const breakevenPrice = long
    ? (entry * (1 + feeRate)) / (1 - feeRate)
    : (entry * (1 - feeRate)) / (1 + feeRate);

  let volatilityAdjusted: PositionSize['volatilityAdjusted'] = null;
  let stopInAtr: number | null = null;
  if (atr !== undefined && atr > 0 && atr < Infinity) {
    // A long's stop cannot go below 0: beyond that the whole position is the loss.
    const atrStopDistance = long ? Math.min(atrStopMultiple * atr, entry) : atrStopMultiple * atr;
    const atrStop = entry - direction * atrStopDistance;
    const atrQuantity = riskAmount / (atrStopDistance + feeRate * (entry + atrStop));
    volatilityAdjusted = {
      atr,
      stopDistance: atrStopDistance,
      quantity: atrQuantity,
      positionValue: atrQuantity * entry,
    };
    stopInAtr = stopDistance / atr;
  }

  let kelly: PositionSize['kelly'] = null;
  if (winRate !== undefined && payoffRatio !== undefined) {
    const fraction = Math.max(0, winRate - (1 - winRate) / payoffRatio);
    const kellyQuantity = stopOnWrongSide ? 0 : (fraction * account) / lossPerUnit;
    kelly = {
      fraction,
      halfFraction: fraction / 2,
      riskAmount: fraction * account,
      quantity: kellyQuantity,
      positionValue: kellyQuantity * entry,
      halfQuantity: kellyQuantity / 2,
      halfPositionValue: (kellyQuantity / 2) * entry,
    };
  }

  const positionValue = quantity * entry;
  return {
    riskAmount,
    stopDistance,
    stopDistancePct: (stopDistance / entry) * 100,
    quantity,
    positionValue,
    positionPctOfAccount: (positionValue / account) * 100,
    maxLoss: quantity * stopDistance + fees.entry + fees.exitAtStop,
    fees,
    riskReward,
    riskRewardAfterFees,
    breakevenPrice,
    volatilityAdjusted,
    stopInAtr,
    kelly,
    stopOnWrongSide,
    targetOnWrongSide,
  };
}
