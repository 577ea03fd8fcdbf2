/**
 * The dispatcher counts every delivery outcome by channel and status (crypto_mcp_alert_deliveries_total)
 * at the one place all outcomes pass, and the outbox depth the health check and /metrics read matches
 * the rows in Postgres.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertChannel } from '../../src/core/alerts/types.js';
import { SqlAlertStore } from '../../src/store/alert-store.js';
import { PgDatabase } from '../../src/store/pg-database.js';
import { Dispatcher } from '../../src/services/alerts/dispatcher.js';
import { outboxDepth, type ChannelSender, type SendOutcome } from '../../src/services/alerts/outbox.js';
import { alertDeliveries, registry } from '../../src/observability/instruments.js';
import { fireAlert } from '../helpers/alert-fixtures.js';
import { parseExposition, sampleValue } from '../helpers/prometheus.js';
import { isolatedPostgresUrl } from '../helpers/postgres.js';

let db: PgDatabase;
let drop: () => Promise<void>;
let store: SqlAlertStore;

beforeAll(async () => {
  const schema = await isolatedPostgresUrl();
  drop = schema.drop;
  db = new PgDatabase({ connectionString: schema.url });
  store = new SqlAlertStore(db);
});
afterAll(async () => {
  await db?.close();
  await drop?.();
});

async function fire(channel: AlertChannel): Promise<string> {
  return (await fireAlert(store, { owner: 'metrics', channel })).outboxId;
}

/** A sender answering from a script, one outcome per call. */
function scripted(outcomes: SendOutcome[]): ChannelSender {
  return { send: async () => outcomes.shift() ?? { kind: 'sent', providerId: null } };
}

const deliveries = (channel: string, status: string) => alertDeliveries.get({ channel, status });

describe('alert delivery metrics', () => {
  it('counts sent, failed, skipped, retried and deferred deliveries per channel', async () => {
    const before = {
      webhookSent: deliveries('webhook', 'sent'),
      webhookRetry: deliveries('webhook', 'retry'),
      whatsappFailed: deliveries('whatsapp', 'failed'),
      whatsappSkipped: deliveries('whatsapp', 'skipped'),
      whatsappDeferred: deliveries('whatsapp', 'deferred'),
    };
    const dispatcher = new Dispatcher({
      db,
      senders: {
        webhook: scripted([
          { kind: 'retry', error: '503', uncertain: false, retryAfterMs: 0 },
          { kind: 'sent', providerId: null },
          { kind: 'sent', providerId: null },
        ]),
        whatsapp: scripted([
          { kind: 'failed', error: '21211: invalid number' },
          { kind: 'skipped', reason: 'recipient opted out' },
          { kind: 'defer', delayMs: 60_000, reason: 'per-recipient limit' },
        ]),
      },
      backoff: { baseMs: 1, maxMs: 1 },
    });
    for (let i = 0; i < 2; i++) await fire({ type: 'webhook', url: 'https://hooks.example.com/a' });
    for (let i = 0; i < 3; i++) await fire({ type: 'whatsapp', to: `+49151000000${i}` });

    // The retried webhook comes due again after its 1 ms backoff.
    for (let round = 0; round < 50 && deliveries('webhook', 'sent') - before.webhookSent < 2; round++) {
      await dispatcher.runOnce();
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(deliveries('webhook', 'sent') - before.webhookSent).toBe(2);
    expect(deliveries('webhook', 'retry') - before.webhookRetry).toBe(1);
    expect(deliveries('whatsapp', 'failed') - before.whatsappFailed).toBe(1);
    expect(deliveries('whatsapp', 'skipped') - before.whatsappSkipped).toBe(1);
    expect(deliveries('whatsapp', 'deferred') - before.whatsappDeferred).toBe(1);

    // As /metrics shows them.
    const f = parseExposition(registry.render());
    expect(sampleValue(f, 'crypto_mcp_alert_deliveries_total', { channel: 'webhook', status: 'sent' })).toBe(
      deliveries('webhook', 'sent'),
    );
  });

  it('reads the outbox depth per status from Postgres', async () => {
    const start = await outboxDepth(db);
    const ids = [
      await fire({ type: 'webhook', url: 'https://hooks.example.com/b' }),
      await fire({ type: 'webhook', url: 'https://hooks.example.com/c' }),
      await fire({ type: 'webhook', url: 'https://hooks.example.com/d' }),
    ];
    await db.query(`update outbox set status = 'failed' where id = $1`, [ids[0]]);
    await db.query(`update outbox set status = 'sending', sending_started_at = now() where id = $1`, [
      ids[1],
    ]);
    const depth = await outboxDepth(db);
    expect(depth.pending - start.pending).toBe(1);
    expect(depth.sending - start.sending).toBe(1);
    expect(depth.failed - start.failed).toBe(1);
    expect(depth.oldest_pending_age_s).not.toBeNull();
  });
});
