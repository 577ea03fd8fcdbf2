/**
 * `CacheStore` on Redis, shared by every replica of the server, with the in-process `MemoryCache` as
 * the fallback: while Redis is unreachable (or a command fails) the same calls are served from memory,
 * and Redis is used again as soon as the connection is back. A cache problem never fails a request;
 * only a loader's own error propagates.
 *
 * TTLs are the callers' (market data until the next candle close, 60 s at most; analyses 300 s) and are
 * enforced by Redis (`SET ... PX`), so every replica sees an entry expire at the same moment.
 */
import { log } from '../logger.js';
import { MemoryCache, startLoad, type CacheStore, type Ttl } from '../market/cache.js';
import type { RedisConnection } from './redis-connection.js';
import type { StoreHealth } from './types.js';
import { decodeValue, encodeValue } from './value-codec.js';

export interface RedisCacheOptions {
  /** Prepended to every key, so the cache shares a Redis database safely. Default 'crypto-mcp:cache:'. */
  prefix?: string;
  /** Serves while Redis is unreachable. Default: a new `MemoryCache` on the `now` clock. */
  fallback?: MemoryCache;
  /** Clock of the default fallback (Redis expires entries on its own clock). Default `Date.now`. */
  now?: () => number;
}

const DEGRADED_DETAIL = 'Redis unreachable; serving from the in-process cache';
const MISS = Symbol('miss');
const UNAVAILABLE = Symbol('unavailable');

export class RedisCache implements CacheStore {
  private readonly prefix: string;
  private readonly fallback: MemoryCache;
  private readonly inflight = new Map<string, Promise<unknown>>();
  /** The last Redis command failed although the connection looked ready (e.g. a timeout). */
  private failing = false;

  constructor(
    private readonly conn: RedisConnection,
    options: RedisCacheOptions = {},
  ) {
    this.prefix = options.prefix ?? 'crypto-mcp:cache:';
    this.fallback = options.fallback ?? new MemoryCache({ now: options.now ?? Date.now });
  }

  async get<T>(key: string): Promise<T | undefined> {
    const found = await this.read<T>(key);
    if (found === UNAVAILABLE) return this.fallback.get<T>(key);
    return found === MISS ? undefined : found.value;
  }

  async set<T>(key: string, value: T, ttlMs: number): Promise<void> {
    let text: string;
    try {
      text = encodeValue(value);
    } catch (err) {
      // Not serialisable (e.g. a BigInt): not cached, which is no reason to fail the caller's request.
      log.warn('Cache value not serialisable; not cached', { key, error: (err as Error).message });
      return;
    }
    if (this.conn.ready) {
      try {
        // PX takes a positive integer; a TTL that is already over means "do not keep it".
        const px = Math.ceil(ttlMs);
        if (px > 0) await this.conn.client.set(this.prefix + key, text, 'PX', px);
        else await this.conn.client.del(this.prefix + key);
        this.succeeded();
        return;
      } catch (err) {
        this.failed('set', err);
      }
    }
    await this.fallback.set(key, value, ttlMs);
  }

  async delete(key: string): Promise<void> {
    // Also dropped from memory, so an entry cached during an earlier outage cannot resurface later.
    await this.fallback.delete(key);
    if (!this.conn.ready) return;
    try {
      await this.conn.client.del(this.prefix + key);
      this.succeeded();
    } catch (err) {
      this.failed('delete', err);
    }
  }

  async getOrLoad<T>(key: string, ttlMs: Ttl<T>, loader: () => Promise<T>): Promise<T> {
    const pending = this.inflight.get(key) as Promise<T> | undefined;
    if (pending) return pending;
    const found = await this.read<T>(key);
    // Without Redis the in-process cache does it all: hits (even of a cached `undefined`), coalescing.
    if (found === UNAVAILABLE) return this.fallback.getOrLoad(key, ttlMs, loader);
    if (found !== MISS) return found.value;
    // Another caller may have started the load while this one waited for Redis.
    const started = this.inflight.get(key) as Promise<T> | undefined;
    if (started) return started;
    return startLoad(this.inflight, key, ttlMs, loader, (v, ms) => this.set(key, v, ms));
  }

  health(): StoreHealth {
    return this.conn.ready && !this.failing
      ? { name: 'cache', backend: 'redis', status: 'ok' }
      : { name: 'cache', backend: 'redis', status: 'degraded', detail: DEGRADED_DETAIL };
  }

  /** The entry in Redis (wrapped, so a cached `undefined` still counts as a hit). Never throws. */
  private async read<T>(key: string): Promise<{ value: T } | typeof MISS | typeof UNAVAILABLE> {
    if (!this.conn.ready) return UNAVAILABLE;
    let text: string | null;
    try {
      text = await this.conn.client.get(this.prefix + key);
      this.succeeded();
    } catch (err) {
      this.failed('get', err);
      return UNAVAILABLE;
    }
    if (text === null) return MISS;
    try {
      return { value: decodeValue<T>(text) };
    } catch (err) {
      // Not written by this codec (or truncated): a miss, and the loader's value will replace it.
      log.warn('Unreadable cache entry ignored', { key, error: (err as Error).message });
      return MISS;
    }
  }

  private succeeded(): void {
    this.failing = false;
  }

  private failed(op: string, err: unknown): void {
    // Connection-level outages are logged once by the connection; a failing command on a live
    // connection is worth a line the first time it happens.
    if (!this.failing && this.conn.ready) {
      log.warn('Redis cache command failed; serving from the in-process cache', {
        op,
        error: (err as Error).message,
      });
    }
    this.failing = true;
  }
}
