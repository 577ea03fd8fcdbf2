/**
 * The REST API under /api/v1 for n8n nodes and scripts, which cannot speak MCP. Every tool is
 * `POST /api/v1/tools/{name}` with its arguments as the JSON body, checked by the tool's own zod input
 * schema, answered with exactly MCP's structuredContent; alerts are also resources over alert_manager.
 * Everything runs through invokeTool, so limits, output checks and the audit log are MCP's. Mounted
 * after the bearer-key check: the caller is the key's id, or 'local' without keys.
 */
import { Router, type Request, type RequestHandler, type Response } from 'express';
import type { AppContext } from '../services/context.js';
import { tools as allTools } from '../tools/index.js';
import { alertManagerInput, alertManagerTool } from '../tools/alert-manager.js';
import type { ToolCall, ToolDefinition } from '../tools/tool.js';
import { invokeTool, type Invocation, type InvokeOptions } from './tool-invocation.js';
import { API_PREFIX, openApiDocument, toolList } from './openapi.js';
import { sendError, sendInvocationError } from './rest-errors.js';

export interface RestApiOptions {
  /** The tools served; defaults to all of them (tests pass stand-ins). */
  tools?: readonly ToolDefinition[];
}

type JsonObject = Record<string, unknown>;

const alertTool = alertManagerTool as unknown as ToolDefinition;
const alertIdSchema = alertManagerInput.shape.alert_id.unwrap();

/** Mount at API_PREFIX. Malformed and oversized bodies are answered by restErrorHandler on the app. */
export function restApiRouter(ctx: AppContext, options: RestApiOptions = {}): Router {
  const tools = options.tools ?? allTools;
  const byName = new Map(tools.map((t) => [t.name, t]));
  // Both are fixed for the life of the process: built once, not per request.
  const listing = toolList(tools);
  const document = openApiDocument({ version: ctx.version, tools });
  const router = Router();

  router.get('/openapi.json', (_req, res) => void res.json(document));
  router.get('/tools', (_req, res) => void res.json(listing));

  router.post('/tools/:name', async (req, res) => {
    const tool = byName.get(req.params.name);
    if (!tool) {
      return sendError(
        res,
        404,
        'UNKNOWN_TOOL',
        `There is no tool ${JSON.stringify(req.params.name.slice(0, 64))}; the tools are ` +
          `${[...byName.keys()].join(', ')} (GET ${API_PREFIX}/tools describes them).`,
      );
    }
    const body = objectBody(req, res);
    if (!body) return;
    reply(res, await invokeTool(ctx, tool, body, callOf(req, res), { validate: true, surface: 'rest' }));
  });

  // Alerts as resources. Every answer is alert_manager's output ({ action, alert, alerts, history,
  // delivery, notes }); the action comes from the method and path.
  const alerts = (
    req: Request,
    res: Response,
    args: JsonObject,
    opts: { status?: number; run?: InvokeOptions['run'] } = {},
  ) =>
    invokeTool(ctx, alertTool, args, callOf(req, res), {
      validate: !opts.run,
      run: opts.run,
      surface: 'rest',
    }).then((outcome) => {
      const id = outcome.ok && (outcome.result.alert as { id?: unknown } | null)?.id;
      if (opts.status === 201 && typeof id === 'string') res.location(`${API_PREFIX}/alerts/${id}`);
      reply(res, outcome, opts.status);
    });

  router.get('/alerts', (req, res) => alerts(req, res, { action: 'list' }));
  router.post('/alerts', async (req, res) => {
    const body = alertBody(req, res);
    if (body) await alerts(req, res, { ...body, action: 'create' }, { status: 201 });
  });
  router.get('/alerts/:id', async (req, res) => {
    const id = alertId(req, res);
    // alert_manager has no action for one alert (list shows all); the service reads just this one.
    if (!id) return;
    const run: InvokeOptions['run'] = (_args, c, call) => c.alerts.get(id, call.caller);
    await alerts(req, res, { action: 'get', alert_id: id }, { run });
  });
  router.patch('/alerts/:id', async (req, res) => {
    const id = alertId(req, res);
    const body = id && alertBody(req, res);
    if (id && body) await alerts(req, res, { ...body, action: 'update', alert_id: id });
  });
  router.delete('/alerts/:id', async (req, res) => {
    const id = alertId(req, res);
    if (id) await alerts(req, res, { action: 'delete', alert_id: id });
  });
  for (const action of ['pause', 'resume'] as const) {
    router.post(`/alerts/:id/${action}`, async (req, res) => {
      const id = alertId(req, res);
      if (id) await alerts(req, res, { action, alert_id: id });
    });
  }
  router.get('/alerts/:id/history', async (req, res) => {
    const id = alertId(req, res);
    const limit = req.query.limit;
    // Query strings are text: a plain integer becomes a number, anything else is left for the schema
    // to refuse with its message.
    const n = typeof limit === 'string' && /^\d{1,6}$/.test(limit) ? Number(limit) : limit;
    if (id) await alerts(req, res, { action: 'history', alert_id: id, ...(n !== undefined && { limit: n }) });
  });

  // Known paths with another method are 405 with Allow, anything else under /api/v1 is 404.
  const allowed: [string, string][] = [
    ['/openapi.json', 'GET'],
    ['/tools', 'GET'],
    ['/tools/:name', 'POST'],
    ['/alerts', 'GET, POST'],
    ['/alerts/:id', 'GET, PATCH, DELETE'],
    ['/alerts/:id/pause', 'POST'],
    ['/alerts/:id/resume', 'POST'],
    ['/alerts/:id/history', 'GET'],
  ];
  for (const [path, methods] of allowed) router.all(path, methodNotAllowed(methods));
  router.use((req, res) =>
    sendError(
      res,
      404,
      'NOT_FOUND',
      `No endpoint ${req.method} ${API_PREFIX}${req.path}; GET ${API_PREFIX}/openapi.json lists them.`,
    ),
  );
  return router;
}

function reply(res: Response, outcome: Invocation, status = 200): void {
  if (!outcome.ok) return sendInvocationError(res, outcome.error);
  res.status(status).json(outcome.result);
}

/**
 * The caller is the API key's id (bearerAuth puts it on req.auth, never the key) or 'local'. REST is
 * 'http' like MCP over HTTP: one rate limit per key and tool whichever way it is called.
 */
function callOf(req: Request, res: Response): ToolCall {
  const hangUp = new AbortController();
  // A client that goes away (a cancelled n8n execution) stops a long scan or backtest.
  res.once('close', () => {
    if (!res.writableFinished) hangUp.abort();
  });
  return { caller: req.auth?.clientId ?? 'local', transport: 'http', signal: hangUp.signal };
}

const hasBody = (req: Request) =>
  req.headers['transfer-encoding'] !== undefined ||
  (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');

/** The JSON object body; no body at all is `{}` (tools whose arguments all have defaults). */
function objectBody(req: Request, res: Response): JsonObject | null {
  const body: unknown = req.body;
  if (body === undefined && !hasBody(req)) return {};
  if (body === undefined) {
    // A body the JSON parser skipped: its Content-Type is not JSON.
    sendError(
      res,
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      'The body must be JSON: send it with Content-Type: application/json.',
    );
    return null;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    sendError(
      res,
      400,
      'INVALID_ARGUMENT',
      'The body must be a JSON object of arguments, e.g. {"symbol":"BTCUSDT"}.',
    );
    return null;
  }
  return body as JsonObject;
}

/** An alert body: alert_manager's fields, without the action and id that the method and path give. */
function alertBody(req: Request, res: Response): JsonObject | null {
  const body = objectBody(req, res);
  if (!body) return null;
  const misplaced = ['action', 'alert_id'].filter((k) => k in body);
  if (misplaced.length > 0) {
    sendError(
      res,
      400,
      'INVALID_ARGUMENT',
      `${misplaced.join(' and ')}: leave out of the body; the method and path say which alert and what to do.`,
    );
    return null;
  }
  return body;
}

function alertId(req: Request, res: Response): string | null {
  const id = req.params.id;
  if (typeof id === 'string' && alertIdSchema.safeParse(id).success) return id;
  sendError(
    res,
    400,
    'INVALID_ARGUMENT',
    `id: ${JSON.stringify(String(id).slice(0, 64))} is not an alert id; use the id (a UUID) a create or list answer gave.`,
  );
  return null;
}

function methodNotAllowed(methods: string): RequestHandler {
  return (req, res) => {
    res.set('Allow', methods);
    sendError(res, 405, 'METHOD_NOT_ALLOWED', `${req.method} is not served here; use ${methods}.`);
  };
}
