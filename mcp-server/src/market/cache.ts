import { cacheRequests } from '../observability/instruments.js';

/**
 * Cache for fetched market data. `CacheStore` is asynchronous so an out-of-process store (e.g. Redis,
 * which would also need to serialise the typed arrays of `Candles`) can replace `MemoryCache`.
 */
export interface CacheStore {
  get<T>(key: string): Promise<T | undefined>;
  set<T>(key: string, value: T, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /**
   * The cached value, or the result of `loader` stored for `ttlMs` (or the TTL computed from the loaded
   * value). Concurrent calls for the same key share one `loader` call; a failed load is not cached.
   */
  getOrLoad<T>(key: string, ttlMs: Ttl<T>, loader: () => Promise<T>): Promise<T>;
}

/** Time to live in ms, fixed or derived from the value (e.g. until the next candle closes). */
export type Ttl<T> = number | ((value: T) => number);

export interface MemoryCacheOptions {
  /** Entries kept at most; the least recently used one is evicted first. Default 500. */
  maxEntries?: number;
  /** Clock in ms, injectable for tests. Default `Date.now`. */
  now?: () => number;
}

/** In-process TTL + LRU cache. */
export class MemoryCache implements CacheStore {
  // A Map iterates in insertion order; re-inserting on every hit keeps the least recently used first.
  private readonly entries = new Map<string, { value: unknown; expiresAt: number }>();
  private readonly inflight = new Map<string, Promise<unknown>>();
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: MemoryCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 500;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  async get<T>(key: string): Promise<T | undefined> {
    return this.read<T>(key)?.value;
  }

  async set<T>(key: string, value: T, ttlMs: number): Promise<void> {
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs });
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(oldest);
    }
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }

  async getOrLoad<T>(key: string, ttlMs: Ttl<T>, loader: () => Promise<T>): Promise<T> {
    const hit = this.read<T>(key);
    if (hit) return hit.value;
    const pending = this.inflight.get(key) as Promise<T> | undefined;
    if (pending) return pending;
    return startLoad(this.inflight, key, ttlMs, loader, (v, ms) => this.set(key, v, ms));
  }

  /** The live entry (wrapped, so a cached `undefined` still counts as a hit), refreshed as most recent. */
  private read<T>(key: string): { value: T } | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= this.now()) return undefined;
    this.entries.set(key, entry);
    return { value: entry.value as T };
  }
}

/**
 * Runs `loader` once for `key`, registered in `inflight` until it settles so concurrent callers share it,
 * and stores the value with its TTL; a failed load is not stored. Shared by the in-process and Redis
 * caches.
 */
export function startLoad<T>(
  inflight: Map<string, Promise<unknown>>,
  key: string,
  ttlMs: Ttl<T>,
  loader: () => Promise<T>,
  store: (value: T, ttlMs: number) => Promise<void>,
): Promise<T> {
  // Starting the loader in a `then` guarantees it is registered as in flight before it can settle.
  const load = Promise.resolve()
    .then(loader)
    .then(async (value) => {
      await store(value, typeof ttlMs === 'number' ? ttlMs : ttlMs(value));
      return value;
    })
    .finally(() => inflight.delete(key));
  inflight.set(key, load);
  return load;
}

/**
 * `cache` with every `getOrLoad` counted in the metrics as a hit (answered without running this caller's
 * loader: stored, or shared with a load already in flight) or a miss (loaded, successfully or not), under the cache name
 * `name` gives for the key. Wrapped once where the caches are handed to their users (services/app.ts),
 * so every backend (Redis, its in-process fallback, memory) is counted the same way.
 */
export function countedCache(cache: CacheStore, name: (key: string) => string): CacheStore {
  return {
    get: (key) => cache.get(key),
    set: (key, value, ttlMs) => cache.set(key, value, ttlMs),
    delete: (key) => cache.delete(key),
    async getOrLoad<T>(key: string, ttlMs: Ttl<T>, loader: () => Promise<T>): Promise<T> {
      let loaded = false;
      const count = (result: 'hit' | 'miss') => cacheRequests.inc({ cache: name(key), result });
      try {
        const value = await cache.getOrLoad(key, ttlMs, () => {
          loaded = true;
          return loader();
        });
        count(loaded ? 'miss' : 'hit');
        return value;
      } catch (err) {
        // A failed load of its own is a miss; a shared load that failed served nothing, so counts as neither.
        if (loaded) count('miss');
        throw err;
      }
    },
  };
}
