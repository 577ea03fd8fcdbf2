/**
 * Twilio webhooks with real signatures: computed by the twilio SDK from the auth token over the public
 * URL, including behind a proxy (X-Forwarded-Proto/Host). Unsigned or tampered requests change nothing.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import twilio from 'twilio';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { twilioWebhooks } from '../../src/server/twilio-webhooks.js';

const TOKEN = 'test-auth-token-0123456789abcdef';
const PHONE = '+4915112345678';

describe('Twilio webhooks', () => {
  let server: Server;
  let base: string;
  const events: string[] = [];

  beforeAll(async () => {
    const app = express();
    app.set('trust proxy', false);
    app.use(
      twilioWebhooks({
        authToken: TOKEN,
        recipients: {
          optOut: async (p) => void events.push(`optOut ${p}`),
          optIn: async (p) => void events.push(`optIn ${p}`),
          inbound: async (p) => void events.push(`inbound ${p}`),
        },
        statuses: {
          record: async (sid, status, code, _at, outbox) =>
            void events.push(`status ${sid} ${status} ${code} ${outbox}`),
        },
      }),
    );
    server = await new Promise<Server>((r) => {
      const s = app.listen(0, '127.0.0.1', () => r(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    events.length = 0;
  });

  /** POST form params, signed for `signedUrl` (what Twilio called) unless a signature is given. */
  async function post(
    path: string,
    params: Record<string, string>,
    opts: { signedUrl?: string; signature?: string; headers?: Record<string, string> } = {},
  ) {
    const url = opts.signedUrl ?? `${base}${path}`;
    const signature = opts.signature ?? twilio.getExpectedTwilioSignature(TOKEN, url, params);
    return fetch(`${base}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': signature,
        ...opts.headers,
      },
      body: new URLSearchParams(params).toString(),
    });
  }

  it('records delivery statuses from signed callbacks', async () => {
    const res = await post('/webhooks/twilio/status?outbox=3f2c1a4e-8b7d-4c6e-9f10-2a3b4c5d6e7f', {
      MessageSid: 'SM123',
      MessageStatus: 'undelivered',
      ErrorCode: '63016',
    });
    expect(res.status).toBe(204);
    expect(events).toEqual(['status SM123 undelivered 63016 3f2c1a4e-8b7d-4c6e-9f10-2a3b4c5d6e7f']);
  });

  it('handles STOP, START and HELP and opens the 24-hour window on any inbound message', async () => {
    const stop = await post('/webhooks/twilio/inbound', { From: `whatsapp:${PHONE}`, Body: ' stop ' });
    expect(await stop.text()).toMatch(/<Message>You will receive no more alerts/);
    const start = await post('/webhooks/twilio/inbound', { From: `whatsapp:${PHONE}`, Body: 'START' });
    expect(await start.text()).toMatch(/Alerts are on again/);
    const other = await post('/webhooks/twilio/inbound', { From: `whatsapp:${PHONE}`, Body: 'thanks!' });
    expect(await other.text()).toBe('<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
    expect(events).toEqual([
      `inbound ${PHONE}`,
      `optOut ${PHONE}`,
      `inbound ${PHONE}`,
      `optIn ${PHONE}`,
      `inbound ${PHONE}`,
    ]);
  });

  it('validates against the public URL rebuilt from X-Forwarded-Proto and Host behind a proxy', async () => {
    const publicUrl = 'https://alerts.example.com/webhooks/twilio/inbound';
    const ok = await post(
      '/webhooks/twilio/inbound',
      { From: `whatsapp:${PHONE}`, Body: 'HELP' },
      {
        signedUrl: publicUrl,
        headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'alerts.example.com' },
      },
    );
    expect(ok.status).toBe(200);
    expect(await ok.text()).toMatch(/Reply STOP/);
    // Signed for the public URL but sent without the proxy headers: the URL differs, so it is refused.
    const direct = await post(
      '/webhooks/twilio/inbound',
      { From: `whatsapp:${PHONE}`, Body: 'HELP' },
      { signedUrl: publicUrl },
    );
    expect(direct.status).toBe(403);
  });

  it('with PUBLIC_BASE_URL set, ignores forwarded headers a client could forge', async () => {
    const app = express();
    app.use(
      twilioWebhooks({
        authToken: TOKEN,
        publicBaseUrl: 'https://alerts.example.com',
        recipients: {
          optOut: async () => undefined,
          optIn: async () => undefined,
          inbound: async () => undefined,
        },
        statuses: { record: async () => undefined },
      }),
    );
    const s2 = await new Promise<Server>((r) => {
      const s = app.listen(0, '127.0.0.1', () => r(s));
    });
    try {
      const local = `http://127.0.0.1:${(s2.address() as AddressInfo).port}/webhooks/twilio/inbound`;
      const params = { From: `whatsapp:${PHONE}`, Body: 'HELP' };
      const send = (signedFor: string, headers: Record<string, string> = {}) =>
        fetch(local, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'x-twilio-signature': twilio.getExpectedTwilioSignature(TOKEN, signedFor, params),
            ...headers,
          },
          body: new URLSearchParams(params).toString(),
        });
      expect((await send('https://alerts.example.com/webhooks/twilio/inbound')).status).toBe(200);
      // A request signed for another host, with headers claiming that host, is refused.
      const forged = await send('https://other.example.net/webhooks/twilio/inbound', {
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'other.example.net',
      });
      expect(forged.status).toBe(403);
    } finally {
      await new Promise<void>((r) => s2.close(() => r()));
    }
  });

  it('refuses unsigned, wrongly signed and tampered requests without changing anything', async () => {
    const params = { From: `whatsapp:${PHONE}`, Body: 'STOP' };
    expect((await post('/webhooks/twilio/inbound', params, { signature: '' })).status).toBe(403);
    expect(
      (await post('/webhooks/twilio/inbound', params, { signature: 'bm90IGEgc2lnbmF0dXJl' })).status,
    ).toBe(403);
    const forOther = twilio.getExpectedTwilioSignature(TOKEN, `${base}/webhooks/twilio/inbound`, {
      ...params,
      Body: 'HELP',
    });
    expect((await post('/webhooks/twilio/inbound', params, { signature: forOther })).status).toBe(403);
    const otherToken = twilio.getExpectedTwilioSignature(
      'another-token',
      `${base}/webhooks/twilio/inbound`,
      params,
    );
    expect((await post('/webhooks/twilio/inbound', params, { signature: otherToken })).status).toBe(403);
    expect(events).toEqual([]);
  });
});
