/**
 * What reaches the JSON log: secrets (bearer and basic credentials in any case, API keys, Twilio auth
 * tokens, signatures, URL passwords, configured secret values) and phone numbers (E.164, `whatsapp:+...`,
 * form-encoded, inside message text) are redacted on every path: plain fields, free text, JSON inside
 * strings, and the errors of the libraries the server calls (Twilio's SDK, ccxt, pg), with their
 * causes. Lines are written by the real logger and read back from stderr.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ExchangeNotAvailable } from 'ccxt';
import twilio from 'twilio';
import { log, redact, registerSecrets } from '../../src/logger.js';
import { loadConfig, secretValues } from '../../src/config.js';
import { PgDatabase } from '../../src/store/pg-database.js';
import { SqlAlertStore } from '../../src/store/alert-store.js';
import { Dispatcher } from '../../src/services/alerts/dispatcher.js';
import { RecipientStore } from '../../src/services/alerts/recipients.js';
import { TwilioSender } from '../../src/services/alerts/twilio-sender.js';
import { fireAlert } from '../helpers/alert-fixtures.js';
import { isolatedPostgresUrl } from '../helpers/postgres.js';
import { startTwilioStub, type TwilioStub } from '../helpers/twilio-stub.js';

const PHONE = '+4915112345678';
const DIGITS = '15112345678';

/** Runs `fn` with stderr captured; returns the log lines, each parsed (so each must be one JSON object). */
async function logged(
  fn: () => Promise<void> | void,
): Promise<{ lines: Record<string, unknown>[]; raw: string }> {
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    return true;
  });
  try {
    await fn();
  } finally {
    spy.mockRestore();
  }
  const raw = chunks.join('');
  const lines = raw
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { lines, raw };
}

describe('redact: text', () => {
  it.each([
    ['authorization: bearer abc123def', 'authorization: bearer [redacted]'],
    ['BEARER abc123', 'BEARER [redacted]'],
    ['Authorization: Token abc123def', 'Authorization: Token [redacted]'],
    ['{"Authorization":"abc123"}', '{"Authorization":"[redacted]"}'],
    ['X-Twilio-Signature: 0a1b2c3d=', 'X-Twilio-Signature: [redacted]'],
    ['{\\"authToken\\":\\"abcdef123\\"}', '{\\"authToken\\":\\"[redacted]\\"}'],
    ['redis://:hunter2@cache:6379/0', 'redis://[redacted]@cache:6379/0'],
    ['postgres://app:p@ss@db:5432/x', 'postgres://[redacted]@db:5432/x'],
    ['phone=+4915112345678&x=1', 'phone=[redacted]&x=1'],
    [`call ${PHONE}x now`, 'call [phone]x now'],
    [`whatsapp:${PHONE}_`, '[phone]_'],
    ['To=whatsapp%3A%2B4915112345678&Body=BTC%20above', 'To=[phone]&Body=BTC%20above'],
    [`BTC/USDT crossed 70000; reply STOP to ${PHONE}.`, 'BTC/USDT crossed 70000; reply STOP to [phone].'],
  ])('%s', (input, expected) => {
    expect(redact(input)).toBe(expected);
  });

  it('leaves prices, percentages, times and ordinary words alone', () => {
    const text = 'BTC +1.23% to 63655.21 at 2026-06-20T08:00:00.000Z; basic sizing, token bucket refilled';
    expect(redact(text)).toBe(text);
  });

  it('redacts fields holding numbers or recipients by name, and survives cycles and depth', () => {
    const loop: Record<string, unknown> = { name: 'x' };
    loop.self = loop;
    let deep: Record<string, unknown> = { end: true };
    for (let i = 0; i < 20; i++) deep = { deep };
    expect(redact({ phone: '4915112345678', recipients: ['a'], loop, deep })).toMatchObject({
      phone: '[redacted]',
      recipients: '[redacted]',
      loop: { name: 'x', self: '[circular]' },
    });
    expect(JSON.stringify(redact(deep))).toContain('[nested too deep]');
  });
});

describe('configured secrets', () => {
  it('are replaced wherever they appear, from every secret the configuration holds', () => {
    const config = loadConfig({
      MCP_API_KEYS: 'key-aaaaaaaaaaaaaaaa1',
      METRICS_TOKEN: 'scrape-bbbbbbbbbbbbbbbb',
      TWILIO_AUTH_TOKEN: 'twiliotoken0123456789abcdef',
      WEBHOOK_SIGNING_SECRET: 'whsec-cccccccccccccccc',
      DATABASE_URL: 'postgres://app:pg%40pass-123456@db:5432/app',
      REDIS_URL: 'redis://:redis-pass-987654@cache:6379',
    });
    const secrets = secretValues(config);
    expect(secrets).toEqual(
      expect.arrayContaining([
        'key-aaaaaaaaaaaaaaaa1',
        'scrape-bbbbbbbbbbbbbbbb',
        'twiliotoken0123456789abcdef',
        'whsec-cccccccccccccccc',
        'pg%40pass-123456',
        'pg@pass-123456',
        'redis-pass-987654',
      ]),
    );
    registerSecrets(secrets);
    const text = `sent key-aaaaaaaaaaaaaaaa1 as twiliotoken0123456789abcdef with pg@pass-123456 and redis-pass-987654`;
    expect(redact(text)).toBe('sent [redacted] as [redacted] with [redacted] and [redacted]');
  });
});

describe('library errors in the log', () => {
  it('Twilio RestException: code and link kept, number redacted', async () => {
    const error = new twilio.RestException({
      statusCode: 400,
      body: {
        code: 21211,
        message: `The 'To' number whatsapp:${PHONE} is not a valid phone number.`,
        more_info: 'https://www.twilio.com/docs/errors/21211',
        status: 400,
      },
    });
    const { lines, raw } = await logged(() => log.error('twilio failed', { error }));
    expect(raw).not.toContain(DIGITS);
    expect(lines[0]).toMatchObject({
      level: 'error',
      msg: 'twilio failed',
      error: { code: 21211, status: 400, moreInfo: 'https://www.twilio.com/docs/errors/21211' },
    });
    expect((lines[0]!.error as { message: string }).message).toContain('[phone]');
  });

  it('ccxt errors, whose messages carry URLs and raw bodies', async () => {
    const error = new ExchangeNotAvailable(
      `binance GET https://proxy.example:8443/api/v3/klines?symbol=BTCUSDT&apiKey=k123456 503 {"note":"alert for ${PHONE}"}`,
    );
    const { raw } = await logged(() => log.warn('exchange failed', { error }));
    expect(raw).not.toContain(DIGITS);
    expect(raw).not.toContain('k123456');
    expect(raw).toContain('ExchangeNotAvailable');
  });

  it('errors with causes and aggregated errors', async () => {
    const error = new Error('send failed', {
      cause: new AggregateError([new Error(`to ${PHONE}`)], 'Bearer abcdef123456 refused'),
    });
    const { raw } = await logged(() => log.error('x', { error }));
    expect(raw).not.toContain(DIGITS);
    expect(raw).not.toContain('abcdef123456');
    expect(raw).toContain('AggregateError');
  });
});

describe('log paths against real services', () => {
  let db: PgDatabase;
  let drop: () => Promise<void>;
  let stub: TwilioStub;
  beforeAll(async () => {
    const schema = await isolatedPostgresUrl();
    drop = schema.drop;
    db = new PgDatabase({ connectionString: schema.url });
    stub = await startTwilioStub();
  });
  afterAll(async () => {
    await stub?.close();
    await db?.close();
    await drop?.();
  });

  it('pg: a constraint error naming a phone number keeps its SQLSTATE, not the number', async () => {
    await db.query('insert into whatsapp_recipients (phone) values ($1)', [PHONE]);
    const error = await db.query('insert into whatsapp_recipients (phone) values ($1)', [PHONE]).then(
      () => null,
      (e: unknown) => e,
    );
    expect(String((error as { detail?: string }).detail)).toContain(PHONE); // what pg itself says
    const { lines, raw } = await logged(() => log.error('store failed', { error }));
    expect(raw).not.toContain(DIGITS);
    expect(lines[0]!.error).toMatchObject({ code: '23505' });
  });

  it('Twilio failure through the dispatcher: neither the number nor the auth token is logged', async () => {
    registerSecrets([stub.authToken]);
    const store = new SqlAlertStore(db);
    const to = '+4915199887766';
    await new RecipientStore(db).recordInbound(to);
    await fireAlert(store, {
      channel: { type: 'whatsapp', to },
      body: `BTC/USDT above 1 (${randomUUID()}); reply STOP to ${to}`,
    });
    stub.failNext({
      status: 400,
      code: 21211,
      message: `The 'To' number whatsapp:${to} is not valid (account token ${stub.authToken}).`,
    });
    const dispatcher = new Dispatcher({
      db,
      senders: {
        whatsapp: new TwilioSender(db, {
          accountSid: stub.accountSid,
          authToken: stub.authToken,
          from: '+14155238886',
          baseUrl: stub.url,
          timeoutMs: 2_000,
        }),
      },
    });
    const { lines, raw } = await logged(() => dispatcher.runOnce().then(() => undefined));
    expect(lines.some((l) => l.msg === 'twilio send failed')).toBe(true);
    expect(raw).not.toContain('15199887766');
    expect(raw).not.toContain('14155238886');
    expect(raw).not.toContain(stub.authToken);
  });
});
