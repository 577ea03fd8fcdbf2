/**
 * Text helpers for WhatsApp through Twilio: number, time and age formatting, clean truncation to
 * Twilio's limits and the normalisation WhatsApp demands of template variables.
 *
 * Lengths are counted in UTF-16 code units (JavaScript's `length`). That is never less than the number
 * of characters Twilio counts, so a text within the limit here is within Twilio's limit too; a cut never
 * splits a surrogate pair (an emoji).
 */

/** Twilio's limit for a WhatsApp message body (error 21617 beyond it). */
export const MAX_BODY_LENGTH = 1600;
/** WhatsApp's limit for one template variable, and for the whole rendered template body (63021). */
export const MAX_VARIABLE_LENGTH = 1024;
/** Content templates take at most this many variables. */
export const MAX_VARIABLES = 100;
export const ELLIPSIS = '…';

// eslint-disable-next-line no-control-regex
const CONTROL_EXCEPT_NEWLINE_TAB = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

const grouped2 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
const sig6 = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 6 });
const sig5 = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 5 });

/**
 * A price or level as a trader reads it: `63,741.16`, `2.5535`, `0.04543`. Two decimals from 1,000 up,
 * six significant digits from 1 up, five below 1.
 */
export function formatPrice(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const abs = Math.abs(x);
  if (abs >= 1000) return grouped2.format(x);
  if (abs >= 1) return sig6.format(x);
  return sig5.format(x);
}

/** A plain quantity: grouped, at most two decimals (`1,321.95`, `72.2`). */
export function formatAmount(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return Math.abs(x) >= 1 || x === 0 ? grouped2.format(x) : sig5.format(x);
}

/** `5.42%`, with a leading `+` for positive values when `signed`. */
export function formatPct(x: number, signed = false, decimals = 2): string {
  if (!Number.isFinite(x)) return String(x);
  const text = x.toFixed(decimals);
  return `${signed && x > 0 ? '+' : ''}${text}%`;
}

/** An ISO time (or milliseconds) as `2026-05-15 16:00 UTC`; the input unchanged when it does not parse. */
export function formatTime(value: string | number): string {
  const ms = typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms)) return String(value);
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** A duration in the unit a person would use: `12 min`, `5 h`, `189 days`. */
export function formatAge(ms: number): string {
  const min = Math.max(0, Math.round(ms / 60_000));
  if (min < 120) return `${min} min`;
  const h = Math.round(min / 60);
  if (h < 72) return `${h} h`;
  return `${Math.round(h / 24)} days`;
}

/** Drop control characters other than newline and tab, unify line ends and trim. */
export function cleanText(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(CONTROL_EXCEPT_NEWLINE_TAB, '')
    .replace(/[ \t]+\n/g, '\n')
    .trim();
}

/** The longest prefix of at most `units` UTF-16 code units that does not end inside a surrogate pair. */
function safePrefix(text: string, units: number): string {
  let cut = Math.max(0, Math.min(units, text.length));
  if (cut > 0 && cut < text.length) {
    const code = text.charCodeAt(cut - 1);
    if (code >= 0xd800 && code <= 0xdbff) cut--;
  }
  return text.slice(0, cut);
}

/**
 * `text` cut to at most `max` code units with a trailing ellipsis. The cut goes at the last line break,
 * else at the last word break, as long as that keeps at least 60 % of the room; otherwise mid-word. Trailing
 * separators (`,;:·-` and spaces) before the ellipsis are dropped.
 */
export function truncateText(text: string, max: number): { text: string; truncated: boolean } {
  if (text.length <= max) return { text, truncated: false };
  if (max <= ELLIPSIS.length) return { text: safePrefix(ELLIPSIS, max), truncated: true };
  const room = max - ELLIPSIS.length;
  const prefix = safePrefix(text, room);
  // A line break is the cleanest cut, a word break the next best, as long as it keeps 60 % of the room.
  const next = text.charAt(prefix.length);
  const minKeep = Math.floor(room * 0.6);
  const newline = prefix.lastIndexOf('\n');
  const space = Math.max(prefix.lastIndexOf(' '), prefix.lastIndexOf('\t'));
  let cut = prefix;
  if (next === '\n') cut = prefix;
  else if (newline >= minKeep) cut = prefix.slice(0, newline);
  else if (next === ' ' || next === '\t') cut = prefix;
  else if (space >= minKeep) cut = prefix.slice(0, space);
  cut = cut.replace(/[\s,;:·-]+$/u, '');
  return { text: cut + ELLIPSIS, truncated: true };
}

/**
 * Lines of a message plus a footer that must survive truncation (data source, disclaimer). When the
 * whole text is too long, the body is cut cleanly and the footer follows it in full.
 */
export function fitWithFooter(
  body: string,
  footer: string,
  max: number,
  separator = '\n',
): { text: string; truncated: boolean } {
  const whole = footer ? `${body}${separator}${footer}` : body;
  if (whole.length <= max) return { text: whole, truncated: false };
  const room = max - footer.length - separator.length;
  // Too little room for a useful body: cut the whole text instead.
  if (!footer || room < 40) return truncateText(whole, max);
  const cut = truncateText(body, room);
  return { text: `${cut.text}${separator}${footer}`, truncated: true };
}

/**
 * A template variable as WhatsApp accepts it: text without control characters, new lines, tabs or runs
 * of spaces (WhatsApp rejects new lines, tabs and more than 4 consecutive spaces), trimmed, and cut to
 * `max` (1,024) characters. Objects are written as JSON. May return '' (the caller decides).
 */
export function normalizeVariable(value: unknown, max = MAX_VARIABLE_LENGTH): string {
  let text: string;
  if (value === null || value === undefined) text = '';
  else if (typeof value === 'string') text = value;
  else if (typeof value === 'number' || typeof value === 'boolean') text = String(value);
  else text = JSON.stringify(value);
  const flat = text.replace(CONTROL_EXCEPT_NEWLINE_TAB, '').replace(/\s+/g, ' ').trim();
  return truncateText(flat, max).text;
}
