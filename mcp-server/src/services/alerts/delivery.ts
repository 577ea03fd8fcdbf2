/**
 * Delivery of alert messages from configuration: the outbox dispatcher with a WhatsApp sender (Twilio,
 * when its account, token and sender are set) and a signed webhook sender (when a signing secret is set).
 * A channel that is not configured is simply absent: alerts on it cannot be created (the service says
 * why), and the dispatcher leaves nothing half-sent.
 *
 * With Redis the outbox runs through a BullMQ queue (job id = outbox id, so a row is one job however often
 * it is enqueued), which spreads sends over every worker process; without it, and while Redis is
 * unreachable, an in-process loop claims rows directly. Either way the database claim decides who sends
 * a row, so no row is sent twice.
 */
import type { Config } from '../../config.js';
import type { SqlDatabase } from '../../store/types.js';
import type { RedisConnection } from '../../store/redis-connection.js';
import { log } from '../../logger.js';
import { bullConnection, bullPrefix } from '../queues.js';
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

/** How often due rows are enqueued to BullMQ (firings also wake it through the database). */
const ENQUEUE_EVERY_MS = 1_000;
/** Redis down this long: the process polls the outbox itself rather than wait for BullMQ. */
const POLL_AFTER_REDIS_DOWN_MS = 3_000;

export function createDelivery(
  config: DeliveryConfig,
  db: SqlDatabase,
  /** The server's Redis connection: its state tells when BullMQ cannot deliver. */
  redis?: Pick<RedisConnection, 'ready'> | null,
): Delivery {
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
  const redisUp = () => redis?.ready ?? true;
  let queue: BullOutboxQueue | null = null;
  let timer: NodeJS.Timeout | null = null;
  // While Redis is unreachable BullMQ hands rows to nobody: this process then polls the outbox itself
  // (the database claim keeps every row to one sender beside the BullMQ workers) until Redis is back.
  let polling = false;
  let handingBack: Promise<void> | null = null;
  let downSince: number | null = null;
  const watch = () => {
    if (redisUp()) {
      downSince = null;
      if (polling) {
        polling = false;
        log.info('Redis is back: alert delivery goes through BullMQ again');
        // The loop finishes its batch first; it is not started again before that.
        handingBack = dispatcher.stop().finally(() => (handingBack = null));
      }
    } else if (
      (downSince ??= Date.now()) + POLL_AFTER_REDIS_DOWN_MS <= Date.now() &&
      !polling &&
      !handingBack
    ) {
      polling = true;
      log.warn('Redis is unreachable: this process delivers the alert outbox itself meanwhile');
      dispatcher.start();
    }
  };
  return {
    whatsapp: whatsapp !== undefined,
    webhook: webhook !== undefined,
    dispatcher,
    start() {
      queue = new BullOutboxQueue({
        dispatcher,
        db,
        connection: bullConnection(redisUrl),
        prefix: bullPrefix(config.REDIS_KEY_PREFIX),
      });
      queue.startWorker();
      const q = queue;
      const tick = () => {
        watch();
        if (polling || !redisUp()) return;
        q.enqueueDue().catch((error: unknown) => log.warn('outbox enqueue failed', { error }));
      };
      timer = setInterval(tick, ENQUEUE_EVERY_MS);
      timer.unref();
      listen(() => (polling ? dispatcher.notify() : tick()));
    },
    async stop() {
      if (timer) clearInterval(timer);
      await listener?.close();
      await handingBack;
      await dispatcher.stop(); // a no-op unless this process is polling
      await queue?.close({ redisUp: redisUp() });
    },
  };
}
