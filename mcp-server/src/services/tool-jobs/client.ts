/**
 * The replica's side of tool jobs (see protocol.ts): hands a call to the workers over BullMQ, relays the
 * worker's progress to the caller, stops the job when the caller cancels, and returns the worker's answer
 * (or raises its error with the same code).
 *
 * A failing queue degrades, never fails, a call: while Redis is unreachable, or no worker's heartbeat is
 * fresh, or the job cannot be enqueued, or Redis goes away while the job runs (its answer could not
 * arrive), `run` answers null and the caller runs the call itself (counted in
 * crypto_mcp_tool_job_fallbacks_total and logged once per change of reason). Once a worker has the
 * job the replica waits for it, up to JOB_TIMEOUT_MS queue time included: running it a second time here
 * would double the work exactly when the workers are busiest. A worker that dies mid-job hands the job
 * on: BullMQ moves a job whose lock lapses (30 s) back to the queue once.
 */
import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents, type ConnectionOptions } from 'bullmq';
import { AppError, isErrorCode } from '../../errors.js';
import { log } from '../../logger.js';
import { TIMED_OUT, within } from '../../deadline.js';
import { toolJobFallbacks } from '../../observability/instruments.js';
import type { RedisConnection } from '../../store/redis-connection.js';
import type { ToolCall, ToolImage } from '../../tools/tool.js';
import {
  cancelChannel,
  liveWorkers,
  TOOL_JOBS_QUEUE,
  type ToolJobData,
  type ToolJobOutcome,
  type ToolJobProgress,
} from './protocol.js';

/** Enqueueing is one Redis write: longer than this means Redis is in trouble, so run the call here. */
const ENQUEUE_TIMEOUT_MS = 2_000;
/** Redis down this long while an idempotent job runs: the replica runs the call rather than wait. */
const REDIS_LOST_AFTER_MS = 3_000;
/** How often a waiting call looks at its job, in case the event stream missed its answer. */
const POLL_EVERY_MS = 2_000;

export interface ToolJobClientOptions {
  /** The server's own Redis connection: heartbeats are read and cancellations published over it. */
  redis: RedisConnection;
  /** For the queue's own connections (BullMQ blocks on them). */
  connection: ConnectionOptions;
  /** BullMQ's key prefix (queues.ts `bullPrefix`). */
  prefix: string;
  /** REDIS_KEY_PREFIX, for the heartbeat set and the cancel channel. */
  keyPrefix: string;
  /** JOB_TIMEOUT_MS. */
  timeoutMs: number;
  /** This server's version, sent with each job. */
  version: string;
}

export interface WorkerAnswer {
  result: unknown;
  images: ToolImage[];
}

type FallbackReason = 'redis_down' | 'no_worker' | 'enqueue_failed' | 'version_mismatch';

const FALLBACK_TEXT: Record<FallbackReason, string> = {
  redis_down: 'Redis is unreachable',
  no_worker: 'no crypto-mcp worker is running',
  enqueue_failed: 'the job could not be enqueued',
  version_mismatch: 'the workers run another version',
};

export class ToolJobClient {
  private parts: { queue: Queue; events: QueueEvents } | null = null;
  private readonly progress = new Map<string, NonNullable<ToolCall['progress']>>();
  /** Calls waiting for their job, by job id: resolved by the event stream or by polling the job. */
  private readonly waiting = new Map<string, (outcome: ToolJobOutcome | 'failed') => void>();
  private lastFallback: FallbackReason | null = null;
  private closed = false;

  constructor(private readonly options: ToolJobClientOptions) {}

  /**
   * Connects the queue and starts reading its events (`crypto-mcp http` calls it at start, so the
   * first call handed over finds the event stream already read).
   */
  start(): void {
    this.open();
  }

  /**
   * The worker's answer, or null when no worker can take the call now and the caller should run it.
   * `idempotent` (the tool's annotation): a call with effects (a stored backtest run) is never run here
   * once a worker may be running it, so it waits for the worker even through a Redis outage.
   */
  async run(
    toolName: string,
    args: unknown,
    call: ToolCall,
    options: { idempotent: boolean },
  ): Promise<WorkerAnswer | null> {
    if (this.closed) return null;
    if (!this.options.redis.ready) return this.fallback(toolName, 'redis_down');
    if (!(await this.workerAlive())) return this.fallback(toolName, 'no_worker');
    const { queue } = this.open();
    const data: ToolJobData = {
      tool: toolName,
      args,
      caller: call.caller,
      transport: call.transport,
      version: this.options.version,
    };
    const jobId = call.requestKey ?? randomUUID();
    // Registered before the job exists: its events cannot arrive before anyone listens.
    const outcome = new Promise<ToolJobOutcome | 'failed'>((resolve) => this.waiting.set(jobId, resolve));
    if (call.progress) this.progress.set(jobId, call.progress);
    const forget = () => {
      this.waiting.delete(jobId);
      this.progress.delete(jobId);
    };
    try {
      const added = await within(
        queue.add(toolName, data, {
          jobId,
          attempts: 1,
          // The answer is read once, at once; a failed job is kept an hour for whoever investigates.
          removeOnComplete: { age: 60 },
          removeOnFail: { age: 3_600 },
        }),
        ENQUEUE_TIMEOUT_MS,
      );
      if (added === TIMED_OUT) throw new Error(`no answer within ${ENQUEUE_TIMEOUT_MS} ms`);
    } catch (error) {
      forget();
      void this.cancel(queue, jobId); // in case the write lands after all: this replica runs the call
      log.debug('tool job not enqueued', { tool: toolName, error });
      return this.fallback(toolName, 'enqueue_failed');
    }
    if (this.lastFallback !== null) {
      log.info('tool jobs go to the workers again', { tool: toolName });
      this.lastFallback = null;
    }

    const stops: (() => void)[] = [forget];
    // The event stream can miss an answer (a reconnect, a trimmed stream): look at the job itself too.
    const poll = setInterval(() => void this.poll(queue, jobId), POLL_EVERY_MS);
    stops.push(() => clearInterval(poll));
    const timeout = new Promise<'timeout'>((resolve) => {
      const t = setTimeout(() => resolve('timeout'), this.options.timeoutMs);
      stops.push(() => clearTimeout(t));
    });
    const aborted = new Promise<'aborted'>((resolve) => {
      const onAbort = () => resolve('aborted');
      if (call.signal?.aborted) onAbort();
      call.signal?.addEventListener('abort', onAbort, { once: true });
      stops.push(() => call.signal?.removeEventListener('abort', onAbort));
    });
    // Redis lost while waiting: an idempotent call is run here rather than wait for Redis to return.
    const lost = new Promise<'redis_lost'>((resolve) => {
      if (!options.idempotent) return;
      let downSince: number | null = null;
      const t = setInterval(() => {
        if (this.options.redis.ready) downSince = null;
        else if ((downSince ??= Date.now()) + REDIS_LOST_AFTER_MS <= Date.now()) resolve('redis_lost');
      }, 250);
      stops.push(() => clearInterval(t));
    });
    try {
      const answer = await Promise.race([outcome, timeout, aborted, lost]);
      if (answer === 'aborted') {
        void this.cancel(queue, jobId);
        throw new AppError('INVALID_ARGUMENT', `${toolName} was cancelled by the client.`);
      }
      if (answer === 'redis_lost') {
        void this.cancel(queue, jobId);
        return this.fallback(toolName, 'redis_down');
      }
      if (answer === 'timeout' || answer === 'failed') {
        // Timed out, or BullMQ failed the job (its worker died twice holding it): stop it and say so.
        void this.cancel(queue, jobId);
        log.warn('tool job did not finish', { tool: toolName, job: jobId, outcome: answer });
        throw new AppError(
          'WORKER_UNAVAILABLE',
          `${toolName} did not finish on a worker within ${Math.round(this.options.timeoutMs / 1000)} s ` +
            '(the workers are busy or restarting). Try again shortly, or ask for less (fewer markets or ' +
            'parameter combinations).',
        );
      }
      if (answer.ok) return { result: answer.result, images: answer.images };
      if ('unsupported' in answer) {
        log.warn('a worker of another version declined a tool job; running it here', {
          tool: toolName,
          worker_version: answer.workerVersion,
        });
        return this.fallback(toolName, 'version_mismatch');
      }
      // A code this version does not know (a newer worker) is still an error, not a crash.
      throw new AppError(isErrorCode(answer.code) ? answer.code : 'INTERNAL', answer.message);
    } finally {
      for (const stop of stops) stop();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const resolve of this.waiting.values()) resolve('failed');
    const parts = this.parts;
    this.parts = null;
    if (!parts) return;
    // BullMQ's close (and even its disconnect) waits for Redis to answer; while Redis is down there is
    // nothing to flush, so the connections are dropped without waiting for them.
    if (this.options.redis.ready) await Promise.all([parts.events.close(), parts.queue.close()]);
    else for (const part of [parts.events, parts.queue]) part.disconnect().catch(() => undefined);
  }

  /** Whether some worker's heartbeat is still valid (one round trip; fails fast while Redis is down). */
  private async workerAlive(): Promise<boolean> {
    try {
      return (await liveWorkers(this.options.redis.client, this.options.keyPrefix)) > 0;
    } catch {
      return false;
    }
  }

  private open(): { queue: Queue; events: QueueEvents } {
    if (this.parts) return this.parts;
    const { connection, prefix } = this.options;
    // Results travel through the event stream (charts included): keep it short, polling covers the rest.
    const queue = new Queue(TOOL_JOBS_QUEUE, { connection, prefix, streams: { events: { maxLen: 200 } } });
    const events = new QueueEvents(TOOL_JOBS_QUEUE, { connection, prefix });
    // Without listeners a Redis outage prints raw connection traces; calls fall back meanwhile.
    queue.on('error', (error) => log.debug('tool job queue error', { error }));
    events.on('error', (error) => log.debug('tool job events error', { error }));
    events.on('progress', ({ jobId, data }) => {
      const report = this.progress.get(jobId);
      const p = data as Partial<ToolJobProgress>;
      if (report && typeof p.done === 'number' && typeof p.total === 'number')
        report(p.done, p.total, p.message);
    });
    events.on('completed', ({ jobId, returnvalue }) =>
      this.waiting.get(jobId)?.(returnvalue as unknown as ToolJobOutcome),
    );
    events.on('failed', ({ jobId }) => this.waiting.get(jobId)?.('failed'));
    this.parts = { queue, events };
    return this.parts;
  }

  /** The job's own state, for an answer the event stream did not deliver. */
  private async poll(queue: Queue, jobId: string): Promise<void> {
    const resolve = this.waiting.get(jobId);
    if (!resolve || !this.options.redis.ready) return;
    try {
      const job = await within(queue.getJob(jobId), POLL_EVERY_MS);
      if (job === TIMED_OUT || !job?.finishedOn) return;
      if (job.failedReason) resolve('failed');
      else resolve(job.returnvalue as ToolJobOutcome);
    } catch (error) {
      log.debug('tool job poll failed', { job: jobId, error });
    }
  }

  /** Removes the job if no worker has it yet, and asks the worker that has it to stop. */
  private async cancel(queue: Queue, jobId: string): Promise<void> {
    if (!this.options.redis.ready) return; // both would wait for Redis; the job's answer is dropped
    await within(queue.remove(jobId), ENQUEUE_TIMEOUT_MS).catch(() => 0);
    await this.options.redis.client
      .publish(cancelChannel(this.options.keyPrefix), jobId)
      .catch((error: unknown) => log.debug('tool job cancel not published', { job: jobId, error }));
  }

  private fallback(toolName: string, reason: FallbackReason): null {
    toolJobFallbacks.inc({ tool: toolName, reason });
    if (this.lastFallback !== reason) {
      log.warn('tool jobs run on this replica meanwhile', { tool: toolName, reason: FALLBACK_TEXT[reason] });
      this.lastFallback = reason;
    }
    return null;
  }
}
