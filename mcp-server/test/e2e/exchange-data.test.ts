/**
 * The server process on live exchange data: the real ccxt client inside `crypto-mcp http` talks to
 * the local Binance-compatible fixture exchange, and in auto mode falls back to the snapshot when the
 * exchange cannot be reached.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startFixtureExchange } from '../helpers/fixture-exchange.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { expectCompleteAnalysis } from '../helpers/analysis-assertions.js';

async function analyze(server: ServerProcess, args: Record<string, unknown>) {
  const client = new Client({ name: 'exchange-e2e', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(server.url)));
  try {
    return await client.callTool({ name: 'analyze_crypto', arguments: args });
  } finally {
    await client.close();
  }
}

describe('analyze_crypto on exchange data (ccxt against the fixture exchange)', () => {
  let exchange: Awaited<ReturnType<typeof startFixtureExchange>>;
  let server: ServerProcess;
  beforeAll(async () => {
    exchange = await startFixtureExchange();
    server = await startServer({ DATA_SOURCE: 'exchange', EXCHANGE_API_URL: exchange.baseUrl });
  });
  afterAll(async () => {
    await server?.stop();
    await exchange?.close();
  });

  it('analyses exchange candles, drops the forming candle and dates the answer by the last closed one', async () => {
    const res = await analyze(server, { symbol: 'BTC/USDT', timeframe: '1h', limit: 200 });
    expect(res.isError, JSON.stringify(res.content)).toBeFalsy();
    const r = expectCompleteAnalysis(res.structuredContent, {
      symbol: 'BTC/USDT',
      timeframe: '1h',
      candles: 200,
    });
    expect(r.data_source).toBe('exchange');
    expect(r.exchange).toBe('binance');
    // The fixture's clock is 30 minutes into BTC's last hour: that candle is still forming.
    const lastClosedEnd = Math.floor(exchange.now / 3_600_000) * 3_600_000;
    expect(Date.parse(r.as_of)).toBe(lastClosedEnd);
    expect(exchange.requests.some((p) => p.includes('/klines'))).toBe(true);
  });

  it('retries through transient 503s', async () => {
    exchange.inject({ kind: 'status', status: 503, times: 2, path: /klines/ });
    const res = await analyze(server, {
      symbol: 'ETHUSDT',
      timeframe: '4h',
      limit: 150,
      higher_timeframe: 'none',
    });
    expect(res.isError, JSON.stringify(res.content)).toBeFalsy();
    expect((res.structuredContent as { data_source: string }).data_source).toBe('exchange');
  });

  it('names close matches for an unknown symbol', async () => {
    const res = await analyze(server, { symbol: 'ETHUSDTT' });
    expect(res.isError).toBe(true);
    expect(JSON.stringify(res.content)).toMatch(/UNKNOWN_SYMBOL.*ETH\/USDT/);
  });
});

describe('auto mode with an unreachable exchange', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    // A port that was just free: connections to it are refused.
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    server = await startServer({
      DATA_SOURCE: 'auto',
      EXCHANGE_API_URL: `http://127.0.0.1:${port}/api/v3`,
      EXCHANGE_TIMEOUT_MS: '2000',
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('falls back to the bundled snapshot and says so', async () => {
    const res = await analyze(server, { symbol: 'BTCUSDT', timeframe: '1h' });
    expect(res.isError, JSON.stringify(res.content)).toBeFalsy();
    const r = expectCompleteAnalysis(res.structuredContent, {
      symbol: 'BTC/USDT',
      timeframe: '1h',
      candles: 500,
    });
    expect(r.data_source).toBe('offline');
    expect(r.notes.join(' ')).toMatch(/snapshot/);
    const health = (await (await fetch(`${server.origin}/health`)).json()) as {
      data_source: string;
      exchanges: Record<string, { reachable: boolean; reason?: string }>;
    };
    expect(health.data_source).toBe('auto');
    expect(health.exchanges.binance).toMatchObject({
      reachable: false,
      reason: expect.stringMatching(/unreachable/),
    });
  });
});
