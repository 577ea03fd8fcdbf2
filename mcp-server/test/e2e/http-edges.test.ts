/**
 * The HTTP edge seen with plain fetch, independent of any SDK: health, auth, Host/Origin checks, the
 * 2026-07-28 wire (headers, discover, errors) and a legacy initialize.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { startServer, type ServerProcess } from '../helpers/server-process.js';

const KEY = 'test-key-0123456789abcdef';
const MODERN_META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
};

function modern(
  url: string,
  method: string,
  params: Record<string, unknown>,
  name?: string,
  headers: Record<string, string> = {},
) {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': method,
      ...(name ? { 'mcp-name': name } : {}),
      ...headers,
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: { ...params, _meta: MODERN_META } }),
  });
}

/** fetch cannot set Host (a forbidden header), so Host checks go through node:http. */
function postWithHost(url: string, host: string, headers: Record<string, string>): Promise<number> {
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'server/discover',
    params: { _meta: MODERN_META },
  });
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: {
          host,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2026-07-28',
          'mcp-method': 'server/discover',
          ...headers,
        },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}

describe('HTTP edge with API keys', () => {
  let server: ServerProcess;
  const auth = { authorization: `Bearer ${KEY}` };
  beforeAll(async () => {
    server = await startServer({
      MCP_API_KEYS: KEY,
      MCP_ALLOWED_HOSTS: 'mcp.example.com',
      LOG_LEVEL: 'debug',
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('serves liveness on /health without credentials, and the details only with a key', async () => {
    const open = await fetch(`${server.origin}/health`);
    expect(open.status).toBe(200);
    expect(await open.json()).toEqual({ status: 'ok', version: expect.any(String) });
    const detailed = await fetch(`${server.origin}/health`, { headers: auth });
    expect(await detailed.json()).toMatchObject({
      status: 'ok',
      data_source: 'offline',
      exchange: 'binance',
    });
  });

  it('rejects /mcp without a key or with a wrong key', async () => {
    const none = await modern(server.url, 'server/discover', {});
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const wrong = await modern(server.url, 'server/discover', {}, undefined, {
      authorization: 'Bearer nope-nope-nope-nope',
    });
    expect(wrong.status).toBe(401);
  });

  it('answers server/discover and tools/call on the 2026-07-28 wire', async () => {
    const discover = await modern(server.url, 'server/discover', {}, undefined, auth);
    expect(discover.status).toBe(200);
    const d = (await discover.json()) as { result: { supportedVersions: string[] } };
    expect(d.result.supportedVersions).toContain('2026-07-28');

    const call = await modern(
      server.url,
      'tools/call',
      { name: 'analyze_crypto', arguments: { symbol: 'SOLUSDT' } },
      'analyze_crypto',
      auth,
    );
    expect(call.status).toBe(200);
    const body = (await call.json()) as {
      result: { structuredContent: { symbol: string; data_source: string } };
    };
    expect(body.result.structuredContent).toMatchObject({ symbol: 'SOL/USDT', data_source: 'offline' });
  });

  it('answers an unknown tool with -32602 and bad arguments with isError', async () => {
    const unknown = await modern(server.url, 'tools/call', { name: 'nope', arguments: {} }, 'nope', auth);
    expect(((await unknown.json()) as { error: { code: number } }).error.code).toBe(-32602);
    const bad = await modern(
      server.url,
      'tools/call',
      { name: 'analyze_crypto', arguments: { symbol: 42 } },
      'analyze_crypto',
      auth,
    );
    const b = (await bad.json()) as { result: { isError: boolean; content: { text: string }[] } };
    expect(b.result.isError).toBe(true);
    expect(b.result.content[0]!.text).toMatch(/symbol/);
  });

  it('rejects a Mcp-Name header that does not match the body', async () => {
    const res = await modern(
      server.url,
      'tools/call',
      { name: 'analyze_crypto', arguments: { symbol: 'BTCUSDT' } },
      'other',
      auth,
    );
    expect(res.status).toBe(400);
  });

  it('accepts allow-listed Host names and rejects others and foreign Origins with 403', async () => {
    expect(await postWithHost(server.url, 'mcp.example.com', auth)).toBe(200);
    expect(await postWithHost(server.url, 'mcp.example.com:443', auth)).toBe(200);
    expect(await postWithHost(server.url, 'evil.example', auth)).toBe(403);
    const evilOrigin = await modern(server.url, 'server/discover', {}, undefined, {
      ...auth,
      origin: 'http://evil.example',
    });
    expect(evilOrigin.status).toBe(403);
  });

  it('serves a legacy (2025-11-25) initialize on the same endpoint', async () => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...auth },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-11-25',
          capabilities: {},
          clientInfo: { name: 'curl', version: '1' },
        },
      }),
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('"protocolVersion":"2025-11-25"');
  });
});

describe('loopback without keys', () => {
  it('serves local clients and refuses requests that came through a proxy', async () => {
    const server = await startServer();
    try {
      expect((await modern(server.url, 'server/discover', {})).status).toBe(200);
      const proxied = await modern(server.url, 'server/discover', {}, undefined, {
        'x-forwarded-for': '203.0.113.7',
      });
      expect(proxied.status).toBe(403);
      expect(await proxied.text()).toMatch(/MCP_API_KEYS/);
    } finally {
      await server.stop();
    }
  });
});

describe('public bind with keys and no host names', () => {
  it('still rejects browser requests from foreign origins', async () => {
    const server = await startServer({ MCP_HOST: '0.0.0.0', MCP_API_KEYS: KEY });
    try {
      const url = server.url.replace('0.0.0.0', '127.0.0.1');
      const auth = { authorization: `Bearer ${KEY}` };
      expect((await modern(url, 'server/discover', {}, undefined, auth)).status).toBe(200);
      expect(
        (await modern(url, 'server/discover', {}, undefined, { ...auth, origin: 'http://evil.example' }))
          .status,
      ).toBe(403);
    } finally {
      await server.stop();
    }
  });
});

describe('configuration', () => {
  it('refuses to bind beyond loopback without API keys, with a message naming the variable', async () => {
    await expect(startServer({ MCP_HOST: '0.0.0.0' })).rejects.toThrow(/MCP_API_KEYS: required/);
  });
  it('rejects an invalid DATA_SOURCE at start', async () => {
    await expect(startServer({ DATA_SOURCE: 'sometimes' })).rejects.toThrow(/DATA_SOURCE/);
  });
});
