/**
 * Descriptive statistics and the standard normal distribution, the building blocks of the risk measures.
 *
 * Means and deviations are two-pass (mean first, then squared deviations), not the one-pass
 * Σx² - n·mean² formula, which cancels catastrophically when the values are large next to their spread
 * (a price of 90,000 moving by a few units loses most of its digits). A series whose values are all equal has a mean equal to that value exactly, so its
 * deviations, variance and covariances are exactly 0 and "zero variance" is a reliable test, not a
 * tolerance: a constant price (a stablecoin) is recognised as riskless instead of showing 1e-34.
 */

/**
 * Arithmetic mean; exactly `x[0]` when every value is equal (summing 0.1 ten times and dividing does not
 * give 0.1 back). NaN when `x` is empty.
 */
export function mean(x: ArrayLike<number>): number {
  const n = x.length;
  if (n === 0) return NaN;
  const first = x[0];
  let sum = 0;
  let allEqual = true;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    sum += v;
    if (v !== first) allEqual = false;
  }
  return allEqual ? first : sum / n;
}

/** Sample variance (divisor n - 1); exactly 0 for a constant series, NaN when n < 2. */
export function variance(x: ArrayLike<number>): number {
  const n = x.length;
  if (n < 2) return NaN;
  const m = mean(x);
  let squares = 0;
  for (let i = 0; i < n; i++) {
    const d = x[i] - m;
    squares += d * d;
  }
  return squares / (n - 1);
}

/** Sample standard deviation (divisor n - 1); exactly 0 for a constant series, NaN when n < 2. */
export function stdev(x: ArrayLike<number>): number {
  return Math.sqrt(variance(x));
}

function assertPaired(label: string, a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) {
    throw new RangeError(`${label} inputs must have the same length, got ${a.length} and ${b.length}`);
  }
}

/** Sample covariance (divisor n - 1) of two series paired by index; NaN when n < 2. */
export function covariance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assertPaired('covariance', a, b);
  const n = a.length;
  if (n < 2) return NaN;
  const ma = mean(a);
  const mb = mean(b);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += (a[i] - ma) * (b[i] - mb);
  return sum / (n - 1);
}

/**
 * Pearson correlation of two series paired by index, clamped to [-1, 1] against rounding. null when n < 2
 * or either series is constant: a series that does not move has no correlation with anything.
 */
export function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number | null {
  assertPaired('correlation', a, b);
  const n = a.length;
  if (n < 2) return null;
  const ma = mean(a);
  const mb = mean(b);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - ma;
    const db = b[i] - mb;
    ab += da * db;
    aa += da * da;
    bb += db * db;
  }
  if (aa === 0 || bb === 0) return null;
  return Math.max(-1, Math.min(1, ab / Math.sqrt(aa * bb)));
}

/**
 * The `p` quantile of sorted values by linear interpolation between order statistics: the value at
 * fractional rank h = (n - 1) * p (R's type 7, numpy's default `linear` method, Excel's PERCENTILE.INC).
 *
 * @param sortedAscending values sorted ascending (not checked: sorting is the caller's O(n log n))
 * @param p probability in [0, 1]
 * @throws RangeError when `p` is outside [0, 1] or there are no values
 */
export function quantile(sortedAscending: ArrayLike<number>, p: number): number {
  const n = sortedAscending.length;
  if (!(p >= 0 && p <= 1)) throw new RangeError(`quantile p must be in [0, 1], got ${p}`);
  if (n === 0) throw new RangeError('quantile of an empty series');
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const below = sortedAscending[lo];
  if (lo >= n - 1) return below;
  return below + (h - lo) * (sortedAscending[lo + 1] - below);
}

const SQRT_2PI = Math.sqrt(2 * Math.PI);
const INV_SQRT_2PI = 1 / SQRT_2PI;

/** Standard normal density exp(-x²/2) / sqrt(2π). */
export function normalPdf(x: number): number {
  return INV_SQRT_2PI * Math.exp(-0.5 * x * x);
}

// W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp. 23 (1969) 631-638,
// as in his CALERF (SPECFUN): erf on |x| <= 0.46875, erfc on 0.46875 < |x| <= 4, erfc on |x| > 4.
const ERF_A = [
  3.1611237438705655, 113.86415415105016, 377.485237685302, 3209.3775891384694, 0.18577770618460315,
];
const ERF_B = [23.601290952344122, 244.02463793444417, 1282.6165260773723, 2844.236833439171];
const ERF_C = [
  0.5641884969886701, 8.883149794388377, 66.11919063714163, 298.6351381974001, 881.952221241769,
  1712.0476126340707, 2051.0783778260716, 1230.3393547979972, 2.1531153547440383e-8,
];
const ERF_D = [
  15.744926110709835, 117.6939508913125, 537.1811018620099, 1621.3895745666903, 3290.7992357334597,
  4362.619090143247, 3439.3676741437216, 1230.3393548037495,
];
const ERF_P = [
  0.30532663496123236, 0.36034489994980445, 0.12578172611122926, 0.016083785148742275, 0.0006587491615298378,
  0.016315387137302097,
];
const ERF_Q = [
  2.568520192289822, 1.8729528499234604, 0.5279051029514285, 0.06051834131244132, 0.0023352049762686918,
];
const INV_SQRT_PI = 0.5641895835477563;

/**
 * Complementary error function to full double precision (Cody's rational approximations), needed by
 * the quantile refinement: a cheaper erfc (Abramowitz-Stegun, 1e-7) would cap the quantile at that error.
 */
function erfc(x: number): number {
  const y = Math.abs(x);
  if (y <= 0.46875) {
    const z = y > 1.11e-16 ? y * y : 0;
    let num = ERF_A[4] * z;
    let den = z;
    for (let i = 0; i < 3; i++) {
      num = (num + ERF_A[i]) * z;
      den = (den + ERF_B[i]) * z;
    }
    return 1 - (x * (num + ERF_A[3])) / (den + ERF_B[3]);
  }
  let result: number;
  if (y <= 4) {
    let num = ERF_C[8] * y;
    let den = y;
    for (let i = 0; i < 7; i++) {
      num = (num + ERF_C[i]) * y;
      den = (den + ERF_D[i]) * y;
    }
    result = (num + ERF_C[7]) / (den + ERF_D[7]);
  } else if (y >= 26.543) {
    result = 0;
  } else {
    const z = 1 / (y * y);
    let num = ERF_P[5] * z;
    let den = z;
    for (let i = 0; i < 4; i++) {
      num = (num + ERF_P[i]) * z;
      den = (den + ERF_Q[i]) * z;
    }
    result = (INV_SQRT_PI - (z * (num + ERF_P[4])) / (den + ERF_Q[4])) / y;
  }
  // exp(-y²) split as exp(-s²) * exp(-(y - s)(y + s)) with s = y rounded down to 1/16, so y² is not
  // rounded before the exponential amplifies its error.
  const s = Math.trunc(y * 16) / 16;
  result *= Math.exp(-s * s) * Math.exp(-(y - s) * (y + s));
  return x < 0 ? 2 - result : result;
}

/** Standard normal cumulative distribution P(Z <= x), accurate to double precision in both tails. */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

// Peter J. Acklam's rational approximations of the inverse normal CDF (relative error < 1.15e-9).
const ACKLAM_A = [
  -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
  2.506628277459239,
];
const ACKLAM_B = [
  -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1,
];
const ACKLAM_C = [
  -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
  2.938163982698783,
];
const ACKLAM_D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
const ACKLAM_LOW = 0.02425;

/** Lower-half quantile, p in (0, 0.5]: Acklam's approximation, then one Halley step on the exact CDF. */
function lowerNormalQuantile(p: number): number {
  let x: number;
  if (p < ACKLAM_LOW) {
    const q = Math.sqrt(-2 * Math.log(p));
    const [c0, c1, c2, c3, c4, c5] = ACKLAM_C;
    const [d0, d1, d2, d3] = ACKLAM_D;
    x =
      (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) /
      ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  } else {
    const q = p - 0.5;
    const r = q * q;
    const [a0, a1, a2, a3, a4, a5] = ACKLAM_A;
    const [b0, b1, b2, b3, b4] = ACKLAM_B;
    x =
      ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) /
      (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1);
  }
  // Halley's step for Φ(x) = p: cubic convergence turns Acklam's 1e-9 into the double's precision.
  const e = normalCdf(x) - p;
  const u = e * SQRT_2PI * Math.exp(0.5 * x * x);
  return x - u / (1 + 0.5 * x * u);
}

/**
 * Inverse of the standard normal CDF: the z with P(Z <= z) = p (e.g. 1.6448536269514722 for 0.95).
 *
 * Acklam's algorithm refined by one Halley step, within a few ulps of the exact value. Only the lower
 * half is computed and the upper half mirrored (z(p) = -z(1 - p)), because 1 - p is exact for p >= 0.5
 * while Φ(x) - p near 1 would lose the tail's digits to cancellation.
 *
 * @param p probability in [0, 1]; 0 and 1 give -Infinity and Infinity
 * @throws RangeError when `p` is NaN or outside [0, 1]
 */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`normalQuantile p must be in [0, 1], got ${p}`);
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  return p <= 0.5 ? lowerNormalQuantile(p) : -lowerNormalQuantile(1 - p);
}
