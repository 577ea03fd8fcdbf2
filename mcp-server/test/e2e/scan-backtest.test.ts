/**
 * market_scanner, detect_opportunities and historical_backtest end to end: a real server process (built,
 * so the worker pools run on real threads) called by the v2 SDK client with an API key. Checks progress
 * notifications, image content, stored runs per key, and the chart route's auth.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { connectClient, type TestClient } from '../helpers/mcp-client.js';

const KEY = `key-e2e-${randomBytes(12).toString('hex')}`;
const OTHER = `key-other-${randomBytes(12).toString('hex')}`;

describe('scanner, opportunities and backtests over MCP', () => {
  let server: ServerProcess;
  let client: TestClient;
  let other: TestClient;

  beforeAll(async () => {
    server = await startServer({ MCP_API_KEYS: `${KEY},${OTHER}` });
    [client, other] = await Promise.all([connectClient(server.url, KEY), connectClient(server.url, OTHER)]);
  });
  afterAll(async () => {
    await Promise.allSettled([client?.close(), other?.close()]);
    await server?.stop();
  });

  it('scans the offline universe on the worker pool and reports progress', async () => {
    const sdk = new Client({ name: 'progress-test', version: '1.0.0' });
    await sdk.connect(
      new StreamableHTTPClientTransport(new URL(server.url), {
        requestInit: { headers: { Authorization: `Bearer ${KEY}` } },
      }),
    );
    const progress: { progress: number; total?: number }[] = [];
    try {
      const res = await sdk.callTool(
        { name: 'market_scanner', arguments: { scan_type: 'all', max_results: 10 } },
        { onprogress: (p) => progress.push(p) },
      );
      expect(res.isError, JSON.stringify(res.content)).toBeFalsy();
      const r = res.structuredContent as {
        data_source: string;
        universe: { considered: number; scanned: number; skipped: number };
        hits: { strength: number; invalidation: { price: number } }[];
        market_conditions: { breadth_above_ema50_pct: number };
        compute: string;
      };
      expect(r.data_source).toBe('offline');
      expect(r.universe.considered).toBe(404);
      expect(r.universe.scanned + r.universe.skipped).toBe(404);
      expect(r.hits.length).toBeGreaterThan(0);
      expect(r.hits.length).toBeLessThanOrEqual(10);
      for (let i = 1; i < r.hits.length; i++)
        expect(r.hits[i - 1]!.strength).toBeGreaterThanOrEqual(r.hits[i]!.strength);
      for (const h of r.hits) expect(h.invalidation.price).toBeGreaterThan(0);
      expect(JSON.stringify(r.compute)).toMatch(/worker/);
      expect(progress.length).toBeGreaterThan(0);
      for (let i = 1; i < progress.length; i++)
        expect(progress[i]!.progress).toBeGreaterThanOrEqual(progress[i - 1]!.progress);
    } finally {
      await sdk.close();
    }
  });

  it('finds opportunities with the analysis engine and rejects a bad threshold', async () => {
    const ideas = await client.call('detect_opportunities', { confidence_threshold: 30, max_results: 3 });
    expect(ideas.isError, ideas.text).toBe(false);
    const list = (ideas.structured as { ideas: { action: string; confidence: number }[] }).ideas;
    expect(list.length).toBeGreaterThan(0);
    for (const idea of list) {
      expect(['BUY', 'SELL']).toContain(idea.action);
      expect(idea.confidence).toBeGreaterThanOrEqual(30);
    }
    const bad = await client.call('detect_opportunities', { confidence_threshold: 150 });
    expect(bad.isError).toBe(true);
    expect(bad.text).toMatch(/confidence_threshold/);
  });

  it('runs a backtest with PNG charts, stores it for its key only, and serves the charts with auth', async () => {
    const run = await client.call('historical_backtest', {
      symbol: 'BTCUSDT',
      timeframe: '4h',
      strategy: 'ema_cross',
      params: { fast: 12, slow: 26 },
      start: '2025-01-01',
      end: '2025-12-31',
      charts: 'png',
    });
    expect(run.isError, run.text).toBe(false);
    const r = run.structured as {
      run_id: string;
      metrics: { trades: number; buy_and_hold_return_pct?: number };
      charts: { equity_url: string; price_url: string };
      data_source: string;
    };
    expect(r.data_source).toBe('offline');
    expect(r.metrics.trades).toBeGreaterThan(0);

    // The images ride along as MCP image content.
    const sdk = new Client({ name: 'image-test', version: '1.0.0' });
    await sdk.connect(
      new StreamableHTTPClientTransport(new URL(server.url), {
        requestInit: { headers: { Authorization: `Bearer ${KEY}` } },
      }),
    );
    try {
      const res = await sdk.callTool({
        name: 'historical_backtest',
        arguments: { run_id: r.run_id, charts: 'png' },
      });
      const images = (res.content as { type: string; mimeType?: string; data?: string }[]).filter(
        (c) => c.type === 'image',
      );
      expect(images.map((i) => i.mimeType)).toEqual(['image/png', 'image/png']);
      expect(Buffer.from(images[0]!.data!, 'base64').subarray(1, 4).toString()).toBe('PNG');
    } finally {
      await sdk.close();
    }

    // Fetching returns the stored run; another key cannot.
    const again = await client.call('historical_backtest', { run_id: r.run_id });
    expect((again.structured as { metrics: unknown }).metrics).toEqual(r.metrics);
    const foreign = await other.call('historical_backtest', { run_id: r.run_id });
    expect(foreign.isError).toBe(true);
    expect(foreign.text).toMatch(/NOT_FOUND/);

    // Charts over HTTP: the owner's key gets a PNG, no key gets 401, another key 404.
    const url = new URL(r.charts.equity_url, server.origin);
    const png = await fetch(url, { headers: { Authorization: `Bearer ${KEY}` } });
    expect(png.status).toBe(200);
    expect(png.headers.get('content-type')).toMatch(/image\/png/);
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { Authorization: `Bearer ${OTHER}` } })).status).toBe(404);
    const svg = await fetch(new URL(r.charts.price_url.replace(/\.png$/, '.svg'), server.origin), {
      headers: { Authorization: `Bearer ${KEY}` },
    });
    expect(svg.status).toBe(200);
    expect(await svg.text()).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  });

  it('names the available range and the strategies when a request cannot run', async () => {
    const early = await client.call('historical_backtest', {
      symbol: 'BTCUSDT',
      strategy: 'ema_cross',
      start: '2015-01-01',
      end: '2015-06-01',
    });
    expect(early.isError).toBe(true);
    expect(early.text).toMatch(/INVALID_ARGUMENT: .*20\d\d-\d\d-\d\d/);
    const unknown = await client.call('historical_backtest', { symbol: 'BTCUSDT', strategy: 'moonshot' });
    expect(unknown.isError).toBe(true);
    expect(unknown.text).toMatch(/ema_cross/);
    const badSpec = await client.call('historical_backtest', {
      symbol: 'BTCUSDT',
      strategy: 'rules',
      spec: { entry_long: { left: 'emaa(20)', op: '>', right: 'close' } },
    });
    expect(badSpec.isError).toBe(true);
    expect(badSpec.text).toMatch(/emaa\(20\)/);
  });

  it('validates a walk-forward out of sample', async () => {
    const wf = await client.call('historical_backtest', {
      symbol: 'ETHUSDT',
      timeframe: '1h',
      strategy: 'sma_cross',
      mode: 'walk_forward',
      windows: 3,
      param_grid: { fast: [10, 20], slow: [50, 100] },
      start: '2025-01-01',
      end: '2025-12-31',
    });
    expect(wf.isError, wf.text).toBe(false);
    type Span = { start: string; end: string; bars: number };
    const windows = (wf.structured as { windows: { train: Span; test: Span }[] }).windows;
    expect(windows).toHaveLength(3);
    for (const w of windows) {
      expect(Date.parse(w.test.start)).toBeGreaterThanOrEqual(Date.parse(w.train.end));
      expect(w.test.bars).toBeGreaterThan(0);
    }
  });
});
