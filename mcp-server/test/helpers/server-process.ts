/**
 * Runs the built CLI (`dist/cli.js`) as a separate process, the way users run it, and reads the
 * bound URL from its stderr log line. Tests use it so every client talks to a real server process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;

export interface ServerProcess {
  url: string;
  origin: string;
  child: ChildProcess;
  stderr: () => string;
  stop: () => Promise<void>;
}

/**
 * Base environment for test servers: offline data, random port, no inherited secrets, and the real
 * Postgres schema the global setup made (E2E_DATABASE_URL) instead of an embedded database in HOME.
 */
export function testEnv(extra: Record<string, string> = {}): Record<string, string> {
  const database = extra.DATABASE_URL ?? process.env.E2E_DATABASE_URL;
  if (database === undefined) {
    throw new Error('E2E_DATABASE_URL is unset: run the tests through vitest (test/global-setup.ts)');
  }
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    DATA_SOURCE: 'offline',
    MCP_PORT: '0',
    LOG_LEVEL: 'info',
    DATABASE_URL: database,
    ...(process.env.E2E_REDIS_KEY_PREFIX && { REDIS_KEY_PREFIX: process.env.E2E_REDIS_KEY_PREFIX }),
    ...extra,
  };
}

export function startServer(env: Record<string, string> = {}): Promise<ServerProcess> {
  return startCli('http', env);
}

/**
 * `crypto-mcp worker` with its metrics served on a free port (`url` is its /metrics, scraped with
 * `metricsToken`); resolves once the worker is listening.
 */
export function startWorker(metricsToken: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  return startCli('worker', { METRICS_TOKEN: metricsToken, WORKER_METRICS_PORT: '0', ...env });
}

/** Runs a CLI command and waits for the first `"url"` it logs (the listening line). */
async function startCli(command: 'http' | 'worker', env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, [CLI, command], {
    env: testEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 20 s:\n${err}`)), 20_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /"url":"([^"]+)"/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${err}`));
    });
  });
  return {
    url,
    origin: new URL(url).origin,
    child,
    stderr: () => err + (out ? `\n[stdout]\n${out}` : ''),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
