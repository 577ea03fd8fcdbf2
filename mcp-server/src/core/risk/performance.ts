/**
 * Drawdown, volatility and risk-adjusted return of a value or return series.
 *
 * Ratios are annualised from per-period returns by sqrt(periodsPerYear) (returns assumed independent
 * across periods). Crypto trades every hour of every day, so a year is 8760 hourly or 365 daily periods,
 * not the 252 trading days of equities.
 */
import { mean, stdev } from './stats.js';

/** Largest peak-to-trough fall of a value series. */
export interface Drawdown {
  /** Fall from the peak as a positive fraction of the peak (0.25 = -25 %); 0 when it never falls. */
  drawdown: number;
  /** Index of the peak the fall starts from (0 when there is no fall, -1 for an empty series). */
  peakIndex: number;
  /** Index of the lowest point after that peak (0 when there is no fall, -1 for an empty series). */
  troughIndex: number;
}

/**
 * Maximum drawdown: the largest fall from a running peak to a later value, as a fraction of that peak.
 * Of equal falls the first is reported. Peaks that are not positive are skipped (a fraction of them has
 * no meaning).
 *
 * @param values values (prices, portfolio value), oldest first
 */
export function maxDrawdown(values: ArrayLike<number>): Drawdown {
  const n = values.length;
  if (n === 0) return { drawdown: 0, peakIndex: -1, troughIndex: -1 };
  let peak = values[0];
  let peakAt = 0;
  const worst: Drawdown = { drawdown: 0, peakIndex: 0, troughIndex: 0 };
  for (let i = 1; i < n; i++) {
    const v = values[i];
    if (v > peak) {
      peak = v;
      peakAt = i;
    } else if (peak > 0) {
      const fall = (peak - v) / peak;
      if (fall > worst.drawdown) {
        worst.drawdown = fall;
        worst.peakIndex = peakAt;
        worst.troughIndex = i;
      }
    }
  }
  return worst;
}

function assertPeriodsPerYear(periodsPerYear: number): void {
  if (!(periodsPerYear > 0 && periodsPerYear < Infinity)) {
    throw new RangeError(`periodsPerYear must be a finite number > 0, got ${periodsPerYear}`);
  }
}

/**
 * The per-period rate that compounds to `riskFreeAnnual` over a year: (1 + rf)^(1 / periodsPerYear) - 1,
 * computed as expm1(log1p(rf) / periodsPerYear) so a 4 % rate split into 8760 hours keeps its digits.
 *
 * @throws RangeError when periodsPerYear is not a finite number > 0 or riskFreeAnnual not finite and > -1
 */
export function periodRiskFree(riskFreeAnnual: number, periodsPerYear: number): number {
  assertPeriodsPerYear(periodsPerYear);
  if (!(riskFreeAnnual > -1 && riskFreeAnnual < Infinity)) {
    throw new RangeError(`riskFreeAnnual must be a finite number > -1, got ${riskFreeAnnual}`);
  }
  return Math.expm1(Math.log1p(riskFreeAnnual) / periodsPerYear);
}

/**
 * Annualised volatility: sample standard deviation of the returns times sqrt(periodsPerYear).
 * NaN for fewer than 2 returns.
 */
export function annualizedVolatility(returns: ArrayLike<number>, periodsPerYear: number): number {
  assertPeriodsPerYear(periodsPerYear);
  return stdev(returns) * Math.sqrt(periodsPerYear);
}

/**
 * Annualised Sharpe ratio: (mean(r) - rf) / stdev(r) * sqrt(periodsPerYear), with rf the per-period
 * risk-free rate (`periodRiskFree`). null for fewer than 2 returns or when the returns do not vary.
 *
 * @param returns simple returns per period
 * @param periodsPerYear 8760 for hourly returns, 365 for daily
 * @param riskFreeAnnual annual risk-free rate as a fraction (0.04 = 4 %), default 0
 */
export function sharpeRatio(
  returns: ArrayLike<number>,
  periodsPerYear: number,
  riskFreeAnnual = 0,
): number | null {
  const rf = periodRiskFree(riskFreeAnnual, periodsPerYear);
  if (returns.length < 2) return null;
  const sd = stdev(returns);
  if (sd === 0) return null;
  return ((mean(returns) - rf) / sd) * Math.sqrt(periodsPerYear);
}

/**
 * Annualised Sortino ratio: (mean(r) - rf) / DD * sqrt(periodsPerYear), with the target downside
 * deviation DD = sqrt(mean(min(0, r - rf)²)) taken over ALL returns (periods above the target count as
 * 0, not dropped, as in Sortino and Price's definition; dropping them would overstate DD). null when there
 * are no returns or none falls below the target.
 *
 * @param returns simple returns per period
 * @param periodsPerYear 8760 for hourly returns, 365 for daily
 * @param riskFreeAnnual annual risk-free rate as a fraction, the target return, default 0
 */
export function sortinoRatio(
  returns: ArrayLike<number>,
  periodsPerYear: number,
  riskFreeAnnual = 0,
): number | null {
  const rf = periodRiskFree(riskFreeAnnual, periodsPerYear);
  const n = returns.length;
  if (n === 0) return null;
  let squares = 0;
  for (let i = 0; i < n; i++) {
    const shortfall = returns[i] - rf;
    if (shortfall < 0) squares += shortfall * shortfall;
  }
  if (squares === 0) return null;
  return ((mean(returns) - rf) / Math.sqrt(squares / n)) * Math.sqrt(periodsPerYear);
}
