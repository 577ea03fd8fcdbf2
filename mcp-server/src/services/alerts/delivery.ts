/**
 * Delivery of alert messages from configuration: the outbox dispatcher with a WhatsApp sender (Twilio,
 * when its account, token and sender are set) and a signed webhook sender (when a signing secret is set).
 * A channel that is not configured is simply absent: alerts on it cannot be created (the service says
 * why), and the dispatcher leaves nothing half-sent.
 */
import type { Config } from '../../config.js';
import type { SqlDatabase } from '../../store/types.js';
import { Dispatcher } from './dispatcher.js';
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
>;

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
  return {
    whatsapp: whatsapp !== undefined,
    webhook: webhook !== undefined,
    dispatcher,
    start: () => dispatcher.start(),
    stop: () => dispatcher.stop(),
  };
}
