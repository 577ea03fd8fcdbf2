/** Maximum drawdown, annualised volatility, Sharpe and Sortino on hand-computed series. */
import { describe, expect, it } from 'vitest';
import {
  annualizedVolatility,
  maxDrawdown,
  periodRiskFree,
  sharpeRatio,
  sortinoRatio,
} from '../../src/core/risk/index.js';

function expectClose(actual: number, expected: number, tolerance = 1e-12): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(expected)));
}

describe('maxDrawdown', () => {
  it('finds the deepest fall from a running peak, not the first one', () => {
    // 120 -> 90 is -25 %; the later 130 -> 65 is -50 %.
    expect(maxDrawdown([100, 120, 90, 110, 130, 65, 80])).toEqual({
      drawdown: 0.5,
      peakIndex: 4,
      troughIndex: 5,
    });
    // The trough of a fall is its lowest point: 120 -> 100 -> 84 is -30 % ending at index 3.
    const dd = maxDrawdown(new Float64Array([100, 120, 100, 84, 119]));
    expect(dd.peakIndex).toBe(1);
    expect(dd.troughIndex).toBe(3);
    expectClose(dd.drawdown, 0.3, 1e-15);
  });

  it('is 0 when the series never falls', () => {
    expect(maxDrawdown([1, 2, 2, 3])).toEqual({ drawdown: 0, peakIndex: 0, troughIndex: 0 });
    expect(maxDrawdown([5])).toEqual({ drawdown: 0, peakIndex: 0, troughIndex: 0 });
    expect(maxDrawdown([])).toEqual({ drawdown: 0, peakIndex: -1, troughIndex: -1 });
  });
});

// r = 1 %, -2 %, 3 %, 0: mean 0.005; deviations 0.005 -0.025 0.025 -0.005; Σ squares 0.0013;
// sample sd = sqrt(0.0013 / 3) = 0.02081665999466133.
const r = [0.01, -0.02, 0.03, 0];

describe('annualizedVolatility', () => {
  it('scales the sample deviation by sqrt(periods per year)', () => {
    expectClose(annualizedVolatility(r, 365), 0.02081665999466133 * Math.sqrt(365));
    expectClose(annualizedVolatility(r, 1), 0.02081665999466133);
    expect(() => annualizedVolatility(r, 0)).toThrow(RangeError);
  });
});

describe('periodRiskFree', () => {
  it('de-compounds the annual rate', () => {
    // 1.05 ** (1 / 365) - 1 (numpy).
    expectClose(periodRiskFree(0.05, 365), 0.00013368061711349633, 1e-14);
    expect(periodRiskFree(0, 8760)).toBe(0);
    // Compounding it back gives the annual rate.
    expectClose((1 + periodRiskFree(0.04, 8760)) ** 8760 - 1, 0.04, 1e-11);
    expect(() => periodRiskFree(-1, 365)).toThrow(RangeError);
    expect(() => periodRiskFree(0.05, -1)).toThrow(RangeError);
  });
});

describe('sharpeRatio', () => {
  it('annualises (mean - rf) / sd', () => {
    // 0.005 / 0.02081665999466133 * sqrt(365) = 4.5888661244028786 (numpy).
    expectClose(sharpeRatio(r, 365)!, 4.5888661244028786);
    // rf per day 0.00013368061711349633: (0.005 - rf) / sd * sqrt(365) = 4.4661776333306 (numpy).
    expectClose(sharpeRatio(r, 365, 0.05)!, 4.4661776333306, 1e-11);
  });

  it('is null when the returns do not vary or are too few', () => {
    expect(sharpeRatio([0.01, 0.01, 0.01], 365)).toBeNull();
    expect(sharpeRatio([0.01], 365)).toBeNull();
  });
});

describe('sortinoRatio', () => {
  it('divides by the downside deviation over all observations', () => {
    // rf = 0: shortfalls 0 -0.02 0 0 -> DD = sqrt(0.0004 / 4) = 0.01 (over 4, not over the 1 loss);
    // 0.005 / 0.01 * sqrt(365) = 0.5 * sqrt(365).
    expectClose(sortinoRatio(r, 365)!, 0.5 * Math.sqrt(365));
    // With rf = 5 % a year the zero return is a shortfall too (numpy: 9.235157127496771).
    expectClose(sortinoRatio(r, 365, 0.05)!, 9.235157127496771, 1e-11);
  });

  it('is null when no return falls below the target', () => {
    expect(sortinoRatio([0.01, 0.02, 0], 365)).toBeNull();
    expect(sortinoRatio([], 365)).toBeNull();
    // A zero return is below a positive risk-free target.
    expect(sortinoRatio([0.01, 0.02, 0], 365, 0.05)).not.toBeNull();
  });
});
