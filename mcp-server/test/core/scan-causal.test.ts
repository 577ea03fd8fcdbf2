/**
 * Scanner detectors on 20,000 real BTCUSDT 1h candles: every scan type finds something over the years,
 * every hit is well formed, and no detector looks ahead: the answer for bar k computed on the whole
 * series equals the answer on the first k+1 candles.
 */
import { describe, expect, it } from 'vitest';
import { sliceCandles } from '../../src/core/candles.js';
import {
  detectBreakouts,
  detectInstitutional,
  detectReversals,
  detectVolumeSurge,
  RECENT_BARS,
  scanCandles,
  scanSeries,
  SCAN_TYPES,
  type ScanHit,
  type ScanType,
} from '../../src/core/scan/index.js';
import { fixturePath, loadCandlesCsv } from '../helpers/csv.js';

const all = loadCandlesCsv(fixturePath('BTCUSDT-1h-20k.csv.gz'));
// 6000 candles keep the whole-series pass quick; the causal check covers hits of every type in them.
const c = sliceCandles(all, 0, 6000);
const n = c.close.length;

const DETECT: Record<ScanType, typeof detectBreakouts> = {
  breakouts: detectBreakouts,
  reversals: detectReversals,
  institutional: detectInstitutional,
  volume_surge: detectVolumeSurge,
};

// One pass over every bar, on the whole series.
const series = scanSeries(c);
const byBar = new Map<number, ScanHit[]>();
for (let t = 59; t < n; t++) {
  const hits = SCAN_TYPES.flatMap((type) => DETECT[type](series, t));
  if (hits.length > 0) byBar.set(t, hits);
}
const allHits = [...byBar.values()].flat();

describe('detectors on real candles', () => {
  it('finds every scan type, in plausible numbers', () => {
    for (const type of SCAN_TYPES) {
      const count = allHits.filter((h) => h.type === type).length;
      expect(count, type).toBeGreaterThan(20);
      expect(count, type).toBeLessThan(n / 2);
    }
    const names = new Set(allHits.flatMap((h) => h.signals.map((s) => s.name)));
    expect([...names].sort()).toEqual(
      [
        'break_of_structure',
        'change_of_character',
        'donchian_breakout',
        'exhaustion',
        'fvg_retest',
        'liquidity_sweep',
        'order_block_retest',
        'rsi_divergence',
        'volume_surge',
      ].sort(),
    );
  });

  it('gives every hit a strength, a recent candle, and an invalidation on the losing side', () => {
    for (const [t, hits] of byBar) {
      for (const h of hits) {
        expect(Number.isInteger(h.strength)).toBe(true);
        expect(h.strength).toBeGreaterThanOrEqual(0);
        expect(h.strength).toBeLessThanOrEqual(100);
        expect(h.barsAgo).toBe(t - h.index);
        expect(h.barsAgo).toBeGreaterThanOrEqual(0);
        expect(h.barsAgo).toBeLessThan(RECENT_BARS);
        expect(h.time).toBe(c.time[h.index]);
        expect(h.close).toBe(c.close[t]);
        const side = h.direction === 'bullish' ? 1 : -1;
        expect((h.close - h.invalidation) * side).toBeGreaterThan(0);
        expect(h.signals.length).toBeGreaterThan(0);
        expect(h.signals[0]!.strength).toBeLessThanOrEqual(h.strength);
        for (let i = 1; i < h.signals.length; i++) {
          expect(h.signals[i]!.strength).toBeLessThanOrEqual(h.signals[i - 1]!.strength);
        }
        for (const s of h.signals) {
          expect(s.direction).toBe(h.direction);
          for (const v of Object.values(s.values)) expect(Number.isFinite(v)).toBe(true);
          // Valid: no close since the signal's candle has crossed its invalidation.
          for (let k = s.index; k <= t; k++) expect((c.close[k]! - s.invalidation) * side).toBeGreaterThan(0);
        }
      }
    }
  });
});

describe('no look-ahead', () => {
  // Bars with hits of each type (up to 12 each), plus bars without any.
  const picks = new Set<number>();
  for (const type of SCAN_TYPES) {
    const bars = [...byBar].filter(([, hits]) => hits.some((h) => h.type === type)).map(([t]) => t);
    for (let i = 0; i < 12 && i < bars.length; i++) picks.add(bars[Math.floor((i * bars.length) / 12)]!);
  }
  for (const t of [59, 60, 200, 1000, 2500, n - 2]) picks.add(t);

  it('answers for bar k as on the first k+1 candles', () => {
    expect(picks.size).toBeGreaterThan(40);
    for (const k of picks) {
      const onPrefix = scanCandles(sliceCandles(c, 0, k + 1), SCAN_TYPES);
      const onWhole = scanCandles(c, SCAN_TYPES, k);
      expect(onWhole, `bar ${k}`).toEqual(onPrefix);
      expect(onWhole.hits).toEqual(SCAN_TYPES.flatMap((type) => DETECT[type](series, k)));
    }
  });

  it('keeps its answer for bar k when candles are appended', () => {
    const k = [...byBar.keys()][Math.floor(byBar.size / 2)]!;
    const before = scanCandles(sliceCandles(c, 0, k + 1), SCAN_TYPES);
    for (const extra of [1, 5, 50, 500]) {
      expect(scanCandles(sliceCandles(c, 0, k + 1 + extra), SCAN_TYPES, k)).toEqual(before);
    }
  });
});
