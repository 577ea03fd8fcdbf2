import { describe, expect, it } from 'vitest';
import { candlesFromRows, sliceCandles, type Candles } from '../../src/core/candles.js';
import type { CandleSeries } from '../../src/market/types.js';
import { decodeValue, encodeValue } from '../../src/store/value-codec.js';

const COLUMNS = ['time', 'open', 'high', 'low', 'close', 'volume'] as const;

/** `n` candles with awkward doubles mixed in: -0, NaN, ±Infinity, subnormals, values JSON would round. */
function makeSeries(n: number): CandleSeries {
  const rows: number[][] = [];
  let price = 43_000.123456789;
  for (let i = 0; i < n; i++) {
    price *= 1 + Math.sin(i) / 1000;
    rows.push([1_700_000_000_000 + i * 3_600_000, price, price * 1.01, price * 0.99, price + 0.1 / 3, i / 7]);
  }
  const candles = candlesFromRows(rows);
  const odd = [-0, NaN, Infinity, -Infinity, 5e-324, 0.1 + 0.2, Number.MAX_VALUE];
  odd.forEach((v, i) => (candles.volume[i] = v));
  return {
    symbol: 'BTC/USDT',
    exchange: 'binance',
    timeframe: '1h',
    candles,
    source: 'exchange',
    asOf: 1_700_000_000_000 + n * 3_600_000,
    fetchedAt: 1_700_000_000_123,
  };
}

function expectSameCandles(actual: Candles, expected: Candles): void {
  for (const col of COLUMNS) {
    expect(actual[col]).toBeInstanceOf(Float64Array);
    expect(actual[col].length).toBe(expected[col].length);
    const a = Buffer.from(actual[col].buffer, actual[col].byteOffset, actual[col].byteLength);
    const e = Buffer.from(expected[col].buffer, expected[col].byteOffset, expected[col].byteLength);
    expect(a.equals(e), `${col} bitwise`).toBe(true);
  }
}

describe('value codec', () => {
  it('round-trips a CandleSeries bit for bit', () => {
    const series = makeSeries(500);
    const back = decodeValue<CandleSeries>(encodeValue(series));
    expectSameCandles(back.candles, series.candles);
    expect(Object.is(back.candles.volume[0], -0)).toBe(true);
    expect(Number.isNaN(back.candles.volume[1])).toBe(true);
    expect({ ...back, candles: null }).toEqual({ ...series, candles: null });
  });

  it('encodes only the viewed part of a subarray', () => {
    const series = makeSeries(100);
    const view = sliceCandles(series.candles, 10, 20);
    const back = decodeValue<Candles>(encodeValue(view));
    expectSameCandles(back, view);
    expect(back.close[0]).toBe(series.candles.close[10]);
  });

  it('is fast: 500 candles encode + decode well under 1 ms', () => {
    const series = makeSeries(500);
    for (let i = 0; i < 20; i++) decodeValue(encodeValue(series)); // warm up
    const runs = 200;
    const start = performance.now();
    for (let i = 0; i < runs; i++) decodeValue(encodeValue(series));
    const perRun = (performance.now() - start) / runs;
    // Typically ~0.05 ms; the bound is loose so a loaded CI machine does not fail it.
    expect(perRun).toBeLessThan(1);
  });

  it('round-trips Dates and follows JSON for everything else', () => {
    const value = {
      at: new Date('2024-05-06T07:08:09.010Z'),
      nested: { list: [1, 'two', null, true, { deep: new Date(0) }], empty: {} },
      gone: undefined,
      fn: () => 1,
      arr: [undefined, () => 1, NaN, Infinity],
      unicode: 'Ünïcødé ✓ 🚀',
    };
    expect(decodeValue(encodeValue(value))).toEqual({
      at: new Date('2024-05-06T07:08:09.010Z'),
      nested: { list: [1, 'two', null, true, { deep: new Date(0) }], empty: {} },
      arr: [null, null, null, null],
      unicode: 'Ünïcødé ✓ 🚀',
    });
    expect(decodeValue(encodeValue(new Date(NaN)))).toBeNull();
    expect(decodeValue(encodeValue([1, 2]))).toEqual([1, 2]);
    expect(decodeValue(encodeValue('s'))).toBe('s');
    expect(decodeValue(encodeValue(null))).toBeNull();
    expect(decodeValue(encodeValue(undefined))).toBeUndefined();
  });

  it('keeps data that looks like a tag as data', () => {
    const value = {
      $f64: 'AAAAAAAA8D8=',
      $date: '2024-01-01T00:00:00.000Z',
      $undefined: 1,
      $$x: 1,
      list: [{ $f64: 'AAAAAAAA8D8=' }],
    };
    expect(decodeValue(encodeValue(value))).toEqual(value);
  });

  it('rejects what JSON rejects', () => {
    expect(() => encodeValue({ n: 1n })).toThrow(TypeError);
  });
});
