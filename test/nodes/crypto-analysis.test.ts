/**
 * The Crypto Analysis node against a local REST stub: for every operation the request (method, path,
 * bearer key, exact JSON body, which must also pass the server's own zod input schema), the answer as
 * the item's json with pairedItem, server errors as NodeApiError with the server's message and status,
 * Continue On Fail, and the parameter options checked against the schemas' enums.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';
import { CryptoAnalysis } from '../../nodes/CryptoAnalysis/CryptoAnalysis.node';
import { CryptoMcpApi } from '../../credentials/CryptoMcpApi.credentials';
import { TIMEFRAMES } from '../../nodes/shared/fields';
import { fakeContext } from '../helpers/n8n-context';
import { startRestStub, stubError, TOOL_NAMES, type RestStub } from '../helpers/rest-stub';
import { tools as serverTools } from '../../mcp-server/src/tools/index';
import { STRATEGIES } from '../../mcp-server/src/core/backtest/strategies/index';
import { RANK_BY } from '../../mcp-server/src/core/backtest/grid';

const API_KEY = 'test-key-0123456789abcdef';
const ALERT_ID = '3f2b8c1e-5d4a-4e7b-9c0d-1a2b3c4d5e6f';
const RUN_ID_2 = '9a7d6e5f-1b2c-4d3e-8f4a-5b6c7d8e9f0a';

let stub: RestStub;

beforeAll(async () => {
  stub = await startRestStub({ apiKeys: [API_KEY] });
});
afterAll(async () => {
  await stub.close();
});
beforeEach(() => {
  stub.requests.length = 0;
  for (const name of TOOL_NAMES) {
    stub.tools[name] = (args) => ({ status: 200, body: { tool: name, received: args, notes: [] } });
  }
});

const node = new CryptoAnalysis();

function context(
  parameters: Record<string, unknown>,
  extra: { items?: INodeExecutionData[]; continueOnFail?: boolean; baseUrl?: string; apiKey?: string } = {},
) {
  return fakeContext({
    parameters,
    items: extra.items,
    continueOnFail: extra.continueOnFail,
    credentials: {
      cryptoMcpApi: {
        data: { baseUrl: extra.baseUrl ?? `${stub.baseUrl}/`, apiKey: extra.apiKey ?? API_KEY },
        type: new CryptoMcpApi(),
      },
    },
  });
}

async function run(parameters: Record<string, unknown>, extra: Parameters<typeof context>[1] = {}) {
  const ctx = context(parameters, extra);
  const output = await node.execute.call(ctx.context as IExecuteFunctions);
  return { output, ctx };
}

interface Case {
  name: string;
  parameters: Record<string, unknown>;
  tool: string;
  body: Record<string, unknown>;
}

const cases: Case[] = [
  {
    name: 'market.analyze, required fields only',
    parameters: {
      resource: 'market',
      operation: 'analyze',
      symbol: ' BTCUSDT ',
      timeframe: '4h',
      options: {},
    },
    tool: 'analyze_crypto',
    body: { symbol: 'BTCUSDT', timeframe: '4h' },
  },
  {
    name: 'market.analyze, every option',
    parameters: {
      resource: 'market',
      operation: 'analyze',
      symbol: 'ETH/USDT',
      timeframe: '1h',
      options: {
        candles: 300,
        comparisonSymbol: 'BTCUSDT',
        exchange: 'kraken',
        higherTimeframe: '1d',
        saveAnalysis: false,
      },
    },
    tool: 'analyze_crypto',
    body: {
      symbol: 'ETH/USDT',
      timeframe: '1h',
      limit: 300,
      comparison_symbol: 'BTCUSDT',
      exchange: 'kraken',
      higher_timeframe: '1d',
      save_analysis: false,
    },
  },
  {
    name: 'market.scan',
    parameters: {
      resource: 'market',
      operation: 'scan',
      scanType: 'reversals',
      timeframe: '15m',
      options: {
        symbols: 'BTCUSDT, eth/usdt\nSOL-USDT',
        maxResults: 10,
        minVolumeUsd: 0,
        includeStablecoins: true,
        quote: 'USDC',
        exchange: '',
      },
    },
    tool: 'market_scanner',
    body: {
      scan_type: 'reversals',
      timeframe: '15m',
      symbols: ['BTCUSDT', 'eth/usdt', 'SOL-USDT'],
      max_results: 10,
      min_volume_usd: 0,
      include_stablecoins: true,
      quote: 'USDC',
    },
  },
  {
    name: 'market.detectOpportunities',
    parameters: {
      resource: 'market',
      operation: 'detectOpportunities',
      confidenceThreshold: 65,
      timeframe: '1h',
      options: { marketCapRange: 'large', maxResults: 3, minVolumeUsd: 5e6 },
    },
    tool: 'detect_opportunities',
    body: {
      confidence_threshold: 65,
      timeframe: '1h',
      market_cap_range: 'large',
      max_results: 3,
      min_volume_usd: 5e6,
    },
  },
  {
    name: 'portfolio.monitor with positions defined below',
    parameters: {
      resource: 'portfolio',
      operation: 'monitor',
      portfolioId: 'main',
      positionsInput: 'fields',
      positions: {
        position: [
          {
            symbol: 'BTCUSDT',
            quantity: 0.5,
            entryPrice: 60000,
            entryTime: '2025-03-01T12:00:00Z',
            fees: 12,
          },
          { symbol: 'ETHUSDT', quantity: 0, entryPrice: 0, entryTime: '', fees: 0 },
        ],
      },
      riskLevel: 'conservative',
      options: { updateMode: 'upsert', cash: 1000, interval: '1d', lookbackDays: 90 },
    },
    tool: 'monitor_portfolio',
    body: {
      portfolio_id: 'main',
      positions: [
        {
          symbol: 'BTCUSDT',
          quantity: 0.5,
          entry_price: 60000,
          entry_time: '2025-03-01T12:00:00Z',
          fees: 12,
        },
        { symbol: 'ETHUSDT', quantity: 0 },
      ],
      risk_level: 'conservative',
      update_mode: 'upsert',
      cash: 1000,
      interval: '1d',
      lookback_days: 90,
    },
  },
  {
    name: 'portfolio.monitor with positions as JSON',
    parameters: {
      resource: 'portfolio',
      operation: 'monitor',
      portfolioId: '',
      positionsInput: 'json',
      positionsJson: '[{"symbol": "SOLUSDT", "quantity": 10, "entry_price": 150}]',
      riskLevel: 'moderate',
      options: {},
    },
    tool: 'monitor_portfolio',
    body: {
      positions: [{ symbol: 'SOLUSDT', quantity: 10, entry_price: 150 }],
      risk_level: 'moderate',
    },
  },
  {
    name: 'portfolio.monitor of a basket of symbols',
    parameters: {
      resource: 'portfolio',
      operation: 'monitor',
      portfolioId: '',
      positionsInput: 'none',
      riskLevel: 'aggressive',
      options: { symbols: 'BTCUSDT,ETHUSDT', benchmark: 'ETH/USDT', riskFreeRate: 0.04 },
    },
    tool: 'monitor_portfolio',
    body: {
      symbols: ['BTCUSDT', 'ETHUSDT'],
      risk_level: 'aggressive',
      benchmark: 'ETH/USDT',
      risk_free_rate: 0.04,
    },
  },
  {
    name: 'risk.assess',
    parameters: {
      resource: 'risk',
      operation: 'assess',
      symbol: 'BTCUSDT',
      portfolioValue: 25000,
      entryPrice: 100,
      stopLoss: 95,
      riskPercentage: 1,
      options: {
        takeProfit: 0,
        winRate: 0.55,
        payoffRatio: 1.8,
        side: 'long',
        timeframe: '4h',
        feeRate: 0.0005,
      },
    },
    tool: 'risk_assessment',
    body: {
      symbol: 'BTCUSDT',
      portfolio_value: 25000,
      entry_price: 100,
      stop_loss: 95,
      risk_percentage: 1,
      win_rate: 0.55,
      payoff_ratio: 1.8,
      side: 'long',
      timeframe: '4h',
      fee_rate: 0.0005,
    },
  },
  {
    name: 'alert.create to WhatsApp',
    parameters: {
      resource: 'alert',
      operation: 'create',
      symbol: 'BTCUSDT',
      condition: 'rsi(14, 1h) < 30',
      channel: 'whatsapp',
      phoneNumber: 'whatsapp:+49 151 1234-5678', // as a sheet or the WhatsApp node may write it
      webhookUrl: 'https://ignored.example.com',
      options: {
        repeat: 'repeat',
        cooldownMinutes: 120,
        messageTemplate: '{symbol} is oversold at {price}',
        quietHours: { hours: { start: '22:00', end: '07:00', timeZone: 'Europe/Berlin' } },
        alertType: 'technical',
      },
    },
    tool: 'alert_manager',
    body: {
      action: 'create',
      symbol: 'BTCUSDT',
      condition: 'rsi(14, 1h) < 30',
      phone_number: '+4915112345678',
      repeat: 'repeat',
      cooldown_minutes: 120,
      message_template: '{symbol} is oversold at {price}',
      quiet_hours: { start: '22:00', end: '07:00', time_zone: 'Europe/Berlin' },
      alert_type: 'technical',
    },
  },
  {
    name: 'alert.create to a webhook with a JSON condition',
    parameters: {
      resource: 'alert',
      operation: 'create',
      symbol: '',
      condition: '{"kind": "portfolio", "metric": "drawdown_pct", "op": ">", "value": 10}',
      channel: 'webhook',
      phoneNumber: '+4915112345678',
      webhookUrl: 'https://n8n.example.com/webhook/crypto-alert',
      options: { timeframe: '4h', expiresAt: '2030-01-01T00:00:00Z' },
    },
    tool: 'alert_manager',
    body: {
      action: 'create',
      condition: { kind: 'portfolio', metric: 'drawdown_pct', op: '>', value: 10 },
      webhook_url: 'https://n8n.example.com/webhook/crypto-alert',
      timeframe: '4h',
      expires_at: '2030-01-01T00:00:00Z',
    },
  },
  {
    name: 'alert.update',
    parameters: {
      resource: 'alert',
      operation: 'update',
      alertId: ALERT_ID,
      updateFields: { condition: 'price > 80000', repeat: 'once', phoneNumber: ' +1 (415) 555.0123 ' },
    },
    tool: 'alert_manager',
    body: {
      action: 'update',
      alert_id: ALERT_ID,
      condition: 'price > 80000',
      repeat: 'once',
      phone_number: '+14155550123',
    },
  },
  {
    name: 'alert.getAll',
    parameters: { resource: 'alert', operation: 'getAll' },
    tool: 'alert_manager',
    body: { action: 'list' },
  },
  ...(['delete', 'pause', 'resume'] as const).map((operation) => ({
    name: `alert.${operation}`,
    parameters: { resource: 'alert', operation, alertId: ALERT_ID },
    tool: 'alert_manager',
    body: { action: operation, alert_id: ALERT_ID },
  })),
  {
    name: 'alert.getHistory',
    parameters: { resource: 'alert', operation: 'getHistory', alertId: ALERT_ID, limit: 10 },
    tool: 'alert_manager',
    body: { action: 'history', alert_id: ALERT_ID, limit: 10 },
  },
  {
    name: 'backtest.run, a named strategy',
    parameters: {
      resource: 'backtest',
      operation: 'run',
      symbol: 'BTCUSDT',
      strategy: 'ema_cross',
      timeframe: '1d',
      mode: 'single',
      spec: '{"ignored": true}',
      paramGrid: '{"ignored": [1]}',
      options: {
        params: '{"fast": 12, "slow": 26}',
        start: '2025-01-01',
        end: '2025-06-30',
        allowShort: true,
        stopLossPct: 0.05,
        takeProfitPct: 0,
        sizing: 'risk_per_trade',
        riskPerTradePct: 1.5,
        charts: 'svg',
      },
    },
    tool: 'historical_backtest',
    body: {
      symbol: 'BTCUSDT',
      strategy: 'ema_cross',
      timeframe: '1d',
      mode: 'single',
      params: { fast: 12, slow: 26 },
      start: '2025-01-01',
      end: '2025-06-30',
      allow_short: true,
      stop_loss_pct: 0.05,
      sizing: 'risk_per_trade',
      risk_per_trade_pct: 1.5,
      charts: 'svg',
    },
  },
  {
    name: 'backtest.run, JSON rules',
    parameters: {
      resource: 'backtest',
      operation: 'run',
      symbol: 'ETHUSDT',
      strategy: 'rules',
      timeframe: '4h',
      mode: 'single',
      spec: '{"entry_long": {"left": "close", "op": "crosses_above", "right": "ema(50)"}, "stop_loss_pct": 0.03}',
      options: {},
    },
    tool: 'historical_backtest',
    body: {
      symbol: 'ETHUSDT',
      strategy: 'rules',
      timeframe: '4h',
      mode: 'single',
      spec: { entry_long: { left: 'close', op: 'crosses_above', right: 'ema(50)' }, stop_loss_pct: 0.03 },
    },
  },
  {
    name: 'backtest.run, grid',
    parameters: {
      resource: 'backtest',
      operation: 'run',
      symbol: 'BTCUSDT',
      strategy: 'sma_cross',
      timeframe: '1h',
      mode: 'grid',
      paramGrid: { fast: [10, 20], slow: [50, 100] },
      options: { trainFraction: 0.6, rankBy: 'calmar' },
    },
    tool: 'historical_backtest',
    body: {
      symbol: 'BTCUSDT',
      strategy: 'sma_cross',
      timeframe: '1h',
      mode: 'grid',
      param_grid: { fast: [10, 20], slow: [50, 100] },
      train_fraction: 0.6,
      rank_by: 'calmar',
    },
  },
  {
    name: 'backtest.get',
    parameters: { resource: 'backtest', operation: 'get', runId: ALERT_ID },
    tool: 'historical_backtest',
    body: { run_id: ALERT_ID },
  },
  {
    name: 'backtest.compare',
    parameters: { resource: 'backtest', operation: 'compare', runIds: `${ALERT_ID}, ${RUN_ID_2}` },
    tool: 'historical_backtest',
    body: { compare_run_ids: [ALERT_ID, RUN_ID_2] },
  },
];

describe('Crypto Analysis: one tool call per operation', () => {
  it.each(cases)('$name', async ({ parameters, tool, body }) => {
    const { output } = await run(parameters);

    expect(stub.requests).toHaveLength(1);
    const [request] = stub.requests;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe(`/api/v1/tools/${tool}`);
    expect(request!.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(request!.headers['content-type']).toMatch(/application\/json/);
    expect(request!.body).toStrictEqual(body);

    // The body is what the server's own schema accepts.
    const schema = serverTools.find((t) => t.name === tool)!.input;
    const parsed = schema.safeParse(request!.body);
    expect(parsed.error?.issues ?? []).toStrictEqual([]);

    expect(output).toStrictEqual([[{ json: { tool, received: body, notes: [] }, pairedItem: { item: 0 } }]]);
  });

  it('covers every resource and operation the node offers', () => {
    const offered = operationPairs(node.description.properties);
    const tested = new Set(cases.map((c) => `${c.parameters.resource}.${c.parameters.operation}`));
    expect([...offered].sort()).toStrictEqual([...tested].sort());
    // One operation per tool, every tool reachable.
    expect(new Set(cases.map((c) => c.tool))).toStrictEqual(new Set(TOOL_NAMES));
  });
});

describe('Crypto Analysis: items, errors and Continue On Fail', () => {
  it('sends one request per input item and pairs each result with its item', async () => {
    const symbols = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];
    const { output } = await run(
      {
        resource: 'market',
        operation: 'analyze',
        symbol: (i: number) => symbols[i],
        timeframe: '1h',
        options: {},
      },
      { items: symbols.map((s) => ({ json: { s } })) },
    );
    expect(stub.requests.map((r) => (r.body as { symbol: string }).symbol)).toStrictEqual(symbols);
    expect(output[0]!.map((item) => item.pairedItem)).toStrictEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
    expect(output[0]!.map((item) => (item.json.received as { symbol: string }).symbol)).toStrictEqual(
      symbols,
    );
  });

  it("throws a NodeApiError with the server's message, code and status", async () => {
    stub.tools.alert_manager = () =>
      stubError(404, 'NOT_FOUND', `No alert ${ALERT_ID}; list your alerts to see their ids.`);
    const error = await run({ resource: 'alert', operation: 'pause', alertId: ALERT_ID }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NodeApiError);
    const apiError = error as NodeApiError;
    expect(apiError.message).toBe(`No alert ${ALERT_ID}; list your alerts to see their ids.`);
    expect(apiError.httpCode).toBe('404');
    expect(apiError.description).toContain('NOT_FOUND (HTTP 404)');
    expect(apiError.context.itemIndex).toBe(0);
    expect(apiError.context.errorCode).toBe('NOT_FOUND');
  });

  it("keeps the server's message even when it mentions a network error code", async () => {
    stub.tools.market_scanner = () =>
      stubError(503, 'EXCHANGE_UNAVAILABLE', 'binance did not answer (ETIMEDOUT); try again in a minute.');
    const error = (await run({
      resource: 'market',
      operation: 'scan',
      scanType: 'all',
      timeframe: '1h',
      options: {},
    }).catch((e: unknown) => e)) as NodeApiError;
    expect(error).toBeInstanceOf(NodeApiError);
    expect(error.message).toBe('binance did not answer (ETIMEDOUT); try again in a minute.');
    expect(error.httpCode).toBe('503');
  });

  it('reports a 400 validation answer and the item it belongs to', async () => {
    stub.tools.analyze_crypto = (args) =>
      args.symbol === 'BAD'
        ? stubError(400, 'INVALID_ARGUMENT', 'symbol: a market symbol such as BTCUSDT')
        : { body: { ok: true } };
    const error = (await run(
      {
        resource: 'market',
        operation: 'analyze',
        symbol: (i: number) => (i === 1 ? 'BAD' : 'BTCUSDT'),
        timeframe: '1h',
        options: {},
      },
      { items: [{ json: {} }, { json: {} }] },
    ).catch((e: unknown) => e)) as NodeApiError;
    expect(error).toBeInstanceOf(NodeApiError);
    expect(error.message).toBe('symbol: a market symbol such as BTCUSDT');
    expect(error.httpCode).toBe('400');
    expect(error.context.itemIndex).toBe(1);
  });

  it('shows Retry-After on 429', async () => {
    stub.tools.detect_opportunities = () =>
      stubError(429, 'RATE_LIMITED', 'Too many calls of detect_opportunities; wait 7 s.', {
        'Retry-After': '7',
      });
    const error = (await run({
      resource: 'market',
      operation: 'detectOpportunities',
      confidenceThreshold: 50,
      timeframe: '1h',
      options: {},
    }).catch((e: unknown) => e)) as NodeApiError;
    expect(error.httpCode).toBe('429');
    expect(error.message).toBe('Too many calls of detect_opportunities; wait 7 s.');
    expect(error.description).toContain('retry after 7 s');
  });

  it('rejects a wrong API key with the 401 message and a hint about the credential', async () => {
    const error = (await run(
      { resource: 'alert', operation: 'getAll' },
      { apiKey: 'wrong-key-0123456789' },
    ).catch((e: unknown) => e)) as NodeApiError;
    expect(error).toBeInstanceOf(NodeApiError);
    expect(error.httpCode).toBe('401');
    expect(error.message).toMatch(/invalid API key/);
    expect(error.description).toMatch(/API key in the Crypto MCP API credential/);
    expect(stub.requests[0]!.headers.authorization).toBe('Bearer wrong-key-0123456789');
  });

  it('explains a non-JSON error page (e.g. a proxy) by its status', async () => {
    stub.tools.risk_assessment = () => ({ status: 502, raw: '<html>Bad Gateway</html>' });
    const error = (await run({
      resource: 'risk',
      operation: 'assess',
      symbol: 'BTCUSDT',
      portfolioValue: 1000,
      entryPrice: 10,
      stopLoss: 9,
      riskPercentage: 2,
      options: {},
    }).catch((e: unknown) => e)) as NodeApiError;
    expect(error).toBeInstanceOf(NodeApiError);
    expect(error.httpCode).toBe('502');
    expect(error.message).toBe('The Crypto MCP server answered HTTP 502 without an error message');
  });

  it('says where it could not connect when the server is down', async () => {
    const down = await startRestStub();
    const url = down.baseUrl;
    await down.close();
    const error = (await run({ resource: 'alert', operation: 'getAll' }, { baseUrl: url }).catch(
      (e: unknown) => e,
    )) as NodeApiError;
    expect(error).toBeInstanceOf(NodeApiError);
    expect(error.message).toContain(`Could not reach the Crypto MCP server at ${url}`);
  });

  it('rejects a credential without an http(s) server URL before sending anything', async () => {
    const error = await run({ resource: 'alert', operation: 'getAll' }, { baseUrl: 'localhost:8080' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NodeOperationError);
    expect((error as Error).message).toMatch(/not an http\(s\) URL/);
    expect(stub.requests).toHaveLength(0);
  });

  it('with Continue On Fail, turns a failed item into an error item and carries on', async () => {
    stub.tools.alert_manager = (args) =>
      args.alert_id === ALERT_ID
        ? stubError(404, 'NOT_FOUND', `No alert ${ALERT_ID}.`)
        : { body: { action: 'resume', alert: { id: args.alert_id } } };
    const ids = [ALERT_ID, RUN_ID_2];
    const { output } = await run(
      { resource: 'alert', operation: 'resume', alertId: (i: number) => ids[i] },
      { items: [{ json: {} }, { json: {} }], continueOnFail: true },
    );
    expect(output[0]).toHaveLength(2);
    expect(output[0]![0]).toMatchObject({
      json: { error: `No alert ${ALERT_ID}.`, code: 'NOT_FOUND', httpCode: '404' },
      pairedItem: { item: 0 },
    });
    expect(output[0]![1]).toStrictEqual({
      json: { action: 'resume', alert: { id: RUN_ID_2 } },
      pairedItem: { item: 1 },
    });
  });

  it('with Continue On Fail, reports invalid JSON parameters as an error item without calling the server', async () => {
    const { output } = await run(
      {
        resource: 'portfolio',
        operation: 'monitor',
        portfolioId: '',
        positionsInput: 'json',
        positionsJson: '[{"symbol": "BTCUSDT",',
        riskLevel: 'moderate',
        options: {},
      },
      { continueOnFail: true },
    );
    expect(stub.requests).toHaveLength(0);
    expect(output[0]![0]!.json.error).toMatch(/^Positions \(JSON\) is not valid JSON/);
    expect(output[0]![0]!.pairedItem).toStrictEqual({ item: 0 });
  });

  it('asks for positions, a portfolio ID or symbols instead of sending an empty portfolio', async () => {
    const error = await run({
      resource: 'portfolio',
      operation: 'monitor',
      portfolioId: '',
      positionsInput: 'none',
      riskLevel: 'moderate',
      options: {},
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NodeOperationError);
    expect((error as NodeOperationError).context.itemIndex).toBe(0);
    expect(stub.requests).toHaveLength(0);
  });

  it('rejects a JSON parameter of the wrong shape', async () => {
    const error = await run({
      resource: 'backtest',
      operation: 'run',
      symbol: 'BTCUSDT',
      strategy: 'ema_cross',
      timeframe: '1h',
      mode: 'single',
      options: { params: '[1, 2]' },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NodeOperationError);
    expect((error as Error).message).toBe('Strategy Parameters must be a JSON object');
  });
});

describe('Crypto Analysis: parameters match the server schemas', () => {
  const props = node.description.properties;

  it('offers exactly the server timeframes', async () => {
    const { TIMEFRAMES: serverTimeframes } = await import('../../mcp-server/src/market/timeframes');
    expect([...TIMEFRAMES]).toStrictEqual([...serverTimeframes]);
    expect(optionValues(props, 'timeframe', 'market', 'analyze')).toStrictEqual([...serverTimeframes]);
  });

  it.each([
    ['scanType', 'market', 'scan', 'market_scanner', 'scan_type'],
    ['riskLevel', 'portfolio', 'monitor', 'monitor_portfolio', 'risk_level'],
    ['strategy', 'backtest', 'run', null, null],
    ['mode', 'backtest', 'run', 'historical_backtest', 'mode'],
  ] as const)('%s offers the schema enum', (param, resource, operation, tool, field) => {
    const offered = optionValues(props, param, resource, operation).sort();
    const expected =
      tool === null
        ? STRATEGIES.map((s) => s.name)
        : enumOf(serverTools.find((t) => t.name === tool)!.input, field!);
    expect(offered).toStrictEqual([...expected].sort());
  });

  it.each([
    [
      'options',
      'marketCapRange',
      'market',
      'detectOpportunities',
      'detect_opportunities',
      'market_cap_range',
    ],
    ['options', 'interval', 'portfolio', 'monitor', 'monitor_portfolio', 'interval'],
    ['options', 'updateMode', 'portfolio', 'monitor', 'monitor_portfolio', 'update_mode'],
    ['options', 'side', 'risk', 'assess', 'risk_assessment', 'side'],
    ['options', 'repeat', 'alert', 'create', 'alert_manager', 'repeat'],
    ['options', 'sizing', 'backtest', 'run', 'historical_backtest', 'sizing'],
    ['options', 'rankBy', 'backtest', 'run', 'historical_backtest', 'rank_by'],
    ['options', 'charts', 'backtest', 'run', 'historical_backtest', 'charts'],
  ] as const)('%s.%s offers the schema enum', (collection, param, resource, operation, tool, field) => {
    const offered = collectionOptionValues(props, collection, param, resource, operation).sort();
    expect(offered).toStrictEqual([...enumOf(serverTools.find((t) => t.name === tool)!.input, field)].sort());
  });

  it('offers every alert type the server can deliver (news is not available)', () => {
    const offered = collectionOptionValues(props, 'options', 'alertType', 'alert', 'create').sort();
    const schema = enumOf(serverTools.find((t) => t.name === 'alert_manager')!.input, 'alert_type');
    expect(offered).toStrictEqual(schema.filter((v) => v !== 'news').sort());
    expect([...RANK_BY].length).toBeGreaterThan(0);
  });
});

// --- description helpers -------------------------------------------------------------------------

function visibleFor(p: INodeProperties, resource: string, operation: string): boolean {
  const show = p.displayOptions?.show ?? {};
  const r = show.resource as string[] | undefined;
  const o = show.operation as string[] | undefined;
  return (!r || r.includes(resource)) && (!o || o.includes(operation));
}

function operationPairs(properties: INodeProperties[]): Set<string> {
  const pairs = new Set<string>();
  for (const p of properties.filter((p) => p.name === 'operation')) {
    const resources = (p.displayOptions?.show?.resource as string[]) ?? [];
    for (const r of resources)
      for (const o of p.options ?? []) pairs.add(`${r}.${(o as { value: string }).value}`);
  }
  return pairs;
}

function optionValues(
  properties: INodeProperties[],
  name: string,
  resource: string,
  operation: string,
): string[] {
  const p = properties.find((p) => p.name === name && visibleFor(p, resource, operation));
  if (!p) throw new Error(`no parameter ${name} for ${resource}.${operation}`);
  return (p.options ?? []).map((o) => String((o as { value: string }).value));
}

function collectionOptionValues(
  properties: INodeProperties[],
  collection: string,
  name: string,
  resource: string,
  operation: string,
): string[] {
  const c = properties.find((p) => p.name === collection && visibleFor(p, resource, operation));
  const p = (c?.options as INodeProperties[] | undefined)?.find((o) => o.name === name);
  if (!p) throw new Error(`no option ${collection}.${name} for ${resource}.${operation}`);
  return (p.options ?? []).map((o) => String((o as { value: string }).value));
}

/** The values of an enum field of a zod object schema, through defaults and optionals. */
function enumOf(schema: unknown, field: string): string[] {
  let s = (schema as { shape: Record<string, unknown> }).shape[field] as {
    unwrap?: () => unknown;
    options?: unknown[];
  };
  while (s && !Array.isArray(s.options) && typeof s.unwrap === 'function') s = s.unwrap() as typeof s;
  if (!Array.isArray(s?.options)) throw new Error(`${field} is not an enum`);
  return s.options.map(String);
}
