/**
 * The Crypto Scan Trigger's poll() against a local REST stub answering with results in the server's
 * own output shape (checked against its zod schemas): the request per source, filters, emitting only
 * setups not emitted before across polls, manual mode (current setups, no state change), the bounded
 * memory, and server errors.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { IDataObject, INodeExecutionData, IPollFunctions } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';
import { CryptoScanTrigger, MAX_SEEN_SETUPS } from '../../nodes/CryptoScanTrigger/CryptoScanTrigger.node';
import { CryptoMcpApi } from '../../credentials/CryptoMcpApi.credentials';
import { fakeContext } from '../helpers/n8n-context';
import { startRestStub, stubError, type RestStub } from '../helpers/rest-stub';
import {
  hitSchema,
  marketScannerInput,
  marketScannerOutput,
} from '../../mcp-server/src/tools/market-scanner';
import {
  detectOpportunitiesInput,
  detectOpportunitiesOutput,
} from '../../mcp-server/src/tools/detect-opportunities';
import { normalizeSymbol as serverNormalizeSymbol, resolveSymbol } from '../../mcp-server/src/market/symbols';
import { isMarketSymbol } from '../../nodes/shared/fields';

const API_KEY = 'trigger-key-0123456789abcdef';
const AS_OF = '2025-03-01T11:00:00.000Z';
const DISCLAIMER = 'Analysis only, not financial advice.';

// --- fixtures in the server's output shape ------------------------------------------------------------

type Hit = IDataObject;

function hit(over: Partial<Record<string, unknown>> = {}): Hit {
  const signalAt = (over.signal_at as string | undefined) ?? '2025-03-01T10:00:00.000Z';
  return {
    rank: 1,
    symbol: 'BTC/USDT',
    scan_type: 'breakouts',
    direction: 'bullish',
    strength: 80,
    signal_at: signalAt,
    bars_ago: 0,
    as_of: AS_OF,
    last_close: 64210.5,
    invalidation: { price: 63100, basis: 'broken Donchian high', distance_pct: 1.73 },
    signals: [
      {
        name: 'donchian_breakout',
        at: signalAt,
        strength: 80,
        detail: 'Close above the 20-candle high on 2.1x volume',
        values: { donchian_high: 64000, volume_ratio: 2.1 },
        invalidation: 63100,
      },
    ],
    volume_24h_usd: 1.2e9,
    ...over,
  };
}

function scanResult(hits: Hit[]): IDataObject {
  return {
    scan_type: 'all',
    timeframe: '1h',
    data_source: 'offline',
    exchange: 'binance',
    as_of: AS_OF,
    data_age_ms: 120000,
    candles_per_market: 300,
    universe: {
      selection: 'all_markets',
      quote: 'USDT',
      min_volume_usd: 1000000,
      max_volume_usd: null,
      include_stablecoins: false,
      considered: 404,
      scanned: 400,
      skipped: 4,
      skipped_reasons: [{ reason: 'too few candles', count: 4, symbols: ['NEW/USDT'] }],
    },
    hits_total: hits.length,
    hits_by_type: { breakouts: hits.length },
    hits: hits.map((h, i) => ({ ...h, rank: i + 1 })),
    market_conditions: {
      markets: 400,
      breadth_pct: 55,
      above_ema50: 220,
      with_ema50: 400,
      last_candle: {
        open_time: '2025-03-01T10:00:00.000Z',
        advancers: 210,
        decliners: 180,
        unchanged: 10,
        median_change_pct: 0.2,
      },
      change_24h: null,
      median_atr_pct: 0.8,
    },
    duration_ms: 850,
    compute: { mode: 'inline', workers: 0 },
    notes: [],
    disclaimer: DISCLAIMER,
  };
}

function idea(over: Partial<Record<string, unknown>> = {}): IDataObject {
  const signalAt = (over.signal_at as string | undefined) ?? '2025-03-01T09:00:00.000Z';
  const { signal_at: _ignored, ...rest } = over;
  return {
    rank: 1,
    symbol: 'ETH/USDT',
    direction: 'long',
    action: 'BUY',
    confidence: 72,
    score: 41,
    entry: 3400,
    stop_loss: 3320,
    stop_basis: 'structure',
    stop_reference: { price: 3336, kind: 'swing_low' },
    targets: [
      { price: 3520, basis: 'resistance' },
      { price: 3600, basis: 'buy-side liquidity' },
    ],
    risk_reward: 1.5,
    rationale: [{ factor: 'trend', score: 20, detail: 'Higher highs and higher lows' }],
    supporting_indicators: {
      trend: 'bullish',
      trend_strength: 'trending',
      ema_alignment: 'bullish',
      adx: 27,
      rsi: 58,
      macd_histogram: 3.2,
      stochastic_k: 64,
      rsi_divergence: 'none',
      obv_slope: 'rising',
      atr_pct: 1.1,
      volatility_regime: 'normal',
    },
    higher_timeframe: { timeframe: '4h', trend: 'bullish', agrees: true },
    scan_signals: [
      {
        scan_type: 'breakouts',
        direction: 'bullish',
        strength: 75,
        signal_at: signalAt,
        invalidation: 3320,
        summary: 'Break of structure above 3390',
      },
    ],
    scan_agrees: true,
    liquidity: { tier: 'large', volume_24h_usd: 8e8 },
    data_source: 'offline',
    exchange: 'binance',
    as_of: AS_OF,
    data_age_ms: 120000,
    candles: 500,
    first_candle: '2025-02-10T08:00:00.000Z',
    ...rest,
  };
}

function ideasResult(ideas: IDataObject[]): IDataObject {
  return {
    timeframe: '1h',
    data_source: 'offline',
    exchange: 'binance',
    as_of: AS_OF,
    data_age_ms: 120000,
    criteria: {
      confidence_threshold: 50,
      market_cap_range: 'all',
      min_volume_usd: 1000000,
      max_volume_usd: null,
      quote: 'USDT',
    },
    scan: {
      considered: 404,
      scanned: 400,
      skipped: 4,
      skipped_reasons: [],
      hits: 12,
      markets_with_hits: 9,
      candidates_analysed: 9,
    },
    recommendations: { buy: ideas.length, sell: 0, hold: 5, below_threshold: 1 },
    market_conditions: (scanResult([]) as { market_conditions: IDataObject }).market_conditions,
    ideas: ideas.map((d, i) => ({ ...d, rank: i + 1 })),
    duration_ms: 4200,
    notes: [],
    disclaimer: DISCLAIMER,
  };
}

// --- harness ------------------------------------------------------------------------------------------

let stub: RestStub;
let scanHits: Hit[];
let ideas: IDataObject[];

beforeAll(async () => {
  stub = await startRestStub({ apiKeys: [API_KEY] });
});
afterAll(async () => {
  await stub.close();
});
/** Markets the stub's exchange lists; `symbols` outside them are refused as the server refuses them. */
const KNOWN_MARKETS = new Set(['BTC/USDT', 'ETH/USDT', 'SOL/USDT', 'ETH/BTC', 'DOGE/USDT']);

beforeEach(() => {
  stub.requests.length = 0;
  scanHits = [];
  ideas = [];
  stub.tools.market_scanner = (args) => {
    const symbols = (args.symbols as string[] | undefined) ?? [];
    const unknown = symbols.findIndex((s) => resolveSymbol(s, KNOWN_MARKETS) === undefined);
    if (unknown >= 0) {
      return stubError(
        404,
        'UNKNOWN_SYMBOL',
        `symbols.${unknown}: Unknown symbol ${symbols[unknown]} on binance. Fix or remove it.`,
      );
    }
    return { body: scanResult(scanHits) };
  };
  stub.tools.detect_opportunities = () => ({ body: ideasResult(ideas) });
});

const trigger = new CryptoScanTrigger();

const SCAN_DEFAULTS = {
  source: 'scan',
  scanType: 'all',
  timeframe: '1h',
  minConfidence: 60,
  direction: 'any',
  symbols: '',
  options: {},
};

function pollContext(
  parameters: Record<string, unknown>,
  staticData: IDataObject,
  mode: 'manual' | 'trigger' = 'trigger',
) {
  return fakeContext({
    parameters: { ...SCAN_DEFAULTS, ...parameters },
    staticData,
    mode,
    poll: true,
    credentials: {
      cryptoMcpApi: { data: { baseUrl: stub.baseUrl, apiKey: API_KEY }, type: new CryptoMcpApi() },
    },
  });
}

async function poll(
  parameters: Record<string, unknown>,
  staticData: IDataObject,
  mode: 'manual' | 'trigger' = 'trigger',
): Promise<INodeExecutionData[][] | null> {
  const ctx = pollContext(parameters, staticData, mode);
  return await trigger.poll.call(ctx.context as IPollFunctions);
}

const emitted = (result: INodeExecutionData[][] | null) =>
  result ? result[0]!.map((item) => item.json) : [];

// --- tests --------------------------------------------------------------------------------------------

describe('fixtures', () => {
  it("match the server's output schemas", () => {
    const scan = marketScannerOutput.safeParse(
      scanResult([hit(), hit({ symbol: 'ETH/USDT', direction: 'bearish' })]),
    );
    expect(scan.error?.issues ?? []).toStrictEqual([]);
    expect(hitSchema.safeParse(hit()).success).toBe(true);
    const opp = detectOpportunitiesOutput.safeParse(ideasResult([idea(), idea({ symbol: 'SOL/USDT' })]));
    expect(opp.error?.issues ?? []).toStrictEqual([]);
  });
});

describe('market or base', () => {
  it('reads a symbol the way the server does', () => {
    const inputs = ['BTCUSDT', 'btc/usdt', 'ETH-BTC', 'sol_usdt', 'BTC/USDT:USDT', 'ETHBTC', 'PEPEFDUSD'];
    const bases = ['SOL', 'btc', 'USDT', 'PEPE', 'A/B/C'];
    for (const symbol of [...inputs, ...bases]) {
      expect(isMarketSymbol(symbol), symbol).toBe(serverNormalizeSymbol(symbol) !== undefined);
    }
    expect(inputs.every(isMarketSymbol)).toBe(true);
    expect(bases.some(isMarketSymbol)).toBe(false);
  });
});

describe('Crypto Scan Trigger: market scan', () => {
  it('calls market_scanner with the bearer key and the chosen parameters', async () => {
    scanHits = [hit()];
    await poll(
      {
        scanType: 'institutional',
        timeframe: '4h',
        symbols: 'BTCUSDT, eth-usdt',
        options: {
          exchange: 'kraken',
          quote: 'USD',
          minVolumeUsd: 0,
          maxResults: 50,
          includeStablecoins: true,
        },
      },
      {},
    );
    expect(stub.requests).toHaveLength(1);
    const [request] = stub.requests;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe('/api/v1/tools/market_scanner');
    expect(request!.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(request!.body).toStrictEqual({
      scan_type: 'institutional',
      timeframe: '4h',
      symbols: ['BTCUSDT', 'eth-usdt'],
      exchange: 'kraken',
      quote: 'USD',
      min_volume_usd: 0,
      max_results: 50,
      include_stablecoins: true,
    });
    expect(marketScannerInput.safeParse(request!.body).success).toBe(true);
  });

  it('emits each matching hit with the context a message needs', async () => {
    scanHits = [
      hit(),
      hit({ symbol: 'DOGE/USDT', strength: 40 }),
      hit({ symbol: 'ETH/USDT', as_of: '2025-03-01T10:00:00.000Z' }),
    ];
    const result = await poll({}, {});
    const items = emitted(result);
    expect(items.map((i) => i.symbol)).toStrictEqual(['BTC/USDT', 'ETH/USDT']); // strength 40 < 60
    expect(items[0]).toMatchObject({
      source: 'market_scanner',
      symbol: 'BTC/USDT',
      timeframe: '1h',
      exchange: 'binance',
      data_source: 'offline',
      as_of: AS_OF,
      data_age_ms: 120000,
      scan_type: 'breakouts',
      direction: 'bullish',
      strength: 80,
      signal_at: '2025-03-01T10:00:00.000Z',
      last_close: 64210.5,
      invalidation: { price: 63100 },
      disclaimer: DISCLAIMER,
      setup_key: 'scan|binance|1h|BTC/USDT|breakouts|bullish|2025-03-01T10:00:00.000Z',
    });
    expect(items[0]!.summary).toBe(
      'BTC/USDT 1h: bullish breakout, strength 80 (donchian_breakout). Last close 64210.5, invalid on a close below 63100.',
    );
    // A market whose last candle is an hour older than the scan's is an hour older.
    expect(items[1]!.data_age_ms).toBe(120000 + 3600000);
  });

  it('emits only setups it has not emitted before, across polls', async () => {
    const state: IDataObject = {};
    scanHits = [hit(), hit({ symbol: 'ETH/USDT' })];
    expect(emitted(await poll({}, state)).map((i) => i.symbol)).toStrictEqual(['BTC/USDT', 'ETH/USDT']);

    // Same setups again (re-ranked): nothing new.
    scanHits = [hit({ symbol: 'ETH/USDT' }), hit()];
    expect(await poll({}, state)).toBeNull();

    // A new signal candle on BTC is a new setup; a new market too; ETH is still the old one.
    scanHits = [
      hit({ signal_at: '2025-03-01T11:00:00.000Z' }),
      hit({ symbol: 'ETH/USDT' }),
      hit({ symbol: 'SOL/USDT', scan_type: 'volume_surge' }),
    ];
    const third = emitted(await poll({}, state));
    expect(third.map((i) => `${String(i.symbol)} ${String(i.signal_at)}`)).toStrictEqual([
      'BTC/USDT 2025-03-01T11:00:00.000Z',
      'SOL/USDT 2025-03-01T10:00:00.000Z',
    ]);
    expect(await poll({}, state)).toBeNull();
    expect(stub.requests).toHaveLength(4);
  });

  it('treats the same market in another direction or scan type as another setup', async () => {
    const state: IDataObject = {};
    scanHits = [hit()];
    await poll({}, state);
    scanHits = [hit(), hit({ direction: 'bearish' }), hit({ scan_type: 'reversals' })];
    const items = emitted(await poll({}, state));
    expect(items.map((i) => `${String(i.scan_type)} ${String(i.direction)}`)).toStrictEqual([
      'breakouts bearish',
      'reversals bullish',
    ]);
  });

  it('filters by minimum strength, direction, symbols and signal age', async () => {
    scanHits = [
      hit({ symbol: 'BTC/USDT', strength: 90 }),
      hit({ symbol: 'ETH/USDT', direction: 'bearish', strength: 70 }),
      hit({ symbol: 'SOL/USDT', strength: 65, bars_ago: 5 }),
      hit({ symbol: 'XRP/USDT', strength: 59 }),
      hit({ symbol: 'ADA/USDT', strength: 60 }),
    ];
    const symbolsOf = async (parameters: Record<string, unknown>) =>
      emitted(await poll(parameters, {})).map((i) => i.symbol);

    expect(await symbolsOf({})).toStrictEqual(['BTC/USDT', 'ETH/USDT', 'SOL/USDT', 'ADA/USDT']); // 60 counts
    expect(await symbolsOf({ minConfidence: 75 })).toStrictEqual(['BTC/USDT']);
    expect(await symbolsOf({ direction: 'bearish' })).toStrictEqual(['ETH/USDT']);
    expect(await symbolsOf({ direction: 'bullish' })).toStrictEqual(['BTC/USDT', 'SOL/USDT', 'ADA/USDT']);
    expect(await symbolsOf({ symbols: 'sol, ethusdt' })).toStrictEqual(['ETH/USDT', 'SOL/USDT']);
    expect(await symbolsOf({ options: { maxSignalAge: 3 } })).toStrictEqual([
      'BTC/USDT',
      'ETH/USDT',
      'ADA/USDT',
    ]);
    expect(await symbolsOf({ minConfidence: 0 })).toHaveLength(5);
  });

  it('scans a list of markets as given, but the whole market when the list has a bare base', async () => {
    scanHits = [hit(), hit({ symbol: 'SOL/USDT' }), hit({ symbol: 'ETH/USDT' })];

    await poll({ symbols: 'BTC/USDT, ethbtc, sol_usdt' }, {});
    expect((stub.requests[0]!.body as IDataObject).symbols).toStrictEqual(['BTC/USDT', 'ethbtc', 'sol_usdt']);
    expect((stub.requests[0]!.body as IDataObject).max_results).toBeUndefined();

    // "SOL" is a base, not a market: the server would refuse it as a symbol on every poll.
    const items = emitted(await poll({ symbols: 'BTCUSDT, SOL' }, {}));
    expect(items.map((i) => i.symbol)).toStrictEqual(['BTC/USDT', 'SOL/USDT']);
    const request = stub.requests[1]!.body as IDataObject;
    expect(request.symbols).toBeUndefined();
    expect(request.max_results).toBe(100); // every hit, so the filter does not miss one ranked low
    expect(marketScannerInput.safeParse(request).success).toBe(true);

    await poll({ symbols: 'SOL', options: { maxResults: 10 } }, {});
    expect((stub.requests[2]!.body as IDataObject).max_results).toBe(10);
  });

  it('remembers nothing for filtered-out setups, so they fire once they qualify', async () => {
    const state: IDataObject = {};
    scanHits = [hit({ strength: 50 })];
    expect(await poll({}, state)).toBeNull();
    scanHits = [hit({ strength: 70 })];
    expect(emitted(await poll({}, state))).toHaveLength(1);
  });

  it('in manual mode returns the current setups even if seen, and changes no state', async () => {
    const state: IDataObject = {};
    scanHits = [hit(), hit({ symbol: 'ETH/USDT' })];
    await poll({}, state);
    const before = JSON.parse(JSON.stringify(state)) as IDataObject;

    const manual = emitted(await poll({}, state, 'manual'));
    expect(manual.map((i) => i.symbol)).toStrictEqual(['BTC/USDT', 'ETH/USDT']);
    expect(state).toStrictEqual(before);

    // A first manual fetch does not use up the setups for the activated workflow either.
    const fresh: IDataObject = {};
    await poll({}, fresh, 'manual');
    expect(fresh).toStrictEqual({});
    expect(emitted(await poll({}, fresh))).toHaveLength(2);
  });

  it('in manual mode says so when nothing matches', async () => {
    scanHits = [hit({ strength: 10 })];
    const error = await poll({}, {}, 'manual').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NodeOperationError);
    expect((error as Error).message).toBe('No setup matches the current filters right now');
  });

  it('keeps its memory bounded, forgetting vanished setups first', async () => {
    const state: IDataObject = {};
    const persistent = hit({ symbol: 'KEEP/USDT' });
    let keepEmitted = 0;
    for (let round = 0; round < 8; round++) {
      scanHits = [
        persistent,
        ...Array.from({ length: 99 }, (_, i) =>
          hit({ symbol: `C${round}X${i}/USDT`, signal_at: `2025-03-0${1 + (round % 8)}T10:00:00.000Z` }),
        ),
      ];
      const items = emitted(await poll({}, state));
      keepEmitted += items.filter((i) => i.symbol === 'KEEP/USDT').length;
      expect(items).toHaveLength(round === 0 ? 100 : 99);
      const seen = state.seenSetups as string[];
      expect(seen.length).toBeLessThanOrEqual(MAX_SEEN_SETUPS);
      expect(new Set(seen).size).toBe(seen.length);
    }
    // 8 x 99 other setups went through a 500-key memory; the one still present was sent only once.
    expect(keepEmitted).toBe(1);
    expect((state.seenSetups as string[]).length).toBe(MAX_SEEN_SETUPS);
  });

  it('recovers from unusable stored state', async () => {
    const state: IDataObject = { seenSetups: 'garbage' };
    scanHits = [hit()];
    expect(emitted(await poll({}, state))).toHaveLength(1);
    expect(state.seenSetups).toStrictEqual([String(emitted(await poll({}, {}, 'manual'))[0]!.setup_key)]);
  });

  it("throws the server's error as a NodeApiError and remembers nothing", async () => {
    stub.tools.market_scanner = () =>
      stubError(503, 'EXCHANGE_UNAVAILABLE', 'binance is unavailable; try again later.');
    const state: IDataObject = {};
    const error = (await poll({}, state).catch((e: unknown) => e)) as NodeApiError;
    expect(error).toBeInstanceOf(NodeApiError);
    expect(error.message).toBe('binance is unavailable; try again later.');
    expect(error.httpCode).toBe('503');
    expect(state).toStrictEqual({});
  });
});

describe('Crypto Scan Trigger: trade ideas', () => {
  const IDEAS = { source: 'opportunities', minConfidence: 65 };

  it('calls detect_opportunities with the minimum confidence as its threshold', async () => {
    ideas = [idea()];
    await poll(
      { ...IDEAS, timeframe: '4h', options: { marketCapRange: 'large', maxResults: 50, quote: 'USDC' } },
      {},
    );
    const [request] = stub.requests;
    expect(request!.path).toBe('/api/v1/tools/detect_opportunities');
    expect(request!.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(request!.body).toStrictEqual({
      confidence_threshold: 65,
      timeframe: '4h',
      market_cap_range: 'large',
      max_results: 20,
      quote: 'USDC',
    });
    expect(detectOpportunitiesInput.safeParse(request!.body).success).toBe(true);
  });

  it('emits new ideas with context, filtered by confidence, direction and symbols', async () => {
    ideas = [
      idea(),
      idea({ symbol: 'SOL/USDT', confidence: 60 }),
      idea({
        symbol: 'BTC/USDT',
        direction: 'short',
        action: 'SELL',
        confidence: 80,
        entry: 64000,
        stop_loss: 65000,
      }),
    ];
    const items = emitted(await poll(IDEAS, {}));
    expect(items.map((i) => i.symbol)).toStrictEqual(['ETH/USDT', 'BTC/USDT']);
    expect(items[0]).toMatchObject({
      source: 'detect_opportunities',
      symbol: 'ETH/USDT',
      timeframe: '1h',
      exchange: 'binance',
      data_source: 'offline',
      as_of: AS_OF,
      data_age_ms: 120000,
      action: 'BUY',
      confidence: 72,
      entry: 3400,
      stop_loss: 3320,
      setup_key: 'idea|binance|1h|ETH/USDT|long|2025-03-01T09:00:00.000Z',
      disclaimer: DISCLAIMER,
    });
    expect(items[0]!.summary).toBe(
      'BUY ETH/USDT 1h, confidence 72: entry 3400, stop 3320, targets 3520 / 3600, risk/reward 1.50.',
    );
    expect(emitted(await poll({ ...IDEAS, direction: 'bearish' }, {})).map((i) => i.symbol)).toStrictEqual([
      'BTC/USDT',
    ]);
    expect(emitted(await poll({ ...IDEAS, symbols: 'ETH/USDT' }, {})).map((i) => i.symbol)).toStrictEqual([
      'ETH/USDT',
    ]);
  });

  it('does not resend an idea when only its price or candle moved, but does on a new signal', async () => {
    const state: IDataObject = {};
    ideas = [idea()];
    expect(emitted(await poll(IDEAS, state))).toHaveLength(1);
    ideas = [idea({ entry: 3410, as_of: '2025-03-01T12:00:00.000Z', confidence: 75 })];
    expect(await poll(IDEAS, state)).toBeNull();
    ideas = [idea({ signal_at: '2025-03-01T11:00:00.000Z' })];
    expect(emitted(await poll(IDEAS, state))).toHaveLength(1);
  });
});
