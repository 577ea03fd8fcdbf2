import type {
  ICredentialDataDecryptedObject,
  ICredentialTestRequest,
  ICredentialType,
  IHttpRequestOptions,
  Icon,
  INodeProperties,
} from 'n8n-workflow';

/**
 * The Crypto MCP server's REST API: its base URL and one of its API keys (MCP_API_KEYS), sent as
 * `Authorization: Bearer <key>`. A server on loopback without keys needs none.
 */
export class CryptoMcpApi implements ICredentialType {
  name = 'cryptoMcpApi';

  displayName = 'Crypto MCP API';

  icon: Icon = {
    light: 'file:../nodes/CryptoAnalysis/cryptoAnalysis.svg',
    dark: 'file:../nodes/CryptoAnalysis/cryptoAnalysis.dark.svg',
  };

  documentationUrl = 'https://github.com/crypto-intel/n8n-nodes-crypto-intel#crypto-mcp-api-credential';

  properties: INodeProperties[] = [
    {
      displayName: 'Server URL',
      name: 'baseUrl',
      type: 'string',
      default: 'http://localhost:8080',
      placeholder: 'e.g. https://crypto-mcp.example.com',
      required: true,
      description:
        'Base URL of the Crypto MCP server (its HTTP port, 8080 by default, or the public URL behind your proxy), without /api/v1',
    },
    {
      displayName: 'API Key',
      name: 'apiKey',
      type: 'string',
      typeOptions: { password: true },
      default: '',
      description:
        "One of the server's MCP_API_KEYS, sent as a bearer token. Leave empty only for a server on localhost without keys.",
    },
  ];

  async authenticate(
    credentials: ICredentialDataDecryptedObject,
    requestOptions: IHttpRequestOptions,
  ): Promise<IHttpRequestOptions> {
    const apiKey = typeof credentials.apiKey === 'string' ? credentials.apiKey.trim() : '';
    if (apiKey === '') return requestOptions;
    return {
      ...requestOptions,
      headers: { ...(requestOptions.headers ?? {}), Authorization: `Bearer ${apiKey}` },
    };
  }

  test: ICredentialTestRequest = {
    request: {
      baseURL: '={{$credentials.baseUrl.trim().replace(/\\/+$/, "")}}',
      url: '/api/v1/tools',
      method: 'GET',
    },
    rules: [
      {
        type: 'responseCode',
        properties: {
          value: 401,
          message: "The server rejected the API key: use one of the server's MCP_API_KEYS",
        },
      },
      {
        type: 'responseCode',
        properties: {
          value: 403,
          message:
            'The server refused the request: behind a proxy it needs MCP_API_KEYS set and one of them here',
        },
      },
      {
        type: 'responseCode',
        properties: {
          value: 404,
          message:
            "No Crypto MCP REST API at this Server URL: give the server's address without /api/v1, e.g. http://localhost:8080",
        },
      },
    ],
  };
}
