/** How a symbol moves against a comparison symbol over their common closed candles. */
import type { Candles } from '../candles.js';

export interface Comparison {
  /** null when either series did not move (zero variance): no correlation can be measured. */
  correlation: number | null;
  beta: number | null;
  relativeStrengthPct: number;
  commonCandles: number;
  /** Open times of the first and last candles present in both series. */
  firstTime: number;
  lastTime: number;
}

/**
 * Pearson correlation and beta of log returns, over candles whose open times match in both series
 * (both sorted ascending), and the difference of their percentage changes over the common window.
 */
export function compareSeries(a: Candles, b: Candles): Comparison | null {
  const ra: number[] = [];
  const rb: number[] = [];
  let i = 0;
  let j = 0;
  let prevA = NaN;
  let prevB = NaN;
  let firstA = NaN;
  let firstB = NaN;
  let lastA = NaN;
  let lastB = NaN;
  let common = 0;
  let firstTime = NaN;
  let lastTime = NaN;
  while (i < a.time.length && j < b.time.length) {
    const ta = a.time[i]!;
    const tb = b.time[j]!;
    if (ta < tb) i++;
    else if (tb < ta) j++;
    else {
      const ca = a.close[i]!;
      const cb = b.close[j]!;
      if (common === 0) {
        firstA = ca;
        firstB = cb;
        firstTime = ta;
      } else {
        ra.push(Math.log(ca / prevA));
        rb.push(Math.log(cb / prevB));
      }
      lastTime = ta;
      prevA = lastA = ca;
      prevB = lastB = cb;
      common++;
      i++;
      j++;
    }
  }
  if (ra.length < 20) return null;
  const m = ra.length;
  const meanA = ra.reduce((s, x) => s + x, 0) / m;
  const meanB = rb.reduce((s, x) => s + x, 0) / m;
  let cov = 0;
  let varA = 0;
  let varB = 0;
  for (let k = 0; k < m; k++) {
    const da = ra[k]! - meanA;
    const db = rb[k]! - meanB;
    cov += da * db;
    varA += da * da;
    varB += db * db;
  }
  return {
    correlation: varA > 0 && varB > 0 ? cov / Math.sqrt(varA * varB) : null,
    beta: varB > 0 ? cov / varB : null,
    relativeStrengthPct: ((lastA - firstA) / firstA - (lastB - firstB) / firstB) * 100,
    commonCandles: common,
    firstTime,
    lastTime,
  };
}
