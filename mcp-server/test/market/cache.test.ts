import { describe, expect, it } from 'vitest';
import { MemoryCache } from '../../src/market/cache.js';

describe('MemoryCache', () => {
  it('expires entries after their TTL (injected clock)', async () => {
    let now = 1_000;
    const cache = new MemoryCache({ now: () => now });
    await cache.set('a', 1, 100);
    expect(await cache.get('a')).toBe(1);
    now += 99;
    expect(await cache.get('a')).toBe(1);
    now += 1;
    expect(await cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('evicts the least recently used entry beyond maxEntries', async () => {
    const cache = new MemoryCache({ maxEntries: 2 });
    await cache.set('a', 1, 1e6);
    await cache.set('b', 2, 1e6);
    await cache.get('a'); // a is now more recent than b
    await cache.set('c', 3, 1e6);
    expect(await cache.get('b')).toBeUndefined();
    expect(await cache.get('a')).toBe(1);
    expect(await cache.get('c')).toBe(3);
    await cache.delete('a');
    expect(await cache.get('a')).toBeUndefined();
  });

  it('getOrLoad coalesces concurrent loads and caches the result', async () => {
    const cache = new MemoryCache();
    let calls = 0;
    const loader = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 10));
      return { value: calls };
    };
    const [x, y] = await Promise.all([cache.getOrLoad('k', 1e6, loader), cache.getOrLoad('k', 1e6, loader)]);
    expect(x).toBe(y);
    expect(await cache.getOrLoad('k', 1e6, loader)).toBe(x);
    expect(calls).toBe(1);
  });

  it('does not cache failures, and may derive the TTL from the value', async () => {
    let now = 0;
    const cache = new MemoryCache({ now: () => now });
    await expect(cache.getOrLoad('k', 100, () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    await expect(
      cache.getOrLoad('k', 100, () => {
        throw new Error('sync throw'); // a loader that throws synchronously must not poison the key
      }),
    ).rejects.toThrow('sync throw');
    expect(
      await cache.getOrLoad(
        'k',
        (v: number) => v,
        async () => 50,
      ),
    ).toBe(50);
    now = 49;
    expect(await cache.get('k')).toBe(50);
    now = 50;
    expect(await cache.get('k')).toBeUndefined();
  });
});
