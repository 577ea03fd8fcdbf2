/**
 * Builds the MCP server surface (tools, the analysis resource template, the market-brief prompt) on
 * a fresh McpServer. The SDK calls the factory per HTTP request or per stdio connection, so it only
 * wires definitions to the shared, long-lived AppContext.
 */
import {
  McpServer,
  ProtocolError,
  ProtocolErrorCode,
  ResourceNotFoundError,
  ResourceTemplate,
  type CallToolResult,
} from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { AppContext } from '../services/context.js';
import { tools } from '../tools/index.js';
import type { ToolCall, ToolDefinition, ToolImage } from '../tools/tool.js';
import { isAppError } from '../errors.js';
import { log } from '../logger.js';
import { describeIssues, symbolSchema, timeframeSchema } from '../tools/schemas.js';
import { invokeTool, type InvocationError } from './tool-invocation.js';
import { analyzeCryptoInput, analyzeCryptoOutput } from '../tools/analyze-crypto.js';

const INSTRUCTIONS =
  'Crypto market intelligence from closed exchange candles. analyze_crypto: one symbol and timeframe in depth; ' +
  'market_scanner: setups across the market; detect_opportunities: the best trade ideas above a confidence; ' +
  'monitor_portfolio: stored positions valued with VaR, drawdown and correlation; risk_assessment: position size ' +
  'for one trade; historical_backtest: a strategy over history with out-of-sample checks and charts. Every ' +
  'answer carries data_source, as_of and data_age_ms: mention them when the data is old. Analysis, not ' +
  'financial advice.';

/** Who the server instance answers: the SDK builds one per HTTP request or stdio connection. */
export type Caller = Omit<ToolCall, 'signal'>;

export function buildMcpServer(ctx: AppContext, caller: Caller): McpServer {
  const server = new McpServer(
    {
      name: 'crypto-mcp-server',
      title: 'Crypto market intelligence',
      version: ctx.version,
      description:
        'Technical and smart-money analysis of crypto markets over ccxt exchanges or a bundled snapshot',
    },
    { instructions: INSTRUCTIONS, maxToolInputElements: 1000 },
  );
  for (const tool of tools) registerTool(server, tool, ctx, caller);
  registerAnalysisResource(server, ctx);
  registerMarketBriefPrompt(server);
  return server;
}

function registerTool(server: McpServer, tool: ToolDefinition, ctx: AppContext, caller: Caller): void {
  server.registerTool(
    tool.name,
    {
      title: tool.title,
      description: tool.description,
      inputSchema: tool.input,
      outputSchema: tool.output,
      annotations: tool.annotations,
    },
    async (args: unknown, extra): Promise<CallToolResult> => {
      // The SDK has validated the arguments; limits, output check and audit are shared with REST.
      const outcome = await invokeTool(
        ctx,
        tool,
        args,
        { ...caller, signal: extra?.mcpReq?.signal, progress: progressReporter(extra) },
        { validate: false, surface: 'mcp' },
      );
      return outcome.ok ? toolResult(tool, outcome.result, outcome.images) : toolError(outcome.error);
    },
  );
}

/** The answer as text for clients that ignore structured content, plus any images, plus the structure. */
function toolResult(
  tool: ToolDefinition,
  result: Record<string, unknown>,
  images: ToolImage[],
): CallToolResult {
  return {
    content: [
      { type: 'text', text: tool.summarize(result) },
      ...images.map((i) => ({ type: 'image' as const, data: i.data, mimeType: i.mimeType })),
    ],
    structuredContent: result,
  };
}

/** Failures become tool results the model can act on: `CODE: what to fix`. */
function toolError(error: InvocationError): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: `${error.code}: ${error.message}` }] };
}

type HandlerExtra = {
  mcpReq?: {
    _meta?: { progressToken?: string | number };
    notify?: (n: { method: string; params?: Record<string, unknown> }) => Promise<void>;
  };
};

/** A progress callback when the client sent a progressToken (MCP notifications/progress), else undefined. */
function progressReporter(extra: HandlerExtra | undefined): ToolCall['progress'] {
  const token = extra?.mcpReq?._meta?.progressToken;
  const notify = extra?.mcpReq?.notify;
  if (token === undefined || !notify) return undefined;
  return (progress, total, message) => {
    void notify({
      method: 'notifications/progress',
      params: { progressToken: token, progress, total, ...(message !== undefined && { message }) },
    }).catch((error: unknown) => log.debug('progress notification lost', { error }));
  };
}

function registerAnalysisResource(server: McpServer, ctx: AppContext): void {
  const template = new ResourceTemplate('crypto://analysis/{exchange}/{symbol}/{timeframe}', {
    list: undefined,
  });
  server.registerResource(
    'latest-analysis',
    template,
    {
      title: 'Latest analysis',
      description:
        'The latest analyze_crypto report as JSON, e.g. crypto://analysis/binance/BTCUSDT/1h (symbol without a slash)',
      mimeType: 'application/json',
    },
    async (uri, vars) => {
      const parsed = analyzeCryptoInput.safeParse(decodeVariables(vars, ['exchange', 'symbol', 'timeframe']));
      if (!parsed.success) {
        throw new ProtocolError(
          ProtocolErrorCode.InvalidParams,
          `Invalid analysis URI ${uri.href}: ${describeIssues(parsed.error)}`,
        );
      }
      try {
        const report = analyzeCryptoOutput.parse(await ctx.analysis.analyze(parsed.data));
        return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(report) }] };
      } catch (err) {
        throw resourceError(uri.href, err);
      }
    },
  );
}

/** URI template variables, percent-decoded; a malformed escape is left as written and fails validation. */
function decodeVariables(vars: Record<string, string | string[]>, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const v = vars[name];
    const raw = Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
    try {
      out[name] = decodeURIComponent(raw);
    } catch {
      out[name] = raw;
    }
  }
  return out;
}

/** Map a failed read to the protocol error a client can act on. */
function resourceError(uri: string, err: unknown): ProtocolError {
  if (!isAppError(err)) {
    log.error('resource read failed', { uri, error: err });
    return new ProtocolError(
      ProtocolErrorCode.InternalError,
      'The analysis failed unexpectedly; the error was logged.',
    );
  }
  const message = `${err.code}: ${err.message}`;
  if (err.code === 'UNKNOWN_SYMBOL') return new ResourceNotFoundError(uri, message);
  const clientMistake = [
    'INVALID_ARGUMENT',
    'UNKNOWN_EXCHANGE',
    'UNSUPPORTED_TIMEFRAME',
    'INSUFFICIENT_DATA',
  ];
  return new ProtocolError(
    clientMistake.includes(err.code) ? ProtocolErrorCode.InvalidParams : ProtocolErrorCode.InternalError,
    message,
  );
}

function registerMarketBriefPrompt(server: McpServer): void {
  server.registerPrompt(
    'market_brief',
    {
      title: 'Market brief',
      description: 'Ask for a short market brief on a symbol, built from analyze_crypto',
      argsSchema: z.object({
        symbol: symbolSchema,
        timeframe: timeframeSchema.optional(),
      }),
    },
    ({ symbol, timeframe }) => ({
      messages: [
        {
          role: 'user',
          content: {
            type: 'text',
            text:
              `Write a short market brief for ${symbol} on the ${timeframe ?? '1h'} timeframe. ` +
              `Call analyze_crypto with symbol "${symbol}" and timeframe "${timeframe ?? '1h'}". ` +
              'Cover trend and structure, the nearest order blocks, fair value gaps and liquidity, key support and ' +
              'resistance, and the recommendation with its entry, stop, targets and reasons. State the data source ' +
              'and how old the data is. End with: not financial advice.',
          },
        },
      ],
    }),
  );
}
