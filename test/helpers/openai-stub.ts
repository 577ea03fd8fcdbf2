/**
 * A scripted stand-in for an OpenAI-compatible chat model (`POST /v1/chat/completions`), the one part of
 * the AI Agent workflow that cannot run here. It plays a fixed, honest script: on the first turn it calls
 * the Crypto Analysis tool and the MCP server's `analyze_crypto` for the symbol in the question; on the
 * next turn it answers with what those tools returned (action, data source, last candle), quoting only
 * values found in the tool messages. Every request is recorded so the test can see the tools n8n offered.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChatRequest {
  model: string;
  stream?: boolean;
  messages: { role: string; content: unknown; tool_calls?: unknown[]; tool_call_id?: string }[];
  tools?: { type: string; function: { name: string; description?: string; parameters?: unknown } }[];
}

export interface OpenAiStub {
  /** Base URL to put in the OpenAI credential (ends in /v1). */
  url: string;
  requests: ChatRequest[];
  close(): Promise<void>;
}

const text = (content: unknown): string =>
  typeof content === 'string'
    ? content
    : Array.isArray(content)
      ? content.map((c) => (c as { text?: string }).text ?? '').join('')
      : '';

function completion(
  model: string,
  message: Record<string, unknown>,
  finish: string,
): Record<string, unknown> {
  return {
    id: `chatcmpl-${Date.now()}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finish }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  };
}

/** The script: tool calls on the first turn, an answer built from the tool results on the second. */
function reply(req: ChatRequest): Record<string, unknown> {
  const question = text(req.messages.find((m) => m.role === 'user')?.content);
  const toolMessages = req.messages.filter((m) => m.role === 'tool').map((m) => text(m.content));
  if (toolMessages.length === 0) {
    const symbol = /\b([A-Z]{2,10})(?:\/?USDT)?\b/.exec(question.replace(/\bUSDT\b/, ''))?.[1] ?? 'BTC';
    const tools = req.tools?.map((t) => t.function.name) ?? [];
    const calls = [];
    const node = tools.find((n) => /crypto_analysis/i.test(n));
    const mcp = tools.find((n) => /analyze_crypto/.test(n));
    if (node) calls.push({ name: node, args: { symbol: `${symbol}USDT`, timeframe: '4h' } });
    if (mcp) calls.push({ name: mcp, args: { symbol: `${symbol}USDT`, timeframe: '4h' } });
    return completion(
      req.model,
      {
        content: null,
        tool_calls: calls.map((c, i) => ({
          id: `call_${i + 1}`,
          type: 'function',
          function: { name: c.name, arguments: JSON.stringify(c.args) },
        })),
      },
      'tool_calls',
    );
  }
  // Quote what the tools said; never make up a value.
  const all = toolMessages.join('\n');
  const action = /"action":\s*"(BUY|SELL|HOLD)"/.exec(all)?.[1] ?? 'unknown';
  const source = /"data_source":\s*"(\w+)"/.exec(all)?.[1] ?? 'unknown';
  const asOf = /"as_of":\s*"([^"]+)"/.exec(all)?.[1] ?? 'unknown';
  return completion(
    req.model,
    {
      content: `The analysis says ${action} (tools answered: ${toolMessages.length}; data: ${source}, last candle ${asOf}). Not financial advice.`,
    },
    'stop',
  );
}

export async function startOpenAiStub(): Promise<OpenAiStub> {
  const requests: ChatRequest[] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
        return;
      }
      const body = JSON.parse(raw) as ChatRequest;
      requests.push(body);
      const answer = reply(body);
      if (!body.stream) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
        return;
      }
      // Streaming clients get the same answer as one chunk, then [DONE].
      const choice = (answer.choices as { message: Record<string, unknown>; finish_reason: string }[])[0]!;
      const delta = {
        ...choice.message,
        ...(choice.message.tool_calls
          ? {
              tool_calls: (choice.message.tool_calls as Record<string, unknown>[]).map((c, index) => ({
                index,
                ...c,
              })),
            }
          : {}),
      };
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = {
        ...answer,
        object: 'chat.completion.chunk',
        choices: [{ index: 0, delta, finish_reason: choice.finish_reason }],
      };
      res.end(`data: ${JSON.stringify(chunk)}\n\ndata: [DONE]\n\n`);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
