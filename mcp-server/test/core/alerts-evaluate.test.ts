/**
 * Candle-close evaluation on real BTCUSDT 1h candles: each alert fires exactly on the bars where a
 * brute-force evaluation of the whole series (core/rules) holds, for comparisons, crosses, flags, moves
 * and multi-timeframe conditions; series are computed once for many alerts.
 */
import { describe, expect, it } from 'vitest';
import { allocCandles, sliceCandles, type Candles } from '../../src/core/candles.js';
import { CandleAlertIndex, parseAlertExpression, type CandleAlert } from '../../src/core/alerts/index.js';
import { computeSeries, evaluateCondition, type Condition } from '../../src/core/rules/index.js';
import { candleCloseTime, candleOpenTime } from '../../src/market/timeframes.js';
import { fixturePath, loadCandlesCsv } from '../helpers/csv.js';

const c = loadCandlesCsv(fixturePath('BTCUSDT-1h-20k.csv.gz'));
const SYMBOL = 'BTC/USDT';
const HOUR = 3_600_000;
const closeAt = (i: number) => c.time[i]! + HOUR;

const alert = (id: string, expression: string, timeframe = '1h'): CandleAlert => ({
  id,
  symbol: SYMBOL,
  timeframe,
  expression,
  condition: parseAlertExpression(expression, { timeframe }),
});

/** Feed bars [from, to) one close at a time; the bars at which each alert fired. */
function replay(
  index: CandleAlertIndex,
  from: number,
  to: number,
  extra?: (i: number) => Map<string, Candles>,
) {
  const fired = new Map<string, number[]>();
  for (let i = from; i < to; i++) {
    const frames = extra ? extra(i) : new Map<string, Candles>();
    frames.set('1h', sliceCandles(c, 0, i + 1));
    for (const f of index.onCandleClose(SYMBOL, '1h', frames, closeAt(i))) {
      expect(f.at).toBe(closeAt(i));
      fired.set(f.alert_id, [...(fired.get(f.alert_id) ?? []), i]);
    }
  }
  return fired;
}

const barsWhere = (truth: ArrayLike<number>, from: number, to: number): number[] => {
  const out: number[] = [];
  for (let i = from; i < to; i++) if (truth[i]) out.push(i);
  return out;
};

describe('CandleAlertIndex', () => {
  const FROM = 200;
  const TO = 1400;

  it('fires exactly where a brute-force scan of the whole series holds', () => {
    const cases: [string, Condition][] = [
      ['rsi(14) < 30', { left: 'rsi(14)', op: '<', right: 30 }],
      [
        'rsi > 70 and close > ema(50)',
        {
          all: [
            { left: 'rsi', op: '>', right: 70 },
            { left: 'close', op: '>', right: 'ema(50)' },
          ],
        },
      ],
      ['ema(20) crosses above ema(50)', { left: 'ema(20)', op: 'crosses_above', right: 'ema(50)' }],
      ['cross_below(ema(20), ema(50))', { left: 'ema(20)', op: 'crosses_below', right: 'ema(50)' }],
      [
        'close crosses above donchian_high(20)',
        { left: 'close', op: 'crosses_above', right: 'donchian_high(20)' },
      ],
      ['macd crosses above signal', { left: 'macd', op: 'crosses_above', right: 'macd_signal' }],
      [
        'close crosses 65000',
        {
          any: [
            { left: 'close', op: 'crosses_above', right: 65000 },
            { left: 'close', op: 'crosses_below', right: 65000 },
          ],
        },
      ],
      ['choch_bullish', { is: 'choch_bullish' }],
      [
        'in_bullish_ob or sweep_sell_side(3)',
        { any: [{ is: 'in_bullish_ob' }, { is: 'sweep_sell_side(3)' }] },
      ],
      [
        'not (rsi < 40 or rsi > 60)',
        {
          all: [
            { left: 'rsi', op: '>=', right: 40 },
            { left: 'rsi', op: '<=', right: 60 },
          ],
        },
      ],
    ];
    const index = new CandleAlertIndex();
    cases.forEach(([expr], k) => index.add(alert(`a${k}`, expr)));
    const fired = replay(index, FROM, TO);
    cases.forEach(([expr, rule], k) => {
      const expected = barsWhere(evaluateCondition(c, rule), FROM, TO);
      expect(expected.length, expr).toBeGreaterThan(0);
      expect(fired.get(`a${k}`) ?? [], expr).toEqual(expected);
    });
  });

  it('fires percent moves where the close moved at least pct over the window', () => {
    const index = new CandleAlertIndex();
    index.add(alert('up', 'move(24) > 3%'));
    index.add(alert('down', 'move(24, 1h) < -3%'));
    index.add(alert('either', 'abs(move(6)) >= 2%'));
    const fired = replay(index, FROM, TO);
    const pct = (i: number, w: number) => (c.close[i]! / c.close[i - w]! - 1) * 100;
    const brute = (f: (i: number) => boolean) =>
      Array.from({ length: TO - FROM }, (_, k) => FROM + k).filter(f);
    expect(fired.get('up')).toEqual(brute((i) => pct(i, 24) >= 3));
    expect(fired.get('down')).toEqual(brute((i) => pct(i, 24) <= -3));
    expect(fired.get('either')).toEqual(brute((i) => Math.abs(pct(i, 6)) >= 2));
    expect(fired.get('up')!.length).toBeGreaterThan(0);
    expect(fired.get('down')!.length).toBeGreaterThan(0);
  });

  it('reads each timeframe at its latest closed candle in multi-timeframe conditions', () => {
    // 4h candles aggregated from the 1h fixture.
    const groups = new Map<number, number[]>();
    for (let i = 0; i < c.time.length; i++) {
      const t = candleOpenTime(c.time[i]!, '4h');
      groups.set(t, [...(groups.get(t) ?? []), i]);
    }
    const opens = [...groups.keys()];
    const h4 = allocCandles(opens.length);
    opens.forEach((t, j) => {
      const rows = groups.get(t)!;
      h4.time[j] = t;
      h4.open[j] = c.open[rows[0]!]!;
      h4.close[j] = c.close[rows.at(-1)!]!;
      h4.high[j] = Math.max(...rows.map((r) => c.high[r]!));
      h4.low[j] = Math.min(...rows.map((r) => c.low[r]!));
      h4.volume[j] = rows.reduce((s, r) => s + c.volume[r]!, 0);
    });
    const expr = 'close(4h) > ema(20, 4h) and rsi(14, 1h) < 45';
    const index = new CandleAlertIndex();
    expect(index.add(alert('mtf', expr))).toEqual(['1h', '4h']);
    // Pass the 4h candles up to the one containing this hour, still forming: it must be ignored.
    const fired = replay(index, FROM, TO, (i) => {
      const j = opens.indexOf(candleOpenTime(c.time[i]!, '4h'));
      return new Map([['4h', sliceCandles(h4, 0, j + 1)]]);
    });
    const t4 = evaluateCondition(h4, { left: 'close', op: '>', right: 'ema(20)' });
    const t1 = evaluateCondition(c, { left: 'rsi(14)', op: '<', right: 45 });
    const expected: number[] = [];
    for (let i = FROM; i < TO; i++) {
      let j = opens.indexOf(candleOpenTime(c.time[i]!, '4h'));
      if (candleCloseTime(h4.time[j]!, '4h') > closeAt(i)) j--;
      if (t4[j] && t1[i]) expected.push(i);
    }
    expect(expected.length).toBeGreaterThan(10);
    expect(fired.get('mtf')).toEqual(expected);

    // A 4h close evaluates it too, with the latest 1h candle.
    const j = 300;
    const now = candleCloseTime(h4.time[j]!, '4h');
    const last1h = c.time.findIndex((t) => t + HOUR === now);
    const frames = new Map([
      ['1h', sliceCandles(c, 0, last1h + 1)],
      ['4h', sliceCandles(h4, 0, j + 1)],
    ]);
    const holds = Boolean(t4[j] && t1[last1h]);
    expect(index.onCandleClose(SYMBOL, '4h', frames, now).length).toBe(holds ? 1 : 0);
    // Without the 4h candles the alert cannot be evaluated and does not fire.
    expect(index.onCandleClose(SYMBOL, '1h', new Map([['1h', frames.get('1h')!]]), now)).toEqual([]);
  });

  it('computes each distinct series once per candle for thousands of alerts', () => {
    const calls: string[] = [];
    const index = new CandleAlertIndex({
      computeSeries: (candles, ref, cache) => {
        calls.push(ref.key);
        return computeSeries(candles, ref, cache);
      },
    });
    for (let k = 0; k < 10_000; k++) {
      const kind = k % 3;
      const expr =
        kind === 0
          ? `rsi(14) < ${20 + (k % 20)}`
          : kind === 1
            ? 'ema(20) crosses above ema(50)'
            : `close > ${20000 + k}`;
      index.add(alert(`a${k}`, expr));
    }
    expect(index.size).toBe(10_000);
    const frames = new Map([['1h', sliceCandles(c, 0, 5000)]]);
    const firings = index.onCandleClose(SYMBOL, '1h', frames, closeAt(4999));
    expect(calls.sort()).toEqual(['close', 'ema(20)', 'ema(50)', 'rsi(14)']);
    // Every alert was evaluated: compare with the brute-force count.
    const rsi = computeSeries(c, 'rsi(14)')[4999]!;
    const e20 = computeSeries(c, 'ema(20)');
    const e50 = computeSeries(c, 'ema(50)');
    const cross = e20[4998]! <= e50[4998]! && e20[4999]! > e50[4999]!;
    let expected = 0;
    for (let k = 0; k < 10_000; k++) {
      const kind = k % 3;
      if (kind === 0 ? rsi < 20 + (k % 20) : kind === 1 ? cross : c.close[4999]! > 20000 + k) expected++;
    }
    expect(firings.length).toBe(expected);
    // Other symbols and timeframes are not touched.
    expect(index.onCandleClose('ETH/USDT', '1h', frames, closeAt(4999))).toEqual([]);
    expect(index.onCandleClose(SYMBOL, '4h', frames, closeAt(4999))).toEqual([]);
    expect(calls.length).toBe(4);
  });

  it('reports values and a message, requirements, and removes alerts', () => {
    const index = new CandleAlertIndex();
    index.add({ ...alert('r', 'rsi(14, 1h) < 101 and close(4h) > 0'), template: null });
    index.add({ ...alert('t', 'rsi < 101'), template: '{symbol} RSI {rsi(14,1h)} at {price}' });
    expect(index.add(alert('p', 'price > 5'))).toEqual([]);
    expect(index.requirements(SYMBOL)).toEqual([
      { timeframe: '1h', candles: 142 },
      { timeframe: '4h', candles: 2 },
    ]);
    expect(index.requirements('ETH/USDT')).toEqual([]);
    const h4 = sliceCandles(c, 0, 400); // any candles will do for close(4h) > 0; times are 1h-aligned, 4h-closed ones are read
    const frames = new Map([
      ['1h', sliceCandles(c, 0, 1000)],
      ['4h', h4],
    ]);
    const firings = index.onCandleClose(SYMBOL, '1h', frames, closeAt(999));
    expect(firings.map((f) => f.alert_id).sort()).toEqual(['r', 't']);
    const r = firings.find((f) => f.alert_id === 'r')!;
    const rsi = computeSeries(c, 'rsi(14)')[999]!;
    expect(Object.keys(r.values).sort()).toEqual(['close(4h)', 'price', 'rsi(14,1h)']);
    expect(r.values['rsi(14,1h)']).toBe(rsi);
    expect(r.values.price).toBe(c.close[999]);
    expect(r.message).toMatch(
      /^BTC\/USDT rsi\(14,1h\) \d+\.\d\d < 101 and close\(4h\) [\d,.]+ > 0 \(alert "rsi\(14, 1h\) < 101/,
    );
    expect(r.message).toMatch(/UTC\. Reply STOP to stop alerts\.$/);
    const t = firings.find((f) => f.alert_id === 't')!;
    expect(t.message).toBe(
      `BTC/USDT RSI ${rsi.toFixed(2)} at ${c.close[999]!.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`,
    );

    expect(index.remove('r')).toBe(true);
    expect(index.remove('r')).toBe(false);
    expect(index.requirements(SYMBOL)).toEqual([{ timeframe: '1h', candles: 142 }]);
    expect(index.onCandleClose(SYMBOL, '1h', frames, closeAt(999)).map((f) => f.alert_id)).toEqual(['t']);
    index.remove('t');
    expect(index.size).toBe(0);
    expect(index.requirements(SYMBOL)).toEqual([]);
    expect(() => index.add(alert('bad', 'rsi < 5', '7h'))).toThrow(/unsupported timeframe/);
    expect(() =>
      index.add({
        ...alert('bad2', 'rsi < 5'),
        condition: { kind: 'compare', left: { series: 'nope' }, op: '<', right: 1 },
      }),
    ).toThrow(/unknown series/);
    expect(index.requirements(SYMBOL)).toEqual([]);
  });

  it('gives the same firings from the required window as from the whole history (windowed series)', () => {
    const expr = 'close crosses above sma(50) or close < donchian_low(20) or bb_lower(20) > close';
    const index = new CandleAlertIndex();
    index.add(alert('w', expr));
    const need = index.requirements(SYMBOL)[0]!.candles;
    const full = replay(index, FROM, TO).get('w');
    const windowed: number[] = [];
    for (let i = FROM; i < TO; i++) {
      const frames = new Map([['1h', sliceCandles(c, i + 1 - need, i + 1)]]);
      if (index.onCandleClose(SYMBOL, '1h', frames, closeAt(i)).length) windowed.push(i);
    }
    expect(windowed).toEqual(full);
  });
});
