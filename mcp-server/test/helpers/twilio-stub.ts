/**
 * A local stand-in for Twilio's Messages API, enough for the official SDK: `POST
 * /2010-04-01/Accounts/{sid}/Messages.json` (form: To, From, Body or ContentSid/ContentVariables,
 * StatusCallback) and `GET .../Messages.json` (To/From filters, newest first). Answers with Twilio's JSON
 * shapes (message resource, error `{ code, message, more_info, status }`). Failures are injected per
 * request: `failNext`, `delayNext` (the message is stored first, then the answer is late — as when Twilio
 * accepted it but the client timed out), and `onCreate` sees each stored message before the answer.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StubMessage {
  sid: string;
  account_sid: string;
  to: string;
  from: string;
  body: string;
  content_sid: string | null;
  content_variables: string | null;
  status_callback: string | null;
  status: string;
  direction: 'outbound-api';
  date_created: string;
  date_updated: string;
  date_sent: string | null;
}

export interface StubRequest {
  method: string;
  path: string;
  form: Record<string, string>;
  auth: string | undefined;
}

export interface StubFailure {
  status: number;
  code?: number;
  message?: string;
}

export interface TwilioStub {
  url: string;
  accountSid: string;
  authToken: string;
  messages: StubMessage[];
  requests: StubRequest[];
  /** The next `times` creates fail with this error (nothing is stored). */
  failNext(failure: StubFailure, times?: number): void;
  /** The next `times` creates store the message, then answer after `ms`. */
  delayNext(ms: number, times?: number): void;
  /** Called after a message is stored, before the answer is sent. */
  onCreate: ((m: StubMessage) => void | Promise<void>) | null;
  /** Messages to `to` (E.164, without the whatsapp: prefix). */
  sentTo(to: string): StubMessage[];
  close(): Promise<void>;
}

/** How the stub renders a template into the message body (Twilio stores the rendered text). */
export function renderStubTemplate(contentSid: string, variables: Record<string, string>): string {
  return `[${contentSid}] Alert: ${variables['1'] ?? ''}`;
}

export async function startTwilioStub(port = 0): Promise<TwilioStub> {
  const accountSid = 'AC' + randomBytes(16).toString('hex');
  const authToken = randomBytes(16).toString('hex');
  const failures: StubFailure[] = [];
  const delays: number[] = [];
  const sockets = new Set<import('node:net').Socket>();

  const stub: TwilioStub = {
    url: '',
    accountSid,
    authToken,
    messages: [],
    requests: [],
    onCreate: null,
    failNext(failure, times = 1) {
      for (let i = 0; i < times; i++) failures.push(failure);
    },
    delayNext(ms, times = 1) {
      for (let i = 0; i < times; i++) delays.push(ms);
    },
    sentTo(to) {
      return stub.messages.filter((m) => m.to === `whatsapp:${to}`);
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };

  const base = `/2010-04-01/Accounts/${accountSid}/Messages.json`;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://stub');
    let raw = '';
    for await (const chunk of req) raw += String(chunk);
    const form = Object.fromEntries(new URLSearchParams(raw));
    stub.requests.push({
      method: req.method ?? '',
      path: url.pathname,
      form,
      auth: req.headers.authorization,
    });
    const json = (status: number, body: unknown) => {
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const expected = 'Basic ' + Buffer.from(`${accountSid}:${authToken}`).toString('base64');
    if (req.headers.authorization !== expected) {
      return json(401, error({ status: 401, code: 20003, message: 'Authenticate' }));
    }
    if (url.pathname !== base) return json(404, error({ status: 404, code: 20404, message: 'Not found' }));

    if (req.method === 'GET') {
      const to = url.searchParams.get('To');
      const from = url.searchParams.get('From');
      const size = Number(url.searchParams.get('PageSize') ?? 50);
      const list = stub.messages
        .filter((m) => (!to || m.to === to) && (!from || m.from === from))
        .slice()
        .reverse()
        .slice(0, size);
      return json(200, {
        messages: list.map(resource),
        end: list.length ? list.length - 1 : 0,
        first_page_uri: `${base}?PageSize=${size}&Page=0`,
        next_page_uri: null,
        page: 0,
        page_size: size,
        previous_page_uri: null,
        start: 0,
        uri: `${base}?PageSize=${size}&Page=0`,
      });
    }
    if (req.method !== 'POST')
      return json(405, error({ status: 405, code: 20004, message: 'Method not allowed' }));

    const failure = failures.shift();
    if (failure) return json(failure.status, error(failure));
    if (!form.To || !form.From) {
      return json(400, error({ status: 400, code: 21604, message: "A 'To' phone number is required." }));
    }
    if (!/^whatsapp:\+[1-9]\d{7,14}$/.test(form.To)) {
      return json(
        400,
        error({ status: 400, code: 21211, message: `The 'To' number ${form.To} is not valid.` }),
      );
    }
    if (!form.Body && !form.ContentSid) {
      return json(400, error({ status: 400, code: 21602, message: 'Message body is required.' }));
    }
    if (form.Body && [...form.Body].length > 1600) {
      return json(
        400,
        error({
          status: 400,
          code: 21617,
          message: 'The concatenated message body exceeds the 1600 character limit.',
        }),
      );
    }
    const now = new Date().toUTCString();
    const message: StubMessage = {
      sid: 'SM' + randomBytes(16).toString('hex'),
      account_sid: accountSid,
      to: form.To,
      from: form.From,
      body: form.ContentSid
        ? renderStubTemplate(
            form.ContentSid,
            JSON.parse(form.ContentVariables ?? '{}') as Record<string, string>,
          )
        : form.Body!,
      content_sid: form.ContentSid ?? null,
      content_variables: form.ContentVariables ?? null,
      status_callback: form.StatusCallback ?? null,
      status: 'queued',
      direction: 'outbound-api',
      date_created: now,
      date_updated: now,
      date_sent: null,
    };
    stub.messages.push(message);
    await stub.onCreate?.(message);
    const delay = delays.shift();
    if (delay) await new Promise((r) => setTimeout(r, delay));
    return json(201, resource(message));
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return stub;

  function error(f: StubFailure) {
    return {
      code: f.code ?? f.status,
      message: f.message ?? `HTTP ${f.status}`,
      more_info: `https://www.twilio.com/docs/errors/${f.code ?? f.status}`,
      status: f.status,
    };
  }

  function resource(m: StubMessage) {
    return {
      account_sid: m.account_sid,
      api_version: '2010-04-01',
      body: m.body,
      date_created: m.date_created,
      date_sent: m.date_sent,
      date_updated: m.date_updated,
      direction: m.direction,
      error_code: null,
      error_message: null,
      from: m.from,
      messaging_service_sid: null,
      num_media: '0',
      num_segments: '1',
      price: null,
      price_unit: 'USD',
      sid: m.sid,
      status: m.status,
      subresource_uris: { media: `/2010-04-01/Accounts/${m.account_sid}/Messages/${m.sid}/Media.json` },
      to: m.to,
      uri: `/2010-04-01/Accounts/${m.account_sid}/Messages/${m.sid}.json`,
    };
  }
}

/** Twilio's 63016 error (free-form text outside the 24-hour window). */
export const ERROR_63016: StubFailure = {
  status: 400,
  code: 63016,
  message:
    'Failed to send freeform message because you are outside the allowed window. If you are using WhatsApp, please use a Message Template.',
};
export const ERROR_21211: StubFailure = {
  status: 400,
  code: 21211,
  message: "The 'To' number is not a valid phone number.",
};
export const ERROR_429: StubFailure = { status: 429, code: 20429, message: 'Too Many Requests' };
export const ERROR_500: StubFailure = { status: 500, code: 20500, message: 'Internal Server Error' };
