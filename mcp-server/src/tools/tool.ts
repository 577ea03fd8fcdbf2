/**
 * The shape every tool has: one zod schema for its input, one for its output, a handler that calls a
 * service, and a short text summary for clients that ignore structured content. MCP registration
 * (server/) and, later, the REST API are generated from this one definition, so nothing is
 * described twice.
 */
import type { z } from 'zod';
import type { ToolAnnotations } from '@modelcontextprotocol/server';
import type { AppContext } from '../services/context.js';

/** Who is calling and how: portfolios belong to the caller, limits and the audit log count per caller. */
export interface ToolCall {
  /** Stable id of the API key (a digest prefix, never the key), or 'local' without keys and on stdio. */
  caller: string;
  transport: 'stdio' | 'http';
  signal?: AbortSignal | undefined;
  /**
   * Reports progress of a long call; present only when the client asked for progress (a progressToken).
   * Fire and forget: a lost notification never fails the call.
   */
  progress?: ((done: number, total: number, message?: string) => void) | undefined;
  /**
   * Identifies the work across repeats: a tool job's id, which BullMQ runs a second time when a worker
   * lost the job's lock. A tool with effects (a stored backtest run) does them once per key.
   */
  requestKey?: string | undefined;
}

export interface ToolDefinition<I extends z.ZodObject = z.ZodObject, O extends z.ZodObject = z.ZodObject> {
  name: string;
  title: string;
  description: string;
  input: I;
  output: O;
  annotations: ToolAnnotations;
  handler: (args: z.output<I>, ctx: AppContext, call: ToolCall) => Promise<z.output<O>>;
  summarize: (result: z.output<O>) => string;
  /**
   * Images to attach to the MCP result as `image` content after the text (e.g. charts), when the tool
   * produced any for this result; base64 data. Optional: most tools return structured content only.
   */
  images?: (result: z.output<O>) => ToolImage[];
  /**
   * True for calls heavy enough to leave the serving replica: with HTTP_RUNS_JOBS=false they run on
   * `crypto-mcp worker` over BullMQ (services/tool-jobs/). Absent: the call always runs where it arrives.
   */
  runsOnWorker?: (args: z.output<I>) => boolean;
}

/** An image for MCP `image` content: base64 data and its MIME type (image/png, image/svg+xml). */
export interface ToolImage {
  data: string;
  mimeType: string;
}

/** Identity helper that keeps the input/output types of a tool definition linked. */
export function defineTool<I extends z.ZodObject, O extends z.ZodObject>(
  def: ToolDefinition<I, O>,
): ToolDefinition<I, O> {
  return def;
}
