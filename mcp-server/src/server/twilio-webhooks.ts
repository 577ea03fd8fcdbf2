/**
 * Twilio's webhooks: the status callback (each message's delivery status) and inbound WhatsApp messages
 * (STOP/START/HELP, and any inbound message opens the recipient's 24-hour window for free-form text).
 *
 * Twilio cannot send our bearer key, so these routes are authenticated by `X-Twilio-Signature` instead:
 * an HMAC-SHA1 of the public URL Twilio called plus the sorted form parameters, keyed by the auth token.
 * Behind nginx the URL the server sees is not the one Twilio signed, so it is rebuilt from
 * X-Forwarded-Proto and X-Forwarded-Host (or Host); an unsigned or wrongly signed request gets 403 and
 * changes nothing.
 */
import express, { type Request, type Response, type Router } from 'express';
import twilio from 'twilio';
import { log } from '../logger.js';

export interface TwilioWebhookDeps {
  authToken: string;
  /**
   * The server's public base URL (PUBLIC_BASE_URL). When set, the signed URL is built from it, not from
   * X-Forwarded-* headers, which any client can send; without it the headers are trusted (behind nginx).
   */
  publicBaseUrl?: string | undefined;
  /** WhatsApp opt-outs and the 24-hour window, keyed by E.164 number. */
  recipients: {
    optOut(phone: string, at: Date): Promise<unknown>;
    optIn(phone: string, at: Date): Promise<unknown>;
    inbound(phone: string, at: Date): Promise<unknown>;
  };
  /** Delivery status per provider message id. */
  statuses: {
    /** `outboxId`: our `?outbox=` marker on the callback URL, which ties a message to its outbox row. */
    record(
      providerId: string,
      status: string,
      errorCode: string | null,
      at: Date,
      outboxId: string | null,
    ): Promise<unknown>;
  };
  now?: () => number;
}

/** Twilio's standard opt-out and opt-in keywords (case-insensitive, the whole message). */
const STOP = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT']);
const START = new Set(['START', 'YES', 'UNSTOP']);
const HELP = new Set(['HELP', 'INFO']);

const REPLY = {
  stop: 'You will receive no more alerts. Reply START to receive them again.',
  start: 'Alerts are on again. Reply STOP to stop them.',
  help: 'Crypto alerts: messages when your conditions hold. Reply STOP to stop them, START to resume. Not financial advice.',
};

export function twilioWebhooks(deps: TwilioWebhookDeps): Router {
  const now = deps.now ?? Date.now;
  const router = express.Router();
  router.use('/webhooks/twilio', express.urlencoded({ extended: false, limit: '64kb' }));

  router.post('/webhooks/twilio/status', async (req, res) => {
    if (!signed(req, deps.authToken, deps.publicBaseUrl)) return refuse(res);
    const body = req.body as Record<string, string>;
    const sid = body.MessageSid ?? body.SmsSid;
    const status = body.MessageStatus ?? body.SmsStatus;
    if (!sid || !status) return res.status(400).json({ error: 'MessageSid and MessageStatus are required' });
    try {
      const outbox =
        typeof req.query.outbox === 'string' &&
        /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(req.query.outbox)
          ? req.query.outbox
          : null;
      await deps.statuses.record(sid, status, body.ErrorCode || null, new Date(now()), outbox);
      res.status(204).end();
    } catch (error) {
      // 5xx makes Twilio retry the callback later, so the status is not lost.
      log.warn('status callback not stored', { error });
      res.status(503).json({ error: 'unavailable' });
    }
  });

  router.post('/webhooks/twilio/inbound', async (req, res) => {
    if (!signed(req, deps.authToken, deps.publicBaseUrl)) return refuse(res);
    const body = req.body as Record<string, string>;
    const phone = (body.From ?? '').replace(/^whatsapp:/, '');
    if (!/^\+[1-9]\d{7,14}$/.test(phone))
      return res.status(400).json({ error: 'From must be an E.164 number' });
    const keyword = (body.Body ?? '').trim().toUpperCase();
    const at = new Date(now());
    try {
      await deps.recipients.inbound(phone, at);
      let reply: string | null = null;
      if (STOP.has(keyword)) {
        await deps.recipients.optOut(phone, at);
        reply = REPLY.stop;
      } else if (START.has(keyword)) {
        await deps.recipients.optIn(phone, at);
        reply = REPLY.start;
      } else if (HELP.has(keyword)) {
        reply = REPLY.help;
      }
      res.type('text/xml').send(twiml(reply));
    } catch (error) {
      log.warn('inbound message not stored', { error });
      res.status(503).json({ error: 'unavailable' });
    }
  });
  return router;
}

/** The public URL Twilio called, as it signed it. */
export function publicUrl(req: Request, publicBaseUrl?: string): string {
  if (publicBaseUrl) return new URL(req.originalUrl, publicBaseUrl).href;
  const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)?.split(',')[0]?.trim();
  const proto = first(req.headers['x-forwarded-proto']) ?? req.protocol;
  const host = first(req.headers['x-forwarded-host']) ?? req.headers.host ?? '';
  return `${proto}://${host}${req.originalUrl}`;
}

function signed(req: Request, authToken: string, publicBaseUrl?: string): boolean {
  const signature = req.headers['x-twilio-signature'];
  if (typeof signature !== 'string' || signature.length === 0) return false;
  const url = publicUrl(req, publicBaseUrl);
  return twilio.validateRequest(authToken, signature, url, req.body as Record<string, string>);
}

function refuse(res: Response): void {
  res.status(403).json({ error: 'forbidden', message: 'Missing or invalid X-Twilio-Signature.' });
}

function twiml(message: string | null): string {
  const escaped = message?.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<?xml version="1.0" encoding="UTF-8"?><Response>${escaped ? `<Message>${escaped}</Message>` : ''}</Response>`;
}
