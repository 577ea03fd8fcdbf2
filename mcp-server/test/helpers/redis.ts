/**
 * Redis for tests. Normal tests share one Redis (TEST_REDIS_URL, default redis://127.0.0.1:6379) and stay
 * out of each other's way with a random key prefix per test file, deleted afterwards. Fault tests need
 * a Redis they may stop and restart: `startPrivateRedis` runs a `redis-server` child of their own on a
 * free port, in memory only, so stopping it disturbs no other test file running in parallel.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createConnection } from 'node:net';
import { Redis } from 'ioredis';
import { freePort } from './ports.js';

export const SHARED_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix no other test (or run) uses. */
export function uniquePrefix(label: string): string {
  return `crypto-mcp-test:${label}:${randomUUID()}:`;
}

/** A plain client for assertions on the raw keys (not configured like the server's connection). */
export function rawClient(url = SHARED_REDIS_URL): Redis {
  return new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1 });
}

/** Deletes every key starting with `prefix`. */
export async function deleteKeys(client: Redis, prefix: string): Promise<void> {
  const pattern = prefix.replace(/[*?[\]\\]/g, '\\$&') + '*';
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    if (keys.length) await client.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

export interface PrivateRedis {
  url: string;
  port: number;
  /** Stops the server (the port stays reserved for `start`); connected clients see the connection drop. */
  stop: () => Promise<void>;
  /** Starts it again on the same port, empty. */
  start: () => Promise<void>;
  /** Stops it for good. */
  destroy: () => Promise<void>;
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    if (child) return;
    const proc = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    child = proc;
    // A test process that dies early must not leave a server behind.
    const reap = () => proc.kill('SIGKILL');
    process.once('exit', reap);
    proc.once('exit', () => process.off('exit', reap));
    const deadline = Date.now() + 10_000;
    while (!(await accepts(port))) {
      if (proc.exitCode !== null || Date.now() > deadline) {
        proc.kill('SIGKILL');
        child = undefined;
        throw new Error(`redis-server did not start on port ${port}:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    if (!proc) return;
    child = undefined;
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = once(proc, 'exit');
    proc.kill('SIGKILL');
    await exited;
  };

  await start();
  return { url: `redis://127.0.0.1:${port}`, port, stop, start, destroy: stop };
}

/** True once a TCP connection to the port succeeds and PING answers PONG. */
async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d: Buffer) => done(d.toString().startsWith('+PONG')));
  });
}

/** Resolves once `conn.ready` (e.g. after connecting or after Redis came back); rejects after `ms`. */
export async function waitUntilReady(conn: { readonly ready: boolean }, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!conn.ready) {
    if (Date.now() > deadline) throw new Error(`Redis connection not ready after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
