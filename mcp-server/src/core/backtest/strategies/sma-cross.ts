import { z } from 'zod';
import { computeSeries, MAX_SERIES_PERIOD } from '../../rules/series.js';
import { maCrossSignals } from './ma-cross.js';
import { defineStrategy } from './types.js';

/**
 * Crossover signals from precomputed SMAs (`sma(close, fast)`, `sma(close, slow)`): the fast path for
 * parameter grids, where the ~100 distinct SMAs of thousands of (fast, slow) pairs are computed once.
 * Same signals as `sma_cross`; see `maCrossSignals`.
 */
export const smaCrossSignals = maCrossSignals;

export const smaCross = defineStrategy({
  name: 'sma_cross',
  description:
    'Simple moving average crossover: long when the fast SMA of the close crosses above the slow one, ' +
    'exit (or go short, if shorts are allowed) when it crosses below.',
  params: z
    .strictObject({
      fast: z.int().min(1).max(MAX_SERIES_PERIOD).default(20).describe('Fast SMA period, bars'),
      slow: z.int().min(2).max(MAX_SERIES_PERIOD).default(50).describe('Slow SMA period, bars'),
    })
    .refine((p) => p.fast < p.slow, { message: 'fast must be shorter than slow', path: ['fast'] }),
  signals(candles, { fast, slow }, cache = new Map()) {
    return maCrossSignals(
      computeSeries(candles, `sma(${fast})`, cache),
      computeSeries(candles, `sma(${slow})`, cache),
    );
  },
});
