/**
 * Alert webhooks: a JSON POST to the alert's URL, signed with `X-Signature: sha256=<hex HMAC-SHA256 of the
 * raw body>` under the owner's secret (or a global one) and carrying `X-Idempotency-Key: <outbox id>`.
 * The body: outbox_id, alert_id, firing_id, the alert's symbol, exchange, timeframe and condition, `at` (ms)
 * and `fired_at` (ISO), the values that made the condition hold, and the message text.
 * 2xx: sent. 4xx except 408/429: permanent. 408, 429, 5xx, network errors and timeouts: retried with the
 * same idempotency key; a receiver that dedups on it sees each alert once (webhooks are at least once on
 * the wire: a crash after the receiver's 2xx but before the mark resends).
 *
 * Only http(s) URLs are accepted. Unless `allowPrivate`, URLs whose host is a loopback, private,
 * link-local or unique-local IP literal, or `localhost`, are refused. Host names are not resolved here, so a
 * public name pointing at a private address (or DNS rebinding) is not caught: put egress filtering in
 * front for that.
 */
import { createHmac } from 'node:crypto';
import { isIP } from 'node:net';
import type { ChannelSender, OutboxMessage, SendOutcome } from './outbox.js';

export interface WebhookSenderOptions {
  /** The signing secret: one for all, or per owner. */
  secret: string | ((owner: string) => string | Promise<string>);
  /** Default 10 s. */
  timeoutMs?: number;
  /** Allow loopback/private hosts (tests, self-hosted n8n on the LAN). Default false. */
  allowPrivate?: boolean;
}

export function sign(secret: string, rawBody: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(rawBody).digest('hex');
}

/** Why `url` may not be called, or null when it may. */
export function refuseUrl(url: string, allowPrivate = false): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'not a URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `scheme ${u.protocol} not allowed`;
  if (allowPrivate) return null;
  const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return 'loopback host not allowed';
  if (isIP(host) === 4) {
    const [a, b] = host.split('.').map(Number) as [number, number];
    if (
      a === 10 ||
      a === 127 ||
      a === 0 ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127)
    ) {
      return 'private or loopback address not allowed';
    }
  } else if (isIP(host) === 6) {
    if (
      host === '::1' ||
      host === '::' ||
      /^f[cd]/.test(host) ||
      /^fe[89ab]/.test(host) ||
      host.startsWith('::ffff:')
    ) {
      return 'private or loopback address not allowed';
    }
  }
  return null;
}

export class WebhookSender implements ChannelSender {
  constructor(private readonly options: WebhookSenderOptions) {}

  async send(msg: OutboxMessage): Promise<SendOutcome> {
    if (msg.channel.type !== 'webhook') return { kind: 'failed', error: 'not a webhook message' };
    const refused = refuseUrl(msg.channel.url, this.options.allowPrivate);
    if (refused) return { kind: 'failed', error: `webhook URL refused: ${refused}` };
    const raw = JSON.stringify({
      outbox_id: msg.id,
      alert_id: msg.alert_id,
      firing_id: msg.firing_id,
      symbol: msg.alert.symbol,
      exchange: msg.alert.exchange,
      timeframe: msg.alert.timeframe,
      condition: msg.alert.expression,
      at: msg.at,
      fired_at: new Date(msg.at).toISOString(),
      values: msg.values,
      message: msg.body,
    });
    const secret =
      typeof this.options.secret === 'function' ? await this.options.secret(msg.owner) : this.options.secret;
    try {
      const res = await fetch(msg.channel.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-signature': sign(secret, raw),
          'x-idempotency-key': msg.id,
        },
        body: raw,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
      await res.body?.cancel().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) return { kind: 'sent', providerId: null };
      const error = `HTTP ${res.status}`;
      if (res.status === 429 || res.status === 408 || res.status >= 500) {
        const retryAfter = Number(res.headers.get('retry-after'));
        return {
          kind: 'retry',
          error,
          uncertain: res.status >= 500,
          ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}),
        };
      }
      return { kind: 'failed', error };
    } catch (err) {
      const name = (err as Error)?.name;
      const cause = (err as { cause?: { code?: string } })?.cause?.code;
      const error = name === 'TimeoutError' ? 'timeout' : `network error${cause ? ` (${cause})` : ''}`;
      return { kind: 'retry', error, uncertain: cause !== 'ECONNREFUSED' };
    }
  }
}
