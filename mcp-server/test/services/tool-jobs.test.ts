/**
 * Tool jobs over the real Redis and Postgres: a "replica" context with HTTP_RUNS_JOBS=false hands
 * market_scanner, detect_opportunities and historical_backtest runs to a "worker" context running
 * startToolJobWorker, in one process but over separate connections, exactly as two processes would.
 * The replica's own handlers are booby-trapped, so a call that is not handed over fails the test; the
 * fallbacks (no worker, Redis down) switch the trap off and check the replica ran the call instead.
 */
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createAppContext } from '../../src/services/app.js';
import type { AppContext } from '../../src/services/context.js';
import { startToolJobWorker, type ToolJobWorker } from '../../src/server/tool-job-worker.js';
import { invokeTool, type Invocation } from '../../src/server/tool-invocation.js';
import { registry } from '../../src/observability/instruments.js';
import { TOOL_JOBS_QUEUE, workersKey } from '../../src/services/tool-jobs/protocol.js';
import { ToolJobClient } from '../../src/services/tool-jobs/client.js';
import { bullConnection, bullPrefix } from '../../src/services/queues.js';
import { historicalBacktestTool, marketScannerTool } from '../../src/tools/index.js';
import type { ToolCall, ToolDefinition } from '../../src/tools/tool.js';
import { findSample, parseExposition } from '../helpers/prometheus.js';
import {
  deleteKeys,
  rawClient,
  SHARED_REDIS_URL,
  startPrivateRedis,
  uniquePrefix,
  waitUntilReady,
} from '../helpers/redis.js';

const prefix = uniquePrefix('tool-jobs');
const redis = rawClient();

function env(extra: Record<string, string> = {}) {
  const database = process.env.E2E_DATABASE_URL;
  if (!database) throw new Error('E2E_DATABASE_URL is unset: run through vitest');
  return loadConfig({
    DATA_SOURCE: 'offline',
    DATABASE_URL: database,
    REDIS_URL: SHARED_REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    LOG_LEVEL: 'error',
    RATE_LIMIT_PER_MINUTE: '0',
    ...extra,
  });
}

let replica: AppContext;
let worker: AppContext;
let jobWorker: ToolJobWorker | null = null;
/** Calls that reached each context's services. */
const ran = { replica: [] as string[], worker: [] as string[] };
let replicaMayRun = false;

/** The request key each backtest call was given (the worker: its job's id). */
const requestKeys = { replica: [] as (string | undefined)[], worker: [] as (string | undefined)[] };

/** Records (and on the replica, refuses unless allowed) every scan and backtest a context runs. */
function instrument(ctx: AppContext, who: 'replica' | 'worker'): void {
  const scan = ctx.scanner.scan.bind(ctx.scanner);
  ctx.scanner.scan = (...a) => {
    ran[who].push('scan');
    if (who === 'replica' && !replicaMayRun) throw new Error('the replica ran a scan it should hand over');
    return scan(...a);
  };
  const run = ctx.backtest.run.bind(ctx.backtest);
  ctx.backtest.run = (...a) => {
    ran[who].push(a[0].run_id ? 'backtest-fetch' : 'backtest');
    requestKeys[who].push(a[2]?.requestKey);
    if (who === 'replica' && !replicaMayRun && !a[0].run_id)
      throw new Error('the replica ran a backtest it should hand over');
    return run(...a);
  };
}

const call = (extra: Partial<ToolCall> = {}): ToolCall => ({
  caller: 'key_jobs',
  transport: 'http',
  ...extra,
});

function invoke(ctx: AppContext, tool: ToolDefinition, args: unknown, c = call()): Promise<Invocation> {
  return invokeTool(ctx, tool, args, c, { validate: true, surface: 'rest' });
}

function metric(name: string, labels: Record<string, string>): number {
  return findSample(parseExposition(registry.render()), name, labels)?.value ?? 0;
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const scanner = marketScannerTool as unknown as ToolDefinition;
const backtest = historicalBacktestTool as unknown as ToolDefinition;
const SCAN = { symbols: ['BTC/USDT', 'ETH/USDT', 'SOL/USDT', 'XRP/USDT', 'DOGE/USDT'], min_volume_usd: 0 };

beforeAll(async () => {
  replica = await createAppContext(env({ HTTP_RUNS_JOBS: 'false', JOB_TIMEOUT_MS: '60000' }));
  worker = await createAppContext(env());
  instrument(replica, 'replica');
  instrument(worker, 'worker');
  jobWorker = startToolJobWorker(worker, SHARED_REDIS_URL);
  await until('the heartbeat', async () => (await redis.zcard(workersKey(prefix))) === 1);
});

afterAll(async () => {
  await jobWorker?.close();
  await Promise.allSettled([replica?.close(), worker?.close()]);
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

describe('calls handed to the worker', () => {
  it('scans on the worker, relays its progress, and answers what the scan answers here', async () => {
    const progress: [number, number][] = [];
    const before = metric('crypto_mcp_tool_jobs_total', { tool: 'market_scanner', outcome: 'ok' });
    const out = await invoke(replica, scanner, SCAN, call({ progress: (d, t) => progress.push([d, t]) }));
    expect(out.ok).toBe(true);
    expect(ran).toMatchObject({ replica: [], worker: ['scan'] });
    expect(metric('crypto_mcp_tool_jobs_total', { tool: 'market_scanner', outcome: 'ok' })).toBe(before + 1);
    // Progress comes from the worker's job, in order, ending complete.
    expect(progress.length).toBeGreaterThan(0);
    const [done, total] = progress.at(-1)!;
    expect(done).toBe(total);

    // The same scan run here directly: the same hits from the same candles.
    const direct = (await worker.scanner.scan(marketScannerTool.input.parse(SCAN), {})) as Record<
      string,
      unknown
    >;
    const viaWorker = (out as { result: Record<string, unknown> }).result;
    const strip = ({ duration_ms: _, data_age_ms: __, ...rest }: Record<string, unknown>) => rest;
    expect(strip(viaWorker)).toEqual(strip(direct));
    ran.worker.length = 0;
  });

  it('runs a backtest there with its chart images; the stored run is fetched by the replica itself', async () => {
    const args = { symbol: 'BTC/USDT', strategy: 'ema_cross', timeframe: '4h', charts: 'png' };
    const out = await invoke(replica, backtest, args);
    if (!out.ok) throw new Error(out.error.message);
    expect(ran.worker).toEqual(['backtest']);
    expect(out.images.map((i) => i.mimeType)).toEqual(['image/png', 'image/png']);
    expect(Buffer.from(out.images[0]!.data, 'base64').subarray(1, 4).toString()).toBe('PNG');
    const runId = (out.result as { run_id: string }).run_id;
    // Stored under its job's id, so a second run of the job (a lost lock) returns this run.
    const key = requestKeys.worker.at(-1);
    expect(key).toEqual(expect.any(String));
    const stored = await worker.stores.database.query<{ request_key: string }>(
      'select request_key from backtest_runs where id = $1',
      [runId],
    );
    expect(stored[0]?.request_key).toBe(key);

    const fetched = await invoke(replica, backtest, { run_id: runId });
    if (!fetched.ok) throw new Error(fetched.error.message);
    expect(ran.replica).toEqual(['backtest-fetch']); // a read: answered where it arrives
    expect((fetched.result as { metrics: unknown }).metrics).toEqual(
      (out.result as { metrics: unknown }).metrics,
    );
    ran.worker.length = 0;
    ran.replica.length = 0;
  });

  it("keeps the worker's error codes and messages", async () => {
    const args = { symbol: 'NOPE/USDT', strategy: 'ema_cross' };
    const here = await invokeTool(worker, backtest, args, call(), { validate: true, surface: 'rest' });
    ran.worker.length = 0;
    const there = await invoke(replica, backtest, args);
    expect(here.ok).toBe(false);
    expect(there).toEqual(here);
    expect(ran).toMatchObject({ replica: [], worker: ['backtest'] });
    ran.worker.length = 0;
  });

  it('stops the job on the worker when the client cancels', async () => {
    const controller = new AbortController();
    const before = metric('crypto_mcp_tool_jobs_total', { tool: 'market_scanner', outcome: 'cancelled' });
    let progressed = false;
    const pending = invoke(
      replica,
      scanner,
      { min_volume_usd: 0, max_results: 100 }, // the whole 404-market snapshot: seconds of work
      call({ signal: controller.signal, progress: () => (progressed = true) }),
    );
    await until('the first progress report', () => progressed);
    const abortedAt = Date.now();
    controller.abort();
    const out = await pending;
    expect(out.ok).toBe(false);
    expect(Date.now() - abortedAt).toBeLessThan(5_000);
    await until(
      'the worker to record the cancellation',
      () =>
        metric('crypto_mcp_tool_jobs_total', { tool: 'market_scanner', outcome: 'cancelled' }) === before + 1,
    );
    expect(ran.replica).toEqual([]);
    ran.worker.length = 0;
  });

  it('answers WORKER_UNAVAILABLE when a live-looking worker never finishes, and withdraws the job', async () => {
    const slow = await createAppContext(env({ HTTP_RUNS_JOBS: 'false', JOB_TIMEOUT_MS: '1500' }));
    try {
      await jobWorker!.close();
      jobWorker = null;
      await redis.zadd(workersKey(prefix), Date.now() + 60_000, 'ghost');
      const out = await invoke(slow, scanner, SCAN);
      expect(out).toMatchObject({ ok: false, error: { code: 'WORKER_UNAVAILABLE' } });
      if (!out.ok) expect(out.error.message).toMatch(/did not finish on a worker within 2 s/);
      await until('the job withdrawn', async () => (await redis.llen(`${prefix}bull:tool-jobs:wait`)) === 0);
    } finally {
      await redis.zrem(workersKey(prefix), 'ghost');
      await slow.close();
    }
  });
});

describe('fallbacks: the replica runs the call itself', () => {
  it('while no worker is running', async () => {
    expect(jobWorker).toBeNull();
    expect(await redis.zcount(workersKey(prefix), Date.now(), '+inf')).toBe(0);
    const before = metric('crypto_mcp_tool_job_fallbacks_total', {
      tool: 'market_scanner',
      reason: 'no_worker',
    });
    replicaMayRun = true;
    try {
      const out = await invoke(replica, scanner, SCAN);
      expect(out.ok).toBe(true);
      expect(ran.replica).toEqual(['scan']);
      expect(ran.worker).toEqual([]);
      // A backtest run here keeps the key its job would have had: a job that landed after all stores
      // no second run.
      const run = await invoke(replica, backtest, {
        symbol: 'BTC/USDT',
        strategy: 'ema_cross',
        charts: 'none',
      });
      if (!run.ok) throw new Error(run.error.message);
      const key = requestKeys.replica.at(-1);
      expect(key).toEqual(expect.any(String));
      const stored = await replica.stores.database.query<{ request_key: string }>(
        'select request_key from backtest_runs where id = $1',
        [(run.result as { run_id: string }).run_id],
      );
      expect(stored[0]?.request_key).toBe(key);
    } finally {
      replicaMayRun = false;
      ran.replica.length = 0;
    }
    expect(
      metric('crypto_mcp_tool_job_fallbacks_total', { tool: 'market_scanner', reason: 'no_worker' }),
    ).toBe(before + 1);
  });

  it('while Redis is unreachable', async () => {
    const cut = await createAppContext(env({ HTTP_RUNS_JOBS: 'false', REDIS_URL: 'redis://127.0.0.1:1' }));
    try {
      const before = metric('crypto_mcp_tool_job_fallbacks_total', {
        tool: 'market_scanner',
        reason: 'redis_down',
      });
      const started = Date.now();
      const out = await invoke(cut, scanner, SCAN);
      expect(out.ok).toBe(true);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(
        metric('crypto_mcp_tool_job_fallbacks_total', { tool: 'market_scanner', reason: 'redis_down' }),
      ).toBe(before + 1);
    } finally {
      await cut.close();
    }
  });

  it('never hands over stdio calls', async () => {
    jobWorker = startToolJobWorker(worker, SHARED_REDIS_URL);
    await until(
      'the heartbeat',
      async () => (await redis.zcount(workersKey(prefix), Date.now(), '+inf')) === 1,
    );
    replicaMayRun = true;
    try {
      const out = await invoke(replica, scanner, SCAN, call({ transport: 'stdio' }));
      expect(out.ok).toBe(true);
      expect(ran).toMatchObject({ replica: ['scan'], worker: [] });
    } finally {
      replicaMayRun = false;
      ran.replica.length = 0;
    }
  });

  it('when the worker runs another version (mid-deploy)', async () => {
    const other = new ToolJobClient({
      redis: replica.stores.redis!,
      connection: bullConnection(SHARED_REDIS_URL),
      prefix: bullPrefix(prefix),
      keyPrefix: prefix,
      timeoutMs: 30_000,
      version: '0.0.0-other',
    });
    try {
      const declined = metric('crypto_mcp_tool_jobs_total', {
        tool: 'market_scanner',
        outcome: 'unsupported',
      });
      const fellBack = metric('crypto_mcp_tool_job_fallbacks_total', {
        tool: 'market_scanner',
        reason: 'version_mismatch',
      });
      // The call's request key is the job's id, so the replica's own run after the decline has the key
      // the job had (tool-invocation.ts gives every handed-over call one).
      const requestKey = randomUUID();
      const answer = await other.run(
        'market_scanner',
        marketScannerTool.input.parse(SCAN),
        call({ requestKey }),
        { idempotent: true },
      );
      expect(answer).toBeNull();
      const queue = new Queue(TOOL_JOBS_QUEUE, {
        connection: bullConnection(SHARED_REDIS_URL),
        prefix: bullPrefix(prefix),
      });
      try {
        expect((await queue.getJob(requestKey))?.returnvalue).toMatchObject({ unsupported: true });
      } finally {
        await queue.close();
      }
      expect(metric('crypto_mcp_tool_jobs_total', { tool: 'market_scanner', outcome: 'unsupported' })).toBe(
        declined + 1,
      );
      expect(
        metric('crypto_mcp_tool_job_fallbacks_total', { tool: 'market_scanner', reason: 'version_mismatch' }),
      ).toBe(fellBack + 1);
      expect(ran.worker).toEqual([]); // declined before running anything
    } finally {
      await other.close();
    }
  });
});

describe('Redis lost while a job runs', () => {
  it('the replica stops waiting for an answer that cannot arrive and runs the call itself', async () => {
    const privateRedis = await startPrivateRedis();
    const own = { REDIS_URL: privateRedis.url, JOB_TIMEOUT_MS: '60000' };
    const r = await createAppContext(env({ ...own, HTTP_RUNS_JOBS: 'false' }));
    const w = await createAppContext(env(own));
    const jw = startToolJobWorker(w, privateRedis.url);
    try {
      await waitUntilReady(r.stores.redis!);
      const plain = rawClient(privateRedis.url);
      await until('the heartbeat', async () => (await plain.zcard(workersKey(prefix))) === 1);
      plain.disconnect();
      let workerStarted = false;
      const scan = w.scanner.scan.bind(w.scanner);
      w.scanner.scan = (...a) => {
        workerStarted = true;
        return scan(...a);
      };
      const before = metric('crypto_mcp_tool_job_fallbacks_total', {
        tool: 'market_scanner',
        reason: 'redis_down',
      });
      let progressed = false;
      const pending = invoke(
        r,
        scanner,
        { min_volume_usd: 0, max_results: 5 },
        call({ progress: () => (progressed = true) }),
      );
      await until('the worker to start', () => workerStarted && progressed);
      await privateRedis.stop();
      const out = await pending;
      expect(out.ok).toBe(true);
      expect(
        metric('crypto_mcp_tool_job_fallbacks_total', { tool: 'market_scanner', reason: 'redis_down' }),
      ).toBe(before + 1);
    } finally {
      await jw.close().catch(() => undefined);
      await Promise.allSettled([r.close(), w.close()]);
      await privateRedis.destroy();
    }
  });
});

describe('Redis lost while a backtest runs', () => {
  it('the replica does not run a call with effects a second time: it waits for the worker', async () => {
    const privateRedis = await startPrivateRedis();
    const own = { REDIS_URL: privateRedis.url, JOB_TIMEOUT_MS: '8000' };
    const r = await createAppContext(env({ ...own, HTTP_RUNS_JOBS: 'false' }));
    const w = await createAppContext(env(own));
    const jw = startToolJobWorker(w, privateRedis.url);
    let replicaRan = 0;
    r.backtest.run = () => {
      replicaRan++;
      throw new Error('the replica ran a backtest it handed over');
    };
    try {
      await waitUntilReady(r.stores.redis!);
      const plain = rawClient(privateRedis.url);
      await until('the heartbeat', async () => (await plain.zcard(workersKey(prefix))) === 1);
      plain.disconnect();
      let progressed = false;
      const owner = `key_lost_${Date.now()}`;
      const pending = invoke(
        r,
        backtest,
        {
          symbol: 'BTC/USDT',
          strategy: 'ema_cross',
          mode: 'grid',
          // 960 combinations: seconds of work, reported as it goes.
          param_grid: { fast: range(4, 44), slow: range(50, 74) },
        },
        call({ caller: owner, progress: () => (progressed = true) }),
      );
      await until('the worker to start', () => progressed);
      await privateRedis.stop();
      const out = await pending;
      // This Redis kept nothing across the stop (no AOF, unlike production's), so the job is gone and
      // the answer cannot come: the call says so, and it was never run a second time here.
      expect(out).toMatchObject({ ok: false, error: { code: 'WORKER_UNAVAILABLE' } });
      expect(replicaRan).toBe(0);
      const runs = await w.stores.database.query<{ n: number }>(
        'select count(*)::int as n from backtest_runs where owner = $1',
        [owner],
      );
      expect(runs[0]!.n).toBeLessThanOrEqual(1);
    } finally {
      await jw.close().catch(() => undefined);
      await Promise.allSettled([r.close(), w.close()]);
      await privateRedis.destroy();
    }
  });
});
