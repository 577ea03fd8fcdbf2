/**
 * Redis going away and coming back, on a private redis-server this file may stop and restart: the
 * cache and the rate limiter keep serving (from memory) while it is down, nothing throws or crashes,
 * and the same instances use Redis again once it is back.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { RedisRateLimiter } from '../../src/store/rate-limiter.js';
import { RedisCache } from '../../src/store/redis-cache.js';
import { connectRedis } from '../../src/store/redis-connection.js';
import {
  rawClient,
  startPrivateRedis,
  uniquePrefix,
  waitUntilReady,
  type PrivateRedis,
} from '../helpers/redis.js';

const PASSWORD = 's3cret-pw-never-logged';
const unhandled: unknown[] = [];
const onUnhandled = (err: unknown) => unhandled.push(err);
let redis: PrivateRedis;
let stderr: string[];

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUnhandled);
  redis = await startPrivateRedis();
});

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  process.off('uncaughtException', onUnhandled);
  await redis.destroy();
});

beforeEach(() => {
  stderr = [];
  const write = process.stderr.write.bind(process.stderr);
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
    stderr.push(String(chunk));
    return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
  });
});

afterEach(async () => {
  vi.restoreAllMocks();
  await redis.start(); // each test starts from a running server
});

/** The server's URL with a password (the private server has none, so Redis accepts any). */
function urlWithPassword(): string {
  return `redis://:${PASSWORD}@127.0.0.1:${redis.port}`;
}

async function readRaw(key: string): Promise<string | null> {
  const raw = rawClient(redis.url);
  try {
    return await raw.get(key);
  } finally {
    raw.disconnect();
  }
}

describe('Redis outage and recovery', () => {
  it('serves from memory while Redis is down, then uses Redis again', async () => {
    const prefix = uniquePrefix('fault');
    const conn = connectRedis(urlWithPassword(), 'cache');
    await waitUntilReady(conn);
    const cache = new RedisCache(conn, { prefix });
    const limiter = new RedisRateLimiter(conn, undefined, prefix, () => 5_000_000_000);
    try {
      // Up: values and counters live in Redis.
      await cache.set('before', { v: 1 }, 60_000);
      expect(await readRaw(prefix + 'before')).not.toBeNull();
      expect((await limiter.hit('caller', 3, 60_000)).remaining).toBe(2);
      expect(cache.health().status).toBe('ok');

      await redis.stop();
      await expect.poll(() => conn.ready, { timeout: 10_000, interval: 20 }).toBe(false);

      // Down: no throw, answers from memory, health says so.
      expect(await cache.get('before')).toBeUndefined(); // it was only in Redis
      let loads = 0;
      const loader = async () => ({ loaded: ++loads });
      expect(await cache.getOrLoad('during', 60_000, loader)).toEqual({ loaded: 1 });
      expect(await cache.getOrLoad('during', 60_000, loader)).toEqual({ loaded: 1 });
      expect(loads).toBe(1);
      await cache.set('mem', 'x', 60_000);
      expect(await cache.get('mem')).toBe('x');
      await cache.delete('mem');
      expect(await cache.get('mem')).toBeUndefined();
      await expect(
        cache.getOrLoad('boom', 60_000, () => Promise.reject(new Error('loader'))),
      ).rejects.toThrow('loader');
      expect(cache.health()).toEqual({
        name: 'cache',
        backend: 'redis',
        status: 'degraded',
        detail: 'Redis unreachable; serving from the in-process cache',
      });
      expect(conn.health()).toMatchObject({ name: 'cache', backend: 'redis', status: 'down' });

      // The limiter still limits, counting in this process.
      const decisions = await Promise.all(Array.from({ length: 5 }, () => limiter.hit('caller', 3, 60_000)));
      expect(decisions.filter((d) => d.allowed)).toHaveLength(3);

      // Let a few reconnect attempts fail: the outage is logged once, without the password.
      await new Promise((r) => setTimeout(r, 1_000));
      const log = stderr.join('');
      expect(log.match(/Redis unreachable/g)).toHaveLength(1);
      expect(log).not.toContain(PASSWORD);

      await redis.start();
      await waitUntilReady(conn);

      // Back: the same instances write to Redis again (read back through another client).
      await cache.set('after', { v: 2 }, 60_000);
      expect(await readRaw(prefix + 'after')).not.toBeNull();
      expect(await cache.get('after')).toEqual({ v: 2 });
      expect(cache.health()).toEqual({ name: 'cache', backend: 'redis', status: 'ok' });
      expect(conn.health().status).toBe('ok');
      expect((await limiter.hit('after', 3, 60_000)).remaining).toBe(2);
      const raw = rawClient(redis.url);
      const [, keys] = await raw.scan('0', 'MATCH', `${prefix}*`, 'COUNT', 1000);
      raw.disconnect();
      expect(keys.some((k) => k.startsWith(`${prefix}60000:`))).toBe(true);
      expect(stderr.join('')).toContain('Redis reachable again');
      expect(unhandled).toEqual([]);
    } finally {
      await conn.close();
    }
  });

  it('starts with Redis down, serves from memory, and connects when it appears', async () => {
    await redis.stop();
    const prefix = uniquePrefix('fault-start');
    const conn = connectRedis(urlWithPassword(), 'cache');
    const cache = new RedisCache(conn, { prefix });
    try {
      expect(conn.ready).toBe(false);
      expect(await cache.getOrLoad('k', 60_000, async () => 'from loader')).toBe('from loader');
      expect(await cache.get('k')).toBe('from loader');
      expect(cache.health().status).toBe('degraded');

      await redis.start();
      await waitUntilReady(conn);
      await cache.set('k2', 'in redis', 60_000);
      expect(await readRaw(prefix + 'k2')).not.toBeNull();
      expect(cache.health().status).toBe('ok');
      expect(stderr.join('')).not.toContain(PASSWORD);
      expect(unhandled).toEqual([]);
    } finally {
      await conn.close();
    }
  });

  it('closes cleanly while Redis is down', async () => {
    await redis.stop();
    const conn = connectRedis(redis.url, 'cache');
    await conn.close();
    expect(conn.ready).toBe(false);
    expect(conn.health()).toMatchObject({ status: 'down', detail: 'connection closed' });
  });
});
