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
  /authorization|cookie|token|secret|passw|^pw$|api[_-]?key|credential|private[_-]?key|^auth$|signature/i;
/** Field names that hold a person's number or address (a webhook URL can carry its own token). */
const PERSONAL_KEY = /^(phone|phone_?number|msisdn|recipients?)$/i;
/**
 * International numbers as WhatsApp and Twilio write them: + (or %2B in form bodies) and 8-15 digits
 * with optional separators, not followed by another digit. Numbers without the + are not recognisable
 * from other digit runs (times, ids); the product only stores and sends E.164 numbers, which carry it.
 */
const PHONE = /(whatsapp(:|%3A))?(\+|%2B)\d(?:[\s().-]{0,2}\d){7,14}(?!\d)/gi;
/** `Authorization: <scheme> <credentials>` and signature headers inside text, any case, scheme kept. */
const INLINE_AUTH =
  /(?<![A-Za-z0-9])((?:proxy-)?authori[sz]ation|[\w-]*signature)(\\?["']?\s*[=:]\s*\\?["']?)(?:(bearer|basic|token|digest)\s+)?[^&\s"',}\\]+/gi;
/** Bearer and Basic credentials wherever they appear (header values, messages). */
const BEARER_OR_BASIC = /\b(Bearer|bearer|BEARER|Basic|BASIC)\s+[A-Za-z0-9._~+/=-]+/g;
/**
 * `token=...`, `"apiKey":"..."`, `client_secret: ...`, `phone=...` inside free text, JSON or query
 * strings, also JSON inside a JSON string (`\"token\":\"...\"`).
 */
const INLINE_SECRET =
  /(?<![A-Za-z0-9])([\w-]*(?:token|secret|api[_-]?key|passw(?:or)?d|phone))(\\?["']?\s*[=:]\s*\\?["']?)[^&\s"',}\\]+/gi;
/** Credentials in URLs: scheme://user:password@host, also with an empty user or an @ in the password. */
const URL_USERINFO = /(\/\/)[^/\s:@]*:[^\s/]*@/g;
/** Error properties worth keeping (codes, statuses, a driver's hint); strings among them are redacted. */
const ERROR_FIELDS = [
  'code',
  'status',
  'statusCode',
  'errno',
  'syscall',
  'detail',
  'hint',
  'moreInfo',
  'reason',
  'details',
];
const MAX_DEPTH = 8;

/** Configured secrets (API keys, tokens, passwords in URLs), replaced wherever they appear in text. */
let knownSecrets: string[] = [];

/**
 * Registers values that must never be written, whatever surrounds them: the configured API keys, tokens
 * and connection-string passwords. Values shorter than 8 characters are ignored (too likely to occur by
 * chance in ordinary text).
 */
export function registerSecrets(values: readonly (string | undefined | null)[]): void {
  const add = values.filter((v): v is string => typeof v === 'string' && v.length >= 8);
  knownSecrets = [...new Set([...knownSecrets, ...add])].sort((a, b) => b.length - a.length);
}

function redactText(text: string): string {
  let out = text;
  for (const secret of knownSecrets) if (out.includes(secret)) out = out.split(secret).join('[redacted]');
  return out
    .replace(INLINE_AUTH, (_m, name: string, sep: string, scheme: string | undefined) =>
      scheme ? `${name}${sep}${scheme} [redacted]` : `${name}${sep}[redacted]`,
    )
    .replace(BEARER_OR_BASIC, '$1 [redacted]')
    .replace(INLINE_SECRET, '$1$2[redacted]')
    .replace(URL_USERINFO, '$1[redacted]@')
    .replace(PHONE, '[phone]');
}

/**
 * Redact secrets (by key name, by known value, by shape in text) and phone-number-like digit runs from a
 * log payload.
 */
export function redact(value: unknown, key = ''): unknown {
  return redactValue(value, key, 0, new WeakSet());
}

function redactValue(value: unknown, key: string, depth: number, seen: WeakSet<object>): unknown {
  if (SECRET_KEY.test(key)) return '[redacted]';
  if (PERSONAL_KEY.test(key) && value !== null && value !== undefined) return '[redacted]';
  if (typeof value === 'string') return redactText(value);
  if (!value || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[nested too deep]';
  seen.add(value);
  const next = (v: unknown, k = '') => redactValue(v, k, depth + 1, seen);
  if (Array.isArray(value)) return value.map((v) => next(v));
  if (value instanceof Error) {
    // The stack is kept (redacted) so unexpected failures can be debugged from the log; of the other
    // properties only known, small ones (never a driver's request or response objects).
    const out: Record<string, unknown> = { name: value.name, message: next(value.message) };
    const fields = value as unknown as Record<string, unknown>;
    for (const f of ERROR_FIELDS) if (fields[f] !== undefined) out[f] = next(fields[f], f);
    if (value.cause !== undefined) out.cause = next(value.cause);
    if (value instanceof AggregateError) out.errors = next(value.errors);
    out.stack = next(value.stack ?? '');
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = next(v, k);
  return out;
}

function write(level: Level, msg: string, fields?: Record<string, unknown>): void {
  if (order[level] < threshold) return;
  const line = {
    t: new Date().toISOString(),
    level,
    msg: redactText(msg),
    ...(fields ? (redact(fields) as object) : {}),
  };
  process.stderr.write(JSON.stringify(line) + '\n');
}

export const log = {
  debug: (msg: string, fields?: Record<string, unknown>) => write('debug', msg, fields),
  info: (msg: string, fields?: Record<string, unknown>) => write('info', msg, fields),
  warn: (msg: string, fields?: Record<string, unknown>) => write('warn', msg, fields),
  error: (msg: string, fields?: Record<string, unknown>) => write('error', msg, fields),
};
