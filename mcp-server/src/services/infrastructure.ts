/**
 * The state of every dependency, measured now, for GET /health/infrastructure: a real round trip to each
 * (Postgres or PGlite `select 1`, Redis PING, MongoDB ping, the exchange's server time) with its latency,
 * the alert outbox's depth from Postgres and the BullMQ queues' job counts (alert messages, tool jobs)
 * and live tool-job workers from Redis. Every check runs
 * at the same time and gives up after CHECK_TIMEOUT_MS, so the answer never waits longer than that.
 *
 * Statuses: ok; degraded (answers, but not fully: rate-limited, connecting); down (no answer); disabled
 * (not configured: an embedded stand-in serves, or offline mode never contacts the exchange). The overall
 * status is `down` only when a required dependency is down: the database always, the exchange when no
 * snapshot can stand in for it (DATA_SOURCE=exchange, or auto with an exchange other than Binance).
 * Anything else not ok makes it `degraded`.
 *
 * Details never carry connection strings, hosts or secrets: they are the errors' user-facing messages
 * or fixed phrases; unexpected errors go to the log instead.
 */
import type { Redis } from 'ioredis';
import { isAppError } from '../errors.js';
import { log } from '../logger.js';
import { TIMED_OUT, within } from '../deadline.js';
import type { AppContext } from './context.js';
import { OUTBOX_QUEUE } from './alerts/dispatcher.js';
import { bullPrefix, QueueCounter, type JobCounts } from './queues.js';
import { liveWorkers, TOOL_JOBS_QUEUE } from './tool-jobs/protocol.js';
import { outboxDepth, type OutboxDepth } from './alerts/outbox.js';

export const CHECK_TIMEOUT_MS = 2_000;

export type DependencyStatus = 'ok' | 'degraded' | 'down' | 'disabled';

export interface DependencyCheck {
  status: DependencyStatus;
  /** When true and down, the whole server is down (HTTP 503). */
  required: boolean;
  /** postgres, pglite, redis, memory, mongodb, postgres-jsonb, or the exchange's ccxt id. */
  backend: string;
  /** Round trip of the check in ms; null when there was no answer or nothing to ask. */
  latency_ms: number | null;
  detail?: string;
}

export interface QueueCheck<C> {
  status: 'ok' | 'down' | 'disabled';
  latency_ms: number | null;
  counts?: C;
  detail?: string;
}

export type BullQueueCheck = QueueCheck<JobCounts> & { queue: string };

export interface BullQueues {
  /** 'alert-outbox': alert messages waiting for a worker to send them. */
  alert_jobs: BullQueueCheck;
  /** 'tool-jobs': scans and backtests handed to the workers, and how many workers are alive. */
  tool_jobs: BullQueueCheck & { workers: number | null };
}

export interface QueueDepths extends BullQueues {
  outbox: QueueCheck<OutboxDepth>;
}

export interface InfrastructureReport {
  status: 'ok' | 'degraded' | 'down';
  version: string;
  checked_at: string;
  dependencies: {
    database: DependencyCheck;
    redis: DependencyCheck;
    mongodb: DependencyCheck;
    exchange: DependencyCheck & { mode: string; probed_at: string };
  };
  queues: QueueDepths;
}

type Deps = Pick<AppContext, 'config' | 'stores' | 'market' | 'version'>;

export async function checkInfrastructure(ctx: Deps): Promise<InfrastructureReport> {
  const checkedAt = new Date();
  const [database, redis, mongodb, exchange, queues] = await Promise.all([
    checkDatabase(ctx),
    checkRedis(ctx),
    checkMongo(ctx),
    checkExchange(ctx),
    readQueueDepths(ctx),
  ]);
  const dependencies = { database, redis, mongodb, exchange };
  const all = Object.values(dependencies);
  const down = all.some((d) => d.required && d.status === 'down');
  const degraded =
    all.some((d) => d.status === 'down' || d.status === 'degraded') ||
    queues.outbox.status === 'down' ||
    queues.alert_jobs.status === 'down' ||
    queues.tool_jobs.status === 'down' ||
    // Handing heavy calls over with nobody to take them: they run here, slower for everyone.
    (!ctx.config.HTTP_RUNS_JOBS && queues.tool_jobs.workers === 0);
  return {
    status: down ? 'down' : degraded ? 'degraded' : 'ok',
    version: ctx.version,
    checked_at: checkedAt.toISOString(),
    dependencies,
    queues,
  };
}

/** The outbox's depth (Postgres) and the BullMQ queues' job counts (Redis); also what /metrics exports. */
export async function readQueueDepths(ctx: Pick<Deps, 'config' | 'stores'>): Promise<QueueDepths> {
  const [outbox, queues] = await Promise.all([readOutbox(ctx), readQueues(ctx)]);
  return { outbox, ...queues };
}

async function checkDatabase({ stores }: Deps): Promise<DependencyCheck> {
  const db = stores.database;
  const r = await timed('database', () => db.query('select 1'));
  return r.ok
    ? { status: 'ok', required: true, backend: db.backend, latency_ms: r.ms }
    : { status: 'down', required: true, backend: db.backend, latency_ms: null, detail: r.detail };
}

async function checkRedis({ stores }: Deps): Promise<DependencyCheck> {
  const redis = stores.redis;
  if (!redis) {
    return {
      status: 'disabled',
      required: false,
      backend: 'memory',
      latency_ms: null,
      detail: 'REDIS_URL not set: the cache, rate limits and alert delivery run in process',
    };
  }
  // Without a connection the command fails at once (no offline queue): no waiting for a timeout. The
  // outage itself is logged once by the connection, not at every check.
  const r = await timed('redis', () => redis.client.ping(), { quiet: true });
  if (r.ok) return { status: 'ok', required: false, backend: 'redis', latency_ms: r.ms };
  const health = redis.health();
  return {
    status: health.status === 'degraded' ? 'degraded' : 'down',
    required: false,
    backend: 'redis',
    latency_ms: null,
    detail: `${health.detail ?? 'Redis did not answer'}; the in-process cache and counters serve meanwhile`,
  };
}

async function checkMongo({ stores }: Deps): Promise<DependencyCheck> {
  const archive = stores.archive;
  if (archive.backend !== 'mongodb') {
    return {
      status: 'disabled',
      required: false,
      backend: archive.backend,
      latency_ms: null,
      detail: 'MONGODB_URL not set: analyses are archived in a Postgres table',
    };
  }
  // MongoArchive.health() pings and reports failure as a status; its raw message may name hosts.
  const r = await timed('mongodb', () => archive.health());
  if (r.ok && r.value.status === 'ok') {
    return { status: 'ok', required: false, backend: 'mongodb', latency_ms: r.ms };
  }
  return {
    status: 'down',
    required: false,
    backend: 'mongodb',
    latency_ms: null,
    detail: 'MongoDB did not answer the ping; analyses are not archived meanwhile',
  };
}

async function checkExchange({ market }: Deps): Promise<InfrastructureReport['dependencies']['exchange']> {
  const probe = await market.probeExchange(CHECK_TIMEOUT_MS);
  // Auto mode on the snapshot's exchange falls back to the snapshot; anything else has no stand-in.
  const fallback = probe.mode === 'auto' && probe.exchange === market.snapshot.exchange;
  const required = probe.mode !== 'offline' && !fallback;
  const detail =
    probe.detail && probe.status === 'down' && fallback
      ? `${probe.detail} The offline snapshot answers meanwhile.`
      : probe.detail;
  return {
    status: probe.status,
    required,
    backend: probe.exchange,
    mode: probe.mode,
    latency_ms: probe.latency_ms,
    probed_at: new Date(probe.probed_at).toISOString(),
    ...(detail !== undefined && { detail }),
  };
}

async function readOutbox({ stores }: Pick<Deps, 'stores'>): Promise<QueueCheck<OutboxDepth>> {
  const r = await timed('outbox', () => outboxDepth(stores.database));
  return r.ok
    ? { status: 'ok', latency_ms: r.ms, counts: r.value }
    : { status: 'down', latency_ms: null, detail: r.detail };
}

/** Each BullMQ queue's job counts; tool jobs also count the workers whose heartbeat is fresh. */
async function readQueues({ config, stores }: Pick<Deps, 'config' | 'stores'>): Promise<BullQueues> {
  const redis = stores.redis;
  const read = async (queue: string, whenDisabled: string, whenDown: string) => {
    if (!redis) return { queue, status: 'disabled' as const, latency_ms: null, detail: whenDisabled };
    if (!redis.ready) return { queue, status: 'down' as const, latency_ms: null, detail: whenDown };
    const r = await timed(queue, () => queueCounter(redis.client, config).counts(queue), { quiet: true });
    return r.ok
      ? { queue, status: 'ok' as const, latency_ms: r.ms, counts: r.value }
      : { queue, status: 'down' as const, latency_ms: null, detail: r.detail };
  };
  const [alerts, jobs, workers] = await Promise.all([
    read(
      OUTBOX_QUEUE,
      'REDIS_URL not set: an in-process loop delivers the outbox',
      'Redis unreachable; the outbox keeps the messages',
    ),
    read(
      TOOL_JOBS_QUEUE,
      'REDIS_URL not set: every replica runs its own scans and backtests',
      'Redis unreachable; replicas run scans and backtests themselves meanwhile',
    ),
    redis?.ready ? liveWorkers(redis.client, config.REDIS_KEY_PREFIX).catch(() => null) : null,
  ]);
  return {
    alert_jobs: alerts,
    tool_jobs: {
      ...jobs,
      workers,
      ...(jobs.status === 'ok' && {
        detail: config.HTTP_RUNS_JOBS
          ? 'HTTP_RUNS_JOBS is true: this replica runs scans and backtests itself'
          : workers
            ? 'scans, opportunity searches and backtests run on the workers'
            : 'no worker is running: this replica runs scans and backtests itself meanwhile',
      }),
    },
  };
}

/** One QueueCounter per Redis connection, made on first use. */
const counters = new WeakMap<object, QueueCounter>();
function queueCounter(client: Redis, config: Pick<Deps['config'], 'REDIS_KEY_PREFIX'>): QueueCounter {
  let counter = counters.get(client);
  if (!counter) {
    counter = new QueueCounter(client, bullPrefix(config.REDIS_KEY_PREFIX));
    counters.set(client, counter);
  }
  return counter;
}

type Timed<T> = { ok: true; value: T; ms: number } | { ok: false; detail: string };

/**
 * Runs one check with a deadline and measures it. A failure's detail is its AppError message (written
 * for users, without addresses) or a fixed phrase; anything else is logged rather than returned.
 */
async function timed<T>(
  what: string,
  check: () => Promise<T>,
  options: { quiet?: boolean } = {},
): Promise<Timed<T>> {
  const started = performance.now();
  try {
    const value = await within(check(), CHECK_TIMEOUT_MS);
    if (value === TIMED_OUT) return { ok: false, detail: `no answer within ${CHECK_TIMEOUT_MS} ms` };
    return { ok: true, value, ms: Math.round((performance.now() - started) * 10) / 10 };
  } catch (err) {
    if (isAppError(err)) return { ok: false, detail: err.message };
    if (!options.quiet) log.warn('infrastructure check failed', { check: what, error: err });
    return { ok: false, detail: `${what} check failed (${errorName(err)}); details are in the server log` };
  }
}

function errorName(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[A-Z0-9_]{2,32}$/.test(code)) return code;
  return err instanceof Error ? err.name : 'error';
}
