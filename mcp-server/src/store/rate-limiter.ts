/**
 * Fixed-window request counters. Windows are aligned to the epoch (`floor(now / windowMs)`), so every
 * replica agrees on where a window starts without coordinating: with Redis, all replicas count into the
 * same key and a caller gets `limit` requests per window in total, not per replica.
 */
import { createHash } from 'node:crypto';
import { AppError } from '../errors.js';
import { log } from '../logger.js';
import type { RedisConnection } from './redis-connection.js';
import type { RateLimitDecision, RateLimiter } from './types.js';

/** How often the in-process limiter drops the counters of windows that are over. */
const SWEEP_INTERVAL_MS = 1_000;
/**
 * Redis keys outlive their window by this much, so a replica whose clock lags a little behind still
 * increments the window's counter instead of starting a fresh one; the next window uses a new key anyway.
 */
const EXPIRY_GRACE_MS = 5_000;

/** Counters in this process only: the limiter without Redis, and the stand-in while Redis is down. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, { window: number; count: number; endsAt: number }>();
  private nextSweep = 0;

  /** @param now clock in ms, injectable for tests. */
  constructor(private readonly now: () => number = Date.now) {}

  /** Counters held (current windows, plus ended ones not swept yet). */
  get size(): number {
    return this.windows.size;
  }

  async hit(key: string, limit: number, windowMs: number): Promise<RateLimitDecision> {
    checkArgs(limit, windowMs);
    const now = this.now();
    this.sweep(now);
    const window = Math.floor(now / windowMs);
    const endsAt = (window + 1) * windowMs;
    // The window length is part of the id: one key limited over two windows keeps two counters.
    const id = `${windowMs}:${key}`;
    let entry = this.windows.get(id);
    if (!entry || entry.window !== window) {
      entry = { window, count: 0, endsAt };
      this.windows.set(id, entry);
    }
    entry.count++;
    return decide(entry.count, limit, endsAt - now);
  }

  /** Memory stays bounded by the keys active in their current window. */
  private sweep(now: number): void {
    if (now < this.nextSweep) return;
    this.nextSweep = now + SWEEP_INTERVAL_MS;
    for (const [id, entry] of this.windows) if (entry.endsAt <= now) this.windows.delete(id);
  }
}

/**
 * Counters in Redis, shared by every replica: one atomic round trip per hit (`MULTI INCR` + `PEXPIRE NX`,
 * so the expiry is set once, by the first hit of the window). While Redis is unreachable, or a command
 * fails, `fallback` counts instead (per process), so limits still apply during an outage.
 *
 * The caller's key (API key id + tool name) is hashed into the Redis key: whatever characters it holds,
 * it cannot reach into another key's namespace, and its length is bounded.
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly fallback: RateLimiter;
  private failing = false;

  constructor(
    private readonly conn: RedisConnection,
    fallback?: RateLimiter,
    private readonly prefix = 'crypto-mcp:rl:',
    /** Clock in ms, injectable for tests (Redis only expires the keys). Default `Date.now`. */
    private readonly now: () => number = Date.now,
  ) {
    this.fallback = fallback ?? new MemoryRateLimiter(now);
  }

  async hit(key: string, limit: number, windowMs: number): Promise<RateLimitDecision> {
    checkArgs(limit, windowMs);
    if (!this.conn.ready) return this.fallback.hit(key, limit, windowMs);
    const now = this.now();
    const window = Math.floor(now / windowMs);
    const resetMs = (window + 1) * windowMs - now;
    const redisKey = `${this.prefix}${windowMs}:${hashKey(key)}:${window}`;
    try {
      const results = await this.conn.client
        .multi()
        .incr(redisKey)
        .pexpire(redisKey, Math.ceil(resetMs + EXPIRY_GRACE_MS), 'NX')
        .exec();
      if (!results) throw new Error('transaction discarded');
      const [incrError, count] = results[0]!;
      if (incrError) throw incrError;
      this.failing = false;
      return decide(Number(count), limit, resetMs);
    } catch (err) {
      if (!this.failing && this.conn.ready) {
        log.warn('Redis rate limiter command failed; counting in process', {
          error: (err as Error).message,
        });
      }
      this.failing = true;
      return this.fallback.hit(key, limit, windowMs);
    }
  }
}

function decide(count: number, limit: number, resetMs: number): RateLimitDecision {
  return { allowed: count <= limit, remaining: Math.max(0, limit - count), resetMs };
}

function checkArgs(limit: number, windowMs: number): void {
  if (!Number.isFinite(limit) || limit < 0 || !Number.isFinite(windowMs) || windowMs <= 0) {
    throw new AppError('INVALID_ARGUMENT', `Invalid rate limit: ${limit} per ${windowMs} ms`);
  }
}

/** A fixed-length, separator-free stand-in for an arbitrary caller key. */
function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('base64url');
}
