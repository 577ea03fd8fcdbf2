/**
 * The Twilio WhatsApp API credential: its fields, Basic auth with the Account SID + Auth Token or the
 * API Key SID + Secret, and its test request (one page of messages), run the way n8n runs it (the
 * request's expressions resolved with $credentials, then `authenticate` applied) against the local
 * Twilio stub the server's tests share (mcp-server/test/helpers/twilio-stub.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ICredentialDataDecryptedObject, IHttpRequestOptions, INodeProperties } from 'n8n-workflow';
import { TwilioWhatsAppApi } from '../../credentials/TwilioWhatsAppApi.credentials';
import { fakeContext, resolveDeep, runCredentialTest } from '../helpers/n8n-context';
import { startTwilioStub, type TwilioStub } from '../../mcp-server/test/helpers/twilio-stub';

const credential = new TwilioWhatsAppApi();
let stub: TwilioStub;

beforeAll(async () => {
  stub = await startTwilioStub();
});
afterAll(async () => {
  await stub.close();
});

/** `={{ ... }}` and `=text {{ ... }}` with $credentials in scope, as n8n resolves credential expressions. */
function resolve(value: unknown, credentials: ICredentialDataDecryptedObject): unknown {
  if (typeof value !== 'string' || !value.startsWith('=')) return value;
  return value
    .slice(1)
    .replace(/\{\{([\s\S]*?)\}\}/g, (_m, expr: string) =>
      String(new Function('$credentials', `return (${expr});`)(credentials)),
    );
}

/** Runs the credential's test request through httpRequestWithAuthentication (authenticate applied). */
async function testCredential(data: ICredentialDataDecryptedObject) {
  const ctx = fakeContext({
    parameters: {},
    credentials: { twilioWhatsAppApi: { data, type: credential } },
  });
  const request = credential.test.request as IHttpRequestOptions;
  const options: IHttpRequestOptions = {
    ...request,
    baseURL: resolve(request.baseURL, data) as string,
    url: resolve(request.url, data) as string,
    returnFullResponse: true,
    ignoreHttpStatusErrors: true,
  };
  const helpers = (
    ctx.context as {
      helpers: { httpRequestWithAuthentication: (type: string, o: IHttpRequestOptions) => Promise<unknown> };
    }
  ).helpers;
  const response = (await helpers.httpRequestWithAuthentication('twilioWhatsAppApi', options)) as {
    statusCode: number;
    body: { code?: number };
  };
  return { response, requests: ctx.requests };
}

const base = (): ICredentialDataDecryptedObject => ({
  accountSid: stub.accountSid,
  authType: 'authToken',
  authToken: stub.authToken,
  apiKeySid: '',
  apiKeySecret: '',
  whatsappFrom: '+14155238886',
  messagingServiceSid: '',
  baseUrl: stub.url,
});

describe('fields', () => {
  const byName = Object.fromEntries(credential.properties.map((p) => [p.name, p])) as Record<
    string,
    INodeProperties
  >;

  it('is named twilioWhatsAppApi, documented and has light and dark icons', () => {
    expect(credential.name).toBe('twilioWhatsAppApi');
    expect(credential.displayName).toBe('Twilio WhatsApp API');
    expect(credential.documentationUrl).toMatch(/^https:\/\//);
    expect(credential.icon).toEqual({
      light: 'file:../nodes/WhatsAppAlert/whatsAppAlert.svg',
      dark: 'file:../nodes/WhatsAppAlert/whatsAppAlert.dark.svg',
    });
  });

  it('has the account, both auth types, the sender, a Messaging Service and the base URL', () => {
    expect(Object.keys(byName)).toEqual([
      'accountSid',
      'authType',
      'authToken',
      'apiKeySid',
      'apiKeySecret',
      'whatsappFrom',
      'messagingServiceSid',
      'baseUrl',
    ]);
    expect(byName.baseUrl!.default).toBe('https://api.twilio.com');
    expect(byName.authType!.default).toBe('authToken');
  });

  it('masks the secrets and shows each secret only for its auth type', () => {
    expect(byName.authToken!.typeOptions).toEqual({ password: true });
    expect(byName.apiKeySecret!.typeOptions).toEqual({ password: true });
    expect(byName.authToken!.displayOptions).toEqual({ show: { authType: ['authToken'] } });
    expect(byName.apiKeySid!.displayOptions).toEqual({ show: { authType: ['apiKey'] } });
    expect(byName.apiKeySecret!.displayOptions).toEqual({ show: { authType: ['apiKey'] } });
  });
});

describe('authentication and test request', () => {
  it('passes with the Auth Token, as Basic auth of Account SID and token', async () => {
    const { response } = await testCredential(base());
    expect(response.statusCode).toBe(200);
    const request = stub.requests.at(-1)!;
    expect(request.method).toBe('GET');
    expect(request.path).toBe(`/2010-04-01/Accounts/${stub.accountSid}/Messages.json`);
    expect(request.query).toEqual({ PageSize: '1' });
    expect(request.headers.authorization).toBe(
      'Basic ' + Buffer.from(`${stub.accountSid}:${stub.authToken}`).toString('base64'),
    );
  });

  it('passes with an API Key, as Basic auth of key SID and secret (the token is not sent)', async () => {
    const { response } = await testCredential({
      ...base(),
      authType: 'apiKey',
      apiKeySid: stub.apiKeySid,
      apiKeySecret: stub.apiKeySecret,
    });
    expect(response.statusCode).toBe(200);
    expect(stub.requests.at(-1)!.headers.authorization).toBe(
      'Basic ' + Buffer.from(`${stub.apiKeySid}:${stub.apiKeySecret}`).toString('base64'),
    );
  });

  it('fails with a wrong token or secret (Twilio 20003)', async () => {
    const wrongToken = await testCredential({ ...base(), authToken: 'not-the-token-0123456789' });
    expect(wrongToken.response.statusCode).toBe(401);
    expect(wrongToken.response.body.code).toBe(20003);
    const wrongSecret = await testCredential({
      ...base(),
      authType: 'apiKey',
      apiKeySid: stub.apiKeySid,
      apiKeySecret: 'not-the-secret-0123456789',
    });
    expect(wrongSecret.response.statusCode).toBe(401);
  });

  it('fails for an Account SID the key does not belong to', async () => {
    const other = 'AC' + '0'.repeat(32);
    const { response } = await testCredential({ ...base(), accountSid: other, authToken: stub.authToken });
    expect(response.statusCode).toBe(401);
  });

  it('says what to fix when the Test button fails, as n8n runs it', async () => {
    expect(await runCredentialTest(credential, base())).toMatchObject({ status: 'OK' });
    const wrong = await runCredentialTest(credential, { ...base(), authToken: 'not-the-token-0123456789' });
    expect(wrong.status).toBe('Error');
    expect(wrong.message).toMatch(/^Twilio rejected the credentials: check the Account SID/);
    const wrongBase = await runCredentialTest(credential, { ...base(), baseUrl: `${stub.url}/proxy` });
    expect(wrongBase.message).toMatch(/Base URL/);
  });

  it('reads the Base URL, SIDs and secrets the way the node does: trimmed, Twilio when empty', async () => {
    const padded = await runCredentialTest(credential, {
      ...base(),
      baseUrl: ` ${stub.url}/ `,
      accountSid: ` ${stub.accountSid} `,
      authToken: `${stub.authToken}\n`,
    });
    expect(padded).toMatchObject({ status: 'OK' });
    expect(padded.requests[0]!.url).toBe(
      `${stub.url}/2010-04-01/Accounts/${stub.accountSid}/Messages.json?PageSize=1`,
    );
    const key = await runCredentialTest(credential, {
      ...base(),
      authType: 'apiKey',
      apiKeySid: ` ${stub.apiKeySid}`,
      apiKeySecret: ` ${stub.apiKeySecret} `,
    });
    expect(key).toMatchObject({ status: 'OK' });
    const request = resolveDeep(credential.test.request, { ...base(), baseUrl: '' }) as IHttpRequestOptions;
    expect(request.baseURL).toBe('https://api.twilio.com');
  });

  it("passes against the server's Twilio stub too", async () => {
    const server = await startTwilioStub();
    try {
      const { response } = await testCredential({
        ...base(),
        accountSid: server.accountSid,
        authToken: server.authToken,
        baseUrl: server.url,
      });
      expect(response.statusCode).toBe(200);
      expect(server.requests.at(-1)!.path).toBe(`/2010-04-01/Accounts/${server.accountSid}/Messages.json`);
    } finally {
      await server.close();
    }
  });
});
