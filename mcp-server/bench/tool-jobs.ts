/**
 * Tool jobs (HTTP_RUNS_JOBS=false): what handing a heavy call to `crypto-mcp worker` over BullMQ costs,
 * and what it buys. Two built replicas on the local Postgres and Redis, one running scans itself (the
 * default), one handing them to a worker process, called over REST:
 *
 * 1. the hand-over's cost: a 5-market scan, sequentially, on each (median of 30);
 * 2. a whole-snapshot scan (404 markets) on each (median of 5);
 * 3. the noisy neighbour: cached analyze_crypto under load (autocannon, 8 connections, 10 s) on each
 *    replica while a loop of whole-snapshot scans, then of 960-combination backtest grids, runs against
 *    that same replica.
 *
 * On this machine the worker shares the replica's cores, so (3) shows only what leaving the replica's
 * event loop and thread pool buys; on separate hosts the worker's CPU is its own. Every answer is
 * checked (status 200, the right market); timings are reported, never asserted.
 */
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import { isolatedPostgresUrl } from '../test/helpers/postgres.js';
import { deleteKeys, rawClient, SHARED_REDIS_URL } from '../test/helpers/redis.js';
import { startServer, startWorker, type ServerProcess } from '../test/helpers/server-process.js';

const KEY = `bench-${randomBytes(16).toString('hex')}`;
const SMALL = { symbols: ['BTC/USDT', 'ETH/USDT', 'SOL/USDT', 'XRP/USDT', 'DOGE/USDT'], min_volume_usd: 0 };
const FULL = { max_results: 10 };
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const GRID = {
  symbol: 'BTC/USDT',
  strategy: 'ema_cross',
  mode: 'grid',
  param_grid: { fast: range(4, 44), slow: range(50, 74) },
};

interface Neighbour {
  label: string;
  tool: string;
  args: object;
}
const NEIGHBOURS: Neighbour[] = [
  { label: 'whole-snapshot scans', tool: 'market_scanner', args: FULL },
  { label: '960-combination backtest grids', tool: 'historical_backtest', args: GRID },
];
const ANALYZE = {
  symbol: 'BTCUSDT',
  timeframe: '1h',
  limit: 500,
  higher_timeframe: 'none',
  save_analysis: false,
};

async function call(server: ServerProcess, tool: string, args: object): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${server.origin}/api/v1/tools/${tool}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(args),
  });
  const body = (await res.json()) as { universe?: unknown; run_id?: unknown };
  if (res.status !== 200 || !(body.universe ?? body.run_id))
    throw new Error(`${tool} answered ${res.status}`);
  return performance.now() - started;
}

async function median(n: number, run: () => Promise<number>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) times.push(await run());
  times.sort((a, b) => a - b);
  return times[Math.floor(n / 2)]!;
}

async function analyzeAlongside(
  server: ServerProcess,
  neighbour: Neighbour,
): Promise<{ p50: number; p99: number; rps: number; scans: number }> {
  let stop = false;
  let scans = 0;
  const scanning = (async () => {
    while (!stop) {
      await call(server, neighbour.tool, neighbour.args);
      scans++;
    }
  })();
  let bad = 0;
  const result = await autocannon({
    url: `${server.origin}/api/v1/tools/analyze_crypto`,
    connections: 8,
    duration: 10,
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(ANALYZE),
    requests: [
      {
        onResponse: (status, raw) => {
          if (status !== 200 || !raw.includes('"symbol":"BTC/USDT"')) bad++;
        },
      },
    ],
  });
  stop = true;
  await scanning;
  const errors = result.errors + result.timeouts + result.non2xx + bad;
  if (errors) throw new Error(`${errors} failed analyze_crypto calls under load`);
  return { p50: result.latency.p50, p99: result.latency.p99, rps: result.requests.average, scans };
}

export async function run(): Promise<void> {
  console.log('\n## Tool jobs: scans in the replica vs handed to crypto-mcp worker (REST, built servers)');
  const { url: database, drop } = await isolatedPostgresUrl();
  const prefix = `bench:jobs:${randomBytes(4).toString('hex')}:`;
  const env = {
    DATABASE_URL: database,
    REDIS_URL: SHARED_REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    MCP_API_KEYS: KEY,
    RATE_LIMIT_PER_MINUTE: '0',
    LOG_LEVEL: 'info', // the test helpers read the listening line
  };
  const token = `bench-metrics-${randomBytes(8).toString('hex')}`;
  const started: ServerProcess[] = [];
  try {
    const worker = await startWorker(token, env);
    started.push(worker);
    const inline = await startServer(env);
    started.push(inline);
    const handing = await startServer({ ...env, HTTP_RUNS_JOBS: 'false' });
    started.push(handing);
    // Warm both (snapshot decoding, thread pools, caches).
    for (const s of [inline, handing]) {
      await call(s, 'market_scanner', FULL);
      await call(s, 'market_scanner', SMALL);
    }

    const small = { inline: await median(30, () => call(inline, 'market_scanner', SMALL)) };
    const smallHanded = await median(30, () => call(handing, 'market_scanner', SMALL));
    console.log(
      `5-market scan, median of 30:    in the replica ${small.inline.toFixed(1)} ms | on the worker ` +
        `${smallHanded.toFixed(1)} ms (hand-over +${(smallHanded - small.inline).toFixed(1)} ms)`,
    );
    const full = await median(5, () => call(inline, 'market_scanner', FULL));
    const fullHanded = await median(5, () => call(handing, 'market_scanner', FULL));
    console.log(
      `404-market scan, median of 5:   in the replica ${full.toFixed(0)} ms | on the worker ` +
        `${fullHanded.toFixed(0)} ms (${(fullHanded / full).toFixed(2)}x)`,
    );
    for (const neighbour of NEIGHBOURS) {
      const a = await analyzeAlongside(inline, neighbour);
      const b = await analyzeAlongside(handing, neighbour);
      const line = (r: typeof a) =>
        `p50 ${r.p50} ms, p99 ${r.p99} ms, ${r.rps.toFixed(0)} req/s, ${r.scans} calls alongside`;
      console.log(
        `cached analyze_crypto while the same replica is asked for ${neighbour.label} (8 conns, 10 s):`,
      );
      console.log(`  in the replica:   ${line(a)}`);
      console.log(`  on the worker:    ${line(b)}`);
      console.log(
        `  worker / replica: p99 ${(b.p99 / a.p99).toFixed(2)}x, throughput ${(b.rps / a.rps).toFixed(2)}x`,
      );
    }
    // The handing replica really handed them over: the worker counted them, the replica fell back never.
    const workerMetrics = await (
      await fetch(worker.url, { headers: { authorization: `Bearer ${token}` } })
    ).text();
    const ran = [...workerMetrics.matchAll(/crypto_mcp_tool_jobs_total\{tool="(\w+)",outcome="ok"\} (\d+)/g)];
    const fellBack = await (
      await fetch(`${handing.origin}/metrics`, { headers: { authorization: `Bearer ${KEY}` } })
    ).text();
    if (/crypto_mcp_tool_job_fallbacks_total\{/.test(fellBack))
      throw new Error('the replica ran calls itself');
    console.log(`calls the worker ran: ${ran.map((m) => `${m[1]} ${m[2]}`).join(', ')}`);
  } finally {
    await Promise.allSettled(started.map((s) => s.stop()));
    const redis = rawClient();
    await deleteKeys(redis, prefix).finally(() => redis.disconnect());
    await drop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
