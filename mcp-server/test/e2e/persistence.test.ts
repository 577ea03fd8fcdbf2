/**
 * The persistence features end to end: real server processes on the real Postgres and Redis, called by
 * a real MCP client. Portfolios belong to an API key; two replicas share portfolios and rate limits;
 * every call lands in the audit log without the key; analyze_crypto archives its answer.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { connectClient, type TestClient } from '../helpers/mcp-client.js';
import { keyId } from '../../src/server/auth.js';

const KEY_A = `key-a-${randomBytes(12).toString('hex')}`;
const KEY_B = `key-b-${randomBytes(12).toString('hex')}`;
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const LIMIT = 6;

describe('persistence over MCP: two replicas on one Postgres and one Redis', () => {
  let replica1: ServerProcess;
  let replica2: ServerProcess;
  let a1: TestClient;
  let a2: TestClient;
  let b1: TestClient;
  let db: pg.Client;
  const portfolioId = `e2e-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    const env = {
      MCP_API_KEYS: `${KEY_A},${KEY_B}`,
      REDIS_URL,
      RATE_LIMIT_PER_MINUTE: String(LIMIT),
    };
    [replica1, replica2] = await Promise.all([startServer(env), startServer(env)]);
    [a1, a2, b1] = await Promise.all([
      connectClient(replica1.url, KEY_A),
      connectClient(replica2.url, KEY_A),
      connectClient(replica1.url, KEY_B),
    ]);
    db = new pg.Client({ connectionString: process.env.E2E_DATABASE_URL });
    await db.connect();
  });
  afterAll(async () => {
    await Promise.allSettled([a1?.close(), a2?.close(), b1?.close()]);
    await Promise.allSettled([replica1?.stop(), replica2?.stop()]);
    await db?.end();
  });

  it('stores a portfolio on one replica and reads it from the other, for its owner only', async () => {
    const created = await a1.call('monitor_portfolio', {
      portfolio_id: portfolioId,
      positions: [
        { symbol: 'BTCUSDT', quantity: 0.25, entry_price: 64000, fees: 8 },
        { symbol: 'ETHUSDT', quantity: 4, entry_price: 3100 },
      ],
      cash: 2500,
    });
    expect(created.isError, created.text).toBe(false);
    expect(created.structured).toMatchObject({
      portfolio: { id: portfolioId, stored: true, mode: 'positions' },
      valuation: { cash: 2500 },
    });

    const read = await a2.call('monitor_portfolio', {
      portfolio_id: portfolioId,
      risk_level: 'conservative',
    });
    expect(read.isError, read.text).toBe(false);
    const positions = read.structured!.positions as { symbol: string; quantity: number }[];
    expect(positions.map((p) => [p.symbol, p.quantity])).toEqual([
      ['BTC/USDT', 0.25],
      ['ETH/USDT', 4],
    ]);
    expect(read.text).toMatch(/VaR95 .* % per 1h/);

    const other = await b1.call('monitor_portfolio', { portfolio_id: portfolioId });
    expect(other.isError).toBe(true);
    expect(other.text).toMatch(/^NOT_FOUND: No portfolio/);

    const rows = await db.query('select owner, id from portfolios where id = $1', [portfolioId]);
    expect(rows.rows).toEqual([{ owner: keyId(KEY_A), id: portfolioId }]);
  });

  it('sizes a position with risk_assessment and rejects bad arguments as tool errors', async () => {
    const ok = await a1.call('risk_assessment', {
      symbol: 'BTCUSDT',
      portfolio_value: 10_000,
      risk_percentage: 1,
      entry_price: 100_000,
      stop_loss: 98_000,
    });
    expect(ok.isError, ok.text).toBe(false);
    expect(ok.structured).toMatchObject({
      risk_amount: 100,
      side: 'long',
      market: { data_source: 'offline' },
    });
    const bad = await a1.call('risk_assessment', { symbol: 'BTCUSDT', portfolio_value: 10, entry_price: 1 });
    expect(bad.isError).toBe(true);
    expect(bad.text).toMatch(/portfolio_value must be at least 100/);
    expect(bad.text).toMatch(/stop_loss/);
  });

  it('archives analyze_crypto answers unless asked not to', async () => {
    const saved = await a1.call('analyze_crypto', { symbol: 'SOLUSDT', timeframe: '4h' });
    expect(saved.isError, saved.text).toBe(false);
    const archive = saved.structured!.archive as { id: string; store: string };
    expect(archive.store).toBe('postgres-jsonb');
    const row = await db.query('select symbol, timeframe, report from analysis_archive where id = $1', [
      archive.id,
    ]);
    expect(row.rows[0]).toMatchObject({ symbol: 'SOL/USDT', timeframe: '4h' });
    expect((row.rows[0].report as { as_of: string }).as_of).toBe(saved.structured!.as_of);

    // The same report asked again (here on the other replica) is archived once, under the same id.
    const again = await a2.call('analyze_crypto', { symbol: 'SOLUSDT', timeframe: '4h' });
    expect(again.structured!.archive).toEqual(archive);
    const count = await db.query(
      "select count(*)::int as n from analysis_archive where symbol = 'SOL/USDT' and timeframe = '4h'",
    );
    expect(count.rows[0].n).toBe(1);

    const unsaved = await a1.call('analyze_crypto', {
      symbol: 'SOLUSDT',
      timeframe: '4h',
      save_analysis: false,
    });
    expect(unsaved.structured!.archive).toBeNull();
  });

  it('records every call in the audit log under the key id, never the key', async () => {
    // Writes happen just after the answer; give them a moment.
    let rows: { tool: string; caller: string; status: string; args: unknown; error: string | null }[] = [];
    for (let i = 0; i < 50 && rows.length < 6; i++) {
      rows = (
        await db.query(
          'select tool, caller, status, args, error from audit_log where caller = any($1) order by id',
          [[keyId(KEY_A), keyId(KEY_B)]],
        )
      ).rows;
      if (rows.length < 6) await new Promise((r) => setTimeout(r, 100));
    }
    expect(rows.map((r) => r.tool)).toEqual(
      expect.arrayContaining(['monitor_portfolio', 'risk_assessment', 'analyze_crypto']),
    );
    const failed = rows.find((r) => r.caller === keyId(KEY_B))!;
    expect(failed).toMatchObject({ tool: 'monitor_portfolio', status: 'error' });
    expect(failed.error).toMatch(/NOT_FOUND/);
    const everything = JSON.stringify(rows);
    expect(everything).not.toContain(KEY_A);
    expect(everything).not.toContain(KEY_B);
  });

  it('shares the rate limit per key and tool across replicas', async () => {
    const args = { symbol: 'ETHUSDT', portfolio_value: 1000, entry_price: 3000, stop_loss: 2900 };
    // Limits count in fixed one-minute windows: start early in one so every call below lands in it.
    const left = 60_000 - (Date.now() % 60_000);
    if (left < 15_000) await new Promise((r) => setTimeout(r, left + 200));
    // Four calls on each replica: neither alone exceeds the limit of 6, together they do.
    const results = [];
    for (let i = 0; i < 8; i++) results.push(await (i % 2 ? a2 : a1).call('risk_assessment', args));
    const limited = results.filter((r) => r.isError);
    expect(limited.length).toBeGreaterThanOrEqual(2);
    expect(results.slice(0, 5).every((r) => !r.isError)).toBe(true);
    expect(limited[0]!.text).toMatch(
      /^RATE_LIMITED: risk_assessment allows 6 calls per minute per API key; try again in \d+ s\./,
    );
    // Another key has its own budget.
    const other = await b1.call('risk_assessment', args);
    expect(other.isError, other.text).toBe(false);
  });

  it('reports the stores on /health to an authorised caller', async () => {
    const res = await fetch(new URL('/health', replica1.origin), {
      headers: { Authorization: `Bearer ${KEY_A}` },
    });
    const body = (await res.json()) as {
      status: string;
      stores: { name: string; backend: string; status: string }[];
    };
    expect(body.status).toBe('ok');
    expect(body.stores).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'database', backend: 'postgres', status: 'ok' }),
        expect.objectContaining({ name: 'cache', backend: 'redis', status: 'ok' }),
      ]),
    );
    const open = (await (await fetch(new URL('/health', replica1.origin))).json()) as Record<string, unknown>;
    expect(open.stores).toBeUndefined();
  });
});
