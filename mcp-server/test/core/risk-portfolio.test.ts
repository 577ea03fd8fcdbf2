/**
 * portfolioRisk against a deliberately naive reference (plain arrays, one O(n) loop per pair, textbook
 * formulas) on seeded random walks, plus small cases whose answer is known in closed form.
 */
import { describe, expect, it } from 'vitest';
import {
  historicalCvar,
  historicalVar,
  maxDrawdown,
  parametricVar,
  portfolioRisk,
  type PortfolioRiskInput,
} from '../../src/core/risk/index.js';

/** Deterministic uniform [0, 1) generator (mulberry32). */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draws by Box-Muller. */
function seededNormal(seed: number): () => number {
  const random = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** k correlated geometric random walks: each asset loads on one common factor plus its own noise. */
function randomWalks(seed: number, k: number, length: number): Float64Array[] {
  const normal = seededNormal(seed);
  const closes = Array.from({ length: k }, () => new Float64Array(length));
  const loading = Array.from({ length: k }, (_, i) => 0.2 + (0.8 * i) / k);
  const vol = Array.from({ length: k }, (_, i) => 0.005 + 0.002 * i);
  for (let i = 0; i < k; i++) closes[i]![0] = 10 + 37 * i;
  for (let t = 1; t < length; t++) {
    const market = normal();
    for (let i = 0; i < k; i++) {
      const shock = loading[i]! * market + Math.sqrt(1 - loading[i]! ** 2) * normal();
      closes[i]![t] = closes[i]![t - 1]! * Math.exp(vol[i]! * shock);
    }
  }
  return closes;
}

function expectRelative(actual: number, expected: number, tolerance = 1e-9): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tolerance * Math.max(Math.abs(expected), 1e-300));
}

/** The textbook computation, one pair at a time, nothing shared with the implementation. */
function naiveReference(input: PortfolioRiskInput) {
  const { closes, quantities, cash } = input;
  const k = closes.length;
  const length = closes[0]!.length;
  const returnsOf = (c: ArrayLike<number>): number[] => {
    const r: number[] = [];
    for (let t = 1; t < c.length; t++) r.push(c[t]! / c[t - 1]! - 1);
    return r;
  };
  const avg = (x: number[]): number => x.reduce((s, v) => s + v, 0) / x.length;
  const cov = (a: number[], b: number[]): number => {
    const ma = avg(a);
    const mb = avg(b);
    let s = 0;
    for (let t = 0; t < a.length; t++) s += (a[t]! - ma) * (b[t]! - mb);
    return s / (a.length - 1);
  };
  const value: number[] = [];
  for (let t = 0; t < length; t++) {
    let v = cash;
    for (let i = 0; i < k; i++) v += quantities[i]! * closes[i]![t]!;
    value.push(v);
  }
  const assetReturns = closes.map(returnsOf);
  const sigma = assetReturns.map((a) => assetReturns.map((b) => cov(a, b)));
  const correlation = sigma.map((row, i) => row.map((c, j) => c / Math.sqrt(sigma[i]![i]! * sigma[j]![j]!)));
  const positions = closes.map((c, i) => quantities[i]! * c[length - 1]!);
  const weights = positions.map((p) => p / value[length - 1]!);
  const sigmaW = sigma.map((row) => row.reduce((s, c, j) => s + c * weights[j]!, 0));
  const portfolioVariance = weights.reduce((s, w, i) => s + w * sigmaW[i]!, 0);
  const invested = positions.reduce((s, p) => s + p, 0);
  const herfindahl = positions.reduce((s, p) => s + (p / invested) ** 2, 0);
  const portfolioReturns = returnsOf(value);
  const benchmarkReturns = input.benchmark ? returnsOf(input.benchmark) : [];
  return {
    value,
    portfolioReturns,
    sigma,
    correlation,
    assetVolatility: sigma.map((row, i) => Math.sqrt(row[i]! * input.periodsPerYear)),
    weights,
    riskContribution: weights.map((w, i) => (w * sigmaW[i]!) / portfolioVariance),
    herfindahl,
    diversificationRatio:
      weights.reduce((s, w, i) => s + w * Math.sqrt(sigma[i]![i]!), 0) / Math.sqrt(portfolioVariance),
    beta: cov(portfolioReturns, benchmarkReturns) / cov(benchmarkReturns, benchmarkReturns),
  };
}

describe('portfolioRisk against a naive reference', () => {
  // 9 assets (two blocks of 4 in the blocked kernel plus a remainder), 700 hourly closes, one asset unheld.
  const closes = randomWalks(20240601, 9, 700);
  const random = seededRandom(99);
  const quantities = closes.map((c, i) => (i === 3 ? 0 : (1000 + 9000 * random()) / c[c.length - 1]!));
  const benchmark = randomWalks(7, 1, 700)[0]!;
  const input: PortfolioRiskInput = { closes, quantities, cash: 2500, benchmark, periodsPerYear: 8760 };
  const risk = portfolioRisk(input);
  const ref = naiveReference(input);

  it('values the holdings and their returns', () => {
    expect(risk.observations).toBe(699);
    expect(risk.value.length).toBe(700);
    ref.value.forEach((v, t) => expectRelative(risk.value[t]!, v, 1e-12));
    ref.portfolioReturns.forEach((r, t) => expect(risk.returns[t]).toBeCloseTo(r, 14));
  });

  it('matches the covariance-derived figures to 1e-9 relative', () => {
    for (let i = 0; i < 9; i++) {
      expectRelative(risk.assetVolatility[i]!, ref.assetVolatility[i]!);
      expectRelative(risk.weights[i]!, ref.weights[i]!, 1e-12);
      for (let j = 0; j < 9; j++) {
        const c = risk.correlation[i]![j]!;
        if (i === j) expect(c).toBe(1);
        else expectRelative(c, ref.correlation[i]![j]!);
        expect(risk.correlation[j]![i]).toBe(c);
      }
    }
    risk.riskContribution.forEach((rc, i) => {
      if (i === 3) expect(rc).toBe(0);
      else expectRelative(rc!, ref.riskContribution[i]!);
    });
    expectRelative(risk.herfindahl, ref.herfindahl, 1e-12);
    expectRelative(risk.effectivePositions, 1 / ref.herfindahl, 1e-12);
    expectRelative(risk.diversificationRatio!, ref.diversificationRatio);
    expectRelative(risk.beta!, ref.beta);
  });

  it('has risk contributions that sum to 1 and a diversification ratio above 1', () => {
    const sum = risk.riskContribution.reduce((s: number, rc) => s + rc!, 0);
    expect(sum).toBeCloseTo(1, 12);
    expect(risk.diversificationRatio!).toBeGreaterThan(1);
    // Weights exclude the 2500 cash: they sum to invested / total.
    const invested = risk.weights.reduce((s, w) => s + w, 0);
    expect(invested).toBeCloseTo(1 - 2500 / risk.value[699]!, 12);
  });

  it('reports the portfolio tail and performance figures of its own value series', () => {
    expect(risk.var.historical95).toBe(historicalVar(ref.portfolioReturns, 0.95));
    expect(risk.var.historical99).toBe(historicalVar(ref.portfolioReturns, 0.99));
    expect(risk.cvar.historical95).toBe(historicalCvar(ref.portfolioReturns, 0.95));
    expect(risk.cvar.historical99).toBeGreaterThanOrEqual(risk.var.historical99);
    expect(risk.cvar.parametric95).toBeGreaterThan(risk.var.parametric95);
    const mean = ref.portfolioReturns.reduce((s, r) => s + r, 0) / 699;
    const sd = Math.sqrt(ref.portfolioReturns.reduce((s, r) => s + (r - mean) ** 2, 0) / 698);
    expectRelative(risk.volatility.perPeriod, sd);
    expectRelative(risk.volatility.annualized, sd * Math.sqrt(8760));
    expectRelative(risk.var.parametric99, parametricVar(mean, sd, 0.99));
    expect(risk.maxDrawdown).toEqual(maxDrawdown(ref.value));
    expectRelative(risk.sharpe!, (mean / sd) * Math.sqrt(8760));
    expect(risk.sortino).not.toBeNull();
  });
});

describe('portfolioRisk on known cases', () => {
  const closes = randomWalks(5, 4, 200);

  it('has HHI 1/n and n effective positions for equal position values', () => {
    const quantities = closes.map((c) => 250 / c[199]!);
    const risk = portfolioRisk({ closes, quantities, cash: 1000, periodsPerYear: 365 });
    expect(risk.herfindahl).toBeCloseTo(0.25, 14);
    expect(risk.effectivePositions).toBeCloseTo(4, 12);
    // 1000 invested next to 1000 cash: each position is 1/8 of the total.
    risk.weights.forEach((w) => expect(w).toBeCloseTo(0.125, 14));
    expect(risk.beta).toBeNull();
  });

  it('sees no diversification in perfectly correlated assets', () => {
    // Asset 1 is asset 0 at twice the price: identical returns, correlation 1.
    const twin = closes[0]!.map((c) => 2 * c);
    const risk = portfolioRisk({
      closes: [closes[0]!, twin],
      quantities: [3, 1],
      cash: 0,
      periodsPerYear: 365,
    });
    expect(risk.correlation[0]![1]).toBeCloseTo(1, 12);
    expect(risk.diversificationRatio!).toBeCloseTo(1, 12);
    // Same returns, so risk splits like the weights: 3x : 2x -> 0.6 and 0.4.
    expect(risk.riskContribution[0]).toBeCloseTo(0.6, 12);
    expect(risk.riskContribution[1]).toBeCloseTo(0.4, 12);
  });

  it('treats an asset that never moves as riskless', () => {
    const stable = new Float64Array(200).fill(1);
    const risk = portfolioRisk({
      closes: [closes[0]!, stable],
      quantities: [10, 500],
      cash: 0,
      benchmark: stable,
      periodsPerYear: 8760,
    });
    expect(risk.correlation[1]).toEqual([null, null]);
    expect(risk.correlation[0]).toEqual([1, null]);
    expect(risk.assetVolatility[1]).toBe(0);
    expect(risk.riskContribution).toEqual([1, 0]);
    expect(risk.beta).toBeNull();
    expect(risk.herfindahl).toBeGreaterThan(0.5);
  });

  it('reports zero risk and null ratios for a portfolio that does not move', () => {
    const stable = new Float64Array(50).fill(1);
    const risk = portfolioRisk({ closes: [stable], quantities: [100], cash: 50, periodsPerYear: 365 });
    expect(risk.var).toEqual({ historical95: 0, historical99: 0, parametric95: 0, parametric99: 0 });
    expect(risk.cvar.historical99).toBe(0);
    expect(risk.volatility).toEqual({ perPeriod: 0, annualized: 0 });
    expect(risk.sharpe).toBeNull();
    expect(risk.sortino).toBeNull();
    expect(risk.riskContribution).toEqual([null]);
    expect(risk.diversificationRatio).toBeNull();
    expect(risk.maxDrawdown.drawdown).toBe(0);
  });

  it('reports zero concentration when nothing is invested', () => {
    const risk = portfolioRisk({ closes: [closes[0]!], quantities: [0], cash: 100, periodsPerYear: 365 });
    expect(risk.herfindahl).toBe(0);
    expect(risk.effectivePositions).toBe(0);
    expect(risk.weights).toEqual([0]);
  });

  it('rejects inputs the maths cannot use', () => {
    const base: PortfolioRiskInput = {
      closes: closes.slice(0, 2),
      quantities: [1, 1],
      cash: 0,
      periodsPerYear: 365,
    };
    expect(() => portfolioRisk(base)).not.toThrow();
    const bad: Partial<PortfolioRiskInput>[] = [
      { closes: [], quantities: [] },
      { quantities: [1] },
      { quantities: [1, -1] },
      { quantities: [1, NaN] },
      { closes: [closes[0]!, closes[1]!.subarray(1)] },
      { closes: [closes[0]!.subarray(0, 2), closes[1]!.subarray(0, 2)] },
      { closes: [closes[0]!, closes[1]!.map((c, t) => (t === 7 ? 0 : c))] },
      { closes: [closes[0]!, closes[1]!.map((c, t) => (t === 7 ? NaN : c))] },
      { benchmark: closes[2]!.subarray(1) },
      { cash: Infinity },
      { cash: -1e12 },
      { periodsPerYear: 0 },
      { riskFreeAnnual: -2 },
    ];
    for (const patch of bad) expect(() => portfolioRisk({ ...base, ...patch })).toThrow(RangeError);
  });
});
