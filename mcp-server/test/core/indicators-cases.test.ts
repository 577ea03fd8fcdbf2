/**
 * Hand-checked values, TA-Lib's documented corner behaviours, edge cases and argument errors.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  adx,
  adxLookback,
  atr,
  atrLookback,
  bollinger,
  bollingerLookback,
  directionalIndicatorLookback,
  ema,
  emaLookback,
  macd,
  macdLookback,
  obv,
  OBV_LOOKBACK,
  rsi,
  rsiLookback,
  sma,
  smaLookback,
  stochastic,
  stochasticLookback,
} from '../../src/core/indicators/index.js';
import { fixturePath, loadCandlesCsv } from '../helpers/csv.js';

const talib = createRequire(import.meta.url)('talib') as {
  execute(params: object): { begIndex: number; nbElement: number; result: Record<string, number[]> };
};

const f64 = (values: number[]): Float64Array => Float64Array.from(values);

/** Element-wise comparison where NaN must match NaN and numbers must agree to ~1e-12 relative. */
function expectSeries(actual: Float64Array, expected: number[]): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((want, i) => {
    if (Number.isNaN(want)) expect(actual[i], `bar ${i}`).toBeNaN();
    else
      expect(Math.abs(actual[i]! - want), `bar ${i}: ${actual[i]} vs ${want}`).toBeLessThan(
        1e-12 * Math.max(1, Math.abs(want)),
      );
  });
}

const N = NaN;

describe('hand-checked values', () => {
  it('SMA of 1..5 over 3 bars', () => {
    expectSeries(sma(f64([1, 2, 3, 4, 5]), 3), [N, N, 2, 3, 4]);
  });

  it('EMA seeds with the SMA, then smooths with k = 2 / (period + 1)', () => {
    // seed (10 + 20 + 30) / 3 = 20; k = 0.5: (10 - 20) * 0.5 + 20 = 15; (40 - 15) * 0.5 + 15 = 27.5
    expectSeries(ema(f64([10, 20, 30, 10, 40]), 3), [N, N, 20, 15, 27.5]);
  });

  it('RSI(3) of a short series, Wilder-smoothed', () => {
    // changes +1 +1 -1 +2 -1; seed gain 2/3, loss 1/3 -> 66.67; then gain 10/9, loss 2/9 -> 83.33;
    // then gain 20/27, loss 13/27 -> 100 * 20 / 33
    expectSeries(rsi(f64([10, 11, 12, 11, 13, 12]), 3), [N, N, N, 200 / 3, 250 / 3, 2000 / 33]);
  });

  it('RSI is 100 on a rising series, 0 on a falling one, and 0 on a flat one (as TA-Lib)', () => {
    const up = f64(Array.from({ length: 30 }, (_, i) => 100 + i));
    const down = up.slice().reverse();
    const flat = new Float64Array(30).fill(42);
    expect(Array.from(rsi(up).subarray(14))).toEqual(new Array(16).fill(100));
    expect(Array.from(rsi(down).subarray(14))).toEqual(new Array(16).fill(0));
    expect(Array.from(rsi(flat).subarray(14))).toEqual(new Array(16).fill(0));
    const ref = talib.execute({
      name: 'RSI',
      startIdx: 0,
      endIdx: 29,
      inReal: Array.from(flat),
      optInTimePeriod: 14,
    });
    expect(ref.begIndex).toBe(14);
    expect(ref.result.outReal!.slice(0, ref.nbElement)).toEqual(new Array(16).fill(0));
  });

  it('MACD seeds the fast EMA on the bars ending at the slow seed (TA-Lib alignment)', () => {
    // slow(3) seed = mean(1, 5, 2) = 8/3 at bar 2; fast(2) seed = mean(5, 2) = 3.5 at bar 2, not mean(1, 5).
    // bar 2: 3.5 - 8/3 = 5/6; bar 3: fast 6.5, slow 16/3 -> 7/6; bar 4: fast 25/6, slow 25/6 -> 0.
    // signal(2) = mean(5/6, 7/6) = 1 at bar 3, then (0 - 1) * 2/3 + 1 = 1/3.
    const close = f64([1, 5, 2, 8, 3]);
    const result = macd(close, 2, 3, 2);
    expectSeries(result.macd, [N, N, N, 7 / 6, 0]);
    expectSeries(result.signal, [N, N, N, 1, 1 / 3]);
    expectSeries(result.histogram, [N, N, N, 1 / 6, -1 / 3]);
    // A fast period longer than the slow one is swapped, as in TA-Lib.
    expectSeries(macd(close, 3, 2, 2).histogram, [N, N, N, 1 / 6, -1 / 3]);
    // Signal period 1: the signal is the MACD line itself.
    const unsmoothed = macd(close, 2, 3, 1);
    expectSeries(unsmoothed.signal, [N, N, 5 / 6, 7 / 6, 0]);
    expectSeries(unsmoothed.histogram, [N, N, 0, 0, 0]);
  });

  it('Bollinger uses the population standard deviation', () => {
    // mean 3, population variance (4 + 1 + 0 + 1 + 4) / 5 = 2; then mean 4.8, variance 38.8 / 5
    const bands = bollinger(f64([1, 2, 3, 4, 5, 10]), 5, 2);
    expectSeries(bands.middle, [N, N, N, N, 3, 4.8]);
    expectSeries(bands.upper, [N, N, N, N, 3 + 2 * Math.SQRT2, 4.8 + 2 * Math.sqrt(38.8 / 5)]);
    expectSeries(bands.lower, [N, N, N, N, 3 - 2 * Math.SQRT2, 4.8 - 2 * Math.sqrt(38.8 / 5)]);
  });

  it('ATR counts gaps from the previous close and Wilder-smooths', () => {
    const high = f64([10, 11, 12, 11, 9]);
    const low = f64([8, 9, 10.5, 7, 8.5]);
    const close = f64([9, 10, 11, 8, 9]);
    // true ranges of bars 1..4: 2, 2, 4 (down gap), 1 (|9 - 8|, up gap)
    expectSeries(atr(high, low, close, 2), [N, N, 2, 3, 2]);
    expectSeries(atr(high, low, close, 1), [N, 2, 2, 4, 1]);
  });

  it('ADX is 100 in a pure trend and +DI / -DI split by direction', () => {
    const bars = 40;
    const highs = Array.from({ length: bars }, (_, i) => 100 + i);
    const up = adx(f64(highs), f64(highs.map((h) => h - 1)), f64(highs.map((h) => h - 0.5)), 5);
    // +DM 1 and TR 1.5 every bar, -DM 0: +DI = 100 / 1.5, DX = 100.
    for (let i = 5; i < bars; i++) {
      expect(up.plusDI[i]).toBeCloseTo(200 / 3, 10);
      expect(up.minusDI[i]).toBe(0);
    }
    for (let i = 9; i < bars; i++) expect(up.adx[i]).toBeCloseTo(100, 10);

    const lows = highs.slice().reverse();
    const down = adx(f64(lows.map((l) => l + 1)), f64(lows), f64(lows.map((l) => l + 0.5)), 5);
    expect(down.minusDI[bars - 1]).toBeCloseTo(200 / 3, 10);
    expect(down.plusDI[bars - 1]).toBe(0);
    expect(down.adx[bars - 1]).toBeCloseTo(100, 10);
  });

  it('Stochastic(3, 1, 1) is the raw %K and (3, 2, 2) smooths it twice', () => {
    const high = f64([3, 4, 5, 4, 6, 7]);
    const low = f64([1, 2, 3, 1, 4, 5]);
    const close = f64([2, 3, 4, 2, 5, 7]);
    // raw %K: bar 2 (4 - 1) / (5 - 1) = 75, bar 3 25, bar 4 (5 - 1) / (6 - 1) = 80, bar 5 100
    const raw = stochastic(high, low, close, 3, 1, 1);
    expectSeries(raw.k, [N, N, 75, 25, 80, 100]);
    expectSeries(raw.d, [N, N, 75, 25, 80, 100]);
    // slow %K(2): 50, 52.5, 90 from bar 3; %D(2): 51.25, 71.25 from bar 4; %K blank until %D exists
    const slow = stochastic(high, low, close, 3, 2, 2);
    expectSeries(slow.k, [N, N, N, N, 52.5, 90]);
    expectSeries(slow.d, [N, N, N, N, 51.25, 71.25]);
  });

  it('OBV starts at the first volume and follows the sign of the close change', () => {
    expectSeries(obv(f64([10, 11, 11, 9, 12]), f64([100, 50, 30, 20, 10])), [100, 150, 150, 130, 140]);
  });
});

describe('edge cases', () => {
  const flat = new Float64Array(60).fill(100);

  it('empty input gives empty output', () => {
    const empty = new Float64Array(0);
    expect(sma(empty, 3).length).toBe(0);
    expect(ema(empty, 3).length).toBe(0);
    expect(rsi(empty).length).toBe(0);
    expect(macd(empty).macd.length).toBe(0);
    expect(bollinger(empty).upper.length).toBe(0);
    expect(atr(empty, empty, empty).length).toBe(0);
    expect(adx(empty, empty, empty).adx.length).toBe(0);
    expect(stochastic(empty, empty, empty).k.length).toBe(0);
    expect(obv(empty, empty).length).toBe(0);
  });

  it('input shorter than the warm-up gives all NaN of the same length; one bar more gives one value', () => {
    const cases: [string, (x: Float64Array) => Float64Array, number][] = [
      ['sma', (x) => sma(x, 10), smaLookback(10)],
      ['ema', (x) => ema(x, 10), emaLookback(10)],
      ['rsi', (x) => rsi(x), rsiLookback(14)],
      ['macd', (x) => macd(x).signal, macdLookback()],
      ['bollinger', (x) => bollinger(x).lower, bollingerLookback()],
      ['atr', (x) => atr(x, x, x), atrLookback()],
      ['adx', (x) => adx(x, x, x).adx, adxLookback()],
      ['+di', (x) => adx(x, x, x).plusDI, directionalIndicatorLookback()],
      ['stochastic', (x) => stochastic(x, x, x).k, stochasticLookback()],
    ];
    for (const [name, run, lookback] of cases) {
      const short = run(flat.subarray(0, lookback));
      expect(short.length, name).toBe(lookback);
      expect(short.every(Number.isNaN), name).toBe(true);
      const justEnough = run(flat.subarray(0, lookback + 1));
      expect(Number.isNaN(justEnough[lookback - 1]!), name).toBe(true);
      expect(Number.isFinite(justEnough[lookback]!), name).toBe(true);
    }
  });

  it('constant input: averages equal it, oscillators take TA-Lib’s zero-range values', () => {
    expect(sma(flat, 20)[59]).toBe(100);
    expect(ema(flat, 20)[59]).toBe(100);
    expect(rsi(flat)[59]).toBe(0);
    expect(macd(flat).histogram[59]).toBe(0);
    const bands = bollinger(flat);
    expect(bands.upper[59]).toBe(100);
    expect(bands.lower[59]).toBe(100);
    expect(atr(flat, flat, flat)[59]).toBe(0);
    const dmi = adx(flat, flat, flat);
    expect([dmi.adx[59], dmi.plusDI[59], dmi.minusDI[59]]).toEqual([0, 0, 0]);
    expect(stochastic(flat, flat, flat).d[59]).toBe(0);
    expect(obv(flat, new Float64Array(60).fill(7))[59]).toBe(7);
  });

  it('constant non-representable prices give a zero-width band (not a rounding artefact)', () => {
    const bands = bollinger(new Float64Array(100).fill(0.1), 20, 2);
    for (let i = 19; i < 100; i++) expect(bands.upper[i]! - bands.lower[i]!).toBeLessThan(1e-15);
  });

  it('period 1 is the identity for SMA and EMA', () => {
    const x = f64([3, 1, 4, 1, 5, 9, 2, 6]);
    expect(Array.from(sma(x, 1))).toEqual(Array.from(x));
    expect(Array.from(ema(x, 1))).toEqual(Array.from(x));
  });

  it('works on subarray views and never mutates its inputs', () => {
    const c = loadCandlesCsv(fixturePath('BTCUSDT-1h-20k.csv.gz'), 600);
    const before = Float64Array.from(c.close);
    const view = c.close.subarray(100, 400);
    expect(Array.from(rsi(view))).toEqual(Array.from(rsi(Float64Array.from(view))));
    sma(c.close, 5);
    ema(c.close, 5);
    rsi(c.close);
    macd(c.close);
    bollinger(c.close);
    atr(c.high, c.low, c.close);
    adx(c.high, c.low, c.close);
    stochastic(c.high, c.low, c.close);
    obv(c.close, c.volume);
    expect(Array.from(c.close)).toEqual(Array.from(before));
  });
});

describe('warm-up lengths and NaN-free output on real candles', () => {
  const c = loadCandlesCsv(fixturePath('BTCUSDT-1h-20k.csv.gz'), 5000);

  /** NaN exactly on the first `lookback` bars, finite on every bar after. */
  function expectWarmup(series: Float64Array, lookback: number): void {
    expect(series.length).toBe(c.close.length);
    const firstValue = series.findIndex((v) => !Number.isNaN(v));
    expect(firstValue).toBe(lookback);
    expect(series.subarray(lookback).every(Number.isFinite)).toBe(true);
  }

  it('each output starts at its lookback', () => {
    expectWarmup(sma(c.close, 50), smaLookback(50));
    expectWarmup(ema(c.close, 50), emaLookback(50));
    expectWarmup(rsi(c.close, 21), rsiLookback(21));
    const m = macd(c.close, 5, 35, 5);
    for (const s of [m.macd, m.signal, m.histogram]) expectWarmup(s, macdLookback(5, 35, 5));
    expect(macdLookback(26, 12, 9)).toBe(macdLookback(12, 26, 9));
    const b = bollinger(c.close, 30, 2.5);
    for (const s of [b.upper, b.middle, b.lower]) expectWarmup(s, bollingerLookback(30));
    expectWarmup(atr(c.high, c.low, c.close, 10), atrLookback(10));
    const d = adx(c.high, c.low, c.close, 10);
    expectWarmup(d.adx, adxLookback(10));
    expectWarmup(d.plusDI, directionalIndicatorLookback(10));
    expectWarmup(d.minusDI, directionalIndicatorLookback(10));
    const s = stochastic(c.high, c.low, c.close, 21, 5, 4);
    expectWarmup(s.k, stochasticLookback(21, 5, 4));
    expectWarmup(s.d, stochasticLookback(21, 5, 4));
    expectWarmup(obv(c.close, c.volume), OBV_LOOKBACK);
  });

  it('bands and oscillators stay in range', () => {
    const r = rsi(c.close);
    const s = stochastic(c.high, c.low, c.close);
    const d = adx(c.high, c.low, c.close);
    for (const series of [r, s.k, s.d, d.adx, d.plusDI, d.minusDI]) {
      for (const v of series) if (!Number.isNaN(v)) expect(v >= 0 && v <= 100).toBe(true);
    }
    const b = bollinger(c.close);
    for (let i = 19; i < c.close.length; i++)
      expect(b.lower[i]! <= b.middle[i]! && b.middle[i]! <= b.upper[i]!).toBe(true);
  });
});

describe('Bollinger deviation accuracy (where it deliberately differs from TA-Lib)', () => {
  const c = loadCandlesCsv(fixturePath('BTCUSDT-1h-20k.csv.gz'));
  const close = c.close;
  const period = 20;

  /** Exact two-pass population σ of each window, recomputed from scratch. */
  function twoPassSigma(values: Float64Array, i: number): number {
    let sum = 0;
    for (let j = i - period + 1; j <= i; j++) sum += values[j]!;
    const mean = sum / period;
    let squares = 0;
    for (let j = i - period + 1; j <= i; j++) squares += (values[j]! - mean) ** 2;
    return Math.sqrt(squares / period);
  }

  it('σ stays within 1e-9 relative of an exact two-pass σ over 20,000 bars', () => {
    const bands = bollinger(close, period, 1);
    let worst = 0;
    for (let i = period - 1; i < close.length; i++) {
      const exact = twoPassSigma(close, i);
      worst = Math.max(worst, Math.abs(bands.upper[i]! - bands.middle[i]! - exact) / exact);
    }
    expect(worst).toBeLessThan(1e-9);
  });

  it('is scale-free: micro-priced tokens get real bands where TA-Lib reports zero width', () => {
    const scale = 1e-10; // BTC at ~1e5 becomes ~1e-5, like many memecoins
    const tiny = close.map((v) => v * scale);
    const bands = bollinger(tiny, period, 2);
    const reference = bollinger(close, period, 2);
    for (let i = period - 1; i < close.length; i += 97) {
      const width = bands.upper[i]! - bands.lower[i]!;
      const referenceWidth = (reference.upper[i]! - reference.lower[i]!) * scale;
      expect(Math.abs(width - referenceWidth) / referenceWidth).toBeLessThan(1e-9);
    }
    const ta = talib.execute({
      name: 'BBANDS',
      startIdx: 0,
      endIdx: 999,
      inReal: Array.from(tiny.subarray(0, 1000)),
      optInTimePeriod: period,
      optInNbDevUp: 2,
      optInNbDevDn: 2,
      optInMAType: 0,
    });
    // TA-Lib clamps any variance under 1e-14 (σ < 1e-7) to 0, collapsing most of these bands.
    const upper = ta.result.outRealUpperBand!.slice(0, ta.nbElement);
    const lower = ta.result.outRealLowerBand!;
    const collapsed = upper.filter((u, i) => u === lower[i]).length;
    expect(collapsed / ta.nbElement).toBeGreaterThan(0.5);
    for (let i = period - 1; i < 1000; i++) expect(bands.upper[i]!).toBeGreaterThan(bands.lower[i]!);
  });
});

describe('argument errors', () => {
  const x = f64([1, 2, 3, 4, 5]);

  it.each([0, -1, 2.5, NaN, Infinity])('rejects period %s', (bad) => {
    expect(() => sma(x, bad)).toThrow(RangeError);
    expect(() => ema(x, bad)).toThrow(/EMA period must be an integer >= 1/);
    expect(() => rsi(x, bad)).toThrow(RangeError);
    expect(() => macd(x, bad)).toThrow(/MACD fast period/);
    expect(() => macd(x, 12, bad)).toThrow(/MACD slow period/);
    expect(() => macd(x, 12, 26, bad)).toThrow(/MACD signal period/);
    expect(() => bollinger(x, bad)).toThrow(RangeError);
    expect(() => atr(x, x, x, bad)).toThrow(RangeError);
    expect(() => adx(x, x, x, bad)).toThrow(RangeError);
    expect(() => stochastic(x, x, x, bad)).toThrow(/fastK/);
    expect(() => stochastic(x, x, x, 14, bad)).toThrow(/slowK/);
    expect(() => stochastic(x, x, x, 14, 3, bad)).toThrow(/slowD/);
  });

  it('rejects a negative or non-finite Bollinger width', () => {
    expect(() => bollinger(x, 3, -1)).toThrow(/stdDev/);
    expect(() => bollinger(x, 3, NaN)).toThrow(/stdDev/);
  });

  it('rejects columns of different lengths', () => {
    const short = f64([1, 2]);
    expect(() => atr(x, x, short)).toThrow(/same length/);
    expect(() => adx(x, short, x)).toThrow(/same length/);
    expect(() => stochastic(short, x, x)).toThrow(/same length/);
    expect(() => obv(x, short)).toThrow(/same length/);
  });
});

describe('TA-Lib parity on adversarial synthetic series', () => {
  // Long monotonic runs (the extreme leaves the window every bar), plateaus (ties) and jumps.
  const n = 3000;
  const high = new Float64Array(n);
  const low = new Float64Array(n);
  const close = new Float64Array(n);
  let price = 100;
  for (let i = 0; i < n; i++) {
    const phase = Math.floor(i / 150) % 4;
    price += phase === 0 ? 0.5 : phase === 1 ? -0.5 : phase === 2 ? 0 : ((i * 7919) % 13) - 6;
    high[i] = price + (phase === 2 ? 0 : 1 + (i % 3));
    low[i] = price - (phase === 2 ? 0 : 1 + (i % 5));
    close[i] = price + (phase === 2 ? 0 : (i % 7) - 3) * 0.1;
  }

  function talibSeries(name: string, inputs: object, key: string): Float64Array {
    const res = talib.execute({ name, startIdx: 0, endIdx: n - 1, ...inputs });
    const out = new Float64Array(n).fill(NaN);
    out.set(res.result[key]!.slice(0, res.nbElement), res.begIndex);
    return out;
  }

  function expectSame(ours: Float64Array, ref: Float64Array): void {
    for (let i = 0; i < n; i++) {
      if (Number.isNaN(ref[i]!)) expect(ours[i], `bar ${i}`).toBeNaN();
      else
        expect(Math.abs(ours[i]! - ref[i]!), `bar ${i}`).toBeLessThanOrEqual(
          1e-9 * Math.max(1, Math.abs(ref[i]!)),
        );
    }
  }

  const hlc = { high: Array.from(high), low: Array.from(low), close: Array.from(close) };

  it('Stochastic', () => {
    const ours = stochastic(high, low, close, 14, 3, 3);
    const inputs = {
      ...hlc,
      optInFastK_Period: 14,
      optInSlowK_Period: 3,
      optInSlowK_MAType: 0,
      optInSlowD_Period: 3,
      optInSlowD_MAType: 0,
    };
    expectSame(ours.k, talibSeries('STOCH', inputs, 'outSlowK'));
    expectSame(ours.d, talibSeries('STOCH', inputs, 'outSlowD'));
  });

  it('ADX / +DI / -DI, including zero-range plateaus', () => {
    const ours = adx(high, low, close, 14);
    const inputs = { ...hlc, optInTimePeriod: 14 };
    expectSame(ours.adx, talibSeries('ADX', inputs, 'outReal'));
    expectSame(ours.plusDI, talibSeries('PLUS_DI', inputs, 'outReal'));
    expectSame(ours.minusDI, talibSeries('MINUS_DI', inputs, 'outReal'));
  });

  it('RSI', () => {
    expectSame(rsi(close), talibSeries('RSI', { inReal: hlc.close, optInTimePeriod: 14 }, 'outReal'));
  });
});
