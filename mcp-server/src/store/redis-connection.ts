/**
 * One ioredis client, configured so that Redis being down never blocks or crashes a request: commands
 * fail at once while disconnected (the callers then use their in-process fallbacks), and the client
 * keeps reconnecting in the background, so Redis is used again as soon as it returns, without a restart.
 */
import { Redis } from 'ioredis';
import { log } from '../logger.js';
import type { StoreHealth } from './types.js';

export interface RedisConnection {
  readonly client: Redis;
  /** True while commands can be sent; callers check it to skip a doomed round trip. */
  readonly ready: boolean;
  health(): StoreHealth;
  close(): Promise<void>;
}

/** Reconnect delay: 200 ms doubling up to 5 s, forever (a cache outage must not need a restart). */
export function reconnectDelay(attempt: number): number {
  return Math.min(200 * 2 ** Math.min(attempt, 10), 5_000);
}

export function connectRedis(url: string, name: string): RedisConnection {
  const target = describeTarget(url);
  const client = new Redis(url, {
    // Without a connection a command is rejected immediately instead of waiting in a queue.
    enableOfflineQueue: false,
    // A command in flight when the connection drops fails after one reconnect attempt at most.
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    // A reply that never comes (half-open connection, stalled server) must not hang the request.
    commandTimeout: 2_000,
    retryStrategy: reconnectDelay,
    lazyConnect: false,
    // Shown by CLIENT LIST, to tell this server's connections apart; CLIENT SETNAME refuses spaces.
    connectionName: `crypto-mcp:${name.replace(/[^\w.:-]/g, '_')}`,
  });

  // Logged once per outage, not once per reconnect attempt (every few seconds for as long as it lasts).
  let outage = false;
  let lastError = '';
  let closed = false;
  client.on('error', (err: Error & { code?: string }) => {
    lastError = err.code ?? err.name;
    if (outage) return;
    outage = true;
    log.warn('Redis unreachable; using in-process fallbacks until it returns', {
      store: name,
      target,
      error: err.message,
    });
  });
  client.on('ready', () => {
    if (outage) log.info('Redis reachable again', { store: name, target });
    outage = false;
    lastError = '';
  });

  return {
    client,
    get ready() {
      return !closed && client.status === 'ready';
    },
    health(): StoreHealth {
      const status = client.status;
      if (closed || status === 'end') {
        return { name, backend: 'redis', status: 'down', detail: 'connection closed' };
      }
      if (status === 'ready') return { name, backend: 'redis', status: 'ok' };
      if (!outage && (status === 'wait' || status === 'connecting' || status === 'connect')) {
        return { name, backend: 'redis', status: 'degraded', detail: 'connecting to Redis' };
      }
      const why = lastError ? ` (${lastError})` : '';
      return { name, backend: 'redis', status: 'down', detail: `Redis unreachable${why}; reconnecting` };
    },
    async close() {
      closed = true;
      try {
        await client.quit();
      } catch {
        // Not connected (quit cannot be sent): drop the socket and stop reconnecting.
        client.disconnect();
      }
    },
  };
}

/** `host:port/db` of a Redis URL, for logs: never the user name or password. */
function describeTarget(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '6379'}${u.pathname && u.pathname !== '/' ? u.pathname : ''}`;
  } catch {
    return 'redis (unparseable URL)';
  }
}
