/**
 * A local stand-in for the part of Twilio's REST API the WhatsApp Alert node and its credential use:
 *
 * - `POST /2010-04-01/Accounts/{sid}/Messages.json` (form: To, From or MessagingServiceSid, Body or
 *   ContentSid + ContentVariables, StatusCallback), checked the way Twilio checks them: 21604 without a To,
 *   21211 for a To that is not `whatsapp:+E164`, 21603/21606 without a valid sender, 21602 without a Body or
 *   ContentSid, 21617 for a Body over 1,600 characters, 21656 for ContentVariables that are not a JSON object
 *   of non-empty strings without new lines, tabs or 4+ consecutive spaces.
 * - `GET /2010-04-01/Accounts/{sid}/Messages.json` (a page of messages) and `GET /2010-04-01/Accounts/{sid}.json`.
 * - HTTP Basic auth with the Account SID + Auth Token, or an API Key SID + Secret; 20003 otherwise.
 *
 * Errors are Twilio's JSON `{ code, message, more_info, status }`. `failNext` injects failures.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StubRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  raw: string;
  form: Record<string, string>;
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

export interface TwilioApiStub {
  url: string;
  accountSid: string;
  authToken: string;
  apiKeySid: string;
  apiKeySecret: string;
  requests: StubRequest[];
  /** Stored messages (Twilio's resource shape). */
  messages: Record<string, unknown>[];
  failNext(failure: StubFailure, times?: number): void;
  /** The `n`-th message create from now on (1 = the next) fails with this error. */
  failOn(n: number, failure: StubFailure): void;
  close(): Promise<void>;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

export async function startTwilioApiStub(): Promise<TwilioApiStub> {
  const accountSid = 'AC' + hex(16);
  const authToken = hex(16);
  const apiKeySid = 'SK' + hex(16);
  const apiKeySecret = hex(16);
  const failures: StubFailure[] = [];
  const scheduled = new Map<number, StubFailure>();
  let creates = 0;
  const sockets = new Set<import('node:net').Socket>();
  const basic = (user: string, pass: string) => 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');
  const accepted = new Set([basic(accountSid, authToken), basic(apiKeySid, apiKeySecret)]);

  const stub: TwilioApiStub = {
    url: '',
    accountSid,
    authToken,
    apiKeySid,
    apiKeySecret,
    requests: [],
    messages: [],
    failNext(failure, times = 1) {
      for (let i = 0; i < times; i++) failures.push(failure);
    },
    failOn(n, failure) {
      scheduled.set(creates + n, failure);
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };

  const accountPath = `/2010-04-01/Accounts/${accountSid}.json`;
  const messagesPath = `/2010-04-01/Accounts/${accountSid}/Messages.json`;

  const error = (status: number, code: number, message: string) => ({
    code,
    message,
    more_info: `https://www.twilio.com/docs/errors/${code}`,
    status,
  });

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
      user,
    });
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (!auth || !accepted.has(auth)) return json(401, error(401, 20003, 'Authenticate'));

    if (req.method === 'GET' && url.pathname === accountPath) {
      return json(200, {
        sid: accountSid,
        friendly_name: 'Stub account',
        status: 'active',
        type: 'Full',
        uri: accountPath,
      });
    }
    if (url.pathname !== messagesPath) {
      return json(404, error(404, 20404, `The requested resource ${url.pathname} was not found`));
    }
    if (req.method === 'GET') {
      const size = Number(url.searchParams.get('PageSize') ?? 50);
      return json(200, {
        messages: stub.messages.slice().reverse().slice(0, size),
        page: 0,
        page_size: size,
      });
    }
    if (req.method !== 'POST') return json(405, error(405, 20004, 'Method not allowed'));

    creates++;
    const failure = scheduled.get(creates) ?? failures.shift();
    scheduled.delete(creates);
    if (failure) {
      if (failure.rawBody !== undefined) {
        res.writeHead(failure.status, { 'content-type': 'text/html' });
        return res.end(failure.rawBody);
      }
      return json(
        failure.status,
        error(failure.status, failure.code ?? failure.status, failure.message ?? `HTTP ${failure.status}`),
      );
    }
    if (!form.To) return json(400, error(400, 21604, "A 'To' phone number is required."));
    if (!/^whatsapp:\+[1-9]\d{7,14}$/.test(form.To)) {
      return json(
        400,
        error(400, 21211, `Invalid 'To' Phone Number: ${form.To.replace(/\d(?=\d{4})/g, '*')}`),
      );
    }
    if (!form.From && !form.MessagingServiceSid) {
      return json(400, error(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required."));
    }
    if (form.From && !/^whatsapp:\+[1-9]\d{7,14}$/.test(form.From)) {
      return json(
        400,
        error(400, 21606, "The 'From' phone number provided is not a valid message-capable number."),
      );
    }
    if (form.MessagingServiceSid && !/^MG[0-9a-f]{32}$/i.test(form.MessagingServiceSid)) {
      return json(400, error(400, 21701, 'The Messaging Service Sid is invalid.'));
    }
    if (!form.Body && !form.ContentSid) return json(400, error(400, 21602, 'Message body is required.'));
    if (form.Body && form.Body.length > 1600) {
      return json(400, error(400, 21617, 'The concatenated message body exceeds the 1600 character limit.'));
    }
    let body = form.Body ?? '';
    if (form.ContentSid) {
      let variables: unknown = {};
      try {
        variables = form.ContentVariables ? JSON.parse(form.ContentVariables) : {};
      } catch {
        return json(400, error(400, 21656, 'The ContentVariables Parameter is invalid.'));
      }
      const values = typeof variables === 'object' && variables !== null ? Object.values(variables) : [null];
      const bad = values.some(
        (v) => typeof v !== 'string' || v.trim() === '' || /[\n\t]| {4,}/.test(v) || v.length > 1024,
      );
      if (bad) return json(400, error(400, 21656, 'The ContentVariables Parameter is invalid.'));
      body = `[${form.ContentSid}] ${Object.entries(variables as Record<string, string>)
        .map(([k, v]) => `{{${k}}}=${v}`)
        .join(' ')}`;
    }
    const now = new Date().toUTCString();
    const sid = 'SM' + hex(16);
    const message = {
      account_sid: accountSid,
      api_version: '2010-04-01',
      body,
      date_created: now,
      date_sent: null,
      date_updated: now,
      direction: 'outbound-api',
      error_code: null,
      error_message: null,
      from: form.From ?? null,
      messaging_service_sid: form.MessagingServiceSid ?? null,
      num_media: '0',
      num_segments: '1',
      price: null,
      price_unit: 'USD',
      sid,
      status: form.MessagingServiceSid ? 'accepted' : 'queued',
      to: form.To,
      uri: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`,
    };
    stub.messages.push(message);
    return json(201, message);
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
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return stub;
}
