import { assertPeriod, assertSameLength } from './guards.js';
import { isNearZero } from './near-zero.js';
import { allocSeries } from './series.js';
import { trueRange } from './true-range.js';

/** ADX and the two directional indicators it is built from, each aligned with the input bars. */
export interface AdxResult {
  /** Average Directional Index, 0..100: trend strength regardless of direction. */
  adx: Float64Array;
  /** +DI, 0..100: share of the true range made by up-moves. */
  plusDI: Float64Array;
  /** -DI, 0..100: share of the true range made by down-moves. */
  minusDI: Float64Array;
}

/** Bars before the first +DI / -DI value: `period`. */
export function directionalIndicatorLookback(period = 14): number {
  return period;
}

/** Bars before the first ADX value: `2 * period - 1`. */
export function adxLookback(period = 14): number {
  return 2 * period - 1;
}

/**
 * Wilder's directional movement system in one pass (TA-Lib `ADX`, `PLUS_DI` and `MINUS_DI`).
 *
 * Per bar, +DM is the up-move (high - previous high) when positive and larger than the down-move
 * (previous low - low), -DM the down-move in the mirror case, else both are 0. They and the true range
 * are summed over bars 1..period-1, then Wilder-smoothed (s = s - s / period + x), giving
 * +DI = 100 * +DM / TR and -DI = 100 * -DM / TR from bar `period` (0 where TR is near zero).
 * DX = 100 * |+DI - -DI| / (+DI + -DI); the first ADX is the mean DX of bars period..2*period-1, then
 * adx = (adx * (period - 1) + dx) / period. Bars where DX is undefined leave the ADX unchanged.
 *
 * @param high highs, oldest first
 * @param low lows, same length
 * @param close closes, same length
 * @param period integer >= 1 (TA-Lib accepts >= 2; at 1 its `PLUS_DI` returns a ratio, not a percentage), default 14
 * @returns new series of the same length: DIs NaN for the first `period` bars, ADX for the first `2 * period - 1`
 */
export function adx(high: Float64Array, low: Float64Array, close: Float64Array, period = 14): AdxResult {
  assertPeriod('ADX period', period);
  assertSameLength('ADX', high, low, close);
  const n = close.length;
  const firstAdx = adxLookback(period);
  const result: AdxResult = {
    adx: allocSeries(n, firstAdx),
    plusDI: allocSeries(n, directionalIndicatorLookback(period)),
    minusDI: allocSeries(n, directionalIndicatorLookback(period)),
  };
  const { adx: adxOut, plusDI: plusOut, minusDI: minusOut } = result;

  let plusDM = 0;
  let minusDM = 0;
  let range = 0;
  let sumDX = 0;
  let average = 0;
  for (let i = 1; i < n; i++) {
    const upMove = high[i] - high[i - 1];
    const downMove = low[i - 1] - low[i];
    const tr = trueRange(high[i], low[i], close[i - 1]);
    if (i >= period) {
      plusDM -= plusDM / period;
      minusDM -= minusDM / period;
      range -= range / period;
    }
    if (downMove > 0 && upMove < downMove) minusDM += downMove;
    else if (upMove > 0 && upMove > downMove) plusDM += upMove;
    range += tr;
    if (i < period) continue;

    let plusDI = 0;
    let minusDI = 0;
    let dx = 0;
    let hasDX = false;
    if (!isNearZero(range)) {
      plusDI = 100 * (plusDM / range);
      minusDI = 100 * (minusDM / range);
      const diSum = minusDI + plusDI;
      hasDX = !isNearZero(diSum);
      if (hasDX) dx = 100 * (Math.abs(minusDI - plusDI) / diSum);
    }
    plusOut[i] = plusDI;
    minusOut[i] = minusDI;
    // TA-Lib skips bars with an undefined DX: they add 0 to the seed sum and leave the ADX as it was.
    if (i <= firstAdx) {
      sumDX += dx;
      if (i === firstAdx) average = sumDX / period;
    } else if (hasDX) {
      average = (average * (period - 1) + dx) / period;
    }
    if (i >= firstAdx) adxOut[i] = average;
  }
  return result;
}
