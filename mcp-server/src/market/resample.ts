import { allocCandles, sliceCandles, type Candles } from '../core/candles.js';
import { AppError } from '../errors.js';
import { candleCloseTime, candleOpenTime, DAY_MS, timeframeMs, type Timeframe } from './timeframes.js';

export interface ResampleOptions {
  /**
   * Also emit the last bucket when the data ends before the bucket closes, i.e. the exchange's
   * still-forming candle. Off by default: analysis must only see closed candles.
   */
  includeOpenBucket?: boolean;
}

/** Whether `to` candles can be built from `from` candles (every `to` boundary is a `from` boundary). */
export function canResample(from: Timeframe, to: Timeframe): boolean {
  const fromMs = timeframeMs(from);
  const toMs = timeframeMs(to);
  if (toMs <= fromMs || from === '1M' || from === '1w') return false;
  // Weeks, months and multiples of a day start at 00:00 UTC, which any divisor of a day hits.
  return toMs % DAY_MS === 0 || to === '1M' ? DAY_MS % fromMs === 0 : toMs % fromMs === 0;
}

/**
 * Aggregate candles into a higher timeframe aligned like Binance klines (see `candleOpenTime`: 4h at
 * 00/04/.. UTC, 1d at 00:00 UTC, 1w from Monday 00:00 UTC, 1M from the 1st): first open, max high, min low,
 * last close, summed volume. Columnar, one pass.
 *
 * - A bucket with missing source candles in its middle (an exchange outage) is still emitted, as the
 *   exchange itself does: it aggregates whatever traded.
 * - The first bucket is dropped when the data starts after its open time: its earlier part is unknown,
 *   so its open would be wrong.
 * - The last bucket is dropped unless its final source candle is present (it has not closed yet), unless
 *   `includeOpenBucket` is set.
 */
export function resample(
  src: Candles,
  from: Timeframe,
  to: Timeframe,
  options: ResampleOptions = {},
): Candles {
  if (!canResample(from, to)) {
    throw new AppError('UNSUPPORTED_TIMEFRAME', `Cannot build ${to} candles from ${from} candles.`, {
      from,
      to,
    });
  }
  const n = src.time.length;
  if (n === 0) return allocCandles(0);
  const shortestBucket = to === '1M' ? 28 * DAY_MS : timeframeMs(to);
  const capacity = Math.min(n, Math.floor((src.time[n - 1] - src.time[0]) / shortestBucket) + 2);
  const out = allocCandles(capacity);

  let k = -1;
  let bucketEnd = -Infinity;
  for (let i = 0; i < n; i++) {
    const t = src.time[i];
    if (t >= bucketEnd) {
      k++;
      out.time[k] = candleOpenTime(t, to);
      bucketEnd = candleCloseTime(out.time[k], to);
      out.open[k] = src.open[i];
      out.high[k] = src.high[i];
      out.low[k] = src.low[i];
      out.close[k] = src.close[i];
      out.volume[k] = src.volume[i];
    } else {
      if (src.high[i] > out.high[k]) out.high[k] = src.high[i];
      if (src.low[i] < out.low[k]) out.low[k] = src.low[i];
      out.close[k] = src.close[i];
      out.volume[k] += src.volume[i];
    }
  }

  const first = src.time[0] === out.time[0] ? 0 : 1;
  const lastClosed = candleCloseTime(src.time[n - 1], from) === bucketEnd;
  const end = lastClosed || options.includeOpenBucket ? k + 1 : k;
  return sliceCandles(out, first, Math.max(first, end));
}
