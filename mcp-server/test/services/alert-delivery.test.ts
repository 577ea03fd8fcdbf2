import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AlertChannel } from '../../src/core/alerts/types.js';
import { SqlAlertStore } from '../../src/store/alert-store.js';
import { PgDatabase } from '../../src/store/pg-database.js';
import { BullOutboxQueue, Dispatcher } from '../../src/services/alerts/dispatcher.js';
import { recordProviderStatus } from '../../src/services/alerts/outbox.js';
import { RecipientStore } from '../../src/services/alerts/recipients.js';
import { TokenBucket, TwilioSender } from '../../src/services/alerts/twilio-sender.js';
import { refuseUrl, sign, WebhookSender } from '../../src/services/alerts/webhook-sender.js';
import { fireAlert } from '../helpers/alert-fixtures.js';
import { isolatedPostgresUrl } from '../helpers/postgres.js';
import { deleteKeys, rawClient, uniquePrefix } from '../helpers/redis.js';
import {
  ERROR_21211,
  ERROR_429,
  ERROR_500,
  ERROR_63016,
  renderStubTemplate,
  startTwilioStub,
  type TwilioStub,
} from '../helpers/twilio-stub.js';

const FROM = '+14155238886';
let db: PgDatabase;
let dropSchema: () => Promise<void>;
let store: SqlAlertStore;
let recipients: RecipientStore;
let stub: TwilioStub;
let n = 0;

/** A fresh E.164 number per test so per-recipient counts never mix. */
function phone(): string {
  n += 1;
  return `+49151${String(process.pid % 1000).padStart(3, '0')}${String(n).padStart(4, '0')}`;
}

function sender(over: Partial<ConstructorParameters<typeof TwilioSender>[1]> = {}) {
  return new TwilioSender(db, {
    accountSid: stub.accountSid,
    authToken: stub.authToken,
    from: FROM,
    baseUrl: stub.url,
    timeoutMs: 500,
    template: { contentSid: 'HXabc123', render: (v) => renderStubTemplate('HXabc123', v) },
    publicBaseUrl: 'https://alerts.example.com',
    ...over,
  });
}

function dispatcher(s = sender(), over: Partial<ConstructorParameters<typeof Dispatcher>[0]> = {}) {
  return new Dispatcher({
    db,
    senders: { whatsapp: s, webhook: new WebhookSender({ secret: 'whsec', allowPrivate: true }) },
    backoff: { baseMs: 20, maxMs: 80 },
    leaseMs: 2_000,
    ...over,
  });
}

/** A fresh alert of alice's to `channel`, fired now: its pending outbox row. */
function fire(channel: AlertChannel, body?: string) {
  return fireAlert(store, { channel, body });
}

async function row(id: string) {
  const rows = await db.query<{
    status: string;
    attempts: number;
    last_error: string | null;
    provider_id: string | null;
    next_attempt_at: Date;
    needs_check: boolean;
  }>(
    'select status, attempts, last_error, provider_id, next_attempt_at, needs_check from outbox where id = $1',
    [id],
  );
  return rows[0]!;
}

/** Runs the dispatcher until the row is final (or 10 s pass). */
async function settle(d: Dispatcher, id: string) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    await d.runOnce();
    const r = await row(id);
    if (['sent', 'failed', 'skipped'].includes(r.status)) return r;
    if (Date.now() > deadline) return r;
    await new Promise((res) => setTimeout(res, 20));
  }
}

beforeAll(async () => {
  const schema = await isolatedPostgresUrl();
  dropSchema = schema.drop;
  db = new PgDatabase({ connectionString: schema.url });
  store = new SqlAlertStore(db);
  recipients = new RecipientStore(db);
  stub = await startTwilioStub();
});
afterAll(async () => {
  await stub.close();
  await db.close();
  await dropSchema();
});
beforeEach(() => {
  stub.messages.length = 0;
  stub.requests.length = 0;
});

describe('WhatsApp through the twilio SDK', () => {
  it('sends free-form text inside the 24-hour window, with a status callback', async () => {
    const to = phone();
    await recipients.recordInbound(to, new Date(Date.now() - 3600_000));
    const { outboxId, body } = await fire({ type: 'whatsapp', to });
    const r = await settle(dispatcher(), outboxId);
    expect(r.status).toBe('sent');
    const [m] = stub.sentTo(to);
    expect(m).toMatchObject({ body, from: `whatsapp:${FROM}`, content_sid: null });
    expect(m!.status_callback).toBe(`https://alerts.example.com/webhooks/twilio/status?outbox=${outboxId}`);
    expect(r.provider_id).toBe(m!.sid);
    expect(stub.requests[0]!.form.Body).toBe(body);
  });

  it('cuts free-form text to 1,600 characters', async () => {
    const to = phone();
    await recipients.recordInbound(to);
    const { outboxId } = await fire({ type: 'whatsapp', to }, 'x'.repeat(2000));
    expect((await settle(dispatcher(), outboxId)).status).toBe('sent');
    expect([...stub.sentTo(to)[0]!.body]).toHaveLength(1600);
  });

  it('sends the approved template outside the window (no Body)', async () => {
    const to = phone();
    await recipients.recordInbound(to, new Date(Date.now() - 25 * 3600_000));
    const { outboxId, body } = await fire({ type: 'whatsapp', to });
    expect((await settle(dispatcher(), outboxId)).status).toBe('sent');
    const req = stub.requests.find((q) => q.method === 'POST')!;
    expect(req.form.Body).toBeUndefined();
    expect(req.form.ContentSid).toBe('HXabc123');
    expect(JSON.parse(req.form.ContentVariables!)).toEqual({ '1': body });
  });

  it('fails permanently outside the window without a template (63016, no request)', async () => {
    const to = phone();
    const { outboxId } = await fire({ type: 'whatsapp', to });
    const r = await settle(dispatcher(sender({ template: undefined })), outboxId);
    expect(r).toMatchObject({ status: 'failed', attempts: 1 });
    expect(r.last_error).toMatch(/^63016/);
    expect(stub.requests).toHaveLength(0);
  });

  it('skips opted-out recipients', async () => {
    const to = phone();
    await recipients.recordInbound(to);
    await recipients.optOut(to);
    const { outboxId } = await fire({ type: 'whatsapp', to });
    const r = await settle(dispatcher(), outboxId);
    expect(r).toMatchObject({ status: 'skipped', last_error: 'recipient opted out' });
    expect(stub.requests).toHaveLength(0);
  });

  it('retries 429 and 500, then sends once', async () => {
    const to = phone();
    await recipients.recordInbound(to);
    stub.failNext(ERROR_429);
    stub.failNext(ERROR_500);
    const { outboxId } = await fire({ type: 'whatsapp', to });
    const r = await settle(dispatcher(), outboxId);
    expect(r).toMatchObject({ status: 'sent', attempts: 3 });
    expect(stub.sentTo(to)).toHaveLength(1);
    expect(stub.requests.filter((q) => q.method === 'POST')).toHaveLength(3);
    // After the 500 (maybe stored) the dispatcher looked at the message log before sending again.
    expect(stub.requests.some((q) => q.method === 'GET')).toBe(true);
  });

  it('sends the approved template when Twilio says the window closed after all (63016)', async () => {
    const to = phone();
    await recipients.recordInbound(to);
    stub.failNext(ERROR_63016);
    const { outboxId } = await fire({ type: 'whatsapp', to });
    const r = await settle(dispatcher(), outboxId);
    expect(r).toMatchObject({ status: 'sent', attempts: 1 });
    const [sent] = stub.sentTo(to);
    expect(sent!.content_sid).toBe('HXabc123');
    expect(stub.sentTo(to)).toHaveLength(1);
  });

  it.each([
    ['63016', ERROR_63016],
    ['21211', ERROR_21211],
  ])('records permanent error %s without retrying', async (code, failure) => {
    const to = phone();
    await recipients.recordInbound(to);
    stub.failNext(failure);
    const { outboxId } = await fire({ type: 'whatsapp', to });
    // Without a template there is nothing else to send for 63016.
    const r = await settle(dispatcher(sender({ template: undefined })), outboxId);
    expect(r).toMatchObject({ status: 'failed', attempts: 1 });
    expect(r.last_error).toMatch(new RegExp(`^${code}: `));
    expect(r.last_error).not.toContain(to);
  });

  it('retries a timeout without sending twice (the message log shows it arrived)', async () => {
    const to = phone();
    await recipients.recordInbound(to);
    stub.delayNext(1_500); // stored by "Twilio", answer after the 500 ms client timeout
    const { outboxId } = await fire({ type: 'whatsapp', to });
    const r = await settle(dispatcher(), outboxId);
    expect(r).toMatchObject({ status: 'sent', attempts: 2 });
    expect(stub.sentTo(to)).toHaveLength(1);
    expect(r.provider_id).toBe(stub.sentTo(to)[0]!.sid);
  });

  it('finds a sent template through the status callback record', async () => {
    const to = phone();
    const { outboxId } = await fire({ type: 'whatsapp', to });
    // Simulate: first attempt reached Twilio, then the worker crashed; the status callback arrived.
    await db.query(
      `update outbox set status = 'sending', attempts = 1, sending_started_at = now() - interval '1 hour' where id = $1`,
      [outboxId],
    );
    await recordProviderStatus(db, { providerId: 'SMfromcallback', status: 'delivered', outboxId });
    const r = await settle(dispatcher(), outboxId);
    expect(r).toMatchObject({ status: 'sent', provider_id: 'SMfromcallback' });
    expect(stub.requests.filter((q) => q.method === 'POST')).toHaveLength(0);
    const hist = await store.history(
      'alice',
      (
        await db.query<{ alert_id: string }>(
          'select f.alert_id from outbox o join alert_firings f on f.id = o.firing_id where o.id = $1',
          [outboxId],
        )
      )[0]!.alert_id,
      5,
    );
    expect(hist[0]).toMatchObject({ delivery: 'sent', provider_status: 'delivered' });
  });

  it('defers beyond the per-recipient limit without counting an attempt', async () => {
    const to = phone();
    await recipients.recordInbound(to);
    const d = dispatcher(sender({ perRecipientPerHour: 2 }));
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await fire({ type: 'whatsapp', to })).outboxId);
    await settle(d, ids[0]!);
    await settle(d, ids[1]!);
    await d.runOnce();
    const third = await row(ids[2]!);
    expect(third).toMatchObject({ status: 'pending', attempts: 0 });
    expect(third.last_error).toMatch(/per-recipient limit/);
    expect(third.next_attempt_at.getTime()).toBeGreaterThan(Date.now() + 3000_000);
    expect(stub.sentTo(to)).toHaveLength(2);
  });

  it('never lets dispatchers sending at the same time exceed the per-recipient limit', async () => {
    const to = phone();
    await recipients.recordInbound(to);
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push((await fire({ type: 'whatsapp', to })).outboxId);
    // Three dispatchers, each sending its rows one by one by id (as BullMQ workers do), all at once.
    const ds = [0, 1, 2].map(() => dispatcher(sender({ perRecipientPerHour: 3 })));
    await Promise.all(ds.flatMap((d) => ids.map((id) => d.runOne(id))));
    const rows = await Promise.all(ids.map((id) => row(id)));
    expect(stub.sentTo(to)).toHaveLength(3);
    expect(rows.filter((r) => r.status === 'sent')).toHaveLength(3);
    const waiting = rows.filter((r) => r.status === 'pending');
    expect(waiting).toHaveLength(5);
    for (const r of waiting) {
      expect(r).toMatchObject({ attempts: 0, last_error: expect.stringMatching(/per-recipient limit/) });
    }
  });

  it("gives a failed message's slot back", async () => {
    const to = phone();
    await recipients.recordInbound(to);
    stub.failNext(ERROR_21211);
    const first = (await fire({ type: 'whatsapp', to })).outboxId;
    const second = (await fire({ type: 'whatsapp', to })).outboxId;
    const d = dispatcher(sender({ perRecipientPerHour: 1 }));
    expect(await settle(d, first)).toMatchObject({ status: 'failed' });
    expect(await settle(d, second)).toMatchObject({ status: 'sent' });
  });

  it('keeps the slot of a message given up on after an attempt Twilio may have received', async () => {
    const to = phone();
    await recipients.recordInbound(to);
    stub.delayNext(1_500); // stored by "Twilio", answered after the client's timeout: it went out
    const first = (await fire({ type: 'whatsapp', to })).outboxId;
    const second = (await fire({ type: 'whatsapp', to })).outboxId;
    const d = dispatcher(sender({ perRecipientPerHour: 1 }), { maxAttempts: 1 });
    expect(await settle(d, first)).toMatchObject({ status: 'failed', needs_check: true });
    expect(stub.sentTo(to)).toHaveLength(1);
    await d.runOnce();
    expect(await row(second)).toMatchObject({
      status: 'pending',
      attempts: 0,
      last_error: expect.stringMatching(/per-recipient limit/),
    });
    expect(stub.sentTo(to)).toHaveLength(1);
  });

  it('limits the sender rate with a token bucket', async () => {
    const bucket = new TokenBucket(20, 1);
    const t0 = Date.now();
    for (let i = 0; i < 5; i++) await bucket.take();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(180);
  });

  it('two dispatchers racing send each message once', async () => {
    const to = phone();
    await recipients.recordInbound(to);
    const ids = [];
    for (let i = 0; i < 6; i++) ids.push((await fire({ type: 'whatsapp', to })).outboxId);
    const a = dispatcher(sender({ perRecipientPerHour: 100 }));
    const b = dispatcher(sender({ perRecipientPerHour: 100 }));
    await Promise.all([a.drain(), b.drain(), a.drain()]);
    for (const id of ids) expect((await row(id)).status).toBe('sent');
    expect(stub.sentTo(to)).toHaveLength(6);
  });
});

describe('webhooks', () => {
  it('POSTs a verifiable HMAC signature and the idempotency key; 5xx retried, 4xx permanent', async () => {
    const got: { headers: Record<string, string | string[] | undefined>; raw: string }[] = [];
    const statuses = [503, 200, 404];
    const server = createServer(async (req, res) => {
      let raw = '';
      for await (const c of req) raw += String(c);
      got.push({ headers: req.headers, raw });
      res.writeHead(statuses.shift() ?? 200).end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    try {
      const { outboxId, body } = await fire({ type: 'webhook', url });
      const r = await settle(dispatcher(), outboxId);
      expect(r).toMatchObject({ status: 'sent', attempts: 2 });
      expect(got).toHaveLength(2);
      for (const g of got) {
        expect(g.headers['x-signature']).toBe(sign('whsec', g.raw));
        expect(g.headers['x-idempotency-key']).toBe(outboxId);
        expect(JSON.parse(g.raw)).toMatchObject({
          outbox_id: outboxId,
          message: body,
          symbol: 'BTC/USDT',
          exchange: 'binance',
          timeframe: '1h',
          condition: null,
          values: { price: 2 },
        });
        expect(JSON.parse(g.raw).fired_at).toMatch(/^\d{4}-\d\d-\d\dT/);
      }
      const second = await fire({ type: 'webhook', url });
      const r2 = await settle(dispatcher(), second.outboxId);
      expect(r2).toMatchObject({ status: 'failed', last_error: 'HTTP 404', attempts: 1 });
    } finally {
      server.close();
    }
  });

  it('refuses non-http and private URLs unless allowed', async () => {
    expect(refuseUrl('file:///etc/passwd')).toMatch(/scheme/);
    expect(refuseUrl('http://127.0.0.1/x')).toMatch(/private|loopback/);
    expect(refuseUrl('http://10.1.2.3/x')).toMatch(/private/);
    expect(refuseUrl('http://[::1]/x')).toMatch(/private|loopback/);
    expect(refuseUrl('http://localhost:8080/x')).toMatch(/loopback/);
    expect(refuseUrl('https://n8n.example.com/webhook/abc')).toBeNull();
    expect(refuseUrl('http://127.0.0.1/x', true)).toBeNull();
    const d = dispatcher(sender(), { senders: { webhook: new WebhookSender({ secret: 's' }) } });
    const { outboxId } = await fire({ type: 'webhook', url: 'http://127.0.0.1:1/x' });
    expect(await settle(d, outboxId)).toMatchObject({ status: 'failed' });
  });
});

describe('BullMQ worker', () => {
  it('sends once with two workers racing and duplicate enqueues', async () => {
    const prefix = uniquePrefix('alert-outbox').replace(/:$/, '');
    const connection = { host: '127.0.0.1', port: 6379 };
    const to = phone();
    await recipients.recordInbound(to);
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push((await fire({ type: 'whatsapp', to })).outboxId);
    const d1 = dispatcher(sender({ perRecipientPerHour: 100 }));
    const d2 = dispatcher(sender({ perRecipientPerHour: 100 }));
    const q1 = new BullOutboxQueue({ dispatcher: d1, db, connection, prefix });
    const q2 = new BullOutboxQueue({ dispatcher: d2, db, connection, prefix });
    const redis = rawClient();
    try {
      await Promise.all([q1.enqueueDue(), q2.enqueueDue(), q1.enqueueDue()]);
      q1.startWorker(4);
      q2.startWorker(4);
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        const statuses = await Promise.all(ids.map(async (id) => (await row(id)).status));
        if (statuses.every((s) => s === 'sent')) break;
        await q1.enqueueDue();
        await new Promise((r) => setTimeout(r, 50));
      }
      for (const id of ids) expect((await row(id)).status).toBe('sent');
      expect(stub.sentTo(to)).toHaveLength(4);
    } finally {
      await q1.close();
      await q2.close();
      await deleteKeys(redis, prefix);
      redis.disconnect();
    }
  });
});
