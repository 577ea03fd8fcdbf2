/**
 * Columnar OHLCV candles: one Float64Array per field, oldest first.
 *
 * Every function in `core/` takes candles in this shape. Columns keep the hot loops cache friendly and
 * allocation free, and a slice is a set of `subarray` views, not a copy.
 */
export interface Candles {
  /** Candle open time, milliseconds since the Unix epoch (UTC). */
  readonly time: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  /** Base-asset volume. */
  readonly volume: Float64Array;
}

/** A view of candles `[start, end)` that shares memory with `c` (no copy). */
export function sliceCandles(c: Candles, start: number, end: number = c.time.length): Candles {
  return {
    time: c.time.subarray(start, end),
    open: c.open.subarray(start, end),
    high: c.high.subarray(start, end),
    low: c.low.subarray(start, end),
    close: c.close.subarray(start, end),
    volume: c.volume.subarray(start, end),
  };
}

/** Allocate empty candles for `n` rows. */
export function allocCandles(n: number): Candles {
  return {
    time: new Float64Array(n),
    open: new Float64Array(n),
    high: new Float64Array(n),
    low: new Float64Array(n),
    close: new Float64Array(n),
    volume: new Float64Array(n),
  };
}

/** Build columnar candles from rows `[time, open, high, low, close, volume]` (the ccxt OHLCV shape). */
export function candlesFromRows(rows: ArrayLike<ArrayLike<number>>): Candles {
  const n = rows.length;
  const c = allocCandles(n);
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    c.time[i] = r[0]!;
    c.open[i] = r[1]!;
    c.high[i] = r[2]!;
    c.low[i] = r[3]!;
    c.close[i] = r[4]!;
    c.volume[i] = r[5]!;
  }
  return c;
}
