/**
 * Risk maths: pure functions over columns of closes and returns, no I/O, no clock, no state.
 *
 * Conventions: returns are simple returns per period of the input timeframe, oldest first; VaR and CVaR
 * are positive loss fractions of value (0.031 = 3.1 %) per period; drawdowns are positive fractions of the
 * peak; annualised figures scale by `periodsPerYear` (8760 hourly, 365 daily: crypto never closes).
 * Invalid arguments throw `RangeError`; undefined results (a series that never moves) are `null`.
 */
export {
  correlation,
  covariance,
  mean,
  normalCdf,
  normalPdf,
  normalQuantile,
  quantile,
  stdev,
  variance,
} from './stats.js';
export { alignCloses, simpleReturns, type AlignedCloses, type TimedCloses } from './returns.js';
export {
  historicalCvar,
  historicalCvarSorted,
  historicalVar,
  historicalVarSorted,
  MIN_VAR_OBSERVATIONS,
  parametricCvar,
  parametricVar,
  sortedCopy,
} from './var.js';
export {
  annualizedVolatility,
  maxDrawdown,
  periodRiskFree,
  sharpeRatio,
  sortinoRatio,
  type Drawdown,
} from './performance.js';
export { portfolioRisk, type PortfolioRisk, type PortfolioRiskInput, type TailRisk } from './portfolio.js';
export { sizePosition, type PositionSize, type PositionSizeInput } from './position-size.js';
