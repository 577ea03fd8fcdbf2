/**
 * Delivery of alert messages from configuration: the outbox dispatcher with a WhatsApp sender (Twilio,
 * when its account, token and sender are set) and a signed webhook sender (when a signing secret is set).
 * A channel that is not configured is simply absent: alerts on it cannot be created (the service says
 * why), and the dispatcher leaves nothing half-sent.
 *
 * With Redis the outbox runs through a BullMQ queue (job id = outbox id, so a row is one job however often
 * it is enqueued), which spreads sends over every worker process; without it an in-process loop claims
 * rows directly. Either way the database claim decides who sends a row, so no row is sent twice.
 */
import type { Config } from '../../config.js';
import type { SqlDatabase } from '../../store/types.js';
import { log } from '../../logger.js';
import { BullOutboxQueue, Dispatcher } from './dispatcher.js';
import { listenForOutbox } from './outbox-listener.js';
import { TwilioSender } from './twilio-sender.js';
import { WebhookSender } from './webhook-sender.js';

export interface Delivery {
  whatsapp: boolean;
  webhook: boolean;
  dispatcher: Dispatcher;
  start(): void;
  stop(): Promise<void>;
}

type DeliveryConfig = Pick<
  Config,
  | 'TWILIO_ACCOUNT_SID'
  | 'TWILIO_AUTH_TOKEN'
  | 'TWILIO_WHATSAPP_FROM'
  | 'TWILIO_TEMPLATE_SID'
  | 'TWILIO_API_URL'
  | 'PUBLIC_BASE_URL'
  | 'WEBHOOK_SIGNING_SECRET'
  | 'ALERT_WEBHOOK_ALLOW_PRIVATE'
  | 'REDIS_URL'
  | 'DATABASE_URL'
  | 'REDIS_KEY_PREFIX'
>;

/** BullMQ's key prefix inside REDIS_KEY_PREFIX. */
export const bullPrefix = (redisKeyPrefix: string): string => `${redisKeyPrefix}bull`;

/** How often due rows are enqueued to BullMQ (firings also wake it through the database). */
const ENQUEUE_EVERY_MS = 1_000;

export function createDelivery(config: DeliveryConfig, db: SqlDatabase): Delivery {
  const whatsapp =
    config.TWILIO_ACCOUNT_SID && config.TWILIO_AUTH_TOKEN && config.TWILIO_WHATSAPP_FROM
      ? new TwilioSender(db, {
          accountSid: config.TWILIO_ACCOUNT_SID,
          authToken: config.TWILIO_AUTH_TOKEN,
          from: config.TWILIO_WHATSAPP_FROM,
          ...(config.TWILIO_API_URL && { baseUrl: config.TWILIO_API_URL }),
          ...(config.TWILIO_TEMPLATE_SID && { template: { contentSid: config.TWILIO_TEMPLATE_SID } }),
          ...(config.PUBLIC_BASE_URL && { publicBaseUrl: config.PUBLIC_BASE_URL }),
        })
      : undefined;
  const webhook = config.WEBHOOK_SIGNING_SECRET
    ? new WebhookSender({
        secret: config.WEBHOOK_SIGNING_SECRET,
        allowPrivate: config.ALERT_WEBHOOK_ALLOW_PRIVATE,
      })
    : undefined;
  const dispatcher = new Dispatcher({
    db,
    senders: { ...(whatsapp && { whatsapp }), ...(webhook && { webhook }) },
  });
  // A firing wakes the dispatcher through Postgres NOTIFY at once; polling stays as the safety net (and is
  // all there is on PGlite, which has no second connection to listen on).
  let listener: { close(): Promise<void> } | null = null;
  const listen = (onNotify: () => void) => {
    void listenForOutbox(config.DATABASE_URL ?? null, onNotify).then((l) => (listener = l));
  };
  if (!config.REDIS_URL) {
    return {
      whatsapp: whatsapp !== undefined,
      webhook: webhook !== undefined,
      dispatcher,
      start() {
        dispatcher.start();
        listen(() => dispatcher.notify());
      },
      async stop() {
        await listener?.close();
        await dispatcher.stop();
      },
    };
  }
  const redisUrl = config.REDIS_URL;
  let queue: BullOutboxQueue | null = null;
  let timer: NodeJS.Timeout | null = null;
  return {
    whatsapp: whatsapp !== undefined,
    webhook: webhook !== undefined,
    dispatcher,
    start() {
      queue = new BullOutboxQueue({
        dispatcher,
        db,
        connection: redisConnection(redisUrl),
        prefix: bullPrefix(config.REDIS_KEY_PREFIX),
      });
      queue.startWorker();
      const q = queue;
      const enqueue = () => {
        q.enqueueDue().catch((error: unknown) => log.warn('outbox enqueue failed', { error }));
      };
      timer = setInterval(enqueue, ENQUEUE_EVERY_MS);
      timer.unref();
      listen(enqueue);
    },
    async stop() {
      if (timer) clearInterval(timer);
      await listener?.close();
      await queue?.close();
    },
  };
}

/** BullMQ connection options from a redis:// URL (BullMQ needs maxRetriesPerRequest null on its workers). */
function redisConnection(url: string) {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    ...(u.username && { username: decodeURIComponent(u.username) }),
    ...(u.password && { password: decodeURIComponent(u.password) }),
    db: Number(u.pathname.slice(1) || 0),
    ...(u.protocol === 'rediss:' && { tls: {} }),
    maxRetriesPerRequest: null,
  };
}
