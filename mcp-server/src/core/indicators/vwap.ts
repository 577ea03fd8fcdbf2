import type { Candles } from '../candles.js';
import { allocSeries } from './series.js';

const DAY_MS = 86_400_000;

/** Where a VWAP starts accumulating: at each UTC day (`session`) or once, at bar `index`. */
export type VwapOptions = { anchor: 'session' } | { anchor: 'index'; index: number };

/**
 * Volume-weighted average price of the typical price (high + low + close) / 3. TA-Lib has no VWAP.
 *
 * - `{ anchor: 'session' }`: resets at every UTC day boundary (00:00 UTC), the usual intraday VWAP.
 *   Needs `candles.time` in ascending order.
 * - `{ anchor: 'index', index }`: anchored VWAP accumulating from bar `index` on; NaN before it (all NaN
 *   if `index` is past the last bar).
 *
 * A bar is NaN while its period has traded no volume, since no price was volume-weighted yet.
 *
 * @returns a new series of the same length as the candles
 */
export function vwap(candles: Candles, options: VwapOptions): Float64Array {
  const { time, high, low, close, volume } = candles;
  const n = time.length;
  let start = 0;
  // A session VWAP resets when a bar reaches the end of its current UTC day; an anchored one never does.
  let periodEnd = -Infinity;
  if (options.anchor === 'index') {
    start = options.index;
    if (!Number.isInteger(start) || start < 0) {
      throw new RangeError(`VWAP anchor index must be an integer >= 0, got ${start}`);
    }
    periodEnd = Infinity;
  }
  const out = allocSeries(n, start);
  let priceVolume = 0;
  let totalVolume = 0;
  for (let i = start; i < n; i++) {
    if (time[i] >= periodEnd) {
      periodEnd = (Math.floor(time[i] / DAY_MS) + 1) * DAY_MS;
      priceVolume = 0;
      totalVolume = 0;
    }
    priceVolume += ((high[i] + low[i] + close[i]) / 3) * volume[i];
    totalVolume += volume[i];
    out[i] = totalVolume > 0 ? priceVolume / totalVolume : NaN;
  }
  return out;
}
