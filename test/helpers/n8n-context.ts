/**
 * A stand-in for the `this` n8n passes to execute()/poll(): parameters per item, credentials, static
 * data, continueOnFail, and httpRequestWithAuthentication over real HTTP (fetch) with the credential's
 * own `authenticate` applied, so node tests talk to a local HTTP stub. n8n's NodeTestHarness is not
 * published; the real n8n is exercised by test/n8n-e2e.test.ts.
 *
 * Request semantics follow n8n's httpRequest: `qs` becomes the query string, a JSON body unless the
 * body is URLSearchParams (form) or a string (sent as is, as axios does), `returnFullResponse` gives
 * {statusCode, headers, body}, and a non-2xx status throws unless `ignoreHttpStatusErrors`.
 */
import type {
  ICredentialDataDecryptedObject,
  ICredentialType,
  IDataObject,
  IHttpRequestOptions,
  INodeExecutionData,
} from 'n8n-workflow';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface FakeContextOptions {
  /** Node parameters: a plain value for every item, or a function of the item index. */
  parameters: Record<string, unknown | ((itemIndex: number) => unknown)>;
  /** Credential data by credential type name, and the credential classes that authenticate them. */
  credentials?: Record<string, { data: ICredentialDataDecryptedObject; type: ICredentialType }>;
  items?: INodeExecutionData[];
  continueOnFail?: boolean;
  staticData?: IDataObject;
  mode?: 'manual' | 'trigger' | 'internal';
  nodeName?: string;
  /**
   * A poll context (IPollFunctions): getNodeParameter(name, fallback) has no item index there. Default
   * false: IExecuteFunctions' getNodeParameter(name, itemIndex, fallback).
   */
  poll?: boolean;
}

export interface FakeContext {
  /** Cast to IExecuteFunctions / IPollFunctions at the call site. */
  context: unknown;
  requests: RecordedRequest[];
  staticData: IDataObject;
}

/** Resolve `={{ ... }}` / `=text {{ ... }}` credential expressions with $credentials in scope (tests only). */
function resolveExpression(value: unknown, credentials: ICredentialDataDecryptedObject): unknown {
  if (typeof value !== 'string' || !value.startsWith('=')) return value;
  const template = value.slice(1);
  const evaluate = (expr: string): unknown => new Function('$credentials', `return (${expr});`)(credentials);
  const whole = /^\{\{([\s\S]*)\}\}$/.exec(template.trim());
  if (whole) return evaluate(whole[1]!);
  return template.replace(/\{\{([\s\S]*?)\}\}/g, (_m, expr: string) => String(evaluate(expr)));
}

/** Resolve credential expressions anywhere in `value` (e.g. a credential's `test.request`). */
export function resolveDeep(value: unknown, credentials: ICredentialDataDecryptedObject): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveDeep(v, credentials));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveDeep(v, credentials)]));
  }
  return resolveExpression(value, credentials);
}

async function authenticate(
  type: ICredentialType,
  data: ICredentialDataDecryptedObject,
  options: IHttpRequestOptions,
): Promise<IHttpRequestOptions> {
  const auth = type.authenticate;
  if (!auth) return options;
  if (typeof auth === 'function') return auth(data, options);
  const props = resolveDeep(auth.properties, data) as IDataObject;
  return {
    ...options,
    headers: { ...(options.headers ?? {}), ...((props.headers as IDataObject) ?? {}) },
    qs: { ...(options.qs ?? {}), ...((props.qs as IDataObject) ?? {}) },
    ...(props.auth ? { auth: props.auth as IHttpRequestOptions['auth'] } : {}),
  };
}

export async function httpRequest(
  options: IHttpRequestOptions,
  requests: RecordedRequest[],
): Promise<unknown> {
  const base = options.baseURL ? options.baseURL.replace(/\/$/, '') : '';
  const url = new URL(base + options.url);
  for (const [k, v] of Object.entries(options.qs ?? {})) {
    if (v !== undefined && v !== null) url.searchParams.set(k, String(v));
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.headers ?? {})) headers[k.toLowerCase()] = String(v);
  if (options.auth) {
    const basic = Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64');
    headers.authorization = `Basic ${basic}`;
  }
  let body: string | undefined;
  if (options.body instanceof URLSearchParams) {
    body = options.body.toString();
    headers['content-type'] ??= 'application/x-www-form-urlencoded';
  } else if (typeof options.body === 'string') {
    // A pre-encoded body (e.g. a form the node encoded itself) goes out as is, as axios sends a string.
    body = options.body;
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const method = options.method ?? 'GET';
  requests.push({ method, url: url.toString(), headers, body: body ?? '' });
  const response = await fetch(url, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : '';
  } catch {
    parsed = text;
  }
  if (!response.ok && !options.ignoreHttpStatusErrors) {
    const error = new Error(`Request failed with status code ${response.status}`) as Error & {
      httpCode: string;
      response: { status: number; body: unknown };
    };
    error.httpCode = String(response.status);
    error.response = { status: response.status, body: parsed };
    throw error;
  }
  if (options.returnFullResponse) {
    return {
      statusCode: response.status,
      statusMessage: response.statusText,
      headers: Object.fromEntries(response.headers.entries()),
      body: parsed,
    };
  }
  return parsed;
}

export function fakeContext(options: FakeContextOptions): FakeContext {
  const requests: RecordedRequest[] = [];
  const staticData = options.staticData ?? {};
  const items = options.items ?? [{ json: {} }];
  const node = {
    id: 'test-node',
    name: options.nodeName ?? 'Node',
    type: 'test',
    typeVersion: 1,
    position: [0, 0],
    parameters: {},
  };
  const parameter = (name: string, itemIndex: number, fallback?: unknown): unknown => {
    // Dotted names read nested collections, as n8n's getNodeParameter does.
    const [head, ...rest] = name.split('.');
    let value: unknown = options.parameters[head!];
    if (typeof value === 'function') value = (value as (i: number) => unknown)(itemIndex);
    for (const key of rest) value = (value as IDataObject | undefined)?.[key];
    if (value === undefined) {
      if (fallback !== undefined) return fallback;
      throw new Error(`Could not get parameter "${name}"`);
    }
    return value;
  };
  const credentialsFor = (type: string) => {
    const entry = options.credentials?.[type];
    if (!entry) throw new Error(`Node does not have any credentials set for "${type}"`);
    return entry;
  };
  const context = {
    getInputData: () => items,
    getNodeParameter: options.poll
      ? (name: string, fallback?: unknown) => parameter(name, 0, fallback)
      : parameter,
    getNode: () => node,
    getMode: () => options.mode ?? 'manual',
    continueOnFail: () => options.continueOnFail ?? false,
    getCredentials: async (type: string) => credentialsFor(type).data,
    getWorkflowStaticData: () => staticData,
    getTimezone: () => 'UTC',
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    helpers: {
      httpRequest: (req: IHttpRequestOptions) => httpRequest(req, requests),
      httpRequestWithAuthentication: async (type: string, req: IHttpRequestOptions) => {
        const { data, type: credentialType } = credentialsFor(type);
        return httpRequest(await authenticate(credentialType, data, req), requests);
      },
      returnJsonArray: (data: IDataObject | IDataObject[]) =>
        (Array.isArray(data) ? data : [data]).map((json) => ({ json })),
      constructExecutionMetaData: (
        data: INodeExecutionData[],
        meta: { itemData: { item: number } | { item: number }[] },
      ) => data.map((d) => ({ ...d, pairedItem: meta.itemData })),
    },
  };
  return { context, requests, staticData };
}
