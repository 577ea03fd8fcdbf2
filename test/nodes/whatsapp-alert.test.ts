/**
 * The WhatsApp Alert node's execute() against the local Twilio stub the server's tests share
 * (mcp-server/test/helpers/twilio-stub.ts): the form it posts (To/From/Body, ContentSid +
 * ContentVariables, StatusCallback, MessagingServiceSid instead of From), Basic auth for both credential
 * types, Twilio's errors as NodeApiError with Twilio's code and message, continueOnFail, length limits
 * and variable normalisation. One test reads the message a fresh stub stored, as the server's tests do.
 */
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';
import { WhatsAppAlert } from '../../nodes/WhatsAppAlert/WhatsAppAlert.node';
import { formatItem, renderMessage, renderOneLine } from '../../nodes/WhatsAppAlert/message';
import { TwilioWhatsAppApi } from '../../credentials/TwilioWhatsAppApi.credentials';
import { fakeContext } from '../helpers/n8n-context';
import { startTwilioStub, type TwilioStub } from '../../mcp-server/test/helpers/twilio-stub';

const fixture = (name: string): IDataObject =>
  JSON.parse(readFileSync(new URL(`../fixtures/tool-outputs/${name}.json`, import.meta.url), 'utf8'));

const NOW = Date.parse('2026-11-21T12:00:00.000Z');
const TO = '+14155550123';
const FROM = '+14155238886';
const CONTENT_SID = 'HX' + 'ab'.repeat(16);
const SERVICE_SID = 'MG' + 'cd'.repeat(16);

let stub: TwilioStub;

beforeAll(async () => {
  stub = await startTwilioStub();
});
afterAll(async () => {
  await stub.close();
});
beforeEach(() => {
  stub.requests.length = 0;
  stub.messages.length = 0;
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
});
afterEach(() => {
  vi.useRealTimers();
});

interface RunOptions {
  parameters?: Record<string, unknown>;
  items?: INodeExecutionData[];
  credentials?: IDataObject;
  continueOnFail?: boolean;
  /** Run as the WhatsApp Alert Tool of an AI agent: the items are the model's $fromAI arguments. */
  tool?: boolean;
}

function credentialData(overrides: IDataObject = {}): IDataObject {
  return {
    accountSid: stub.accountSid,
    authType: 'authToken',
    authToken: stub.authToken,
    apiKeySid: '',
    apiKeySecret: '',
    whatsappFrom: FROM,
    messagingServiceSid: '',
    baseUrl: stub.url,
    ...overrides,
  };
}

async function run(options: RunOptions = {}) {
  const ctx = fakeContext({
    parameters: {
      to: TO,
      messageType: 'text',
      textSource: 'auto',
      options: {},
      ...options.parameters,
    },
    items: options.items ?? [{ json: fixture('analyze-crypto-eth-4h') }],
    continueOnFail: options.continueOnFail,
    tool: options.tool,
    credentials: {
      twilioWhatsAppApi: {
        data: credentialData(options.credentials) as never,
        type: new TwilioWhatsAppApi(),
      },
    },
  });
  const [output] = await new WhatsAppAlert().execute.call(ctx.context as IExecuteFunctions);
  return { output: output!, requests: ctx.requests };
}

async function runError(options: RunOptions): Promise<NodeApiError | NodeOperationError> {
  const error = await run(options).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error, 'expected the node to throw').not.toBeNull();
  return error as NodeApiError | NodeOperationError;
}

const posts = () => stub.requests.filter((r) => r.method === 'POST');

describe('node description', () => {
  const { description } = new WhatsAppAlert();

  it('is a programmatic, tool-usable node with the Twilio WhatsApp credential', () => {
    expect(description.name).toBe('whatsAppAlert');
    expect(description.displayName).toBe('WhatsApp Alert');
    expect(description.usableAsTool).toBe(true);
    expect(description.credentials).toEqual([{ name: 'twilioWhatsAppApi', required: true }]);
    expect(description.icon).toEqual({
      light: 'file:whatsAppAlert.svg',
      dark: 'file:whatsAppAlert.dark.svg',
    });
  });

  it('offers free-form text (auto or custom) and Content templates', () => {
    const byName = Object.fromEntries(description.properties.map((p) => [p.name, p]));
    expect(byName.messageType!.options!.map((o) => (o as { value: string }).value).sort()).toEqual([
      'template',
      'text',
    ]);
    expect(byName.textSource!.options!.map((o) => (o as { value: string }).value).sort()).toEqual([
      'auto',
      'custom',
    ]);
    expect(byName.contentSid!.displayOptions).toEqual({ show: { messageType: ['template'] } });
    expect(byName.templateVariables!.type).toBe('fixedCollection');
  });
});

describe('free-form text', () => {
  it('posts To, From and the auto-formatted Body as a form, with Basic auth of the Account SID', async () => {
    const item = fixture('analyze-crypto-eth-4h');
    const { output } = await run({ items: [{ json: item }] });
    const [request] = posts();
    expect(request!.path).toBe(`/2010-04-01/Accounts/${stub.accountSid}/Messages.json`);
    expect(request!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request!.user).toBe(stub.accountSid);
    const expectedBody = renderMessage(formatItem(item, NOW), 1600).text;
    expect(request!.form).toEqual({ To: `whatsapp:${TO}`, From: `whatsapp:${FROM}`, Body: expectedBody });
    expect(expectedBody.split('\n')[0]).toBe('*ETH/USDT 4h: SELL* (confidence 49/100)');

    expect(output).toHaveLength(1);
    const json = output[0]!.json;
    expect(json).toMatchObject({
      sid: stub.messages[0]!.sid,
      status: 'queued',
      to: `whatsapp:${TO}`,
      from: `whatsapp:${FROM}`,
      messagingServiceSid: null,
      messageType: 'text',
      itemKind: 'analysis',
      body: expectedBody,
      bodyLength: expectedBody.length,
      truncated: false,
      numSegments: 1,
      statusCallback: null,
    });
    expect(output[0]!.pairedItem).toEqual({ item: 0 });
  });

  it('encodes characters a form must escape (&, =, +, emoji, new lines) so Twilio gets the text unchanged', async () => {
    const text = 'BTC & ETH: +5% = 🚀\nline 2';
    await run({ parameters: { textSource: 'custom', text } });
    expect(posts()[0]!.form.Body).toBe(text);
    expect(posts()[0]!.raw).toContain('Body=BTC+%26+ETH%3A+%2B5%25+%3D+%F0%9F%9A%80%0Aline+2');
  });

  it('sends one message per item, each paired with its item', async () => {
    const items = ['analyze-crypto', 'market-scanner', 'monitor-portfolio', 'alert-webhook-price'].map(
      (n) => ({
        json: fixture(n),
      }),
    );
    const { output } = await run({ items });
    expect(posts()).toHaveLength(4);
    expect(output.map((o) => o.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }, { item: 3 }]);
    expect(output.map((o) => o.json.itemKind)).toEqual(['analysis', 'scan', 'portfolio', 'alert']);
    expect(new Set(output.map((o) => o.json.sid)).size).toBe(4);
  });

  it('normalises the recipient: whatsapp: prefix, spaces, dashes and brackets', async () => {
    await run({ parameters: { to: ' whatsapp:+1 (415) 555-0123 ' } });
    expect(posts()[0]!.form.To).toBe(`whatsapp:${TO}`);
  });

  it('rejects a number without + and country code before calling Twilio', async () => {
    const error = await runError({ parameters: { to: '4155550123' } });
    expect(error).toBeInstanceOf(NodeOperationError);
    expect(error.message).toMatch(/not a valid E\.164 phone number/);
    expect(error.context.itemIndex).toBe(0);
    expect(posts()).toHaveLength(0);
  });

  it('sends custom text cleaned of control characters and rejects an empty one', async () => {
    await run({ parameters: { textSource: 'custom', text: '  BTC above 70k\u0000\r\n  ' } });
    expect(posts()[0]!.form.Body).toBe('BTC above 70k');
    const error = await runError({ parameters: { textSource: 'custom', text: ' \n ' } });
    expect(error.message).toBe('The message text is empty');
  });

  it('truncates a long text cleanly to Max Length, or fails the item when asked to', async () => {
    const text = 'All systems go. '.repeat(200); // 3,200 characters
    const { output } = await run({ parameters: { textSource: 'custom', text } });
    const body = posts()[0]!.form.Body!;
    expect(body.length).toBeLessThanOrEqual(1600);
    expect(body.endsWith('go.…')).toBe(true);
    expect(output[0]!.json).toMatchObject({ truncated: true, bodyLength: body.length });

    await run({ parameters: { textSource: 'custom', text, options: { maxLength: 100 } } });
    expect(posts()[1]!.form.Body!.length).toBeLessThanOrEqual(100);

    const error = await runError({
      parameters: { textSource: 'custom', text, options: { onTooLong: 'fail' } },
    });
    expect(error).toBeInstanceOf(NodeOperationError);
    expect(error.message).toBe('The message is longer than 1600 characters');
    expect(posts()).toHaveLength(2);
  });

  it('keeps the data line and disclaimer of an auto-formatted message when it is cut', async () => {
    const { output } = await run({
      items: [{ json: fixture('monitor-portfolio') }],
      parameters: { options: { maxLength: 300 } },
    });
    const body = posts()[0]!.form.Body!;
    expect(body.length).toBeLessThanOrEqual(300);
    expect(body.endsWith('(189 days old)\nNot financial advice.')).toBe(true);
    expect(output[0]!.json.truncated).toBe(true);
  });

  it('passes the status callback URL and rejects one that is not http(s)', async () => {
    const callback = 'https://n8n.example.com/webhook/twilio-status';
    const { output } = await run({ parameters: { options: { statusCallback: callback } } });
    expect(posts()[0]!.form.StatusCallback).toBe(callback);
    expect(output[0]!.json.statusCallback).toBe(callback);
    const error = await runError({ parameters: { options: { statusCallback: 'ftp://x' } } });
    expect(error.message).toMatch(/not an http\(s\) URL/);
  });

  it('masks the recipient in the output when asked, not in the request', async () => {
    const { output } = await run({ parameters: { options: { maskRecipient: true } } });
    expect(posts()[0]!.form.To).toBe(`whatsapp:${TO}`);
    expect(output[0]!.json.to).toBe('whatsapp:+*******0123');
  });

  it("masks the recipient in Twilio's error texts too when asked", async () => {
    const quoting = {
      status: 400,
      code: 63024,
      message: `Invalid message recipient whatsapp:${TO} (${TO.slice(1)})`,
    };
    stub.failNext(quoting);
    const { output } = await run({ parameters: { options: { maskRecipient: true } }, continueOnFail: true });
    expect(output[0]!.json.error).toBe(
      'Twilio error 63024: Invalid message recipient whatsapp:+*******0123 (*******0123)',
    );
    stub.failNext(quoting);
    const error = await runError({ parameters: { options: { maskRecipient: true } } });
    expect(JSON.stringify([error.message, error.description, error.messages])).not.toContain('4155550');
    // Without the option the text stays as Twilio wrote it.
    stub.failNext(quoting);
    const plain = await runError({});
    expect(plain.message).toContain(TO);
  });
});

describe('Content templates', () => {
  it('posts ContentSid and ContentVariables JSON (normalised, in order) without a Body', async () => {
    const { output } = await run({
      parameters: {
        messageType: 'template',
        contentSid: CONTENT_SID,
        templateVariables: {
          variable: [
            { number: 2, value: 'SELL\nconfidence\t49' },
            { number: 1, value: '  ETH/USDT      4h ' },
            { number: 3, value: 2180.5 },
          ],
        },
        summaryVariable: 0,
      },
    });
    const form = posts()[0]!.form;
    expect(form.Body).toBeUndefined();
    expect(form.ContentSid).toBe(CONTENT_SID);
    expect(form.ContentVariables).toBe('{"1":"ETH/USDT 4h","2":"SELL confidence 49","3":"2180.5"}');
    expect(output[0]!.json).toMatchObject({
      messageType: 'template',
      contentSid: CONTENT_SID,
      contentVariables: { 1: 'ETH/USDT 4h', 2: 'SELL confidence 49', 3: '2180.5' },
    });
    expect(output[0]!.json.body).toBeUndefined();
  });

  it('fills the Item Summary Variable with the one-line summary of the item', async () => {
    const item = fixture('market-scanner');
    await run({
      items: [{ json: item }],
      parameters: {
        messageType: 'template',
        contentSid: CONTENT_SID,
        templateVariables: { variable: [{ number: 1, value: 'Scanner' }] },
        summaryVariable: 2,
      },
    });
    const variables = JSON.parse(posts()[0]!.form.ContentVariables!) as Record<string, string>;
    expect(variables).toEqual({ 1: 'Scanner', 2: renderOneLine(formatItem(item, NOW), 700) });
    expect(variables['2']).toMatch(/^Market scan 1h: 59 setups \(top 3\): 1\. MAV\/USDT bearish breakout/);
    expect(variables['2']!.length).toBeLessThanOrEqual(700);
    expect(variables['2']).not.toMatch(/[\n\t]| {4,}/);
  });

  it('sends a template without variables without ContentVariables', async () => {
    await run({ parameters: { messageType: 'template', contentSid: CONTENT_SID, summaryVariable: 0 } });
    expect(posts()[0]!.form).toEqual({
      To: `whatsapp:${TO}`,
      From: `whatsapp:${FROM}`,
      ContentSid: CONTENT_SID,
    });
  });

  it('cuts a long variable to 1,024 characters', async () => {
    await run({
      parameters: {
        messageType: 'template',
        contentSid: CONTENT_SID,
        templateVariables: { variable: [{ number: 1, value: 'word '.repeat(500) }] },
        summaryVariable: 0,
      },
    });
    const variables = JSON.parse(posts()[0]!.form.ContentVariables!) as Record<string, string>;
    expect(variables['1']!.length).toBeLessThanOrEqual(1024);
    expect(variables['1']!.endsWith('…')).toBe(true);
  });

  it.each([
    [{ contentSid: 'HX123' }, /Content SID "HX123" is not valid/],
    [{ templateVariables: { variable: [{ number: 1, value: ' \n ' }] } }, /\{\{1\}\} is empty/],
    [
      { templateVariables: { variable: [{ number: 1, value: 'a' }] }, summaryVariable: 1 },
      /\{\{1\}\} is set twice/,
    ],
    [{ templateVariables: { variable: [{ number: 0, value: 'a' }] } }, /variable number "0" is not valid/],
    [
      { templateVariables: { variable: [{ number: 1.5, value: 'a' }] } },
      /variable number "1.5" is not valid/,
    ],
  ])('rejects %j before calling Twilio', async (parameters, message) => {
    const error = await runError({
      parameters: { messageType: 'template', contentSid: CONTENT_SID, summaryVariable: 0, ...parameters },
    });
    expect(error).toBeInstanceOf(NodeOperationError);
    expect(error.message).toMatch(message);
    expect(posts()).toHaveLength(0);
  });
});

describe('senders and authentication', () => {
  it('sends through the Messaging Service of the options instead of From', async () => {
    const { output } = await run({ parameters: { options: { messagingServiceSid: SERVICE_SID } } });
    const form = posts()[0]!.form;
    expect(form.MessagingServiceSid).toBe(SERVICE_SID);
    expect(form.From).toBeUndefined();
    expect(output[0]!.json).toMatchObject({
      messagingServiceSid: SERVICE_SID,
      from: null,
      status: 'accepted',
    });
  });

  it("uses the credential's Messaging Service when the options set none", async () => {
    await run({ credentials: { messagingServiceSid: SERVICE_SID, whatsappFrom: '' } });
    expect(posts()[0]!.form.MessagingServiceSid).toBe(SERVICE_SID);
    expect(posts()[0]!.form.From).toBeUndefined();
  });

  it('accepts a sender written with the whatsapp: prefix and rejects a missing or bad one', async () => {
    await run({ credentials: { whatsappFrom: `whatsapp:${FROM}` } });
    expect(posts()[0]!.form.From).toBe(`whatsapp:${FROM}`);
    expect((await runError({ credentials: { whatsappFrom: '' } })).message).toMatch(/^No sender/);
    expect((await runError({ credentials: { whatsappFrom: '12345' } })).message).toMatch(
      /not an E\.164 number/,
    );
    expect((await runError({ parameters: { options: { messagingServiceSid: 'MG1' } } })).message).toMatch(
      /Messaging Service SID "MG1" is not valid/,
    );
  });

  it('authenticates with the API Key SID and Secret when the credential says so', async () => {
    await run({
      credentials: {
        authType: 'apiKey',
        apiKeySid: stub.apiKeySid,
        apiKeySecret: stub.apiKeySecret,
        authToken: '',
      },
    });
    const request = posts()[0]!;
    expect(request.user).toBe(stub.apiKeySid);
    expect(request.headers.authorization).toBe(
      'Basic ' + Buffer.from(`${stub.apiKeySid}:${stub.apiKeySecret}`).toString('base64'),
    );
    // The account is still the one in the path.
    expect(request.path).toBe(`/2010-04-01/Accounts/${stub.accountSid}/Messages.json`);
  });

  it('rejects an Account SID of the wrong shape before sending anything', async () => {
    const error = await runError({ credentials: { accountSid: 'AC123' } });
    expect(error.message).toMatch(/Account SID .* is not valid/);
    expect(stub.requests).toHaveLength(0);
  });
});

describe('Twilio errors', () => {
  it('turns 63016 into a NodeApiError with Twilio code, message, hint and more_info', async () => {
    stub.failNext({
      status: 400,
      code: 63016,
      message: 'Failed to send freeform message because you are outside the allowed window.',
    });
    const error = await runError({});
    expect(error).toBeInstanceOf(NodeApiError);
    expect(error.message).toBe(
      'Twilio error 63016: Failed to send freeform message because you are outside the allowed window.',
    );
    expect((error as NodeApiError).httpCode).toBe('400');
    expect(error.description).toMatch(/24 hours .* Content template/);
    expect(error.description).toContain('https://www.twilio.com/docs/errors/63016');
    expect(error.context).toMatchObject({ itemIndex: 0, twilioErrorCode: 63016 });
  });

  it('reports 20003 for a wrong Auth Token', async () => {
    const error = await runError({ credentials: { authToken: 'wrong-token-0123456789' } });
    expect(error).toBeInstanceOf(NodeApiError);
    expect(error.message).toBe('Twilio error 20003: Authenticate');
    expect((error as NodeApiError).httpCode).toBe('401');
    expect(error.description).toMatch(/credentials/);
  });

  it('reports 21211 and 21617 as Twilio sends them', async () => {
    stub.failNext({ status: 400, code: 21211, message: "The 'To' number is not a valid phone number." });
    const invalid = await runError({});
    expect(invalid.message).toBe("Twilio error 21211: The 'To' number is not a valid phone number.");
    expect(invalid.description).toMatch(/E\.164/);
    stub.failNext({
      status: 400,
      code: 21617,
      message: 'The concatenated message body exceeds the 1600 character limit.',
    });
    expect((await runError({})).message).toMatch(/^Twilio error 21617/);
  });

  it('reports an answer that is not Twilio JSON by its HTTP status', async () => {
    stub.failNext({ status: 502, rawBody: '<html><body>Bad Gateway</body></html>' });
    const error = await runError({});
    expect(error).toBeInstanceOf(NodeApiError);
    expect(error.message).toBe('Twilio answered HTTP 502');
    expect((error as NodeApiError).httpCode).toBe('502');
  });

  it('wraps a network failure in a NodeApiError', async () => {
    const error = await runError({ credentials: { baseUrl: 'http://127.0.0.1:9' } });
    expect(error).toBeInstanceOf(NodeApiError);
    expect(error.context.itemIndex).toBe(0);
  });

  it('with continueOnFail returns an error item for the failed item and sends the others', async () => {
    const items = [
      { json: fixture('analyze-crypto') },
      { json: fixture('market-scanner') },
      { json: fixture('alert-webhook-rsi') },
    ];
    stub.failOn(2, { status: 400, code: 63016, message: 'Outside the allowed window.' });
    const { output } = await run({ items, continueOnFail: true });
    expect(output).toHaveLength(3);
    expect(output[0]!.json.sid).toMatch(/^SM/);
    expect(output[1]!.json).toEqual({
      error: 'Twilio error 63016: Outside the allowed window.',
      errorDescription: expect.stringContaining('24 hours'),
      errorCode: 63016,
      httpCode: '400',
      moreInfo: 'https://www.twilio.com/docs/errors/63016',
    });
    expect(output[1]!.pairedItem).toEqual({ item: 1 });
    expect(output[2]!.json.sid).toMatch(/^SM/);
    expect(stub.messages).toHaveLength(2);
  });

  it('with continueOnFail returns an error item for an invalid recipient without calling Twilio', async () => {
    const { output } = await run({
      parameters: { to: (i: number) => (i === 0 ? 'not a number' : TO) },
      items: [{ json: { symbol: 'A' } }, { json: { symbol: 'B' } }],
      continueOnFail: true,
    });
    expect(output[0]!.json.error).toMatch(/not a valid E\.164 phone number/);
    expect(output[0]!.pairedItem).toEqual({ item: 0 });
    expect(output[1]!.json.status).toBe('queued');
    expect(posts()).toHaveLength(1);
  });
});

describe('as an AI tool', () => {
  it('sends the text the model wrote', async () => {
    const { output } = await run({
      tool: true,
      parameters: { textSource: 'custom', text: 'BTC broke 70k, RSI 72.' },
      items: [{ json: { message: 'BTC broke 70k, RSI 72.' } }],
    });
    expect(output[0]!.json.body).toBe('BTC broke 70k, RSI 72.');
    expect(posts()).toHaveLength(1);
  });

  it("refuses to auto-format the model's arguments into a message, and sends nothing", async () => {
    const error = await runError({ tool: true, items: [{ json: { to: TO } }] });
    expect(error).toBeInstanceOf(NodeOperationError);
    expect(error.message).toMatch(/As an AI tool the node has no input item to format/);
    expect(error.description).toMatch(/Custom Text/);
    const summary = await runError({
      tool: true,
      items: [{ json: {} }],
      parameters: { messageType: 'template', contentSid: CONTENT_SID, summaryVariable: 1 },
    });
    expect(summary.message).toMatch(/no input item to format/);
    expect(posts()).toHaveLength(0);
  });
});

describe("the server's Twilio stub", () => {
  it('accepts what the node sends', async () => {
    const server = await startTwilioStub();
    try {
      const { output } = await run({
        credentials: { accountSid: server.accountSid, authToken: server.authToken, baseUrl: server.url },
        items: [{ json: fixture('alert-webhook-price') }],
      });
      const [message] = server.sentTo(TO);
      expect(message!.from).toBe(`whatsapp:${FROM}`);
      expect(message!.body).toMatch(/^\*Crypto alert\*\nBTC\/USDT 1h close 70,250\.50 > 70,000/);
      expect(output[0]!.json.sid).toBe(message!.sid);
    } finally {
      await server.close();
    }
  });
});
