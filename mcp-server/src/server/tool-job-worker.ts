/**
 * The worker's side of tool jobs (services/tool-jobs/protocol.ts): `crypto-mcp worker` takes the scans,
 * opportunity searches and backtest runs the replicas hand over, runs each tool's own handler with this
 * process's services, and answers with the result and its images. Rate limits, output checks and the
 * audit stay with the replica that took the call.
 *
 * While it runs it keeps a heartbeat in Redis, so replicas only hand calls over while a worker is there,
 * and it listens for cancellations: a client that goes away stops its job here too (the handler gets an
 * abort signal, as it would in the replica).
 */
import { randomUUID } from 'node:crypto';
import { Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { isAppError } from '../errors.js';
import { log } from '../logger.js';
import { toolJobDuration, toolJobs } from '../observability/instruments.js';
import type { AppContext } from '../services/context.js';
import { bullConnection, bullPrefix } from '../services/queues.js';
import {
  cancelChannel,
  HEARTBEAT_EVERY_MS,
  HEARTBEAT_SCRIPT,
  HEARTBEAT_VALID_MS,
  TOOL_JOBS_QUEUE,
  workersKey,
  type ToolJobData,
  type ToolJobOutcome,
  type ToolJobProgress,
} from '../services/tool-jobs/protocol.js';
import { tools } from '../tools/index.js';

export interface ToolJobWorker {
  close(): Promise<void>;
}

export function startToolJobWorker(ctx: AppContext, redisUrl: string): ToolJobWorker {
  const keyPrefix = ctx.config.REDIS_KEY_PREFIX;
  const id = `${process.pid}:${randomUUID().slice(0, 8)}`;
  const worker = new Worker<ToolJobData, ToolJobOutcome>(
    TOOL_JOBS_QUEUE,
    (job, _token, signal) => runJob(ctx, job, signal),
    {
      connection: bullConnection(redisUrl),
      prefix: bullPrefix(keyPrefix),
      concurrency: ctx.config.WORKER_JOB_CONCURRENCY,
    },
  );
  // BullMQ reports every failed reconnect; one warning a minute is enough to tell an outage.
  let warnedAt = 0;
  worker.on('error', (error) => {
    if (Date.now() - warnedAt < 60_000) return log.debug('tool job worker error', { error });
    warnedAt = Date.now();
    log.warn('tool job worker error (repeats are logged at debug level for a minute)', { error });
  });

  // Cancellations arrive on pub/sub; ioredis subscribes again by itself after a reconnect.
  const subscriber = new Redis(redisUrl, {
    maxRetriesPerRequest: null,
    connectionName: 'crypto-mcp:tool-job-cancel',
  });
  subscriber.on('error', (error) => log.debug('tool job cancel listener error', { error }));
  void subscriber
    .subscribe(cancelChannel(keyPrefix))
    .catch((error: unknown) => log.warn('tool job cancellations not received', { error }));
  subscriber.on('message', (_channel, jobId: string) => {
    if (worker.cancelJob(jobId, 'cancelled by the client')) log.info('tool job cancelled', { job: jobId });
  });

  // The heartbeat goes over the server's own connection, which fails fast while Redis is down.
  const redis = ctx.stores.redis?.client;
  const beat = () => {
    void redis
      ?.eval(HEARTBEAT_SCRIPT, 1, workersKey(keyPrefix), String(HEARTBEAT_VALID_MS), id)
      .catch((error: unknown) => log.debug('tool job heartbeat failed', { error }));
  };
  // At once when the connection is (again) ready: replicas must not wait a period to find this worker.
  redis?.on('ready', beat);
  if (ctx.stores.redis?.ready) beat();
  const timer = setInterval(beat, HEARTBEAT_EVERY_MS);
  timer.unref();
  log.info('tool jobs running', { concurrency: ctx.config.WORKER_JOB_CONCURRENCY, worker: id });

  return {
    async close() {
      clearInterval(timer);
      redis?.off('ready', beat);
      // Leave first, so replicas stop handing calls over while the running ones finish.
      await redis?.zrem(workersKey(keyPrefix), id).catch(() => 0);
      await closeWorker(worker, () => ctx.stores.redis?.ready === true);
      subscriber.disconnect();
    },
  };
}

/**
 * Lets running jobs finish (BullMQ's graceful close), unless Redis is down: then their answers cannot
 * be stored anyway (BullMQ runs a job whose lock lapsed again elsewhere), and a graceful close would
 * wait for Redis forever. Redis lost during the graceful close: stop waiting for it (the process exits).
 */
async function closeWorker(worker: Worker, redisReady: () => boolean): Promise<void> {
  if (!redisReady()) {
    log.warn('Redis is down: the tool job worker stops without waiting for its running jobs');
    await worker.close(true);
    return;
  }
  const graceful = worker.close().then(() => true);
  graceful.catch(() => undefined);
  for (;;) {
    const closed = await Promise.race([graceful, new Promise<false>((r) => setTimeout(() => r(false), 500))]);
    if (closed) return;
    if (!redisReady()) {
      log.warn('Redis went down while the tool job worker was stopping: not waiting for it');
      return;
    }
  }
}

const byName = new Map(tools.map((t) => [t.name, t]));

async function runJob(ctx: AppContext, job: Job<ToolJobData>, signal?: AbortSignal): Promise<ToolJobOutcome> {
  const { tool: name, args, caller, transport, version } = job.data;
  const tool = byName.get(name);
  // A replica of another version (mid-deploy): its arguments may not fit this version's schemas, so it
  // runs the call itself.
  if (version !== ctx.version || !tool?.runsOnWorker?.(args as never)) {
    toolJobs.inc({ tool: name, outcome: 'unsupported' });
    return { ok: false, unsupported: true, workerVersion: ctx.version };
  }
  const started = performance.now();
  let outcome: Exclude<ToolJobOutcome, { unsupported: true }>;
  try {
    // The arguments were parsed by the replica's schema (the queue is as trusted as the database).
    const result = await tool.handler(args as never, ctx, {
      caller,
      transport,
      signal,
      requestKey: job.id,
      progress: (done, total, message) => {
        const p: ToolJobProgress = { done, total, ...(message !== undefined && { message }) };
        job
          .updateProgress(p as unknown as object)
          .catch((error: unknown) => log.debug('progress lost', { error }));
      },
    });
    outcome = { ok: true, result, images: tool.images?.(result) ?? [] };
  } catch (err) {
    if (isAppError(err)) outcome = { ok: false, code: err.code, message: err.message };
    else {
      log.error('tool job failed', { tool: name, job: job.id, error: err });
      outcome = {
        ok: false,
        code: 'INTERNAL',
        message: `${name} failed unexpectedly; the error was logged. Try again.`,
      };
    }
  }
  const label = signal?.aborted ? 'cancelled' : outcome.ok ? 'ok' : outcome.code.toLowerCase();
  toolJobs.inc({ tool: name, outcome: label });
  toolJobDuration.observe({ tool: name }, (performance.now() - started) / 1000);
  return outcome;
}
