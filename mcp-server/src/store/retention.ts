/**
 * Retention of the operational rows that grow with every call and message: the audit log, finished
 * alert messages (sent, failed or skipped outbox rows) and Twilio's delivery status callbacks. Rows
 * older than RETENTION_DAYS are deleted in batches (short statements, no long locks) by `crypto-mcp
 * worker` (or `crypto-mcp http` when it delivers alerts itself), an hour after it starts and then every
 * six hours; several such processes just find less to delete. A firing keeps how its message ended
 * (status, attempts, error, Twilio's SID and delivery status) but not the recipient or the text. Alerts
 * and their firings, portfolios and backtest runs are the users' own data and are kept; the analysis
 * archive expires by itself after 7 days.
 */
import { log } from '../logger.js';
import type { SqlDatabase } from './types.js';

const BATCH = 5_000;
const DAY_MS = 86_400_000;
const FIRST_RUN_MS = 3_600_000;
const EVERY_MS = 6 * 3_600_000;

export interface Pruned {
  audit_log: number;
  outbox: number;
  message_status: number;
}

/** One statement per table, each deleting up to BATCH rows older than the cutoff (`$1`) and counting them. */
const DELETES: Record<keyof Pruned, string> = {
  audit_log: `with gone as (delete from audit_log where id in (
      select id from audit_log where at < $1::timestamptz limit ${BATCH}) returning 1)
    select count(*)::int as n from gone`,
  // The firing keeps how its message ended (read by SqlAlertStore.history) before the row goes. The
  // batch is one CTE read by both statements, so they see the same rows.
  outbox: `with batch as (
      select id from outbox where status in ('sent', 'failed', 'skipped') and updated_at < $1::timestamptz
       limit ${BATCH}),
    kept as (update alert_firings f set delivery_record = jsonb_build_object(
        'outbox_id', o.id, 'status', o.status, 'attempts', o.attempts, 'last_error', o.last_error,
        'provider_id', o.provider_id, 'provider_status', s.status, 'provider_error_code', s.error_code)
      from outbox o
      left join lateral (
        select m.status, m.error_code from message_status m
         where m.provider_id = o.provider_id order by m.at desc limit 1
      ) s on true
      where o.id in (select id from batch) and f.id = o.firing_id
      returning 1),
    gone as (delete from outbox where id in (select id from batch) returning 1)
    select count(*)::int as n from gone`,
  // A callback older than the cutoff stays while its message is in the outbox (finished later, or still
  // retrying): the delivery record copies it when the message goes.
  message_status: `with gone as (delete from message_status where (provider_id, status) in (
      select m.provider_id, m.status from message_status m
       where m.at < $1::timestamptz
         and not exists (select 1 from outbox o where o.provider_id = m.provider_id)
       limit ${BATCH}) returning 1)
    select count(*)::int as n from gone`,
};

/** Deletes what is older than `days` days before `now`; returns how many rows per table. */
export async function pruneExpired(db: SqlDatabase, days: number, now = Date.now()): Promise<Pruned> {
  const cutoff = new Date(now - days * DAY_MS).toISOString();
  const pruned: Pruned = { audit_log: 0, outbox: 0, message_status: 0 };
  for (const table of Object.keys(DELETES) as (keyof Pruned)[]) {
    for (;;) {
      const [row] = await db.query<{ n: number }>(DELETES[table], [cutoff]);
      const n = Number(row?.n ?? 0);
      pruned[table] += n;
      if (n < BATCH) break;
    }
  }
  return pruned;
}

/** Runs `pruneExpired` on its schedule for as long as the process runs; `days` 0 keeps everything. */
export function startRetention(db: SqlDatabase, days: number): void {
  if (days === 0) return;
  const run = () => {
    pruneExpired(db, days)
      .then((pruned) => {
        if (pruned.audit_log + pruned.outbox + pruned.message_status > 0)
          log.info('retention: old rows deleted', { days, ...pruned });
      })
      .catch((error: unknown) => log.warn('retention run failed; trying again later', { error }))
      .finally(() => setTimeout(run, EVERY_MS).unref());
  };
  setTimeout(run, FIRST_RUN_MS).unref();
}
