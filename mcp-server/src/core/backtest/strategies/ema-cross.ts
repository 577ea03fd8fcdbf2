import { z } from 'zod';
import { computeSeries, MAX_SERIES_PERIOD } from '../../rules/series.js';
import { maCrossSignals } from './ma-cross.js';
import { defineStrategy } from './types.js';

export const emaCross = defineStrategy({
  name: 'ema_cross',
  description:
    'Exponential moving average crossover: long when the fast EMA of the close crosses above the slow ' +
    'one, exit (or go short, if shorts are allowed) when it crosses below.',
  params: z
    .strictObject({
      fast: z.int().min(1).max(MAX_SERIES_PERIOD).default(12).describe('Fast EMA period, bars'),
      slow: z.int().min(2).max(MAX_SERIES_PERIOD).default(26).describe('Slow EMA period, bars'),
    })
    .refine((p) => p.fast < p.slow, { message: 'fast must be shorter than slow', path: ['fast'] }),
  signals(candles, { fast, slow }, cache = new Map()) {
    return maCrossSignals(
      computeSeries(candles, `ema(${fast})`, cache),
      computeSeries(candles, `ema(${slow})`, cache),
    );
  },
});
