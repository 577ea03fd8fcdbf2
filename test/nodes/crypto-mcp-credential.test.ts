/**
 * The Crypto MCP API credential: its fields, the bearer header it adds, and its test request, which
 * must reach GET /api/v1/tools with the key (the one REST route that needs auth and has no effects).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ICredentialDataDecryptedObject, IHttpRequestOptions } from 'n8n-workflow';
import { CryptoMcpApi } from '../../credentials/CryptoMcpApi.credentials';
import { fakeContext, resolveDeep, runCredentialTest as testButton } from '../helpers/n8n-context';
import { startRestStub, type RestStub } from '../helpers/rest-stub';
import { loadConfig } from '../../mcp-server/src/config';

const API_KEY = 'cred-key-0123456789abcdef';
const credential = new CryptoMcpApi();

let stub: RestStub;
beforeAll(async () => {
  stub = await startRestStub({ apiKeys: [API_KEY] });
});
afterAll(async () => {
  await stub.close();
});

/** Run the credential's test request the way n8n does: resolve it, authenticate it, send it. */
async function runCredentialTest(data: ICredentialDataDecryptedObject) {
  const request = resolveDeep(credential.test.request, data) as IHttpRequestOptions;
  const ctx = fakeContext({
    parameters: {},
    credentials: { cryptoMcpApi: { data, type: credential } },
  });
  const helpers = (
    ctx.context as {
      helpers: {
        httpRequestWithAuthentication: (type: string, options: IHttpRequestOptions) => Promise<unknown>;
      };
    }
  ).helpers;
  const response = (await helpers.httpRequestWithAuthentication('cryptoMcpApi', {
    ...request,
    returnFullResponse: true,
    ignoreHttpStatusErrors: true,
  })) as { statusCode: number; body: unknown };
  return { response, sent: ctx.requests[0]!, received: stub.requests[stub.requests.length - 1]! };
}

describe('Crypto MCP API credential', () => {
  it('is named for the nodes and documented', () => {
    expect(credential.name).toBe('cryptoMcpApi');
    expect(credential.displayName).toBe('Crypto MCP API');
    expect(credential.documentationUrl).toMatch(/^https:\/\//);
  });

  it("defaults to the server's own default port and keeps the key secret", () => {
    const baseUrl = credential.properties.find((p) => p.name === 'baseUrl')!;
    const apiKey = credential.properties.find((p) => p.name === 'apiKey')!;
    const { MCP_PORT } = loadConfig({});
    expect(baseUrl.default).toBe(`http://localhost:${MCP_PORT}`);
    expect(baseUrl.required).toBe(true);
    expect(apiKey.typeOptions?.password).toBe(true);
  });

  it('adds the bearer header and keeps the other headers', async () => {
    const options = await credential.authenticate(
      { baseUrl: 'http://x', apiKey: ` ${API_KEY} ` },
      { url: '/api/v1/tools', headers: { Accept: 'application/json' } },
    );
    expect(options.headers).toStrictEqual({ Accept: 'application/json', Authorization: `Bearer ${API_KEY}` });
  });

  it('sends no Authorization header without a key (a loopback server without keys)', async () => {
    const options = await credential.authenticate(
      { baseUrl: 'http://x', apiKey: '' },
      { url: '/api/v1/tools' },
    );
    expect(options.headers?.Authorization).toBeUndefined();
  });

  it('tests the key with GET /api/v1/tools', async () => {
    const { response, sent, received } = await runCredentialTest({
      baseUrl: `${stub.baseUrl}/`,
      apiKey: API_KEY,
    });
    expect(sent.method).toBe('GET');
    expect(sent.url).toBe(`${stub.baseUrl}/api/v1/tools`);
    expect(received.path).toBe('/api/v1/tools');
    expect(received.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(response.statusCode).toBe(200);
    expect((response.body as { tools: unknown[] }).tools).toHaveLength(7);
  });

  it('fails the test with a wrong key', async () => {
    const { response, received } = await runCredentialTest({
      baseUrl: stub.baseUrl,
      apiKey: 'not-the-key-0123456',
    });
    expect(received.headers.authorization).toBe('Bearer not-the-key-0123456');
    expect(response.statusCode).toBe(401);
  });

  it('says what to fix when the Test button fails, as n8n runs it', async () => {
    expect(await testButton(credential, { baseUrl: stub.baseUrl, apiKey: API_KEY })).toMatchObject({
      status: 'OK',
    });
    const wrongKey = await testButton(credential, {
      baseUrl: stub.baseUrl,
      apiKey: 'nope-0123456789',
    });
    expect(wrongKey.status).toBe('Error');
    expect(wrongKey.message).toMatch(/^The server rejected the API key/);
    const withPrefix = await testButton(credential, {
      baseUrl: `${stub.baseUrl}/api/v1`,
      apiKey: API_KEY,
    });
    expect(withPrefix.message).toMatch(/without \/api\/v1/);
  });
});
