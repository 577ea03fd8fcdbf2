/**
 * Operations endpoints beside the public liveness `/health`:
 *
 * - `GET /health/infrastructure`: every dependency measured now (services/infrastructure.ts); 200 while
 *   the server can serve (ok or degraded), 503 when a required dependency is down.
 * - `GET /metrics`: Prometheus text exposition of the process-wide registry, with the queue depths read
 *   just before rendering.
 *
 * Both sit behind `guard` (the API-key check when keys are configured, the loopback-only rule without
 * keys). `/metrics` also accepts `Authorization: Bearer <METRICS_TOKEN>`, so a scraper needs no API key
 * (which would also let it call the tools), and with the token under any Host (`scraperMetrics`).
 */
import { Router, type Request, type RequestHandler } from 'express';
import type { AppContext } from '../services/context.js';
import { checkInfrastructure, readQueueDepths } from '../services/infrastructure.js';
import {
  buildInfo,
  outboxMessages,
  queueJobs,
  registry,
  toolJobWorkers,
} from '../observability/instruments.js';
import { CONTENT_TYPE } from '../observability/metrics.js';
import { log } from '../logger.js';
import { bearerMatcher } from './auth.js';

export function observabilityRouter(ctx: AppContext, options: { guard: RequestHandler }): Router {
  const { guard } = options;
  const router = Router();

  router.get('/health/infrastructure', guard, async (_req, res) => {
    try {
      const report = await checkInfrastructure(ctx);
      res
        .status(report.status === 'down' ? 503 : 200)
        .set('Cache-Control', 'no-store')
        .json(report);
    } catch (error) {
      log.error('infrastructure check failed', { error });
      res.status(500).json({ status: 'error', version: ctx.version });
    }
  });

  // A scraper with METRICS_TOKEN is answered before the Host checks (scraperMetrics, mounted in http.ts).
  router.get('/metrics', guard, serveMetrics(ctx));
  return router;
}

/** Whether a request carries `Authorization: Bearer <METRICS_TOKEN>` (never, without a token). */
function scraperMatcher(ctx: AppContext): (req: Request) => boolean {
  const token = ctx.config.METRICS_TOKEN;
  const match = token ? bearerMatcher([token]) : null;
  return (req) => match !== null && match(req) === 0;
}

/**
 * GET /metrics for a scraper with METRICS_TOKEN, whatever the request's Host; anything else passes on.
 * Mounted before the Host and Origin checks: Prometheus scrapes each replica at its own address (found
 * through Docker's DNS, and sent as Host), which no Host allow-list can name. Those checks keep browsers
 * out (DNS rebinding), and a browser page cannot send the token.
 */
export function scraperMetrics(ctx: AppContext): RequestHandler {
  const isScraper = scraperMatcher(ctx);
  const serve = serveMetrics(ctx);
  return (req, res, next) => (isScraper(req) ? serve(req, res, next) : next());
}

/** The Prometheus exposition, with the queue depths read just before rendering. */
function serveMetrics(ctx: AppContext): RequestHandler {
  return async (_req, res) => {
    try {
      buildInfo.set({ version: ctx.version }, 1);
      const { outbox, alert_jobs, tool_jobs } = await readQueueDepths(ctx);
      // Depths that cannot be read now are left out rather than repeated from an earlier scrape.
      outboxMessages.reset();
      if (outbox.counts) {
        for (const status of ['pending', 'sending', 'failed'] as const) {
          outboxMessages.set({ status }, outbox.counts[status]);
        }
      }
      queueJobs.reset();
      toolJobWorkers.reset();
      if (tool_jobs.workers !== null) toolJobWorkers.set({}, tool_jobs.workers);
      for (const { queue, counts } of [alert_jobs, tool_jobs]) {
        for (const [state, n] of Object.entries(counts ?? {})) queueJobs.set({ queue, state }, n);
      }
      res
        .status(200)
        .set('Content-Type', CONTENT_TYPE)
        .set('Cache-Control', 'no-store')
        .send(registry.render());
    } catch (error) {
      log.error('metrics failed', { error });
      res.status(500).json({ error: 'internal', message: 'The metrics failed; the error was logged.' });
    }
  };
}
