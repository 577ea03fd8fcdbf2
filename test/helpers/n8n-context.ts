/**
 * A stand-in for the `this` n8n passes to execute()/poll(): parameters per item, credentials, static
 * data, continueOnFail, and httpRequestWithAuthentication over real HTTP (fetch) with the credential's
 * own `authenticate` applied, so node tests talk to a local HTTP stub. n8n's NodeTestHarness is not
 * published; the real n8n is exercised by test/n8n-e2e.test.ts.
 *
 * Request semantics follow n8n-core 2.41's httpRequest: `qs` becomes the query string, a JSON body
 * unless the body is URLSearchParams (form) or a string (sent as is, as axios does), no body for GET or
 * an empty object, `returnFullResponse` gives {statusCode, headers, body}, and a non-2xx status throws
 * unless `ignoreHttpStatusErrors`. httpRequestWithAuthentication throws every failure as n8n-core does:
 * a NodeApiError (no item index) whose `cause` is the request error. runCredentialTest is the Test
 * button (n8n's CredentialsTester), checked against the real n8n.
 */
import type {
  ICredentialDataDecryptedObject,
  ICredentialType,
  IDataObject,
  IHttpRequestOptions,
  INode,
  INodeExecutionData,
  JsonObject,
} from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';

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
  /**
   * Run as the node's AI-tool twin (`<name>Tool`): isToolExecution() is true and the one input item is
   * the model's $fromAI arguments, as n8n-core's makeHandleToolInvocation passes them.
   */
  tool?: boolean;
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
  const method = options.method ?? 'GET';
  const emptyObject =
    typeof options.body === 'object' &&
    options.body !== null &&
    !(options.body instanceof URLSearchParams) &&
    Object.keys(options.body).length === 0;
  if (method === 'GET' || method === 'HEAD' || emptyObject || options.body === '') {
    // n8n-core sends no body for GET, nor an empty object or string (axios gets no data).
  } else if (options.body instanceof URLSearchParams) {
    body = options.body.toString();
    headers['content-type'] ??= 'application/x-www-form-urlencoded';
  } else if (typeof options.body === 'string') {
    // A pre-encoded body (e.g. a form the node encoded itself) goes out as is, as axios sends a string.
    body = options.body;
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  requests.push({ method, url: url.toString(), headers, body: body ?? '' });
  let response: Response;
  try {
    response = await fetch(url, { method, headers, body });
  } catch (error) {
    // As axios reports it: the system error code (ECONNREFUSED, ENOTFOUND, ...) on the error itself.
    const code = ((error as Error).cause as { code?: unknown } | undefined)?.code;
    if (typeof code === 'string') Object.assign(error as Error, { code });
    throw error;
  }
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
      response: { status: number; statusText: string; data: unknown; body: unknown };
    };
    error.httpCode = String(response.status);
    error.response = { status: response.status, statusText: response.statusText, data: parsed, body: parsed };
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
    isToolExecution: () => options.tool ?? false,
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
      // n8n-core wraps every failure (no connection, or a status error without ignoreHttpStatusErrors)
      // in a NodeApiError without an item index; a node that rethrows it gets that same object back
      // from `new NodeApiError(...)`.
      httpRequestWithAuthentication: async (type: string, req: IHttpRequestOptions) => {
        const { data, type: credentialType } = credentialsFor(type);
        try {
          return await httpRequest(await authenticate(credentialType, data, req), requests);
        } catch (error) {
          const failure = new NodeApiError(node as INode, error as JsonObject);
          // n8n-workflow 2.41 keeps the request error as `cause` (the credential tester reads its
          // response); the 2.11 build the tests import declares the field and so drops it.
          if (failure.cause === undefined && error instanceof Error) {
            Object.defineProperty(failure, 'cause', { value: error, configurable: true, writable: true });
          }
          throw failure;
        }
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

export interface CredentialTestResult {
  status: 'OK' | 'Error';
  message: string;
  requests: RecordedRequest[];
}

/**
 * A credential's Test button, as n8n's CredentialsTester runs a `test.request`: the request's
 * expressions resolved with $credentials, merged into `{ qs: {}, body: {}, headers: {} }`, sent through
 * httpRequestWithAuthentication (so `authenticate` applies) without ignoreHttpStatusErrors; a failure
 * is reported by the first `responseCode` rule for its status, else by the status text.
 */
export async function runCredentialTest(
  type: ICredentialType,
  data: ICredentialDataDecryptedObject,
): Promise<CredentialTestResult> {
  const ctx = fakeContext({ parameters: {}, credentials: { [type.name]: { data, type } } });
  const test = type.test;
  if (!test)
    return { status: 'Error', message: 'No testing function found for this credential.', requests: [] };
  const request = resolveDeep(test.request, data) as IHttpRequestOptions;
  const options: IHttpRequestOptions = {
    ...request,
    qs: { ...(request.qs ?? {}) },
    body: request.body ?? {},
    headers: { ...(request.headers ?? {}) },
    returnFullResponse: true,
  };
  const helpers = (
    ctx.context as {
      helpers: { httpRequestWithAuthentication: (t: string, o: IHttpRequestOptions) => Promise<unknown> };
    }
  ).helpers;
  let response: { body?: unknown };
  try {
    response = (await helpers.httpRequestWithAuthentication(type.name, options)) as { body?: unknown };
  } catch (error) {
    const cause = (error as { cause?: { response?: { status: number; statusText?: string }; code?: string } })
      .cause;
    if (cause?.response) {
      const { status, statusText } = cause.response;
      for (const rule of test.rules ?? []) {
        if (rule.type === 'responseCode' && rule.properties.value === status) {
          return { status: 'Error', message: rule.properties.message, requests: ctx.requests };
        }
      }
      return {
        status: 'Error',
        message: statusText || `Received HTTP status code: ${status}`,
        requests: ctx.requests,
      };
    }
    if (cause?.code) return { status: 'Error', message: cause.code, requests: ctx.requests };
    return { status: 'Error', message: (error as Error).message, requests: ctx.requests };
  }
  for (const rule of test.rules ?? []) {
    if (rule.type !== 'responseSuccessBody') continue;
    const value = rule.properties.key
      .split('.')
      .reduce<unknown>((o, k) => (o as IDataObject | undefined)?.[k], response.body);
    if (value === rule.properties.value) {
      return { status: 'Error', message: rule.properties.message, requests: ctx.requests };
    }
  }
  return { status: 'OK', message: 'Connection successful!', requests: ctx.requests };
}
