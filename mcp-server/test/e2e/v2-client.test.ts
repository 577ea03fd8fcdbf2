/** The v2 TypeScript SDK client pinned to the stateless 2026-07-28 era, against the real server process. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { expectCompleteAnalysis } from '../helpers/analysis-assertions.js';

describe('v2 SDK client, modern era (2026-07-28) over HTTP', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('discovers the server and calls analyze_crypto with structured content', async () => {
    const client = new Client(
      { name: 'v2-modern-test', version: '1.0.0' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    await client.connect(new StreamableHTTPClientTransport(new URL(server.url)));
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual([
        'analyze_crypto',
        'market_scanner',
        'detect_opportunities',
        'monitor_portfolio',
        'risk_assessment',
        'alert_manager',
        'historical_backtest',
      ]);
      const res = await client.callTool({
        name: 'analyze_crypto',
        arguments: { symbol: 'btc-usdt', timeframe: '4h', comparison_symbol: 'ETH/USDT', limit: 300 },
      });
      expect(res.isError).toBeFalsy();
      const r = expectCompleteAnalysis(res.structuredContent, {
        symbol: 'BTC/USDT',
        timeframe: '4h',
        candles: 300,
      });
      expect(r.comparison?.symbol).toBe('ETH/USDT');
      expect(r.comparison!.correlation).toBeGreaterThan(0.3);
      expect(r.confluence?.timeframe).toBe('1d');

      const bad = await client.callTool({
        name: 'analyze_crypto',
        arguments: { symbol: 'BTCUSDT', limit: 5 },
      });
      expect(bad.isError).toBe(true);
      expect(JSON.stringify(bad.content)).toMatch(/limit must be at least 100/);
    } finally {
      await client.close();
    }
  });
});
