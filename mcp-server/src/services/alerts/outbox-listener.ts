/**
 * Wakes the dispatcher as soon as a firing is recorded: `store.recordFiring` runs
 * `pg_notify('alert_outbox', <outbox id>)` in its transaction, and this listener, on a dedicated `pg.Client`
 * (LISTEN needs a connection of its own, never a pooled one), calls `onNotify` for each notification,
 * typically `dispatcher.notify()`.
 *
 * It only shortens the delay: the dispatcher's poll still finds every due row, so a notification lost
 * while the connection is down costs at most one poll interval. When the connection drops (server
 * restart, `pg_terminate_backend`, network) it reconnects with exponential backoff and full jitter, and
 * calls `onNotify()` once after each reconnection for what it may have missed. It never throws after the
 * first call returned and never crashes the process (every 'error' is heard).
 *
 * PGlite: pass `null` as the connection string; the listener is a no-op. PGlite runs in-process and has no
 * other connection to hear from, and the dispatcher's poll (or a `notify()` right after recordFiring)
 * covers it.
 */
import pg from 'pg';
import { log, redact } from '../../logger.js';

export const OUTBOX_CHANNEL = 'alert_outbox';

export interface OutboxListener {
  /** Stops listening and closes the connection; idempotent. */
  close(): Promise<void>;
}

export interface OutboxListenerOptions {
  /** Reconnection backoff. Default { baseMs: 500, maxMs: 30000 }. */
  backoff?: { baseMs: number; maxMs: number };
  /** application_name of the connection (visible in pg_stat_activity). Default 'mcp-alert-outbox-listener'. */
  applicationName?: string;
  /** Connection timeout. Default 5000 ms. */
  connectTimeoutMs?: number;
}

/**
 * Listens on `alert_outbox`. Resolves once the first attempt to connect and LISTEN has succeeded or failed
 * (a failure is logged and retried in the background; the promise does not reject).
 *
 * @param connectionString postgres URL (never logged), or null/undefined for PGlite (no-op)
 * @param onNotify called with the notification's payload (the outbox id), or without one after a reconnection
 */
export async function listenForOutbox(
  connectionString: string | null | undefined,
  onNotify: (payload?: string) => void,
  options: OutboxListenerOptions = {},
): Promise<OutboxListener> {
  if (!connectionString) return { close: async () => undefined };
  const { baseMs, maxMs } = options.backoff ?? { baseMs: 500, maxMs: 30_000 };
  let closed = false;
  let client: pg.Client | null = null;
  let timer: NodeJS.Timeout | null = null;
  let failures = 0;
  let everConnected = false;

  const call = (payload?: string) => {
    try {
      onNotify(payload);
    } catch (error) {
      log.warn('alert outbox listener: onNotify failed', { error: redact(error) });
    }
  };

  const scheduleReconnect = () => {
    if (closed || timer) return;
    failures++;
    const exp = Math.min(maxMs, baseMs * 2 ** Math.min(30, failures - 1));
    const delay = Math.round(exp * (0.5 + Math.random() * 0.5));
    timer = setTimeout(() => {
      timer = null;
      void connect();
    }, delay);
    timer.unref();
  };

  /** Drops the current client (if it is `c`) and schedules a reconnection. */
  const lost = (c: pg.Client, reason: string) => {
    if (client !== c) return;
    client = null;
    c.end().catch(() => undefined);
    if (closed) return;
    log.warn('alert outbox listener: connection lost, reconnecting', { reason });
    scheduleReconnect();
  };

  const connect = async (): Promise<void> => {
    if (closed) return;
    const c = new pg.Client({
      connectionString,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
      keepAlive: true,
      application_name: options.applicationName ?? 'mcp-alert-outbox-listener',
    });
    client = c;
    // Heard from the first moment: an unheard 'error' would crash the process.
    c.on('error', (err) => lost(c, describe(err)));
    c.on('end', () => lost(c, 'connection ended'));
    c.on('notification', (msg) => {
      if (msg.channel === OUTBOX_CHANNEL) call(msg.payload);
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${OUTBOX_CHANNEL}`);
    } catch (err) {
      if (client === c) {
        client = null;
        c.end().catch(() => undefined);
        if (!closed) {
          // Only the first failure of an outage is a warning; the retries are debug noise.
          (failures === 0 ? log.warn : log.debug)('alert outbox listener: cannot listen, retrying', {
            reason: describe(err),
          });
          scheduleReconnect();
        }
      }
      return;
    }
    if (closed || client !== c) {
      c.end().catch(() => undefined);
      return;
    }
    const reconnected = everConnected || failures > 0;
    failures = 0;
    everConnected = true;
    if (reconnected) {
      log.info('alert outbox listener: listening');
      call(); // rows recorded while it was not listening
    }
  };

  await connect();
  return {
    close: async () => {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      timer = null;
      const c = client;
      client = null;
      await c?.end().catch(() => undefined);
    },
  };
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return String(redact(typeof code === 'string' ? `${code}: ${err.message}` : err.message));
  }
  return String(redact(String(err)));
}
