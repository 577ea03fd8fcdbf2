/**
 * Descriptive statistics and the normal distribution: hand-computed examples, numpy's default (type 7)
 * quantiles and scipy's normal quantiles.
 */
import { describe, expect, it } from 'vitest';
import {
  correlation,
  covariance,
  mean,
  normalCdf,
  normalPdf,
  normalQuantile,
  quantile,
  stdev,
  variance,
} from '../../src/core/risk/index.js';

/** |actual - expected| <= tolerance * max(1, |expected|). */
function expectClose(actual: number, expected: number, tolerance = 1e-12): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(expected)));
}

describe('mean, variance, stdev', () => {
  it('match a hand-computed example', () => {
    // x = 2 4 4 4 5 5 7 9: mean 40 / 8 = 5; squared deviations 9+1+1+1+0+0+4+16 = 32; sample var 32 / 7.
    const x = [2, 4, 4, 4, 5, 5, 7, 9];
    expect(mean(x)).toBe(5);
    expectClose(variance(x), 32 / 7, 1e-15);
    expectClose(stdev(x), 2.138089935299395, 1e-15);
  });

  it('give a constant series its own value as mean and exactly zero variance', () => {
    // 0.1 summed ten times is 0.9999999999999999, so sum / n alone would not give 0.1 back.
    const x = new Float64Array(10).fill(0.1);
    expect(mean(x)).toBe(0.1);
    expect(variance(x)).toBe(0);
    expect(stdev(x)).toBe(0);
  });

  it('are NaN when undefined', () => {
    expect(mean([])).toBeNaN();
    expect(variance([3])).toBeNaN();
    expect(stdev([])).toBeNaN();
  });

  it('stay accurate at BTC prices where the sum-of-squares formula cancels', () => {
    // Deviations of ±1 around 1e9: var = (1 + 1) / 1 = 2 exactly.
    expect(variance([1e9 - 1, 1e9 + 1])).toBe(2);
  });
});

describe('covariance and correlation', () => {
  it('match a hand-computed example', () => {
    // a = 1 2 3 4 (mean 2.5), b = 2 4 5 9 (mean 5). Deviations -1.5 -0.5 0.5 1.5 and -3 -1 0 4.
    // Σ products = 4.5 + 0.5 + 0 + 6 = 11 -> cov = 11 / 3. Σ da² = 5, Σ db² = 26 -> r = 11 / sqrt(130).
    const a = [1, 2, 3, 4];
    const b = [2, 4, 5, 9];
    expectClose(covariance(a, b), 11 / 3, 1e-15);
    expectClose(correlation(a, b)!, 11 / Math.sqrt(130), 1e-15);
    expectClose(correlation(a, b)!, 0.9647638212377321, 1e-15); // numpy.corrcoef
  });

  it('is exactly ±1 for linear relations and symmetric', () => {
    expect(correlation([1, 2, 3], [3, 2, 1])).toBe(-1);
    expect(correlation([1, 2, 3], [10, 20, 30])).toBe(1);
    const a = [0.3, -1.2, 2.5, 0.1, 0.7];
    const b = [1.1, 0.4, -0.3, 2.2, 0.9];
    expect(correlation(a, b)).toBe(correlation(b, a));
    expect(covariance(a, b)).toBe(covariance(b, a));
    expectClose(covariance(a, a), variance(a), 1e-15);
  });

  it('is null for a series that does not move or fewer than 2 points', () => {
    expect(correlation([0.1, 0.1, 0.1, 0.1], [1, 2, 3, 4])).toBeNull();
    expect(correlation([1, 2, 3], [5, 5, 5])).toBeNull();
    expect(correlation([1], [2])).toBeNull();
    expect(covariance(new Float64Array(5).fill(0.1), [1, 2, 3, 4, 5])).toBe(0);
  });

  it('rejects series of different lengths', () => {
    expect(() => covariance([1, 2], [1, 2, 3])).toThrow(RangeError);
    expect(() => correlation([1, 2], [1])).toThrow(RangeError);
  });
});

describe('quantile (type 7)', () => {
  it('interpolates between order statistics like numpy', () => {
    // n = 5, h = 4p: p 0.05 -> h 0.2 -> 1 + 0.2 * (2 - 1) = 1.2; p 0.9 -> h 3.6 -> 4 + 0.6 * (10 - 4) = 7.6.
    const x = [1, 2, 3, 4, 10];
    expect(quantile(x, 0)).toBe(1);
    expectClose(quantile(x, 0.05), 1.2, 1e-15);
    expect(quantile(x, 0.25)).toBe(2);
    expect(quantile(x, 0.5)).toBe(3);
    expectClose(quantile(x, 0.9), 7.6, 1e-15);
    expect(quantile(x, 1)).toBe(10);
    expect(quantile([42], 0.3)).toBe(42);
  });

  it('matches numpy.quantile on 37 normal draws', () => {
    // numpy.random.default_rng(7).normal(size=37), sorted; references from numpy.quantile (method="linear").
    const sorted = [
      -2.516759710820513, -1.901222739800844, -1.8417350377917323, -1.5301357655053935, -1.344214547285082,
      -1.289537739784976, -1.2674464814437032, -0.9916465549964624, -0.9785190780566395, -0.9304680447082047,
      -0.8905918387572742, -0.8088372394255993, -0.8075346753318965, -0.6204748998199404, -0.5386928958466366,
      -0.49220651855132963, -0.47775327603393064, -0.45761576104021817, -0.45467078517172255,
      -0.2741378553622176, -0.23509113107468127, -0.18693094462995438, -0.048500945401071985,
      -0.0325217049455206, -0.02925182246327349, 0.0012301533574825742, 0.060143602597438485,
      0.10541424899789856, 0.11330898600330756, 0.15675108662422516, 0.2712643588217015, 0.2987455375084699,
      0.35688700816006075, 0.4898420501851982, 0.6953031944582878, 1.0608986233860787, 1.3402152455545335,
    ];
    const expected: [number, number][] = [
      [0.01, -2.2951664012534323],
      [0.05, -1.8536325781935548],
      [0.333, -0.807550306101021],
      [0.5, -0.45467078517172255],
      [0.95, 0.7684222802438444],
      [0.99, 1.23966126157389],
    ];
    for (const [p, q] of expected) expectClose(quantile(sorted, p), q, 1e-14);
  });

  it('rejects p outside [0, 1] and empty input', () => {
    expect(() => quantile([1, 2], -0.1)).toThrow(RangeError);
    expect(() => quantile([1, 2], 1.5)).toThrow(RangeError);
    expect(() => quantile([1, 2], NaN)).toThrow(RangeError);
    expect(() => quantile([], 0.5)).toThrow(RangeError);
  });
});

describe('normal distribution', () => {
  it('normalQuantile matches the known z values', () => {
    expectClose(normalQuantile(0.95), 1.6448536269514722);
    expectClose(normalQuantile(0.99), 2.3263478740408408);
    expectClose(normalQuantile(0.975), 1.959963984540054);
    expect(normalQuantile(0.5)).toBe(0);
  });

  it('normalQuantile matches scipy.stats.norm.ppf deep in both tails (past the Acklam switch at 0.02425)', () => {
    const expected: [number, number][] = [
      [1e-300, -37.0470962993612],
      [1e-20, -9.262340089798409],
      [1e-10, -6.361340902404056],
      [0.001, -3.090232306167813],
      [0.02425, -1.972961051311885],
      [0.3, -0.5244005127080409],
      [0.999, 3.090232306167813],
      [1 - 1e-10, 6.361340889697422],
    ];
    for (const [p, z] of expected) expectClose(normalQuantile(p), z);
  });

  it('normalQuantile is antisymmetric, inverts normalCdf and handles the end points', () => {
    for (const p of [0.001, 0.01, 0.05, 0.2, 0.4])
      expect(normalQuantile(1 - p)).toBeCloseTo(-normalQuantile(p), 12);
    for (let p = 0.0005; p < 1; p += 0.0371) expectClose(normalCdf(normalQuantile(p)), p, 1e-14);
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
    expect(() => normalQuantile(-0.01)).toThrow(RangeError);
    expect(() => normalQuantile(1.01)).toThrow(RangeError);
    expect(() => normalQuantile(NaN)).toThrow(RangeError);
  });

  it('normalCdf and normalPdf match scipy', () => {
    expectClose(normalCdf(0), 0.5, 0);
    expectClose(normalCdf(1), 0.8413447460685429, 1e-15);
    expectClose(normalCdf(-1), 0.15865525393145707, 1e-15);
    // Relative accuracy in the far tail, where 1 - Φ would have no digits left.
    expect(Math.abs(normalCdf(-8) / 6.22096057427174e-16 - 1)).toBeLessThan(1e-12);
    expect(Math.abs(normalCdf(-5) / 2.866515718791933e-7 - 1)).toBeLessThan(1e-12);
    expectClose(normalPdf(0), 1 / Math.sqrt(2 * Math.PI), 1e-16);
    // φ(1.6448536269514722) = 0.10313564037537139 (scipy.stats.norm.pdf).
    expectClose(normalPdf(1.6448536269514722), 0.10313564037537139, 1e-15);
    expect(normalPdf(-1.3)).toBe(normalPdf(1.3));
  });
});
