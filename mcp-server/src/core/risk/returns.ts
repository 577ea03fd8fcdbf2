/**
 * Closes of several symbols on a common clock, and returns from closes.
 *
 * Exchanges list symbols at different dates and occasionally skip candles (maintenance, delistings), so
 * series fetched for the same window rarely line up index by index. Risk maths pairs returns by index,
 * so every series is first cut down to the timestamps present in all of them.
 */

/** One symbol's candles: open times (ascending, unique) and closes, paired by index. */
export interface TimedCloses {
  time: ArrayLike<number>;
  close: ArrayLike<number>;
}

/** Closes of several series restricted to their common timestamps: `closes[i][t]` is series i at `time[t]`. */
export interface AlignedCloses {
  time: Float64Array;
  closes: Float64Array[];
}

function assertAscending(series: TimedCloses, index: number): void {
  const { time, close } = series;
  if (time.length !== close.length) {
    throw new RangeError(
      `alignCloses series ${index}: time and close lengths differ (${time.length} vs ${close.length})`,
    );
  }
  for (let t = 1; t < time.length; t++) {
    if (!(time[t] > time[t - 1])) {
      throw new RangeError(`alignCloses series ${index}: times must be strictly ascending (at index ${t})`);
    }
  }
}

/**
 * Keeps in `common[0..m)` only the times also in `time` (both ascending), in place: the write index never
 * passes the read index. Returns the new count.
 */
function intersectInPlace(common: Float64Array, m: number, time: ArrayLike<number>): number {
  const len = time.length;
  let write = 0;
  let j = 0;
  for (let read = 0; read < m && j < len; read++) {
    const t = common[read];
    while (j < len && time[j] < t) j++;
    if (j < len && time[j] === t) {
      common[write++] = t;
      j++;
    }
  }
  return write;
}

/** The closes of one series at `times`, each of which it is known to contain. */
function closesAt(times: Float64Array, own: ArrayLike<number>, close: ArrayLike<number>): Float64Array {
  const m = times.length;
  const out = new Float64Array(m);
  let j = 0;
  for (let i = 0; i < m; i++) {
    const t = times[i];
    while (own[j] < t) j++;
    out[i] = close[j++];
  }
  return out;
}

/**
 * Inner join of series on identical timestamps (no interpolation, no forward fill: a missing candle
 * drops that time from every series, so no return is ever computed across a gap in one series only).
 *
 * Linear in the total length and allocation-light: the common times are found by intersecting each
 * series' times into one buffer in place, then one pointer walk per series picks its closes. Sorted input
 * makes a hash map unnecessary. The loops live in small per-series helpers, which V8 optimises after a
 * few calls instead of waiting to replace one long-running loop nest.
 *
 * @param series each with strictly ascending, unique times and as many closes as times
 * @returns the common times, ascending, and each series' closes at those times, in input order
 * @throws RangeError when a series' times are not strictly ascending or its lengths differ
 */
export function alignCloses(series: TimedCloses[]): AlignedCloses {
  const k = series.length;
  if (k === 0) return { time: new Float64Array(0), closes: [] };
  for (let s = 0; s < k; s++) assertAscending(series[s], s);

  // A plain copy loop: Float64Array.from goes through the iterator protocol, several times slower.
  const first = series[0].time;
  let m = first.length;
  const common = new Float64Array(m);
  for (let i = 0; i < m; i++) common[i] = first[i];
  for (let s = 1; s < k && m > 0; s++) m = intersectInPlace(common, m, series[s].time);

  const time = common.slice(0, m);
  const closes: Float64Array[] = new Array(k);
  for (let s = 0; s < k; s++) closes[s] = closesAt(time, series[s].time, series[s].close);
  return { time, closes };
}

/**
 * Simple returns r_t = c_t / c_(t-1) - 1 (not log returns: a portfolio's simple return is the value-weighted
 * sum of its assets' simple returns, which the portfolio risk decomposition relies on).
 *
 * @param closes prices, oldest first
 * @returns n - 1 returns (empty for fewer than 2 closes); `returns[t]` ends at `closes[t + 1]`
 */
export function simpleReturns(closes: ArrayLike<number>): Float64Array {
  const n = closes.length;
  const out = new Float64Array(Math.max(0, n - 1));
  let previous = closes[0];
  for (let t = 1; t < n; t++) {
    const current = closes[t];
    out[t - 1] = current / previous - 1;
    previous = current;
  }
  return out;
}
