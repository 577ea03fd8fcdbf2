/**
 * A v2 SDK MCP client for a test server, optionally with a bearer API key, and a helper that calls a
 * tool and returns its result in one line.
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

export interface TestClient {
  call(name: string, args: Record<string, unknown>): Promise<ToolResult>;
  close(): Promise<void>;
}

export interface ToolResult {
  isError: boolean;
  text: string;
  structured: Record<string, unknown> | undefined;
}

export async function connectClient(url: string, apiKey?: string): Promise<TestClient> {
  const client = new Client({ name: 'crypto-mcp-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    ...(apiKey && { requestInit: { headers: { Authorization: `Bearer ${apiKey}` } } }),
  });
  await client.connect(transport);
  return {
    async call(name, args) {
      const res = await client.callTool({ name, arguments: args });
      const content = (res.content ?? []) as { type: string; text?: string }[];
      return {
        isError: res.isError === true,
        text: content.map((c) => c.text ?? '').join('\n'),
        structured: res.structuredContent as Record<string, unknown> | undefined,
      };
    },
    close: () => client.close(),
  };
}
