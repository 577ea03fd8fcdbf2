/**
 * One way through a tool call, whatever the transport: rate limit, argument validation (REST only),
 * the handler, the output-schema check and the audit record. MCP (mcp-server.ts) and REST (rest-api.ts)
 * only translate the outcome to their wire format, so limits, checks and the audit log cannot drift
 * apart between them.
 */
import { randomUUID } from 'node:crypto';
import type { AppContext } from '../services/context.js';
import type { ToolCall, ToolDefinition, ToolImage } from '../tools/tool.js';
import { describeIssues } from '../tools/schemas.js';
import { isAppError, type ErrorCode } from '../errors.js';
import { log } from '../logger.js';
import { recordToolCall, type ToolSurface } from '../observability/instruments.js';

/** A failed call as both transports show it: MCP as `CODE: message` text, REST as `{ error, message }`. */
export interface InvocationError {
  code: ErrorCode;
  /** Says what to fix; never internals (those are logged). */
  message: string;
  /** Seconds until a rate-limited caller may try again (REST's Retry-After). */
  retryAfterS?: number;
}

export type Invocation =
  { ok: true; result: Record<string, unknown>; images: ToolImage[] } | { ok: false; error: InvocationError };

export interface InvokeOptions {
  /**
   * Parse the arguments with the tool's input schema first. REST passes raw JSON; MCP's SDK has parsed
   * them already (and answers bad ones itself before the call gets here), so MCP passes false.
   */
  validate: boolean;
  /** Which API the call came through, for the metrics (the audit and rate limit see `call.transport`). */
  surface: ToolSurface;
  /**
   * Runs instead of the tool's handler, under the tool's name, limits, output check and audit: REST's
   * `GET /alerts/{id}`, which has no alert_manager action of its own.
   */
  run?: (args: unknown, ctx: AppContext, call: ToolCall) => Promise<unknown>;
}

/** Upstream rate limits (an exchange's) carry no reset time; the message says "a minute". */
const UPSTREAM_RETRY_AFTER_S = 60;

export async function invokeTool(
  ctx: AppContext,
  tool: ToolDefinition,
  args: unknown,
  call: ToolCall,
  options: InvokeOptions,
): Promise<Invocation> {
  const started = performance.now();
  let audited = args;
  // Limited before validation: every call counts, so a client looping on bad arguments cannot flood
  // the audit log either.
  let outcome: Invocation | null = await rateLimited(ctx, call, tool.name);
  if (!outcome && options.validate) {
    const parsed = tool.input.safeParse(args);
    if (parsed.success) audited = args = parsed.data;
    else outcome = failure('INVALID_ARGUMENT', describeIssues(parsed.error));
  }
  outcome ??= await run(tool, args, ctx, call, options.run);
  const elapsed = performance.now() - started;
  const ms = Math.round(elapsed);
  recordToolCall(tool.name, options.surface, outcome.ok ? null : outcome.error.code, elapsed / 1000);
  log.debug('tool call', { tool: tool.name, ms, error: !outcome.ok });
  ctx.audit.record({
    tool: tool.name,
    caller: call.caller,
    transport: call.transport,
    args: audited,
    duration_ms: ms,
    status: outcome.ok ? 'ok' : 'error',
    error: outcome.ok ? null : `${outcome.error.code}: ${outcome.error.message}`,
  });
  return outcome;
}

async function run(
  tool: ToolDefinition,
  args: unknown,
  ctx: AppContext,
  call: ToolCall,
  instead: InvokeOptions['run'],
): Promise<Invocation> {
  try {
    const { result, images } = await answer(tool, args, ctx, call, instead);
    // Checked here (the MCP SDK checks again) so a bad answer is an INTERNAL error that is logged and
    // audited as one, not an 'ok' the client then sees fail.
    const checked = tool.output.safeParse(result);
    if (!checked.success) {
      log.error('tool produced an answer its output schema refuses', {
        tool: tool.name,
        issues: describeIssues(checked.error),
      });
      return unexpected(tool.name, new Error('invalid output'));
    }
    return { ok: true, result: result as Record<string, unknown>, images };
  } catch (err) {
    if (isAppError(err)) {
      return failure(
        err.code,
        err.message,
        err.code === 'RATE_LIMITED' ? { retryAfterS: UPSTREAM_RETRY_AFTER_S } : {},
      );
    }
    return unexpected(tool.name, err);
  }
}

/**
 * The handler's answer and its images: from a worker when the tool hands this call over and one takes
 * it (HTTP_RUNS_JOBS=false), else from the handler here. Images are looked up on the handler's own
 * answer object (not a parsed copy): `tool.images` finds them by identity.
 */
async function answer(
  tool: ToolDefinition,
  args: unknown,
  ctx: AppContext,
  call: ToolCall,
  instead: InvokeOptions['run'],
): Promise<{ result: unknown; images: ToolImage[] }> {
  if (instead) return { result: await instead(args, ctx, call), images: [] };
  if (ctx.jobs && call.transport === 'http' && tool.runsOnWorker?.(args as never)) {
    // One key for the call wherever it runs (the job's id): should a hand-over that seemed to fail land
    // after all, the worker's run and this replica's store one backtest run, not two.
    call = { ...call, requestKey: call.requestKey ?? randomUUID() };
    const fromWorker = await ctx.jobs.run(tool.name, args, call, {
      idempotent: tool.annotations.idempotentHint === true,
    });
    if (fromWorker) return fromWorker;
  }
  const result = await tool.handler(args as never, ctx, call);
  return { result, images: tool.images?.(result as never) ?? [] };
}

/**
 * Calls per minute per API key and tool over HTTP, MCP and REST alike (stdio is the local user's own
 * process). The counters live in Redis when configured, so every replica enforces one shared limit.
 */
async function rateLimited(ctx: AppContext, call: ToolCall, toolName: string): Promise<Invocation | null> {
  const limit = ctx.config.RATE_LIMIT_PER_MINUTE;
  if (call.transport !== 'http' || limit === 0) return null;
  const decision = await ctx.stores.rateLimiter.hit(`${call.caller}:${toolName}`, limit, 60_000);
  if (decision.allowed) return null;
  const seconds = Math.max(1, Math.ceil(decision.resetMs / 1000));
  return failure(
    'RATE_LIMITED',
    `${toolName} allows ${limit} calls per minute per API key; try again in ${seconds} s.`,
    { retryAfterS: seconds },
  );
}

/** Unexpected failures are logged with their details and answered without them. */
function unexpected(toolName: string, err: unknown): Invocation {
  log.error('tool failed', { tool: toolName, error: err });
  return failure('INTERNAL', `${toolName} failed unexpectedly; the error was logged. Try again.`);
}

function failure(code: ErrorCode, message: string, extra: { retryAfterS?: number } = {}): Invocation {
  return { ok: false, error: { code, message, ...extra } };
}
