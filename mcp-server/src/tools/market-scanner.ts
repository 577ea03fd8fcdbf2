/**
 * `market_scanner`: scan a universe of markets for setups (breakouts, reversals, institutional
 * footprints, volume surges), each hit with its signals and values, a 0-100 strength and an
 * invalidation price, ranked, with market breadth and volatility.
 */
import { z } from 'zod';
import { defineTool } from './tool.js';
import { exchangeSchema, provenanceSchema, symbolSchema, timeframeSchema } from './schemas.js';
import { formatScanSummary } from '../services/scan-text.js';

const num = z.number();
const nullableNum = z.number().nullable();
const SCAN_TYPE_VALUES = ['breakouts', 'reversals', 'institutional', 'volume_surge'] as const;

export const quoteSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9]{2,10}$/, 'a quote currency such as USDT, USDC, BTC or EUR (2-10 letters or digits)')
  .describe('Quote currency of the markets to scan (any case)');

export const marketScannerInput = z.object({
  scan_type: z
    .enum([...SCAN_TYPE_VALUES, 'all'])
    .default('all')
    .describe(
      'breakouts: Donchian(20) range and BOS breaks on >= 1.5x volume; reversals: CHoCH, RSI divergence, ' +
        'exhaustion at 50-candle extremes; institutional: fresh order-block or FVG retests, liquidity sweeps; ' +
        'volume_surge: >= 3x the 20-candle average volume; all: every type',
    ),
  timeframe: timeframeSchema.default('1h'),
  min_volume_usd: z
    .number()
    .min(0, 'min_volume_usd must be 0 or more')
    .max(1e12)
    .default(1_000_000)
    .describe(
      'Skip markets whose 24h quote volume in USD is below this; 0 also keeps markets with unknown volume',
    ),
  max_results: z
    .number()
    .int()
    .min(1, 'max_results must be at least 1')
    .max(100, 'max_results can be at most 100')
    .default(20)
    .describe('Hits listed at most, strongest first'),
  quote: quoteSchema.default('USDT'),
  exchange: exchangeSchema.optional(),
  symbols: z
    .array(symbolSchema)
    .min(1, 'symbols needs at least one market (or leave it out to scan every market)')
    .max(500, 'at most 500 symbols')
    .optional()
    .describe(
      'Scan exactly these markets instead of every market; quote, min_volume_usd and include_stablecoins then do not filter',
    ),
  include_stablecoins: z
    .boolean()
    .default(false)
    .describe('Also scan markets whose base is a stablecoin or fiat (USDC, FDUSD, TUSD, DAI, EUR, ...)'),
});

const signalSchema = z.object({
  name: z
    .string()
    .describe(
      'donchian_breakout, break_of_structure, change_of_character, rsi_divergence, exhaustion, ' +
        'order_block_retest, fvg_retest, liquidity_sweep or volume_surge',
    ),
  at: z.string().describe('ISO open time of the candle the signal is based on'),
  strength: z.number().int().min(0).max(100),
  detail: z.string(),
  values: z.record(z.string(), num).describe('The measured values behind the signal, by name'),
  invalidation: num.describe('The signal fails once a candle closes beyond this price'),
});

export const hitSchema = z.object({
  rank: z.number().int(),
  symbol: z.string(),
  scan_type: z.enum(SCAN_TYPE_VALUES),
  direction: z.enum(['bullish', 'bearish']),
  strength: z
    .number()
    .int()
    .min(0)
    .max(100)
    .describe('The strongest signal plus a quarter of each further one, capped at 100'),
  signal_at: z.string().describe('ISO open time of the candle the hit is based on (its strongest signal)'),
  bars_ago: z.number().int().min(0).describe('Candles between that candle and the last closed one'),
  as_of: z.string().describe("ISO close time of this market's last candle"),
  last_close: num,
  invalidation: z.object({
    price: num.describe('The hit is no longer valid once a candle closes beyond this (below for bullish)'),
    basis: z.string(),
    distance_pct: num.describe('Distance from the last close, % of price'),
  }),
  signals: z.array(signalSchema).min(1).describe('Strongest first'),
  volume_24h_usd: nullableNum.describe(
    '24h quote volume in USD (offline: an estimate from the snapshot candles)',
  ),
});

export const marketConditionsSchema = z.object({
  markets: z.number().int(),
  breadth_pct: nullableNum.describe('Share of markets closing above their 50-candle EMA, %'),
  above_ema50: z.number().int(),
  with_ema50: z.number().int(),
  last_candle: z.object({
    open_time: z.string().describe("ISO open time of the scan's last candle"),
    advancers: z.number().int(),
    decliners: z.number().int(),
    unchanged: z.number().int(),
    median_change_pct: nullableNum,
  }),
  change_24h: z
    .object({
      markets: z.number().int(),
      advancers: z.number().int(),
      decliners: z.number().int(),
      unchanged: z.number().int(),
      median_change_pct: nullableNum,
      source: z.enum(['exchange_tickers', 'snapshot_derived']),
    })
    .nullable()
    .describe('From the 24h tickers; null when none cover the scanned markets'),
  median_atr_pct: nullableNum.describe('Median ATR(14) in % of price: the typical volatility per candle'),
});

const skippedReasonSchema = z.object({
  reason: z.string(),
  count: z.number().int(),
  symbols: z.array(z.string()).describe('Up to 10 of them'),
});

const countsSchema = z.object({
  breakouts: z.number().int().optional(),
  reversals: z.number().int().optional(),
  institutional: z.number().int().optional(),
  volume_surge: z.number().int().optional(),
});

export const marketScannerOutput = z.object({
  scan_type: z.enum([...SCAN_TYPE_VALUES, 'all']),
  timeframe: timeframeSchema,
  ...provenanceSchema.pick({ data_source: true, exchange: true, as_of: true, data_age_ms: true }).shape,
  candles_per_market: z.number().int().describe('Closed candles loaded per market (fewer for young markets)'),
  universe: z.object({
    selection: z.enum(['all_markets', 'symbols']),
    quote: z.string().nullable(),
    min_volume_usd: nullableNum,
    max_volume_usd: nullableNum,
    include_stablecoins: z.boolean().nullable(),
    considered: z.number().int().describe('Markets in the quote currency (or listed in symbols)'),
    scanned: z.number().int(),
    skipped: z.number().int(),
    skipped_reasons: z.array(skippedReasonSchema),
  }),
  hits_total: z.number().int().describe('Hits found, before max_results'),
  hits_by_type: countsSchema,
  hits: z.array(hitSchema).describe('Strongest first'),
  market_conditions: marketConditionsSchema,
  duration_ms: z.number().int(),
  compute: z.object({
    mode: z.enum(['worker_pool', 'inline']),
    workers: z.number().int(),
  }),
  notes: z.array(z.string()),
  disclaimer: z.string(),
});

export type MarketScannerInput = z.output<typeof marketScannerInput>;
export type MarketScannerOutput = z.output<typeof marketScannerOutput>;

export const marketScannerTool = defineTool({
  name: 'market_scanner',
  title: 'Scan the market for setups',
  description:
    'Scan every spot market of an exchange in one quote currency (offline: the 404-market bundled snapshot), or a ' +
    'list of symbols, for breakouts (Donchian range and BOS breaks with volume), reversals (CHoCH, RSI ' +
    'divergence, exhaustion at levels), institutional footprints (fresh order-block and FVG retests, liquidity ' +
    'sweeps) and volume surges, on closed candles. Each hit gives its signals with their values, the candle it ' +
    'is based on, a 0-100 strength and an invalidation price; hits are ranked, with market breadth, ' +
    'advancers/decliners and median volatility, and the markets skipped with reasons. Not financial advice.',
  input: marketScannerInput,
  output: marketScannerOutput,
  annotations: { readOnlyHint: true, openWorldHint: true, idempotentHint: true, destructiveHint: false },
  handler: (args, ctx, call) => ctx.scanner.scan(args, call),
  runsOnWorker: () => true,
  summarize: formatScanSummary,
});
