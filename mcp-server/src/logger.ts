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

const SECRET_KEY =
  /^(authorization|cookie|set-cookie)$|token|secret|passw(or)?d|^pw$|api[_-]?key|credential/i;
/** International numbers as WhatsApp and Twilio use them (+ and 8-15 digits, optional separators). */
const PHONE = /(whatsapp:)?\+\d(?:[\s().-]{0,2}\d){7,14}\b/g;
const BEARER = /Bearer\s+[A-Za-z0-9._~+/=-]+/g;
const INLINE_SECRET = /\b(token|api[_-]?key|secret|password|auth[_-]?token)=([^&\s]+)/gi;

/** Redact secrets (by key name) and phone-number-like digit runs (by shape) from a log payload. */
export function redact(value: unknown, key = ''): unknown {
  if (SECRET_KEY.test(key)) return '[redacted]';
  if (typeof value === 'string') {
    return value
      .replace(BEARER, 'Bearer [redacted]')
      .replace(INLINE_SECRET, '$1=[redacted]')
      .replace(PHONE, '[phone]');
  }
  if (Array.isArray(value)) return value.map((v) => redact(v));
  if (value instanceof Error) {
    // The stack is kept (redacted) so unexpected failures can be debugged from the log.
    return { name: value.name, message: redact(value.message), stack: redact(value.stack ?? '') };
  }
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
