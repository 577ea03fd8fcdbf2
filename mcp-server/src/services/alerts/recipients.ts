/**
 * WhatsApp recipients: opt-out and the 24-hour customer-service window (free-form text only within 24 h of
 * the recipient's last inbound message, approved templates otherwise). The inbound-message webhook calls
 * `recordInbound`, a STOP keyword `optOut`, START `optIn`. Phone numbers are E.164 (`+4915112345678`);
 * a `whatsapp:` prefix is accepted and stripped. Never log them (logger `redact` masks them anyway).
 */
import type { SqlDatabase } from '../../store/types.js';

export const WINDOW_MS = 24 * 3600 * 1000;
const E164 = /^\+[1-9]\d{7,14}$/;

export interface Recipient {
  phone: string;
  opted_out: boolean;
  opted_out_at: Date | null;
  last_inbound_at: Date | null;
}

/** `whatsapp:+49...` or `+49...` to `+49...`; null when it is not an E.164 number. */
export function normalizePhone(value: string): string | null {
  const phone = value.trim().replace(/^whatsapp:/i, '');
  return E164.test(phone) ? phone : null;
}

export class RecipientStore {
  constructor(private readonly db: SqlDatabase) {}

  async get(phone: string): Promise<Recipient | null> {
    const rows = await this.db.query<Recipient & Record<string, unknown>>(
      'select phone, opted_out, opted_out_at, last_inbound_at from whatsapp_recipients where phone = $1',
      [must(phone)],
    );
    return rows[0] ?? null;
  }

  /** An inbound message at `at`: opens (or extends) the 24-hour window. */
  async recordInbound(phone: string, at: Date = new Date()): Promise<void> {
    await this.db.query(
      `insert into whatsapp_recipients (phone, last_inbound_at) values ($1, $2::timestamptz)
       on conflict (phone) do update
         set last_inbound_at = greatest(whatsapp_recipients.last_inbound_at, excluded.last_inbound_at)`,
      [must(phone), at.toISOString()],
    );
  }

  /** The webhook routes' name for `recordInbound` (TwilioWebhookDeps.recipients). */
  inbound(phone: string, at: Date = new Date()): Promise<void> {
    return this.recordInbound(phone, at);
  }

  async optOut(phone: string, at: Date = new Date()): Promise<void> {
    await this.db.query(
      `insert into whatsapp_recipients (phone, opted_out, opted_out_at) values ($1, true, $2::timestamptz)
       on conflict (phone) do update set opted_out = true, opted_out_at = excluded.opted_out_at`,
      [must(phone), at.toISOString()],
    );
  }

  async optIn(phone: string, _at: Date = new Date()): Promise<void> {
    await this.db.query(
      `insert into whatsapp_recipients (phone, opted_out) values ($1, false)
       on conflict (phone) do update set opted_out = false, opted_out_at = null`,
      [must(phone)],
    );
  }

  /** Whether free-form text may be sent now. */
  static inWindow(recipient: Recipient | null, now: number = Date.now()): boolean {
    const last = recipient?.last_inbound_at;
    return !!last && now - last.getTime() < WINDOW_MS;
  }
}

function must(phone: string): string {
  const p = normalizePhone(phone);
  if (!p) throw new Error('not an E.164 phone number');
  return p;
}
