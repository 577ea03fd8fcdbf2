#!/usr/bin/env node
/**
 * crypto-mcp: the MCP server (stdio or Streamable HTTP) and a command-line analyzer.
 *
 *   crypto-mcp http                      Streamable HTTP on MCP_HOST:MCP_PORT/mcp (default 127.0.0.1:8080)
 *   crypto-mcp stdio                     MCP over stdin/stdout (Claude Desktop)
 *   crypto-mcp worker                    alert delivery and tool jobs (several may run: rows and jobs are claimed, never shared)
 *   crypto-mcp migrate                   apply pending database migrations, print the schema version, exit
 *   crypto-mcp analyze BTC/USDT --timeframe 4h [--exchange binance] [--limit 500] [--compare ETHUSDT] [--json]
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, secretValues, type Config } from './config.js';
import { createAppContext, VERSION } from './services/app.js';
import { startHttpServer } from './server/http.js';
import { startWorkerMetrics } from './server/worker-metrics.js';
import { startToolJobWorker, type ToolJobWorker } from './server/tool-job-worker.js';
import { startStdioServer } from './server/stdio.js';
import { analyzeCryptoInput } from './tools/analyze-crypto.js';
import { describeIssues } from './tools/schemas.js';
import { formatReportSummary } from './services/report-text.js';
import { isAppError } from './errors.js';
import { log, registerSecrets, setLogLevel } from './logger.js';
import { PgDatabase } from './store/pg-database.js';
import { PgliteDatabase } from './store/pglite-database.js';
import { startRetention } from './store/retention.js';

const USAGE = `crypto-mcp ${VERSION}: crypto market intelligence over MCP

Usage:
  crypto-mcp http                  serve MCP over Streamable HTTP (MCP_HOST:MCP_PORT, default 127.0.0.1:8080, path /mcp)
  crypto-mcp stdio                 serve MCP over stdin/stdout (for Claude Desktop and other local clients)
  crypto-mcp worker                deliver alert messages (WhatsApp, webhooks) and, with REDIS_URL, run the scans,
                                   opportunity searches and backtests that replicas with HTTP_RUNS_JOBS=false hand over
  crypto-mcp migrate               apply pending database migrations (DATABASE_URL, else PGlite in DATA_DIR) and exit
  crypto-mcp analyze <symbol>      print an analysis, e.g. crypto-mcp analyze BTC/USDT --timeframe 4h
      --timeframe, -t <tf>         1m 5m 15m 30m 1h 2h 4h 6h 12h 1d 1w ... (default 1h)
      --exchange, -e <id>          ccxt exchange id (default: EXCHANGE or binance)
      --limit, -l <n>              closed candles to analyse, 100-1000 (default 500)
      --compare, -c <symbol>       comparison symbol for correlation and relative strength
      --json                       print the structured result as JSON

Configuration comes from environment variables; see README.md.`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      timeframe: { type: 'string', short: 't' },
      exchange: { type: 'string', short: 'e' },
      limit: { type: 'string', short: 'l' },
      compare: { type: 'string', short: 'c' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(USAGE + '\n');
    return command === undefined && !values.help ? 2 : 0;
  }

  const config = loadConfig();
  setLogLevel(config.LOG_LEVEL);
  registerSecrets(secretValues(config));
  if (command === 'migrate') return migrateCommand(config);
  const ctx = await createAppContext(config);

  switch (command) {
    case 'http': {
      const { url, close } = await startHttpServer(ctx);
      ctx.jobs?.start(); // reading the job events before the first call is handed over
      // Before the line that tells a supervisor we are up: a signal sent at once must find the handler.
      onShutdown(() => close().then(() => ctx.close()));
      // One process by default; in a stack with a worker the replicas only serve (HTTP_RUNS_ALERTS=false),
      // and the worker also retires old rows.
      if (config.HTTP_RUNS_ALERTS) {
        startDelivery(ctx);
        startRetention(ctx.stores.database, config.RETENTION_DAYS);
      }
      log.info('MCP Streamable HTTP server listening', {
        url,
        data_source: config.DATA_SOURCE,
        exchange: config.EXCHANGE,
        access: config.requireAuth
          ? 'bearer API key required'
          : 'open on loopback (set MCP_API_KEYS to require keys)',
      });
      return -1; // keep running
    }
    case 'worker': {
      // One handler for the whole process: each handler exits when it is done, so the metrics server
      // closing first must not cut the job or delivery drain short.
      let metrics: { close: () => Promise<void> } | null = null;
      let jobs: ToolJobWorker | null = null;
      onShutdown(async () => {
        await metrics?.close();
        await jobs?.close();
        await ctx.close();
      });
      const delivering = startDelivery(ctx);
      startRetention(ctx.stores.database, config.RETENTION_DAYS);
      if (config.REDIS_URL) jobs = startToolJobWorker(ctx, config.REDIS_URL);
      if (!delivering && !jobs) {
        process.stderr.write(
          'The worker has nothing to do: set REDIS_URL to run the tool jobs replicas hand over ' +
            '(HTTP_RUNS_JOBS=false), and/or a delivery channel: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and ' +
            'TWILIO_WHATSAPP_FROM for WhatsApp, or WEBHOOK_SIGNING_SECRET for webhooks.\n',
        );
        await ctx.close();
        return 2;
      }
      if (!delivering) log.info('no delivery channel configured: this worker runs tool jobs only');
      if (config.WORKER_METRICS_PORT !== undefined) {
        if (!config.METRICS_TOKEN) {
          log.warn('WORKER_METRICS_PORT is set without METRICS_TOKEN: no metrics are served');
        } else {
          const server = await startWorkerMetrics(ctx, config.WORKER_METRICS_PORT);
          metrics = server;
          log.info('worker metrics listening', { url: `${server.url}/metrics` });
        }
      }
      return -1;
    }
    case 'stdio':
      startStdioServer(ctx);
      log.info('MCP stdio server ready', { data_source: config.DATA_SOURCE, exchange: config.EXCHANGE });
      return -1;
    case 'analyze': {
      const parsed = analyzeCryptoInput.safeParse({
        symbol: rest[0],
        ...(values.timeframe ? { timeframe: values.timeframe } : {}),
        ...(values.exchange ? { exchange: values.exchange } : {}),
        ...(values.limit ? { limit: Number(values.limit) } : {}),
        ...(values.compare ? { comparison_symbol: values.compare } : {}),
      });
      if (!parsed.success) {
        process.stderr.write(`Invalid arguments: ${describeIssues(parsed.error)}\n`);
        return 2;
      }
      const result = await ctx.analysis.analyze(parsed.data).finally(() => ctx.close());
      process.stdout.write(
        values.json ? JSON.stringify(result, null, 2) + '\n' : formatReportSummary(result) + '\n',
      );
      return 0;
    }
    default:
      process.stderr.write(`Unknown command "${command}".\n\n${USAGE}\n`);
      return 2;
  }
}

/**
 * Applies pending migrations the way a server does at start (the first query migrates, under the advisory
 * lock, so it is safe beside running replicas) and prints the versions the database is at. Opens only the
 * database: no market data, no Redis.
 */
async function migrateCommand(config: Config): Promise<number> {
  const db = config.DATABASE_URL
    ? new PgDatabase({ connectionString: config.DATABASE_URL })
    : new PgliteDatabase({ dataDir: config.DATA_DIR });
  try {
    const rows = await db.query<{ version: number; name: string }>(
      'select version, name from schema_migrations order by version',
    );
    const labels = rows.map((r) => `${String(r.version).padStart(4, '0')}_${r.name}`);
    process.stdout.write(
      `database (${db.backend}) is at schema version ${rows.at(-1)?.version ?? 0}: ${labels.join(', ')}\n`,
    );
    return 0;
  } finally {
    await db.close();
  }
}

/**
 * Starts alert evaluation and the outbox dispatcher when a channel is configured; false when there is
 * nothing to deliver. A database that is not reachable yet delays evaluation, retried every minute; it
 * never stops the server.
 */
function startDelivery(ctx: Awaited<ReturnType<typeof createAppContext>>): boolean {
  if (!ctx.delivery.whatsapp && !ctx.delivery.webhook) return false;
  ctx.delivery.start();
  const startEngine = (): void => {
    ctx.alertEngine.start().catch((error: unknown) => {
      log.warn('alert evaluation not started; retrying in 60 s', { error });
      setTimeout(startEngine, 60_000).unref();
    });
  };
  startEngine();
  log.info('alert delivery running', { whatsapp: ctx.delivery.whatsapp, webhook: ctx.delivery.webhook });
  return true;
}

/**
 * Closes cleanly on SIGINT/SIGTERM, then exits 0. Registered before anything announces the process as
 * ready: until a handler exists the kernel's default action kills the process at once, uncleanly.
 */
function onShutdown(close: () => Promise<void>): void {
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    void close()
      .catch((error: unknown) => log.error('shutdown failed', { error }))
      .finally(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    if (err instanceof ConfigError || isAppError(err)) process.stderr.write(`${err.message}\n`);
    else if (
      err instanceof Error &&
      err.name === 'TypeError' &&
      'code' in err &&
      String(err.code).startsWith('ERR_PARSE_ARGS')
    ) {
      process.stderr.write(`${err.message}\n\n${USAGE}\n`);
    } else log.error('fatal', { error: err });
    process.exit(isAppError(err) ? 1 : 2);
  },
);
