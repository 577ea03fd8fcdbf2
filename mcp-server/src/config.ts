/**
 * Runtime configuration from environment variables, validated once at start. A bad value stops the
 * process with a message naming the variable and what it accepts, instead of failing later.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

const list = z
  .string()
  .optional()
  .transform((s) =>
    (s ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  );

/** An optional connection string; empty counts as unset (compose files often pass `VAR=`). */
const connectionUrl = (pattern: RegExp, accepts: string) =>
  z.preprocess((v) => (v === '' ? undefined : v), z.string().regex(pattern, accepts).optional());

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/**
 * Host names as the Host/Origin checks compare them: lower case, no scheme, port or path (the SDK
 * matches bare host names, so `mcp.example.com:443` or `https://app.example.com` would refuse every
 * request). Bracketed IPv6 literals such as `[::1]` are accepted.
 */
const hostList = list.pipe(
  z.array(
    z
      .string()
      .toLowerCase()
      .regex(
        /^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)$/,
        'host names only, without scheme, port or path (e.g. mcp.example.com)',
      ),
  ),
);

const envSchema = z.object({
  MCP_HOST: z.string().min(1).default('127.0.0.1').describe('Interface the HTTP server binds to'),
  MCP_PORT: z.coerce.number().int().min(0).max(65535).default(8080).describe('HTTP port'),
  MCP_API_KEYS: list.describe('Comma-separated bearer API keys accepted on HTTP'),
  MCP_ALLOWED_HOSTS: hostList.describe(
    'Extra Host header names accepted (e.g. your public host behind nginx)',
  ),
  MCP_ALLOWED_ORIGINS: hostList.describe('Extra browser Origin host names accepted'),
  METRICS_TOKEN: optionalString(
    /^\S{16,}$/,
    'a bearer token of at least 16 characters that Prometheus sends to scrape /metrics',
  ),
  WORKER_METRICS_PORT: z
    .preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(0).max(65535).optional())
    .describe('Port on which `crypto-mcp worker` serves /metrics (METRICS_TOKEN) and /health; unset: none'),
  DATA_SOURCE: z.enum(['auto', 'exchange', 'offline']).default('auto'),
  EXCHANGE: z
    .string()
    .regex(/^[a-z0-9]+$/, 'a ccxt exchange id such as binance, kraken or okx')
    .default('binance'),
  EXCHANGE_API_URL: z.url().optional().describe('Override of the exchange REST base URL (proxies, tests)'),
  EXCHANGE_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  SNAPSHOT_DIR: z.string().optional(),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  DATABASE_URL: connectionUrl(
    /^postgres(ql)?:\/\//,
    'a postgres:// or postgresql:// connection string',
  ).describe('Postgres for portfolios, audit log and the archive; without it an embedded PGlite database'),
  DATA_DIR: z
    .string()
    .min(1)
    .optional()
    .describe('Where the embedded PGlite database lives when DATABASE_URL is unset; "memory" keeps nothing'),
  REDIS_URL: connectionUrl(/^rediss?:\/\//, 'a redis:// or rediss:// URL').describe(
    'Redis for the shared cache and rate limits; without it an in-process cache',
  ),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_.-]{1,64}$/, 'letters, digits and : _ . - (e.g. crypto-mcp:prod:)')
    .default('crypto-mcp:')
    .describe('Prefix of every Redis key, so environments can share one Redis'),
  MONGODB_URL: connectionUrl(
    /^mongodb(\+srv)?:\/\//,
    'a mongodb:// or mongodb+srv:// connection string',
  ).describe('MongoDB for the analysis archive; without it a Postgres JSONB table'),
  RATE_LIMIT_PER_MINUTE: z.coerce
    .number()
    .int()
    .min(0)
    .default(60)
    .describe('Tool calls per minute per API key and tool over HTTP; 0 turns the limit off'),
  TWILIO_ACCOUNT_SID: optionalString(
    /^AC[0-9a-fA-F]{32}$/,
    'a Twilio account SID: AC followed by 32 hex digits',
  ),
  TWILIO_AUTH_TOKEN: optionalString(/^\S{16,}$/, 'the Twilio auth token (at least 16 characters)'),
  TWILIO_WHATSAPP_FROM: optionalString(
    /^(whatsapp:)?\+[1-9]\d{7,14}$/,
    'the WhatsApp sender in E.164, e.g. +14155238886 or whatsapp:+14155238886',
  ),
  TWILIO_TEMPLATE_SID: optionalString(
    /^HX[0-9a-fA-F]{32}$/,
    'an approved WhatsApp template Content SID: HX followed by 32 hex digits',
  ),
  TWILIO_API_URL: z.url().optional().describe('Override of the Twilio API base URL (a test stub)'),
  PUBLIC_BASE_URL: z
    .url()
    .optional()
    .describe('Public https URL of this server (behind nginx), for Twilio status callbacks'),
  ALERT_FEED: z
    .enum(['websocket', 'polling'])
    .default('websocket')
    .describe(
      'websocket: ccxt watchers where the exchange has them, REST polling elsewhere; polling: REST only',
    ),
  EXCHANGE_WS_URL: z.url().optional().describe('Override of the exchange WebSocket URL (proxies, tests)'),
  HTTP_RUNS_ALERTS: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true')
    .describe(
      'Whether `crypto-mcp http` also evaluates and delivers alerts; false when a `crypto-mcp worker` does it',
    ),
  HTTP_RUNS_JOBS: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true')
    .describe(
      'Whether `crypto-mcp http` runs scans, opportunity searches and backtests itself; false hands them ' +
        'to `crypto-mcp worker` over BullMQ (needs REDIS_URL)',
    ),
  WORKER_JOB_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(32)
    .default(2)
    .describe('Tool jobs (scans, backtests) one `crypto-mcp worker` runs at once'),
  JOB_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(1_000)
    .max(3_600_000)
    .default(300_000)
    .describe('How long a replica waits for a worker to finish a tool job, queue time included'),
  RETENTION_DAYS: z.coerce
    .number()
    .int()
    .min(0)
    .max(3650)
    .default(90)
    .describe(
      'Days the audit log, finished alert messages and Twilio status callbacks are kept (0: forever); ' +
        'pruned by the process that delivers alerts',
    ),
  ALERT_WEBHOOK_ALLOW_PRIVATE: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .describe('Let alert webhooks call loopback/private addresses (a self-hosted n8n on the LAN)'),
  WEBHOOK_SIGNING_SECRET: optionalString(
    /^\S{16,}$/,
    'a secret of at least 16 characters for signing alert webhooks',
  ),
});

/** An optional setting matching `pattern`; empty counts as unset. */
function optionalString(pattern: RegExp, accepts: string) {
  return z.preprocess((v) => (v === '' ? undefined : v), z.string().regex(pattern, accepts).optional());
}

/** `$XDG_DATA_HOME/crypto-mcp`, else `~/.local/share/crypto-mcp`. */
function defaultDataDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(base, 'crypto-mcp');
}

export type Config = Omit<z.infer<typeof envSchema>, 'DATA_DIR'> & { DATA_DIR: string; requireAuth: boolean };

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parse and check the environment. Throws ConfigError with every problem listed. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const cfg = parsed.data;
  // Reachable from beyond this machine: bound to a public interface, or published through a proxy
  // under a public host name. Either way the API needs keys.
  const publicHost = cfg.MCP_ALLOWED_HOSTS.find((h) => !LOOPBACK.has(h) && h !== '[::1]');
  const exposure = !LOOPBACK.has(cfg.MCP_HOST)
    ? `MCP_HOST (${cfg.MCP_HOST}) is not a loopback address`
    : publicHost !== undefined
      ? `MCP_ALLOWED_HOSTS publishes the server as ${publicHost}`
      : null;
  if (exposure !== null && cfg.MCP_API_KEYS.length === 0) {
    throw new ConfigError(
      `Invalid configuration:\n  MCP_API_KEYS: required because ${exposure}; ` +
        'set one or more comma-separated keys (e.g. MCP_API_KEYS=$(openssl rand -hex 32)).',
    );
  }
  if (!cfg.HTTP_RUNS_JOBS && !cfg.REDIS_URL) {
    throw new ConfigError(
      'Invalid configuration:\n  HTTP_RUNS_JOBS: false hands scans and backtests to `crypto-mcp worker` ' +
        'over BullMQ, which needs Redis: set REDIS_URL (or leave HTTP_RUNS_JOBS unset).',
    );
  }
  const weak = cfg.MCP_API_KEYS.find((k) => k.length < 16);
  if (weak !== undefined) {
    throw new ConfigError(
      'Invalid configuration:\n  MCP_API_KEYS: every key must be at least 16 characters long.',
    );
  }
  return {
    ...cfg,
    DATA_DIR: cfg.DATA_DIR ?? defaultDataDir(env),
    requireAuth: cfg.MCP_API_KEYS.length > 0,
  };
}

/**
 * Values the logger must never write (logger's registerSecrets): the API keys, tokens and signing
 * secret, and the passwords inside the connection strings, as written and decoded.
 */
export function secretValues(config: Config): string[] {
  const passwords = [config.DATABASE_URL, config.REDIS_URL, config.MONGODB_URL].flatMap((url) => {
    if (!url) return [];
    try {
      const { password } = new URL(url);
      return password ? [password, decodeURIComponent(password)] : [];
    } catch {
      return [];
    }
  });
  return [
    ...config.MCP_API_KEYS,
    ...passwords,
    ...[config.METRICS_TOKEN, config.TWILIO_AUTH_TOKEN, config.WEBHOOK_SIGNING_SECRET].filter(
      (v): v is string => v !== undefined,
    ),
  ];
}

export const isLoopbackHost = (host: string): boolean => LOOPBACK.has(host);
