/**
 * The v1 TypeScript SDK client (what most 2025-era hosts embed) against the real server process,
 * over Streamable HTTP and over stdio.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CLI, startServer, testEnv, type ServerProcess } from '../helpers/server-process.js';
import { expectCompleteAnalysis, SNAPSHOT_BTC_1H_AS_OF } from '../helpers/analysis-assertions.js';

async function exercise(client: Client): Promise<void> {
  const { tools } = await client.listTools();
  const tool = tools.find((t) => t.name === 'analyze_crypto');
  expect(tool, 'analyze_crypto is listed').toBeDefined();
  expect(tool!.outputSchema).toBeDefined();
  expect(tool!.annotations).toMatchObject({ readOnlyHint: true, openWorldHint: true });
  expect(Object.keys(tool!.inputSchema.properties ?? {})).toEqual(
    expect.arrayContaining(['symbol', 'timeframe', 'comparison_symbol', 'exchange', 'limit']),
  );

  const res = await client.callTool({
    name: 'analyze_crypto',
    arguments: { symbol: 'BTCUSDT', timeframe: '1h' },
  });
  expect(res.isError).toBeFalsy();
  const r = expectCompleteAnalysis(res.structuredContent, {
    symbol: 'BTC/USDT',
    timeframe: '1h',
    candles: 500,
  });
  expect(r.data_source).toBe('offline');
  expect(r.as_of).toBe(SNAPSHOT_BTC_1H_AS_OF);
  const text = (res.content as { type: string; text: string }[])[0]!.text;
  expect(text).toContain('BTC/USDT 1h');

  const bad = await client.callTool({
    name: 'analyze_crypto',
    arguments: { symbol: 'BTC USDT!!', timeframe: '7h' },
  });
  expect(bad.isError).toBe(true);
  const badText = (bad.content as { text: string }[])[0]!.text;
  expect(badText).toMatch(/symbol/);
  expect(badText).toMatch(/timeframe/);

  const unknown = await client.callTool({ name: 'analyze_crypto', arguments: { symbol: 'BTCUSDX' } });
  expect(unknown.isError).toBe(true);
  expect((unknown.content as { text: string }[])[0]!.text).toMatch(/UNKNOWN_SYMBOL.*BTC/);

  await expect(client.callTool({ name: 'no_such_tool', arguments: {} })).rejects.toMatchObject({
    code: -32602,
  });
}

describe('v1 SDK client over Streamable HTTP', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('lists and calls analyze_crypto with structured results and clear errors', async () => {
    const client = new Client({ name: 'v1-http-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(server.url)));
    try {
      await exercise(client);
    } finally {
      await client.close();
    }
  });

  it('reads the analysis resource template and the market brief prompt', async () => {
    const client = new Client({ name: 'v1-http-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(server.url)));
    try {
      const { resourceTemplates } = await client.listResourceTemplates();
      expect(resourceTemplates.map((t) => t.uriTemplate)).toContain(
        'crypto://analysis/{exchange}/{symbol}/{timeframe}',
      );
      const res = await client.readResource({ uri: 'crypto://analysis/binance/ETHUSDT/4h' });
      const first = res.contents[0] as { text: string; mimeType: string };
      expect(first.mimeType).toBe('application/json');
      expectCompleteAnalysis(JSON.parse(first.text), { symbol: 'ETH/USDT', timeframe: '4h' });
      const prompt = await client.getPrompt({
        name: 'market_brief',
        arguments: { symbol: 'SOLUSDT', timeframe: '4h' },
      });
      expect(JSON.stringify(prompt.messages)).toContain('analyze_crypto');
    } finally {
      await client.close();
    }
  });
});

describe('v1 SDK client over stdio', () => {
  it('runs `crypto-mcp stdio` as a subprocess and calls analyze_crypto', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI, 'stdio'],
      env: testEnv(),
      stderr: 'pipe',
    });
    const client = new Client({ name: 'v1-stdio-test', version: '1.0.0' });
    await client.connect(transport);
    try {
      await exercise(client);
    } finally {
      await client.close();
    }
  });
});
