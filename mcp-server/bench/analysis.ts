/**
 * analyze_crypto speed on 500 cached candles: the report computation in-process (memo bypassed, so
 * every call does the full work), the service call as tools see it (higher timeframe off), and the
 * full MCP round trip over Streamable HTTP on loopback against a separate server process, with a
 * unique JSON-RPC id per request and every body checked.
 */
import { buildReport } from '../src/core/report/index.js';
import { MarketData } from '../src/market/index.js';
import { AnalysisService } from '../src/services/analysis.js';
import { startServer } from '../test/helpers/server-process.js';
import { isolatedPostgresUrl } from '../test/helpers/postgres.js';
import { fmt, summarize, time, timeAsync, type Timing } from './harness.js';

const row = (t: Timing) =>
  console.log(
    `  ${t.name.padEnd(58)} p50 ${fmt(t.p50Ms).padStart(9)}  p95 ${fmt(t.p95Ms).padStart(9)}  p99 ${fmt(t.p99Ms).padStart(9)}  (n=${t.iterations})`,
  );

export async function run(): Promise<void> {
  console.log('\n== analyze_crypto, BTC/USDT 1h, 500 cached candles (offline snapshot) ==');
  const market = new MarketData({ mode: 'offline', exchange: 'binance' });
  const request = { symbol: 'BTCUSDT', timeframe: '1h' as const, limit: 500 };
  const series = await market.getCandles(request);
  row(
    time('core buildReport (indicators + SMC + recommendation)', () => buildReport(series.candles), 500, 50),
  );

  // A fresh service per call defeats the per-series memo: full report work on cached candles.
  row(
    await timeAsync(
      'service analyze, report recomputed each call',
      () => new AnalysisService(market).analyze({ ...request, higher_timeframe: 'none' }),
      500,
      50,
    ),
  );
  const svc = new AnalysisService(market);
  row(
    await timeAsync(
      'service analyze, memoised report (unchanged candles)',
      () => svc.analyze({ ...request, higher_timeframe: 'none' }),
      2000,
      50,
    ),
  );

  // The server persists its audit log to a throwaway schema of the local Postgres, as in production;
  // the rate limit is off so the loop measures the server, not the limiter's refusals.
  const database = await isolatedPostgresUrl();
  const server = await startServer({ DATABASE_URL: database.url, RATE_LIMIT_PER_MINUTE: '0' });
  try {
    const samples: number[] = [];
    let bad = 0;
    const call = async (id: number) => {
      const res = await fetch(server.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2026-07-28',
          'mcp-method': 'tools/call',
          'mcp-name': 'analyze_crypto',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id,
          method: 'tools/call',
          params: {
            name: 'analyze_crypto',
            arguments: { symbol: 'BTCUSDT', timeframe: '1h', limit: 500, higher_timeframe: 'none' },
            _meta: {
              'io.modelcontextprotocol/protocolVersion': '2026-07-28',
              'io.modelcontextprotocol/clientCapabilities': {},
            },
          },
        }),
      });
      const body = (await res.json()) as { id: number; result?: { structuredContent?: { symbol?: string } } };
      if (res.status !== 200 || body.id !== id || body.result?.structuredContent?.symbol !== 'BTC/USDT')
        bad++;
    };
    for (let i = 0; i < 100; i++) await call(i);
    for (let i = 0; i < 1000; i++) {
      const t0 = process.hrtime.bigint();
      await call(1000 + i);
      samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    row(summarize('MCP tools/call over HTTP loopback (2026-07-28, sequential)', samples));
    console.log(`  bodies verified: ${samples.length + 100 - bad}/${samples.length + 100}, bad: ${bad}`);
  } finally {
    await server.stop();
    await database.drop();
  }
}
