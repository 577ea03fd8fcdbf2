import { z } from 'zod';
import { computeSeries, MAX_SERIES_PERIOD } from '../../rules/series.js';
import type { Signals } from '../types.js';
import { defineStrategy } from './types.js';

/**
 * RSI mean reversion. Long when the RSI crosses up through `oversold` (rsi[i-1] <= oversold <
 * rsi[i]): the selling has started to fade. Out of the long when it crosses up through `overbought`,
 * or `max_bars` bars after the last long entry signal, so a reversion that never comes does not tie
 * the capital up forever. Shorts mirror it: enter on the cross down through `overbought`, leave on the
 * cross down through `oversold` or after `max_bars`.
 *
 * The timer follows the strategy's own view of the position (opened by an entry signal, closed by an
 * exit signal; a new entry signal while open restarts it, as the engine keeps the position), so it is
 * causal and never puts an entry and an exit of the same side on one bar.
 */
export const rsiReversion = defineStrategy({
  name: 'rsi_reversion',
  description:
    'RSI mean reversion: long when the RSI crosses back up through the oversold level, exit when it ' +
    'crosses the overbought level or after max_bars bars; shorts the mirror image.',
  params: z
    .strictObject({
      period: z.int().min(2).max(MAX_SERIES_PERIOD).default(14).describe('RSI period, bars'),
      oversold: z.number().gt(0).lt(100).default(30).describe('Oversold level, 0-100'),
      overbought: z.number().gt(0).lt(100).default(70).describe('Overbought level, 0-100'),
      max_bars: z
        .int()
        .min(0)
        .max(1_000_000)
        .default(48)
        .describe('Exit this many bars after the last entry signal; 0 = no time exit'),
    })
    .refine((p) => p.oversold < p.overbought, {
      message: 'oversold must be below overbought',
      path: ['oversold'],
    }),
  signals(candles, { period, oversold, overbought, max_bars: maxBars }, cache = new Map()) {
    const r = computeSeries(candles, `rsi(${period})`, cache);
    const n = r.length;
    const s: Required<Pick<Signals, 'enterLong' | 'exitLong' | 'enterShort' | 'exitShort'>> = {
      enterLong: new Uint8Array(n),
      exitLong: new Uint8Array(n),
      enterShort: new Uint8Array(n),
      exitShort: new Uint8Array(n),
    };
    let longSince = -1; // bar of the last long entry signal while the strategy is long, else -1
    let shortSince = -1;
    for (let i = 1; i < n; i++) {
      const prev = r[i - 1];
      const now = r[i];
      // NaN compares false, so warm-up bars never cross.
      if (prev <= oversold && now > oversold) {
        s.enterLong[i] = 1;
        longSince = i;
      } else if (
        longSince >= 0 &&
        ((prev <= overbought && now > overbought) || (maxBars > 0 && i - longSince >= maxBars))
      ) {
        s.exitLong[i] = 1;
        longSince = -1;
      }
      if (prev >= overbought && now < overbought) {
        s.enterShort[i] = 1;
        shortSince = i;
      } else if (
        shortSince >= 0 &&
        ((prev >= oversold && now < oversold) || (maxBars > 0 && i - shortSince >= maxBars))
      ) {
        s.exitShort[i] = 1;
        shortSince = -1;
      }
    }
    return s;
  },
});
