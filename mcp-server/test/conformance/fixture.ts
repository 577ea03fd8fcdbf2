/**
 * The conformance suite's fixture server: the tools, resources and prompts named `test_*` / `test://…`
 * that @modelcontextprotocol/conformance 0.2.0-alpha.12 calls by name (each scenario's description
 * in its dist/index.js says what it expects). Test-only: fixture-server.ts serves it through the
 * product's HTTP stack in place of the product's McpServer.
 *
 * It is its own McpServer rather than extra registrations on buildMcpServer's, because two things
 * the suite checks are constructor options the product has no reason to set: the capabilities
 * (logging, completions, resource subscriptions) and the requestState verification hook, which is
 * the only place a forged requestState becomes a JSON-RPC -32602 instead of a tool error result.
 */
import { randomBytes } from 'node:crypto';
import {
  McpServer,
  ResourceTemplate,
  acceptedContent,
  completable,
  createRequestStateCodec,
  fromJsonSchema,
  inputRequired,
  inputResponse,
  type CallToolResult,
  type ClientCapabilities,
  type InputRequest,
  type ServerContext,
  type ServerEventBus,
} from '@modelcontextprotocol/server';
import { z } from 'zod';

/** 1×1 red PNG and a minimal WAV, as in the suite's reference fixture. */
const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const WAV = 'UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=';

const text = (t: string): CallToolResult => ({ content: [{ type: 'text', text: t }] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const noArgs = z.object({});

/** State that outlives one request: the SDK builds a fresh McpServer per HTTP request. */
export interface FixtureState {
  /** Publishes list-changed events to open `subscriptions/listen` streams. */
  bus: ServerEventBus;
  /** Flipped by test_trigger_tool_change / test_trigger_prompt_change, so the lists really change. */
  extraTool: boolean;
  extraPrompt: boolean;
  /** Signs requestState (integrity MUST of SEP-2322); one fixture process serves every round. */
  codec: ReturnType<typeof createRequestStateCodec>;
}

export function createFixtureState(bus: ServerEventBus): FixtureState {
  return {
    bus,
    extraTool: false,
    extraPrompt: false,
    codec: createRequestStateCodec({ key: randomBytes(32) }),
  };
}

export function buildConformanceServer(state: FixtureState): McpServer {
  const server = new McpServer(
    { name: 'crypto-mcp-conformance-fixture', version: '1.0.0' },
    {
      capabilities: {
        tools: { listChanged: true },
        prompts: { listChanged: true },
        resources: { subscribe: true, listChanged: true },
        logging: {},
        completions: {},
      },
      // The seam verifies an echoed requestState before any handler runs: a forged one is -32602.
      requestState: { verify: (raw, ctx) => state.codec.verify(raw, ctx) },
    },
  );
  registerContentTools(server);
  registerInteractionTools(server);
  registerInputRequiredTools(server, state);
  registerStatelessDiagnostics(server, state);
  registerResources(server);
  registerPrompts(server, state);
  return server;
}

function registerContentTools(server: McpServer): void {
  server.registerTool('test_simple_text', { description: 'Returns simple text content' }, () =>
    text('This is a simple text response for testing.'),
  );
  server.registerTool('test_image_content', { description: 'Returns image content' }, () => ({
    content: [{ type: 'image', data: PNG, mimeType: 'image/png' }],
  }));
  server.registerTool('test_audio_content', { description: 'Returns audio content' }, () => ({
    content: [{ type: 'audio', data: WAV, mimeType: 'audio/wav' }],
  }));
  server.registerTool('test_embedded_resource', { description: 'Returns an embedded resource' }, () => ({
    content: [
      {
        type: 'resource',
        resource: {
          uri: 'test://embedded-resource',
          mimeType: 'text/plain',
          text: 'This is an embedded resource content.',
        },
      },
    ],
  }));
  server.registerTool(
    'test_multiple_content_types',
    { description: 'Returns text, image and resource content' },
    () => ({
      content: [
        { type: 'text', text: 'Multiple content types test:' },
        { type: 'image', data: PNG, mimeType: 'image/png' },
        {
          type: 'resource',
          resource: {
            uri: 'test://mixed-content-resource',
            mimeType: 'application/json',
            text: JSON.stringify({ test: 'data', value: 123 }),
          },
        },
      ],
    }),
  );
  server.registerTool('test_error_handling', { description: 'Always fails' }, () => {
    throw new Error('This tool intentionally returns an error for testing');
  });
  server.registerTool(
    'json_schema_2020_12_tool',
    {
      description: 'Tool with JSON Schema 2020-12 features',
      inputSchema: fromJsonSchema<Record<string, unknown>>({
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        $defs: {
          address: {
            $anchor: 'addressDef',
            type: 'object',
            properties: { street: { type: 'string' }, city: { type: 'string' } },
          },
        },
        properties: {
          name: { type: 'string' },
          address: { $ref: '#/$defs/address' },
          contactMethod: { type: 'string', enum: ['phone', 'email'] },
          phone: { type: 'string' },
          email: { type: 'string' },
        },
        allOf: [{ anyOf: [{ required: ['phone'] }, { required: ['email'] }] }],
        if: { properties: { contactMethod: { const: 'phone' } }, required: ['contactMethod'] },
        then: { required: ['phone'] },
        else: { required: ['email'] },
        additionalProperties: false,
      }),
    },
    (args) => text(`JSON Schema 2020-12 tool called with: ${JSON.stringify(args)}`),
  );
  // SEP-2243: a parameter mirrored into an `Mcp-Param-Region` header, validated by the SDK's HTTP entry.
  server.registerTool(
    'test_header_param',
    {
      description: 'Echoes a parameter that clients also send as the Mcp-Param-Region header',
      // `x-mcp-header` is a spec extension keyword the JSON Schema type does not know.
      inputSchema: fromJsonSchema<{ region?: string }>({
        type: 'object',
        properties: { region: { type: 'string', 'x-mcp-header': 'Region' } as { type: 'string' } },
      }),
    },
    (args) => text(`region=${args.region ?? ''}`),
  );
}

/** Logging, progress and the 2025-era server→client requests (sampling, elicitation). */
function registerInteractionTools(server: McpServer): void {
  server.registerTool(
    'test_tool_with_logging',
    { description: 'Logs three messages while it runs', inputSchema: noArgs },
    async (_args, ctx) => {
      await ctx.mcpReq.log('info', 'Tool execution started');
      await sleep(50);
      await ctx.mcpReq.log('info', 'Tool processing data');
      await sleep(50);
      await ctx.mcpReq.log('info', 'Tool execution completed');
      return text('Tool with logging executed successfully');
    },
  );
  server.registerTool(
    'test_tool_with_progress',
    { description: 'Reports progress 0, 50 and 100 of 100', inputSchema: noArgs },
    async (_args, ctx) => {
      const progressToken = ctx.mcpReq._meta?.progressToken;
      for (const progress of [0, 50, 100]) {
        if (progressToken !== undefined) {
          await ctx.mcpReq.notify({
            method: 'notifications/progress',
            params: { progressToken, progress, total: 100, message: `Completed step ${progress} of 100` },
          });
        }
        if (progress < 100) await sleep(50);
      }
      return text(String(progressToken ?? 'no progress token'));
    },
  );
  server.registerTool(
    'test_sampling',
    { description: 'Asks the client for an LLM completion', inputSchema: z.object({ prompt: z.string() }) },
    ({ prompt }, ctx) => {
      const answer = inputResponse(ctx.mcpReq.inputResponses, 'completion');
      if (answer.kind !== 'sampling') {
        return inputRequired({
          inputRequests: {
            completion: inputRequired.createMessage({
              messages: [{ role: 'user', content: { type: 'text', text: prompt } }],
              maxTokens: 100,
            }),
          },
        });
      }
      const content = answer.result.content;
      const reply = !Array.isArray(content) && content.type === 'text' ? content.text : 'No response';
      return text(`LLM response: ${reply}`);
    },
  );
  const elicitTool = (name: string, description: string, params: ElicitParams, label: string) =>
    server.registerTool(name, { description, inputSchema: noArgs }, (_args, ctx) => {
      const answer = inputResponse(ctx.mcpReq.inputResponses, 'form');
      if (answer.kind !== 'elicit') {
        return inputRequired({ inputRequests: { form: inputRequired.elicit(params) } });
      }
      return text(`${label}: action=${answer.action}, content=${JSON.stringify(answer.content ?? {})}`);
    });
  server.registerTool(
    'test_elicitation',
    { description: 'Asks the user for input', inputSchema: z.object({ message: z.string() }) },
    ({ message }, ctx) => {
      const answer = inputResponse(ctx.mcpReq.inputResponses, 'form');
      if (answer.kind !== 'elicit') {
        return inputRequired({
          inputRequests: {
            form: inputRequired.elicit({
              message,
              requestedSchema: {
                type: 'object',
                properties: { response: { type: 'string', description: "User's response" } },
                required: ['response'],
              },
            }),
          },
        });
      }
      return text(`User response: action=${answer.action}, content=${JSON.stringify(answer.content ?? {})}`);
    },
  );
  elicitTool(
    'test_elicitation_sep1034_defaults',
    'Elicitation with a default for every primitive type (SEP-1034)',
    {
      message: 'Please review and update the form fields with defaults',
      requestedSchema: {
        type: 'object',
        properties: {
          name: { type: 'string', description: 'User name', default: 'John Doe' },
          age: { type: 'integer', description: 'User age', default: 30 },
          score: { type: 'number', description: 'User score', default: 95.5 },
          status: {
            type: 'string',
            description: 'User status',
            enum: ['active', 'inactive', 'pending'],
            default: 'active',
          },
          verified: { type: 'boolean', description: 'Verification status', default: true },
        },
        required: [],
      },
    },
    'Elicitation completed',
  );
  elicitTool(
    'test_elicitation_sep1330_enums',
    'Elicitation with the five enum shapes (SEP-1330)',
    {
      message: 'Please select options from the enum fields',
      requestedSchema: {
        type: 'object',
        properties: {
          untitledSingle: { type: 'string', enum: ['option1', 'option2', 'option3'] },
          titledSingle: {
            type: 'string',
            oneOf: [
              { const: 'value1', title: 'First Option' },
              { const: 'value2', title: 'Second Option' },
              { const: 'value3', title: 'Third Option' },
            ],
          },
          legacyEnum: {
            type: 'string',
            enum: ['opt1', 'opt2', 'opt3'],
            enumNames: ['Option One', 'Option Two', 'Option Three'],
          },
          untitledMulti: {
            type: 'array',
            items: { type: 'string', enum: ['option1', 'option2', 'option3'] },
          },
          titledMulti: {
            type: 'array',
            items: {
              anyOf: [
                { const: 'value1', title: 'First Choice' },
                { const: 'value2', title: 'Second Choice' },
                { const: 'value3', title: 'Third Choice' },
              ],
            },
          },
        },
        required: [],
      },
    },
    'Elicitation completed',
  );
}

type ElicitParams = Parameters<typeof inputRequired.elicit>[0];

const askName = (message: string): InputRequest =>
  inputRequired.elicit({
    message,
    requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
  });

const askColour = (): InputRequest =>
  inputRequired.elicit({
    message: 'Step 2: What is your favorite color?',
    requestedSchema: { type: 'object', properties: { color: { type: 'string' } }, required: ['color'] },
  });

/** The echoed requestState, already verified and decoded by the server's requestState hook. */
const verifiedState = <T = unknown>(ctx: ServerContext): T | undefined => ctx.mcpReq.requestState<T>();

/** SEP-2322 multi-round-trip tools (2026-07-28 `input_required` results). */
function registerInputRequiredTools(server: McpServer, state: FixtureState): void {
  const nameSchema = z.object({ name: z.string() });
  server.registerTool(
    'test_input_required_result_elicitation',
    { description: 'Asks for a name, then greets', inputSchema: noArgs },
    (_args, ctx) => {
      const answer = acceptedContent(ctx.mcpReq.inputResponses, 'user_name', nameSchema);
      if (!answer) return inputRequired({ inputRequests: { user_name: askName('What is your name?') } });
      return text(`Hello, ${answer.name}!`);
    },
  );
  server.registerTool(
    'test_input_required_result_sampling',
    { description: 'Asks the client model a question', inputSchema: noArgs },
    (_args, ctx) => {
      const answer = inputResponse(ctx.mcpReq.inputResponses, 'capital_question');
      if (answer.kind !== 'sampling') {
        return inputRequired({
          inputRequests: {
            capital_question: inputRequired.createMessage({
              messages: [{ role: 'user', content: { type: 'text', text: 'What is the capital of France?' } }],
              maxTokens: 100,
            }),
          },
        });
      }
      const content = answer.result.content;
      return text(
        `The model said: ${!Array.isArray(content) && content.type === 'text' ? content.text : ''}`,
      );
    },
  );
  server.registerTool(
    'test_input_required_result_list_roots',
    { description: "Lists the client's roots", inputSchema: noArgs },
    (_args, ctx) => {
      const answer = inputResponse(ctx.mcpReq.inputResponses, 'client_roots');
      if (answer.kind !== 'roots') {
        return inputRequired({ inputRequests: { client_roots: inputRequired.listRoots() } });
      }
      return text(`Roots: ${answer.roots.map((r) => r.uri).join(', ')}`);
    },
  );
  const confirmSchema = z.object({ ok: z.boolean() });
  const confirm = () =>
    inputRequired.elicit({
      message: 'Please confirm',
      requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
    });
  for (const name of [
    'test_input_required_result_request_state',
    'test_input_required_result_tampered_state',
  ]) {
    server.registerTool(
      name,
      { description: 'Confirms with signed requestState', inputSchema: noArgs },
      async (_args, ctx) => {
        const saved = verifiedState(ctx);
        const answer = acceptedContent(ctx.mcpReq.inputResponses, 'confirm', confirmSchema);
        if (saved === undefined || !answer) {
          return inputRequired({
            inputRequests: { confirm: confirm() },
            requestState: await state.codec.mint({ tool: name }),
          });
        }
        return text(`state-ok: confirmed=${answer.ok}`);
      },
    );
  }
  server.registerTool(
    'test_input_required_result_multiple_inputs',
    { description: 'Asks for a name, a greeting and the roots at once', inputSchema: noArgs },
    async (_args, ctx) => {
      const saved = verifiedState(ctx);
      const responses = ctx.mcpReq.inputResponses;
      const name = acceptedContent(responses, 'user_name', nameSchema);
      const greeting = inputResponse(responses, 'greeting');
      const roots = inputResponse(responses, 'client_roots');
      if (saved === undefined || !name || greeting.kind !== 'sampling' || roots.kind !== 'roots') {
        return inputRequired({
          inputRequests: {
            user_name: askName('What is your name?'),
            greeting: inputRequired.createMessage({
              messages: [{ role: 'user', content: { type: 'text', text: 'Generate a greeting' } }],
              maxTokens: 50,
            }),
            client_roots: inputRequired.listRoots(),
          },
          requestState: await state.codec.mint({ round: 1 }),
        });
      }
      return text(`Got ${name.name}, a greeting and ${roots.roots.length} root(s)`);
    },
  );
  server.registerTool(
    'test_input_required_result_multi_round',
    { description: 'Asks for a name, then a colour', inputSchema: noArgs },
    async (_args, ctx) => {
      const saved = verifiedState<{ name?: string }>(ctx);
      const responses = ctx.mcpReq.inputResponses;
      if (saved === undefined) {
        return inputRequired({
          inputRequests: { step1: askName('Step 1: What is your name?') },
          requestState: await state.codec.mint({}),
        });
      }
      if (saved.name === undefined) {
        const step1 = acceptedContent(responses, 'step1', nameSchema);
        if (!step1) return inputRequired({ inputRequests: { step1: askName('Step 1: What is your name?') } });
        return inputRequired({
          inputRequests: { step2: askColour() },
          requestState: await state.codec.mint({ name: step1.name }),
        });
      }
      const step2 = acceptedContent(responses, 'step2', z.object({ color: z.string() }));
      if (!step2) {
        return inputRequired({
          inputRequests: { step2: askColour() },
          requestState: await state.codec.mint(saved),
        });
      }
      return text(`${saved.name} likes ${step2.color}`);
    },
  );
  server.registerTool(
    'test_input_required_result_capabilities',
    { description: 'Asks only for what the client declared it can answer', inputSchema: noArgs },
    (_args, ctx) => {
      const caps = clientCapabilities(ctx);
      const requests: Record<string, InputRequest> = {};
      if (caps.elicitation) requests.user_name = askName('What is your name?');
      if (caps.sampling) {
        requests.summary = inputRequired.createMessage({
          messages: [{ role: 'user', content: { type: 'text', text: 'Summarise the day' } }],
          maxTokens: 50,
        });
      }
      if (caps.roots) requests.client_roots = inputRequired.listRoots();
      const answered = Object.keys(requests).some((k) => ctx.mcpReq.inputResponses?.[k] !== undefined);
      if (answered || Object.keys(requests).length === 0) return text('Done with what the client can do');
      return inputRequired({ inputRequests: requests });
    },
  );
}

function clientCapabilities(ctx: ServerContext): ClientCapabilities {
  const envelope = ctx.mcpReq.envelope as Record<string, unknown> | undefined;
  return (envelope?.['io.modelcontextprotocol/clientCapabilities'] as ClientCapabilities | undefined) ?? {};
}

/** Diagnostic tools the 2026-07-28 `server-stateless` scenario calls by name. */
function registerStatelessDiagnostics(server: McpServer, state: FixtureState): void {
  // Needs sampling: the SDK answers -32021 (HTTP 400) when the request did not declare it.
  server.registerTool(
    'test_missing_capability',
    { description: 'Needs the sampling capability', inputSchema: noArgs },
    (_args, ctx) => {
      if (inputResponse(ctx.mcpReq.inputResponses, 'probe').kind === 'sampling') return text('sampled');
      return inputRequired({
        inputRequests: {
          probe: inputRequired.createMessage({
            messages: [{ role: 'user', content: { type: 'text', text: 'ping' } }],
            maxTokens: 10,
          }),
        },
      });
    },
  );
  server.registerTool(
    'test_streaming_elicitation',
    { description: 'Reports progress, then asks for input on the same response stream', inputSchema: noArgs },
    async (_args, ctx) => {
      const token = ctx.mcpReq._meta?.progressToken;
      if (token !== undefined) {
        await ctx.mcpReq.notify({
          method: 'notifications/progress',
          params: { progressToken: token, progress: 1 },
        });
      }
      if (acceptedContent(ctx.mcpReq.inputResponses, 'user_name')) return text('thanks');
      return inputRequired({ inputRequests: { user_name: askName('What is your name?') } });
    },
  );
  // Logs at info: with no logLevel in the request's _meta, a 2026 server must send nothing.
  server.registerTool(
    'test_logging_tool',
    { description: 'Logs one message at info level', inputSchema: noArgs },
    async (_args, ctx) => {
      await ctx.mcpReq.log('info', 'test_logging_tool ran');
      return text('logged');
    },
  );
  server.registerTool(
    'test_trigger_tool_change',
    { description: 'Adds or removes test_dynamic_tool and announces it', inputSchema: noArgs },
    () => {
      state.extraTool = !state.extraTool;
      state.bus.publish({ kind: 'tools_list_changed' });
      return text(`test_dynamic_tool ${state.extraTool ? 'added' : 'removed'}`);
    },
  );
  server.registerTool(
    'test_trigger_prompt_change',
    { description: 'Adds or removes test_dynamic_prompt and announces it', inputSchema: noArgs },
    () => {
      state.extraPrompt = !state.extraPrompt;
      state.bus.publish({ kind: 'prompts_list_changed' });
      return text(`test_dynamic_prompt ${state.extraPrompt ? 'added' : 'removed'}`);
    },
  );
  if (state.extraTool) {
    server.registerTool('test_dynamic_tool', { description: 'Present while toggled on' }, () =>
      text('dynamic'),
    );
  }
}

function registerResources(server: McpServer): void {
  server.registerResource(
    'static-text',
    'test://static-text',
    { title: 'Static text', description: 'A static text resource', mimeType: 'text/plain' },
    () => ({
      contents: [
        {
          uri: 'test://static-text',
          mimeType: 'text/plain',
          text: 'This is the content of the static text resource.',
        },
      ],
    }),
  );
  server.registerResource(
    'static-binary',
    'test://static-binary',
    { title: 'Static binary', description: 'A static PNG resource', mimeType: 'image/png' },
    () => ({ contents: [{ uri: 'test://static-binary', mimeType: 'image/png', blob: PNG }] }),
  );
  server.registerResource(
    'template',
    new ResourceTemplate('test://template/{id}/data', { list: undefined }),
    { title: 'Template', description: 'Data for one id', mimeType: 'application/json' },
    (uri, { id }) => ({
      contents: [
        {
          uri: uri.href,
          mimeType: 'application/json',
          text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${String(id)}` }),
        },
      ],
    }),
  );
  server.registerResource(
    'watched-resource',
    'test://watched-resource',
    { title: 'Watched resource', description: 'A resource clients may subscribe to', mimeType: 'text/plain' },
    () => ({
      contents: [
        { uri: 'test://watched-resource', mimeType: 'text/plain', text: 'Watched resource content' },
      ],
    }),
  );
  // 2025-era subscriptions. A stateless endpoint has no stream to deliver updates on; the calls succeed.
  server.server.setRequestHandler('resources/subscribe', () => ({}));
  server.server.setRequestHandler('resources/unsubscribe', () => ({}));
}

function registerPrompts(server: McpServer, state: FixtureState): void {
  server.registerPrompt('test_simple_prompt', { description: 'A prompt without arguments' }, () => ({
    messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }],
  }));
  server.registerPrompt(
    'test_prompt_with_arguments',
    {
      description: 'A prompt with two required arguments',
      argsSchema: z.object({
        arg1: completable(z.string().describe('First test argument'), (value) =>
          ['paris', 'park', 'party', 'test'].filter((v) => v.startsWith(value)),
        ),
        arg2: z.string().describe('Second test argument'),
      }),
    },
    ({ arg1, arg2 }) => ({
      messages: [
        {
          role: 'user',
          content: { type: 'text', text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` },
        },
      ],
    }),
  );
  server.registerPrompt(
    'test_prompt_with_embedded_resource',
    {
      description: 'A prompt embedding a resource',
      argsSchema: z.object({ resourceUri: z.string().describe('URI of the resource to embed') }),
    },
    ({ resourceUri }) => ({
      messages: [
        {
          role: 'user',
          content: {
            type: 'resource',
            resource: {
              uri: resourceUri,
              mimeType: 'text/plain',
              text: 'Embedded resource content for testing.',
            },
          },
        },
        { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
      ],
    }),
  );
  server.registerPrompt('test_prompt_with_image', { description: 'A prompt with an image' }, () => ({
    messages: [
      { role: 'user', content: { type: 'image', data: PNG, mimeType: 'image/png' } },
      { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
    ],
  }));
  server.registerPrompt(
    'test_input_required_result_prompt',
    { description: 'Asks for context before building the prompt' },
    (ctx) => {
      const answer = acceptedContent(
        ctx.mcpReq.inputResponses,
        'user_context',
        z.object({ context: z.string() }),
      );
      if (!answer) {
        return inputRequired({
          inputRequests: {
            user_context: inputRequired.elicit({
              message: 'What context should the prompt use?',
              requestedSchema: {
                type: 'object',
                properties: { context: { type: 'string' } },
                required: ['context'],
              },
            }),
          },
        });
      }
      return {
        messages: [{ role: 'user', content: { type: 'text', text: `Use this context: ${answer.context}` } }],
      };
    },
  );
  if (state.extraPrompt) {
    server.registerPrompt('test_dynamic_prompt', { description: 'Present while toggled on' }, () => ({
      messages: [{ role: 'user', content: { type: 'text', text: 'dynamic' } }],
    }));
  }
}
