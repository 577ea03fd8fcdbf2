/**
 * Delivers the outbox: claims due rows (see outbox.ts), sends each through its channel's sender and marks
 * the outcome. Retryable failures back off exponentially with full jitter (base·2^(attempt-1), capped,
 * times a random factor in [0.5, 1)), honouring Retry-After; after `maxAttempts` the row fails.
 *
 * Exactly once as the user sees it:
 * 1. the claim commits 'sending' + attempt before the provider is called, so a crash leaves a trace;
 * 2. a row found 'sending' after its lease (the worker died), or marked `needs_check` (timeout, 5xx), is
 *    not sent again blindly: the sender's `findSent` asks the provider first (Twilio: status callbacks and
 *    the message log) and the row is marked sent when the message is there;
 * 3. `FOR UPDATE SKIP LOCKED` plus fenced marks keep concurrent dispatchers (processes or BullMQ workers)
 *    off each other's rows. The lease must exceed the senders' request timeout.
 * Webhooks have no provider log: they are resent with the same X-Idempotency-Key (at least once).
 *
 * Two ways to run it: `start()`/`stop()` poll in-process (and wake on Postgres NOTIFY when `listen` is
 * given); `BullOutboxQueue` distributes the same step over BullMQ workers (queue 'alert-outbox', job id =
 * outbox id, so duplicate enqueues collapse).
 */
import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import { log, redact } from '../../logger.js';
import { alertDeliveries } from '../../observability/instruments.js';
import type { SqlDatabase } from '../../store/types.js';
import {
  claimById,
  claimDue,
  dueIds,
  markFinal,
  markRetry,
  markSent,
  renewLease,
  type ChannelSender,
  type OutboxMessage,
} from './outbox.js';

export interface DispatcherOptions {
  db: SqlDatabase;
  senders: Partial<Record<'whatsapp' | 'webhook', ChannelSender>>;
  /** Poll interval of `start()`. Default 1000 ms. */
  pollMs?: number;
  /** Rows per claim. Default 10. */
  batchSize?: number;
  /** How long a claimed row is ours before another dispatcher may recover it. Default 60 s. */
  leaseMs?: number;
  /** Default 8. */
  maxAttempts?: number;
  /** Default { baseMs: 2000, maxMs: 600000 }. */
  backoff?: { baseMs: number; maxMs: number };
  /** Hook for tests (crash injection): called before the provider is called. */
  beforeSend?: (msg: OutboxMessage) => Promise<void> | void;
}

export type ProcessResult = 'sent' | 'recovered' | 'skipped' | 'failed' | 'retry' | 'deferred' | 'lost';

export class Dispatcher {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;
  private wake: (() => void) | null = null;
  readonly leaseMs: number;

  constructor(private readonly options: DispatcherOptions) {
    this.leaseMs = options.leaseMs ?? 60_000;
  }

  /** Claims and processes one batch; returns how many rows were processed. */
  async runOnce(): Promise<number> {
    const batch = await claimDue(this.options.db, {
      limit: this.options.batchSize ?? 10,
      leaseMs: this.leaseMs,
    });
    // One recipient's messages go one after the other (the per-recipient limit counts sent rows).
    const byRecipient = new Map<string, OutboxMessage[]>();
    for (const msg of batch) byRecipient.set(msg.recipient, [...(byRecipient.get(msg.recipient) ?? []), msg]);
    await Promise.all(
      [...byRecipient.values()].map(async (msgs) => {
        for (const msg of msgs) await this.process(msg);
      }),
    );
    return batch.length;
  }

  /** Processes one row by id if it is claimable (the BullMQ worker's step). */
  async runOne(id: string): Promise<ProcessResult | null> {
    const msg = await claimById(this.options.db, id, this.leaseMs);
    return msg ? this.process(msg) : null;
  }

  /** Drains due rows until none is left (tests, shutdown). */
  async drain(): Promise<void> {
    while ((await this.runOnce()) > 0);
  }

  /** Sends one claimed row and marks the outcome. Never throws: failures are recorded on the row. */
  async process(msg: OutboxMessage): Promise<ProcessResult> {
    const result = await this.attempt(msg);
    alertDeliveries.inc({ channel: msg.channel.type, status: result });
    return result;
  }

  private async attempt(msg: OutboxMessage): Promise<ProcessResult> {
    const db = this.options.db;
    const sender = this.options.senders[msg.channel.type];
    try {
      if (!sender) {
        await markFinal(db, msg, 'failed', `no sender configured for ${msg.channel.type}`);
        return 'failed';
      }
      if ((msg.previous_status === 'sending' || msg.needs_check) && sender.findSent) {
        let found;
        try {
          found = await sender.findSent(msg);
        } catch (err) {
          // Cannot tell whether it went out: look again later rather than risk a duplicate.
          await markRetry(db, msg, {
            delayMs: this.backoffMs(msg.attempts),
            error: `delivery check failed: ${describe(err)}`,
            uncertain: true,
            countAttempt: true,
          });
          return 'retry';
        }
        if (found) {
          log.info('alert message already delivered, not resending', { outbox: msg.id });
          return (await markSent(db, msg, found.providerId)) ? 'recovered' : 'lost';
        }
      }
      await this.options.beforeSend?.(msg);
      if (!(await renewLease(db, msg))) {
        log.warn('alert message lease lost before sending; another dispatcher has it', { outbox: msg.id });
        return 'lost';
      }
      const outcome = await sender.send(msg);
      let ok: boolean;
      let result: ProcessResult;
      switch (outcome.kind) {
        case 'sent':
          ok = await markSent(db, msg, outcome.providerId);
          result = 'sent';
          break;
        case 'skipped':
          ok = await markFinal(db, msg, 'skipped', outcome.reason);
          result = 'skipped';
          break;
        case 'failed':
          ok = await markFinal(db, msg, 'failed', outcome.error);
          result = 'failed';
          break;
        case 'defer':
          ok = await markRetry(db, msg, {
            delayMs: outcome.delayMs,
            error: outcome.reason,
            uncertain: false,
            countAttempt: false,
          });
          result = 'deferred';
          break;
        case 'retry':
          if (msg.attempts >= (this.options.maxAttempts ?? 8)) {
            ok = await markFinal(
              db,
              msg,
              'failed',
              `${outcome.error} (gave up after ${msg.attempts} attempts)`,
              outcome.uncertain,
            );
            result = 'failed';
          } else {
            ok = await markRetry(db, msg, {
              delayMs: Math.max(outcome.retryAfterMs ?? 0, this.backoffMs(msg.attempts)),
              error: outcome.error,
              uncertain: outcome.uncertain,
              countAttempt: true,
            });
            result = 'retry';
          }
          break;
      }
      if (!ok) log.warn('outbox row was taken over before its outcome was recorded', { outbox: msg.id });
      return ok ? result : 'lost';
    } catch (err) {
      // Database down or a sender bug: the row stays 'sending' and is recovered (with a check) after the lease.
      log.error('alert dispatch failed', { outbox: msg.id, error: redact(err) });
      return 'lost';
    }
  }

  backoffMs(attempt: number): number {
    const { baseMs, maxMs } = this.options.backoff ?? { baseMs: 2_000, maxMs: 600_000 };
    const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
    return Math.round(exp * (0.5 + Math.random() * 0.5));
  }

  /** Polls every `pollMs` (or sooner after `notify()`) until `stop()`. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const loop = async () => {
      while (!this.stopped) {
        try {
          const n = await this.runOnce();
          if (n > 0) continue;
        } catch (err) {
          log.warn('alert outbox poll failed', { error: redact(err) });
        }
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.timer = setTimeout(resolve, this.options.pollMs ?? 1_000);
        });
        this.wake = null;
      }
    };
    this.running = loop();
  }

  /** Wakes the loop now (e.g. from a LISTEN alert_outbox notification or right after recordFiring). */
  notify(): void {
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
  }

  /** Stops polling and waits for the batch in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.notify();
    await this.running;
    this.running = null;
  }
}

export interface BullOutboxOptions {
  dispatcher: Dispatcher;
  db: SqlDatabase;
  connection: ConnectionOptions;
  /** Redis key prefix (default 'bull'). */
  prefix?: string;
  queueName?: string;
}

/** The BullMQ queue the outbox is delivered through (its key prefix is `${REDIS_KEY_PREFIX}bull`). */
export const OUTBOX_QUEUE = 'alert-outbox';

/**
 * The outbox over BullMQ: `enqueueDue()` (call it on a timer and after recordFiring) adds one job per due
 * row with job id = outbox id, so a row enqueued twice while waiting is one job; `startWorker()` runs
 * `dispatcher.runOne(id)` for each job. The database claim still decides who sends, so two workers (or a
 * worker and the in-process loop) never send one row twice.
 */
export class BullOutboxQueue {
  readonly queue: Queue;
  private readonly workers: Worker[] = [];
  private readonly queueName: string;

  constructor(private readonly options: BullOutboxOptions) {
    this.queueName = options.queueName ?? OUTBOX_QUEUE;
    this.queue = new Queue(this.queueName, {
      connection: options.connection,
      ...(options.prefix ? { prefix: options.prefix } : {}),
    });
    // Without a listener a Redis outage prints raw connection traces; the outbox keeps the rows meanwhile.
    this.queue.on('error', (err) => log.warn('alert outbox queue error', { error: describe(err) }));
  }

  async enqueueDue(limit = 100): Promise<number> {
    const ids = await dueIds(this.options.db, limit, this.options.dispatcher.leaseMs);
    if (ids.length) {
      await this.queue.addBulk(
        ids.map((id) => ({
          name: 'send',
          data: { id },
          opts: { jobId: id, removeOnComplete: true, removeOnFail: true },
        })),
      );
    }
    return ids.length;
  }

  startWorker(concurrency = 5): Worker {
    const worker = new Worker(
      this.queueName,
      async (job) =>
        (await this.options.dispatcher.runOne(String((job.data as { id: string }).id))) ?? 'not-due',
      {
        connection: {
          ...(this.options.connection as object),
          maxRetriesPerRequest: null,
        } as ConnectionOptions,
        concurrency,
        ...(this.options.prefix ? { prefix: this.options.prefix } : {}),
      },
    );
    worker.on('error', (err) => log.warn('alert outbox worker error', { error: redact(err) }));
    this.workers.push(worker);
    return worker;
  }

  /**
   * Lets the sends in flight finish. While Redis is down BullMQ's close would wait for it forever (and a
   * send in flight is recovered after its lease anyway), so the connections are dropped instead.
   */
  async close(options: { redisUp?: boolean } = {}): Promise<void> {
    if (options.redisUp === false) {
      await Promise.all(this.workers.map((w) => w.close(true)));
      this.queue.disconnect().catch(() => undefined);
      return;
    }
    await Promise.all(this.workers.map((w) => w.close()));
    await this.queue.close();
  }
}

function describe(err: unknown): string {
  return String(redact(err instanceof Error ? err.message : String(err)));
}
