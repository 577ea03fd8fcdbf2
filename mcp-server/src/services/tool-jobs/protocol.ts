/**
 * Heavy tool calls (market scans, opportunity searches, backtest runs) handed from the serving replicas
 * to `crypto-mcp worker` over BullMQ, so a 400-market scan or a 500-combination grid takes a worker's
 * cores rather than those answering every other request. What both sides agree on lives here: the queue,
 * the job's data, its answer, its progress, and the two Redis keys beside the queue.
 *
 * A tool marks such calls with `runsOnWorker` (tools/tool.ts); the replica's side is client.ts, the
 * worker's is server/tool-job-worker.ts. The replica keeps the rate limit, the output check and the
 * audit record (server/tool-invocation.ts): the worker only runs the handler.
 */
import type { ErrorCode } from '../../errors.js';
import type { ToolImage } from '../../tools/tool.js';

export const TOOL_JOBS_QUEUE = 'tool-jobs';

/** A tool call as the worker receives it: the arguments are already parsed by the tool's input schema. */
export interface ToolJobData {
  tool: string;
  args: unknown;
  caller: string;
  transport: 'stdio' | 'http';
  /** The replica's version: a worker of another version does not run the call (schemas may differ). */
  version: string;
}

/**
 * The job's return value. Application errors are answers, not failed jobs: BullMQ would only keep the
 * message, and the caller needs the code (a 404 for an unknown symbol stays a 404).
 */
export type ToolJobOutcome =
  | { ok: true; result: unknown; images: ToolImage[] }
  | { ok: false; code: ErrorCode; message: string }
  /** A worker of another version (mid-deploy): the replica runs the call itself. */
  | { ok: false; unsupported: true; workerVersion: string };

/** What the worker reports through `job.updateProgress`, relayed as MCP progress notifications. */
export interface ToolJobProgress {
  done: number;
  total: number;
  message?: string;
}

/** Pub/sub channel on which a replica asks the workers to stop a job its client cancelled. */
export const cancelChannel = (redisKeyPrefix: string): string => `${redisKeyPrefix}tool-jobs:cancel`;

/**
 * Sorted set of running workers, scored by the time (ms) until which each one's heartbeat holds. A
 * replica hands a call over only while some worker is alive; otherwise it runs the call itself.
 */
export const workersKey = (redisKeyPrefix: string): string => `${redisKeyPrefix}tool-jobs:workers`;

/** A worker renews its heartbeat this often, and it holds three times as long. */
export const HEARTBEAT_EVERY_MS = 5_000;
export const HEARTBEAT_VALID_MS = 3 * HEARTBEAT_EVERY_MS;

/** Scores are Redis's own clock (TIME), so replicas and workers on hosts with skewed clocks agree. */
const NOW_MS = `local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000)`;

/** Renews worker ARGV[2]'s heartbeat for ARGV[1] ms and drops the expired ones. */
export const HEARTBEAT_SCRIPT = `${NOW_MS}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[2])`;

/** How many workers' heartbeats are valid now. */
export const LIVE_WORKERS_SCRIPT = `${NOW_MS}
return redis.call('ZCOUNT', KEYS[1], now, '+inf')`;

/** Live workers, read over `redis` (rejects while Redis is unreachable). */
export async function liveWorkers(
  redis: { eval(script: string, keys: number, ...args: string[]): Promise<unknown> },
  redisKeyPrefix: string,
): Promise<number> {
  return Number(await redis.eval(LIVE_WORKERS_SCRIPT, 1, workersKey(redisKeyPrefix)));
}
