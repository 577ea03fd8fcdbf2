/**
 * VWAP has no TA-Lib equivalent: it is checked against hand-computed values and against a
 * straightforward reference that re-sums every bar's session from scratch.
 */
import { describe, expect, it } from 'vitest';
import { allocCandles, sliceCandles, type Candles } from '../../src/core/candles.js';
import { vwap } from '../../src/core/indicators/index.js';
import { fixturePath, loadCandlesCsv } from '../helpers/csv.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Candles from `[time, high, low, close, volume]` rows (open is irrelevant to VWAP). */
function candles(rows: [number, number, number, number, number][]): Candles {
  const c = allocCandles(rows.length);
  rows.forEach(([t, h, l, cl, v], i) => {
    c.time[i] = t;
    c.open[i] = cl;
    c.high[i] = h;
    c.low[i] = l;
    c.close[i] = cl;
    c.volume[i] = v;
  });
  return c;
}

/** Reference: for each bar, walk back to its period start and sum typical price * volume afresh. */
function referenceVwap(c: Candles, periodStart: (i: number) => number): Float64Array {
  const out = new Float64Array(c.time.length).fill(NaN);
  for (let i = 0; i < c.time.length; i++) {
    const start = periodStart(i);
    if (start < 0 || start > i) continue;
    let priceVolume = 0;
    let volume = 0;
    for (let j = start; j <= i; j++) {
      priceVolume += ((c.high[j]! + c.low[j]! + c.close[j]!) / 3) * c.volume[j]!;
      volume += c.volume[j]!;
    }
    if (volume > 0) out[i] = priceVolume / volume;
  }
  return out;
}

function sessionStart(c: Candles): (i: number) => number {
  return (i) => {
    const day = Math.floor(c.time[i]! / DAY);
    let start = i;
    while (start > 0 && Math.floor(c.time[start - 1]! / DAY) === day) start--;
    return start;
  };
}

function expectClose(actual: Float64Array, expected: Float64Array, tolerance = 1e-12): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (Number.isNaN(expected[i]!)) expect(actual[i], `bar ${i}`).toBeNaN();
    else
      expect(Math.abs(actual[i]! - expected[i]!) / Math.abs(expected[i]!), `bar ${i}`).toBeLessThan(
        tolerance,
      );
  }
}

describe('VWAP, hand-checked', () => {
  const day1 = Date.UTC(2024, 0, 1);
  // typical prices 10, 20, 30 | 40, 50
  const c = candles([
    [day1 + 22 * HOUR, 11, 9, 10, 1],
    [day1 + 23 * HOUR, 21, 19, 20, 3],
    [day1 + 23 * HOUR + 59 * 60_000, 31, 29, 30, 0],
    [day1 + DAY, 41, 39, 40, 2], // exactly 00:00 UTC: a new session
    [day1 + DAY + HOUR, 52, 47, 51, 2],
  ]);

  it('session VWAP resets at 00:00 UTC', () => {
    // (10*1 + 20*3) / 4 = 17.5; a zero-volume bar leaves it unchanged; new day: 40, then (80 + 100) / 4
    expect(Array.from(vwap(c, { anchor: 'session' }))).toEqual([10, 17.5, 17.5, 40, 45]);
  });

  it('anchored VWAP accumulates from the anchor bar, NaN before it', () => {
    // from bar 1: 20, 20, (60 + 80) / 5 = 28, (60 + 80 + 100) / 7
    const anchored = vwap(c, { anchor: 'index', index: 1 });
    expect(anchored[0]).toBeNaN();
    expect(Array.from(anchored.subarray(1, 4))).toEqual([20, 20, 28]);
    expect(anchored[4]).toBeCloseTo(240 / 7, 12);
    // from bar 0 it never resets
    expect(vwap(c, { anchor: 'index', index: 0 })[4]).toBeCloseTo((10 + 60 + 80 + 100) / 8, 12);
  });

  it('is NaN while its period has traded no volume', () => {
    const quiet = candles([
      [day1, 11, 9, 10, 0],
      [day1 + HOUR, 21, 19, 20, 0],
      [day1 + 2 * HOUR, 31, 29, 30, 5],
    ]);
    const out = vwap(quiet, { anchor: 'session' });
    expect(out[0]).toBeNaN();
    expect(out[1]).toBeNaN();
    expect(out[2]).toBe(30);
  });

  it('handles an anchor past the end (all NaN) and empty candles', () => {
    const out = vwap(c, { anchor: 'index', index: 5 });
    expect(out.length).toBe(5);
    expect(out.every(Number.isNaN)).toBe(true);
    expect(vwap(allocCandles(0), { anchor: 'session' }).length).toBe(0);
  });

  it('rejects a negative or fractional anchor', () => {
    expect(() => vwap(c, { anchor: 'index', index: -1 })).toThrow(RangeError);
    expect(() => vwap(c, { anchor: 'index', index: 1.5 })).toThrow(/anchor index must be an integer/);
  });
});

describe('VWAP on 20,000 real BTCUSDT 1h candles', () => {
  const c = loadCandlesCsv(fixturePath('BTCUSDT-1h-20k.csv.gz'));

  it('session VWAP equals the from-scratch reference on every bar', () => {
    expectClose(vwap(c, { anchor: 'session' }), referenceVwap(c, sessionStart(c)));
  });

  it('session VWAP stays within its session’s low/high range', () => {
    const out = vwap(c, { anchor: 'session' });
    const start = sessionStart(c);
    for (let i = 0; i < c.time.length; i += 7) {
      let low = Infinity;
      let high = -Infinity;
      for (let j = start(i); j <= i; j++) {
        low = Math.min(low, c.low[j]!);
        high = Math.max(high, c.high[j]!);
      }
      expect(out[i]! >= low && out[i]! <= high, `bar ${i}`).toBe(true);
    }
  });

  it('anchored VWAP equals the reference from several anchors', () => {
    const head = sliceCandles(c, 0, 3000);
    for (const anchor of [0, 1, 777, 2999]) {
      expectClose(
        vwap(head, { anchor: 'index', index: anchor }),
        referenceVwap(head, () => anchor),
      );
    }
  });

  it('session VWAP of a slice matches the full series from the first whole session on', () => {
    const full = vwap(c, { anchor: 'session' });
    const start = 1000;
    let firstSession = start;
    while (Math.floor(c.time[firstSession]! / DAY) === Math.floor(c.time[start]! / DAY)) firstSession++;
    const part = vwap(sliceCandles(c, start), { anchor: 'session' });
    for (let i = firstSession; i < firstSession + 500; i++) expect(part[i - start]).toBe(full[i]);
  });
});
