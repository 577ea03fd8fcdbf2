/**
 * The worker serves no API, but its alert deliveries and queue work are what operators most need to
 * see: with WORKER_METRICS_PORT it answers `GET /metrics` to a scraper with METRICS_TOKEN (the same
 * exposition as the HTTP replicas) and a liveness `GET /health`. Nothing else is served.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { AppContext } from '../services/context.js';
import { scraperMetrics } from './observability-routes.js';

export async function startWorkerMetrics(
  ctx: AppContext,
  port: number,
): Promise<{ url: string; close: () => Promise<void> }> {
  const app = express();
  app.disable('x-powered-by');
  app.get('/health', (_req, res) => void res.json({ status: 'ok', role: 'worker', version: ctx.version }));
  app.get('/metrics', scraperMetrics(ctx));
  app.use(
    (_req, res) => void res.status(404).json({ error: 'not_found', message: 'Only /metrics and /health.' }),
  );
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(port, ctx.config.MCP_HOST, (error?: Error) => (error ? reject(error) : resolve(s)));
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
