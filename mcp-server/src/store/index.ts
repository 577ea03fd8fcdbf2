/**
 * Opens the persistence layer from configuration: each store uses the real service when its URL is set
 * and an embedded stand-in otherwise (PGlite for Postgres, the in-process cache and counters for Redis,
 * a Postgres JSONB table for the MongoDB archive). Nothing here connects eagerly: a service that is down
 * at start degrades the features that need it, and is used as soon as it answers.
 */
import type { Config } from '../config.js';
import { MemoryCache, type CacheStore } from '../market/cache.js';
import { SqlAlertStore } from './alert-store.js';
import { SqlAuditLog } from './audit-log.js';
import { SqlBacktestRunStore } from './backtest-runs.js';
import { MongoArchive } from './mongo-archive.js';
import { PgDatabase } from './pg-database.js';
import { PostgresArchive } from './pg-archive.js';
import { PgliteDatabase } from './pglite-database.js';
import { SqlPortfolioStore } from './portfolio-store.js';
import { MemoryRateLimiter, RedisRateLimiter } from './rate-limiter.js';
import { RedisCache } from './redis-cache.js';
import { connectRedis, type RedisConnection } from './redis-connection.js';
import type {
  AnalysisArchive,
  AlertStore,
  AuditLog,
  BacktestRunStore,
  PortfolioStore,
  RateLimiter,
  SqlDatabase,
  StoreHealth,
} from './types.js';

export type * from './types.js';

export interface Stores {
  database: SqlDatabase;
  portfolios: PortfolioStore;
  audit: AuditLog;
  alerts: AlertStore;
  backtests: BacktestRunStore;
  archive: AnalysisArchive;
  /** Market data and report cache: Redis shared by every replica, or in-process. */
  cache: CacheStore;
  rateLimiter: RateLimiter;
  /** The Redis connection when REDIS_URL is set (infrastructure checks ping it, BullMQ counts read it). */
  redis: RedisConnection | null;
  /** One entry per store; `degraded` overall when any store is not fully available. */
  health(): Promise<{ status: 'ok' | 'degraded'; stores: StoreHealth[] }>;
  close(): Promise<void>;
}

type StoreConfig = Pick<Config, 'DATABASE_URL' | 'DATA_DIR' | 'REDIS_URL' | 'MONGODB_URL'> & {
  /** Default 'crypto-mcp:'. */
  REDIS_KEY_PREFIX?: string;
};

export async function openStores(config: StoreConfig): Promise<Stores> {
  const database: SqlDatabase = config.DATABASE_URL
    ? new PgDatabase({ connectionString: config.DATABASE_URL })
    : new PgliteDatabase({ dataDir: config.DATA_DIR });
  const redis: RedisConnection | undefined = config.REDIS_URL
    ? connectRedis(config.REDIS_URL, 'cache')
    : undefined;
  const prefix = config.REDIS_KEY_PREFIX ?? 'crypto-mcp:';
  // A scan touches every market once: 5 000 entries keep a 400-market universe cached (about 5 MB per
  // timeframe scanned) next to the analyses and portfolios.
  const cache = redis
    ? new RedisCache(redis, { prefix: `${prefix}cache:`, fallback: new MemoryCache({ maxEntries: 5_000 }) })
    : new MemoryCache({ maxEntries: 5_000 });
  const rateLimiter = redis
    ? new RedisRateLimiter(redis, new MemoryRateLimiter(), `${prefix}rl:`)
    : new MemoryRateLimiter();
  const archive: AnalysisArchive = config.MONGODB_URL
    ? await MongoArchive.open(config.MONGODB_URL)
    : new PostgresArchive(database);

  return {
    database,
    portfolios: new SqlPortfolioStore(database),
    audit: new SqlAuditLog(database),
    alerts: new SqlAlertStore(database),
    backtests: new SqlBacktestRunStore(database),
    archive,
    cache,
    rateLimiter,
    redis: redis ?? null,
    async health() {
      const stores: StoreHealth[] = [
        await database.health(),
        cache instanceof RedisCache
          ? cache.health()
          : { name: 'cache', backend: 'memory', status: 'disabled', detail: 'REDIS_URL not set' },
        ...(archive.backend === 'mongodb' ? [await archive.health()] : []),
      ];
      const ok = stores.every((s) => s.status === 'ok' || s.status === 'disabled');
      return { status: ok ? 'ok' : 'degraded', stores };
    },
    async close() {
      await Promise.allSettled([
        archive.backend === 'mongodb' ? archive.close() : undefined,
        redis?.close(),
        database.close(),
      ]);
    },
  };
}
