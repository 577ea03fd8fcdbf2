/**
 * WhatsApp through Twilio's Messages API with the official `twilio` SDK.
 *
 * - Host: twilio 6 has no base-URL option (only region/edge, which rewrite *.twilio.com); a RequestClient
 *   subclass rewrites every request's origin to `baseUrl` (the local stub in tests). Production leaves
 *   `baseUrl` unset and talks to https://api.twilio.com.
 * - Addressing `whatsapp:+E164`. Inside the recipient's 24-hour window the text goes as `Body` (at most
 *   1,600 characters, longer text is cut with an ellipsis); outside it the approved template goes as
 *   `ContentSid` + `ContentVariables` (JSON), without Body (a Body there fails with 63016).
 * - Opted-out recipients are skipped. A token bucket caps the sender's rate (default 10 msg/s) and at most
 *   `perRecipientPerHour` messages go to one number per hour (default 10); beyond that the message waits.
 * - Errors: 429, 5xx, 63018 (rate), network errors and timeouts are retried; 63016 (outside the window),
 *   21211 (invalid number), 21610 (unsubscribed) and any other 4xx are permanent. The code and message are
 *   recorded as `<code>: <message>`.
 * - Exactly once: see `findSent`.
 *
 * Phone numbers and the auth token are never logged: the SDK's own request logging is switched off (it
 * would print to stdout, the stdio MCP transport, too).
 */
import twilio from 'twilio';
import { log, redact } from '../../logger.js';
import type { SqlDatabase } from '../../store/types.js';
import {
  reportedProviderId,
  takeRecipientSlot,
  type ChannelSender,
  type OutboxMessage,
  type SendOutcome,
} from './outbox.js';
import { normalizePhone, RecipientStore } from './recipients.js';

export const MAX_BODY_CHARS = 1600;
/** Twilio error codes that never succeed on retry. */
const PERMANENT_CODES = new Set([63016, 21211, 21610, 21614, 21408, 21617, 21656, 63015, 63021, 63024]);
/** Twilio error codes that mean "later". */
const RETRYABLE_CODES = new Set([63018, 20429]);

export interface TwilioTemplate {
  /** Approved Content template (HX...). */
  contentSid: string;
  /** Its variables for a message; default `{ "1": <the alert text, at most 1,000 characters> }`. */
  variables?: (msg: OutboxMessage) => Record<string, string>;
  /** The text Twilio renders from the variables, to recognise a sent template in the message log. */
  render?: (variables: Record<string, string>) => string;
}

export interface TwilioSenderOptions {
  accountSid: string;
  authToken: string;
  /** The WhatsApp sender, `+E164` or `whatsapp:+E164`. */
  from: string;
  /** e.g. http://127.0.0.1:4010 for a stub; unset: Twilio itself. */
  baseUrl?: string;
  /** Request timeout. Default 10 s; must stay well below the dispatcher's lease. */
  timeoutMs?: number;
  template?: TwilioTemplate;
  /** Public https base of this server: status callbacks go to `<base>/webhooks/twilio/status?outbox=<id>`. */
  publicBaseUrl?: string;
  statusCallbackPath?: string;
  /** Messages per second for the sender (token bucket). Default 10. */
  messagesPerSecond?: number;
  /** Default 10. */
  perRecipientPerHour?: number;
}

/** A token bucket: `take()` resolves when a token is available (burst = rate, refilled continuously). */
export class TokenBucket {
  private tokens: number;
  private last = Date.now();
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst = Math.max(1, ratePerSecond),
  ) {
    this.tokens = this.burst;
  }

  take(): Promise<void> {
    const next = this.chain.then(async () => {
      for (;;) {
        const now = Date.now();
        this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
        this.last = now;
        if (this.tokens >= 1) {
          this.tokens -= 1;
          return;
        }
        await new Promise((r) => setTimeout(r, Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000)));
      }
    });
    this.chain = next;
    return next;
  }
}

type RequestOptions = Parameters<InstanceType<typeof twilio.RequestClient>['request']>[0];

/** Sends every SDK request to `baseUrl` instead of https://<product>.twilio.com. */
class BaseUrlRequestClient extends twilio.RequestClient {
  constructor(
    private readonly base: URL,
    timeoutMs: number,
  ) {
    super({ timeout: timeoutMs });
  }

  override request<TData>(opts: RequestOptions & { data?: TData }) {
    const target = new URL(opts.uri);
    const uri = new URL(target.pathname + target.search, this.base);
    return super.request<TData>({ ...opts, uri: uri.href });
  }
}

export class TwilioSender implements ChannelSender {
  readonly client: twilio.Twilio;
  private readonly from: string;
  private readonly recipients: RecipientStore;
  private readonly bucket: TokenBucket;
  private readonly perRecipientPerHour: number;

  constructor(
    private readonly db: SqlDatabase,
    private readonly options: TwilioSenderOptions,
  ) {
    const timeout = options.timeoutMs ?? 10_000;
    const from = normalizePhone(options.from);
    if (!from) throw new Error('The Twilio WhatsApp sender (from) must be an E.164 number.');
    this.from = `whatsapp:${from}`;
    this.client = twilio(options.accountSid, options.authToken, {
      timeout,
      logLevel: 'none',
      autoRetry: false,
      ...(options.baseUrl ? { httpClient: new BaseUrlRequestClient(new URL(options.baseUrl), timeout) } : {}),
    });
    this.recipients = new RecipientStore(db);
    this.bucket = new TokenBucket(options.messagesPerSecond ?? 10);
    this.perRecipientPerHour = options.perRecipientPerHour ?? 10;
  }

  async send(msg: OutboxMessage): Promise<SendOutcome> {
    if (msg.channel.type !== 'whatsapp') return { kind: 'failed', error: 'not a WhatsApp message' };
    const phone = normalizePhone(msg.channel.to);
    if (!phone) return { kind: 'failed', error: '21211: invalid recipient number (not E.164)' };
    const recipient = await this.recipients.get(phone);
    if (recipient?.opted_out) return { kind: 'skipped', reason: 'recipient opted out' };

    const slot = await takeRecipientSlot(this.db, phone, msg.id, this.perRecipientPerHour, new Date());
    if (!slot.taken) {
      return {
        kind: 'defer',
        delayMs: Math.max(1_000, slot.freesAt.getTime() - Date.now()),
        reason: `per-recipient limit (${this.perRecipientPerHour}/hour) reached`,
      };
    }

    const params: Parameters<twilio.Twilio['messages']['create']>[0] = {
      to: `whatsapp:${phone}`,
      from: this.from,
    };
    if (RecipientStore.inWindow(recipient)) {
      params.body = freeFormText(msg.body);
    } else if (this.options.template) {
      params.contentSid = this.options.template.contentSid;
      params.contentVariables = JSON.stringify(this.templateVariables(msg));
    } else {
      return {
        kind: 'failed',
        error: '63016: outside the 24-hour window and no approved template is configured',
      };
    }
    const callback = this.statusCallback(msg.id);
    if (callback) params.statusCallback = callback;

    await this.bucket.take();
    const outcome = await this.create(msg, params);
    // The window can close between our check and Twilio's (63016 on free-form text): the approved
    // template reaches the recipient anyway, so send that instead of failing.
    if (params.body !== undefined && this.options.template && isOutsideWindow(outcome)) {
      const { body: _text, ...rest } = params;
      await this.bucket.take();
      return this.create(msg, {
        ...rest,
        contentSid: this.options.template.contentSid,
        contentVariables: JSON.stringify(this.templateVariables(msg)),
      });
    }
    return outcome;
  }

  private async create(
    msg: OutboxMessage,
    params: Parameters<twilio.Twilio['messages']['create']>[0],
  ): Promise<SendOutcome> {
    try {
      const message = await this.client.messages.create(params);
      return { kind: 'sent', providerId: message.sid };
    } catch (err) {
      const outcome = classify(err);
      log.warn('twilio send failed', { outbox: msg.id, outcome: redact(outcome) });
      return outcome;
    }
  }

  /**
   * Whether a previous attempt of `msg` reached Twilio. Twilio's Messages API has no idempotency key and
   * its message resource does not return the StatusCallback URL, so the check is, in order:
   * 1. a status callback already reported a SID for `?outbox=<id>` (message_status.outbox_id);
   * 2. Twilio's message log: the newest 50 messages from our sender to the recipient, created since the
   *    outbox row (minus 2 minutes of clock skew), whose body is exactly the free-form text, or the
   *    rendered template (`template.render`), and which no other outbox row owns. Without `render`, a
   *    single unowned message to that recipient in that span counts as ours.
   * Listing is by To/From, not DateSent (a queued message has no DateSent yet).
   */
  async findSent(msg: OutboxMessage): Promise<{ providerId: string | null } | undefined> {
    const reported = await reportedProviderId(this.db, msg.id);
    if (reported) return { providerId: reported };
    if (msg.channel.type !== 'whatsapp') return undefined;
    const phone = normalizePhone(msg.channel.to);
    if (!phone) return undefined;
    const since = msg.created_at.getTime() - 2 * 60_000;
    const texts = new Set([freeFormText(msg.body)]);
    const template = this.options.template;
    if (template?.render) texts.add(template.render(this.templateVariables(msg)));
    const messages = await this.client.messages.list({ to: `whatsapp:${phone}`, from: this.from, limit: 50 });
    // A message another outbox row already owns is never credited to this one: identical texts (a
    // repeating alert) or a template whose text is unknown would otherwise mark this row sent with the
    // other row's message, and this message would be lost.
    const taken = await claimedProviderIds(
      this.db,
      messages.map((m) => m.sid),
      msg.id,
    );
    const candidates = messages.filter(
      (m) =>
        !(m.direction && !m.direction.startsWith('outbound')) &&
        !(m.dateCreated && m.dateCreated.getTime() < since) &&
        !taken.has(m.sid),
    );
    const exact = candidates.find((m) => texts.has(m.body));
    if (exact) return { providerId: exact.sid };
    // A template without `render` cannot be matched by text: only a single unowned candidate counts.
    if (template && !template.render && candidates.length === 1) return { providerId: candidates[0]!.sid };
    return undefined;
  }

  private templateVariables(msg: OutboxMessage): Record<string, string> {
    return this.options.template?.variables?.(msg) ?? { '1': msg.body.slice(0, 1000) };
  }

  private statusCallback(outboxId: string): string | undefined {
    if (!this.options.publicBaseUrl) return undefined;
    const url = new URL(
      this.options.statusCallbackPath ?? '/webhooks/twilio/status',
      this.options.publicBaseUrl,
    );
    url.searchParams.set('outbox', outboxId);
    return url.href;
  }
}

/** At most 1,600 characters (UTF-16 code points counted as characters, as Twilio does for WhatsApp). */
export function freeFormText(body: string): string {
  const chars = [...body];
  return chars.length <= MAX_BODY_CHARS ? body : chars.slice(0, MAX_BODY_CHARS - 1).join('') + '…';
}

/** An SDK error as a send outcome: Twilio's RestException, or an axios network/timeout error. */
export function classify(err: unknown): SendOutcome {
  const e = err as {
    status?: unknown;
    code?: unknown;
    message?: unknown;
    response?: { headers?: Record<string, unknown> };
  };
  const message = typeof e?.message === 'string' ? String(redact(e.message)) : String(redact(String(err)));
  if (typeof e?.status === 'number') {
    const code = typeof e.code === 'number' ? e.code : null;
    const error = `${code ?? e.status}: ${message}`;
    if (code !== null && PERMANENT_CODES.has(code)) return { kind: 'failed', error };
    if (e.status === 429 || (code !== null && RETRYABLE_CODES.has(code))) {
      return { kind: 'retry', error, uncertain: false };
    }
    // A 5xx may come after Twilio stored the message.
    if (e.status >= 500) return { kind: 'retry', error, uncertain: true };
    return { kind: 'failed', error };
  }
  const code = typeof e?.code === 'string' ? e.code : 'ERROR';
  // Refused or unresolvable: nothing reached Twilio. Anything else (timeout, reset) may have.
  const nothingSent = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'].includes(
    code,
  );
  return { kind: 'retry', error: `${code}: ${message}`, uncertain: !nothingSent };
}

/** Which of `sids` other outbox rows already own (sent, or reported by a status callback). */
async function claimedProviderIds(db: SqlDatabase, sids: string[], own: string): Promise<Set<string>> {
  if (sids.length === 0) return new Set();
  const rows = await db.query<{ sid: string }>(
    `select provider_id as sid from outbox where provider_id = any($1::text[]) and id <> $2::uuid
     union
     select provider_id as sid from message_status
      where provider_id = any($1::text[]) and outbox_id is not null and outbox_id <> $2::uuid`,
    [sids, own],
  );
  return new Set(rows.map((r) => r.sid));
}

/** Twilio's 63016: free-form text outside the recipient's 24-hour window. */
function isOutsideWindow(outcome: SendOutcome): boolean {
  return outcome.kind === 'failed' && /^63016\b/.test(outcome.error);
}
