/**
 * The one way the Crypto MCP nodes talk to the server's REST API: the `cryptoMcpApi` credential
 * (server URL + bearer key), JSON in and out, and every failure turned into a NodeApiError that shows
 * the server's own `{ error, message }` answer and HTTP status.
 */
import type {
  IDataObject,
  IExecuteFunctions,
  IHttpRequestMethods,
  IHttpRequestOptions,
  ILoadOptionsFunctions,
  IN8nHttpFullResponse,
  IPollFunctions,
  JsonObject,
} from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

export const CRYPTO_MCP_CREDENTIAL = 'cryptoMcpApi';

export type CryptoMcpContext = IExecuteFunctions | IPollFunctions | ILoadOptionsFunctions;

/** The MCP tools the REST API exposes at `POST /api/v1/tools/{name}`. */
export type CryptoMcpTool =
  | 'analyze_crypto'
  | 'market_scanner'
  | 'detect_opportunities'
  | 'monitor_portfolio'
  | 'risk_assessment'
  | 'alert_manager'
  | 'historical_backtest';

const HINTS: Record<number, string> = {
  400: 'Check the node parameters named in the message',
  401: "Check the API key in the Crypto MCP API credential: it must be one of the server's MCP_API_KEYS",
  403: "The server refused this request; check the API key and the server's allowed hosts",
  404: 'Check the symbol, alert ID or run ID, and that the server URL points at the Crypto MCP server',
  429: "The server's rate limit was reached; poll less often or enable Retry On Fail in the node settings",
  500: 'The server failed unexpectedly and logged the error; try again',
  503: "The exchange or the server's store is unavailable right now; enable Retry On Fail or try again later",
};

function serverBaseUrl(this: CryptoMcpContext, value: unknown, itemIndex?: number): string {
  const baseUrl = String(value ?? '')
    .trim()
    .replace(/\/+$/, '');
  if (!/^https?:\/\/[^/\s]+/i.test(baseUrl)) {
    throw new NodeOperationError(
      this.getNode(),
      `The Server URL of the Crypto MCP API credential is not an http(s) URL: "${baseUrl}"`,
      {
        itemIndex,
        description: 'Set it to the address of the Crypto MCP server, e.g. http://localhost:8080',
      },
    );
  }
  return baseUrl;
}

function parseBody(body: unknown): unknown {
  if (typeof body !== 'string') return body;
  if (body.trim() === '') return undefined;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body;
  }
}

function isObject(value: unknown): value is IDataObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A NodeApiError whose message is exactly `message` (n8n would otherwise swap in a generic text). */
function apiError(
  this: CryptoMcpContext,
  response: JsonObject,
  message: string,
  description: string,
  httpCode: string | undefined,
  itemIndex: number | undefined,
): NodeApiError {
  const error = new NodeApiError(this.getNode(), response, { message, description, httpCode, itemIndex });
  // n8n may hand us a NodeApiError already, which the constructor returns as it is: set everything.
  error.message = message;
  error.description = description;
  if (itemIndex !== undefined) error.context.itemIndex = itemIndex;
  // The server's machine-readable code (INVALID_ARGUMENT, NOT_FOUND, RATE_LIMITED, ...), for error items.
  if (typeof response.error === 'string') error.context.errorCode = response.error;
  return error;
}

/**
 * Call the server: `method path` relative to the credential's server URL, an optional JSON body.
 * Resolves with the JSON object the server answered (2xx); rejects with a NodeApiError carrying the
 * server's message, its error code and the HTTP status otherwise.
 */
export async function cryptoMcpRequest(
  this: CryptoMcpContext,
  method: IHttpRequestMethods,
  path: string,
  body?: IDataObject,
  itemIndex?: number,
): Promise<IDataObject> {
  const credentials = await this.getCredentials(CRYPTO_MCP_CREDENTIAL);
  const baseUrl = serverBaseUrl.call(this, credentials.baseUrl, itemIndex);
  const options: IHttpRequestOptions = {
    method,
    url: `${baseUrl}${path}`,
    headers: { Accept: 'application/json' },
    json: true,
    returnFullResponse: true,
    ignoreHttpStatusErrors: true,
  };
  if (body !== undefined) options.body = body;

  let response: IN8nHttpFullResponse;
  try {
    response = (await this.helpers.httpRequestWithAuthentication.call(
      this,
      CRYPTO_MCP_CREDENTIAL,
      options,
    )) as IN8nHttpFullResponse;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw apiError.call(
      this,
      error as JsonObject,
      `Could not reach the Crypto MCP server at ${baseUrl}: ${reason}`,
      'Check the Server URL in the Crypto MCP API credential and that the server is running (GET /health answers).',
      undefined,
      itemIndex,
    );
  }

  const status = Number(response.statusCode);
  const data = parseBody(response.body);
  if (status >= 200 && status < 300) {
    if (isObject(data)) return data;
    throw apiError.call(
      this,
      { body: typeof data === 'string' ? data.slice(0, 500) : null },
      `The Crypto MCP server answered ${method} ${path} without a JSON object`,
      'Check that the Server URL points at the Crypto MCP server and not at another service or proxy page.',
      String(status),
      itemIndex,
    );
  }

  const code = isObject(data) && typeof data.error === 'string' ? data.error : undefined;
  const serverMessage =
    isObject(data) && typeof data.message === 'string' && data.message.trim() !== ''
      ? data.message
      : undefined;
  const message =
    serverMessage ??
    (status === 401
      ? 'The Crypto MCP server rejected the API key'
      : `The Crypto MCP server answered HTTP ${status} without an error message`);
  const retryAfter = response.headers?.['retry-after'];
  const details = [
    code ? `${code} (HTTP ${status})` : `HTTP ${status}`,
    status === 429 && retryAfter !== undefined ? `retry after ${String(retryAfter)} s` : undefined,
    HINTS[status] ?? (status >= 500 ? HINTS[500] : HINTS[400]),
  ]
    .filter((part) => part !== undefined)
    .join('. ')
    .concat('.');
  throw apiError.call(
    this,
    isObject(data) ? (data as JsonObject) : { body: typeof data === 'string' ? data.slice(0, 500) : null },
    message,
    details,
    String(status),
    itemIndex,
  );
}

/** `POST /api/v1/tools/{tool}` with the tool's arguments; the tool's structured result. */
export async function callCryptoMcpTool(
  this: CryptoMcpContext,
  tool: CryptoMcpTool,
  args: IDataObject,
  itemIndex?: number,
): Promise<IDataObject> {
  return await cryptoMcpRequest.call(this, 'POST', `/api/v1/tools/${tool}`, args, itemIndex);
}
