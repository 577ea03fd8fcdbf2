/**
 * The repository's nginx configuration (nginx/) run for real in front of two server processes, with
 * only paths, ports and upstream addresses substituted (test/helpers/nginx.ts): TLS and the redirect,
 * both MCP eras and the REST API through it, streaming without buffering, body limits, security
 * headers, forwarded headers (proved by a Twilio signature), the n8n host with a WebSocket upgrade,
 * failover when a replica is killed, and the production rate limits (a burst above them).
 *
 * Needs the nginx binary (Debian: nginx-light). Without it the file is skipped, except under CI.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { writeFile, mkdir } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import twilio from 'twilio';
import {
  Client as V2Client,
  StreamableHTTPClientTransport as V2Transport,
} from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { findNginx, startNginx, type FetchLike, type NginxProcess } from '../helpers/nginx.js';
import { expectCompleteAnalysis } from '../helpers/analysis-assertions.js';
import { keyId } from '../../src/server/auth.js';

const NGINX = findNginx();
if (!NGINX && process.env.CI) {
  throw new Error('nginx is not installed: CI must install it (apt-get install -y nginx-light)');
}
if (!NGINX) console.warn('nginx.test.ts skipped: nginx is not installed (apt-get install -y nginx-light)');

const KEY = `key-nginx-${randomBytes(12).toString('hex')}`;
const FLOOD_KEY = `key-nginx-flood-${randomBytes(12).toString('hex')}`;
const STREAM_KEY = `key-nginx-stream-${randomBytes(12).toString('hex')}`;
const TWILIO_TOKEN = randomBytes(16).toString('hex');
const AUTH = { authorization: `Bearer ${KEY}` };
const MODERN_META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
};

type Json = Record<string, unknown>;

/** A stand-in for n8n: answers every request with the headers it got, and echoes WebSocket bytes. */
async function startN8nStub(): Promise<{ server: Server; address: string }> {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ url: req.url, headers: req.headers }));
  });
  server.on('upgrade', (req, socket: Socket) => {
    const accept = createHash('sha1')
      .update(`${String(req.headers['sec-websocket-key'])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest('base64');
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    socket.pipe(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, address: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** Reads an SSE/JSON body until `enough` holds for the text so far, or the body ends. */
async function readUntil(res: Response, enough: (text: string) => boolean): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return text;
      text += decoder.decode(value, { stream: true });
      if (enough(text)) return text;
    }
  } finally {
    reader.releaseLock();
  }
}

describe.skipIf(!NGINX)('nginx (the repository config) in front of two server replicas', () => {
  let a: ServerProcess;
  let b: ServerProcess;
  let n8n: { server: Server; address: string };
  let nginx: NginxProcess;
  let fetch: FetchLike;
  const host = (s: ServerProcess) => new URL(s.origin).host;

  /** JSON over nginx; the body is sent as JSON unless it is a string. */
  async function call(
    method: string,
    path: string,
    opts: { body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; headers: Headers; body: Json; text: string }> {
    const res = await fetch(`${nginx.origin}${path}`, {
      method,
      headers: {
        ...(opts.body !== undefined && { 'content-type': 'application/json' }),
        ...opts.headers,
      },
      ...(opts.body !== undefined && {
        body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
      }),
    });
    const text = await res.text();
    let body: Json = {};
    try {
      body = JSON.parse(text) as Json;
    } catch {
      // not JSON: callers that expect JSON check `body`
    }
    return { status: res.status, headers: res.headers, body, text };
  }

  /** A 2026-07-28 tools/call on the raw wire, asking for progress; the response is left unread. */
  function modernToolCall(name: string, args: Json, signal: AbortSignal, key = KEY): Promise<Response> {
    return fetch(`${nginx.origin}/mcp`, {
      method: 'POST',
      signal,
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/call',
        'mcp-name': name,
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name, arguments: args, _meta: { ...MODERN_META, progressToken: 'p1' } },
      }),
    });
  }

  async function v2Client(): Promise<V2Client> {
    const client = new V2Client(
      { name: 'nginx-v2-test', version: '1.0.0' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    await client.connect(
      new V2Transport(new URL(`${nginx.origin}/mcp`), { fetch, requestInit: { headers: AUTH } }),
    );
    return client;
  }

  beforeAll(async () => {
    n8n = await startN8nStub();
    const env = {
      MCP_API_KEYS: `${KEY},${FLOOD_KEY},${STREAM_KEY}`,
      MCP_ALLOWED_HOSTS: 'localhost',
      // No PUBLIC_BASE_URL: the server rebuilds the signed URL from nginx's X-Forwarded-* headers.
      TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
    };
    [a, b] = await Promise.all([startServer(env), startServer(env)]);
    nginx = await startNginx({ mcp: [host(a), host(b)], n8n: n8n.address });
    fetch = nginx.fetch;
  });
  afterAll(async () => {
    await nginx?.stop();
    // stop() would wait for an exit that already happened to the replica the failover test killed.
    const running = [a, b].filter((s) => s && s.child.exitCode === null && s.child.signalCode === null);
    await Promise.allSettled(running.map((s) => s.stop()));
    n8n?.server.close();
  });

  it('redirects http to https with path and query, except ACME challenges', async () => {
    const res = await globalThis.fetch(`${nginx.httpOrigin}/mcp?x=1`, { redirect: 'manual' });
    expect(res.status).toBe(301);
    expect(res.headers.get('location')).toBe('https://localhost/mcp?x=1');

    const dir = join(nginx.prefix, 'acme/.well-known/acme-challenge');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'token-123'), 'token-123.thumbprint');
    const acme = await globalThis.fetch(`${nginx.httpOrigin}/.well-known/acme-challenge/token-123`);
    expect(acme.status).toBe(200);
    expect(await acme.text()).toBe('token-123.thumbprint');
  });

  it('serves /health publicly, hides /metrics, and adds the security headers', async () => {
    const health = await call('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok' });
    expect(health.headers.get('strict-transport-security')).toMatch(/^max-age=\d{7,}; includeSubDomains$/);
    expect(health.headers.get('x-content-type-options')).toBe('nosniff');
    expect(health.headers.get('x-frame-options')).toBe('DENY');
    expect(health.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
    expect(health.headers.get('referrer-policy')).toBe('no-referrer');
    expect(health.headers.get('server')).toBe('nginx'); // no version

    // Even with a key, /metrics is nginx's own 404, never a replica's answer, however the path is
    // spelt (the server's router ignores case and a trailing slash).
    for (const path of ['/metrics', '/metrics/', '/Metrics', '/METRICS/', '/metrics?x=1']) {
      const metrics = await call('GET', path, { headers: AUTH });
      expect(metrics.status, path).toBe(404);
      expect(metrics.body, path).toEqual({ error: 'not_found', message: 'Not served here.' });
    }

    // The server's own errors pass through as they are, with the headers added.
    const unauthorized = await call('POST', '/api/v1/tools/analyze_crypto', { body: {} });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(unauthorized.headers.get('strict-transport-security')).toBeTruthy();
    expect(unauthorized.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('carries the v2 SDK client in the 2026-07-28 era', async () => {
    const client = await v2Client();
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain('analyze_crypto');
      const res = await client.callTool({
        name: 'analyze_crypto',
        arguments: { symbol: 'ETHUSDT', timeframe: '4h' },
      });
      expect(res.isError, JSON.stringify(res.content)).toBeFalsy();
      expectCompleteAnalysis(res.structuredContent, { symbol: 'ETH/USDT', timeframe: '4h' });
    } finally {
      await client.close();
    }
  });

  it('carries the v1 SDK client (2025-11-25) with its answers as SSE streams', async () => {
    const seen: { method: string; status: number; type: string | null }[] = [];
    const recording: FetchLike = async (url, init) => {
      const res = await fetch(url, init);
      seen.push({ method: init?.method ?? 'GET', status: res.status, type: res.headers.get('content-type') });
      return res;
    };
    const transport = new V1Transport(new URL(`${nginx.origin}/mcp`), {
      fetch: recording,
      requestInit: { headers: AUTH },
    });
    const client = new V1Client({ name: 'nginx-v1-test', version: '1.0.0' });
    await client.connect(transport);
    try {
      expect(transport.protocolVersion).toBe('2025-11-25');
      // The server answers 2025 clients statelessly: no session to pin a client to one replica, which
      // is why plain round robin is right. A stateful server would need sticky routing in nginx.
      expect(transport.sessionId).toBeUndefined();
      const res = await client.callTool({
        name: 'analyze_crypto',
        arguments: { symbol: 'BTCUSDT', timeframe: '1h' },
      });
      expect(res.isError, JSON.stringify(res.content)).toBeFalsy();
      expectCompleteAnalysis(res.structuredContent, { symbol: 'BTC/USDT', timeframe: '1h' });
      // initialize and tools/call came back as text/event-stream through nginx.
      const streamed = seen.filter((s) => s.method === 'POST' && s.type?.startsWith('text/event-stream'));
      expect(streamed.length, JSON.stringify(seen)).toBeGreaterThanOrEqual(2);
      expect(seen.every((s) => s.status < 500)).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('streams progress notifications as the server sends them (no buffering)', async () => {
    // Through the SDK: progress arrives for a scan of a few markets.
    const client = await v2Client();
    try {
      const progress: number[] = [];
      const res = await client.callTool(
        {
          name: 'market_scanner',
          arguments: { scan_type: 'all', symbols: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'BNBUSDT'] },
        },
        { onprogress: (p) => progress.push(p.progress) },
      );
      expect(res.isError, JSON.stringify(res.content)).toBeFalsy();
      expect(progress.length).toBeGreaterThan(0);
    } finally {
      await client.close();
    }

    // On the wire: the first progress event of a whole-market scan must reach the client while the
    // scan still runs. The client then closes the stream, which cancels the call (2026-07-28), and
    // the audit log records the scan as cancelled. Had nginx buffered the stream, the first event
    // would only come out with (or after a buffer's worth of) later ones, after the scan was done,
    // and the audit log would say 'ok'.
    const abort = new AbortController();
    const res = await modernToolCall('market_scanner', { scan_type: 'all' }, abort.signal, STREAM_KEY);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    expect(res.headers.get('content-encoding')).toBeNull();
    const first = await readUntil(res, (t) => t.includes('notifications/progress'));
    abort.abort();
    expect(first).toContain('"progressToken":"p1"');
    expect(first).not.toContain('"result"');

    const db = new pg.Client({ connectionString: process.env.E2E_DATABASE_URL });
    await db.connect();
    try {
      let rows: { status: string; error: string | null }[] = [];
      for (let i = 0; i < 100 && rows.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        ({ rows } = await db.query(
          `select status, error from audit_log where caller = $1 and tool = 'market_scanner'`,
          [keyId(STREAM_KEY)],
        ));
      }
      expect(rows).toEqual([
        { status: 'error', error: expect.stringMatching(/cancelled before it finished/) },
      ]);
    } finally {
      await db.end();
    }
  });

  it('carries the REST API for n8n', async () => {
    const res = await call('POST', '/api/v1/tools/analyze_crypto', {
      headers: AUTH,
      body: { symbol: 'SOLUSDT', timeframe: '1d' },
    });
    expect(res.status, res.text).toBe(200);
    expectCompleteAnalysis(res.body, { symbol: 'SOL/USDT', timeframe: '1d' });
    expect(res.headers.get('strict-transport-security')).toBeTruthy();
  });

  it('refuses bodies over 256 KiB with a JSON 413 before any replica, and passes smaller ones', async () => {
    const big = JSON.stringify({ symbol: 'BTCUSDT', padding: 'x'.repeat(300 * 1024) });
    for (const path of ['/mcp', '/api/v1/tools/analyze_crypto']) {
      const res = await call('POST', path, { headers: AUTH, body: big });
      expect(res.status, path).toBe(413);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(res.body).toMatchObject({ error: 'payload_too_large' });
    }
    // 250 KiB is within both nginx's and the server's limit (the server ignores the extra field).
    const fits = JSON.stringify({ symbol: 'BTCUSDT', padding: 'x'.repeat(250 * 1024) });
    const res = await call('POST', '/api/v1/tools/analyze_crypto', { headers: AUTH, body: fits });
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    expectCompleteAnalysis(res.body, { symbol: 'BTC/USDT', timeframe: '1h' });
  });

  it('forwards Host and the https scheme, so a Twilio signature over the public URL verifies', async () => {
    const path = '/webhooks/twilio/inbound';
    const params = { From: `whatsapp:+1555${String(Date.now()).slice(-7)}`, Body: 'HELP' };
    const post = (signedUrl: string, headers: Record<string, string> = {}) =>
      call('POST', path, {
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': twilio.getExpectedTwilioSignature(TWILIO_TOKEN, signedUrl, params),
          ...headers,
        },
        body: new URLSearchParams(params).toString(),
      });
    // The URL Twilio calls: https, the public host with its port. The replica listens on plain http
    // on another port, so only X-Forwarded-Proto/-Host from nginx make this match.
    const ok = await post(`${nginx.origin}${path}`);
    expect(ok.status, ok.text).toBe(200);
    expect(ok.text).toMatch(/<Message>Crypto alerts/);
    // nginx replaces what a client claims: a signature over http:// fails even when the client says so.
    const spoofed = await post(`${nginx.origin.replace('https:', 'http:')}${path}`, {
      'x-forwarded-proto': 'http',
    });
    expect(spoofed.status).toBe(403);
  });

  it('serves n8n on its own host name with forwarded headers and a WebSocket upgrade', async () => {
    const n8nHost = `n8n.localhost:${nginx.httpsPort}`;
    const res = await call('GET', '/rest/settings', {
      headers: { host: n8nHost, 'x-forwarded-for': '6.6.6.6' },
    });
    expect(res.status).toBe(200);
    const headers = res.body.headers as IncomingHttpHeaders;
    expect(res.body.url).toBe('/rest/settings');
    expect(headers.host).toBe('n8n.localhost');
    expect(headers['x-forwarded-host']).toBe(n8nHost);
    expect(headers['x-forwarded-proto']).toBe('https');
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(headers['x-real-ip']).toBe('127.0.0.1');
    expect(res.headers.get('strict-transport-security')).toBeTruthy();
    expect(res.headers.get('x-frame-options')).toBeNull();
    expect(res.headers.get('content-security-policy')).toBeNull();

    // /rest/push: the upgrade goes through and bytes flow both ways.
    const echoed = await new Promise<{ status: number; data: string }>((resolve, reject) => {
      const req = https.request({
        host: '127.0.0.1',
        port: nginx.httpsPort,
        path: '/rest/push?pushRef=test',
        ca: nginx.ca,
        servername: 'n8n.localhost',
        agent: false,
        headers: {
          host: n8nHost,
          connection: 'Upgrade',
          upgrade: 'websocket',
          origin: `https://${n8nHost}`,
          'sec-websocket-version': '13',
          'sec-websocket-key': randomBytes(16).toString('base64'),
        },
      });
      req.once('upgrade', (up, socket) => {
        socket.once('data', (d: Buffer) => {
          resolve({ status: up.statusCode ?? 0, data: d.toString() });
          socket.destroy();
        });
        socket.write('ping-through-nginx');
      });
      req.once('response', (r) => reject(new Error(`no upgrade: ${r.statusCode}`)));
      req.once('error', reject);
      req.end();
    });
    expect(echoed).toEqual({ status: 101, data: 'ping-through-nginx' });
  });

  it('fails over when a replica is killed: new requests succeed, a call in flight on it fails', async () => {
    // Two whole-market scans in flight at once: round robin gives one to each replica.
    const aborts = [new AbortController(), new AbortController()];
    const calls = await Promise.all(
      aborts.map((c) => modernToolCall('market_scanner', { scan_type: 'all' }, c.signal)),
    );
    const firsts = await Promise.all(
      calls.map((r) => readUntil(r, (t) => t.includes('notifications/progress'))),
    );
    expect(firsts.every((t) => !t.includes('"result"'))).toBe(true);

    const exited = once(a.child, 'exit');
    a.child.kill('SIGKILL');
    await exited;

    const outcomes = await Promise.all(
      calls.map((r, i) =>
        readUntil(r, (t) => t.includes('"result"')).then(
          (t) => (firsts[i]! + t).includes('"result"'),
          () => false,
        ),
      ),
    );
    // The call on the killed replica is lost (its stream is cut, and nginx never replays a POST
    // that reached a replica); the other completes.
    expect(outcomes.sort()).toEqual([false, true]);

    // Every new request succeeds: a connection refused by the dead replica moves to the live one,
    // POSTs included (nothing was sent), and after max_fails the dead one is skipped.
    for (let i = 0; i < 4; i++) {
      const rest = await call('POST', '/api/v1/tools/analyze_crypto', {
        headers: AUTH,
        body: { symbol: 'BTCUSDT', timeframe: '4h' },
      });
      expect(rest.status, rest.text).toBe(200);
      const client = await v2Client();
      try {
        const res = await client.callTool({ name: 'analyze_crypto', arguments: { symbol: 'ETHUSDT' } });
        expect(res.isError, JSON.stringify(res.content)).toBeFalsy();
      } finally {
        await client.close();
      }
    }
    // The access log shows the move: a request tried the dead replica, then the live one.
    const log = nginx
      .stdout()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Json);
    expect(log.some((l) => l.upstream_addr === `${host(a)}, ${host(b)}`)).toBe(true);
  });

  /**
   * Waits (a bounded poll) until /health answers, i.e. this address has used at most /health's burst
   * of 20 from the per-IP allowance; refused probes use none of it.
   */
  // Every location shares one per-address zone (mcp_per_ip, 20 r/s) with its own burst, so the
  // excess a /mcp flood leaves behind (up to 100) also refuses /health (burst 20). A /health probe
  // passing only proves the excess is under 20 and the probe itself adds one; waiting the 1 s those 20
  // take to drain (plus margin) leaves the next test a full allowance, not a single slot.
  async function perIpAllowanceBack(): Promise<void> {
    for (let i = 0; i < 50 && (await call('GET', '/health')).status === 429; i++) {
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 1_250));
  }

  it('limits each API key: a burst above the production rate gets JSON 429s, other keys pass', async () => {
    // mcp_per_key: 10 r/s, burst 50; mcp_per_ip: 20 r/s, burst 100 on /mcp. 75 requests at once
    // are more than the key's burst but, with at most 20 used before, within the address's: the
    // 429s are the per-key limit's (refused requests count against neither limit, nor reach a
    // replica, so the burst is cheap).
    await perIpAllowanceBack();
    const flood = { authorization: `Bearer ${FLOOD_KEY}` };
    const results = await Promise.all(
      Array.from({ length: 75 }, () => call('GET', '/mcp', { headers: flood })),
    );
    const limited = results.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(new Set(results.map((r) => r.status))).toEqual(new Set([405, 429]));
    for (const r of limited) {
      expect(r.headers.get('content-type')).toBe('application/json');
      expect(r.headers.get('retry-after')).toBe('1');
      expect(r.headers.get('strict-transport-security')).toBeTruthy();
      expect(r.body).toMatchObject({ error: 'rate_limited' });
    }
    // The same address with another key is still within its per-IP limit.
    const other = await call('POST', '/api/v1/tools/analyze_crypto', {
      headers: AUTH,
      body: { symbol: 'BTCUSDT' },
    });
    expect(other.status, other.text).toBe(200);
  });

  it('counts a lowercase "bearer" scheme per key too (the scheme is case-insensitive)', async () => {
    // A made-up token floods its own bucket; a real key sent with the same spelling still passes.
    await perIpAllowanceBack();
    const flood = { authorization: `bearer made-up-${randomBytes(12).toString('hex')}` };
    const results = await Promise.all(
      Array.from({ length: 75 }, () => call('GET', '/mcp', { headers: flood })),
    );
    expect(results.some((r) => r.status === 429)).toBe(true);
    const other = await call('POST', '/api/v1/tools/analyze_crypto', {
      headers: { authorization: `bearer ${KEY}` },
      body: { symbol: 'BTCUSDT' },
    });
    expect(other.status, other.text).toBe(200);
  });

  it('limits each client address, keys or not', async () => {
    // mcp_per_ip: 20 r/s; /health allows a burst of 20.
    await perIpAllowanceBack();
    const results = await Promise.all(Array.from({ length: 150 }, () => call('GET', '/health')));
    expect(new Set(results.map((r) => r.status))).toEqual(new Set([200, 429]));
  });

  it('logs one JSON object per request to stdout, never the API key', () => {
    const lines = nginx.stdout().trim().split('\n');
    const log = lines.map((l) => JSON.parse(l) as Json);
    expect(log.length).toBeGreaterThan(200);
    expect(log.find((l) => l.uri === '/mcp' && l.method === 'POST')).toMatchObject({
      status: 200,
      host: 'localhost',
      remote_addr: '127.0.0.1',
      request_id: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    expect(log.some((l) => l.limit_req_status === 'REJECTED')).toBe(true);
    // Both replicas served requests.
    const upstreams = new Set(log.map((l) => String(l.upstream_addr)));
    expect(upstreams).toContain(host(a));
    expect(upstreams).toContain(host(b));
    for (const secret of [KEY, FLOOD_KEY, TWILIO_TOKEN]) {
      expect(nginx.stdout()).not.toContain(secret);
      expect(nginx.stderr()).not.toContain(secret);
    }
  });
});
