/**
 * Charts of stored backtest runs over HTTP: `GET /charts/backtests/:runId/{equity|price}.{svg|png}`.
 * Mounted after the bearer-key check, like /mcp: a run belongs to the key that made it (its id from
 * req.auth), or to 'local' without keys, and another key's run is simply not found.
 */
import { Router, type Request } from 'express';
import { isAppError } from '../errors.js';
import { log } from '../logger.js';
import type { BacktestService } from '../services/backtest.js';

const RUN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FILE = /^(equity|price)\.(svg|png)$/;

const STATUS: Record<string, number> = {
  NOT_FOUND: 404,
  INVALID_ARGUMENT: 400,
  STORE_UNAVAILABLE: 503,
  DATA_UNAVAILABLE: 503,
};

/** `ctx` is the AppContext (only its backtest service is used). */
export function chartsRouter(ctx: { backtest: Pick<BacktestService, 'chart'> }): Router {
  const router = Router();
  router.get('/charts/backtests/:runId/:file', (req, res) => {
    const { runId, file } = req.params;
    const match = FILE.exec(file ?? '');
    if (!runId || !RUN_ID.test(runId) || !match) {
      res.status(404).json({
        error: 'not_found',
        message: 'Charts are at /charts/backtests/<run_id>/equity.png (or price, or .svg).',
      });
      return;
    }
    const kind = match[1] as 'equity' | 'price';
    const format = match[2] as 'svg' | 'png';
    const owner = (req as Request & { auth?: { clientId?: string } }).auth?.clientId ?? 'local';
    void ctx.backtest.chart(owner, runId, kind, format).then(
      (chart) => {
        if (chart.format !== format) {
          res.status(503).json({
            error: 'unavailable',
            message: `${chart.note ?? 'PNG rendering is unavailable.'} Ask for ${kind}.svg instead.`,
          });
          return;
        }
        res
          .status(200)
          .type(chart.mimeType)
          .set({
            'Cache-Control': 'private, max-age=3600',
            'X-Content-Type-Options': 'nosniff',
            // An SVG opened directly in a browser runs no script and loads nothing.
            'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
          })
          .send(chart.data);
      },
      (err: unknown) => {
        if (isAppError(err)) {
          const status = STATUS[err.code] ?? 500;
          res.status(status).json({ error: err.code.toLowerCase(), message: err.message });
          return;
        }
        log.error('chart failed', { runId, kind, error: err });
        res
          .status(500)
          .json({ error: 'internal', message: 'The chart failed unexpectedly; the error was logged.' });
      },
    );
  });
  return router;
}
