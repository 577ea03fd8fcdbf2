/**
 * Streamable HTTP on express: `/mcp` serves both MCP eras (2026-07-28 stateless and 2025-era
 * clients) through the v2 SDK's handler; `/api/v1` serves the same tools as REST for n8n; `/health`
 * liveness is open; everything else needs a bearer key when keys are configured. Host and Origin are
 * checked against an allow-list so the server is safe on loopback and still reachable through nginx
 * with the operator's public host names.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createMcpExpressApp } from '@modelcontextprotocol/express';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, type McpServer, type ServerEventBus } from '@modelcontextprotocol/server';
import type { AppContext } from '../services/context.js';
import { buildMcpServer, type Caller } from './mcp-server.js';
import { bearerAuth } from './auth.js';
import { chartsRouter } from './charts-route.js';
import { API_PREFIX } from './openapi.js';
import { restApiRouter } from './rest-api.js';
import { restErrorHandler } from './rest-errors.js';
import { twilioWebhooks } from './twilio-webhooks.js';
import { observabilityRouter, scraperMetrics } from './observability-routes.js';
import { edgeErrorHandler } from './edge-errors.js';
import { providerStatuses } from '../services/alerts/outbox.js';
import { RecipientStore } from '../services/alerts/recipients.js';
import { isLoopbackHost } from '../config.js';
import { log } from '../logger.js';

const LOCAL_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/**
 * Test seam: the conformance fixture (test/conformance) serves its own McpServer through this same
 * stack (Host/Origin checks, keys, the SDK handler). The product passes nothing.
 */
export interface HttpAppOptions {
  /** Builds the McpServer answering one /mcp request; the product's buildMcpServer by default. */
  buildServer?: (caller: Caller) => McpServer;
  /** Source of list-changed events for `subscriptions/listen` streams; the SDK's in-process bus by default. */
  bus?: ServerEventBus;
}

export function createHttpApp(
  ctx: AppContext,
  options: HttpAppOptions = {},
): { app: express.Express; close: () => Promise<void> } {
  const { config } = ctx;
  const buildServer = options.buildServer ?? ((caller: Caller) => buildMcpServer(ctx, caller));
  // Host: localhost names on a loopback bind, plus the operator's public names; none given on a public
  // bind means any Host (keys are required there). Origin: browsers only from those names, always.
  const allowedHosts =
    config.MCP_ALLOWED_HOSTS.length > 0
      ? [...LOCAL_NAMES, ...config.MCP_ALLOWED_HOSTS]
      : isLoopbackHost(config.MCP_HOST)
        ? LOCAL_NAMES
        : undefined;
  const allowedOrigins = [...LOCAL_NAMES, ...config.MCP_ALLOWED_HOSTS, ...config.MCP_ALLOWED_ORIGINS];
  const app = createMcpExpressApp({
    host: config.MCP_HOST,
    ...(allowedHosts ? { allowedHosts } : {}),
    allowedOrigins,
    jsonLimit: '256kb',
  });
  app.disable('x-powered-by');

  // Liveness is public; the details (exchange errors, which can name other users' symbols) need a key
  // whenever keys are configured.
  const authorized = config.requireAuth ? bearerAuth(config.MCP_API_KEYS) : null;
  app.get('/health', (req, res) => {
    const live = { status: 'ok', version: ctx.version };
    // Liveness stays 'ok' while the process serves; 'degraded' names a store that is not fully there.
    const details = () =>
      void ctx.stores.health().then(
        (stores) =>
          res.json({
            ...live,
            status: stores.status,
            uptime_s: Math.round(process.uptime()),
            ...ctx.market.health(),
            stores: stores.stores,
          }),
        (error: unknown) => {
          log.error('health check failed', { error });
          res.status(500).json({ status: 'error', version: ctx.version });
        },
      );
    if (!authorized) return details();
    if (!req.headers.authorization) return res.json(live);
    authorized(req, res, details);
  });

  // Twilio signs its webhooks instead of sending our key, so they sit before the bearer check.
  if (config.TWILIO_AUTH_TOKEN) {
    const db = ctx.stores.database;
    app.use(
      twilioWebhooks({
        authToken: config.TWILIO_AUTH_TOKEN,
        publicBaseUrl: config.PUBLIC_BASE_URL,
        recipients: new RecipientStore(db),
        statuses: providerStatuses(db),
      }),
    );
  }

  // /health/infrastructure and /metrics: behind the key like everything below (/metrics also takes
  // METRICS_TOKEN, so a scraper needs no API key).
  app.use(observabilityRouter(ctx, { guard: authorized ?? refuseProxiedWithoutKeys }));
  if (authorized) app.use(authorized);
  else app.use(refuseProxiedWithoutKeys);
  app.use(chartsRouter(ctx));
  app.use(API_PREFIX, restApiRouter(ctx));

  // bearerAuth puts the key's id (never the key) on req.auth; the SDK hands it to the factory.
  const mcp = createMcpHandler(
    ({ authInfo }) => buildServer({ caller: authInfo?.clientId ?? 'local', transport: 'http' }),
    {
      ...(options.bus && { bus: options.bus }),
      onerror: (error) => log.warn('mcp request error', { error }),
    },
  );
  const handle = toNodeHandler(mcp, { onerror: (error) => log.error('mcp adapter error', { error }) });
  app.all('/mcp', (req, res) => {
    void handle(req, res, req.body);
  });

  app.use((_req, res) => {
    res.status(404).json({
      error: 'not_found',
      message: `Unknown path. The MCP endpoint is /mcp; the REST API is ${API_PREFIX} (${API_PREFIX}/openapi.json); health is /health.`,
    });
  });
  // The JSON parser's errors (malformed, over 256kb) and route failures under /api/v1 as JSON, not
  // express's HTML page; /mcp keeps its own handling.
  app.use(API_PREFIX, restErrorHandler);
  // Everything else as JSON too, logged redacted (express would print raw bodies to stderr).
  app.use(edgeErrorHandler);

  // In front of the Host and Origin checks: a scrape with METRICS_TOKEN, which reaches each replica by its
  // address (observability-routes.ts). Everything else goes through the app above.
  const edge = express();
  edge.disable('x-powered-by');
  if (config.METRICS_TOKEN) edge.get('/metrics', scraperMetrics(ctx));
  edge.use(app);
  return { app: edge, close: () => mcp.close() };
}

const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip', 'via'];

/**
 * Without keys the server is for this machine only. A request that came through a reverse proxy
 * (nginx sends Host 127.0.0.1:port by default, which passes the Host check) is refused, so a proxy
 * cannot publish an unauthenticated server by accident.
 */
const refuseProxiedWithoutKeys: express.RequestHandler = (req, res, next) => {
  if (!PROXY_HEADERS.some((h) => req.headers[h] !== undefined)) return next();
  res.status(403).json({
    error: 'forbidden',
    message:
      'This request came through a proxy, and the server has no API keys: set MCP_API_KEYS to serve it.',
  });
};

/** Start listening; resolves with the bound address once the port is open. */
export async function startHttpServer(
  ctx: AppContext,
  options: HttpAppOptions = {},
): Promise<{ server: Server; url: string; close: () => Promise<void> }> {
  const { app, close } = createHttpApp(ctx, options);
  const server = await new Promise<Server>((resolve, reject) => {
    // Express 5 calls this callback with the listen error too (EADDRINUSE): reject, never resolve then.
    const s = app.listen(ctx.config.MCP_PORT, ctx.config.MCP_HOST, (error?: Error) =>
      error ? reject(error) : resolve(s),
    );
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}/mcp`;
  return {
    server,
    url,
    close: async () => {
      await close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
