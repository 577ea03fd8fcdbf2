import { describe, expect, it } from 'vitest';
import { allocCandles, type Candles } from '../../src/core/candles.js';
import { canResample, resample } from '../../src/market/resample.js';
import { SnapshotSource } from '../../src/market/snapshot.js';

const HOUR = 3_600_000;
const MONDAY = Date.UTC(2024, 0, 1); // 2024-01-01 was a Monday

/** Hourly candles at hours `h` after MONDAY: open 100+h, high +1, low -1, close +0.5, volume h+3. */
function hourly(hours: number[]): Candles {
  const c = allocCandles(hours.length);
  hours.forEach((h, i) => {
    c.time[i] = MONDAY + h * HOUR;
    c.open[i] = 100 + h;
    c.high[i] = 101 + h;
    c.low[i] = 99 + h;
    c.close[i] = 100.5 + h;
    c.volume[i] = h + 3;
  });
  return c;
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);
const rows = (c: Candles) =>
  Array.from(c.time, (t, i) => [
    (t - MONDAY) / HOUR,
    c.open[i],
    c.high[i],
    c.low[i],
    c.close[i],
    c.volume[i],
  ]);

describe('resample', () => {
  it('4h by hand: partial first bucket and unclosed last bucket dropped, an inner gap kept', () => {
    // Hours -2..9 without hour 5: buckets [-4,0) partial, [0,4) full, [4,8) with a gap, [8,12) unclosed.
    const src = hourly(range(-2, 10).filter((h) => h !== 5));
    expect(rows(resample(src, '1h', '4h'))).toEqual([
      [0, 100, 104, 99, 103.5, 3 + 4 + 5 + 6],
      [4, 104, 108, 103, 107.5, 7 + 9 + 10],
    ]);
    const withOpen = resample(src, '1h', '4h', { includeOpenBucket: true });
    expect(rows(withOpen).at(-1)).toEqual([8, 108, 110, 107, 109.5, 11 + 12]);
  });

  it('1d by hand: days start at 00:00 UTC', () => {
    expect(rows(resample(hourly(range(0, 48)), '1h', '1d'))).toEqual([
      [0, 100, 124, 99, 123.5, ((3 + 26) * 24) / 2],
      [24, 124, 148, 123, 147.5, ((27 + 50) * 24) / 2],
    ]);
  });

  it('1w by hand: weeks start on Monday 00:00 UTC', () => {
    // One full week plus the first hour of the next (not closed, dropped).
    expect(rows(resample(hourly(range(0, 169)), '1h', '1w'))).toEqual([
      [0, 100, 268, 99, 267.5, ((3 + 170) * 168) / 2],
    ]);
    // Starting on Tuesday: the first week is partial and dropped.
    expect(resample(hourly(range(24, 169)), '1h', '1w').time.length).toBe(0);
  });

  it('matches a naive group-by on real BTC data for 4h, 1d and 1w', async () => {
    const hourlyBtc = await new SnapshotSource().candles('BTC/USDT', '1h');
    const dayStart = (t: number) => t - (t % 86_400_000);
    const keys = {
      '4h': (t: number) => t - (t % (4 * HOUR)),
      '1d': dayStart,
      '1w': (t: number) => dayStart(t) - ((new Date(t).getUTCDay() + 6) % 7) * 86_400_000,
    } as const;
    for (const tf of ['4h', '1d', '1w'] as const) {
      const groups = new Map<number, number[]>();
      hourlyBtc.time.forEach((t, i) => {
        const key = keys[tf](t);
        groups.set(key, [...(groups.get(key) ?? []), i]);
      });
      const expected = [...groups.entries()]
        // complete = the bucket's first and last hour are present (inner exchange gaps are allowed)
        .filter(([key, idx]) => {
          const lastHour = key + (tf === '4h' ? 4 * HOUR : tf === '1d' ? 86_400_000 : 7 * 86_400_000) - HOUR;
          return hourlyBtc.time[idx[0]!] === key && hourlyBtc.time[idx.at(-1)!] === lastHour;
        })
        .map(([key, idx]) => [
          key,
          hourlyBtc.open[idx[0]!],
          Math.max(...idx.map((i) => hourlyBtc.high[i]!)),
          Math.min(...idx.map((i) => hourlyBtc.low[i]!)),
          hourlyBtc.close[idx.at(-1)!],
          idx.reduce((sum, i) => sum + hourlyBtc.volume[i]!, 0),
        ]);
      const actual = resample(hourlyBtc, '1h', tf);
      expect(
        Array.from(actual.time, (t, i) => [
          t,
          actual.open[i],
          actual.high[i],
          actual.low[i],
          actual.close[i],
          actual.volume[i],
        ]),
      ).toEqual(expected);
      expect(actual.time.length).toBeGreaterThan(tf === '1w' ? 100 : 700);
    }
  });

  it('refuses impossible conversions', () => {
    expect(canResample('1h', '4h')).toBe(true);
    expect(canResample('1h', '1M')).toBe(true);
    expect(canResample('1d', '1w')).toBe(true);
    expect(canResample('3d', '1w')).toBe(false);
    expect(canResample('8h', '12h')).toBe(false);
    expect(canResample('4h', '1h')).toBe(false);
    expect(() => resample(hourly([0]), '1h', '30m')).toThrow(/Cannot build 30m/);
  });
});
