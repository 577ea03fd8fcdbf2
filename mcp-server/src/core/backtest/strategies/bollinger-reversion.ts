import { z } from 'zod';
import { computeSeries, MAX_SERIES_PERIOD } from '../../rules/series.js';
import { defineStrategy } from './types.js';

/**
 * Bollinger band mean reversion. Long when the close crosses back inside the bands from below
 * (close[i-1] <= lower[i-1] and close[i] > lower[i]) while still under the middle band; out once the
 * close reaches the middle band (the mean it reverted to). Shorts mirror it at the upper band. A close
 * that jumps from outside the band past the middle in one bar has already reverted, so it is no entry;
 * entries and exits of one side therefore never share a bar.
 */
export const bollingerReversion = defineStrategy({
  name: 'bollinger_reversion',
  description:
    'Bollinger mean reversion: long when the close crosses back above the lower band, exit at the ' +
    'middle band; shorts the mirror image at the upper band.',
  params: z.strictObject({
    period: z.int().min(2).max(MAX_SERIES_PERIOD).default(20).describe('Band period, bars'),
    mult: z.number().gt(0).max(10).default(2).describe('Band width, standard deviations'),
  }),
  signals(candles, { period, mult }, cache = new Map()) {
    const { close } = candles;
    const n = close.length;
    const args = `(${period},${mult})`;
    const upper = computeSeries(candles, `bb_upper${args}`, cache);
    const middle = computeSeries(candles, `bb_middle${args}`, cache);
    const lower = computeSeries(candles, `bb_lower${args}`, cache);
    const enterLong = new Uint8Array(n);
    const exitLong = new Uint8Array(n);
    const enterShort = new Uint8Array(n);
    const exitShort = new Uint8Array(n);
    for (let i = 1; i < n; i++) {
      const c = close[i];
      const m = middle[i];
      if (close[i - 1] <= lower[i - 1] && c > lower[i] && c < m) enterLong[i] = 1;
      if (close[i - 1] >= upper[i - 1] && c < upper[i] && c > m) enterShort[i] = 1;
      if (c >= m) exitLong[i] = 1;
      if (c <= m) exitShort[i] = 1;
    }
    return { enterLong, exitLong, enterShort, exitShort };
  },
});
