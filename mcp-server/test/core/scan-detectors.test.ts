/**
 * Scanner detectors on small hand-made series whose answer is known: a Donchian breakout with volume,
 * a volume surge, a change of character, an order-block retest, a liquidity sweep, an RSI divergence and
 * the market-condition helpers.
 */
import { describe, expect, it } from 'vitest';
import { candlesFromRows, type Candles } from '../../src/core/candles.js';
import { atr } from '../../src/core/indicators/index.js';
import {
  marketConditions,
  median,
  MIN_SCAN_CANDLES,
  scanCandles,
  SCAN_TYPES,
  type ScanHit,
} from '../../src/core/scan/index.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2025, 0, 1);

/** Candles from closes: open = previous close, high/low = max/min(open, close) +- wick, given volumes. */
function fromCloses(closes: number[], volumes: number[] | number = 100, wick = 0.2): Candles {
  return candlesFromRows(
    closes.map((c, i) => {
      const o = i === 0 ? c : closes[i - 1]!;
      const v = typeof volumes === 'number' ? volumes : volumes[i]!;
      return [T0 + i * HOUR, o, Math.max(o, c) + wick, Math.min(o, c) - wick, c, v];
    }),
  );
}

/** A quiet range: closes 99.6-100.4 in a fixed zigzag, no trend. */
const range = (n: number) => Array.from({ length: n }, (_, i) => 100 + 0.4 * Math.sin(i * 1.3));

const hitOf = (hits: ScanHit[], type: string, direction?: string) =>
  hits.find((h) => h.type === type && (direction === undefined || h.direction === direction));

describe('breakouts', () => {
  const closes = [...range(79), 102.5];
  const volumes = [...Array<number>(79).fill(100), 400];

  it('finds a close above the 20-candle high on 4x volume, with its level and invalidation', () => {
    const c = fromCloses(closes, volumes);
    const { hits } = scanCandles(c, ['breakouts']);
    const hit = hitOf(hits, 'breakouts', 'bullish')!;
    const s = hit.signals.find((x) => x.name === 'donchian_breakout')!;
    expect(s).toBeDefined();
    let hi = -Infinity;
    for (let k = 59; k < 79; k++) hi = Math.max(hi, c.high[k]!);
    const a = atr(c.high, c.low, c.close, 14)[79]!;
    expect(s.values.level).toBeCloseTo(hi, 6);
    expect(s.values.volume_ratio).toBeCloseTo(4, 6);
    expect(s.invalidation).toBeCloseTo(hi - 0.5 * a, 6);
    expect(s.index).toBe(79);
    expect(s.time).toBe(T0 + 79 * HOUR);
    expect(hit.barsAgo).toBe(0);
    expect(s.strength).toBeGreaterThanOrEqual(35);
    expect(s.strength).toBeLessThanOrEqual(100);
    expect(hit.invalidation).toBeLessThan(hit.close);
  });

  it('needs the volume, and a fresh break', () => {
    expect(hitOf(scanCandles(fromCloses(closes, 100), ['breakouts']).hits, 'breakouts')).toBeUndefined();
    // The candle before already closed above the range: no new breakout on the last one.
    const twice = fromCloses([...range(78), 102.5, 103], [...Array<number>(78).fill(100), 400, 400]);
    const s = scanCandles(twice, ['breakouts']).hits.flatMap((h) => h.signals);
    expect(s.find((x) => x.name === 'donchian_breakout')).toBeUndefined();
  });

  it('mirrors for a breakdown', () => {
    const down = fromCloses([...range(79), 97.5], volumes);
    const hit = hitOf(scanCandles(down, SCAN_TYPES).hits, 'breakouts', 'bearish')!;
    expect(hit.signals[0]!.name).toBe('donchian_breakout');
    expect(hit.invalidation).toBeGreaterThan(hit.close);
  });
});

describe('volume surge', () => {
  it('flags 5x the 20-candle average on a falling candle, invalid above its high', () => {
    const closes = [...range(69), 99];
    const c = fromCloses(closes, [...Array<number>(69).fill(100), 500]);
    const hit = hitOf(scanCandles(c, ['volume_surge']).hits, 'volume_surge')!;
    expect(hit.direction).toBe('bearish');
    expect(hit.signals[0]!.values.volume_ratio).toBeCloseTo(5, 9);
    expect(hit.signals[0]!.values.change_pct).toBeCloseTo(((99 - closes[68]!) / closes[68]!) * 100, 6);
    expect(hit.invalidation).toBeCloseTo(c.high[69]!, 6);
    expect(hit.strength).toBeGreaterThan(30);
  });

  it('ignores 2.5x', () => {
    const c = fromCloses([...range(69), 99], [...Array<number>(69).fill(100), 250]);
    expect(scanCandles(c, ['volume_surge']).hits).toEqual([]);
  });

  it('a larger surge is stronger', () => {
    const at = (v: number) =>
      scanCandles(fromCloses([...range(69), 101], [...Array<number>(69).fill(100), v]), ['volume_surge'])
        .hits[0]!.strength;
    expect(at(1000)).toBeGreaterThan(at(400));
  });
});

describe('reversals', () => {
  // A decline to a low (bar 40), a bounce to 106 (bar 46), a lower low at 96 (bar 56), then a rally that
  // closes through the bounce high on the last bar: a bullish change of character.
  const closes: number[] = [];
  for (let i = 0; i < 40; i++) closes.push(140 - i);
  closes.push(100);
  for (let i = 1; i <= 6; i++) closes.push(100 + i);
  for (let i = 1; i <= 10; i++) closes.push(106 - i);
  for (let i = 1; i <= 11; i++) closes.push(96 + i);
  const c = fromCloses(closes, [...Array<number>(closes.length - 1).fill(100), 200]);

  it('finds the CHoCH through the lower high, invalid below the lower low', () => {
    const hit = hitOf(scanCandles(c, ['reversals']).hits, 'reversals', 'bullish')!;
    const s = hit.signals.find((x) => x.name === 'change_of_character')!;
    expect(s.index).toBe(closes.length - 1);
    expect(s.values.level).toBeCloseTo(106.2, 9); // the swing high at bar 46 (its high)
    expect(s.values.reversal_extreme).toBeCloseTo(95.8, 9); // the lower low at bar 56
    expect(s.invalidation).toBeCloseTo(95.8, 9);
    expect(s.values.volume_ratio).toBeCloseTo(2, 9);
    expect(hit.strength).toBeGreaterThanOrEqual(40);
  });

  it('keeps it for two more candles while price holds, then lets it go', () => {
    const later = (extra: number[]) => fromCloses([...closes, ...extra]);
    const names = (cs: Candles) =>
      scanCandles(cs, ['reversals']).hits.flatMap((h) => h.signals.map((s) => s.name));
    expect(names(later([107.5]))).toContain('change_of_character');
    expect(names(later([107.5, 108]))).toContain('change_of_character');
    expect(names(later([107.5, 108, 108.5]))).not.toContain('change_of_character');
    // A close back below the lower low invalidates it at once.
    expect(names(later([95]))).not.toContain('change_of_character');
  });

  it('finds a bullish RSI divergence at two swing lows', () => {
    // A steep fall to 90 (bar 44), a bounce, then a slow grind to a slightly lower low (bar 70): price
    // makes a lower low, RSI a higher low. The last bar is when that low is confirmed.
    const d: number[] = [];
    for (let i = 0; i < 30; i++) d.push(120 - 0.2 * i);
    for (let i = 1; i <= 14; i++) d.push(114 - (24 / 14) * i); // to 90 at bar 43
    d.push(90);
    for (let i = 1; i <= 8; i++) d.push(90 + i); // to 98
    for (let i = 1; i <= 17; i++) d.push(98 - (8.5 / 17) * i); // to 89.5 slowly
    for (let i = 1; i <= 5; i++) d.push(89.5 + 0.6 * i);
    const hits = scanCandles(fromCloses(d), ['reversals']).hits;
    const s = hits.flatMap((h) => h.signals).find((x) => x.name === 'rsi_divergence')!;
    expect(s).toBeDefined();
    expect(s.direction).toBe('bullish');
    expect(s.values.swing_2).toBeLessThan(s.values.swing_1!);
    expect(s.values.rsi_2).toBeGreaterThan(s.values.rsi_1!);
    expect(s.invalidation).toBe(s.values.swing_2);
    expect(s.index).toBe(d.length - 1);
  });
});

describe('institutional', () => {
  it('flags a liquidity sweep of equal lows that closes back above', () => {
    // Two equal lows at 95 (bars 30 and 50) between rallies, then a wick to 94 that closes at 96.
    const closes: number[] = [];
    const push = (from: number, to: number, steps: number) => {
      for (let i = 1; i <= steps; i++) closes.push(from + ((to - from) * i) / steps);
    };
    closes.push(100);
    push(100, 105, 20);
    push(105, 95, 9); // bar 29... low 95 at bar 29
    push(95, 101, 10);
    push(101, 95, 10); // equal low
    push(95, 100, 10);
    push(100, 96.5, 8);
    const c = fromCloses(closes);
    const n = c.close.length;
    // The sweep candle: deep wick below both lows, close back above them.
    const t = n - 1;
    (c.low as Float64Array)[t] = 94;
    (c.close as Float64Array)[t] = 96;
    (c.volume as Float64Array)[t] = 300;
    const hit = hitOf(scanCandles(c, ['institutional']).hits, 'institutional', 'bullish')!;
    const s = hit.signals.find((x) => x.name === 'liquidity_sweep')!;
    expect(s).toBeDefined();
    expect(s.values.level).toBeCloseTo(94.8, 6); // mean of the two swing lows (95 - 0.2 wick)
    expect(s.values.touches).toBe(2);
    expect(s.invalidation).toBe(94);
  });

  it('flags the first retest of a fresh bullish order block', () => {
    // A swing high at 105, a dip whose lowest candle becomes the block, a close through 105, then a
    // pullback into the block.
    const closes: number[] = [];
    const push = (from: number, to: number, steps: number) => {
      for (let i = 1; i <= steps; i++) closes.push(from + ((to - from) * i) / steps);
    };
    closes.push(95);
    push(95, 105, 40); // swing high 105 at bar 40
    push(105, 100, 6); // block candle near 100 at bar 46
    push(100, 107, 7); // closes above 105: the break
    push(107, 100.1, 8); // back into the block
    const c = fromCloses(closes);
    const hits = scanCandles(c, ['institutional']).hits;
    const s = hits.flatMap((h) => h.signals).find((x) => x.name === 'order_block_retest')!;
    expect(s).toBeDefined();
    expect(s.direction).toBe('bullish');
    expect(s.values.bottom).toBeLessThan(s.values.top!);
    expect(s.invalidation).toBe(s.values.bottom);
    expect(s.index).toBeGreaterThanOrEqual(c.close.length - 3);
  });
});

describe('scanCandles', () => {
  it('refuses series that are too short, and bars outside the series', () => {
    expect(() => scanCandles(fromCloses(range(MIN_SCAN_CANDLES - 1)), SCAN_TYPES)).toThrow(RangeError);
    const c = fromCloses(range(80));
    expect(() => scanCandles(c, SCAN_TYPES, 80)).toThrow(RangeError);
    expect(() => scanCandles(c, SCAN_TYPES, 10)).toThrow(RangeError);
  });

  it('reports the market metrics of the evaluated bar', () => {
    const closes = range(80);
    const { metrics } = scanCandles(fromCloses(closes), []);
    expect(metrics.time).toBe(T0 + 79 * HOUR);
    expect(metrics.changePct).toBeCloseTo(((closes[79]! - closes[78]!) / closes[78]!) * 100, 9);
    expect(metrics.aboveEma50).not.toBeNull();
    expect(metrics.atrPct).toBeGreaterThan(0);
  });
});

describe('market conditions', () => {
  it('counts breadth, advancers and decliners, and the median ATR%', () => {
    const m = (changePct: number | null, above: boolean | null, atrPct: number | null) => ({
      time: 0,
      close: 1,
      changePct,
      aboveEma50: above,
      atrPct,
    });
    const r = marketConditions([m(1, true, 2), m(-1, false, 4), m(0, true, 3), m(null, null, null)]);
    expect(r.markets).toBe(4);
    expect(r.breadth).toEqual({ measured: 3, aboveEma50: 2, pct: (2 / 3) * 100 });
    expect(r.lastCandle).toEqual({ advancers: 1, decliners: 1, unchanged: 1, medianChangePct: 0 });
    expect(r.medianAtrPct).toBe(3);
    expect(marketConditions([]).breadth.pct).toBeNull();
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNull();
  });
});
