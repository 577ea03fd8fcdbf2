/**
 * The production split for real: two `crypto-mcp http` replicas with HTTP_RUNS_JOBS=false and one
 * `crypto-mcp worker`, built, on the real Postgres and Redis. Scans and backtests called over MCP and
 * REST run on the worker (its /metrics counts them, the replicas' fallback counters stay at zero), with
 * progress and chart images relayed; a worker stopped mid-job finishes that job before it exits; with
 * no worker left the replicas answer by themselves.
 */
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { startServer, startWorker, type ServerProcess } from '../helpers/server-process.js';
import { findSample, parseExposition } from '../helpers/prometheus.js';
import { deleteKeys, rawClient, SHARED_REDIS_URL } from '../helpers/redis.js';

const KEY = `key-jobs-${randomBytes(12).toString('hex')}`;
const TOKEN = `metrics-${randomBytes(12).toString('hex')}`;
const prefix = `test:jobs:${randomBytes(6).toString('hex')}:`;
const shared = { REDIS_URL: SHARED_REDIS_URL, REDIS_KEY_PREFIX: prefix, METRICS_TOKEN: TOKEN };

async function scrape(
  url: string,
  name: string,
  labels: Record<string, string>,
): Promise<number | undefined> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  return findSample(parseExposition(await res.text()), name, labels)?.value;
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

async function mcp(replica: ServerProcess): Promise<Client> {
  const client = new Client({ name: 'tool-jobs-e2e', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(replica.url), {
      requestInit: { headers: { Authorization: `Bearer ${KEY}` } },
    }),
  );
  return client;
}

describe('replicas hand scans and backtests to the worker', () => {
  let worker: ServerProcess;
  let replicas: ServerProcess[];

  beforeAll(async () => {
    worker = await startWorker(TOKEN, shared);
    replicas = await Promise.all(
      [0, 1].map(() => startServer({ ...shared, MCP_API_KEYS: KEY, HTTP_RUNS_JOBS: 'false' })),
    );
  });
  afterAll(async () => {
    await Promise.allSettled([worker?.stop(), ...(replicas ?? []).map((r) => r.stop())]);
    const redis = rawClient();
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  const jobs = (tool: string, outcome = 'ok') =>
    scrape(worker.url, 'crypto_mcp_tool_jobs_total', { tool, outcome });

  it('runs an MCP scan of the whole snapshot on the worker, with progress', async () => {
    const client = await mcp(replicas[0]!);
    try {
      const progress: number[] = [];
      const res = await client.callTool(
        { name: 'market_scanner', arguments: { max_results: 10 } },
        { onprogress: (p) => progress.push(p.progress) },
      );
      expect(res.isError, JSON.stringify(res.content)).toBeFalsy();
      const r = res.structuredContent as { universe: { considered: number }; compute: { mode: string } };
      expect(r.universe.considered).toBe(404);
      expect(r.compute.mode).toBe('worker_pool'); // the worker process's thread pool, from dist/
      expect(progress.length).toBeGreaterThan(1);
      expect(await jobs('market_scanner')).toBe(1);
    } finally {
      await client.close();
    }
  });

  it('runs a backtest there with its PNG charts; the other replica fetches the stored run', async () => {
    const client = await mcp(replicas[1]!);
    let runId: string;
    try {
      const res = await client.callTool({
        name: 'historical_backtest',
        arguments: { symbol: 'ETH/USDT', strategy: 'rsi_reversion', timeframe: '4h', charts: 'png' },
      });
      expect(res.isError, JSON.stringify(res.content)).toBeFalsy();
      const images = (res.content as { type: string; mimeType?: string }[]).filter((c) => c.type === 'image');
      expect(images.map((i) => i.mimeType)).toEqual(['image/png', 'image/png']);
      runId = (res.structuredContent as { run_id: string }).run_id;
      expect(await jobs('historical_backtest')).toBe(1);
    } finally {
      await client.close();
    }
    const fetched = await fetch(`${replicas[0]!.origin}/api/v1/tools/historical_backtest`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ run_id: runId }),
    });
    expect(fetched.status).toBe(200);
    expect(((await fetched.json()) as { run_id: string }).run_id).toBe(runId);
    expect(await jobs('historical_backtest')).toBe(1); // a fetch is a read, answered by the replica
  });

  it('takes REST calls the same way, and health shows the worker', async () => {
    const res = await fetch(`${replicas[1]!.origin}/api/v1/tools/detect_opportunities`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ confidence_threshold: 50, max_results: 3 }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await jobs('detect_opportunities')).toBe(1);

    const health = await fetch(`${replicas[0]!.origin}/health/infrastructure`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    const body = (await health.json()) as { queues: { tool_jobs: { status: string; workers: number } } };
    expect(body.queues.tool_jobs).toMatchObject({ status: 'ok', workers: 1 });
    for (const r of replicas) {
      const fallbacks = await scrape(`${r.origin}/metrics`, 'crypto_mcp_tool_job_fallbacks_total', {
        tool: 'market_scanner',
        reason: 'no_worker',
      });
      expect(fallbacks ?? 0).toBe(0);
    }
  });

  it('finishes the running job when the worker is stopped, then the replicas answer by themselves', async () => {
    const client = await mcp(replicas[0]!);
    try {
      // A grid of 960 combinations on a year of hourly candles: seconds of work, reported as it goes.
      const progressAt: number[] = [];
      let started!: () => void;
      const progressed = new Promise<void>((resolve) => (started = resolve));
      const pending = client.callTool(
        {
          name: 'historical_backtest',
          arguments: {
            symbol: 'BTC/USDT',
            strategy: 'ema_cross',
            mode: 'grid',
            param_grid: { fast: range(4, 44), slow: range(50, 74) },
          },
        },
        {
          onprogress: () => {
            progressAt.push(Date.now());
            started();
          },
          resetTimeoutOnProgress: true,
        },
      );
      await progressed;
      const stoppedAt = Date.now();
      worker.child.kill('SIGTERM');
      const res = await pending;
      expect(res.isError, JSON.stringify(res.content)).toBeFalsy();
      // Still working when it was told to stop: it reported progress after that, and answered.
      expect(progressAt.filter((t) => t > stoppedAt).length).toBeGreaterThan(0);
      const [code] = (await once(worker.child, 'exit')) as [number | null];
      expect(code, worker.stderr()).toBe(0);
      // It left the heartbeat set as it stopped: the next call is not handed to a worker that is gone.
      const again = await client.callTool({ name: 'market_scanner', arguments: { max_results: 1 } });
      expect(again.isError, JSON.stringify(again.content)).toBeFalsy();
      const fallbacks = await scrape(
        `${replicas[0]!.origin}/metrics`,
        'crypto_mcp_tool_job_fallbacks_total',
        {
          tool: 'market_scanner',
          reason: 'no_worker',
        },
      );
      expect(fallbacks).toBe(1);
      expect(replicas[0]!.stderr()).toContain('tool jobs run on this replica meanwhile');
    } finally {
      await client.close();
    }
  });
});
