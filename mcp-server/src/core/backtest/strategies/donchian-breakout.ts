import { z } from 'zod';
import { computeSeries, MAX_SERIES_PERIOD } from '../../rules/series.js';
import { defineStrategy } from './types.js';

/**
 * Donchian channel breakout (the Turtle rule). Long when the close breaks above the highest high of
 * the previous `entry` bars; out when it closes below the lowest low of the previous `exit` bars, with a
 * protective stop at that same `exit`-bar low, so the exit rule also acts inside the bar. Shorts mirror
 * it. The channels exclude the signal bar itself (see `donchianHigh`), which is what makes a close
 * above them possible, and the stop is always on the right side of the close: the previous `exit`-bar
 * low is at most the previous bar's low, below the previous `entry`-bar high the close just broke.
 */
export const donchianBreakout = defineStrategy({
  name: 'donchian_breakout',
  description:
    'Donchian breakout: long on a close above the previous `entry`-bar high, exit on a close below the ' +
    'previous `exit`-bar low, stop at that low; shorts the mirror image.',
  params: z.strictObject({
    entry: z.int().min(1).max(MAX_SERIES_PERIOD).default(20).describe('Breakout channel length, bars'),
    exit: z.int().min(1).max(MAX_SERIES_PERIOD).default(10).describe('Exit channel (and stop) length, bars'),
  }),
  signals(candles, { entry, exit }, cache = new Map()) {
    const { close } = candles;
    const n = close.length;
    const entryHigh = computeSeries(candles, `donchian_high(${entry})`, cache);
    const entryLow = computeSeries(candles, `donchian_low(${entry})`, cache);
    const exitHigh = computeSeries(candles, `donchian_high(${exit})`, cache);
    const exitLow = computeSeries(candles, `donchian_low(${exit})`, cache);
    const enterLong = new Uint8Array(n);
    const exitLong = new Uint8Array(n);
    const enterShort = new Uint8Array(n);
    const exitShort = new Uint8Array(n);
    const stopPrice = new Float64Array(n).fill(NaN);
    for (let i = 0; i < n; i++) {
      const c = close[i];
      // NaN channels (warm-up) compare false.
      if (c > entryHigh[i]) {
        enterLong[i] = 1;
        stopPrice[i] = exitLow[i];
      } else if (c < entryLow[i]) {
        enterShort[i] = 1;
        stopPrice[i] = exitHigh[i];
      }
      if (c < exitLow[i]) exitLong[i] = 1;
      if (c > exitHigh[i]) exitShort[i] = 1;
    }
    return { enterLong, exitLong, enterShort, exitShort, stopPrice };
  },
});
