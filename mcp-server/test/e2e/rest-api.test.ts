/**
 * The REST API for n8n end to end on real server processes (offline data, the real Postgres): every
 * tool through POST /api/v1/tools/{name}, the same answer and schemas as MCP, errors with status and
 * fields, API keys and ownership, alert CRUD per key, the shared rate limit, the audit log and the
 * OpenAPI document the server serves.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { connectClient, type TestClient } from '../helpers/mcp-client.js';
import { keyId } from '../../src/server/auth.js';
import { tools } from '../../src/tools/index.js';

const KEY = `key-rest-${randomBytes(12).toString('hex')}`;
const OTHER = `key-rest-other-${randomBytes(12).toString('hex')}`;
const API = '/api/v1';

type Json = Record<string, unknown>;
type Alert = { id: string; status: string; expression: string; channel: { type: string; to: string } };
type AlertAnswer = { action: string; alert: Alert | null; alerts: Alert[] | null; history: unknown[] | null };

/** A REST call; the body is sent as JSON unless it is already a string. */
async function call(
  origin: string,
  method: string,
  path: string,
  opts: { key?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; body: Json }> {
  const res = await fetch(`${origin}${path}`, {
    method,
    headers: {
      ...(opts.body !== undefined && { 'content-type': 'application/json' }),
      ...(opts.key && { authorization: `Bearer ${opts.key}` }),
      ...opts.headers,
    },
    ...(opts.body !== undefined && {
      body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
    }),
  });
  const text = await res.text();
  let body: Json;
  try {
    body = JSON.parse(text) as Json;
  } catch {
    throw new Error(
      `${method} ${path}: ${res.status} answered with something other than JSON: ${text.slice(0, 200)}`,
    );
  }
  return { status: res.status, headers: res.headers, body };
}

/** data_age_ms grows with the clock between two calls; everything else must match. */
function withoutAge(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutAge);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => k !== 'data_age_ms')
      .map(([k, v]) => [k, withoutAge(v)]),
  );
}

describe('REST API with API keys', () => {
  let server: ServerProcess;
  let mcp: TestClient;
  let db: pg.Client;
  const tool = (name: string, body: unknown, key = KEY) =>
    call(server.origin, 'POST', `${API}/tools/${name}`, { key, body });

  beforeAll(async () => {
    server = await startServer({
      MCP_API_KEYS: `${KEY},${OTHER}`,
      WEBHOOK_SIGNING_SECRET: randomBytes(16).toString('hex'),
    });
    mcp = await connectClient(server.url, KEY);
    db = new pg.Client({ connectionString: process.env.E2E_DATABASE_URL });
    await db.connect();
  });
  afterAll(async () => {
    await mcp?.close();
    await server?.stop();
    await db?.end();
  });

  it('needs a key on every /api/v1 path, while /health stays public', async () => {
    for (const [method, path] of [
      ['GET', `${API}/tools`],
      ['GET', `${API}/openapi.json`],
      ['POST', `${API}/tools/analyze_crypto`],
      ['GET', `${API}/alerts`],
    ] as const) {
      const none = await call(server.origin, method, path, method === 'POST' ? { body: {} } : {});
      expect(none.status, path).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const wrong = await call(server.origin, method, path, { key: 'not-a-key-not-a-key' });
      expect(wrong.status, path).toBe(401);
    }
    expect((await call(server.origin, 'GET', '/health')).status).toBe(200);
  });

  it('analyzes BTCUSDT 1h with exactly the structured result MCP gives', async () => {
    const args = { symbol: 'BTCUSDT', timeframe: '1h', save_analysis: false };
    const rest = await tool('analyze_crypto', args);
    expect(rest.status, JSON.stringify(rest.body)).toBe(200);
    expect(rest.body).toMatchObject({
      symbol: 'BTC/USDT',
      timeframe: '1h',
      data_source: 'offline',
      as_of: expect.any(String),
      data_age_ms: expect.any(Number),
    });
    expect(rest.body).not.toHaveProperty('content');
    const viaMcp = await mcp.call('analyze_crypto', args);
    expect(viaMcp.isError, viaMcp.text).toBe(false);
    expect(withoutAge(rest.body)).toEqual(withoutAge(viaMcp.structured));
  });

  it('runs every other tool with minimal arguments, answering what its output schema describes', async () => {
    const portfolio = `rest-${randomBytes(4).toString('hex')}`;
    const calls: [string, Json][] = [
      ['market_scanner', { scan_type: 'volume_surge', max_results: 3 }],
      ['detect_opportunities', { confidence_threshold: 30, max_results: 2 }],
      [
        'monitor_portfolio',
        {
          portfolio_id: portfolio,
          positions: [{ symbol: 'ETHUSDT', quantity: 1, entry_price: 2000 }],
          cash: 50,
        },
      ],
      ['risk_assessment', { symbol: 'ETHUSDT', portfolio_value: 10_000, entry_price: 3000, stop_loss: 2900 }],
      ['alert_manager', { action: 'list' }],
      [
        'historical_backtest',
        { symbol: 'BTCUSDT', timeframe: '4h', strategy: 'ema_cross', start: '2025-06-01', end: '2025-12-31' },
      ],
    ];
    expect(calls.map(([name]) => name).sort()).toEqual(
      tools
        .map((t) => t.name)
        .filter((n) => n !== 'analyze_crypto')
        .sort(),
    );
    for (const [name, args] of calls) {
      const res = await tool(name, args);
      expect(res.status, `${name}: ${JSON.stringify(res.body).slice(0, 300)}`).toBe(200);
      const schema = tools.find((t) => t.name === name)!.output;
      const parsed = schema.safeParse(res.body);
      expect(parsed.success, `${name}: ${parsed.error?.message}`).toBe(true);
    }
    // The portfolio belongs to the key that stored it, whichever transport it uses next.
    const mine = await mcp.call('monitor_portfolio', { portfolio_id: portfolio });
    expect(mine.isError, mine.text).toBe(false);
    expect(mine.structured).toMatchObject({
      portfolio: { id: portfolio, stored: true },
      valuation: { cash: 50 },
    });
    const theirs = await tool('monitor_portfolio', { portfolio_id: portfolio }, OTHER);
    expect(theirs.status).toBe(404);
    expect(theirs.body).toMatchObject({ error: 'NOT_FOUND', message: expect.any(String) });
  });

  it('answers bad arguments with 400 naming the fields, an unknown tool with 404 and the tool names', async () => {
    const bad = await tool('analyze_crypto', { symbol: 42, timeframe: '7h' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('INVALID_ARGUMENT');
    expect(bad.body.message).toMatch(/symbol: /);
    expect(bad.body.message).toMatch(/timeframe: /);
    const threshold = await tool('detect_opportunities', { confidence_threshold: 150 });
    expect(threshold.status).toBe(400);
    expect(threshold.body.message).toMatch(/confidence_threshold/);

    const unknown = await tool('nope', {});
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toBe('UNKNOWN_TOOL');
    for (const t of tools) expect(unknown.body.message).toContain(t.name);

    const symbol = await tool('analyze_crypto', { symbol: 'NOPEUSDT' });
    expect(symbol.status).toBe(404);
    expect(symbol.body.error).toBe('UNKNOWN_SYMBOL');

    for (const body of ['[1]', '{"symbol":', 'null']) {
      const res = await tool('analyze_crypto', body);
      expect(res.status, body).toBe(400);
      expect(res.body.error, body).toBe('INVALID_ARGUMENT');
    }
  });

  it('answers a body over 256 kB with 413 JSON', async () => {
    const res = await tool('analyze_crypto', { symbol: 'BTCUSDT', pad: 'x'.repeat(300 * 1024) });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body).toEqual({ error: 'PAYLOAD_TOO_LARGE', message: expect.stringMatching(/256 kB/) });
  });

  it('lists the tools with the same JSON Schemas MCP tools/list gives', async () => {
    const rest = await call(server.origin, 'GET', `${API}/tools`, { key: KEY });
    expect(rest.status).toBe(200);
    const listed = rest.body.tools as {
      name: string;
      input_schema: Json;
      output_schema: Json;
      annotations: Json;
    }[];
    const sdk = new Client({ name: 'rest-compare', version: '1.0.0' });
    await sdk.connect(
      new StreamableHTTPClientTransport(new URL(server.url), {
        requestInit: { headers: { Authorization: `Bearer ${KEY}` } },
      }),
    );
    try {
      const viaMcp = (await sdk.listTools()).tools;
      expect(listed.map((t) => t.name)).toEqual(viaMcp.map((t) => t.name));
      for (const t of viaMcp) {
        const r = listed.find((x) => x.name === t.name)!;
        expect(r.input_schema, t.name).toEqual(t.inputSchema);
        expect(r.output_schema, t.name).toEqual(t.outputSchema);
        expect(r.annotations, t.name).toEqual(t.annotations);
      }
    } finally {
      await sdk.close();
    }
  });

  it('creates, reads, changes, pauses, resumes and deletes an alert, for its own key only', async () => {
    const alerts = (method: string, path = '', body?: unknown, key = KEY) =>
      call(server.origin, method, `${API}/alerts${path}`, { key, ...(body !== undefined && { body }) });

    const created = await alerts('POST', '', {
      symbol: 'BTCUSDT',
      condition: 'close(4h) > 1000000',
      webhook_url: 'https://hooks.example.com/alert',
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const a = (created.body as AlertAnswer).alert!;
    expect(created.body).toMatchObject({
      action: 'create',
      alert: { status: 'active', expression: 'close(4h) > 1000000' },
    });
    expect(created.headers.get('location')).toBe(`${API}/alerts/${a.id}`);

    const one = await alerts('GET', `/${a.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ action: 'get', alerts: null, history: null, alert: { id: a.id } });
    expect((one.body as AlertAnswer).alert).toEqual(a);

    const listed = await alerts('GET');
    expect(listed.status).toBe(200);
    expect((listed.body as AlertAnswer).alerts!.map((x) => x.id)).toContain(a.id);

    // Another key sees none of it, and cannot touch it.
    expect(((await alerts('GET', '', undefined, OTHER)).body as AlertAnswer).alerts).toEqual([]);
    for (const [method, path, body] of [
      ['GET', `/${a.id}`],
      ['PATCH', `/${a.id}`, { message_template: 'stolen' }],
      ['DELETE', `/${a.id}`],
      ['POST', `/${a.id}/pause`],
      ['GET', `/${a.id}/history`],
    ] as const) {
      const res = await alerts(method, path, body, OTHER);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error).toBe('NOT_FOUND');
    }

    const updated = await alerts('PATCH', `/${a.id}`, {
      condition: 'close(4h) > 2000000',
      message_template: 'hi {symbol}',
    });
    expect(updated.status, JSON.stringify(updated.body)).toBe(200);
    expect(updated.body).toMatchObject({
      action: 'update',
      alert: { expression: 'close(4h) > 2000000', template: 'hi {symbol}' },
    });
    const nothing = await alerts('PATCH', `/${a.id}`, {});
    expect(nothing.status).toBe(400);
    expect(nothing.body.message).toMatch(/changes nothing/);
    const misplaced = await alerts('PATCH', `/${a.id}`, { action: 'delete' });
    expect(misplaced.status).toBe(400);
    expect(misplaced.body.message).toMatch(/^action/);
    const badField = await alerts('PATCH', `/${a.id}`, { cooldown_minutes: 0 });
    expect(badField.status).toBe(400);
    expect(badField.body.message).toMatch(/cooldown_minutes/);

    expect((await alerts('POST', `/${a.id}/pause`)).body).toMatchObject({ alert: { status: 'paused' } });
    expect((await alerts('POST', `/${a.id}/resume`)).body).toMatchObject({ alert: { status: 'active' } });
    const history = await alerts('GET', `/${a.id}/history?limit=5`);
    expect(history.status).toBe(200);
    expect(history.body).toMatchObject({ action: 'history', alert: { id: a.id }, history: [] });
    const badLimit = await alerts('GET', `/${a.id}/history?limit=lots`);
    expect(badLimit.status).toBe(400);
    expect(badLimit.body.message).toMatch(/^limit: /);

    expect((await alerts('GET', '/not-a-uuid')).status).toBe(400);
    expect((await alerts('DELETE', '/not-a-uuid')).body.error).toBe('INVALID_ARGUMENT');
    const noChannel = await alerts('POST', '', { symbol: 'BTCUSDT', condition: 'price > 1' });
    expect(noChannel.status).toBe(400);
    expect(noChannel.body.message).toMatch(/phone_number|webhook_url/);

    const deleted = await alerts('DELETE', `/${a.id}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({
      action: 'delete',
      alert: null,
      notes: [expect.stringMatching(/deleted/)],
    });
    expect((await alerts('GET', `/${a.id}`)).status).toBe(404);
    expect((await alerts('PUT', `/${a.id}`, {})).status).toBe(405);
  });

  it('records REST calls in the audit log as http calls of the key, refusals included', async () => {
    type Row = { tool: string; transport: string; status: string; args: Json; error: string | null };
    let rows: Row[] = [];
    const wanted = (r: Row[]) =>
      r.some((x) => x.error?.startsWith('INVALID_ARGUMENT: symbol')) &&
      r.some((x) => x.args?.action === 'get');
    for (let i = 0; i < 50 && !wanted(rows); i++) {
      rows = (
        await db.query(
          'select tool, transport, status, args, error from audit_log where caller = $1 order by id',
          [keyId(KEY)],
        )
      ).rows as Row[];
      if (!wanted(rows)) await new Promise((r) => setTimeout(r, 100));
    }
    expect(new Set(rows.map((r) => r.transport))).toEqual(new Set(['http']));
    expect(rows.map((r) => r.tool)).toEqual(expect.arrayContaining(tools.map((t) => t.name)));
    expect(rows).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          tool: 'analyze_crypto',
          status: 'error',
          error: expect.stringMatching(/^INVALID_ARGUMENT: symbol/),
        }),
        expect.objectContaining({
          tool: 'alert_manager',
          status: 'ok',
          args: expect.objectContaining({ action: 'get' }),
        }),
      ]),
    );
    expect(JSON.stringify(rows)).not.toContain(KEY);
  });

  it('serves its OpenAPI document, naming every tool and alert endpoint', async () => {
    const res = await call(server.origin, 'GET', `${API}/openapi.json`, { key: KEY });
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    const paths = Object.keys(res.body.paths as Json);
    for (const t of tools) expect(paths).toContain(`${API}/tools/${t.name}`);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/health',
        `${API}/tools`,
        `${API}/openapi.json`,
        `${API}/alerts`,
        `${API}/alerts/{id}`,
        `${API}/alerts/{id}/pause`,
        `${API}/alerts/{id}/resume`,
        `${API}/alerts/{id}/history`,
      ]),
    );
  });

  it('points the 404 for unknown paths at /api/v1', async () => {
    const res = await call(server.origin, 'GET', '/nowhere', { key: KEY });
    expect(res.status).toBe(404);
    expect(res.body.message).toMatch(/\/api\/v1/);
  });
});

describe('REST API on loopback without keys, with a small rate limit', () => {
  let server: ServerProcess;
  let mcp: TestClient;
  beforeAll(async () => {
    server = await startServer({ RATE_LIMIT_PER_MINUTE: '2' });
    mcp = await connectClient(server.url);
  });
  afterAll(async () => {
    await mcp?.close();
    await server?.stop();
  });

  it("serves the machine's own caller, 'local', and refuses proxied requests", async () => {
    const portfolio = `rest-local-${randomBytes(4).toString('hex')}`;
    const stored = await mcp.call('monitor_portfolio', {
      portfolio_id: portfolio,
      positions: [{ symbol: 'BTCUSDT', quantity: 0.1, entry_price: 50_000 }],
    });
    expect(stored.isError, stored.text).toBe(false);
    const read = await call(server.origin, 'POST', `${API}/tools/monitor_portfolio`, {
      body: { portfolio_id: portfolio },
    });
    expect(read.status, JSON.stringify(read.body)).toBe(200);
    expect(read.body).toMatchObject({ portfolio: { id: portfolio, stored: true } });

    const proxied = await call(server.origin, 'GET', `${API}/tools`, {
      headers: { 'x-forwarded-for': '203.0.113.7' },
    });
    expect(proxied.status).toBe(403);
    expect(proxied.body.message).toMatch(/MCP_API_KEYS/);
  });

  it('answers 429 with Retry-After past the limit, one budget shared with MCP', async () => {
    // Limits count in fixed one-minute windows: start early in one so every call below lands in it.
    const left = 60_000 - (Date.now() % 60_000);
    if (left < 15_000) await new Promise((r) => setTimeout(r, left + 200));
    const args = { symbol: 'ETHUSDT', portfolio_value: 1000, entry_price: 3000, stop_loss: 2900 };
    const risk = () => call(server.origin, 'POST', `${API}/tools/risk_assessment`, { body: args });
    expect((await risk()).status).toBe(200);
    expect((await risk()).status).toBe(200);
    const limited = await risk();
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({
      error: 'RATE_LIMITED',
      message: expect.stringMatching(
        /^risk_assessment allows 2 calls per minute per API key; try again in \d+ s\.$/,
      ),
    });
    const retry = Number(limited.headers.get('retry-after'));
    expect(Number.isInteger(retry) && retry >= 1 && retry <= 60).toBe(true);
    const viaMcp = await mcp.call('risk_assessment', args);
    expect(viaMcp.isError).toBe(true);
    expect(viaMcp.text).toMatch(/^RATE_LIMITED: risk_assessment allows 2 calls/);
    // The limit is per tool.
    expect(
      (await call(server.origin, 'POST', `${API}/tools/alert_manager`, { body: { action: 'list' } })).status,
    ).toBe(200);
  });
});
