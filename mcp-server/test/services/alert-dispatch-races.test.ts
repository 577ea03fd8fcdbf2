/**
 * Dispatcher races found in review: a batch's late rows must not outlive their lease and be sent by two
 * dispatchers, and a delivery check must never credit another row's message to this one (which would
 * lose this message).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertChannel } from '../../src/core/alerts/types.js';
import { Dispatcher } from '../../src/services/alerts/dispatcher.js';
import type { OutboxMessage } from '../../src/services/alerts/outbox.js';
import { TwilioSender } from '../../src/services/alerts/twilio-sender.js';
import { SqlAlertStore } from '../../src/store/alert-store.js';
import { PgDatabase } from '../../src/store/pg-database.js';
import { fireAlert } from '../helpers/alert-fixtures.js';
import { isolatedPostgresUrl } from '../helpers/postgres.js';
import { startTwilioStub, type TwilioStub } from '../helpers/twilio-stub.js';

describe('dispatcher races', () => {
  let db: PgDatabase;
  let drop: () => Promise<void>;
  let store: SqlAlertStore;
  let stub: TwilioStub;

  beforeAll(async () => {
    const isolated = await isolatedPostgresUrl();
    drop = isolated.drop;
    db = new PgDatabase({ connectionString: isolated.url });
    store = new SqlAlertStore(db);
    stub = await startTwilioStub();
  });
  afterAll(async () => {
    await stub.close();
    await db.close();
    await drop();
  });

  async function fire(channel: AlertChannel, body: string): Promise<string> {
    return (await fireAlert(store, { channel, body, repeat: { mode: 'once' } })).outboxId;
  }

  it('never sends a row twice when a slow batch outlives its lease', async () => {
    const sends = new Map<string, number>();
    const slow = {
      async send(m: OutboxMessage) {
        sends.set(m.id, (sends.get(m.id) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, 150));
        return { kind: 'sent' as const, providerId: null };
      },
      async findSent() {
        return undefined;
      },
    };
    const channel: AlertChannel = { type: 'webhook', url: 'https://example.test/same' };
    for (let i = 0; i < 6; i++) await fire(channel, `m${i}`);
    const a = new Dispatcher({ db, senders: { webhook: slow }, leaseMs: 400 });
    const b = new Dispatcher({ db, senders: { webhook: slow }, leaseMs: 400 });
    const first = a.runOnce();
    await new Promise((r) => setTimeout(r, 450));
    await b.drain();
    await first;
    await a.drain();
    expect([...sends.values()].filter((n) => n > 1)).toEqual([]);
    expect(sends.size).toBe(6);
  });

  it("does not take another row's message as proof that this one was sent", async () => {
    const phone = '+4915199990001';
    const sender = new TwilioSender(db, {
      accountSid: stub.accountSid,
      authToken: stub.authToken,
      from: '+14155238886',
      baseUrl: stub.url,
      timeoutMs: 500,
      template: { contentSid: 'HX' + '0'.repeat(32) },
    });
    const d = new Dispatcher({ db, senders: { whatsapp: sender }, backoff: { baseMs: 10, maxMs: 20 } });
    const channel: AlertChannel = { type: 'whatsapp', to: phone };
    await fire(channel, 'first alert');
    await d.drain();
    await fire(channel, 'second alert');
    stub.failNext({ status: 503, code: 20500, message: 'unavailable' });
    await d.runOnce();
    await new Promise((r) => setTimeout(r, 50));
    await d.drain();
    expect(stub.sentTo(phone)).toHaveLength(2);
    const ids = await db.query<{ provider_id: string }>(
      "select provider_id from outbox where recipient = $1 and status = 'sent'",
      [phone],
    );
    expect(new Set(ids.map((r) => r.provider_id)).size).toBe(2);
  });
});
