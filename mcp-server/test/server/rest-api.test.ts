/**
 * The REST layer in process, with stand-in tools that fail in every documented way: the status each
 * error code maps to, Retry-After, nothing internal leaked, output checking, the audit entry of every
 * call (validation failures included), the rate limit on a fixed clock, and the OpenAPI document:
 * structurally valid, and listing exactly the routes the router serves.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { z } from 'zod';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AppError, type ErrorCode } from '../../src/errors.js';
import type { AppContext } from '../../src/services/context.js';
import type { AuditEntry } from '../../src/store/types.js';
import { MemoryRateLimiter } from '../../src/store/rate-limiter.js';
import { defineTool, type ToolDefinition } from '../../src/tools/tool.js';
import { tools as realTools } from '../../src/tools/index.js';
import { restApiRouter } from '../../src/server/rest-api.js';
import { restErrorHandler } from '../../src/server/rest-errors.js';
import { API_PREFIX, openApiDocument, toolJsonSchema } from '../../src/server/openapi.js';

/** The statuses the API promises, written out here so a changed mapping fails this test. */
const EXPECTED_STATUS: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  UNKNOWN_EXCHANGE: 400,
  UNSUPPORTED_TIMEFRAME: 400,
  INSUFFICIENT_DATA: 400,
  UNKNOWN_SYMBOL: 404,
  NOT_FOUND: 404,
  RATE_LIMITED: 429,
  EXCHANGE_UNAVAILABLE: 503,
  DATA_UNAVAILABLE: 503,
  STORE_UNAVAILABLE: 503,
  WORKER_UNAVAILABLE: 503,
  INTERNAL: 500,
};

const failTool = defineTool({
  name: 'fail',
  title: 'Fails on request',
  description: 'Throws the AppError named by code, a plain Error for BOOM, or a bad answer for BAD_OUTPUT',
  input: z.object({ code: z.string(), count: z.number().int().min(1).default(1) }),
  output: z.object({ ok: z.boolean(), count: z.number() }),
  annotations: { readOnlyHint: true },
  handler: async ({ code, count }) => {
    if (code === 'NONE') return { ok: true, count };
    if (code === 'BOOM') throw new Error('secret database password in a stack trace');
    if (code === 'BAD_OUTPUT') return { ok: 'yes', count } as unknown as { ok: boolean; count: number };
    throw new AppError(code as ErrorCode, `problem ${code}: do something about it`);
  },
  summarize: () => 'done',
});

describe('REST API in process', () => {
  let server: Server;
  let base: string;
  const audit: AuditEntry[] = [];
  let now = 1_700_000_010_000;
  const config = { RATE_LIMIT_PER_MINUTE: 0 };
  const ctx = {
    config,
    version: '9.9.9',
    stores: { rateLimiter: new MemoryRateLimiter(() => now) },
    audit: { record: (e: AuditEntry) => void audit.push(e) },
  } as unknown as AppContext;

  beforeAll(async () => {
    const app = express();
    app.use(express.json({ limit: '1kb' }));
    app.use((req, _res, next) => {
      const key = req.headers['x-test-caller'];
      if (typeof key === 'string') req.auth = { token: key, clientId: key, scopes: [] };
      next();
    });
    app.use(API_PREFIX, restApiRouter(ctx, { tools: [failTool as unknown as ToolDefinition] }));
    app.use(API_PREFIX, restErrorHandler);
    server = await new Promise<Server>((r) => {
      const s = app.listen(0, '127.0.0.1', () => r(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}${API_PREFIX}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    audit.length = 0;
    config.RATE_LIMIT_PER_MINUTE = 0;
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('answers the structured result itself, audited as an ok http call of the caller', async () => {
    const res = await post('/tools/fail', { code: 'NONE', count: 3 }, { 'x-test-caller': 'key_abc' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, count: 3 });
    expect(audit).toEqual([
      expect.objectContaining({
        tool: 'fail',
        caller: 'key_abc',
        transport: 'http',
        args: { code: 'NONE', count: 3 },
        status: 'ok',
        error: null,
      }),
    ]);
  });

  it('maps every application error code to its status, with the message unchanged', async () => {
    for (const [code, status] of Object.entries(EXPECTED_STATUS)) {
      const res = await post('/tools/fail', { code });
      expect(res.status, code).toBe(status);
      expect(await res.json()).toEqual({ error: code, message: `problem ${code}: do something about it` });
      expect(res.headers.get('retry-after'), code).toBe(code === 'RATE_LIMITED' ? '60' : null);
    }
    expect(audit.map((a) => a.status)).toEqual(Object.keys(EXPECTED_STATUS).map(() => 'error'));
    expect(audit[0]!.error).toBe('INVALID_ARGUMENT: problem INVALID_ARGUMENT: do something about it');
  });

  it('answers unexpected failures and refused answers as INTERNAL without their details', async () => {
    for (const code of ['BOOM', 'BAD_OUTPUT']) {
      const res = await post('/tools/fail', { code });
      expect(res.status).toBe(500);
      const body = (await res.json()) as { error: string; message: string };
      expect(body).toEqual({
        error: 'INTERNAL',
        message: expect.stringMatching(/^fail failed unexpectedly/),
      });
      expect(JSON.stringify(body)).not.toMatch(/secret|yes/);
    }
    expect(audit.map((a) => a.error)).toEqual([
      expect.stringMatching(/^INTERNAL/),
      expect.stringMatching(/^INTERNAL/),
    ]);
  });

  it('refuses bad arguments with 400 naming each field, and audits the refusal', async () => {
    const res = await post('/tools/fail', { code: 7, count: 0 }, { 'x-test-caller': 'key_abc' });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; message: string };
    expect(body.error).toBe('INVALID_ARGUMENT');
    expect(body.message).toMatch(/^code: .*; count: /);
    expect(audit).toEqual([
      expect.objectContaining({
        tool: 'fail',
        caller: 'key_abc',
        transport: 'http',
        args: { code: 7, count: 0 },
        status: 'error',
        error: expect.stringMatching(/^INVALID_ARGUMENT: code: /),
      }),
    ]);
  });

  it('refuses bodies that are not a JSON object, and treats no body as {}', async () => {
    for (const body of ['[1,2]', '{"code":', '"text"']) {
      const res = await post('/tools/fail', body);
      expect(res.status, body).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('INVALID_ARGUMENT');
    }
    const text = await fetch(`${base}/tools/fail`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'code=NONE',
    });
    expect(text.status).toBe(415);
    expect(await text.json()).toMatchObject({
      error: 'UNSUPPORTED_MEDIA_TYPE',
      message: expect.stringMatching(/application\/json/),
    });
    const empty = await fetch(`${base}/tools/fail`, { method: 'POST' });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { message: string }).message).toMatch(/^code: /);
    expect(audit).toHaveLength(1);
  });

  it('answers an oversized body with 413 JSON, not an HTML page', async () => {
    const res = await post('/tools/fail', { code: 'NONE', pad: 'x'.repeat(4096) });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ error: 'PAYLOAD_TOO_LARGE', message: expect.stringMatching(/1 kB/) });
  });

  it('lists the tool names for an unknown tool, 405 for a wrong method and 404 for unknown paths', async () => {
    const unknown = await post('/tools/nope', {});
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: 'UNKNOWN_TOOL', message: expect.stringMatching(/fail/) });
    const wrong = await fetch(`${base}/tools/fail`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    const lost = await fetch(`${base}/nothing/here`);
    expect(lost.status).toBe(404);
    expect(((await lost.json()) as { error: string }).error).toBe('NOT_FOUND');
    expect(audit).toEqual([]);
  });

  it('limits calls per caller and tool per minute with 429 and Retry-After', async () => {
    config.RATE_LIMIT_PER_MINUTE = 2;
    now = 1_699_999_990_000; // 10 s into a window: 50 s left
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await post('/tools/fail', { code: 'NONE' }, { 'x-test-caller': 'a' })).status);
    expect(statuses).toEqual([200, 200, 429]);
    const limited = await post('/tools/fail', { code: 'NONE' }, { 'x-test-caller': 'a' });
    expect(limited.headers.get('retry-after')).toBe('50');
    expect(await limited.json()).toEqual({
      error: 'RATE_LIMITED',
      message: 'fail allows 2 calls per minute per API key; try again in 50 s.',
    });
    // Counted before validation: bad arguments do not get around the limit.
    expect((await post('/tools/fail', { code: 1 }, { 'x-test-caller': 'a' })).status).toBe(429);
    expect((await post('/tools/fail', { code: 'NONE' }, { 'x-test-caller': 'b' })).status).toBe(200);
    now += 60_000;
    expect((await post('/tools/fail', { code: 'NONE' }, { 'x-test-caller': 'a' })).status).toBe(200);
  });

  it('lists the tools with the JSON Schemas MCP shows', async () => {
    const res = await fetch(`${base}/tools`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { tools: Record<string, unknown>[] };
    expect(body.tools).toEqual([
      {
        name: 'fail',
        title: 'Fails on request',
        description: failTool.description,
        input_schema: toolJsonSchema(failTool.input, 'input'),
        output_schema: toolJsonSchema(failTool.output, 'output'),
        annotations: { readOnlyHint: true },
      },
    ]);
    expect(body.tools[0]!.input_schema).toMatchObject({ type: 'object', required: ['code'] });
  });

  it('serves the OpenAPI document for exactly the routes the router has', async () => {
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as OpenApi;
    expect(doc.info.version).toBe('9.9.9');
    const router = restApiRouter(ctx) as unknown as {
      stack: { route?: { path: string; methods: Record<string, boolean> } }[];
    };
    const served = router.stack
      .filter((l) => l.route && !l.route.methods._all)
      .flatMap((l) => Object.keys(l.route!.methods).map((m) => `${m} ${API_PREFIX}${l.route!.path}`));
    const documented = Object.entries(
      openApiDocument({ version: 'x', tools: realTools }).paths as OpenApi['paths'],
    )
      .filter(([path]) => path.startsWith(API_PREFIX))
      .flatMap(([path, item]) => Object.keys(item).map((m) => `${m} ${path.replace(/\{(\w+)\}/g, ':$1')}`))
      // The document names each tool's own path; the router serves them all with one route.
      .map((op) => op.replace(/\/tools\/[a-z_]+$/, '/tools/:name'));
    expect([...new Set(documented)].sort()).toEqual([...new Set(served)].sort());
  });
});

type Operation = {
  operationId?: string;
  parameters?: { name: string; in: string }[];
  responses?: Record<string, unknown>;
};
type OpenApi = {
  openapi: string;
  info: { title: string; version: string };
  security: Record<string, string[]>[];
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: Record<string, unknown>;
    responses: Record<string, unknown>;
    securitySchemes: Record<string, unknown>;
  };
};

describe('OpenAPI document', () => {
  const doc = openApiDocument({ version: '1.2.3', tools: realTools }) as unknown as OpenApi;
  const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

  /** Follows a local JSON pointer (#/a/b~1c) through the document. */
  function resolve(pointer: string): unknown {
    expect(pointer.startsWith('#/'), pointer).toBe(true);
    let node: unknown = doc;
    for (const raw of pointer.slice(2).split('/')) {
      const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      if (node === null || typeof node !== 'object' || !(key in node)) return undefined;
      node = (node as Record<string, unknown>)[key];
    }
    return node;
  }

  function refsIn(node: unknown, out: string[] = []): string[] {
    if (Array.isArray(node)) node.forEach((n) => refsIn(n, out));
    else if (node !== null && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (k === '$ref' && typeof v === 'string') out.push(v);
        else refsIn(v, out);
      }
    }
    return out;
  }

  it('is OpenAPI 3.1 with a bearer scheme used by default and a public /health', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info).toMatchObject({ title: expect.any(String), version: '1.2.3' });
    expect(doc.components.securitySchemes.bearerAuth).toEqual(
      expect.objectContaining({ type: 'http', scheme: 'bearer' }),
    );
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths['/health']!.get).toMatchObject({ security: [] });
  });

  it('resolves every $ref, and every component is used', () => {
    const refs = refsIn(doc);
    expect(refs.length).toBeGreaterThan(20);
    for (const r of new Set(refs)) expect(resolve(r), r).toBeDefined();
    for (const name of Object.keys(doc.components.schemas)) {
      expect(name).toMatch(/^[a-zA-Z0-9._-]+$/);
      expect(refs, name).toContain(`#/components/schemas/${name}`);
    }
    for (const name of Object.keys(doc.components.responses)) {
      expect(refs, name).toContain(`#/components/responses/${name}`);
    }
    // JSON Schema identifiers and dialect markers stay out of the components (3.1 is 2020-12 already).
    expect(JSON.stringify(doc.components.schemas)).not.toMatch(/"\$(id|schema)"/);
  });

  it('gives every operation a unique id, a success and error responses, and declares path parameters', () => {
    const ids = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths)) {
      expect(path.startsWith('/'), path).toBe(true);
      for (const [method, op] of Object.entries(item)) {
        expect(METHODS, `${method} ${path}`).toContain(method);
        expect(op.operationId, `${method} ${path}`).toMatch(/^[A-Za-z_]+$/);
        expect(ids.has(op.operationId!), op.operationId).toBe(false);
        ids.add(op.operationId!);
        const statuses = Object.keys(op.responses ?? {});
        expect(
          statuses.some((s) => /^2\d\d$/.test(s)),
          `${method} ${path}`,
        ).toBe(true);
        if (path !== '/health') expect(statuses, `${method} ${path}`).toContain('401');
        for (const s of statuses) expect(s).toMatch(/^[1-5]\d\d$/);
        const templated = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
        const declared = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
        expect(declared.sort(), `${method} ${path}`).toEqual(templated.sort());
      }
    }
  });

  it('describes every tool and alert endpoint from the zod schemas, sharing the common pieces', () => {
    for (const tool of realTools) {
      const op = doc.paths[`${API_PREFIX}/tools/${tool.name}`]!.post!;
      expect(op.operationId).toBe(tool.name);
      expect(Object.keys(op.responses!)).toEqual(
        expect.arrayContaining(['200', '400', '401', '404', '413', '429', '500', '503']),
      );
    }
    for (const path of [
      '/alerts',
      '/alerts/{id}',
      '/alerts/{id}/pause',
      '/alerts/{id}/resume',
      '/alerts/{id}/history',
    ]) {
      expect(doc.paths[`${API_PREFIX}${path}`], path).toBeDefined();
    }
    expect(doc.paths[`${API_PREFIX}/alerts`]!.post!.responses!['201']).toBeDefined();
    for (const path of ['/tools', '/openapi.json'])
      expect(doc.paths[`${API_PREFIX}${path}`]!.get).toBeDefined();

    const schemas = doc.components.schemas as Record<string, { properties: Record<string, unknown> }>;
    expect(schemas.AnalyzeCryptoInput!.properties.symbol).toEqual({ $ref: '#/components/schemas/Symbol' });
    expect(schemas.Symbol).toMatchObject({ type: 'string', pattern: expect.any(String) });
    expect(Object.keys(schemas.AlertFields!.properties)).not.toEqual(expect.arrayContaining(['action']));
    expect(Object.keys(schemas.AlertFields!.properties)).toEqual(
      expect.arrayContaining(['symbol', 'condition', 'phone_number', 'webhook_url']),
    );
    expect(schemas.Error).toMatchObject({ required: ['error', 'message'] });
    // Outputs as answered: a field with a default is still always present.
    expect(schemas.AnalyzeCryptoOutput).toMatchObject({
      type: 'object',
      required: expect.arrayContaining(['data_source', 'as_of']),
    });
  });
});
