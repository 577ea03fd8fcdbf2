/**
 * The server's named metrics, on one process-wide registry that GET /metrics renders. Each is
 * incremented at the one place every path goes through: tool calls in server/tool-invocation.ts (MCP
 * and REST), cache lookups in the cache wrapper of market/cache.ts, exchange errors in
 * market/market-data.ts, alert deliveries in the outbox dispatcher. Queue depths are gauges the
 * /metrics route sets from the database and BullMQ just before rendering.
 *
 * Label values come from closed sets (tool names, error codes, channels, outcomes), never from user
 * input, so the number of series stays bounded.
 */
import { Counter, DURATION_BUCKETS, Gauge, Histogram, Registry } from './metrics.js';
import { registerProcessMetrics } from './process-metrics.js';

export const registry = new Registry();

export const buildInfo = registry.register(
  new Gauge({
    name: 'crypto_mcp_build_info',
    help: 'Always 1; the version label names the running server version.',
    labelNames: ['version'],
  }),
);

export const toolCalls = registry.register(
  new Counter({
    name: 'crypto_mcp_tool_calls_total',
    help: 'Tool calls by tool, transport (mcp or rest) and outcome (ok or the error code, lower case).',
    labelNames: ['tool', 'transport', 'outcome'],
  }),
);

export const toolDuration = registry.register(
  new Histogram({
    name: 'crypto_mcp_tool_duration_seconds',
    help: 'Tool call duration in seconds (rate limit, validation, handler and output check).',
    labelNames: ['tool', 'transport', 'outcome'],
    buckets: DURATION_BUCKETS,
  }),
);

export const cacheRequests = registry.register(
  new Counter({
    name: 'crypto_mcp_cache_requests_total',
    help:
      'Cache lookups by cache (market: candles and tickers; report: analysis reports; archive_dedup: ' +
      'archive writes already done) and result (hit: served without loading; miss: loaded).',
    labelNames: ['cache', 'result'],
  }),
);

export const exchangeErrors = registry.register(
  new Counter({
    name: 'crypto_mcp_exchange_errors_total',
    help:
      'Failed exchange requests (after retries) by exchange and kind: timeout, network, bad_response, ' +
      'rate_limited, refused (HTTP 4xx), rejected (bad request), exchange_error.',
    labelNames: ['exchange', 'kind'],
  }),
);

export const alertDeliveries = registry.register(
  new Counter({
    name: 'crypto_mcp_alert_deliveries_total',
    help:
      'Alert delivery attempts by channel (whatsapp, webhook) and status: sent, recovered (found already ' +
      'delivered), skipped (opted out), failed (permanent), retry, deferred (own rate limits), lost (the ' +
      'row was taken over or the database failed; it is recovered after its lease).',
    labelNames: ['channel', 'status'],
  }),
);

export const outboxMessages = registry.register(
  new Gauge({
    name: 'crypto_mcp_outbox_messages',
    help: 'Alert outbox rows by status (pending, sending, failed), read at scrape time; absent while the database is unreachable. Shared state: every process reports the same rows, so aggregate with max, not sum.',
    labelNames: ['status'],
  }),
);

export const queueJobs = registry.register(
  new Gauge({
    name: 'crypto_mcp_queue_jobs',
    help: 'BullMQ jobs by queue (alert-outbox, tool-jobs) and state (waiting, active, delayed, failed), read at scrape time when REDIS_URL is set; absent while Redis is unreachable. Shared state: aggregate with max, not sum.',
    labelNames: ['queue', 'state'],
  }),
);

export const toolJobWorkers = registry.register(
  new Gauge({
    name: 'crypto_mcp_tool_job_workers',
    help: 'Workers taking tool jobs whose heartbeat is fresh, read at scrape time when REDIS_URL is set. Shared state: aggregate with max, not sum.',
    labelNames: [],
  }),
);

export const toolJobs = registry.register(
  new Counter({
    name: 'crypto_mcp_tool_jobs_total',
    help:
      'Tool jobs a worker ran (scans, opportunity searches, backtests handed over by the replicas) by tool ' +
      'and outcome (ok or the error code, lower case).',
    labelNames: ['tool', 'outcome'],
  }),
);

export const toolJobDuration = registry.register(
  new Histogram({
    name: 'crypto_mcp_tool_job_duration_seconds',
    help: 'Time a worker spent running a tool job, in seconds (queue time excluded).',
    labelNames: ['tool'],
    buckets: DURATION_BUCKETS,
  }),
);

export const toolJobFallbacks = registry.register(
  new Counter({
    name: 'crypto_mcp_tool_job_fallbacks_total',
    help:
      'Calls a replica ran itself although HTTP_RUNS_JOBS=false, by tool and reason (redis_down, no_worker, ' +
      'enqueue_failed): nonzero means the workers are not taking the load.',
    labelNames: ['tool', 'reason'],
  }),
);

registerProcessMetrics(registry);

export type ToolSurface = 'mcp' | 'rest';

/** One finished tool call; `errorCode` null when it succeeded. */
export function recordToolCall(
  tool: string,
  surface: ToolSurface,
  errorCode: string | null,
  seconds: number,
): void {
  const labels = { tool, transport: surface, outcome: errorCode === null ? 'ok' : errorCode.toLowerCase() };
  toolCalls.inc(labels);
  toolDuration.observe(labels, seconds);
}
