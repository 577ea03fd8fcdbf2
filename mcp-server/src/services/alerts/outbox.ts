/**
 * The outbox table's state machine, in SQL that runs on Postgres and PGlite:
 *
 *   pending --claim--> sending --sent/failed/skipped--> (final)
 *                        \--retry/defer--> pending (next_attempt_at later)
 *
 * Claiming commits status 'sending' and the incremented attempt count BEFORE anything is sent, with
 * `FOR UPDATE SKIP LOCKED`, so concurrent dispatchers never claim the same row. A row still 'sending' after
 * the lease belonged to a worker that died mid-send: it is claimed again with `previous_status =
 * 'sending'` and the dispatcher asks the provider whether the message went out before sending it again.
 * Every mark is fenced by (status 'sending', attempts): a worker whose lease ran out cannot overwrite the
 * outcome of the worker that took the row over.
 */
import type { AlertChannel } from '../../core/alerts/types.js';
import type { SqlClient, SqlDatabase } from '../../store/types.js';

/** A claimed message, with what the senders need from its firing and alert. */
export interface OutboxMessage {
  id: string;
  firing_id: string;
  alert_id: string;
  owner: string;
  /** The alert's market and condition, so a receiver (an n8n workflow) can act on the firing. */
  alert: { symbol: string | null; exchange: string; timeframe: string; expression: string | null };
  /** Firing time (ms). */
  at: number;
  values: Record<string, number>;
  channel: AlertChannel;
  recipient: string;
  body: string;
  /** Attempts including the current one; the fencing token of the marks. */
  attempts: number;
  /** 'sending' when the previous claimer died mid-send. */
  previous_status: 'pending' | 'sending';
  /** A previous attempt may have reached the provider (timeout, 5xx, crash). */
  needs_check: boolean;
  created_at: Date;
}

/** What a channel sender reports for one attempt. */
export type SendOutcome =
  | { kind: 'sent'; providerId: string | null }
  | { kind: 'skipped'; reason: string }
  /** Retryable (429, 5xx, network, timeout). `uncertain`: the provider may have received it. */
  | { kind: 'retry'; error: string; uncertain: boolean; retryAfterMs?: number }
  | { kind: 'failed'; error: string }
  /** Not attempted (our own limits): try again after `delayMs`, the attempt is not counted. */
  | { kind: 'defer'; delayMs: number; reason: string };

export interface ChannelSender {
  send(msg: OutboxMessage): Promise<SendOutcome>;
  /**
   * After an attempt whose outcome is unknown: whether the provider already has the message. Returns the
   * provider id (or null when the provider has none) when found, undefined when not found; throws when it
   * cannot tell (the dispatcher then retries the check later instead of sending).
   */
  findSent?(msg: OutboxMessage): Promise<{ providerId: string | null } | undefined>;
}

const SELECT_CLAIMED = `
  returning o.id, o.firing_id, o.channel, o.recipient, o.body, o.attempts, o.needs_check, o.created_at,
            c.prev as previous_status,
            f.alert_id, f.at::text as at, f."values" as values, a.owner,
            a.symbol, a.exchange, a.timeframe, a.expression`;

interface ClaimedRow extends Record<string, unknown> {
  id: string;
  firing_id: string;
  channel: AlertChannel;
  recipient: string;
  body: string;
  attempts: number;
  needs_check: boolean;
  created_at: Date;
  previous_status: 'pending' | 'sending';
  alert_id: string;
  at: string;
  values: Record<string, number>;
  owner: string;
  symbol: string | null;
  exchange: string;
  timeframe: string;
  expression: string | null;
}

/** Claims up to `limit` due rows (pending and due, or 'sending' past the lease) for this worker. */
export async function claimDue(
  db: SqlDatabase,
  options: { limit: number; leaseMs: number },
): Promise<OutboxMessage[]> {
  const rows = await db.transaction((tx) =>
    claim(
      tx,
      `(status = 'pending' and next_attempt_at <= now())
        or (status = 'sending' and sending_started_at < now() - $2::int * interval '1 millisecond')`,
      [options.limit, Math.trunc(options.leaseMs)],
      'order by next_attempt_at limit $1::int',
    ),
  );
  return rows;
}

/** Claims one row by id if it is due (the BullMQ worker's entry point); null when not claimable now. */
export async function claimById(db: SqlDatabase, id: string, leaseMs: number): Promise<OutboxMessage | null> {
  const rows = await db.transaction((tx) =>
    claim(
      tx,
      `id = $1::uuid and ((status = 'pending' and next_attempt_at <= now())
        or (status = 'sending' and sending_started_at < now() - $2::int * interval '1 millisecond'))`,
      [id, Math.trunc(leaseMs)],
      '',
    ),
  );
  return rows[0] ?? null;
}

async function claim(
  tx: SqlClient,
  where: string,
  params: unknown[],
  tail: string,
): Promise<OutboxMessage[]> {
  const rows = await tx.query<ClaimedRow>(
    `with c as (
       select id, status as prev from outbox where ${where} ${tail} for update skip locked
     )
     update outbox o
        set status = 'sending', attempts = o.attempts + 1, sending_started_at = now(), updated_at = now()
       from c, alert_firings f, alerts a
      where o.id = c.id and f.id = o.firing_id and a.id = f.alert_id
     ${SELECT_CLAIMED}`,
    params,
  );
  return rows.map((r) => ({
    id: r.id,
    firing_id: r.firing_id,
    alert_id: r.alert_id,
    owner: r.owner,
    alert: { symbol: r.symbol, exchange: r.exchange, timeframe: r.timeframe, expression: r.expression },
    at: Number(r.at),
    values: r.values,
    channel: r.channel,
    recipient: r.recipient,
    body: r.body,
    attempts: Number(r.attempts),
    previous_status: r.previous_status,
    needs_check: r.needs_check,
    created_at: r.created_at,
  }));
}

/** Ids of due pending rows, oldest first (what the BullMQ producer enqueues). */
export async function dueIds(db: SqlDatabase, limit: number, leaseMs: number): Promise<string[]> {
  const rows = await db.query<{ id: string }>(
    `select id from outbox
      where (status = 'pending' and next_attempt_at <= now())
         or (status = 'sending' and sending_started_at < now() - $2::int * interval '1 millisecond')
      order by next_attempt_at limit $1::int`,
    [limit, Math.trunc(leaseMs)],
  );
  return rows.map((r) => r.id);
}

const FENCE = `where id = $1::uuid and status = 'sending' and attempts = $2::int`;

/** Marks the attempt's outcome; false when the row was taken over meanwhile (the mark is dropped). */
/**
 * Renews this attempt's lease just before the provider is called, if the row is still ours. Rows of one
 * recipient are sent one after another, so a late row of a batch could otherwise outlive its lease while
 * it waits, be reclaimed by another dispatcher, and be sent by both.
 */
export async function renewLease(db: SqlClient, msg: OutboxMessage): Promise<boolean> {
  const rows = await db.query(
    `update outbox set sending_started_at = now(), updated_at = now() ${FENCE} returning id`,
    [msg.id, msg.attempts],
  );
  return rows.length > 0;
}

export async function markSent(
  db: SqlClient,
  msg: OutboxMessage,
  providerId: string | null,
): Promise<boolean> {
  const rows = await db.query(
    `update outbox set status = 'sent', provider_id = $3, sent_at = now(), needs_check = false,
            updated_at = now() ${FENCE} returning id`,
    [msg.id, msg.attempts, providerId],
  );
  return rows.length > 0;
}

/**
 * Gives up on a message. `uncertain`: its last attempt may have reached the recipient (a timeout or a
 * 5xx), so the row keeps `needs_check` and with it its per-recipient slot. An earlier uncertain attempt
 * does not count: the provider's log was checked before the last one.
 */
export async function markFinal(
  db: SqlClient,
  msg: OutboxMessage,
  status: 'failed' | 'skipped',
  error: string,
  uncertain = false,
): Promise<boolean> {
  const rows = await db.query(
    `update outbox set status = $3, last_error = $4, needs_check = $5::boolean, updated_at = now()
      ${FENCE} returning id`,
    [msg.id, msg.attempts, status, error.slice(0, 1000), uncertain],
  );
  return rows.length > 0;
}

/**
 * Back to pending after `delayMs`. `countAttempt` false (our own limits, nothing was sent) gives the
 * attempt back; `uncertain` makes the next claim look at the provider before sending.
 */
export async function markRetry(
  db: SqlClient,
  msg: OutboxMessage,
  options: { delayMs: number; error: string; uncertain: boolean; countAttempt: boolean },
): Promise<boolean> {
  const rows = await db.query(
    `update outbox
        set status = 'pending', last_error = $3,
            next_attempt_at = now() + $4::int * interval '1 millisecond',
            needs_check = needs_check or $5::boolean,
            attempts = case when $6::boolean then attempts else attempts - 1 end,
            updated_at = now()
      ${FENCE} returning id`,
    [
      msg.id,
      msg.attempts,
      options.error.slice(0, 1000),
      Math.max(0, Math.trunc(options.delayMs)),
      options.uncertain,
      options.countAttempt,
    ],
  );
  return rows.length > 0;
}

/**
 * A Twilio status callback (the webhook route calls this): `outboxId` from the callback URL's
 * `?outbox=<id>`. Also fills the outbox row's provider id when it is still unknown (a crash between
 * Twilio's answer and `markSent`), which the recovery check then finds.
 */
export async function recordProviderStatus(
  db: SqlDatabase,
  s: { providerId: string; status: string; errorCode?: number | null; outboxId?: string | null },
): Promise<void> {
  const outboxId = s.outboxId && /^[0-9a-f-]{36}$/i.test(s.outboxId) ? s.outboxId : null;
  await db.query(
    `insert into message_status (provider_id, outbox_id, status, error_code)
     values ($1, $2::uuid, $3, $4::int)
     on conflict (provider_id, status) do update set error_code = excluded.error_code, at = now()`,
    [s.providerId, outboxId, s.status, s.errorCode ?? null],
  );
}

/**
 * TwilioWebhookDeps.statuses for the webhook routes; pass the callback URL's `outbox` query parameter as
 * `outboxId` so the recovery check can find the SID.
 */
export function providerStatuses(db: SqlDatabase) {
  return {
    record: (
      providerId: string,
      status: string,
      errorCode: string | null,
      _at: Date,
      outboxId?: string | null,
    ) =>
      recordProviderStatus(db, {
        providerId,
        status,
        errorCode: errorCode === null || !/^\d+$/.test(errorCode) ? null : Number(errorCode),
        outboxId: outboxId ?? null,
      }),
  };
}

/** The provider id a status callback reported for this outbox row, if any. */
export async function reportedProviderId(db: SqlClient, outboxId: string): Promise<string | null> {
  const rows = await db.query<{ provider_id: string }>(
    'select provider_id from message_status where outbox_id = $1::uuid order by at limit 1',
    [outboxId],
  );
  return rows[0]?.provider_id ?? null;
}

/**
 * Takes one of a recipient's `limit` hourly slots for the outbox row `id`. Under a lock on the recipient
 * (transaction-scoped, so concurrent dispatchers take turns), it counts the rows that took a slot in the
 * hour before `now` and are sent or still going out (failed and skipped rows give theirs back, unless
 * the failed row's last attempt may have been delivered); with one left, the row takes it. A row keeps
 * its slot across its own retries. When none is left, `freesAt` says when the oldest one frees.
 */
export async function takeRecipientSlot(
  db: SqlDatabase,
  recipient: string,
  id: string,
  limit: number,
  now: Date,
): Promise<{ taken: true } | { taken: false; freesAt: Date }> {
  const since = new Date(now.getTime() - HOUR_MS).toISOString();
  return db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock(hashtext($1::text))', [`outbox-recipient:${recipient}`]);
    const own = await tx.query<{ held: boolean }>(
      'select slot_at >= $2::timestamptz as held from outbox where id = $1::uuid',
      [id, since],
    );
    if (own[0]?.held) return { taken: true };
    const rows = await tx.query<{ count: number; oldest: Date | null }>(
      `select count(*)::int as count, min(slot_at) as oldest from outbox
        where recipient = $1 and id <> $2::uuid and slot_at >= $3::timestamptz
          and (status not in ('failed', 'skipped') or (status = 'failed' and needs_check))`,
      [recipient, id, since],
    );
    const { count, oldest } = rows[0] ?? { count: 0, oldest: null };
    if (Number(count) >= limit) {
      return { taken: false, freesAt: new Date((oldest?.getTime() ?? now.getTime()) + HOUR_MS) };
    }
    await tx.query('update outbox set slot_at = $2::timestamptz where id = $1::uuid', [
      id,
      now.toISOString(),
    ]);
    return { taken: true };
  });
}

const HOUR_MS = 3_600_000;

/** Rows waiting to go out, in flight, and given up on; the oldest pending row's age. For health and metrics. */
export interface OutboxDepth {
  pending: number;
  sending: number;
  failed: number;
  /** Seconds since the oldest pending row was written; null when none is pending. */
  oldest_pending_age_s: number | null;
}

export async function outboxDepth(db: SqlClient): Promise<OutboxDepth> {
  // Counts can come from the (status, next_attempt_at) index alone; the age reads pending rows only,
  // so the failed rows that accumulate are never fetched on a scrape.
  const rows = await db.query<{ status: string; count: number }>(
    `select status, count(*)::int as count
       from outbox where status in ('pending', 'sending', 'failed') group by status`,
  );
  const age = await db.query<{ oldest_s: number | null }>(
    `select extract(epoch from now() - min(created_at))::float8 as oldest_s
       from outbox where status = 'pending'`,
  );
  const by = new Map(rows.map((r) => [r.status, r]));
  const count = (status: string) => Number(by.get(status)?.count ?? 0);
  const oldest = age[0]?.oldest_s;
  return {
    pending: count('pending'),
    sending: count('sending'),
    failed: count('failed'),
    oldest_pending_age_s: oldest === null || oldest === undefined ? null : Math.round(Number(oldest)),
  };
}
