/**
 * JSON-lines logger on stderr. stdout belongs to the stdio MCP transport, so nothing here ever
 * writes to it. Values that look like secrets or phone numbers are redacted before they are written.
 */
type Level = 'debug' | 'info' | 'warn' | 'error';
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

let threshold: number =
  order[(process.env.LOG_LEVEL as Level) in order ? (process.env.LOG_LEVEL as Level) : 'info'];

export function setLogLevel(level: Level): void {
  threshold = order[level];
}

const SECRET_KEY = /(authorization|token|secret|password|api[_-]?key|auth)/i;
const PHONE = /\+?\d[\d\s-]{7,}\d/g;
const BEARER = /Bearer\s+[A-Za-z0-9._~+/=-]+/g;

/** Redact secrets (by key name) and phone-number-like digit runs (by shape) from a log payload. */
export function redact(value: unknown, key = ''): unknown {
  if (SECRET_KEY.test(key)) return '[redacted]';
  if (typeof value === 'string') return value.replace(BEARER, 'Bearer [redacted]').replace(PHONE, '[phone]');
  if (Array.isArray(value)) return value.map((v) => redact(v));
  if (value instanceof Error) return { name: value.name, message: redact(value.message) };
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redact(v, k);
    return out;
  }
  return value;
}

function write(level: Level, msg: string, fields?: Record<string, unknown>): void {
  if (order[level] < threshold) return;
  const line = { t: new Date().toISOString(), level, msg, ...(fields ? (redact(fields) as object) : {}) };
  process.stderr.write(JSON.stringify(line) + '\n');
}

export const log = {
  debug: (msg: string, fields?: Record<string, unknown>) => write('debug', msg, fields),
  info: (msg: string, fields?: Record<string, unknown>) => write('info', msg, fields),
  warn: (msg: string, fields?: Record<string, unknown>) => write('warn', msg, fields),
  error: (msg: string, fields?: Record<string, unknown>) => write('error', msg, fields),
};
