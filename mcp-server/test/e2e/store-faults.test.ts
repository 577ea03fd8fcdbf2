/**
 * A running server whose Postgres and Redis go away and come back. Each test owns a private Postgres
 * and Redis server (the machine's real binaries) so stopping them cannot disturb other test files.
 *
 * - Postgres down: tools that need it answer STORE_UNAVAILABLE, analysis still answers (not archived,
 *   with a note), health says degraded; when Postgres returns the same process uses it again.
 * - Redis down: the in-process cache takes over and health says degraded; when Redis returns it is used
 *   again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { connectClient, type TestClient } from '../helpers/mcp-client.js';
import { startPrivatePostgres, type PrivatePostgres } from '../helpers/postgres.js';
import { rawClient, startPrivateRedis, type PrivateRedis } from '../helpers/redis.js';

type Health = {
  status: string;
  stores: { name: string; backend: string; status: string; detail?: string }[];
};

describe('store outages while the server runs', () => {
  let postgres: PrivatePostgres;
  let redis: PrivateRedis;
  let server: ServerProcess;
  let client: TestClient;

  const health = async (): Promise<Health> =>
    (await (await fetch(new URL('/health', server.origin))).json()) as Health;
  const store = async (name: string) => (await health()).stores.find((s) => s.name === name)!;
  async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
    for (let i = 0; i < 100; i++) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 150));
    }
    throw new Error(`timed out waiting for ${what}\n${server.stderr().slice(-3000)}`);
  }
  const portfolio = {
    portfolio_id: 'faults',
    positions: [{ symbol: 'BTCUSDT', quantity: 1, entry_price: 50000 }],
  };

  beforeAll(async () => {
    [postgres, redis] = await Promise.all([startPrivatePostgres(), startPrivateRedis()]);
    server = await startServer({ DATABASE_URL: postgres.url, REDIS_URL: redis.url });
    client = await connectClient(server.url);
  });
  afterAll(async () => {
    await client?.close();
    await server?.stop();
    await Promise.allSettled([postgres?.destroy(), redis?.destroy()]);
  });

  it('keeps serving through a Postgres outage and reconnects on its own', async () => {
    const before = await client.call('monitor_portfolio', portfolio);
    expect(before.isError, before.text).toBe(false);

    await postgres.stop();
    const down = await client.call('monitor_portfolio', { portfolio_id: 'faults' });
    expect(down.isError).toBe(true);
    expect(down.text).toMatch(/^STORE_UNAVAILABLE: The database is unreachable/);
    expect(down.text).not.toContain(postgres.url);

    const analysis = await client.call('analyze_crypto', { symbol: 'ETHUSDT' });
    expect(analysis.isError, analysis.text).toBe(false);
    expect(analysis.structured!.archive).toBeNull();
    expect((analysis.structured!.notes as string[]).join(' ')).toMatch(
      /Not archived: The database is unreachable/,
    );
    const sizing = await client.call('risk_assessment', {
      symbol: 'ETHUSDT',
      portfolio_value: 1000,
      entry_price: 3000,
      stop_loss: 2900,
    });
    expect(sizing.isError, sizing.text).toBe(false);
    expect(await store('database')).toMatchObject({ backend: 'postgres', status: 'down' });
    expect((await health()).status).toBe('degraded');

    await postgres.start();
    await eventually(async () => (await store('database')).status === 'ok', 'the database to be back');
    const after = await client.call('monitor_portfolio', { portfolio_id: 'faults' });
    expect(after.isError, after.text).toBe(false);
    expect(after.structured).toMatchObject({ portfolio: { id: 'faults', stored: true } });
    expect(server.child.exitCode).toBeNull();
  });

  it('falls back to the in-process cache while Redis is down and returns to Redis', async () => {
    expect(await store('cache')).toMatchObject({ backend: 'redis', status: 'ok' });
    await redis.stop();
    await eventually(async () => (await store('cache')).status === 'degraded', 'the cache to degrade');
    const during = await client.call('analyze_crypto', { symbol: 'LTCUSDT', save_analysis: false });
    expect(during.isError, during.text).toBe(false);

    await redis.start();
    await eventually(async () => (await store('cache')).status === 'ok', 'Redis to be used again');
    const again = await client.call('analyze_crypto', { symbol: 'XRPUSDT', save_analysis: false });
    expect(again.isError, again.text).toBe(false);
    // The new entries were written to Redis itself.
    const direct = rawClient(redis.url);
    try {
      const keys = await direct.keys(`${process.env.E2E_REDIS_KEY_PREFIX ?? 'crypto-mcp:'}cache:*`);
      expect(keys.some((k) => k.includes('XRP/USDT'))).toBe(true);
    } finally {
      direct.disconnect();
    }
    expect(server.child.exitCode).toBeNull();
  });
});
