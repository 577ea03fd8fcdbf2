/**
 * The whole alert path as users see it: an alert created the way alert_manager creates it (expression
 * text, WhatsApp number), a replay of real BTC/USDT candles driving the engine, the outbox, the
 * dispatcher and the real twilio SDK talking to the local Twilio stub. One WhatsApp message arrives, at
 * the first candle where the condition holds, with the values in it; a recipient who answered STOP gets
 * nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MarketData } from '../../src/market/market-data.js';
import { AlertService } from '../../src/services/alerts/alert-service.js';
import { Dispatcher } from '../../src/services/alerts/dispatcher.js';
import { AlertEngine } from '../../src/services/alerts/engine.js';
import { ReplayFeed } from '../../src/services/alerts/feed.js';
import { RecipientStore } from '../../src/services/alerts/recipients.js';
import { TwilioSender } from '../../src/services/alerts/twilio-sender.js';
import { SqlAlertStore } from '../../src/store/alert-store.js';
import { PgDatabase } from '../../src/store/pg-database.js';
import { isolatedPostgresUrl } from '../helpers/postgres.js';
import { startTwilioStub, type TwilioStub } from '../helpers/twilio-stub.js';
import { alertManagerInput } from '../../src/tools/alert-manager.js';

const FROM = '+14155238886';
const ALICE = '+4915100000001';
const BOB = '+4915100000002';

describe('alert pipeline: expression -> engine -> outbox -> Twilio', () => {
  const market = new MarketData({ mode: 'offline' });
  let db: PgDatabase;
  let drop: () => Promise<void>;
  let stub: TwilioStub;

  beforeAll(async () => {
    const isolated = await isolatedPostgresUrl();
    drop = isolated.drop;
    db = new PgDatabase({ connectionString: isolated.url });
    stub = await startTwilioStub();
  });
  afterAll(async () => {
    await stub.close();
    await db.close();
    await drop();
  });

  it('sends one WhatsApp message at the first close above the level, and none to a recipient who said STOP', async () => {
    const store = new SqlAlertStore(db);
    const recipients = new RecipientStore(db);
    // Both wrote to the bot within the last day (their 24-hour window is open as the dispatcher sends,
    // which is now); Bob then answered STOP. The market replay itself runs on March's candles.
    const start = Date.parse('2026-03-02T00:00:00Z');
    await recipients.inbound(ALICE, new Date(Date.now() - 3600_000));
    await recipients.inbound(BOB, new Date(Date.now() - 3600_000));
    await recipients.optOut(BOB, new Date(Date.now() - 1800_000));

    // The replay's 48 steps close the candles that open at start - 1h .. start + 46h. The level lies between
    // the first close and the highest one, so it first holds at a known later candle.
    const window = await market.getCandles({
      symbol: 'BTCUSDT',
      timeframe: '1h',
      limit: 48,
      endTime: start + 47 * 3600_000,
    });
    const closes = Array.from(window.candles.close);
    const high = Math.max(...closes.slice(1));
    expect(high).toBeGreaterThan(closes[0]!);
    const level = Math.round((closes[0]! + high) / 2);
    const firstAbove = closes.findIndex((c) => c > level);
    expect(firstAbove).toBeGreaterThan(0);

    const feed = new ReplayFeed({ market, start });
    const engine = new AlertEngine({ market, store, feed, now: () => feed.now() });
    const service = new AlertService(market, store, {
      whatsapp: true,
      webhook: false,
      now: () => feed.now(),
    });
    service.attachEngine(engine);
    await engine.start();
    const create = (phone: string) =>
      service.manage(
        alertManagerInput.parse({
          action: 'create',
          symbol: 'BTCUSDT',
          condition: `close(1h) > ${level}`,
          phone_number: phone,
        }),
        phone === ALICE ? 'alice' : 'bob',
      );
    const alice = (await create(ALICE)).alert!;
    await create(BOB);
    await feed.run(48);
    engine.stop();

    const dispatcher = new Dispatcher({
      db,
      senders: {
        whatsapp: new TwilioSender(db, {
          accountSid: stub.accountSid,
          authToken: stub.authToken,
          from: FROM,
          baseUrl: stub.url,
        }),
      },
    });
    await dispatcher.drain();

    // Exactly one message, to Alice, free-form (inside her window), naming the close that fired it.
    expect(stub.messages).toHaveLength(1);
    const sent = stub.messages[0]!;
    expect(sent.to).toBe(`whatsapp:${ALICE}`);
    expect(sent.body).toMatch(/BTC\/USDT/);
    expect(sent.body).toMatch(/Reply STOP/);
    const history = await service.manage(
      alertManagerInput.parse({ action: 'history', alert_id: alice.id }),
      'alice',
    );
    expect(history.history).toHaveLength(1);
    const fired = history.history![0]!;
    expect(Date.parse(fired.fired_at)).toBe(window.candles.time[firstAbove]! + 3600_000);
    expect(fired.values['close(1h)']).toBe(window.candles.close[firstAbove]);
    expect(fired.delivery).toBe('sent');
    // The ids that tie it to Twilio and to the outbox row.
    expect(fired.message_sid).toBe(sent.sid);
    const [row] = await db.query<{ id: string }>('select id from outbox where status = $1', ['sent']);
    expect(fired.outbox_id).toBe(row!.id);
    // A one-shot alert is done once it fired.
    expect(history.alert!.status).toBe('fired');
    // Bob's firing was recorded and skipped, not sent.
    const bob = (await service.manage(alertManagerInput.parse({ action: 'list' }), 'bob')).alerts![0]!;
    const bobHistory = await service.manage(
      alertManagerInput.parse({ action: 'history', alert_id: bob.id }),
      'bob',
    );
    expect(bobHistory.history![0]).toMatchObject({ delivery: 'skipped', message_sid: null });
  });
});
