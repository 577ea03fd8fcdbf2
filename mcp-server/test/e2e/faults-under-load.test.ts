/**
 * Faults of the real services while two server replicas are under load (issue 7).
 *
 * Two `crypto-mcp http` processes share a PRIVATE Postgres and a PRIVATE Redis (so stopping them disturbs
 * no other test file), deliver alerts to WhatsApp through the local Twilio stub (an approved template, so
 * no 24-hour window is needed) and as signed webhooks to a local receiver, and answer a steady load of
 * cached `analyze_crypto` REST calls the whole time. Offline data: `price > 0.001` fires on the first tick
 * (every 5 s). Every alert gets its own phone number or webhook path, so the stubs' records (the ground
 * truth) map to alerts one to one.
 *
 * What "exactly once" means here:
 * - WhatsApp: the Twilio stub's message log holds exactly one message per alert. The product promises this
 *   even across crashes (a row found 'sending' after its lease is checked against Twilio's log before any
 *   resend), so raw messages are counted, not deduplicated.
 * - Webhooks: at least once on the wire, with `X-Idempotency-Key` = the outbox id. "Once" is: exactly one
 *   distinct idempotency key per alert (one firing, one outbox row; a receiver that dedups on the key sees
 *   one alert). Raw deliveries are counted too: a resend (same key) is only legitimate when an attempt's
 *   outcome was lost (a crash or an unreachable database between the receiver's 2xx and the mark, or a
 *   timeout), and each resend needs an attempt of its own, so an alert's raw deliveries never exceed the
 *   attempts its outbox row recorded. A row left 'sending' (an orphan) is sent exactly once more after the
 *   lease; any other alert goes out once, raw, unless it was retried.
 * - The server's own history (`GET /api/v1/alerts/{id}/history`) shows one firing per alert, delivered
 *   ('sent'), with the message the stubs got, and the idempotency key / Twilio SID the stubs saw (its
 *   outbox_id / message_sid, also checked against the outbox row in Postgres).
 *
 * The sinks can hold their answers (`hold`): they record the message, then answer only on `release`. With
 * more than 5 answers held (a replica's BullMQ worker runs 5 jobs at a time) both replicas are certainly
 * mid-send, which is when the faults are injected. No timing is asserted; the dispatcher's 60 s lease
 * makes the Postgres and SIGKILL scenarios wait about a minute for the recovery of rows left 'sending'.
 * The measurements are printed at the end ("faults under load: {...}"); FAULTS_DEBUG_DIR=<dir> also
 * writes each replica's full log there.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { startPrivatePostgres, type PrivatePostgres } from '../helpers/postgres.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis.js';
import { startTwilioStub, type StubMessage, type TwilioStub } from '../helpers/twilio-stub.js';
import {
  startWebhookReceiver,
  type WebhookDelivery,
  type WebhookReceiver,
} from '../helpers/webhook-receiver.js';
import { startLoad, type Load, type LoadTarget } from '../helpers/load.js';

const KEY = `key-faults-${randomBytes(12).toString('hex')}`;
const SECRET = randomBytes(16).toString('hex');
const TEMPLATE = 'HX' + randomBytes(16).toString('hex');
/** The offline snapshot's large caps (all priced above 0.001). */
const SYMBOLS = [
  'BTCUSDT',
  'ETHUSDT',
  'SOLUSDT',
  'XRPUSDT',
  'ADAUSDT',
  'AVAXUSDT',
  'BCHUSDT',
  'DOGEUSDT',
  'DOTUSDT',
  'LINKUSDT',
  'LTCUSDT',
  'NEARUSDT',
  'NEOUSDT',
  'TRXUSDT',
  'XLMUSDT',
  'XTZUSDT',
];
/** What the load asks for: a few reports, cached after their first computation. */
const LOAD_BODIES = [
  { symbol: 'BTCUSDT', timeframe: '4h' },
  { symbol: 'ETHUSDT', timeframe: '4h' },
  { symbol: 'SOLUSDT', timeframe: '1h' },
  { symbol: 'XRPUSDT', timeframe: '1d' },
];
/** A replica's BullMQ worker runs this many jobs at once (delivery.ts: startWorker()). */
const WORKER_CONCURRENCY = 5;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface CreatedAlert {
  id: string;
  scenario: string;
  channel: 'whatsapp' | 'webhook';
  /** E.164 phone (WhatsApp) or receiver path (webhook). */
  address: string;
  via: string;
}

// ---------------------------------------------------------------------------------------------------
// The exactly-once audit (pure; checked against planted mistakes in the first test)

interface DeliveryUnit {
  /** The alert it reports (null: not attributable to any expected alert). */
  alert: string | null;
  /** The distinct thing delivered: the Twilio message SID, or the webhook's idempotency key. */
  unit: string;
}

interface DeliveryAudit {
  alerts: number;
  raw: number;
  distinct: number;
  missing: string[];
  /** Alerts with more than one distinct unit (two messages, two idempotency keys). */
  duplicated: string[];
  /** Raw deliveries beyond the first of each unit (same idempotency key again). */
  resent: number;
  /** Deliveries that belong to no expected alert. */
  unexpected: number;
}

function auditDeliveries(expected: string[], units: DeliveryUnit[]): DeliveryAudit {
  const wanted = new Set(expected);
  const perAlert = new Map<string, Set<string>>();
  let raw = 0;
  let unexpected = 0;
  for (const u of units) {
    if (u.alert === null || !wanted.has(u.alert)) {
      unexpected++;
      continue;
    }
    raw++;
    let set = perAlert.get(u.alert);
    if (!set) perAlert.set(u.alert, (set = new Set()));
    set.add(u.unit);
  }
  const distinct = [...perAlert.values()].reduce((n, s) => n + s.size, 0);
  return {
    alerts: expected.length,
    raw,
    distinct,
    missing: expected.filter((id) => !perAlert.has(id)),
    duplicated: expected.filter((id) => (perAlert.get(id)?.size ?? 0) > 1),
    resent: raw - distinct,
    unexpected,
  };
}

/** WhatsApp messages as units: each message is one unit (its SID), attributed by the recipient. */
function whatsappUnits(alerts: CreatedAlert[], messages: StubMessage[]): DeliveryUnit[] {
  const byPhone = new Map(alerts.filter((a) => a.channel === 'whatsapp').map((a) => [a.address, a.id]));
  return messages
    .map((m) => ({ phone: m.to.replace(/^whatsapp:/, ''), sid: m.sid }))
    .filter((m) => byPhone.has(m.phone))
    .map((m) => ({ alert: byPhone.get(m.phone)!, unit: m.sid }));
}

/** Webhook deliveries as units: the idempotency key, attributed by the receiver path. */
function webhookUnits(alerts: CreatedAlert[], deliveries: WebhookDelivery[]): DeliveryUnit[] {
  const byPath = new Map(alerts.filter((a) => a.channel === 'webhook').map((a) => [a.address, a.id]));
  return deliveries
    .filter((d) => byPath.has(d.path))
    .map((d) => ({ alert: byPath.get(d.path)!, unit: d.key ?? '(no key)' }));
}

// ---------------------------------------------------------------------------------------------------

type StoreEntry = { name: string; backend: string; status: string; detail?: string };
type Health = { status: string; stores: StoreEntry[] };
/** /health/infrastructure (observability; absent on builds without it). */
type Infrastructure = {
  status: string;
  dependencies: Record<'database' | 'redis', { status: string }>;
};
interface HealthSample {
  replica: string;
  phase: string;
  /** null: no answer. */
  health: Health | null;
  /** null: no answer; 'absent': the route does not exist in this build. */
  infra: Infrastructure | null | 'absent';
}

interface Replica {
  name: string;
  server: ServerProcess;
  target: LoadTarget;
}

/** An outbox row left 'sending' by a dispatcher that could not finish (killed, or its database gone). */
interface Orphan {
  outbox_id: string;
  alert_id: string;
  channel: 'whatsapp' | 'webhook';
  /** What its sink had already received for it when the row was found orphaned (0 or 1). */
  seen: number;
}

describe('faults of the real services under load (two replicas, private Postgres and Redis)', () => {
  let postgres: PrivatePostgres;
  let redis: PrivateRedis;
  let stub: TwilioStub;
  let receiver: WebhookReceiver;
  let db: pg.Pool;
  let load: Load;
  const replicas: Replica[] = [];
  const created: CreatedAlert[] = [];
  const retired: Replica[] = [];
  /** Replica processes that ended without this test stopping or killing them. */
  const unexpectedExits: string[] = [];
  const expectedExit = new Set<number>();
  const watch = (name: string, server: ServerProcess) => {
    server.child.once('exit', (code, signal) => {
      if (server.child.pid !== undefined && expectedExit.has(server.child.pid)) return;
      const what = `${name} (pid ${server.child.pid}) exited with ${code ?? signal} at ${new Date().toISOString()}`;
      unexpectedExits.push(what);
      console.error(`replica ${what}\n${server.stderr().slice(-4000)}`);
    });
    return server;
  };
  const samples: HealthSample[] = [];
  let phase = 'setup';
  let polling = true;
  let poller: Promise<void> | null = null;
  const report: Record<string, unknown> = {};
  const RUN = String(randomBytes(2).readUInt16BE() % 10_000).padStart(4, '0');

  // Twilio stub hold: the message is stored (Twilio accepted it), the answer waits for the release.
  let twilioGate: Promise<void> | null = null;
  let openTwilioGate: (() => void) | null = null;
  let twilioHeld = 0;
  const holdSinks = () => {
    receiver.hold();
    twilioGate = new Promise<void>((r) => (openTwilioGate = r));
  };
  const releaseSinks = () => {
    receiver.release();
    openTwilioGate?.();
    twilioGate = null;
  };
  const held = () => receiver.held + twilioHeld;

  const env = () => ({
    DATABASE_URL: postgres.url,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: 'faults:',
    MCP_API_KEYS: KEY,
    RATE_LIMIT_PER_MINUTE: '0',
    TWILIO_ACCOUNT_SID: stub.accountSid,
    TWILIO_AUTH_TOKEN: stub.authToken,
    TWILIO_WHATSAPP_FROM: '+14155238886',
    TWILIO_TEMPLATE_SID: TEMPLATE,
    TWILIO_API_URL: stub.url,
    WEBHOOK_SIGNING_SECRET: SECRET,
    ALERT_WEBHOOK_ALLOW_PRIVATE: 'true',
  });

  const setPhase = (label: string) => {
    phase = label;
    load.phase(label);
  };

  const api = async (replica: Replica, method: string, path: string, body?: unknown) => {
    const res = await fetch(new URL(path, replica.server.origin), {
      method,
      headers: {
        authorization: `Bearer ${KEY}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(20_000),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  const getJson = async (
    replica: Replica,
    path: string,
  ): Promise<{ status: number; body: unknown } | null> => {
    try {
      const res = await fetch(new URL(path, replica.server.origin), {
        headers: { authorization: `Bearer ${KEY}` },
        signal: AbortSignal.timeout(5_000),
      });
      const text = await res.text();
      return {
        status: res.status,
        body: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text,
      };
    } catch {
      return null;
    }
  };
  const healthOf = async (replica: Replica): Promise<Health | null> =>
    ((await getJson(replica, '/health'))?.body as Health | undefined) ?? null;
  const infraOf = async (replica: Replica): Promise<Infrastructure | null | 'absent'> => {
    const res = await getJson(replica, '/health/infrastructure');
    if (res === null) return null;
    return res.status === 404 ? 'absent' : (res.body as Infrastructure);
  };
  const storeOf = (h: Health | null, name: string) => h?.stores.find((s) => s.name === name);

  async function eventually(check: () => Promise<boolean> | boolean, what: () => string, ms = 30_000) {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) {
        throw new Error(
          `timed out waiting for ${what()}\n` +
            replicas.map((r) => `--- ${r.name}\n${r.server.stderr().slice(-2500)}`).join('\n'),
        );
      }
      await sleep(100);
    }
  }

  /** Creates alerts `from`..`from + count - 1` over both channels and replicas, 8 requests at a time. */
  async function createAlerts(scenario: 'redis' | 'postgres' | 'kill', count: number, from = 0) {
    const out: CreatedAlert[] = [];
    const digit = { redis: 1, postgres: 2, kill: 3 }[scenario];
    let next = from;
    const worker = async () => {
      while (next < from + count) {
        const i = next++;
        // Channels alternate, and each channel goes through both replicas (their engines fire what they
        // created at once; the other replica's engine picks it up at its next reload).
        const replica = replicas[Math.floor(i / 2) % replicas.length]!;
        const channel = i % 2 === 0 ? 'whatsapp' : 'webhook';
        const address =
          channel === 'whatsapp'
            ? `+4917${RUN}${digit}${String(i).padStart(4, '0')}`
            : `/hooks/${scenario}/${i}`;
        const res = await api(replica, 'POST', '/api/v1/alerts', {
          symbol: SYMBOLS[i % SYMBOLS.length],
          condition: 'price > 0.001',
          ...(channel === 'whatsapp'
            ? { phone_number: address }
            : { webhook_url: `${receiver.url}${address}` }),
        });
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        const id = (res.body.alert as { id: string }).id;
        out.push({ id, scenario, channel, address, via: replica.name });
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    created.push(...out);
    return out;
  }

  /** How many of `alerts` have their one firing delivered ('sent'), read from Postgres. */
  async function deliveredCount(alerts: CreatedAlert[]): Promise<number> {
    const { rows } = await db.query<{ n: number }>(
      `select count(*)::int as n from (
         select a.id from alerts a join alert_firings f on f.alert_id = a.id join outbox o on o.firing_id = f.id
          where a.id = any($1::uuid[]) group by a.id
         having count(*) = 1 and bool_and(o.status = 'sent')) d`,
      [alerts.map((a) => a.id)],
    );
    return rows[0]!.n;
  }

  /** The state of alerts not delivered yet (for failure messages). */
  async function undelivered(alerts: CreatedAlert[]) {
    const { rows } = await db.query(
      `select a.id, a.status as alert, a.last_fired_at, o.status, o.attempts, o.last_error, o.needs_check,
              o.sending_started_at, o.next_attempt_at, now() as db_now
         from alerts a left join alert_firings f on f.alert_id = a.id left join outbox o on o.firing_id = f.id
        where a.id = any($1::uuid[]) and (o.status is distinct from 'sent')`,
      [alerts.map((a) => a.id)],
    );
    return rows;
  }

  /** Rows of `alerts` still 'sending' whose attempt began at or before `before`. */
  async function orphansOf(alerts: CreatedAlert[], before: number): Promise<Orphan[]> {
    const { rows } = await db.query<Omit<Orphan, 'seen'>>(
      `select o.id as outbox_id, f.alert_id, o.channel->>'type' as channel
         from outbox o join alert_firings f on f.id = o.firing_id
        where f.alert_id = any($1::uuid[]) and o.status = 'sending'
          and o.sending_started_at <= to_timestamp($2::double precision / 1000)`,
      [alerts.map((a) => a.id), before],
    );
    const byId = new Map(alerts.map((a) => [a.id, a]));
    return rows.map((r) => {
      const a = byId.get(r.alert_id)!;
      const seen =
        a.channel === 'whatsapp'
          ? stub.messages.filter((m) => m.to === `whatsapp:${a.address}`).length
          : receiver.deliveries.filter((d) => d.path === a.address).length;
      return { ...r, seen };
    });
  }

  /** Waits until every alert of the set is delivered, then a quiet moment for late duplicates. */
  async function waitDelivered(alerts: CreatedAlert[], what: string, ms = 120_000) {
    let done = 0;
    let stuck = '';
    await eventually(
      async () => {
        done = await deliveredCount(alerts);
        if (done === alerts.length) return true;
        stuck = JSON.stringify(await undelivered(alerts));
        return false;
      },
      () =>
        `${what}: every alert delivered (${done}/${alerts.length}; not yet: ${stuck}; ` +
        `replicas: ${replicas.map((r) => `${r.name} pid ${r.server.child.pid} exit ${r.server.child.exitCode ?? r.server.child.signalCode ?? 'running'}`).join(', ')})`,
      ms,
    );
    const before = stub.messages.length + receiver.deliveries.length;
    await sleep(2_000);
    expect(stub.messages.length + receiver.deliveries.length, 'nothing more after the last delivery').toBe(
      before,
    );
  }

  /**
   * Ground truth (stubs) and the server's account (REST history, outbox rows) for a set of alerts. Orphans
   * (rows a dead or cut-off dispatcher left 'sending') must have been taken over after the lease: a WhatsApp
   * message Twilio already had is found in its log and not sent again (one message either way); a webhook is
   * sent exactly once more, with the same key (so twice on the wire when the receiver had the first call).
   * Every other alert went out exactly once, raw.
   */
  async function verifyDelivered(alerts: CreatedAlert[], label: string, orphans: Orphan[] = []) {
    const wa = alerts.filter((a) => a.channel === 'whatsapp');
    const hooks = alerts.filter((a) => a.channel === 'webhook');
    const whatsapp = auditDeliveries(
      wa.map((a) => a.id),
      whatsappUnits(wa, stub.messages),
    );
    const webhook = auditDeliveries(
      hooks.map((a) => a.id),
      webhookUnits(hooks, receiver.deliveries),
    );
    expect(whatsapp, `${label}: WhatsApp`).toMatchObject({
      missing: [],
      duplicated: [],
      resent: 0,
      unexpected: 0,
    });
    expect(whatsapp.raw).toBe(wa.length);
    expect(webhook, `${label}: webhooks`).toMatchObject({ missing: [], duplicated: [], unexpected: 0 });
    expect(webhook.distinct).toBe(hooks.length);

    const { rows } = await db.query<{ alert_id: string; outbox_id: string; provider_id: string | null }>(
      `select f.alert_id, o.id as outbox_id, o.provider_id
         from alert_firings f join outbox o on o.firing_id = f.id where f.alert_id = any($1::uuid[])`,
      [alerts.map((a) => a.id)],
    );
    const rowOf = new Map(rows.map((r) => [r.alert_id, r]));
    const orphanOf = new Map(orphans.map((o) => [o.alert_id, o]));
    const counts = {
      retried: 0,
      /** WhatsApp orphans Twilio already had: found in its message log, not sent again. */
      whatsappFoundInLog: 0,
      /** Orphans that had not reached their sink: sent once by the dispatcher that took them over. */
      sentAfterTakeover: 0,
      /** Webhook orphans the receiver already had: sent again with the same idempotency key. */
      webhookResentSameKey: 0,
    };
    let next = 0;
    const check = async () => {
      while (next < alerts.length) {
        const a = alerts[next++]!;
        // The server's own account, through REST (either replica): one firing, delivered.
        const res = await api(replicas[next % replicas.length]!, 'GET', `/api/v1/alerts/${a.id}/history`);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        const history = res.body.history as {
          delivery: string;
          attempts: number;
          message: string;
          error: string | null;
          outbox_id: string | null;
          message_sid: string | null;
        }[];
        expect(history, `history of ${a.id}`).toHaveLength(1);
        const entry = history[0]!;
        expect(entry.delivery).toBe('sent');
        const row = rowOf.get(a.id)!;
        expect({ outbox_id: entry.outbox_id, message_sid: entry.message_sid }).toEqual({
          outbox_id: row.outbox_id,
          message_sid: row.provider_id,
        });
        if (entry.attempts > 1) {
          counts.retried++;
          // Every extra attempt has a cause: the row was orphaned, or an attempt failed and said why.
          if (!orphanOf.has(a.id)) expect(entry.error, `why ${a.id} was attempted again`).not.toBeNull();
        }
        if (a.channel === 'whatsapp') {
          const mine = stub.messages.filter((m) => m.to === `whatsapp:${a.address}`);
          expect(mine.map((m) => m.sid)).toEqual([row.provider_id]);
          expect(mine[0]!.body).toBe(`[${TEMPLATE}] Alert: ${entry.message.slice(0, 1000)}`);
          const orphan = orphanOf.get(a.id);
          if (orphan) {
            expect(entry.attempts, `orphan ${a.id} was taken over`).toBeGreaterThan(1);
            if (orphan.seen === 1) counts.whatsappFoundInLog++;
            else counts.sentAfterTakeover++;
          }
        } else {
          const mine = receiver.deliveries.filter((d) => d.path === a.address);
          expect([...new Set(mine.map((d) => d.key))]).toEqual([row.outbox_id]);
          for (const d of mine) {
            expect(d.signatureValid).toBe(true);
            expect(d.body).toMatchObject({
              outbox_id: row.outbox_id,
              alert_id: a.id,
              message: entry.message,
            });
          }
          // A resend needs an attempt of its own: more deliveries than attempts would be a second send.
          expect(mine.length, `deliveries of ${a.id} vs its attempts`).toBeLessThanOrEqual(entry.attempts);
          const orphan = orphanOf.get(a.id);
          if (orphan) {
            expect(entry.attempts, `orphan ${a.id} was taken over`).toBeGreaterThan(1);
            // The dispatcher that took it over sent it once more (webhooks have no provider log to ask).
            expect(mine, `orphan ${a.id}: one send after the takeover`).toHaveLength(orphan.seen + 1);
            if (orphan.seen === 1) counts.webhookResentSameKey++;
            else counts.sentAfterTakeover++;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, check));
    return { whatsapp, webhook, ...counts };
  }

  /**
   * Health of one scenario as polled: the value `statusOf` reads is 'ok' before the fault; from its first
   * report of the fault it never says 'ok' again during the fault; after it, 'ok' from its first 'ok' on.
   */
  function truthfulness(
    scenario: string,
    faultPhase: string,
    expectedDuring: string[],
    statusOf: (s: HealthSample) => string | undefined,
  ) {
    const seen: Record<string, Record<string, Record<string, number>>> = {};
    for (const r of replicas) {
      const mine = samples.filter((s) => s.replica === r.name && s.phase.startsWith(`${scenario}:`));
      const of = (p: string) =>
        mine.filter((s) => s.phase === `${scenario}:${p}`).map((s) => statusOf(s) ?? '?');
      const [before, during, after] = [of('before'), of(faultPhase), of('after')];
      expect(
        before.every((s) => s === 'ok'),
        `${r.name} before: ${before.join()}`,
      ).toBe(true);
      const firstBad = during.findIndex((s) => s !== 'ok');
      expect(firstBad, `${r.name}: the outage was reported (${during.join()})`).toBeGreaterThanOrEqual(0);
      const rest = during.slice(firstBad);
      expect(
        rest.every((s) => expectedDuring.includes(s)),
        `${r.name} during: ${rest.join()}`,
      ).toBe(true);
      const firstOk = after.indexOf('ok');
      expect(firstOk, `${r.name}: recovery reported (${after.join()})`).toBeGreaterThanOrEqual(0);
      expect(
        after.slice(firstOk).every((s) => s === 'ok'),
        `${r.name} after: ${after.join()}`,
      ).toBe(true);
      const count = (list: string[]) =>
        list.reduce<Record<string, number>>((m, s) => ((m[s] = (m[s] ?? 0) + 1), m), {});
      seen[r.name] = { before: count(before), [faultPhase]: count(during), after: count(after) };
    }
    return seen;
  }
  const infraPresent = () => samples.some((s) => s.infra !== null && s.infra !== 'absent');
  const infraStatus = (dep: 'database' | 'redis') => (s: HealthSample) =>
    s.infra === null ? 'no answer' : s.infra === 'absent' ? undefined : s.infra.dependencies?.[dep]?.status;

  const everyReplica = async (check: (h: Health | null) => boolean) =>
    (await Promise.all(replicas.map(healthOf))).every(check);

  beforeAll(async () => {
    [postgres, redis, stub, receiver] = await Promise.all([
      startPrivatePostgres(),
      startPrivateRedis(),
      startTwilioStub(),
      startWebhookReceiver(SECRET),
    ]);
    stub.onCreate = async () => {
      const gate = twilioGate;
      if (!gate) return;
      twilioHeld++;
      try {
        await gate;
      } finally {
        twilioHeld--;
      }
    };
    db = new pg.Pool({ connectionString: postgres.url, max: 2 });
    db.on('error', () => undefined);
    // One after the other: the first applies the migrations.
    for (const name of ['A', 'B']) {
      const server = watch(name, await startServer(env()));
      replicas.push({ name, server, target: { name, origin: server.origin } });
    }
    load = startLoad({
      targets: replicas.map((r) => r.target),
      apiKey: KEY,
      path: '/api/v1/tools/analyze_crypto',
      bodies: LOAD_BODIES,
      workersPerTarget: 3,
    });
    poller = (async () => {
      while (polling) {
        await Promise.all(
          replicas.map(async (r) => {
            if (r.target.origin === null) return; // out of rotation (killed): not polled
            const p = phase;
            const [health, infra] = await Promise.all([healthOf(r), infraOf(r)]);
            // Only a sample that began and ended in one phase tells what that phase looked like.
            if (phase === p) samples.push({ replica: r.name, phase: p, health, infra });
          }),
        );
        await sleep(200);
      }
    })();
    setPhase('warmup');
    // Every report computed once (then cached) and both replicas healthy before any fault.
    await eventually(
      async () =>
        (await everyReplica((h) => h?.status === 'ok')) && (load.summary('warmup').all?.ok ?? 0) >= 20,
      () => 'both replicas healthy and answering the load',
    );
  }, 120_000);

  afterAll(async () => {
    releaseSinks();
    polling = false;
    await poller;
    await load?.stop();
    for (const r of replicas) expectedExit.add(r.server.child.pid!);
    await Promise.allSettled(replicas.map((r) => r.server.stop()));
    await db?.end().catch(() => undefined);
    await Promise.allSettled([postgres?.destroy(), redis?.destroy(), stub?.close(), receiver?.close()]);
    console.log('faults under load:', JSON.stringify(report, null, 1));
    if (process.env.FAULTS_DEBUG_DIR) {
      const { writeFileSync } = await import('node:fs');
      for (const r of [...replicas, ...retired]) {
        writeFileSync(
          `${process.env.FAULTS_DEBUG_DIR}/${r.name}-${r.server.child.pid}.log`,
          r.server.stderr(),
        );
      }
    }
  });

  it('the exactly-once audit catches a missing, a duplicated, a resent and a foreign delivery', () => {
    const ok = auditDeliveries(
      ['a', 'b'],
      [
        { alert: 'a', unit: 'k1' },
        { alert: 'b', unit: 'k2' },
      ],
    );
    expect(ok).toMatchObject({ missing: [], duplicated: [], resent: 0, unexpected: 0, raw: 2, distinct: 2 });
    const bad = auditDeliveries(
      ['a', 'b', 'c'],
      [
        { alert: 'a', unit: 'k1' },
        { alert: 'a', unit: 'k9' }, // a second message (or a second outbox row) for alert a
        { alert: 'b', unit: 'k2' },
        { alert: 'b', unit: 'k2' }, // the same idempotency key again: a resend
        { alert: 'x', unit: 'k3' },
      ],
    );
    expect(bad).toMatchObject({ missing: ['c'], duplicated: ['a'], resent: 1, unexpected: 1 });
    // WhatsApp counts raw messages: a second message to one alert's phone is a duplicate.
    const alert: CreatedAlert = {
      id: 'a',
      scenario: 't',
      channel: 'whatsapp',
      address: '+4917000000',
      via: 'A',
    };
    const msg = (sid: string) => ({ sid, to: 'whatsapp:+4917000000' }) as StubMessage;
    expect(auditDeliveries(['a'], whatsappUnits([alert], [msg('SM1'), msg('SM2')])).duplicated).toEqual([
      'a',
    ]);
    // A webhook resent with the same key is one alert, but a resend; with a new key it is a duplicate.
    const hook: CreatedAlert = { id: 'h', scenario: 't', channel: 'webhook', address: '/h', via: 'A' };
    const call = (key: string) => ({ path: '/h', key }) as WebhookDelivery;
    expect(auditDeliveries(['h'], webhookUnits([hook], [call('o1'), call('o1')]))).toMatchObject({
      duplicated: [],
      resent: 1,
    });
    expect(auditDeliveries(['h'], webhookUnits([hook], [call('o1'), call('o2')])).duplicated).toEqual(['h']);
  });

  it('Redis stopped during firing and dispatch: alerts still delivered meanwhile, every one once, analysis keeps answering, health tells the truth', async () => {
    setPhase('redis:before');
    const first = await createAlerts('redis', 60);
    // Both replicas mid-send (more answers held than one replica's worker can have in flight).
    holdSinks();
    await eventually(
      () => held() > WORKER_CONCURRENCY,
      () => `both replicas sending (${held()} held)`,
    );
    const heldAtStop = held();
    setPhase('redis:outage');
    await redis.stop();
    releaseSinks();
    // Firings during the outage: alerts created now fire while their rows cannot be queued.
    const second = await createAlerts('redis', 60, 60);
    await eventually(
      () => everyReplica((h) => h?.status === 'degraded' && storeOf(h, 'cache')?.status !== 'ok'),
      () => 'health to report the cache outage',
    );
    // BullMQ can hand rows to nobody now: the replicas poll the outbox themselves, so the alerts that
    // fire during the outage go out during the outage (and, below, exactly once with the rest).
    await waitDelivered(second, 'alerts fired during the Redis outage, delivered during it');
    const outage = load.summary('redis:outage');
    setPhase('redis:after');
    await redis.start();
    await eventually(
      () => everyReplica((h) => h?.status === 'ok' && storeOf(h, 'cache')?.status === 'ok'),
      () => 'Redis to be used again',
    );
    const alerts = [...first, ...second];
    await waitDelivered(alerts, 'Redis outage');
    // Postgres stayed up: every attempt's outcome was recorded, so nothing was orphaned, and a webhook
    // can only have gone out again after a retry of its own (none happen unless a held answer timed out).
    const audit = await verifyDelivered(alerts, 'Redis outage');
    expect(audit.webhook.resent).toBeLessThanOrEqual(audit.retried);

    const summaries = { before: load.summary('redis:before'), outage, after: load.summary('redis:after') };
    for (const s of Object.values(summaries)) expect(s.all?.errors ?? 0, JSON.stringify(s)).toBe(0);
    expect(outage.A?.ok).toBeGreaterThan(0);
    expect(outage.B?.ok).toBeGreaterThan(0);
    // /health: the cache falls back to the process ('degraded'), the server as a whole 'degraded'.
    const health = {
      cache: truthfulness('redis', 'outage', ['degraded'], (s) => storeOf(s.health, 'cache')?.status),
      overall: truthfulness('redis', 'outage', ['degraded'], (s) => s.health?.status),
      // /health/infrastructure, where this build has it: Redis itself is 'down'.
      infrastructure: infraPresent()
        ? truthfulness('redis', 'outage', ['down'], infraStatus('redis'))
        : 'route absent',
    };
    report.redis = { alerts: alerts.length, heldAtStop, ...audit, load: summaries, health };
    for (const r of replicas) expect(r.server.child.exitCode).toBeNull();
    expect(unexpectedExits).toEqual([]);
  }, 150_000);

  it('Postgres stopped and started: STORE_UNAVAILABLE, analysis answers, alerts delivered once after recovery, the process recovers by itself', async () => {
    setPhase('postgres:before');
    const pids = replicas.map((r) => r.server.child.pid);
    const alerts = await createAlerts('postgres', 80);
    holdSinks();
    await eventually(
      () => held() > WORKER_CONCURRENCY,
      () => `both replicas sending (${held()} held)`,
    );
    const heldAtStop = held();
    setPhase('postgres:outage');
    await postgres.stop();
    // No row can be claimed from now on: whatever is 'sending' and began before is cut off.
    const stoppedAt = Date.now();
    // The held sends now complete at the providers, but no dispatcher can record it.
    releaseSinks();

    const refused: Record<string, number> = {};
    for (const r of replicas) {
      await eventually(
        async () => storeOf(await healthOf(r), 'database')?.status === 'down',
        () => `${r.name}: the database reported down`,
      );
      const responses = [
        await api(r, 'POST', '/api/v1/alerts', {
          symbol: 'BTCUSDT',
          condition: 'price > 0.001',
          webhook_url: `${receiver.url}/hooks/refused`,
        }),
        await api(r, 'GET', '/api/v1/alerts'),
        await api(r, 'GET', `/api/v1/alerts/${alerts[0]!.id}/history`),
        await api(r, 'POST', '/api/v1/tools/monitor_portfolio', { portfolio_id: 'faults' }),
      ];
      for (const res of responses) {
        expect(res.status, JSON.stringify(res.body)).toBe(503);
        expect(res.body.error).toBe('STORE_UNAVAILABLE');
        expect(String(res.body.message)).not.toContain(postgres.url);
        refused[r.name] = (refused[r.name] ?? 0) + 1;
      }
      const analysis = await api(r, 'POST', '/api/v1/tools/analyze_crypto', { symbol: 'LTCUSDT' });
      expect(analysis.status, JSON.stringify(analysis.body)).toBe(200);
      expect((analysis.body.notes as string[]).join(' ')).toMatch(
        /Not archived: The database is unreachable/,
      );
      const h = await healthOf(r);
      expect(h?.status).toBe('degraded');
      expect(storeOf(h, 'cache')?.status).toBe('ok');
    }
    await sleep(3_000);
    const outage = load.summary('postgres:outage');
    setPhase('postgres:after');
    await postgres.start();
    await eventually(
      () => everyReplica((h) => h?.status === 'ok' && storeOf(h, 'database')?.status === 'ok'),
      () => 'the database to be used again',
    );
    // Every send in flight when Postgres went away is left 'sending' (its outcome could not be recorded).
    const orphans = await orphansOf(alerts, stoppedAt);
    expect(orphans.length).toBeGreaterThanOrEqual(1);
    // ... and taken over after the dispatcher's lease (60 s).
    await waitDelivered(alerts, 'Postgres outage');
    const audit = await verifyDelivered(alerts, 'Postgres outage', orphans);
    // The same processes, never restarted.
    expect(replicas.map((r) => r.server.child.pid)).toEqual(pids);
    for (const r of replicas) expect(r.server.child.exitCode).toBeNull();
    expect(unexpectedExits).toEqual([]);

    const summaries = {
      before: load.summary('postgres:before'),
      outage,
      after: load.summary('postgres:after'),
    };
    for (const s of Object.values(summaries)) expect(s.all?.errors ?? 0, JSON.stringify(s)).toBe(0);
    expect(outage.A?.ok).toBeGreaterThan(0);
    expect(outage.B?.ok).toBeGreaterThan(0);
    const health = {
      database: truthfulness('postgres', 'outage', ['down'], (s) => storeOf(s.health, 'database')?.status),
      overall: truthfulness('postgres', 'outage', ['degraded'], (s) => s.health?.status),
      infrastructure: infraPresent()
        ? truthfulness('postgres', 'outage', ['down'], infraStatus('database'))
        : 'route absent',
    };
    report.postgres = {
      alerts: alerts.length,
      heldAtStop,
      orphans: orphans.map((o) => `${o.channel}${o.seen ? ' (had reached its sink)' : ''}`),
      refused,
      ...audit,
      load: summaries,
      health,
    };
  }, 170_000);

  it('a replica SIGKILLed mid-dispatch and started again: no alert lost or sent twice, the other keeps serving', async () => {
    setPhase('kill:before');
    const [victim, survivor] = [replicas[0]!, replicas[1]!];
    const alerts = await createAlerts('kill', 80);
    holdSinks();
    await eventually(
      () => held() > WORKER_CONCURRENCY,
      () => `both replicas sending (${held()} held)`,
    );
    const heldAtKill = held();
    // Two requests certainly in flight to the victim (bodies never finished), then it leaves the rotation
    // (as a load balancer would take it out) and is killed: only requests in flight may fail.
    const hung = [load.hang(victim.name, victim.server.origin), load.hang(victim.name, victim.server.origin)];
    await sleep(200);
    victim.target.origin = null;
    const inFlight = new Set(load.inFlight(victim.name).map((r) => r.id));
    setPhase('kill:down');
    expectedExit.add(victim.server.child.pid!);
    const exited = new Promise((r) => victim.server.child.once('exit', r));
    victim.server.child.kill('SIGKILL');
    await exited;
    const killedAt = Date.now();
    releaseSinks();
    // What the victim had claimed and was sending stays 'sending' (held answers guarantee there is some);
    // the survivor's sends of that moment finish once released. Read it once it no longer changes.
    let orphans: Orphan[] = [];
    let previous = '';
    await eventually(
      async () => {
        orphans = await orphansOf(alerts, killedAt);
        const ids = orphans
          .map((o) => o.outbox_id)
          .sort()
          .join();
        const stable = ids === previous;
        previous = ids;
        if (!stable) await sleep(500);
        return stable;
      },
      () => `the rows left by the killed replica (${previous})`,
    );
    expect(await healthOf(survivor)).toMatchObject({ status: 'ok' });
    expect(orphans.length).toBeGreaterThanOrEqual(1);
    expect(orphans.length).toBeLessThanOrEqual(WORKER_CONCURRENCY);

    setPhase('kill:restart');
    retired.push({ ...victim });
    victim.server = watch(victim.name, await startServer(env()));
    victim.target.origin = victim.server.origin;
    setPhase('kill:after');
    await eventually(
      async () => (await healthOf(victim))?.status === 'ok',
      () => 'the restarted replica healthy',
    );
    await waitDelivered(alerts, 'SIGKILL');
    const audit = await verifyDelivered(alerts, 'SIGKILL', orphans);

    // Load: the survivor never failed; every failure is a request in flight to the victim at the kill.
    const done = load.records.filter((r) => r.phase.startsWith('kill:') && r.end !== null);
    const failed = done.filter((r) => r.status !== 200);
    expect(failed.filter((r) => r.target === survivor.name)).toEqual([]);
    for (const r of failed) expect(inFlight.has(r.id), `failed request ${JSON.stringify(r)}`).toBe(true);
    for (const r of hung) expect(r).toMatchObject({ status: null });
    const summaries = {
      before: load.summary('kill:before'),
      down: load.summary('kill:down'),
      restart: load.summary('kill:restart'),
      after: load.summary('kill:after'),
    };
    expect(summaries.down[survivor.name]?.ok).toBeGreaterThan(0);
    expect(summaries.after[victim.name]?.ok).toBeGreaterThan(0);
    expect(unexpectedExits).toEqual([]);
    report.kill = {
      alerts: alerts.length,
      heldAtKill,
      orphans: orphans.map((o) => `${o.channel}${o.seen ? ' (had reached its sink)' : ''}`),
      ...audit,
      load: summaries,
      inFlightAtKill: inFlight.size,
      failed: failed.map((r) => r.error),
    };
  }, 170_000);

  it('no late duplicates: every alert of every scenario is still delivered exactly once', () => {
    for (const scenario of ['redis', 'postgres', 'kill']) {
      const alerts = created.filter((a) => a.scenario === scenario);
      expect(alerts.length).toBeGreaterThan(0);
      const wa = alerts.filter((a) => a.channel === 'whatsapp');
      const hooks = alerts.filter((a) => a.channel === 'webhook');
      expect(
        auditDeliveries(
          wa.map((a) => a.id),
          whatsappUnits(wa, stub.messages),
        ),
      ).toMatchObject({ missing: [], duplicated: [], resent: 0 });
      expect(
        auditDeliveries(
          hooks.map((a) => a.id),
          webhookUnits(hooks, receiver.deliveries),
        ),
      ).toMatchObject({ missing: [], duplicated: [] });
    }
    expect(unexpectedExits).toEqual([]);
    // Nothing reached the sinks that no alert of these scenarios asked for (a refused create, a stray row).
    expect(receiver.deliveries.filter((d) => !created.some((a) => a.address === d.path))).toEqual([]);
    expect(stub.messages.filter((m) => !created.some((a) => `whatsapp:${a.address}` === m.to))).toEqual([]);
  });
});
