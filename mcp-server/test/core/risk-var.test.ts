/** Historical and Gaussian VaR / CVaR: hand-computed tails, scipy values, and BTC's real hourly returns. */
import { describe, expect, it } from 'vitest';
import {
  annualizedVolatility,
  historicalCvar,
  historicalCvarSorted,
  historicalVar,
  historicalVarSorted,
  mean,
  MIN_VAR_OBSERVATIONS,
  parametricCvar,
  parametricVar,
  portfolioRisk,
  simpleReturns,
  sortedCopy,
  stdev,
} from '../../src/core/risk/index.js';
import { fixturePath, loadCandlesCsv } from '../helpers/csv.js';

function expectClose(actual: number, expected: number, tolerance = 1e-12): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(expected)));
}

// 20 returns, shuffled: sorted they are -8 %, -5 %, -3 %, then 17 x +1 %.
const twenty = [0.01, 0.01, -0.03, 0.01, 0.01, 0.01, -0.08, 0.01, 0.01, 0.01];
twenty.push(0.01, 0.01, 0.01, -0.05, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01);

describe('historical VaR and CVaR', () => {
  it('reads the loss at the type-7 quantile of a small sample', () => {
    expect(twenty).toHaveLength(20);
    // p = 0.05: h = 19 * 0.05 = 0.95 -> q = -0.08 + 0.95 * (-0.05 + 0.08) = -0.0515 (numpy: -0.051499999999999976).
    expectClose(historicalVar(twenty, 0.95), 0.0515);
    // p = 0.01: h = 0.19 -> q = -0.08 + 0.19 * 0.03 = -0.0743.
    expectClose(historicalVar(twenty, 0.99), 0.0743);
    // Only -8 % lies at or below either quantile, so both expected shortfalls are 8 %.
    expectClose(historicalCvar(twenty, 0.95), 0.08);
    expectClose(historicalCvar(twenty, 0.99), 0.08);
  });

  it('averages the whole tail for CVaR', () => {
    // r_i = (i - 50) / 1000, i = 0..99: p = 0.05 -> h = 99 * 0.05 = 4.95 -> q = -0.05 + 4.95 * 0.001 = -0.04505.
    // At or below: -0.050 -0.049 -0.048 -0.047 -0.046, mean -0.048.
    const r = Array.from({ length: 100 }, (_, i) => (i - 50) / 1000);
    expectClose(historicalVar(r, 0.95), 0.04505);
    expectClose(historicalCvar(r, 0.95), 0.048);
    expect(historicalCvar(r, 0.95)).toBeGreaterThanOrEqual(historicalVar(r, 0.95));
  });

  it('counts returns tied with the quantile as part of the tail', () => {
    // 21 returns: -10 %, 3 x -4 %, 17 x +2 %. p = 0.05: h = 20 * 0.05 = 1 -> q = -4 % exactly.
    // At or below -4 %: -0.10 -0.04 -0.04 -0.04, mean -0.22 / 4 = -0.055.
    const r = [-0.1, -0.04, -0.04, -0.04, ...new Array<number>(17).fill(0.02)];
    expectClose(historicalVar(r, 0.95), 0.04);
    expectClose(historicalCvar(r, 0.95), 0.055);
  });

  it('is floored at 0 when even the tail is a gain, and leaves its input unsorted', () => {
    const gains = [0.01, 0.02, 0.03, 0.015];
    expect(historicalVar(gains, 0.95)).toBe(0);
    expect(historicalCvar(gains, 0.95)).toBe(0);
    expect(gains).toEqual([0.01, 0.02, 0.03, 0.015]);
  });

  it('gives the same answer from pre-sorted returns', () => {
    const sorted = sortedCopy(twenty);
    expect(Array.from(sorted.slice(0, 4))).toEqual([-0.08, -0.05, -0.03, 0.01]);
    expect(historicalVarSorted(sorted, 0.95)).toBe(historicalVar(twenty, 0.95));
    expect(historicalCvarSorted(sorted, 0.99)).toBe(historicalCvar(twenty, 0.99));
  });

  it('rejects confidences outside (0, 1) and empty returns', () => {
    expect(() => historicalVar(twenty, 0)).toThrow(RangeError);
    expect(() => historicalVar(twenty, 1)).toThrow(RangeError);
    expect(() => historicalCvar(twenty, 95)).toThrow(RangeError);
    expect(() => historicalVar([], 0.95)).toThrow(RangeError);
    expect(MIN_VAR_OBSERVATIONS).toBe(30);
  });
});

describe('parametric VaR and CVaR', () => {
  it('match the normal closed forms (scipy references)', () => {
    // 1.6448536269514722 * 0.02 - 0.001; 0.02 * φ(z) / 0.05 - 0.001 with φ(z) = 0.10313564037537139.
    expectClose(parametricVar(0.001, 0.02, 0.95), 0.031897072539029445);
    expectClose(parametricCvar(0.001, 0.02, 0.95), 0.04025425615014855);
    expectClose(parametricVar(0.001, 0.02, 0.99), 0.04552695748081682);
    expectClose(parametricCvar(0.001, 0.02, 0.99), 0.05230428440691616);
  });

  it('are floored at 0 when the mean outweighs the spread', () => {
    expect(parametricVar(0.1, 0.01, 0.95)).toBe(0);
    expect(parametricCvar(0.1, 0.01, 0.99)).toBe(0);
    expect(parametricVar(0, 0, 0.95)).toBe(0);
  });

  it('rejects confidences outside (0, 1)', () => {
    expect(() => parametricVar(0, 0.01, 1)).toThrow(RangeError);
    expect(() => parametricCvar(0, 0.01, -0.5)).toThrow(RangeError);
  });
});

describe('on 20,000 real BTCUSDT hourly candles', () => {
  const candles = loadCandlesCsv(fixturePath('BTCUSDT-1h-20k.csv.gz'));
  const returns = simpleReturns(candles.close);

  it('hourly VaR95 lies between 0.3 % and 3 % and annualised volatility between 20 % and 150 %', () => {
    expect(returns.length).toBe(candles.close.length - 1);
    const var95 = historicalVar(returns, 0.95);
    expect(var95).toBeGreaterThan(0.003);
    expect(var95).toBeLessThan(0.03);
    const volatility = annualizedVolatility(returns, 8760);
    expect(volatility).toBeGreaterThan(0.2);
    expect(volatility).toBeLessThan(1.5);
    // Fat tails: the 99 % historical shortfall (about 2.2 %) is well beyond the normal model's (about 1.4 %).
    const normalShortfall = parametricCvar(mean(returns), stdev(returns), 0.99);
    expect(historicalCvar(returns, 0.99)).toBeGreaterThan(1.3 * normalShortfall);
  });

  it('portfolioRisk of BTC alone, no cash, reports the same VaR, volatility and a beta of 1 to itself', () => {
    const risk = portfolioRisk({
      closes: [candles.close],
      quantities: [0.5],
      cash: 0,
      benchmark: candles.close,
      periodsPerYear: 8760,
    });
    // Value is 0.5 * close, so its returns are BTC's returns up to rounding.
    expectClose(risk.var.historical95, historicalVar(returns, 0.95), 1e-9);
    expectClose(risk.volatility.annualized, annualizedVolatility(returns, 8760), 1e-9);
    expectClose(risk.beta!, 1, 1e-9);
    expect(risk.weights[0]).toBeCloseTo(1, 12);
    expect(risk.riskContribution).toEqual([1]);
    expectClose(risk.diversificationRatio!, 1, 1e-12);
    expect(risk.maxDrawdown.drawdown).toBeGreaterThan(0.1);
    expect(risk.maxDrawdown.troughIndex).toBeGreaterThan(risk.maxDrawdown.peakIndex);
  });
});
