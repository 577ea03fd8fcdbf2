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

/** Field names whose values are secret, whatever they hold. */
const SECRET_KEY =
  /authorization|cookie|token|secret|passw|^pw$|api[_-]?key|credential|private[_-]?key|^auth$/i;
/**
 * International numbers as WhatsApp and Twilio write them: + (or %2B in form bodies) and 8-15 digits
 * with optional separators. Numbers without the + are not recognisable from other digit runs (times,
 * ids); the product only stores and sends E.164 numbers, which carry it.
 */
const PHONE = /(whatsapp(:|%3A))?(\+|%2B)\d(?:[\s().-]{0,2}\d){7,14}\b/gi;
const BEARER_OR_BASIC = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g;
/** `token=...`, `"apiKey":"..."`, `client_secret: ...` inside free text, JSON or query strings. */
const INLINE_SECRET =
  /(?<![A-Za-z0-9])([\w-]*(?:token|secret|api[_-]?key|passw(?:or)?d))(["']?\s*[=:]\s*["']?)[^&\s"',}]+/gi;
/** Credentials in URLs: scheme://user:password@host. */
const URL_USERINFO = /(\/\/)[^/\s:@]+:[^@\s/]+@/g;

/** Redact secrets (by key name) and phone-number-like digit runs (by shape) from a log payload. */
export function redact(value: unknown, key = ''): unknown {
  if (SECRET_KEY.test(key)) return '[redacted]';
  if (typeof value === 'string') {
    return value
      .replace(BEARER_OR_BASIC, '$1 [redacted]')
      .replace(INLINE_SECRET, '$1$2[redacted]')
      .replace(URL_USERINFO, '$1[redacted]@')
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
