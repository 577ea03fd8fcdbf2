/**
 * A local stand-in for the Crypto MCP server's REST API (mcp-server/src/server/rest-api.ts) for node
 * unit tests: bearer auth on everything but /health, `GET /api/v1/tools`, `POST /api/v1/tools/{name}`
 * answered by per-tool handlers, and the `{ error, message }` error shape. It records every request.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StubRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body, or the raw text when it is not JSON; undefined without a body. */
  body: unknown;
}

export interface StubReply {
  status?: number;
  /** Sent as JSON, unless `raw` is given. */
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
}

export type ToolHandler = (
  args: Record<string, unknown>,
  request: StubRequest,
) => StubReply | Promise<StubReply>;

export interface RestStubOptions {
  /** Accepted bearer keys; empty accepts any request (a loopback server without MCP_API_KEYS). */
  apiKeys?: string[];
  /** Handlers by tool name; a tool without one answers 404 UNKNOWN_TOOL. */
  tools?: Record<string, ToolHandler>;
}

export interface RestStub {
  baseUrl: string;
  requests: StubRequest[];
  tools: Record<string, ToolHandler>;
  close(): Promise<void>;
}

export const TOOL_NAMES = [
  'analyze_crypto',
  'market_scanner',
  'detect_opportunities',
  'monitor_portfolio',
  'risk_assessment',
  'alert_manager',
  'historical_backtest',
] as const;

const json = (status: number, body: unknown): StubReply => ({ status, body });

export const stubError = (
  status: number,
  error: string,
  message: string,
  headers?: Record<string, string>,
) => ({
  status,
  body: { error, message },
  headers,
});

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function send(res: ServerResponse, reply: StubReply): void {
  const headers: Record<string, string> = { ...(reply.headers ?? {}) };
  let payload = '';
  if (reply.raw !== undefined) {
    payload = reply.raw;
    headers['content-type'] ??= 'text/html';
  } else if (reply.body !== undefined) {
    payload = JSON.stringify(reply.body);
    headers['content-type'] ??= 'application/json';
  }
  res.writeHead(reply.status ?? 200, headers);
  res.end(payload);
}

export async function startRestStub(options: RestStubOptions = {}): Promise<RestStub> {
  const apiKeys = options.apiKeys ?? [];
  const tools: Record<string, ToolHandler> = { ...(options.tools ?? {}) };
  const requests: StubRequest[] = [];

  const route = async (request: StubRequest): Promise<StubReply> => {
    if (request.method === 'GET' && request.path === '/health') return json(200, { status: 'ok' });
    if (apiKeys.length > 0) {
      const auth = String(request.headers.authorization ?? '');
      const key = /^Bearer (.+)$/.exec(auth)?.[1];
      if (key === undefined || !apiKeys.includes(key)) {
        return stubError(
          401,
          'unauthorized',
          'Missing or invalid API key: send Authorization: Bearer <key>.',
        );
      }
    }
    if (request.path === '/api/v1/tools') {
      if (request.method !== 'GET') return stubError(405, 'METHOD_NOT_ALLOWED', 'Use GET.');
      return json(200, { tools: TOOL_NAMES.map((name) => ({ name })) });
    }
    const tool = /^\/api\/v1\/tools\/([a-z_]+)$/.exec(request.path)?.[1];
    if (tool !== undefined) {
      if (request.method !== 'POST') return stubError(405, 'METHOD_NOT_ALLOWED', 'Use POST.');
      const handler = tools[tool];
      if (!handler) return stubError(404, 'UNKNOWN_TOOL', `Unknown tool "${tool}".`);
      const args = request.body;
      if (typeof args !== 'object' || args === null || Array.isArray(args)) {
        return stubError(400, 'INVALID_ARGUMENT', 'Send the tool arguments as a JSON object.');
      }
      return handler(args as Record<string, unknown>, request);
    }
    return stubError(404, 'NOT_FOUND', `No route ${request.method} ${request.path}.`);
  };

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://stub');
      const request: StubRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams.entries()),
        headers: req.headers,
        body: await readBody(req),
      };
      requests.push(request);
      try {
        send(res, await route(request));
      } catch (error) {
        send(res, stubError(500, 'INTERNAL', `stub handler failed: ${(error as Error).message}`));
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    tools,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
