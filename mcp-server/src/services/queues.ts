/**
 * What every BullMQ queue of the server shares: where its keys live, how it connects, and one read-only
 * handle per queue for counting its jobs (/health/infrastructure and /metrics read them on every call,
 * so the handles are made once rather than per request).
 *
 * The queues: 'alert-outbox' (services/alerts/dispatcher.ts: alert messages to send) and 'tool-jobs'
 * (services/tool-jobs/: heavy tool calls handed from the serving replicas to `crypto-mcp worker`).
 */
import { Queue, type ConnectionOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { log } from '../logger.js';

/** BullMQ's key prefix inside REDIS_KEY_PREFIX. */
export const bullPrefix = (redisKeyPrefix: string): string => `${redisKeyPrefix}bull`;

/**
 * BullMQ connection options from a redis:// URL. BullMQ needs `maxRetriesPerRequest: null` on the
 * connections its workers block on; each Queue, Worker and QueueEvents opens its own connection.
 */
export function bullConnection(url: string): ConnectionOptions {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    ...(u.username && { username: decodeURIComponent(u.username) }),
    ...(u.password && { password: decodeURIComponent(u.password) }),
    db: Number(u.pathname.slice(1) || 0),
    ...(u.protocol === 'rediss:' && { tls: {} }),
    maxRetriesPerRequest: null,
  };
}

export interface JobCounts {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
}

/**
 * Counts jobs of the named queues over one existing Redis connection (the server's own: BullMQ leaves a
 * shared connection open when a Queue closes). The Queue handles are read-only (`skipMetasUpdate`: a
 * health check must not write the queue's meta key) and made once per queue name.
 */
export class QueueCounter {
  private readonly handles = new Map<string, Queue>();

  constructor(
    private readonly client: Redis,
    private readonly prefix: string,
  ) {}

  async counts(queueName: string): Promise<JobCounts> {
    let q = this.handles.get(queueName);
    if (!q) {
      q = new Queue(queueName, { connection: this.client, prefix: this.prefix, skipMetasUpdate: true });
      q.on('error', (error) => log.debug('queue count failed', { queue: queueName, error }));
      this.handles.set(queueName, q);
    }
    const c = await q.getJobCounts('waiting', 'active', 'delayed', 'failed');
    return { waiting: c.waiting ?? 0, active: c.active ?? 0, delayed: c.delayed ?? 0, failed: c.failed ?? 0 };
  }
}
