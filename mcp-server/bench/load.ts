/**
 * Load through the production edge: autocannon against the repository's nginx (TLS, HTTP/1.1
 * keep-alive to two replicas; rate limits lifted, everything else as shipped) in front of two server
 * processes, calling cached `analyze_crypto` over MCP (2026-07-28, one POST per call). Every request
 * carries a unique JSON-RPC id and every answer is checked: status 200, the same id, and a complete
 * report (BTC/USDT with its data source). The floor is measured in the same run on the same stack: the
 * product's HTTP layer serving the SDK's bare `echo` tool (bench/load/echo-server.ts).
 *
 * `npm run bench` runs 10 s per target; `npm run bench:soak` adds a 5-minute soak that samples the
 * replicas' resident memory and reports its drift (target under 10 %). Timings are reported, never
 * asserted. Needs nginx (Debian: nginx-light) and the local Postgres; skipped with a notice otherwise.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import { findNginx, startNginx, type NginxProcess } from '../test/helpers/nginx.js';
import { isolatedPostgresUrl } from '../test/helpers/postgres.js';
import { startServer, testEnv, type ServerProcess } from '../test/helpers/server-process.js';

const KEY = `bench-${randomBytes(16).toString('hex')}`;
const CONNECTIONS = 32;
const DURATION_S = 10;
const SOAK_S = Number(process.env.BENCH_SOAK_SECONDS ?? 0);

interface Target {
  name: string;
  tool: string;
  args: Record<string, unknown>;
  /** True when the structured answer is the right one for these arguments. */
  check: (structured: Record<string, unknown> | undefined) => boolean;
}

const ANALYZE: Target = {
  name: 'analyze_crypto (cached report)',
  tool: 'analyze_crypto',
  args: { symbol: 'BTCUSDT', timeframe: '1h', limit: 500, higher_timeframe: 'none', save_analysis: false },
  check: (s) => s?.symbol === 'BTC/USDT' && s.data_source === 'offline' && typeof s.as_of === 'string',
};
const ECHO: Target = {
  name: 'SDK echo tool (floor)',
  tool: 'echo',
  args: { text: 'ping' },
  check: (s) => s?.text === 'ping',
};

function body(target: Target, id: number): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: {
      name: target.tool,
      arguments: target.args,
      _meta: {
        'io.modelcontextprotocol/protocolVersion': '2026-07-28',
        'io.modelcontextprotocol/clientCapabilities': {},
      },
    },
  });
}

interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  bad: number;
}

async function load(nginx: NginxProcess, target: Target, seconds: number): Promise<LoadResult> {
  let next = 1;
  let bad = 0;
  const result = await autocannon({
    url: `${nginx.origin}/mcp`,
    connections: CONNECTIONS,
    duration: seconds,
    method: 'POST',
    headers: {
      authorization: `Bearer ${KEY}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': target.tool,
    },
    tlsOptions: { ca: nginx.ca, servername: 'localhost' },
    requests: [
      {
        setupRequest: (req, context) => {
          const id = next++;
          (context as { id?: number }).id = id;
          return { ...req, body: body(target, id) };
        },
        onResponse: (status, raw, context) => {
          try {
            const answer = JSON.parse(raw) as {
              id?: number;
              result?: { isError?: boolean; structuredContent?: Record<string, unknown> };
            };
            const ok =
              status === 200 &&
              answer.id === (context as { id?: number }).id &&
              answer.result?.isError !== true &&
              target.check(answer.result?.structuredContent);
            if (!ok) bad++;
          } catch {
            bad++;
          }
        },
      },
    ],
  });
  return {
    requests: result.requests.total,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    bad,
  };
}

/** The echo floor: the same CLI environment, the product's HTTP stack, one bare tool. */
async function startEcho(env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const tsx = new URL('../node_modules/.bin/tsx', import.meta.url).pathname;
  const script = new URL('./load/echo-server.ts', import.meta.url).pathname;
  const child = spawn(existsOr(tsx, 'tsx'), [script], {
    env: testEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /\{"url":"([^"]+)"\}/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`echo server exited with ${code}:\n${err}`)));
  });
  return { url, child };
}

function existsOr(path: string, fallback: string): string {
  try {
    execFileSync('test', ['-x', path]);
    return path;
  } catch {
    return fallback;
  }
}

const host = (url: string) => new URL(url).host;
const rssMb = (pid: number) =>
  Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)]).toString()) / 1024;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const fmt = (n: number, d = 1) => n.toFixed(d);

function row(name: string, r: LoadResult, floor?: LoadResult): void {
  const ratio = floor ? `  ${fmt(r.rps / floor.rps, 2)}x floor throughput` : '';
  console.log(
    `  ${name.padEnd(32)} ${fmt(r.rps, 0).padStart(6)} req/s  p50 ${fmt(r.p50).padStart(6)} ms  ` +
      `p99 ${fmt(r.p99).padStart(6)} ms  ${r.requests} requests, ${r.errors} errors, ${r.bad} bad bodies${ratio}`,
  );
}

export async function run(): Promise<void> {
  console.log(`\n## Load through nginx (${CONNECTIONS} connections, ${DURATION_S} s per target)`);
  if (!findNginx()) {
    console.log('  skipped: nginx is not installed (Debian: apt-get install nginx-light)');
    return;
  }
  const database = await isolatedPostgresUrl();
  const env = {
    DATABASE_URL: database.url,
    MCP_API_KEYS: KEY,
    RATE_LIMIT_PER_MINUTE: '0',
  };
  const servers: ServerProcess[] = [];
  const echoes: ChildProcess[] = [];
  const proxies: NginxProcess[] = [];
  try {
    // Each process is recorded as soon as it runs, so a failed start still stops the others.
    for (let i = 0; i < 2; i++) servers.push(await startServer(env));
    const echo: { url: string; child: ChildProcess }[] = [];
    for (let i = 0; i < 2; i++) {
      const e = await startEcho(env);
      echo.push(e);
      echoes.push(e.child);
    }
    const product = await startNginx(
      { mcp: servers.map((s) => host(s.url)), n8n: '127.0.0.1:9' },
      { liftRateLimits: true },
    );
    proxies.push(product);
    const floor = await startNginx(
      { mcp: echo.map((e) => host(e.url)), n8n: '127.0.0.1:9' },
      { liftRateLimits: true },
    );
    proxies.push(floor);

    // Warm-up: the report cache, the connection pools and the JIT on both stacks.
    await load(product, ANALYZE, 2);
    await load(floor, ECHO, 2);
    const echoResult = await load(floor, ECHO, DURATION_S);
    const analyzeResult = await load(product, ANALYZE, DURATION_S);
    row(ECHO.name, echoResult);
    row(ANALYZE.name, analyzeResult, echoResult);

    if (SOAK_S > 0) {
      console.log(`\n## Soak: ${SOAK_S} s of cached analyze_crypto through nginx, replicas' resident memory`);
      const samples: { t: number; rss: number }[] = [];
      const started = Date.now();
      const sampler = setInterval(() => {
        const rss = servers.reduce((sum, s) => sum + rssMb(s.child.pid!), 0);
        samples.push({ t: (Date.now() - started) / 1000, rss });
      }, 5000);
      const soak = await load(product, ANALYZE, SOAK_S).finally(() => clearInterval(sampler));
      // Drift: the last minute against the first minute after a 30 s warm-up.
      const first = samples.filter((s) => s.t >= 30 && s.t < 90).map((s) => s.rss);
      const last = samples.filter((s) => s.t >= SOAK_S - 60).map((s) => s.rss);
      const drift = (median(last) / median(first) - 1) * 100;
      row('soak', soak);
      console.log(
        `  resident memory of both replicas: ${fmt(median(first))} MB (first minute after warm-up) -> ` +
          `${fmt(median(last))} MB (last minute): drift ${fmt(drift)} % (target under 10 %)`,
      );
    }
  } finally {
    await Promise.allSettled(proxies.map((p) => p.stop()));
    for (const e of echoes) e.kill('SIGTERM');
    await Promise.allSettled(servers.map((s) => s.stop()));
    await database.drop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
