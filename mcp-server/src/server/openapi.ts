/**
 * JSON Schema and the OpenAPI 3.1 document of the REST API, generated from the tools' zod schemas with
 * zod's own converter (draft 2020-12, as the MCP SDK does for tools/list), so the REST API, MCP and the
 * documentation cannot disagree. Schemas several tools share (symbol, timeframe, exchange) become
 * components and are referenced, not repeated.
 */
import { z } from 'zod';
import type { ToolDefinition } from '../tools/tool.js';
import { alertManagerInput, alertManagerOutput } from '../tools/alert-manager.js';
import { exchangeSchema, symbolSchema, timeframeSchema } from '../tools/schemas.js';
import { restErrorSchema } from './rest-errors.js';

export const API_PREFIX = '/api/v1';

type JsonObject = Record<string, unknown>;
const TARGET = 'draft-2020-12';

/**
 * A tool's input or output as JSON Schema, exactly as MCP's tools/list shows it (the SDK converts with
 * the same call and stamps `type: object` on the root).
 */
export function toolJsonSchema(schema: z.ZodObject, io: 'input' | 'output'): JsonObject {
  return { type: 'object', ...(z.toJSONSchema(schema, { target: TARGET, io }) as JsonObject) };
}

/** `GET /api/v1/tools`. */
export const toolListSchema = z.object({
  tools: z.array(
    z.object({
      name: z.string().describe('POST /api/v1/tools/{name} calls it'),
      title: z.string(),
      description: z.string(),
      input_schema: z
        .record(z.string(), z.unknown())
        .describe('JSON Schema (draft 2020-12) of the arguments: the request body'),
      output_schema: z
        .record(z.string(), z.unknown())
        .describe('JSON Schema (draft 2020-12) of the answer: the 200 body'),
      annotations: z
        .record(z.string(), z.unknown())
        .describe('MCP tool annotations: readOnlyHint, destructiveHint, idempotentHint, openWorldHint'),
    }),
  ),
});

export function toolList(tools: readonly ToolDefinition[]): z.output<typeof toolListSchema> {
  return {
    tools: tools.map((t) => ({
      name: t.name,
      title: t.title,
      description: t.description,
      input_schema: toolJsonSchema(t.input, 'input'),
      output_schema: toolJsonSchema(t.output, 'output'),
      annotations: { ...t.annotations },
    })),
  };
}

/**
 * Body of `POST /alerts` and `PATCH /alerts/{id}`: alert_manager's arguments without the ones the
 * method and path supply (action, alert_id) and without history's `limit` (a query parameter).
 */
export const alertBodySchema = alertManagerInput.omit({ action: true, alert_id: true, limit: true });

/** What `/health` answers; the details beyond status and version need a key when keys are set. */
const healthSchema = z
  .object({
    status: z.enum(['ok', 'degraded', 'error']),
    version: z.string(),
  })
  .loose();

const pascal = (name: string) => name.replace(/(^|_)([a-z])/g, (_m, _s, c: string) => c.toUpperCase());
const inputComponent = (tool: ToolDefinition) => `${pascal(tool.name)}Input`;
const outputComponent = (tool: ToolDefinition) => `${pascal(tool.name)}Output`;

/**
 * Component schemas, converted per direction: inputs as a client sends them (defaults optional),
 * outputs as the server answers (every field present). A schema registered under an id is referenced
 * wherever another registered schema contains it.
 */
function componentSchemas(tools: readonly ToolDefinition[]): Record<string, JsonObject> {
  const inputs = z.registry<{ id: string }>();
  inputs.add(symbolSchema, { id: 'Symbol' });
  inputs.add(timeframeSchema, { id: 'Timeframe' });
  inputs.add(exchangeSchema, { id: 'Exchange' });
  inputs.add(alertBodySchema, { id: 'AlertFields' });
  const outputs = z.registry<{ id: string }>();
  outputs.add(restErrorSchema, { id: 'Error' });
  outputs.add(toolListSchema, { id: 'ToolList' });
  outputs.add(healthSchema, { id: 'Health' });
  for (const tool of tools) {
    inputs.add(tool.input, { id: inputComponent(tool) });
    outputs.add(tool.output, { id: outputComponent(tool) });
  }
  if (!tools.some((t) => t.output === alertManagerOutput)) {
    outputs.add(alertManagerOutput, { id: 'AlertManagerOutput' });
  }
  const uri = (id: string) => `#/components/schemas/${id}`;
  const schemas: Record<string, JsonObject> = {};
  for (const [registry, io] of [
    [inputs, 'input'],
    [outputs, 'output'],
  ] as const) {
    const converted = z.toJSONSchema(registry, { target: TARGET, io, uri }).schemas;
    for (const [id, schema] of Object.entries(converted)) {
      // OpenAPI 3.1 documents are 2020-12 by default; a fragment $id is not valid 2020-12 anyway.
      const { $schema: _schema, $id: _id, ...rest } = schema as JsonObject;
      schemas[id] = rest;
    }
  }
  return schemas;
}

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const json = (schema: JsonObject) => ({ 'application/json': { schema } });

/** Error responses by status, shared by every operation that can produce them. */
const ERROR_RESPONSES: Record<string, JsonObject> = {
  BadRequest: {
    description:
      'INVALID_ARGUMENT (the message names each field and what it expects), UNKNOWN_EXCHANGE, ' +
      'UNSUPPORTED_TIMEFRAME or INSUFFICIENT_DATA',
    content: json(ref('Error')),
  },
  Unauthorized: {
    description: 'Missing or unknown API key (keys are configured with MCP_API_KEYS)',
    headers: { 'WWW-Authenticate': { schema: { type: 'string' }, description: 'Bearer realm="crypto-mcp"' } },
    content: json(ref('Error')),
  },
  Forbidden: {
    description:
      'Host or Origin not allowed, or a proxied request to a server without API keys (the Host/Origin ' +
      'refusal has a JSON-RPC error body)',
  },
  NotFound: {
    description: 'UNKNOWN_SYMBOL, NOT_FOUND (e.g. an alert of another API key), or UNKNOWN_TOOL',
    content: json(ref('Error')),
  },
  PayloadTooLarge: { description: 'PAYLOAD_TOO_LARGE: the body is over 256 kB', content: json(ref('Error')) },
  UnsupportedMediaType: {
    description: 'UNSUPPORTED_MEDIA_TYPE: a compressed or non-UTF-8 body',
    content: json(ref('Error')),
  },
  RateLimited: {
    description:
      'RATE_LIMITED: the per-minute limit of calls per API key and tool (RATE_LIMIT_PER_MINUTE, shared ' +
      'with MCP), or the exchange is rate-limiting the server',
    headers: {
      'Retry-After': { schema: { type: 'integer' }, description: 'Seconds until a retry can succeed' },
    },
    content: json(ref('Error')),
  },
  Internal: {
    description: 'INTERNAL: unexpected failure, logged on the server',
    content: json(ref('Error')),
  },
  Unavailable: {
    description:
      'EXCHANGE_UNAVAILABLE, DATA_UNAVAILABLE, STORE_UNAVAILABLE or WORKER_UNAVAILABLE: try again later',
    content: json(ref('Error')),
  },
};
const STATUS_RESPONSE: Record<string, string> = {
  '400': 'BadRequest',
  '401': 'Unauthorized',
  '403': 'Forbidden',
  '404': 'NotFound',
  '413': 'PayloadTooLarge',
  '415': 'UnsupportedMediaType',
  '429': 'RateLimited',
  '500': 'Internal',
  '503': 'Unavailable',
};
const errors = (...statuses: (keyof typeof STATUS_RESPONSE)[]) =>
  Object.fromEntries(statuses.map((s) => [s, { $ref: `#/components/responses/${STATUS_RESPONSE[s]}` }]));

/** Statuses of anything that runs a tool (through the shared limit, handler and audit). */
const TOOL_ERRORS = ['400', '401', '403', '404', '429', '500', '503'] as const;
const BODY_ERRORS = ['413', '415'] as const;

const alertIdParameter = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'The alert id from a create or list answer (a UUID); another API key’s alert is 404',
  schema: { type: 'string', format: 'uuid' },
};

const alertAnswer = (description: string) => ({
  description: `${description}: alert_manager's answer ({ action, alert, alerts, history, delivery, notes })`,
  content: json(ref('AlertManagerOutput')),
});

function alertPaths(): Record<string, JsonObject> {
  const body = (required: boolean) => ({ required, content: json(ref('AlertFields')) });
  const op = (operationId: string, summary: string, extra: JsonObject, ok: JsonObject, status = '200') => ({
    operationId,
    summary,
    tags: ['alerts'],
    ...extra,
    responses: { [status]: ok, ...errors(...TOOL_ERRORS, ...('requestBody' in extra ? BODY_ERRORS : [])) },
  });
  const one = { parameters: [alertIdParameter] };
  return {
    [`${API_PREFIX}/alerts`]: {
      get: op('listAlerts', "List this API key's alerts", {}, alertAnswer('alerts holds them')),
      post: op(
        'createAlert',
        'Create an alert',
        { requestBody: body(true) },
        {
          ...alertAnswer('alert holds the new alert'),
          headers: { Location: { schema: { type: 'string' }, description: '/api/v1/alerts/{id}' } },
        },
        '201',
      ),
    },
    [`${API_PREFIX}/alerts/{id}`]: {
      get: op('getAlert', 'One alert (action "get")', one, alertAnswer('alert holds it')),
      patch: op(
        'updateAlert',
        'Change an alert: only the fields given',
        { ...one, requestBody: body(true) },
        alertAnswer('alert holds the changed alert'),
      ),
      delete: op('deleteAlert', 'Delete an alert (its history is kept)', one, alertAnswer('alert is null')),
    },
    [`${API_PREFIX}/alerts/{id}/pause`]: {
      post: op('pauseAlert', 'Stop evaluating an alert', one, alertAnswer('alert holds it, paused')),
    },
    [`${API_PREFIX}/alerts/{id}/resume`]: {
      post: op('resumeAlert', 'Evaluate an alert again', one, alertAnswer('alert holds it, active')),
    },
    [`${API_PREFIX}/alerts/{id}/history`]: {
      get: op(
        'alertHistory',
        'What an alert fired and how each message was delivered',
        {
          parameters: [
            alertIdParameter,
            {
              name: 'limit',
              in: 'query',
              required: false,
              schema: z.toJSONSchema(alertManagerInput.shape.limit, { target: TARGET, io: 'input' }),
            },
          ],
        },
        alertAnswer('alert and history'),
      ),
    },
  };
}

function hasRequiredFields(tool: ToolDefinition): boolean {
  const required = toolJsonSchema(tool.input, 'input').required;
  return Array.isArray(required) && required.length > 0;
}

function toolPaths(tools: readonly ToolDefinition[]): Record<string, JsonObject> {
  return Object.fromEntries(
    tools.map((tool) => [
      `${API_PREFIX}/tools/${tool.name}`,
      {
        post: {
          operationId: tool.name,
          summary: tool.title,
          description: tool.description,
          tags: ['tools'],
          requestBody: {
            // An empty body is {}: fine for tools whose arguments all have defaults.
            required: hasRequiredFields(tool),
            content: json(ref(inputComponent(tool))),
          },
          responses: {
            '200': {
              description: "The tool's structured result (MCP structuredContent)",
              content: json(ref(outputComponent(tool))),
            },
            ...errors(...TOOL_ERRORS, ...BODY_ERRORS),
          },
        },
      },
    ]),
  );
}

/** The OpenAPI 3.1 document; pure, so tests check it without a server. */
export function openApiDocument(opts: { version: string; tools: readonly ToolDefinition[] }): JsonObject {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Crypto market intelligence REST API',
      version: opts.version,
      description:
        "The MCP tools over plain HTTP for n8n and scripts: POST a tool's arguments as JSON to " +
        '/api/v1/tools/{name} and get its structured result. Same schemas, rate limits and audit log as MCP. ' +
        'Errors are { "error": "<CODE>", "message": "<what to fix>" }. Analysis, not financial advice.',
    },
    security: [{ bearerAuth: [] }],
    tags: [
      { name: 'tools', description: 'The MCP tools, one operation each' },
      { name: 'alerts', description: 'alert_manager as resources, per API key' },
      { name: 'meta', description: 'Health, the tool list and this document' },
    ],
    paths: {
      '/health': {
        get: {
          operationId: 'health',
          summary: 'Liveness; store and exchange details with a key when keys are configured',
          tags: ['meta'],
          security: [],
          responses: {
            '200': { description: 'Serving', content: json(ref('Health')) },
            '401': { $ref: '#/components/responses/Unauthorized' },
            '500': { description: 'The health check itself failed', content: json(ref('Health')) },
          },
        },
      },
      [`${API_PREFIX}/openapi.json`]: {
        get: {
          operationId: 'openapi',
          summary: 'This document',
          tags: ['meta'],
          responses: {
            '200': { description: 'OpenAPI 3.1', content: json({ type: 'object' }) },
            ...errors('401', '403'),
          },
        },
      },
      [`${API_PREFIX}/tools`]: {
        get: {
          operationId: 'listTools',
          summary: 'The tools with their JSON Schemas, as MCP tools/list shows them',
          tags: ['meta'],
          responses: {
            '200': { description: 'The tools', content: json(ref('ToolList')) },
            ...errors('401', '403'),
          },
        },
      },
      ...toolPaths(opts.tools),
      ...alertPaths(),
    },
    components: {
      schemas: componentSchemas(opts.tools),
      responses: ERROR_RESPONSES,
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description:
            'An API key from MCP_API_KEYS as "Authorization: Bearer <key>". Without keys the server serves ' +
            'loopback only and needs none.',
        },
      },
    },
  };
}
