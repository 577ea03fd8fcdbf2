/**
 * Smart-money concepts on tiny hand-built series: every expected value below was worked out by hand
 * from the rules documented in src/core/smc (which follow the smartmoneyconcepts library).
 */
import { describe, expect, it } from 'vitest';
import { candlesFromRows, sliceCandles, type Candles } from '../../src/core/candles.js';
import {
  analyzeSmc,
  breakOfStructure,
  fairValueGaps,
  liquidity,
  orderBlocks,
  swingHighsLows,
  type Swing,
} from '../../src/core/smc/index.js';

/** Candles from [open, high, low, close] rows; bar i has time i and volume i + 1. */
const bars = (rows: [number, number, number, number][]): Candles =>
  candlesFromRows(rows.map(([o, h, l, c], i) => [i, o, h, l, c, i + 1]));

/** Flat candles at `price` except the given closes (high/low follow the close). */
function closes(n: number, price: number, at: Record<number, number> = {}): Candles {
  return bars(
    Array.from({ length: n }, (_, i) => {
      const c = at[i] ?? price;
      return [c, c, c, c] as [number, number, number, number];
    }),
  );
}

const high = (index: number, level: number, confirmedIndex: number): Swing => ({
  index,
  type: 'high',
  level,
  confirmedIndex,
});
const low = (index: number, level: number, confirmedIndex: number): Swing => ({
  index,
  type: 'low',
  level,
  confirmedIndex,
});

describe('swingHighsLows', () => {
  // Length 2: bar i is tested against bars [i-1, i+2] and confirmed at i+2; first candidate bar 3.
  const c = bars([
    [9.5, 10, 9, 9.8],
    [9.8, 11, 10, 10.5],
    [10.5, 12, 11, 11.5],
    [11.5, 13, 12, 12.5],
    [12.5, 15, 14, 14.5], // 4: swing high 15
    [14.5, 14, 13, 13.2],
    [13.2, 12, 11, 11.2],
    [11.2, 11, 8, 8.5], // 7: swing low 8
    [8.5, 12, 10, 11.5],
    [11.5, 13, 12, 12.5],
    [12.5, 14, 13, 13.5],
  ]);

  it('finds a clear swing high and low, confirmed `length` bars later', () => {
    expect(swingHighsLows(c, 2)).toEqual([high(4, 15, 6), low(7, 8, 9)]);
  });

  it('knows a swing only from its confirmation bar on', () => {
    expect(swingHighsLows(sliceCandles(c, 0, 9), 2)).toEqual([high(4, 15, 6)]);
    expect(swingHighsLows(sliceCandles(c, 0, 6), 2)).toEqual([]);
  });

  it('keeps a later same-type swing only when it is more extreme (it supersedes the earlier one)', () => {
    // Highs 12 at bar 3 and 13 at bar 6 with no swing low between; then 12.5 at bar 9 is lower: dropped.
    const hl = [
      [10, 9.5],
      [11, 10.5],
      [11.5, 11],
      [12, 11.5],
      [11.6, 11.2],
      [11.8, 11.3],
      [13, 10.9],
      [12, 11.4],
      [11.9, 11.3],
      [12.5, 11.2],
      [12.2, 11.1],
      [11.9, 11],
      [11.7, 10.95],
      [11.6, 10.92],
    ];
    const s = bars(hl.map(([h, l]) => [l!, h!, l!, h!]));
    expect(swingHighsLows(s, 2).map((x) => [x.index, x.type])).toEqual([
      [3, 'high'],
      [6, 'high'],
    ]);
  });

  it('gives one deterministic swing on flat prices and nothing on short inputs', () => {
    const flat = closes(30, 100);
    expect(swingHighsLows(flat, 5)).toEqual([high(9, 100, 14)]);
    for (let n = 0; n < 15; n++) expect(swingHighsLows(closes(n, 100), 5)).toEqual([]);
  });

  it('rejects a bad length', () => {
    expect(() => swingHighsLows(c, 0)).toThrow(RangeError);
    expect(() => swingHighsLows(c, 2.5)).toThrow(RangeError);
  });
});

describe('fairValueGaps', () => {
  const c = bars([
    [10, 11, 9, 10.5],
    [10.5, 14, 10.5, 13.5], // 1: bullish middle; gap between high[0] = 11 and low[2] = 12
    [13.5, 15, 12, 14.5],
    [14.5, 16, 13, 15.5],
    [15.5, 15.8, 11.6, 12], // 4: bullish gap partly filled (low 11.6); bearish middle: low[3] = 13 > high[5] = 12.5
    [12, 12.5, 10.5, 11], // 5: bullish gap filled (low 10.5 <= 11)
    [11, 12.7, 10.8, 12.6], // 6: bearish gap partly filled (high 12.7)
    [12.6, 13.5, 12.4, 13.2], // 7: bearish gap filled (high 13.5 >= 13)
  ]);

  it('finds a bullish and a bearish gap and follows them from partial to full fill', () => {
    expect(fairValueGaps(c)).toEqual([
      {
        index: 1,
        endIndex: 1,
        type: 'bullish',
        top: 12,
        bottom: 11,
        confirmedIndex: 2,
        mitigatedIndex: 4,
        filledFraction: 1,
        state: 'filled',
      },
      {
        index: 4,
        endIndex: 4,
        type: 'bearish',
        top: 13,
        bottom: 12.5,
        confirmedIndex: 5,
        mitigatedIndex: 6,
        filledFraction: 1,
        state: 'filled',
      },
    ]);
  });

  it('reports lifecycle as of the last bar', () => {
    const [bull, bear] = fairValueGaps(sliceCandles(c, 0, 7));
    expect(bull).toMatchObject({ mitigatedIndex: 4, filledFraction: 1, state: 'filled' });
    expect(bear).toMatchObject({ mitigatedIndex: 6, state: 'mitigated' });
    expect(bear!.filledFraction).toBeCloseTo(0.4, 12);
    const [early] = fairValueGaps(sliceCandles(c, 0, 5));
    expect(early).toMatchObject({ mitigatedIndex: 4, state: 'mitigated' });
    expect(early!.filledFraction).toBeCloseTo(0.4, 12);
    expect(fairValueGaps(sliceCandles(c, 0, 4))[0]).toMatchObject({
      mitigatedIndex: null,
      filledFraction: 0,
      state: 'open',
    });
  });

  it('counts a touch of the gap edge as mitigation (library: low <= top)', () => {
    const touch = bars([
      [10, 11, 9, 10.5],
      [10.5, 14, 10.5, 13.5],
      [13.5, 15, 12, 14.5],
      [14.5, 16, 12, 15.5], // low exactly at the top (12)
    ]);
    expect(fairValueGaps(touch)[0]).toMatchObject({
      mitigatedIndex: 3,
      filledFraction: 0,
      state: 'mitigated',
    });
  });

  describe('joinConsecutive', () => {
    const run = bars([
      [10, 11, 9, 10.5],
      [10.5, 13, 10.5, 12.8], // 1: gap 11..12
      [12.8, 15, 12, 14.8], // 2: gap 13..14, joins: 11..14
      [14.8, 17, 14, 16.5],
      [16.5, 17.5, 14.5, 17], // 4: first bar checked for the joined gap, no touch
      [17, 17.2, 13.5, 14], // 5: touches both
    ]);

    it('keeps consecutive gaps apart by default', () => {
      expect(
        fairValueGaps(run).map((g) => [g.index, g.top, g.bottom, g.mitigatedIndex, g.filledFraction]),
      ).toEqual([
        [1, 12, 11, null, 0],
        [2, 14, 13, 5, 0.5],
      ]);
    });

    it('merges them into one gap widened as the run grows, as the library does', () => {
      const [g] = fairValueGaps(run, { joinConsecutive: true });
      expect(g).toMatchObject({
        index: 1,
        endIndex: 2,
        top: 14,
        bottom: 11,
        confirmedIndex: 2,
        mitigatedIndex: 5,
      });
      expect(g!.filledFraction).toBeCloseTo(0.5 / 3, 12);
      // Before the second gap's third candle only the first is known.
      expect(fairValueGaps(sliceCandles(run, 0, 3), { joinConsecutive: true })).toEqual([
        {
          index: 1,
          endIndex: 1,
          type: 'bullish',
          top: 12,
          bottom: 11,
          confirmedIndex: 2,
          mitigatedIndex: null,
          filledFraction: 0,
          state: 'open',
        },
      ]);
    });
  });

  it('finds nothing on flat or short inputs', () => {
    expect(fairValueGaps(closes(30, 100))).toEqual([]);
    for (let n = 0; n < 4; n++) expect(fairValueGaps(closes(n, 100, { 1: 105, 2: 110 }))).toEqual([]);
  });
});

describe('orderBlocks', () => {
  const rows: [number, number, number, number][] = [
    [10, 10.5, 9.5, 10],
    [10, 11, 9.8, 10.8],
    [10.8, 11.5, 10.5, 11.2],
    [11.2, 12, 11, 11.5], // 3: swing high 12 (length 2, confirmed at 5)
    [11.5, 11.8, 10.8, 11],
    [11, 11.2, 10, 10.2],
    [10.2, 10.5, 9, 9.5], // 6: lowest low before the break: the bullish block 9..10.5; swing low 9
    [9.5, 11, 9.4, 10.8],
    [10.8, 12.5, 10.7, 12.3], // 8: close 12.3 > 12 breaks the swing high
    [12.3, 13, 12, 12.8], // 9: swing high 13, highest high before the bearish break
    [12.8, 12.9, 10.4, 10.6], // 10: trades into the bullish block (low 10.4 <= 10.5)
    [10.6, 10.8, 8.5, 8.8], // 11: through its bottom: breaker; close 8.8 < 9 breaks the swing low
    [8.8, 10.9, 8.7, 10.7], // 12: back above its top (10.9 > 10.5): the library deletes it
  ];
  const c = bars(rows);
  const swings = swingHighsLows(c, 2);

  it('uses the swings it is given', () => {
    expect(swings).toEqual([high(3, 12, 5), low(6, 9, 8), high(9, 13, 11)]);
  });

  it('forms a bullish block at a break and a bearish one at the next break, with the library volumes', () => {
    expect(orderBlocks(c, swings)).toEqual([
      {
        index: 6,
        type: 'bullish',
        top: 10.5,
        bottom: 9,
        swingIndex: 3,
        confirmedIndex: 8,
        volume: 9 + 8 + 7,
        percentage: (7 / 17) * 100,
        mitigatedIndex: 10,
        breakerIndex: 11,
        invalidatedIndex: 12,
        state: 'invalidated',
      },
      {
        index: 9,
        type: 'bearish',
        top: 13,
        bottom: 12,
        swingIndex: 6,
        confirmedIndex: 11,
        volume: 12 + 11 + 10,
        percentage: (10 / 23) * 100,
        mitigatedIndex: null,
        breakerIndex: null,
        invalidatedIndex: null,
        state: 'active',
      },
    ]);
  });

  it('walks the lifecycle bar by bar', () => {
    const stateAt = (t: number) => orderBlocks(sliceCandles(c, 0, t), swings)[0]?.state;
    expect([8, 9, 10, 11, 12, 13].map(stateAt)).toEqual([
      undefined,
      'active',
      'active',
      'mitigated',
      'breaker',
      'invalidated',
    ]);
  });

  it('takes the later candle when two share the lowest low (library: last occurrence)', () => {
    const tie = bars(rows.map((r, i) => (i === 7 ? [9.5, 11, 9, 10.8] : r)));
    expect(orderBlocks(tie, swingHighsLows(tie, 2))[0]).toMatchObject({ index: 7, top: 11, bottom: 9 });
  });

  it('with closeMitigation needs the candle body beyond the block to make a breaker', () => {
    const wick = bars([
      ...rows.slice(0, 11),
      [10.6, 10.8, 8.5, 9.2], // 11: wick below 9, body above
      [9.2, 9.3, 8.7, 8.9], // 12: body below 9
    ]);
    const s = swingHighsLows(wick, 2);
    expect(orderBlocks(wick, s)[0]!.breakerIndex).toBe(11);
    expect(orderBlocks(wick, s, { closeMitigation: true })[0]!.breakerIndex).toBe(12);
  });

  it('finds nothing without swings, on flat prices or short inputs', () => {
    expect(orderBlocks(c, [])).toEqual([]);
    const flat = closes(40, 100);
    expect(orderBlocks(flat, swingHighsLows(flat, 5))).toEqual([]);
    expect(orderBlocks(closes(2, 100), [])).toEqual([]);
  });
});

describe('breakOfStructure', () => {
  // Hand-placed swings over flat closes at 100; only the listed closes move.
  const uptrend = [low(1, 90, 3), high(4, 110, 6), low(7, 95, 9)];

  it('reports a bullish BOS when price closes above the high of a higher-low structure', () => {
    expect(breakOfStructure(closes(14, 100, { 11: 111 }), uptrend)).toEqual([
      { type: 'BOS', direction: 'bullish', level: 110, swingIndex: 4, index: 11, confirmedIndex: 11 },
    ]);
  });

  it('needs a close beyond the level (or the wick with closeBreak false)', () => {
    const c = closes(14, 100);
    c.high[11] = 112; // wick above 110, close at 100
    expect(breakOfStructure(c, uptrend)).toEqual([]);
    expect(breakOfStructure(c, uptrend, { closeBreak: false })).toMatchObject([{ type: 'BOS', index: 11 }]);
  });

  it('keeps the first crossing as the break bar when the pattern is confirmed after it', () => {
    // Close above 110 at bar 8, before the low at bar 7 is confirmed (bar 9).
    expect(breakOfStructure(closes(14, 100, { 8: 111 }), uptrend)).toEqual([
      { type: 'BOS', direction: 'bullish', level: 110, swingIndex: 4, index: 8, confirmedIndex: 9 },
    ]);
  });

  it('reports a bearish CHoCH when an uptrend breaks its last higher low', () => {
    const swings = [...uptrend, high(10, 120, 12)];
    const c = closes(20, 100, { 9: 111, 15: 94 });
    expect(breakOfStructure(c, swings)).toEqual([
      { type: 'BOS', direction: 'bullish', level: 110, swingIndex: 4, index: 9, confirmedIndex: 9 },
      { type: 'CHoCH', direction: 'bearish', level: 95, swingIndex: 7, index: 15, confirmedIndex: 15 },
    ]);
  });

  it('reports a bullish CHoCH after a lower low', () => {
    const swings = [low(1, 95, 3), high(4, 110, 6), low(7, 90, 9)];
    expect(breakOfStructure(closes(14, 100, { 12: 110.5 }), swings)).toMatchObject([
      { type: 'CHoCH', direction: 'bullish', level: 110 },
    ]);
  });

  it('drops a level when the next swing on its side does not exceed it (library: h3 > h1)', () => {
    const swings = [...uptrend, high(10, 105, 12)];
    expect(breakOfStructure(closes(20, 100, { 15: 111 }), swings)).toEqual([]);
  });

  it('drops an unbroken earlier level once a later one breaks first', () => {
    // Wick to 112 makes a higher high without a close above 110; the higher low at 95 then breaks.
    const swings = [...uptrend, high(10, 112, 12)];
    const c = closes(24, 100, { 15: 94, 20: 111 });
    expect(breakOfStructure(c, swings)).toEqual([
      { type: 'CHoCH', direction: 'bearish', level: 95, swingIndex: 7, index: 15, confirmedIndex: 15 },
    ]);
  });

  it('needs three alternating swings', () => {
    expect(breakOfStructure(closes(14, 100, { 11: 111 }), uptrend.slice(1))).toEqual([]);
    expect(breakOfStructure(closes(3, 100), [])).toEqual([]);
  });
});

describe('liquidity', () => {
  // Range 50..150 from bar 0, so 1% of it is a band of +-1 around the first swing.
  const c = closes(20, 120, { 0: 100, 14: 120 });
  c.high[0] = 150;
  c.low[0] = 50;
  c.high[14] = 141.2; // reaches 140 + 1

  it('pools two equal highs and reports the sweep', () => {
    const swings = [high(3, 140, 5), low(6, 110, 8), high(9, 140.5, 11)];
    expect(liquidity(c, swings)).toEqual([
      { type: 'buy-side', level: 140.25, swingIndices: [3, 9], confirmedIndex: 11, sweptIndex: 14 },
    ]);
    expect(liquidity(sliceCandles(c, 0, 14), swings)[0]!.sweptIndex).toBeNull();
    expect(liquidity(sliceCandles(c, 0, 11), swings)).toEqual([]);
  });

  it('pools equal lows on the sell side, and ignores swings outside the band or after the sweep', () => {
    const s = closes(24, 120, { 0: 100 });
    s.high[0] = 150;
    s.low[0] = 50;
    s.low[15] = 98.9; // sweeps 100 - 1
    const swings = [
      low(3, 100, 5),
      high(4, 130, 6),
      low(7, 102, 9), // outside the band: anchors its own
      high(8, 130, 10),
      low(10, 100.8, 12), // joins the first
      high(11, 131, 13),
      low(18, 100.2, 20), // after the sweep: a new band
    ];
    expect(liquidity(s, swings).filter((p) => p.type === 'sell-side')).toEqual([
      { type: 'sell-side', level: 100.4, swingIndices: [3, 10], confirmedIndex: 12, sweptIndex: 15 },
    ]);
  });

  it('does not pool a swing with the one it superseded', () => {
    expect(liquidity(c, [high(3, 140, 5), high(6, 140.4, 8)])).toEqual([]);
  });

  it('rejects a negative range and finds nothing on flat prices', () => {
    expect(() => liquidity(c, [], { rangePercent: -1 })).toThrow(RangeError);
    const flat = closes(40, 100);
    expect(liquidity(flat, swingHighsLows(flat, 5))).toEqual([]);
  });
});

describe('analyzeSmc', () => {
  it('runs every concept with one swing length', () => {
    const flat = closes(40, 100);
    expect(analyzeSmc(flat)).toEqual({
      swings: [high(9, 100, 14)],
      fairValueGaps: [],
      orderBlocks: [],
      structure: [],
      liquidity: [],
    });
    expect(analyzeSmc(closes(0, 100), { swingLength: 3 }).swings).toEqual([]);
  });
});
