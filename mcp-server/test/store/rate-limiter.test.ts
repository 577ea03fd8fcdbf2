import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryRateLimiter, RedisRateLimiter } from '../../src/store/rate-limiter.js';
import { connectRedis, type RedisConnection } from '../../src/store/redis-connection.js';
import { deleteKeys, rawClient, SHARED_REDIS_URL, uniquePrefix, waitUntilReady } from '../helpers/redis.js';

describe('MemoryRateLimiter', () => {
  it('allows `limit` hits per fixed window, aligned to floor(now / windowMs)', async () => {
    let now = 10_250;
    const rl = new MemoryRateLimiter(() => now);
    expect(await rl.hit('key', 3, 1_000)).toEqual({ allowed: true, remaining: 2, resetMs: 750 });
    expect(await rl.hit('key', 3, 1_000)).toEqual({ allowed: true, remaining: 1, resetMs: 750 });
    now = 10_999;
    expect(await rl.hit('key', 3, 1_000)).toEqual({ allowed: true, remaining: 0, resetMs: 1 });
    expect(await rl.hit('key', 3, 1_000)).toEqual({ allowed: false, remaining: 0, resetMs: 1 });
    // Other keys and other window lengths count separately.
    expect((await rl.hit('other', 3, 1_000)).remaining).toBe(2);
    expect((await rl.hit('key', 3, 5_000)).remaining).toBe(2);
    now = 11_000; // next window
    expect(await rl.hit('key', 3, 1_000)).toEqual({ allowed: true, remaining: 2, resetMs: 1_000 });
  });

  it('drops the counters of windows that are over (bounded memory)', async () => {
    let now = 0;
    const rl = new MemoryRateLimiter(() => now);
    for (let i = 0; i < 1_000; i++) await rl.hit(`caller-${i}`, 10, 1_000);
    expect(rl.size).toBe(1_000);
    now = 5_000;
    await rl.hit('late', 10, 1_000);
    expect(rl.size).toBe(1);
  });

  it('rejects nonsensical limits', async () => {
    const rl = new MemoryRateLimiter();
    await expect(rl.hit('k', 1, 0)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(rl.hit('k', NaN, 1_000)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('RedisRateLimiter on a real Redis', () => {
  const prefix = uniquePrefix('rl');
  const raw = rawClient();
  let connA: RedisConnection;
  let connB: RedisConnection;

  beforeAll(async () => {
    connA = connectRedis(SHARED_REDIS_URL, 'rate-limit');
    connB = connectRedis(SHARED_REDIS_URL, 'rate-limit');
    await Promise.all([waitUntilReady(connA), waitUntilReady(connB)]);
  });

  afterAll(async () => {
    await deleteKeys(raw, prefix);
    await Promise.all([connA.close(), connB.close(), raw.quit()]);
  });

  it('honours the limit and reports the time left in the window', async () => {
    const now = 1_000_000_250;
    const rl = new RedisRateLimiter(connA, undefined, prefix, () => now);
    expect(await rl.hit('k-limit', 2, 1_000)).toEqual({ allowed: true, remaining: 1, resetMs: 750 });
    expect(await rl.hit('k-limit', 2, 1_000)).toEqual({ allowed: true, remaining: 0, resetMs: 750 });
    expect(await rl.hit('k-limit', 2, 1_000)).toEqual({ allowed: false, remaining: 0, resetMs: 750 });
  });

  it('starts a new count when the window changes, and lets Redis expire old windows', async () => {
    let now = 2_000_040_000; // a window boundary
    const rl = new RedisRateLimiter(connA, undefined, prefix, () => now);
    await rl.hit('k-reset', 1, 60_000);
    expect((await rl.hit('k-reset', 1, 60_000)).allowed).toBe(false);
    now += 60_000;
    expect(await rl.hit('k-reset', 1, 60_000)).toEqual({ allowed: true, remaining: 0, resetMs: 60_000 });
    const [, keys] = await raw.scan('0', 'MATCH', `${prefix}60000:*`, 'COUNT', 1000);
    expect(keys.length).toBe(2);
    for (const key of keys) {
      const pttl = await raw.pttl(key);
      expect(pttl).toBeGreaterThan(0); // set once, by the window's first hit
    }
  });

  it('shares counts between replicas and counts concurrent hits exactly', async () => {
    // One frozen clock, so the 100 hits cannot straddle two windows.
    const now = () => 3_000_000_000;
    const a = new RedisRateLimiter(connA, undefined, prefix, now);
    const b = new RedisRateLimiter(connB, undefined, prefix, now);
    const hits = Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).hit('k-concurrent', 50, 3_600_000));
    const decisions = await Promise.all(hits);
    expect(decisions.filter((d) => d.allowed)).toHaveLength(50);
    const remaining = decisions.map((d) => d.remaining).sort((x, y) => x - y);
    expect(remaining.filter((r) => r === 0)).toHaveLength(51); // the 50th hit and the 50 rejected ones
    expect(new Set(remaining.filter((r) => r > 0)).size).toBe(49); // every other count seen exactly once
  });

  it('treats caller keys as opaque: no key reaches another key space', async () => {
    const rl = new RedisRateLimiter(connA, undefined, prefix);
    const tricky = ['a', 'a:3600000', '*', 'a:1:2', `x\r\nFLUSHALL\r\n`, '../', 'ключ 🔑'];
    for (const key of tricky) expect((await rl.hit(`opaque:${key}`, 5, 3_600_000)).remaining).toBe(4);
    const [, keys] = await raw.scan('0', 'MATCH', `${prefix}3600000:*`, 'COUNT', 1000);
    const pattern = new RegExp(
      `^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}3600000:[A-Za-z0-9_-]{43}:\\d+$`,
    );
    for (const key of keys) expect(key).toMatch(pattern);
    expect(await raw.dbsize()).toBeGreaterThan(0); // nothing was flushed
  });
});
