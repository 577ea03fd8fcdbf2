/**
 * A local receiver for the server's signed alert webhooks: records every POST it gets (raw deliveries,
 * retries included) with its `X-Idempotency-Key`, the parsed body and whether `X-Signature` is the HMAC of
 * the raw body under the secret. Answers 200.
 *
 * `hold()` makes it record each delivery and then keep the answer back until `release()` (a receiver that
 * processed the call but whose 2xx the sender has not seen yet): a sender killed meanwhile never learns
 * the outcome, which is the case where webhooks are resent with the same idempotency key.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface WebhookDelivery {
  path: string;
  /** X-Idempotency-Key (the outbox id). */
  key: string | undefined;
  signatureValid: boolean;
  body: {
    outbox_id?: string;
    alert_id?: string;
    firing_id?: string;
    symbol?: string;
    message?: string;
    [k: string]: unknown;
  };
  receivedAt: number;
  /** Recorded while answers were held back (`hold()`): the sender saw no answer until `release()`. */
  heldAnswer: boolean;
}

export interface WebhookReceiver {
  url: string;
  deliveries: WebhookDelivery[];
  /** Deliveries whose answer is held back right now. */
  readonly held: number;
  hold(): void;
  release(): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(secret: string): Promise<WebhookReceiver> {
  const deliveries: WebhookDelivery[] = [];
  let gate: { promise: Promise<void>; open: () => void } | null = null;
  let held = 0;
  const sockets = new Set<Socket>();

  const server: Server = createServer((req, res) => {
    void (async () => {
      let raw = '';
      for await (const chunk of req) raw += String(chunk);
      if (req.method !== 'POST') {
        res.writeHead(405).end();
        return;
      }
      let body: WebhookDelivery['body'] = {};
      try {
        body = JSON.parse(raw) as WebhookDelivery['body'];
      } catch {
        // recorded with an empty body: the assertions will name it
      }
      const signature = String(req.headers['x-signature'] ?? '');
      const expected = 'sha256=' + createHmac('sha256', secret).update(raw).digest('hex');
      const key = req.headers['x-idempotency-key'];
      deliveries.push({
        path: new URL(req.url ?? '/', 'http://receiver').pathname,
        key: typeof key === 'string' ? key : undefined,
        signatureValid:
          signature.length === expected.length &&
          timingSafeEqual(Buffer.from(signature), Buffer.from(expected)),
        body,
        receivedAt: Date.now(),
        heldAnswer: gate !== null,
      });
      if (gate) {
        held++;
        try {
          await gate.promise;
        } finally {
          held--;
        }
      }
      if (!res.destroyed) res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    })().catch(() => {
      if (!res.headersSent && !res.destroyed) res.writeHead(500).end();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    deliveries,
    get held() {
      return held;
    },
    hold() {
      if (gate) return;
      let open!: () => void;
      const promise = new Promise<void>((r) => (open = r));
      gate = { promise, open };
    },
    release() {
      gate?.open();
      gate = null;
    },
    async close() {
      gate?.open();
      gate = null;
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
