/**
 * alert_manager end to end on a real server process configured for WhatsApp through a local Twilio stub
 * and for signed webhooks: the full lifecycle per API key, precise condition errors, and Twilio's inbound
 * webhook (STOP) through the server with a real signature.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import twilio from 'twilio';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { connectClient, type TestClient } from '../helpers/mcp-client.js';
import { startTwilioStub, type TwilioStub } from '../helpers/twilio-stub.js';

const KEY = `key-alerts-${randomBytes(12).toString('hex')}`;
const OTHER = `key-alerts-other-${randomBytes(12).toString('hex')}`;
const PHONE = `+49151${Math.floor(1e7 + Math.random() * 9e7)}`;

type Alert = { id: string; status: string; expression: string; channel: { type: string; to: string } };

describe('alert_manager over MCP', () => {
  let stub: TwilioStub;
  let server: ServerProcess;
  let client: TestClient;
  let other: TestClient;

  beforeAll(async () => {
    stub = await startTwilioStub();
    server = await startServer({
      MCP_API_KEYS: `${KEY},${OTHER}`,
      TWILIO_ACCOUNT_SID: stub.accountSid,
      TWILIO_AUTH_TOKEN: stub.authToken,
      TWILIO_WHATSAPP_FROM: '+14155238886',
      TWILIO_API_URL: stub.url,
      WEBHOOK_SIGNING_SECRET: randomBytes(16).toString('hex'),
    });
    [client, other] = await Promise.all([connectClient(server.url, KEY), connectClient(server.url, OTHER)]);
  });
  afterAll(async () => {
    await Promise.allSettled([client?.close(), other?.close()]);
    await server?.stop();
    await stub?.close();
  });

  const alertOf = (r: { structured?: Record<string, unknown> }) => r.structured!.alert as Alert;

  it('creates, lists, pauses, resumes, updates and deletes alerts per key', async () => {
    const created = await client.call('alert_manager', {
      action: 'create',
      symbol: 'BTCUSDT',
      condition: 'close(4h) > 70000 or rsi(14, 1h) < 30',
      phone_number: PHONE,
      repeat: 'repeat',
      cooldown_minutes: 120,
      quiet_hours: { start: '22:00', end: '07:00', time_zone: 'Europe/Berlin' },
    });
    expect(created.isError, created.text).toBe(false);
    const a = alertOf(created);
    expect(a).toMatchObject({ status: 'active', expression: 'close(4h) > 70000 or rsi(14, 1h) < 30' });
    expect(a.channel.to).not.toContain(PHONE.slice(3, -3));
    expect(created.structured!.delivery).toEqual({ whatsapp: 'enabled', webhook: 'enabled' });

    // The original tool's free-text form.
    const legacy = await client.call('alert_manager', {
      action: 'create',
      alert_type: 'price',
      symbol: 'ETHUSDT',
      condition: 'price > 50000',
      phone_number: PHONE,
    });
    expect(legacy.isError, legacy.text).toBe(false);

    const listed = await client.call('alert_manager', { action: 'list' });
    expect((listed.structured!.alerts as Alert[]).map((x) => x.id).sort()).toEqual(
      [a.id, alertOf(legacy).id].sort(),
    );
    const foreign = await other.call('alert_manager', { action: 'list' });
    expect(foreign.structured!.alerts).toEqual([]);
    const stolen = await other.call('alert_manager', { action: 'delete', alert_id: a.id });
    expect(stolen.isError).toBe(true);
    expect(stolen.text).toMatch(/^NOT_FOUND/);

    expect(alertOf(await client.call('alert_manager', { action: 'pause', alert_id: a.id })).status).toBe(
      'paused',
    );
    expect(alertOf(await client.call('alert_manager', { action: 'resume', alert_id: a.id })).status).toBe(
      'active',
    );
    const updated = await client.call('alert_manager', {
      action: 'update',
      alert_id: a.id,
      condition: 'cross_above(ema(20), ema(50))',
    });
    expect(alertOf(updated).expression).toBe('cross_above(ema(20), ema(50))');

    // Series without a timeframe read the alert's own: a new condition keeps it; timeframe and exchange update.
    const fourHour = await client.call('alert_manager', {
      action: 'create',
      symbol: 'ETHUSDT',
      timeframe: '4h',
      condition: 'rsi(14) < 30',
      phone_number: PHONE,
    });
    const tf = alertOf(fourHour).id;
    const timeframeOf = (r: { structured?: Record<string, unknown> }) =>
      (r.structured!.alert as { timeframe: string }).timeframe;
    const sameTf = await client.call('alert_manager', {
      action: 'update',
      alert_id: tf,
      condition: 'rsi(14) > 70',
    });
    expect(sameTf.isError, sameTf.text).toBe(false);
    expect(timeframeOf(sameTf)).toBe('4h');
    const daily = await client.call('alert_manager', { action: 'update', alert_id: tf, timeframe: '1d' });
    expect(daily.isError, daily.text).toBe(false);
    expect(timeframeOf(daily)).toBe('1d');
    expect(alertOf(daily).expression).toBe('rsi(14) > 70');
    await client.call('alert_manager', { action: 'delete', alert_id: tf });
    const history = await client.call('alert_manager', { action: 'history', alert_id: a.id });
    expect(history.structured!.history).toEqual([]);
    expect(history.text).toMatch(/has not fired yet/);

    const deleted = await client.call('alert_manager', {
      action: 'delete',
      alert_id: legacy.structured ? alertOf(legacy).id : '',
    });
    expect(deleted.isError, deleted.text).toBe(false);
    const after = await client.call('alert_manager', { action: 'list' });
    expect((after.structured!.alerts as Alert[]).map((x) => x.id)).toEqual([a.id]);
  });

  it('says exactly what is wrong with a condition, a number or a missing channel', async () => {
    const parse = await client.call('alert_manager', {
      action: 'create',
      symbol: 'BTCUSDT',
      condition: 'rsi(14, 1h) < ',
      phone_number: PHONE,
    });
    expect(parse.isError).toBe(true);
    expect(parse.text).toMatch(/INVALID_ARGUMENT: condition at 13: expected a number, a series or "\("/);
    const series = await client.call('alert_manager', {
      action: 'create',
      symbol: 'BTCUSDT',
      condition: 'emaa(20) > 5',
      phone_number: PHONE,
    });
    expect(series.text).toMatch(/unknown series "emaa\(20\)"/);
    const phone = await client.call('alert_manager', {
      action: 'create',
      symbol: 'BTCUSDT',
      condition: 'price > 1',
      phone_number: '015112345678',
    });
    expect(phone.text).toMatch(/E\.164/);
    const huge = await client.call('alert_manager', {
      action: 'create',
      symbol: 'BTCUSDT',
      condition: 'price > 1e309',
      phone_number: PHONE,
    });
    expect(huge.isError).toBe(true);
    expect(huge.text).toMatch(/condition\.level/);
    const nowhere = await client.call('alert_manager', {
      action: 'create',
      symbol: 'BTCUSDT',
      condition: 'price > 1',
    });
    expect(nowhere.text).toMatch(/phone_number for WhatsApp .* or webhook_url/);
  });

  it('takes STOP through the signed Twilio webhook and refuses unsigned calls', async () => {
    const url = `${server.origin}/webhooks/twilio/inbound`;
    const params = { From: `whatsapp:${PHONE}`, Body: 'STOP' };
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilio.getExpectedTwilioSignature(stub.authToken, url, params),
      },
      body: new URLSearchParams(params).toString(),
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/You will receive no more alerts/);
    const unsigned = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ From: `whatsapp:${PHONE}`, Body: 'START' }).toString(),
    });
    expect(unsigned.status).toBe(403);

    const db = new pg.Client({ connectionString: process.env.E2E_DATABASE_URL });
    await db.connect();
    try {
      const row = await db.query(
        'select opted_out, last_inbound_at from whatsapp_recipients where phone = $1',
        [PHONE],
      );
      expect(row.rows[0]).toMatchObject({ opted_out: true });
      expect(row.rows[0].last_inbound_at).not.toBeNull();
    } finally {
      await db.end();
    }
  });
});
