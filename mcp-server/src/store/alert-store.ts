/**
 * Alerts, their firings and the outbox in SQL (Postgres or PGlite). Every statement is parameterised and
 * every owner-facing one is filtered by owner, so one owner can neither read nor change another's alerts
 * whatever ids it sends. `recordFiring` writes the firing and its outbox message in ONE transaction (the
 * transactional outbox): a firing never exists without the message that reports it, and (alert_id, at) makes
 * a repeated evaluation of the same candle a no-op.
 */
import type { AlertChannel, AlertDefinition, AlertFiring } from '../core/alerts/types.js';
import type {
  AlertChanges,
  AlertHistoryEntry,
  AlertStore,
  NewAlert,
  OutboxStatus,
  SqlDatabase,
} from './types.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface AlertRow extends Record<string, unknown> {
  id: string;
  owner: string;
  symbol: string | null;
  exchange: string;
  timeframe: string;
  condition: AlertDefinition['condition'];
  expression: string | null;
  channel: AlertChannel;
  template: string | null;
  repeat: AlertDefinition['repeat'];
  expires_at: Date | null;
  quiet_hours: AlertDefinition['quiet_hours'];
  status: AlertDefinition['status'];
  created_at: Date;
  updated_at: Date;
  last_fired_at: Date | null;
}

const COLUMNS = `id, owner, symbol, exchange, timeframe, condition, expression, channel, template, repeat,
  expires_at, quiet_hours, status, created_at, updated_at, last_fired_at`;

/** The recipient an outbox row is counted against: the phone number or the webhook URL. */
export function recipientOf(channel: AlertChannel): string {
  return channel.type === 'whatsapp' ? channel.to : channel.url;
}

export class SqlAlertStore implements AlertStore {
  constructor(private readonly db: SqlDatabase) {}

  async create(owner: string, a: NewAlert): Promise<AlertDefinition> {
    const rows = await this.db.query<AlertRow>(
      `insert into alerts (owner, symbol, exchange, timeframe, condition, expression, channel, template,
                           repeat, expires_at, quiet_hours)
       values ($1, $2, $3, $4, $5::jsonb, $6, $7::jsonb, $8, $9::jsonb, $10::timestamptz, $11::jsonb)
       returning ${COLUMNS}`,
      [
        owner,
        a.symbol,
        a.exchange,
        a.timeframe,
        JSON.stringify(a.condition),
        a.expression,
        JSON.stringify(a.channel),
        a.template,
        JSON.stringify(a.repeat),
        a.expires_at,
        a.quiet_hours === null ? null : JSON.stringify(a.quiet_hours),
      ],
    );
    return toAlert(rows[0]!);
  }

  async get(owner: string, id: string): Promise<AlertDefinition | null> {
    if (!UUID.test(id)) return null;
    const rows = await this.db.query<AlertRow>(
      `select ${COLUMNS} from alerts where owner = $1 and id = $2::uuid and status <> 'deleted'`,
      [owner, id],
    );
    return rows[0] ? toAlert(rows[0]) : null;
  }

  async update(owner: string, id: string, c: AlertChanges): Promise<AlertDefinition | null> {
    if (!UUID.test(id)) return null;
    const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));
    // A field given as undefined is kept; nullable fields given as null are cleared (flag columns $n+1).
    const rows = await this.db.query<AlertRow>(
      `update alerts set
         symbol = case when $3::boolean then $4::text else symbol end,
         exchange = coalesce($5::text, exchange),
         timeframe = coalesce($6::text, timeframe),
         condition = coalesce($7::jsonb, condition),
         expression = case when $8::boolean then $9::text else expression end,
         channel = coalesce($10::jsonb, channel),
         template = case when $11::boolean then $12::text else template end,
         repeat = coalesce($13::jsonb, repeat),
         expires_at = case when $14::boolean then $15::timestamptz else expires_at end,
         quiet_hours = case when $16::boolean then $17::jsonb else quiet_hours end,
         updated_at = now()
       where owner = $1 and id = $2::uuid and status <> 'deleted'
       returning ${COLUMNS}`,
      [
        owner,
        id,
        c.symbol !== undefined,
        c.symbol ?? null,
        c.exchange ?? null,
        c.timeframe ?? null,
        json(c.condition),
        c.expression !== undefined,
        c.expression ?? null,
        json(c.channel),
        c.template !== undefined,
        c.template ?? null,
        json(c.repeat),
        c.expires_at !== undefined,
        c.expires_at ?? null,
        c.quiet_hours !== undefined,
        c.quiet_hours === undefined || c.quiet_hours === null ? null : JSON.stringify(c.quiet_hours),
      ],
    );
    return rows[0] ? toAlert(rows[0]) : null;
  }

  async delete(owner: string, id: string): Promise<boolean> {
    if (!UUID.test(id)) return false;
    const rows = await this.db.query(
      `update alerts set status = 'deleted', updated_at = now()
        where owner = $1 and id = $2::uuid and status <> 'deleted' returning id`,
      [owner, id],
    );
    return rows.length > 0;
  }

  /** An active alert whose expiry passed: no longer evaluated, shown as expired. */
  async markExpired(id: string): Promise<boolean> {
    if (!UUID.test(id)) return false;
    const rows = await this.db.query(
      `update alerts set status = 'expired', updated_at = now()
        where id = $1::uuid and status = 'active' returning id`,
      [id],
    );
    return rows.length > 0;
  }

  async list(owner: string): Promise<AlertDefinition[]> {
    const rows = await this.db.query<AlertRow>(
      `select ${COLUMNS} from alerts where owner = $1 and status <> 'deleted' order by created_at desc, id`,
      [owner],
    );
    return rows.map(toAlert);
  }

  async listActive(symbol?: string): Promise<AlertDefinition[]> {
    const rows = await this.db.query<AlertRow>(
      `select ${COLUMNS} from alerts
        where status = 'active' and ($1::text is null or symbol = $1::text) order by created_at, id`,
      [symbol ?? null],
    );
    return rows.map(toAlert);
  }

  pause(owner: string, id: string): Promise<AlertDefinition | null> {
    return this.setStatus(owner, id, 'paused', ['active']);
  }

  resume(owner: string, id: string): Promise<AlertDefinition | null> {
    return this.setStatus(owner, id, 'active', ['paused', 'fired', 'expired']);
  }

  /**
   * Records a firing and its outbox message in one transaction, if the alert may still fire. The alert's
   * row is locked first, so engines in several processes are serialised: the stored status, expiry,
   * once/cooldown and channel decide, not an engine's in-memory copy (which another process may have
   * paused, deleted or re-addressed). Idempotent on (alert_id, at); null when the alert may not fire.
   */
  async recordFiring(
    firing: AlertFiring,
    _channel: AlertChannel,
    body: string,
  ): Promise<{ firing_id: string; outbox_id: string; created: boolean } | null> {
    return this.db.transaction(async (tx) => {
      const at = Math.trunc(firing.at);
      const locked = await tx.query<{ channel: AlertChannel; eligible: boolean }>(
        `select channel,
                status = 'active'
                and (expires_at is null or expires_at > to_timestamp($2::bigint / 1000.0))
                and (last_fired_at is null
                     or (repeat->>'mode' = 'repeat'
                         and last_fired_at + make_interval(secs => (repeat->>'cooldown_s')::double precision)
                             <= to_timestamp($2::bigint / 1000.0))
                     or (repeat->>'mode' = 'once' and last_fired_at < to_timestamp($2::bigint / 1000.0)))
                  as eligible
           from alerts where id = $1::uuid
           for update`,
        [firing.alert_id, at],
      );
      const prior = await tx.query<{ firing_id: string; outbox_id: string }>(
        `select f.id as firing_id, o.id as outbox_id
           from alert_firings f join outbox o on o.firing_id = f.id
          where f.alert_id = $1::uuid and f.at = $2::bigint`,
        [firing.alert_id, at],
      );
      if (prior[0]) return { ...prior[0], created: false };
      if (!locked[0]?.eligible) return null;
      const channel = locked[0].channel;
      const inserted = await tx.query<{ id: string }>(
        `insert into alert_firings (alert_id, at, "values", message)
         values ($1::uuid, $2::bigint, $3::jsonb, $4)
         returning id`,
        [firing.alert_id, at, JSON.stringify(firing.values), firing.message],
      );
      const firingId = inserted[0]!.id;
      const outbox = await tx.query<{ id: string }>(
        `insert into outbox (firing_id, channel, recipient, body) values ($1::uuid, $2::jsonb, $3, $4) returning id`,
        [firingId, JSON.stringify(channel), recipientOf(channel), body],
      );
      await tx.query(
        `update alerts
            set last_fired_at = to_timestamp($2::bigint / 1000.0), updated_at = now(),
                status = case when repeat->>'mode' = 'once' then 'fired' else status end
          where id = $1::uuid`,
        [firing.alert_id, at],
      );
      // Wakes dispatchers that LISTEN (Postgres); harmless elsewhere.
      await tx.query(`select pg_notify('alert_outbox', $1)`, [outbox[0]!.id]);
      return { firing_id: firingId, outbox_id: outbox[0]!.id, created: true };
    });
  }

  async history(owner: string, alertId: string, limit: number): Promise<AlertHistoryEntry[]> {
    if (!UUID.test(alertId)) return [];
    const rows = await this.db.query<{
      firing_id: string;
      alert_id: string;
      at: string;
      values: Record<string, number>;
      message: string;
      created_at: Date;
      outbox_id: string | null;
      delivery: OutboxStatus | null;
      attempts: number | null;
      last_error: string | null;
      provider_id: string | null;
      provider_status: string | null;
      provider_error_code: number | null;
    }>(
      // A message pruned by retention (store/retention.ts) is told by the firing's delivery_record.
      `select f.id as firing_id, f.alert_id, f.at::text as at, f."values", f.message, f.created_at,
              coalesce(o.id::text, f.delivery_record->>'outbox_id') as outbox_id,
              coalesce(o.status, f.delivery_record->>'status') as delivery,
              coalesce(o.attempts, (f.delivery_record->>'attempts')::int) as attempts,
              coalesce(o.last_error, f.delivery_record->>'last_error') as last_error,
              coalesce(o.provider_id, f.delivery_record->>'provider_id') as provider_id,
              coalesce(s.status, f.delivery_record->>'provider_status') as provider_status,
              coalesce(s.error_code, (f.delivery_record->>'provider_error_code')::int) as provider_error_code
         from alert_firings f
         join alerts a on a.id = f.alert_id and a.owner = $1
         left join outbox o on o.firing_id = f.id
         left join lateral (
           select m.status, m.error_code from message_status m
            where m.provider_id = o.provider_id order by m.at desc limit 1
         ) s on true
        where f.alert_id = $2::uuid
        order by f.at desc
        limit $3::int`,
      [owner, alertId, Math.max(1, Math.min(500, Math.trunc(limit)))],
    );
    return rows.map((r) => ({
      firing_id: r.firing_id,
      alert_id: r.alert_id,
      at: Number(r.at),
      values: r.values,
      message: r.message,
      created_at: r.created_at.toISOString(),
      outbox_id: r.outbox_id,
      delivery: r.delivery,
      attempts: r.attempts ?? 0,
      last_error: r.last_error,
      provider_id: r.provider_id,
      provider_status: r.provider_status,
      provider_error_code: r.provider_error_code === null ? null : Number(r.provider_error_code),
    }));
  }

  private async setStatus(
    owner: string,
    id: string,
    status: AlertDefinition['status'],
    from: AlertDefinition['status'][],
  ): Promise<AlertDefinition | null> {
    if (!UUID.test(id)) return null;
    const rows = await this.db.query<AlertRow>(
      `update alerts set status = $3, updated_at = now()
        where owner = $1 and id = $2::uuid and status = any($4::text[])
        returning ${COLUMNS}`,
      [owner, id, status, from],
    );
    if (rows[0]) return toAlert(rows[0]);
    return this.get(owner, id); // unchanged (already in that state) or not the owner's: null
  }
}

function toAlert(r: AlertRow): AlertDefinition {
  return {
    id: r.id,
    owner: r.owner,
    symbol: r.symbol,
    exchange: r.exchange,
    timeframe: r.timeframe,
    condition: r.condition,
    expression: r.expression,
    channel: r.channel,
    template: r.template,
    repeat: r.repeat,
    expires_at: r.expires_at ? r.expires_at.toISOString() : null,
    quiet_hours: r.quiet_hours,
    status: r.status,
    created_at: r.created_at.toISOString(),
    updated_at: r.updated_at.toISOString(),
    last_fired_at: r.last_fired_at ? r.last_fired_at.toISOString() : null,
  };
}
