/**
 * A local stand-in for the part of Twilio's REST API the server (through the official SDK), the n8n
 * WhatsApp Alert node and its credential use:
 *
 * - `POST /2010-04-01/Accounts/{sid}/Messages.json` (form: To, From or MessagingServiceSid, Body or
 *   ContentSid + ContentVariables, StatusCallback), checked the way Twilio checks them: 21604 without a To,
 *   21211 for a To that is not `whatsapp:+E164`, 21603/21606 without a valid sender, 21701 for a bad
 *   MessagingServiceSid, 21602 without a Body or ContentSid, 21617 for a Body over 1,600 characters (code
 *   points, as Twilio counts them for WhatsApp), 21656 for ContentVariables that are not a JSON object of
 *   non-empty strings (at most 1,024 characters) without new lines, tabs or 4+ consecutive spaces. The
 *   stored message renders a template with `renderStubTemplate`.
 * - `GET /2010-04-01/Accounts/{sid}/Messages.json` (To/From filters, PageSize, newest first) and
 *   `GET /2010-04-01/Accounts/{sid}.json`.
 * - HTTP Basic auth with the Account SID + Auth Token, or the API Key SID + Secret; 20003 otherwise.
 *
 * Answers are Twilio's JSON shapes (message resource, error `{ code, message, more_info, status }`).
 * Failures are injected per message create: `failNext` / `failOn` (Twilio's JSON error, or a raw body such
 * as a proxy's HTML page), `delayNext` (the message is stored first, then the answer is late — as when
 * Twilio accepted it but the client timed out), and `onCreate` sees each stored message before the answer.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface StubMessage {
  sid: string;
  account_sid: string;
  to: string;
  /** Null when sent through a Messaging Service (Twilio picks the sender later). */
  from: string | null;
  messaging_service_sid: string | null;
  body: string;
  content_sid: string | null;
  content_variables: string | null;
  status_callback: string | null;
  /** `queued`, or `accepted` through a Messaging Service. */
  status: string;
  direction: 'outbound-api';
  date_created: string;
  date_updated: string;
  date_sent: string | null;
}

export interface StubRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  /** The body as received (for a form: still URL-encoded). */
  raw: string;
  form: Record<string, string>;
  /** The Authorization header as sent. */
  auth: string | undefined;
  /** The Basic auth user name, when the header parsed. */
  user: string | null;
}

export interface StubFailure {
  status: number;
  code?: number;
  message?: string;
  /** Answer with this text (e.g. an HTML error page) instead of Twilio's JSON. */
  rawBody?: string;
}

export interface TwilioStub {
  url: string;
  accountSid: string;
  authToken: string;
  apiKeySid: string;
  apiKeySecret: string;
  messages: StubMessage[];
  requests: StubRequest[];
  /** The next `times` creates fail with this error (nothing is stored). */
  failNext(failure: StubFailure, times?: number): void;
  /** The `n`-th message create from now on (1 = the next) fails with this error (nothing is stored). */
  failOn(n: number, failure: StubFailure): void;
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

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const WHATSAPP_ADDRESS = /^whatsapp:\+[1-9]\d{7,14}$/;

export async function startTwilioStub(port = 0): Promise<TwilioStub> {
  const accountSid = 'AC' + hex(16);
  const authToken = hex(16);
  const apiKeySid = 'SK' + hex(16);
  const apiKeySecret = hex(16);
  const failures: StubFailure[] = [];
  const scheduled = new Map<number, StubFailure>();
  const delays: number[] = [];
  let creates = 0;
  const sockets = new Set<Socket>();
  const basic = (user: string, pass: string) => 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');
  const accepted = new Set([basic(accountSid, authToken), basic(apiKeySid, apiKeySecret)]);

  const stub: TwilioStub = {
    url: '',
    accountSid,
    authToken,
    apiKeySid,
    apiKeySecret,
    messages: [],
    requests: [],
    onCreate: null,
    failNext(failure, times = 1) {
      for (let i = 0; i < times; i++) failures.push(failure);
    },
    failOn(n, failure) {
      scheduled.set(creates + n, failure);
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

  const accountPath = `/2010-04-01/Accounts/${accountSid}.json`;
  const base = `/2010-04-01/Accounts/${accountSid}/Messages.json`;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://stub');
    let raw = '';
    for await (const chunk of req) raw += String(chunk);
    const form = Object.fromEntries(new URLSearchParams(raw));
    const auth = req.headers.authorization;
    let user: string | null = null;
    if (auth?.startsWith('Basic ')) {
      user = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':')[0] ?? null;
    }
    stub.requests.push({
      method: req.method ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      raw,
      form,
      auth,
      user,
    });
    const json = (status: number, body: unknown) => {
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const fail = (status: number, code: number, message: string) =>
      json(status, error({ status, code, message }));
    if (!auth || !accepted.has(auth)) return fail(401, 20003, 'Authenticate');

    if (req.method === 'GET' && url.pathname === accountPath) {
      return json(200, {
        sid: accountSid,
        friendly_name: 'Stub account',
        status: 'active',
        type: 'Full',
        uri: accountPath,
      });
    }
    if (url.pathname !== base) {
      return fail(404, 20404, `The requested resource ${url.pathname} was not found`);
    }

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
    if (req.method !== 'POST') return fail(405, 20004, 'Method not allowed');

    creates++;
    const failure = scheduled.get(creates) ?? failures.shift();
    scheduled.delete(creates);
    if (failure) {
      if (failure.rawBody !== undefined) {
        res.writeHead(failure.status, { 'content-type': 'text/html' });
        return res.end(failure.rawBody);
      }
      return json(failure.status, error(failure));
    }
    if (!form.To) return fail(400, 21604, "A 'To' phone number is required.");
    if (!WHATSAPP_ADDRESS.test(form.To)) {
      return fail(400, 21211, `Invalid 'To' Phone Number: ${form.To.replace(/\d(?=\d{4})/g, '*')}`);
    }
    if (!form.From && !form.MessagingServiceSid) {
      return fail(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required.");
    }
    if (form.From && !WHATSAPP_ADDRESS.test(form.From)) {
      return fail(400, 21606, "The 'From' phone number provided is not a valid message-capable number.");
    }
    if (form.MessagingServiceSid && !/^MG[0-9a-f]{32}$/i.test(form.MessagingServiceSid)) {
      return fail(400, 21701, 'The Messaging Service Sid is invalid.');
    }
    if (!form.Body && !form.ContentSid) return fail(400, 21602, 'Message body is required.');
    if (form.Body && [...form.Body].length > 1600) {
      return fail(400, 21617, 'The concatenated message body exceeds the 1600 character limit.');
    }
    let body = form.Body ?? '';
    if (form.ContentSid) {
      const variables = contentVariables(form.ContentVariables);
      if (!variables) return fail(400, 21656, 'The ContentVariables Parameter is invalid.');
      body = renderStubTemplate(form.ContentSid, variables);
    }
    const now = new Date().toUTCString();
    const message: StubMessage = {
      sid: 'SM' + hex(16),
      account_sid: accountSid,
      to: form.To,
      from: form.From ?? null,
      messaging_service_sid: form.MessagingServiceSid ?? null,
      body,
      content_sid: form.ContentSid ?? null,
      content_variables: form.ContentVariables ?? null,
      status_callback: form.StatusCallback ?? null,
      status: form.MessagingServiceSid ? 'accepted' : 'queued',
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
      messaging_service_sid: m.messaging_service_sid,
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

/**
 * ContentVariables as Twilio accepts them (absent means none), or null for 21656: a JSON object of
 * non-empty strings of at most 1,024 characters without new lines, tabs or 4+ consecutive spaces.
 */
function contentVariables(text: string | undefined): Record<string, string> | null {
  let variables: unknown;
  try {
    variables = text ? JSON.parse(text) : {};
  } catch {
    return null;
  }
  if (typeof variables !== 'object' || variables === null || Array.isArray(variables)) return null;
  const ok = Object.values(variables).every(
    (v) => typeof v === 'string' && v.trim() !== '' && !/[\n\t]| {4,}/.test(v) && v.length <= 1024,
  );
  return ok ? (variables as Record<string, string>) : null;
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
