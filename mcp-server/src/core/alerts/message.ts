/**
 * Alert message text: a user template with `{placeholders}`, or the default one-line text.
 *
 * Messages go out as plain text (WhatsApp through Twilio, webhooks as JSON), so nothing is HTML- or
 * markdown-escaped; only control characters other than newline and tab are dropped, so a value or a
 * template cannot smuggle terminal escapes or NULs into a log or a provider. The body is capped at
 * Twilio's WhatsApp limit of 1,600 characters.
 */

/** Twilio's WhatsApp body limit, in characters (UTF-16 code units). */
export const MAX_MESSAGE_LENGTH = 1600;

export interface MessageContext {
  alert_id: string;
  symbol: string;
  /** Timeframe of the candle that fired it (omitted for ticks). */
  timeframe?: string;
  /** Last price (close of that candle, or the tick). */
  price: number;
  /** The condition as an expression. */
  condition: string;
  /** The condition with the values that made it hold, e.g. `close 70,250.50 > 70,000`. */
  summary: string;
  /** Firing time, ms since the epoch. */
  at: number;
  values: Record<string, number>;
}

const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2, minimumFractionDigits: 2 });
const whole = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const small = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 6 });

/** `70,250.50`, `70,000`, `28.40`, `0.000123`: grouped, two decimals unless whole or below 1. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x)) return whole.format(x);
  return Math.abs(x) >= 1 ? grouped.format(x) : small.format(x);
}

/** `2026-11-21 12:00 UTC`. */
export function formatTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** The default text, e.g. `BTC/USDT 4h close 70,250.50 > 70,000 (alert "close > 70000") at 2026-11-21 12:00 UTC. Reply STOP to stop alerts.` */
export const DEFAULT_TEMPLATE =
  '{symbol} {summary} (alert "{condition}") at {time}. Reply STOP to stop alerts.';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;
const PLACEHOLDER = /\{([^{}\n]{1,64})\}/g;

/**
 * Substitute `{symbol}`, `{price}`, `{timeframe}`, `{condition}`, `{summary}`, `{time}`, `{alert_id}`
 * and any series value by its key (`{rsi(14,1h)}`, `{close(4h)}`). Unknown placeholders stay visible as
 * written, so a typo shows in the message instead of vanishing. The result is cut to 1,600 characters
 * with an ellipsis.
 *
 * @param template user template, or null for `DEFAULT_TEMPLATE`
 */
export function renderMessage(template: string | null, ctx: MessageContext): string {
  const fixed: Record<string, string> = {
    symbol: ctx.symbol,
    price: formatNumber(ctx.price),
    timeframe: ctx.timeframe ?? '',
    condition: ctx.condition,
    summary: ctx.summary,
    time: formatTime(ctx.at),
    alert_id: ctx.alert_id,
  };
  const text = (template ?? DEFAULT_TEMPLATE).replace(PLACEHOLDER, (match, name: string) => {
    const key = name.trim();
    if (Object.hasOwn(fixed, key)) return fixed[key]!;
    if (Object.hasOwn(ctx.values, key)) return formatNumber(ctx.values[key]!);
    return match;
  });
  return truncate(text.replace(CONTROL, '').trim());
}

function truncate(text: string): string {
  if (text.length <= MAX_MESSAGE_LENGTH) return text;
  let cut = MAX_MESSAGE_LENGTH - 1;
  // Do not split a surrogate pair.
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut--;
  return `${text.slice(0, cut)}…`;
}
