/**
 * TA-Lib parity: every indicator against the native TA-Lib on 20,000 real BTCUSDT 1h candles, with
 * default and non-default parameters. Same NaN warm-up (TA-Lib's begIndex) and every later value within
 * a relative error bound.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  adx,
  atr,
  bollinger,
  ema,
  macd,
  obv,
  rsi,
  sma,
  stochastic,
} from '../../src/core/indicators/index.js';
import { fixturePath, loadCandlesCsv } from '../helpers/csv.js';

interface TalibResult {
  begIndex: number;
  nbElement: number;
  result: Record<string, number[]>;
}
const talib = createRequire(import.meta.url)('talib') as { execute(params: object): TalibResult };

const candles = loadCandlesCsv(fixturePath('BTCUSDT-1h-20k.csv.gz'));
const n = candles.close.length;
const close = Array.from(candles.close);
const high = Array.from(candles.high);
const low = Array.from(candles.low);
const volume = Array.from(candles.volume);

/** Run a TA-Lib function on the whole fixture; each output re-aligned to bar indices, NaN before begIndex. */
function runTalib(name: string, inputs: object): Record<string, Float64Array> {
  const res = talib.execute({ name, startIdx: 0, endIdx: n - 1, ...inputs });
  const aligned: Record<string, Float64Array> = {};
  for (const [key, values] of Object.entries(res.result)) {
    const out = new Float64Array(n).fill(NaN);
    out.set(values.slice(0, res.nbElement), res.begIndex);
    aligned[key] = out;
  }
  return aligned;
}

/** Same NaN positions, and |ours - talib| <= tolerance * max(|ours|, |talib|) everywhere else. */
function expectParity(ours: Float64Array, reference: Float64Array | undefined, tolerance = 1e-9): void {
  expect(reference).toBeDefined();
  const ref = reference!;
  expect(ours.length).toBe(n);
  const firstOurs = ours.findIndex((v) => !Number.isNaN(v));
  const firstRef = ref.findIndex((v) => !Number.isNaN(v));
  expect(firstRef).toBeGreaterThanOrEqual(0);
  expect(firstOurs).toBe(firstRef);
  let worst = 0;
  let worstAt = -1;
  for (let i = firstRef; i < n; i++) {
    const a = ours[i]!;
    const b = ref[i]!;
    const scale = Math.max(Math.abs(a), Math.abs(b));
    const error = scale === 0 ? 0 : Math.abs(a - b) / scale;
    // `!(error <= worst)` also catches a NaN in our output after the warm-up.
    if (!(error <= worst)) {
      worst = error;
      worstAt = i;
    }
  }
  expect(worst, `worst relative error at bar ${worstAt}`).toBeLessThan(tolerance);
}

describe('TA-Lib parity on 20,000 BTCUSDT 1h candles', () => {
  it('loads the full fixture', () => {
    expect(n).toBe(20_000);
  });

  it.each([20, 7, 200])('SMA(%i)', (period) => {
    expectParity(
      sma(candles.close, period),
      runTalib('SMA', { inReal: close, optInTimePeriod: period }).outReal,
    );
  });

  it.each([20, 9, 200])('EMA(%i)', (period) => {
    expectParity(
      ema(candles.close, period),
      runTalib('EMA', { inReal: close, optInTimePeriod: period }).outReal,
    );
  });

  it.each([14, 2, 30])('RSI(%i)', (period) => {
    expectParity(
      rsi(candles.close, period),
      runTalib('RSI', { inReal: close, optInTimePeriod: period }).outReal,
    );
  });

  it('RSI default period is 14', () => {
    expectParity(rsi(candles.close), runTalib('RSI', { inReal: close, optInTimePeriod: 14 }).outReal);
  });

  it.each([
    [12, 26, 9],
    [5, 35, 5],
    [3, 10, 16],
    [26, 12, 9], // TA-Lib swaps a fast period longer than the slow one
  ])('MACD(%i, %i, %i)', (fast, slow, signal) => {
    const ours = macd(candles.close, fast, slow, signal);
    const ref = runTalib('MACD', {
      inReal: close,
      optInFastPeriod: fast,
      optInSlowPeriod: slow,
      optInSignalPeriod: signal,
    });
    expectParity(ours.macd, ref.outMACD);
    expectParity(ours.signal, ref.outMACDSignal);
    expectParity(ours.histogram, ref.outMACDHist);
  });

  it('MACD defaults are 12, 26, 9', () => {
    const ours = macd(candles.close);
    const ref = runTalib('MACD', {
      inReal: close,
      optInFastPeriod: 12,
      optInSlowPeriod: 26,
      optInSignalPeriod: 9,
    });
    expectParity(ours.histogram, ref.outMACDHist);
  });

  it.each([
    [20, 2],
    [10, 1.5],
    [50, 3],
  ])('Bollinger(%i, %f)', (period, stdDev) => {
    const ours = bollinger(candles.close, period, stdDev);
    const ref = runTalib('BBANDS', {
      inReal: close,
      optInTimePeriod: period,
      optInNbDevUp: stdDev,
      optInNbDevDn: stdDev,
      optInMAType: 0,
    });
    expectParity(ours.upper, ref.outRealUpperBand, 1e-6);
    expectParity(ours.middle, ref.outRealMiddleBand, 1e-6);
    expectParity(ours.lower, ref.outRealLowerBand, 1e-6);
  });

  it('Bollinger defaults are 20, 2', () => {
    const ref = runTalib('BBANDS', {
      inReal: close,
      optInTimePeriod: 20,
      optInNbDevUp: 2,
      optInNbDevDn: 2,
      optInMAType: 0,
    });
    expectParity(bollinger(candles.close).upper, ref.outRealUpperBand, 1e-6);
  });

  it.each([14, 1, 5, 50])('ATR(%i)', (period) => {
    const ref = runTalib('ATR', { high, low, close, optInTimePeriod: period });
    expectParity(atr(candles.high, candles.low, candles.close, period), ref.outReal);
  });

  it('ATR default period is 14', () => {
    const ref = runTalib('ATR', { high, low, close, optInTimePeriod: 14 });
    expectParity(atr(candles.high, candles.low, candles.close), ref.outReal);
  });

  it.each([14, 2, 7, 30])('ADX / +DI / -DI (%i)', (period) => {
    const ours = adx(candles.high, candles.low, candles.close, period);
    const inputs = { high, low, close, optInTimePeriod: period };
    expectParity(ours.adx, runTalib('ADX', inputs).outReal);
    expectParity(ours.plusDI, runTalib('PLUS_DI', inputs).outReal);
    expectParity(ours.minusDI, runTalib('MINUS_DI', inputs).outReal);
  });

  it('ADX default period is 14', () => {
    const ref = runTalib('ADX', { high, low, close, optInTimePeriod: 14 });
    expectParity(adx(candles.high, candles.low, candles.close).adx, ref.outReal);
  });

  it.each([
    [14, 3, 3],
    [5, 1, 1],
    [21, 5, 4],
    [9, 3, 6],
  ])('Stochastic(%i, %i, %i)', (fastK, slowK, slowD) => {
    const ours = stochastic(candles.high, candles.low, candles.close, fastK, slowK, slowD);
    const ref = runTalib('STOCH', {
      high,
      low,
      close,
      optInFastK_Period: fastK,
      optInSlowK_Period: slowK,
      optInSlowK_MAType: 0,
      optInSlowD_Period: slowD,
      optInSlowD_MAType: 0,
    });
    expectParity(ours.k, ref.outSlowK);
    expectParity(ours.d, ref.outSlowD);
  });

  it('Stochastic defaults are 14, 3, 3', () => {
    const ref = runTalib('STOCH', {
      high,
      low,
      close,
      optInFastK_Period: 14,
      optInSlowK_Period: 3,
      optInSlowK_MAType: 0,
      optInSlowD_Period: 3,
      optInSlowD_MAType: 0,
    });
    expectParity(stochastic(candles.high, candles.low, candles.close).d, ref.outSlowD);
  });

  it('OBV', () => {
    expectParity(obv(candles.close, candles.volume), runTalib('OBV', { inReal: close, volume }).outReal);
  });

  it('OBV on the highs (a second input series)', () => {
    expectParity(obv(candles.high, candles.volume), runTalib('OBV', { inReal: high, volume }).outReal);
  });
});
