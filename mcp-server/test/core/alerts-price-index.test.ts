/**
 * Tick evaluation of price alerts: above/below/crosses against a brute-force check of every alert on
 * every tick of a random walk, plus de-duplication, removal and out-of-order ticks.
 */
import { describe, expect, it } from 'vitest';
import { PriceAlertIndex, parseAlertExpression, type AlertCondition } from '../../src/core/alerts/index.js';

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function bruteHolds(c: AlertCondition, price: number, prev: number): boolean {
  if (c.kind === 'any') return c.conditions.some((x) => bruteHolds(x, price, prev));
  if (c.kind !== 'price') return false;
  if (c.op === 'above') return price > c.level;
  if (c.op === 'below') return price < c.level;
  if (c.op === 'crosses_above') return prev <= c.level && price > c.level;
  return prev >= c.level && price < c.level;
}

describe('PriceAlertIndex', () => {
  it('fires the same alerts as a brute-force check on random ticks', () => {
    const rand = rng(42);
    const index = new PriceAlertIndex();
    const alerts = new Map<string, { symbol: string; condition: AlertCondition }>();
    const ops = ['>', '<', 'crosses above', 'crosses below', 'crosses'];
    for (let k = 0; k < 400; k++) {
      const symbol = k % 2 ? 'BTC/USDT' : 'ETH/USDT';
      // Integer levels on a coarse grid so ties (price equal to a level) happen.
      const level = Math.round(95 + rand() * 10);
      const condition = parseAlertExpression(`price ${ops[k % ops.length]} ${level}`);
      expect(index.add(`a${k}`, symbol, condition)).toBe(true);
      alerts.set(`a${k}`, { symbol, condition });
    }
    const last = new Map<string, number>();
    let total = 0;
    for (let t = 0; t < 5000; t++) {
      const symbol = rand() < 0.5 ? 'BTC/USDT' : 'ETH/USDT';
      const prevPrice = last.get(symbol) ?? 100;
      const price = Math.max(80, Math.min(120, Math.round((prevPrice + (rand() - 0.5) * 2) * 4) / 4));
      const fired = index.onTick(symbol, price, t).sort();
      const prev = last.get(symbol) ?? NaN;
      const expected = [...alerts]
        .filter(([, a]) => a.symbol === symbol && bruteHolds(a.condition, price, prev))
        .map(([id]) => id)
        .sort();
      expect(fired, `tick ${t}`).toEqual(expected);
      total += fired.length;
      last.set(symbol, price);
      // Churn: remove and re-add now and then.
      if (t % 97 === 0) {
        const id = `a${t % 400}`;
        index.remove(id);
        const a = alerts.get(id)!;
        index.add(id, a.symbol, a.condition);
      }
    }
    expect(total).toBeGreaterThan(1000);
  });

  it('de-duplicates, ignores stale ticks and non-price conditions, and removes', () => {
    const index = new PriceAlertIndex();
    expect(index.add('x', 'BTC/USDT', parseAlertExpression('price > 10 or price crosses above 20'))).toBe(
      true,
    );
    expect(index.add('c', 'BTC/USDT', parseAlertExpression('rsi < 30'))).toBe(false);
    expect(index.add('bad', 'BTC/USDT', { kind: 'price', op: 'above', level: NaN })).toBe(false);
    expect(index.size).toBe(1);
    expect(index.onTick('BTC/USDT', 15, 1)).toEqual(['x']);
    expect(index.onTick('BTC/USDT', 25, 2)).toEqual(['x']);
    expect(index.onTick('BTC/USDT', 5, 1)).toEqual([]); // stale: older than the last tick
    expect(index.onTick('BTC/USDT', 5, 3)).toEqual([]);
    expect(index.onTick('ETH/USDT', 50, 3)).toEqual([]);
    expect(index.remove('x')).toBe(true);
    expect(index.remove('x')).toBe(false);
    expect(index.onTick('BTC/USDT', 25, 4)).toEqual([]);
    // The last tick is kept, so an alert added later sees a cross on its first tick.
    index.add('y', 'BTC/USDT', parseAlertExpression('price crosses below 20'));
    expect(index.onTick('BTC/USDT', 19, 5)).toEqual(['y']);
  });
});
