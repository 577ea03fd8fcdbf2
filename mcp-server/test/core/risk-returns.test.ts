/** Alignment of several series on common timestamps, and simple returns. */
import { describe, expect, it } from 'vitest';
import { alignCloses, simpleReturns, type TimedCloses } from '../../src/core/risk/index.js';

/** Deterministic uniform [0, 1) generator (mulberry32), so random cases are reproducible. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('alignCloses', () => {
  it('keeps only the timestamps present in every series, with gaps and unequal starts and ends', () => {
    const a = { time: [1, 2, 3, 4, 5, 6], close: [10, 11, 12, 13, 14, 15] };
    // Starts later, misses 5, runs past a's end.
    const b = { time: [3, 4, 6, 7], close: [30, 40, 60, 70] };
    // Starts earlier, misses 1 and 5.
    const c = { time: [0, 2, 3, 4, 6, 8], close: [100, 102, 103, 104, 106, 108] };
    const { time, closes } = alignCloses([a, b, c]);
    expect(Array.from(time)).toEqual([3, 4, 6]);
    expect(closes).toHaveLength(3);
    expect(Array.from(closes[0]!)).toEqual([12, 13, 15]);
    expect(Array.from(closes[1]!)).toEqual([30, 40, 60]);
    expect(Array.from(closes[2]!)).toEqual([103, 104, 106]);
  });

  it('returns a copy of a single series and copes with no overlap or no series', () => {
    const time = new Float64Array([5, 6, 7]);
    const close = new Float64Array([1, 2, 3]);
    const one = alignCloses([{ time, close }]);
    expect(Array.from(one.time)).toEqual([5, 6, 7]);
    expect(Array.from(one.closes[0]!)).toEqual([1, 2, 3]);
    expect(one.closes[0]).not.toBe(close);

    const disjoint = alignCloses([
      { time: [1, 2], close: [1, 1] },
      { time: [3, 4], close: [2, 2] },
    ]);
    expect(disjoint.time.length).toBe(0);
    expect(disjoint.closes.map((c) => c.length)).toEqual([0, 0]);

    expect(alignCloses([])).toEqual({ time: new Float64Array(0), closes: [] });
  });

  it('matches a set-intersection reference on random series with random gaps', () => {
    const random = seededRandom(42);
    const series: TimedCloses[] = [];
    for (let s = 0; s < 6; s++) {
      const start = Math.floor(random() * 50);
      const time: number[] = [];
      const close: number[] = [];
      for (let t = start; t < 3000 - Math.floor(random() * 50); t++) {
        if (random() < 0.03) continue; // a missing candle
        time.push(t * 3_600_000);
        close.push(100 + s + t / 1000);
      }
      series.push({ time, close });
    }
    const { time, closes } = alignCloses(series);

    const sets = series.map((s) => new Set(Array.from(s.time)));
    const expectedTimes = Array.from(series[0]!.time).filter((t) => sets.every((set) => set.has(t)));
    expect(expectedTimes.length).toBeGreaterThan(2000);
    expect(Array.from(time)).toEqual(expectedTimes);
    series.forEach((s, i) => {
      const closeAt = new Map(Array.from(s.time, (t, j) => [t, s.close[j]!] as const));
      expect(Array.from(closes[i]!)).toEqual(expectedTimes.map((t) => closeAt.get(t)));
    });
  });

  it('rejects unsorted or duplicated times and mismatched lengths', () => {
    expect(() => alignCloses([{ time: [1, 3, 2], close: [1, 1, 1] }])).toThrow(RangeError);
    expect(() => alignCloses([{ time: [1, 2, 2], close: [1, 1, 1] }])).toThrow(RangeError);
    expect(() => alignCloses([{ time: [1, 2], close: [1] }])).toThrow(RangeError);
  });
});

describe('simpleReturns', () => {
  it('computes c_t / c_(t-1) - 1', () => {
    // 100 -> 110: +10 %; 110 -> 99: -10 %; 99 -> 99: 0.
    const r = simpleReturns([100, 110, 99, 99]);
    expect(r).toBeInstanceOf(Float64Array);
    expect(r.length).toBe(3);
    expect(r[0]).toBeCloseTo(0.1, 15);
    expect(r[1]).toBeCloseTo(-0.1, 15);
    expect(r[2]).toBe(0);
  });

  it('is empty for fewer than 2 closes', () => {
    expect(simpleReturns([]).length).toBe(0);
    expect(simpleReturns([5]).length).toBe(0);
  });
});
