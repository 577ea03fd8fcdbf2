/**
 * /health/infrastructure tells the truth while dependencies go away and come back: a running server on
 * a private Postgres and a private Redis (the machine's real binaries, stopped and restarted by this test
 * only). Redis down: 200, degraded, Redis and the BullMQ queue down, and /metrics leaves the queue depth
 * out instead of repeating an old one. Postgres down: 503, down (the database is required), the outbox
 * depth unreadable. Both recover without a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { startPrivatePostgres, type PrivatePostgres } from '../helpers/postgres.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis.js';
import { parseExposition, type MetricFamily } from '../helpers/prometheus.js';

type Check = { status: string; required?: boolean; latency_ms: number | null; detail?: string };
type Infrastructure = {
  status: string;
  dependencies: Record<'database' | 'redis' | 'mongodb' | 'exchange', Check>;
  queues: {
    outbox: Check & { counts?: object };
    alert_jobs: Check & { counts?: object };
    tool_jobs: Check & { counts?: object; workers: number | null };
  };
};

describe('infrastructure health through outages', () => {
  let postgres: PrivatePostgres;
  let redis: PrivateRedis;
  let server: ServerProcess;

  const check = async (): Promise<{ http: number; body: Infrastructure }> => {
    const res = await fetch(new URL('/health/infrastructure', server.origin));
    return { http: res.status, body: (await res.json()) as Infrastructure };
  };
  const metrics = async (): Promise<Map<string, MetricFamily>> => {
    const res = await fetch(new URL('/metrics', server.origin));
    expect(res.status).toBe(200);
    return parseExposition(await res.text());
  };
  async function eventually(
    what: string,
    done: (c: { http: number; body: Infrastructure }) => boolean,
  ): Promise<{ http: number; body: Infrastructure }> {
    let last: { http: number; body: Infrastructure } | undefined;
    for (let i = 0; i < 100; i++) {
      last = await check();
      if (done(last)) return last;
      await new Promise((r) => setTimeout(r, 150));
    }
    throw new Error(
      `timed out waiting for ${what}: ${JSON.stringify(last?.body)}\n${server.stderr().slice(-2000)}`,
    );
  }
  const secretsIn = (body: unknown) => {
    const text = JSON.stringify(body);
    return [postgres.url, redis.url, '127.0.0.1', 'postgres://', 'redis://'].filter((s) => text.includes(s));
  };

  beforeAll(async () => {
    [postgres, redis] = await Promise.all([startPrivatePostgres(), startPrivateRedis()]);
    server = await startServer({ DATABASE_URL: postgres.url, REDIS_URL: redis.url });
  });
  afterAll(async () => {
    await server?.stop();
    await Promise.allSettled([postgres?.destroy(), redis?.destroy()]);
  });

  it('is ok with both up', async () => {
    const { http, body } = await eventually('all ok', (c) => c.body.status === 'ok');
    expect(http).toBe(200);
    expect(body.dependencies.database).toMatchObject({ status: 'ok', required: true });
    expect(body.dependencies.redis).toMatchObject({ status: 'ok', required: false });
    expect(body.queues.outbox.status).toBe('ok');
    expect(body.queues.alert_jobs.status).toBe('ok');
    expect(body.queues.tool_jobs).toMatchObject({ status: 'ok', workers: 0 });
    const f = await metrics();
    expect(f.get('crypto_mcp_queue_jobs')!.samples.length).toBeGreaterThan(0);
  });

  it('reports Redis down (degraded, still 200) and its return', async () => {
    await redis.stop();
    const down = await eventually('Redis down', (c) => c.body.dependencies.redis.status === 'down');
    expect(down.http).toBe(200);
    expect(down.body.status).toBe('degraded');
    expect(down.body.dependencies.redis.latency_ms).toBeNull();
    expect(down.body.dependencies.redis.detail).toMatch(/Redis/);
    expect(down.body.queues.alert_jobs.status).toBe('down');
    expect(down.body.queues.tool_jobs).toMatchObject({ status: 'down', workers: null });
    expect(down.body.dependencies.database.status).toBe('ok');
    expect(secretsIn(down.body)).toEqual([]);
    // The queue depth cannot be read: left out, not repeated from the last scrape.
    const f = await metrics();
    expect(f.get('crypto_mcp_queue_jobs')!.samples).toEqual([]);
    expect(f.get('crypto_mcp_outbox_messages')!.samples.length).toBe(3);

    await redis.start();
    const back = await eventually('Redis back', (c) => c.body.status === 'ok');
    expect(back.http).toBe(200);
    expect(back.body.dependencies.redis.latency_ms).toBeTypeOf('number');
  });

  it('reports Postgres down (required: 503) and its return', async () => {
    await postgres.stop();
    const down = await eventually('Postgres down', (c) => c.body.dependencies.database.status === 'down');
    expect(down.http).toBe(503);
    expect(down.body.status).toBe('down');
    expect(down.body.dependencies.database).toMatchObject({ required: true, latency_ms: null });
    expect(down.body.dependencies.database.detail).toMatch(/database is unreachable/);
    expect(down.body.queues.outbox.status).toBe('down');
    expect(down.body.dependencies.redis.status).toBe('ok');
    expect(secretsIn(down.body)).toEqual([]);
    const f = await metrics();
    expect(f.get('crypto_mcp_outbox_messages')!.samples).toEqual([]);

    await postgres.start();
    const back = await eventually('Postgres back', (c) => c.body.status === 'ok');
    expect(back.http).toBe(200);
    expect(back.body.dependencies.database.latency_ms).toBeTypeOf('number');
    expect(server.child.exitCode).toBeNull();
  });
});
