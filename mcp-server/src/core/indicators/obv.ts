import { assertSameLength } from './guards.js';

/** Bars before the first OBV value: none. */
export const OBV_LOOKBACK = 0;

/**
 * On-Balance Volume (TA-Lib `OBV`): starts at `volume[0]`, then adds the bar's volume when the close
 * rises, subtracts it when the close falls, and carries it over when the close is unchanged.
 *
 * @param close closes, oldest first
 * @param volume volumes, same length
 * @returns a new series of the same length, defined from bar 0
 */
export function obv(close: Float64Array, volume: Float64Array): Float64Array {
  assertSameLength('OBV', close, volume);
  const n = close.length;
  const out = new Float64Array(n);
  if (n === 0) return out;
  let total = volume[0];
  out[0] = total;
  for (let i = 1; i < n; i++) {
    if (close[i] > close[i - 1]) total += volume[i];
    else if (close[i] < close[i - 1]) total -= volume[i];
    out[i] = total;
  }
  return out;
}
