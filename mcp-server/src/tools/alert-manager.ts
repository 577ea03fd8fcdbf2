/**
 * `alert_manager`: a caller's alerts: create, update, delete, list, pause, resume, and the history of
 * what fired and how its message was delivered. Conditions in the expression language or as JSON.
 */
import { z } from 'zod';
import { defineTool } from './tool.js';
import { exchangeSchema, symbolSchema, timeframeSchema } from './schemas.js';
import { formatAlertSummary } from '../services/alerts/alert-text.js';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a local time as HH:MM, e.g. 22:30');

const timeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'an IANA time zone such as Europe/Berlin or America/New_York' },
);

export const alertManagerInput = z.object({
  action: z
    .enum(['create', 'update', 'delete', 'list', 'pause', 'resume', 'history'])
    .describe('What to do; update/delete/pause/resume/history need alert_id'),
  alert_id: z.uuid('alert_id is the id a create or list answer gave (a UUID)').optional(),
  symbol: symbolSchema.optional().describe('Market the condition reads, e.g. BTCUSDT (create)'),
  exchange: exchangeSchema.optional(),
  timeframe: timeframeSchema
    .optional()
    .describe("Timeframe of series written without one: default 1h on create, the alert's own on update"),
  condition: z
    .union([
      z.string().trim().min(1).max(2000),
      z.record(z.string(), z.unknown()).describe('Structured condition JSON'),
    ])
    .optional()
    .describe(
      'When to alert, e.g. "close(4h) > 70000", "rsi(14, 1h) < 30 or price > 80000", ' +
        '"cross_above(ema(20), ema(50))", "choch_bullish(4h)", "abs(move(24, 1h)) > 5%", a volume surge ' +
        '"volume_ratio(20, 1h) > 3", or the original ' +
        '"price > 50000" / "rsi < 30". Candle conditions are checked when a candle closes, price on ticks.',
    ),
  alert_type: z
    .enum(['price', 'technical', 'volume', 'news', 'risk'])
    .optional()
    .describe("The original tool's category (informative; news is not available)"),
  phone_number: z
    .string()
    .regex(/^\+[1-9]\d{7,14}$/, 'phone_number must be E.164: + and country code, e.g. +4915112345678')
    .optional()
    .describe('WhatsApp recipient in E.164'),
  webhook_url: z
    .url({ protocol: /^https?$/, error: 'webhook_url must be an http(s) URL' })
    .optional()
    .describe('Receives a signed JSON POST per firing (X-Signature: sha256=HMAC of the body)'),
  message_template: z
    .string()
    .max(1000)
    .optional()
    .describe('Message text with {symbol}, {price}, {condition}, {time} or series values like {rsi(14,1h)}'),
  repeat: z
    .enum(['once', 'repeat'])
    .optional()
    .describe('once (default): fire the first time it holds; repeat: again after cooldown_minutes'),
  cooldown_minutes: z.number().int().min(1).max(10_080).optional().describe('Default 60'),
  expires_at: z.iso.datetime({ offset: true }).optional().describe('Default 30 days from creation'),
  quiet_hours: z
    .object({ start: hhmm, end: hhmm, time_zone: timeZone })
    .optional()
    .describe("No messages between start and end in the recipient's time zone"),
  limit: z.number().int().min(1).max(500).default(20).describe('history: firings to show'),
});

const alertOut = z.object({
  id: z.string(),
  symbol: z.string().nullable(),
  exchange: z.string(),
  timeframe: z.string(),
  expression: z.string(),
  condition: z.record(z.string(), z.unknown()),
  channel: z.object({ type: z.enum(['whatsapp', 'webhook']), to: z.string().describe('Phone masked') }),
  template: z.string().nullable(),
  repeat: z.enum(['once', 'repeat']),
  cooldown_minutes: z.number().nullable(),
  expires_at: z.string().nullable(),
  quiet_hours: z.object({ start: z.string(), end: z.string(), time_zone: z.string() }).nullable(),
  status: z.enum(['active', 'paused', 'fired', 'expired', 'deleted']),
  created_at: z.string(),
  updated_at: z.string(),
  last_fired_at: z.string().nullable(),
});

export const alertManagerOutput = z.object({
  action: z.string(),
  alert: alertOut.nullable(),
  alerts: z.array(alertOut).nullable(),
  history: z
    .array(
      z.object({
        fired_at: z.string(),
        values: z.record(z.string(), z.number()).describe('The values that made the condition hold'),
        message: z.string(),
        outbox_id: z
          .string()
          .nullable()
          .describe("The message's delivery id: a webhook's X-Idempotency-Key and its payload's outbox_id"),
        message_sid: z
          .string()
          .nullable()
          .describe('Twilio message SID of a WhatsApp message once Twilio has it'),
        delivery: z.enum(['pending', 'sending', 'sent', 'failed', 'skipped']).nullable(),
        attempts: z.number().int(),
        error: z.string().nullable().describe('Provider error code and message, or why it was skipped'),
        provider_status: z
          .string()
          .nullable()
          .describe('Twilio delivery status: delivered, read, failed, ...'),
      }),
    )
    .nullable(),
  delivery: z.object({ whatsapp: z.string(), webhook: z.string() }),
  notes: z.array(z.string()),
});

export const alertManagerTool = defineTool({
  name: 'alert_manager',
  title: 'Manage alerts',
  description:
    'Create, update, delete, list, pause or resume alerts, and see their history. An alert watches a condition ' +
    '(price levels and crosses, percent moves, RSI/MACD/EMA/Bollinger, smart-money events such as BOS/CHoCH, ' +
    'order-block or FVG entries and liquidity sweeps, volume) on closed candles or live prices, and sends one ' +
    'short message to WhatsApp (E.164 number) or a signed webhook when it holds: once, or repeating with a ' +
    'cooldown, with expiry and quiet hours. Recipients reply STOP to stop messages.',
  input: alertManagerInput,
  output: alertManagerOutput,
  annotations: { readOnlyHint: false, openWorldHint: true, idempotentHint: false, destructiveHint: true },
  handler: (args, ctx, call) => ctx.alerts.manage(args, call.caller),
  summarize: formatAlertSummary,
});
