/**
 * Operations endpoints on a real server process with Postgres (its own schema) and Redis (its own key
 * prefix): /metrics read by a strict exposition parser after real tool calls over REST and MCP, with the
 * counters, histograms and cache lookups checked against the calls made; /health/infrastructure with
 * measured dependencies and queue depths seeded in Postgres and BullMQ; both behind the API key (and
 * /metrics also behind METRICS_TOKEN); and a body the JSON parser refuses answered as JSON and never
 * written raw to stderr. Then the exchange in live mode against the fixture exchange: errors counted by
 * kind, and a probe that reports the exchange down when it is gone.
 */
import { randomUUID } from 'node:crypto';
import { get as httpGet } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { connectClient, type TestClient } from '../helpers/mcp-client.js';
import { isolatedPostgresUrl } from '../helpers/postgres.js';
import { fireAlert } from '../helpers/alert-fixtures.js';
import { deleteKeys, rawClient, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { startFixtureExchange, type FixtureExchange } from '../helpers/fixture-exchange.js';
import { findSample, parseExposition, sampleValue, type MetricFamily } from '../helpers/prometheus.js';
import { PgDatabase } from '../../src/store/pg-database.js';
import { SqlAlertStore } from '../../src/store/alert-store.js';

const KEY = `obs-key-${randomUUID()}`;
const METRICS_TOKEN = `obs-scrape-${randomUUID()}`;
const PHONE_DIGITS = '4915112345678';

type Dependency = {
  status: string;
  required: boolean;
  backend: string;
  latency_ms: number | null;
  detail?: string;
};
type Infrastructure = {
  status: string;
  version: string;
  dependencies: Record<'database' | 'redis' | 'mongodb' | 'exchange', Dependency>;
  queues: {
    outbox: { status: string; counts?: { pending: number; sending: number; failed: number } };
    alert_jobs: { status: string; queue: string; counts?: Record<string, number> };
    tool_jobs: { status: string; queue: string; counts?: Record<string, number>; workers: number | null };
  };
};

async function get(origin: string, path: string, token?: string) {
  return fetch(`${origin}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
}

async function metrics(origin: string, token = KEY): Promise<Map<string, MetricFamily>> {
  const res = await get(origin, '/metrics', token);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(await res.text());
}

async function infrastructure(
  origin: string,
  token?: string,
): Promise<{ status: number; body: Infrastructure }> {
  const res = await get(origin, '/health/infrastructure', token);
  return { status: res.status, body: (await res.json()) as Infrastructure };
}

async function rest(origin: string, tool: string, args: unknown) {
  return fetch(`${origin}/api/v1/tools/${tool}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body: JSON.stringify(args),
  });
}

describe('metrics and infrastructure health with keys, Postgres and Redis', () => {
  let server: ServerProcess;
  let client: TestClient;
  let db: PgDatabase;
  let dropSchema: () => Promise<void>;
  const prefix = uniquePrefix('obs');

  beforeAll(async () => {
    const schema = await isolatedPostgresUrl();
    dropSchema = schema.drop;
    db = new PgDatabase({ connectionString: schema.url });
    server = await startServer({
      DATABASE_URL: schema.url,
      REDIS_URL: SHARED_REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      MCP_API_KEYS: KEY,
      METRICS_TOKEN,
      RATE_LIMIT_PER_MINUTE: '0',
    });
    client = await connectClient(server.url, KEY);
  });
  afterAll(async () => {
    await client?.close();
    await server?.stop();
    await db?.close();
    await dropSchema?.();
    const redis = rawClient();
    try {
      await deleteKeys(redis, prefix);
    } finally {
      redis.disconnect();
    }
  });

  it('needs the API key on both endpoints; METRICS_TOKEN opens /metrics only', async () => {
    expect((await get(server.origin, '/health')).status).toBe(200); // liveness stays public
    for (const path of ['/metrics', '/health/infrastructure']) {
      expect((await get(server.origin, path)).status, path).toBe(401);
      expect((await get(server.origin, path, 'not-a-key-0123456789')).status, path).toBe(401);
      expect((await get(server.origin, path, KEY)).status, path).toBe(200);
    }
    expect((await get(server.origin, '/metrics', METRICS_TOKEN)).status).toBe(200);
    expect((await get(server.origin, '/health/infrastructure', METRICS_TOKEN)).status).toBe(401);
    const tool = await fetch(`${server.origin}/api/v1/tools`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    expect(tool.status).toBe(401);
  });

  it('serves METRICS_TOKEN /metrics under any Host (a replica scraped by its address), nothing else', async () => {
    // Prometheus finds each replica's address through Docker's DNS and sends it as Host, which no Host
    // allow-list can name. Only a scrape with the token gets past that check.
    const byAddress = (path: string, token: string) =>
      new Promise<number>((resolve, reject) => {
        const { hostname, port } = new URL(server.origin);
        httpGet(
          {
            hostname,
            port,
            path,
            headers: { host: '172.20.0.5:8080', authorization: `Bearer ${token}` },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        ).once('error', reject);
      });
    expect(await byAddress('/metrics', METRICS_TOKEN)).toBe(200);
    expect(await byAddress('/metrics', KEY)).toBe(403);
    expect(await byAddress('/metrics', 'not-the-token-0123456789')).toBe(403);
    expect(await byAddress('/health/infrastructure', METRICS_TOKEN)).toBe(403);
    expect(await byAddress('/api/v1/tools', KEY)).toBe(403);
  });

  it('counts REST and MCP tool calls with latency histograms, outcomes and report cache hits', async () => {
    const args = { symbol: 'ADAUSDT', timeframe: '4h', save_analysis: false };
    const labels = (transport: string, outcome: string, tool = 'analyze_crypto') => ({
      tool,
      transport,
      outcome,
    });
    const before = await metrics(server.origin);

    expect((await rest(server.origin, 'analyze_crypto', args)).status).toBe(200);
    expect((await rest(server.origin, 'analyze_crypto', args)).status).toBe(200);
    const viaMcp = await client.call('analyze_crypto', args);
    expect(viaMcp.isError, viaMcp.text).toBe(false);
    // The same candles three times: one report built, two served from the cache.
    const cached = await metrics(server.origin);
    const cacheDelta = (l: Record<string, string>) =>
      sampleValue(cached, 'crypto_mcp_cache_requests_total', l) -
      sampleValue(before, 'crypto_mcp_cache_requests_total', l);
    expect(cacheDelta({ cache: 'report', result: 'miss' })).toBe(1);
    expect(cacheDelta({ cache: 'report', result: 'hit' })).toBe(2);
    expect(cacheDelta({ cache: 'market', result: 'miss' })).toBeGreaterThanOrEqual(1);
    expect(cacheDelta({ cache: 'market', result: 'hit' })).toBeGreaterThanOrEqual(2);

    const bad = await rest(server.origin, 'analyze_crypto', { symbol: 'ADAUSDT', timeframe: '7x' });
    expect(bad.status).toBe(400);
    const sizing = await client.call('risk_assessment', {
      symbol: 'ADAUSDT',
      portfolio_value: 10_000,
      risk_percentage: 1,
      entry_price: 100,
      stop_loss: 95,
    });
    expect(sizing.isError, sizing.text).toBe(false);

    const after = await metrics(server.origin);
    const delta = (name: string, l: Record<string, string>) =>
      sampleValue(after, name, l) - sampleValue(before, name, l);
    const calls = 'crypto_mcp_tool_calls_total';
    const count = 'crypto_mcp_tool_duration_seconds_count';
    expect(delta(calls, labels('rest', 'ok'))).toBe(2);
    expect(delta(calls, labels('mcp', 'ok'))).toBe(1);
    expect(delta(calls, labels('rest', 'invalid_argument'))).toBe(1);
    expect(delta(calls, labels('mcp', 'ok', 'risk_assessment'))).toBe(1);
    // Every call is one observation of the same series in the histogram.
    for (const l of [labels('rest', 'ok'), labels('mcp', 'ok'), labels('rest', 'invalid_argument')]) {
      expect(delta(count, l)).toBe(delta(calls, l));
      expect(sampleValue(after, count, l)).toBe(sampleValue(after, calls, l));
      expect(sampleValue(after, 'crypto_mcp_tool_duration_seconds_bucket', { ...l, le: '+Inf' })).toBe(
        sampleValue(after, calls, l),
      );
      expect(Number.isFinite(sampleValue(after, 'crypto_mcp_tool_duration_seconds_sum', l))).toBe(true);
    }
    expect(after.get('crypto_mcp_build_info')!.samples).toEqual([
      { name: 'crypto_mcp_build_info', labels: { version: expect.any(String) }, value: 1 },
    ]);
    expect(sampleValue(after, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(sampleValue(after, 'process_uptime_seconds')).toBeGreaterThan(0);
  });

  it('reports each dependency measured, and the outbox and BullMQ depths', async () => {
    // Three firings waiting in the outbox (no delivery channel is configured, so nothing sends them)...
    const store = new SqlAlertStore(db);
    for (let i = 0; i < 3; i++) {
      await fireAlert(store, {
        owner: 'obs',
        channel: { type: 'webhook', url: 'https://hooks.example.com/obs' },
        body: 'm',
      });
    }
    // ...and jobs in the alert queue under the server's prefix: two waiting, one delayed.
    const queue = new Queue('alert-outbox', {
      connection: {
        host: new URL(SHARED_REDIS_URL).hostname,
        port: Number(new URL(SHARED_REDIS_URL).port || 6379),
      },
      prefix: `${prefix}bull`,
    });
    try {
      await queue.add('send', { id: 'a' });
      await queue.add('send', { id: 'b' });
      await queue.add('send', { id: 'c' }, { delay: 3_600_000 });
    } finally {
      await queue.close();
    }

    const { status, body } = await infrastructure(server.origin, KEY);
    expect(status).toBe(200);
    expect(body.status).toBe('ok');
    const { database, redis, mongodb, exchange } = body.dependencies;
    expect(database).toMatchObject({ status: 'ok', required: true, backend: 'postgres' });
    expect(database.latency_ms).toBeTypeOf('number');
    expect(redis).toMatchObject({ status: 'ok', required: false, backend: 'redis' });
    expect(redis.latency_ms).toBeTypeOf('number');
    expect(mongodb).toMatchObject({ status: 'disabled', backend: 'postgres-jsonb', latency_ms: null });
    expect(exchange).toMatchObject({
      status: 'disabled',
      mode: 'offline',
      latency_ms: null,
      required: false,
    });
    expect(body.queues.outbox).toMatchObject({ status: 'ok', counts: { pending: 3, sending: 0, failed: 0 } });
    expect(body.queues.alert_jobs).toMatchObject({
      status: 'ok',
      queue: 'alert-outbox',
      counts: { waiting: 2, active: 0, delayed: 1, failed: 0 },
    });
    expect(body.queues.tool_jobs).toMatchObject({
      status: 'ok',
      queue: 'tool-jobs',
      counts: { waiting: 0, active: 0, delayed: 0, failed: 0 },
      workers: 0,
    });
    const text = JSON.stringify(body);
    for (const secret of ['postgres://', 'redis://', '127.0.0.1', KEY, prefix])
      expect(text).not.toContain(secret);

    const f = await metrics(server.origin, METRICS_TOKEN);
    expect(sampleValue(f, 'crypto_mcp_outbox_messages', { status: 'pending' })).toBe(3);
    expect(sampleValue(f, 'crypto_mcp_queue_jobs', { queue: 'alert-outbox', state: 'waiting' })).toBe(2);
    expect(sampleValue(f, 'crypto_mcp_queue_jobs', { queue: 'alert-outbox', state: 'delayed' })).toBe(1);
    expect(findSample(f, 'crypto_mcp_queue_jobs', { queue: 'tool-jobs', state: 'waiting' })?.value).toBe(0);
    expect(findSample(f, 'crypto_mcp_tool_job_workers')?.value).toBe(0);
  });

  it('answers unreadable bodies as JSON and keeps them, numbers and tokens out of the log', async () => {
    const secret = `tok-${randomUUID()}`;
    const body = `{"to":"whatsapp:+${PHONE_DIGITS}","token":"${secret}"`;
    const mcp = await fetch(server.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${KEY}`,
      },
      body,
    });
    expect(mcp.status).toBe(400);
    expect(await mcp.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } });
    const other = await fetch(`${server.origin}/webhooks/elsewhere`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(other.status).toBe(400);
    expect(await other.json()).toMatchObject({ error: 'invalid_request' });
    // A tool call whose arguments hold a number and a token: the audit keeps neither.
    const create = await rest(server.origin, 'alert_manager', {
      action: 'create',
      symbol: 'BTCUSDT',
      condition: 'price > 100000',
      phone_number: `+${PHONE_DIGITS}`,
      webhook_url: `https://hooks.example.com/x?token=${secret}&to=%2B${PHONE_DIGITS}`,
    });
    expect(create.status).toBeGreaterThanOrEqual(200);
    await new Promise((r) => setTimeout(r, 300)); // the audit is written in the background
    const audit = await db.query<{ args: unknown }>(
      `select args from audit_log where tool = 'alert_manager' order by id desc limit 1`,
    );
    expect(audit).toHaveLength(1);
    const stored = JSON.stringify(audit[0]!.args);
    expect(stored).toContain('hooks.example.com');
    expect(stored).not.toContain(secret);
    expect(stored).not.toContain(PHONE_DIGITS);

    const log = server.stderr();
    expect(log).not.toContain(PHONE_DIGITS);
    expect(log).not.toContain(secret);
    expect(log).not.toContain(KEY);
    // Every line on stderr is one JSON object: nothing bypassed the logger.
    for (const line of log.split('\n').filter(Boolean)) expect(() => JSON.parse(line), line).not.toThrow();
  });
});

describe('live exchange: errors counted by kind, probe reports reachability', () => {
  let exchange: FixtureExchange;
  let server: ServerProcess;
  beforeAll(async () => {
    exchange = await startFixtureExchange();
    server = await startServer({ DATA_SOURCE: 'exchange', EXCHANGE_API_URL: exchange.baseUrl });
  });
  afterAll(async () => {
    await server?.stop();
    await exchange?.close();
  });

  it('measures the exchange, counts a failed request, and says down (503) once it is gone', async () => {
    const up = await infrastructure(server.origin);
    expect(up.status).toBe(200);
    expect(up.body.dependencies.exchange).toMatchObject({ status: 'ok', required: true, backend: 'binance' });
    expect(up.body.dependencies.exchange.latency_ms).toBeTypeOf('number');
    expect(exchange.requests.some((p) => p.startsWith('/api/v3/time'))).toBe(true);

    const before = await metrics(server.origin);
    // Every attempt (the first and its three retries) answered 503: the call fails as unavailable.
    exchange.inject({ kind: 'status', status: 503, times: 4, path: /klines/ });
    const failed = await rest(server.origin, 'analyze_crypto', { symbol: 'BTCUSDT', timeframe: '1h' });
    expect(failed.status).toBe(503);
    const after = await metrics(server.origin);
    const errors = (f: Map<string, MetricFamily>) =>
      sampleValue(f, 'crypto_mcp_exchange_errors_total', { exchange: 'binance', kind: 'network' });
    expect(errors(after) - errors(before)).toBe(1);
    const calls = { tool: 'analyze_crypto', transport: 'rest', outcome: 'exchange_unavailable' };
    expect(
      sampleValue(after, 'crypto_mcp_tool_calls_total', calls) -
        sampleValue(before, 'crypto_mcp_tool_calls_total', calls),
    ).toBe(1);

    await exchange.close();
    // Probes are reused for a few seconds: wait for a fresh one.
    let last: Awaited<ReturnType<typeof infrastructure>> | undefined;
    for (let i = 0; i < 60; i++) {
      last = await infrastructure(server.origin);
      if (last.body.dependencies.exchange.status === 'down') break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(last!.status).toBe(503);
    expect(last!.body.status).toBe('down');
    expect(last!.body.dependencies.exchange).toMatchObject({
      status: 'down',
      required: true,
      latency_ms: null,
    });
    expect(last!.body.dependencies.exchange.detail).not.toMatch(/127\.0\.0\.1|https?:/);
    expect(server.child.exitCode).toBeNull();
  });
});
