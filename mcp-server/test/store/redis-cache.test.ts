import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { candlesFromRows } from '../../src/core/candles.js';
import type { CandleSeries } from '../../src/market/types.js';
import { RedisCache } from '../../src/store/redis-cache.js';
import { connectRedis, type RedisConnection } from '../../src/store/redis-connection.js';
import { deleteKeys, rawClient, SHARED_REDIS_URL, uniquePrefix, waitUntilReady } from '../helpers/redis.js';

const prefix = uniquePrefix('cache');
const raw = rawClient();
let connA: RedisConnection;
let connB: RedisConnection;
let a: RedisCache;
let b: RedisCache;

beforeAll(async () => {
  // Two connections and two caches on one Redis: two replicas of the server.
  connA = connectRedis(SHARED_REDIS_URL, 'cache');
  connB = connectRedis(SHARED_REDIS_URL, 'cache');
  await Promise.all([waitUntilReady(connA), waitUntilReady(connB)]);
  a = new RedisCache(connA, { prefix });
  b = new RedisCache(connB, { prefix });
});

afterAll(async () => {
  await deleteKeys(raw, prefix);
  await Promise.all([connA.close(), connB.close(), raw.quit()]);
});

function series(n: number): CandleSeries {
  const rows = Array.from({ length: n }, (_, i) => {
    const p = 100 + Math.sin(i) / 3;
    return [1_700_000_000_000 + i * 60_000, p, p + 0.1, p - 0.1, p + 1 / 3, i * 0.7];
  });
  return {
    symbol: 'ETH/USDT',
    exchange: 'kraken',
    timeframe: '1m',
    candles: candlesFromRows(rows),
    source: 'exchange',
    asOf: 1_700_000_000_000 + n * 60_000,
    fetchedAt: 1_700_000_000_001,
    fallback: { requestedExchange: 'kraken', reason: 'none', outage: false },
  };
}

function bytes(a: Float64Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

describe('RedisCache on a real Redis', () => {
  it('misses, hits, deletes, and stores under its prefix with the given TTL', async () => {
    expect(await a.get('k1')).toBeUndefined();
    await a.set('k1', { n: 1, list: [1, 2] }, 60_000);
    expect(await a.get('k1')).toEqual({ n: 1, list: [1, 2] });
    const pttl = await raw.pttl(prefix + 'k1');
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(60_000);
    await a.delete('k1');
    expect(await a.get('k1')).toBeUndefined();
    expect(await raw.exists(prefix + 'k1')).toBe(0);
    expect(a.health()).toEqual({ name: 'cache', backend: 'redis', status: 'ok' });
  });

  it('lets Redis expire entries after their TTL', async () => {
    await a.set('short', 'soon gone', 50);
    await expect.poll(() => raw.exists(prefix + 'short'), { timeout: 5_000, interval: 20 }).toBe(0);
    expect(await a.get('short')).toBeUndefined();
    // A TTL that is already over stores nothing.
    await a.set('zero', 1, 0);
    expect(await raw.exists(prefix + 'zero')).toBe(0);
  });

  it('round-trips a CandleSeries exactly through Redis', async () => {
    const s = series(500);
    await a.set('series', s, 60_000);
    const back = await b.get<CandleSeries>('series');
    expect(back).toBeDefined();
    for (const col of ['time', 'open', 'high', 'low', 'close', 'volume'] as const) {
      expect(back!.candles[col]).toBeInstanceOf(Float64Array);
      expect(bytes(back!.candles[col]).equals(bytes(s.candles[col]))).toBe(true);
    }
    expect({ ...back, candles: 0 }).toEqual({ ...s, candles: 0 });
  });

  it('coalesces concurrent loads of one key into one loader call', async () => {
    let calls = 0;
    const loader = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 30));
      return { loaded: calls };
    };
    const results = await Promise.all(Array.from({ length: 10 }, () => a.getOrLoad('co', 60_000, loader)));
    expect(calls).toBe(1);
    for (const r of results) expect(r).toEqual({ loaded: 1 });
    // Stored in Redis: the other replica gets it without loading.
    expect(await b.getOrLoad('co', 60_000, loader)).toEqual({ loaded: 1 });
    expect(calls).toBe(1);
  });

  it('derives the TTL from the loaded value when asked to', async () => {
    const value = await a.getOrLoad(
      'derived',
      (v: { ttl: number }) => v.ttl,
      async () => ({ ttl: 30_000 }),
    );
    expect(value).toEqual({ ttl: 30_000 });
    const pttl = await raw.pttl(prefix + 'derived');
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(30_000);
  });

  it('does not cache a failed load, and the loader error propagates', async () => {
    await expect(
      a.getOrLoad('fail', 60_000, () => Promise.reject(new Error('exchange down'))),
    ).rejects.toThrow('exchange down');
    await expect(
      a.getOrLoad('fail', 60_000, () => {
        throw new Error('sync throw');
      }),
    ).rejects.toThrow('sync throw');
    expect(await raw.exists(prefix + 'fail')).toBe(0);
    expect(await a.getOrLoad('fail', 60_000, async () => 'ok now')).toBe('ok now');
  });

  it('caches an undefined result as a hit', async () => {
    let calls = 0;
    const loader = async () => {
      calls++;
      return undefined;
    };
    expect(await a.getOrLoad('undef', 60_000, loader)).toBeUndefined();
    expect(await b.getOrLoad('undef', 60_000, loader)).toBeUndefined();
    expect(calls).toBe(1);
  });

  it('shares entries between two instances (replicas), both ways', async () => {
    await a.set('shared', { from: 'a' }, 60_000);
    expect(await b.get('shared')).toEqual({ from: 'a' });
    await b.set('shared', { from: 'b' }, 60_000);
    expect(await a.get('shared')).toEqual({ from: 'b' });
    await b.delete('shared');
    expect(await a.get('shared')).toBeUndefined();
  });

  it('treats an unreadable entry as a miss and replaces it', async () => {
    await raw.set(prefix + 'junk', '{not json', 'PX', 60_000);
    expect(await a.get('junk')).toBeUndefined();
    expect(await a.getOrLoad('junk', 60_000, async () => 'fresh')).toBe('fresh');
    expect(await b.get('junk')).toBe('fresh');
  });

  it('skips a value it cannot serialise instead of failing the caller', async () => {
    expect(await a.getOrLoad('bigint', 60_000, async () => ({ n: 1n }))).toEqual({ n: 1n });
    expect(await raw.exists(prefix + 'bigint')).toBe(0);
    expect(a.health().status).toBe('ok');
  });

  it('keeps keys of different prefixes apart', async () => {
    const other = new RedisCache(connA, { prefix: prefix + 'other:' });
    await a.set('same', 1, 60_000);
    await other.set('same', 2, 60_000);
    expect(await a.get('same')).toBe(1);
    expect(await other.get('same')).toBe(2);
  });
});
