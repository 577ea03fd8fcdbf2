/**
 * A dispatcher process for the crash tests (run with tsx): polls the outbox of DATABASE_URL and sends
 * WhatsApp messages through the twilio SDK to the stub at STUB_URL. CRASH=before-send kills itself with
 * SIGKILL right before the first provider call (after the claim committed 'sending').
 */
import { Dispatcher } from '../../src/services/alerts/dispatcher.js';
import { TwilioSender } from '../../src/services/alerts/twilio-sender.js';
import { PgDatabase } from '../../src/store/pg-database.js';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
};

const db = new PgDatabase({ connectionString: env('DATABASE_URL') });
const sender = new TwilioSender(db, {
  accountSid: env('TWILIO_ACCOUNT_SID'),
  authToken: env('TWILIO_AUTH_TOKEN'),
  from: '+14155238886',
  baseUrl: env('STUB_URL'),
  timeoutMs: 2_000,
  perRecipientPerHour: 1000,
});
const dispatcher = new Dispatcher({
  db,
  senders: { whatsapp: sender },
  pollMs: 50,
  batchSize: 1,
  leaseMs: Number(process.env.LEASE_MS ?? 3_000),
  backoff: { baseMs: 20, maxMs: 100 },
  beforeSend: () => {
    if (process.env.CRASH === 'before-send') process.kill(process.pid, 'SIGKILL');
  },
});
dispatcher.start();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void dispatcher.stop().then(() => db.close().then(() => process.exit(0)));
});
