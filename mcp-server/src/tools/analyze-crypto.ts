/**
 * `analyze_crypto`: one symbol on one timeframe: trend, volatility, indicators, smart-money
 * structure, key levels and a scored recommendation with entry, stop, targets and the reasons.
 */
import { z } from 'zod';
import { defineTool } from './tool.js';
import {
  exchangeSchema,
  provenanceSchema,
  seriesSourceSchema,
  symbolSchema,
  timeframeSchema,
} from './schemas.js';
import { timeframeMs } from '../market/timeframes.js';
import { formatReportSummary } from '../services/report-text.js';

const num = z.number();
const nullableNum = z.number().nullable();

export const analyzeCryptoInput = z
  .object({
    symbol: symbolSchema,
    timeframe: timeframeSchema.default('1h'),
    comparison_symbol: symbolSchema
      .optional()
      .describe('Optional second symbol (e.g. BTCUSDT) for correlation, beta and relative strength'),
    exchange: exchangeSchema.optional(),
    limit: z
      .number()
      .int()
      .min(100, 'limit must be at least 100 candles so indicators and structure can warm up')
      .max(1000, 'limit can be at most 1000 candles')
      .default(500)
      .describe('Closed candles to analyse (100-1000)'),
    higher_timeframe: z
      .union([timeframeSchema, z.literal('auto'), z.literal('none')])
      .default('auto')
      .describe(
        'Timeframe for multi-timeframe confluence: auto picks the next higher one (1h -> 4h), none disables it',
      ),
    save_analysis: z
      .boolean()
      .default(true)
      .describe('Archive this analysis (kept 7 days) for later review of signal accuracy'),
  })
  .refine(
    (a) =>
      a.higher_timeframe === 'auto' ||
      a.higher_timeframe === 'none' ||
      timeframeMs(a.higher_timeframe) > timeframeMs(a.timeframe),
    {
      path: ['higher_timeframe'],
      message: 'higher_timeframe must be longer than timeframe (e.g. 4h for a 1h analysis), or auto, or none',
    },
  );

const zoneSchema = z.object({
  type: z.enum(['bullish', 'bearish']).describe('bullish = demand, bearish = supply'),
  top: num,
  bottom: num,
  formed_at: z.string().describe('ISO open time of the candle that defines the zone'),
  confirmed_at: z.string().describe('ISO open time of the candle that confirmed it'),
  state: z.string(),
  distance_pct: num.describe('Distance from the last close to the zone, % of price (0 = price inside)'),
});

const orderBlockSchema = zoneSchema.extend({
  strength: num.describe('0-100, from the volume around the block relative to recent volume'),
  volume: num,
});

const fvgSchema = zoneSchema.extend({
  filled_pct: num.describe('How much of the gap price has traded back into, 0-100'),
});

const structureEventSchema = z.object({
  type: z.enum(['BOS', 'CHoCH']),
  direction: z.enum(['bullish', 'bearish']),
  level: num,
  swing_at: z.string(),
  broken_at: z.string(),
});

const liquiditySchema = z.object({
  type: z
    .enum(['buy-side', 'sell-side'])
    .describe('buy-side = resting above equal highs, sell-side = below equal lows'),
  level: num,
  touches: z.number().int(),
  confirmed_at: z.string(),
  swept_at: z.string().nullable(),
});

const levelSchema = z.object({ price: num, kind: z.string(), at: z.string().nullable(), distance_pct: num });

const reasonSchema = z.object({
  factor: z.string(),
  score: num.describe('Contribution to the score: positive bullish, negative bearish'),
  detail: z.string(),
});

export const analyzeCryptoOutput = z.object({
  symbol: z.string(),
  timeframe: z.string(),
  ...provenanceSchema.shape,
  price: z.object({
    last_close: num,
    change_pct: num.describe('Change over the analysed window, %'),
    high: num.describe('Highest high of the analysed window'),
    low: num.describe('Lowest low of the analysed window'),
  }),
  trend: z.object({
    direction: z.enum(['bullish', 'bearish', 'neutral']),
    structure: z.string().describe('Swing structure: higher highs/lows, lower highs/lows or mixed'),
    ema_alignment: z.enum(['bullish', 'bearish', 'mixed']),
    adx: nullableNum,
    plus_di: nullableNum,
    minus_di: nullableNum,
    strength: z.enum(['none', 'weak', 'trending', 'strong']),
  }),
  volatility: z.object({
    atr: num,
    atr_pct: num,
    regime: z.enum(['low', 'normal', 'high']),
    atr_percentile: num.describe('Where the current ATR% sits among the window, 0-100'),
    bollinger: z.object({ upper: num, middle: num, lower: num, bandwidth_pct: num, percent_b: num }),
  }),
  indicators: z.object({
    rsi: num,
    macd: z.object({ macd: num, signal: num, histogram: num }),
    stochastic: z.object({ k: num, d: num }),
    ema: z.object({ ema20: num, ema50: num, ema200: nullableNum }),
    sma: z.object({ sma20: num, sma50: num, sma200: nullableNum }),
    obv_slope: z.enum(['rising', 'falling', 'flat']).describe('OBV over the last 20 candles'),
    vwap: z.object({
      session: nullableNum.describe(
        'VWAP of the current UTC day (intraday timeframes with volume today), else null',
      ),
      anchored: nullableNum.describe('VWAP anchored at the last structure break'),
      anchored_at: z.string().nullable(),
    }),
    rsi_divergence: z.enum(['bullish', 'bearish', 'none']).describe('Between the last two confirmed swings'),
  }),
  smc: z.object({
    swing_length: z.number().int(),
    last_swing_high: z.object({ price: num, at: z.string() }).nullable(),
    last_swing_low: z.object({ price: num, at: z.string() }).nullable(),
    break_of_structure: structureEventSchema.nullable().describe('Most recent BOS'),
    change_of_character: structureEventSchema.nullable().describe('Most recent CHoCH'),
    recent_structure: z.array(structureEventSchema),
    order_blocks: z.array(orderBlockSchema).describe('Active (unmitigated) order blocks nearest to price'),
    fair_value_gaps: z.array(fvgSchema).describe('Open fair value gaps nearest to price'),
    liquidity_zones: z.array(liquiditySchema),
  }),
  key_levels: z.object({ support: z.array(levelSchema), resistance: z.array(levelSchema) }),
  confluence: z
    .object({
      ...seriesSourceSchema.shape,
      timeframe: z.string(),
      trend: z.enum(['bullish', 'bearish', 'neutral']),
      last_structure: structureEventSchema.nullable(),
      agrees: z.boolean().nullable().describe('Whether the higher timeframe agrees with the recommendation'),
    })
    .nullable(),
  comparison: z
    .object({
      ...seriesSourceSchema.shape,
      as_of: z.string().describe('ISO close time of the last candle both series have'),
      window_start: z.string().describe('ISO open time of the first candle both series have'),
      symbol: z.string(),
      correlation: nullableNum.describe(
        'Pearson correlation of log returns over the common candles; null if one did not move',
      ),
      beta: nullableNum,
      relative_strength_pct: num.describe(
        'Our change minus theirs over the common window, percentage points',
      ),
      common_candles: z.number().int(),
    })
    .nullable(),
  archive: z
    .object({ id: z.string(), store: z.enum(['mongodb', 'postgres-jsonb']) })
    .nullable()
    .describe('Where this answer was archived; null when save_analysis is false or the archive failed'),
  recommendation: z.object({
    action: z.enum(['BUY', 'SELL', 'HOLD']),
    confidence: z.number().int().min(0).max(100),
    score: num.describe('Signed sum of the reasons, -100..100'),
    entry: nullableNum,
    stop_loss: nullableNum,
    stop_basis: z.enum(['structure', 'atr']).nullable(),
    stop_reference: z
      .object({ price: num, kind: z.string() })
      .nullable()
      .describe('The support/resistance the stop sits beyond (0.2 ATR past it), when structural'),
    targets: z.array(z.object({ price: num, basis: z.string() })),
    risk_reward: nullableNum.describe('Reward to the first target divided by risk to the stop'),
    reasons: z.array(reasonSchema),
  }),
  notes: z
    .array(z.string())
    .describe('Caveats about the data, e.g. an old offline snapshot or a missing timeframe'),
  disclaimer: z.string(),
});

export type AnalyzeCryptoInput = z.output<typeof analyzeCryptoInput>;
export type AnalyzeCryptoOutput = z.output<typeof analyzeCryptoOutput>;

export const analyzeCryptoTool = defineTool({
  name: 'analyze_crypto',
  title: 'Analyze a crypto market',
  description:
    'Technical and smart-money analysis of one symbol on one timeframe from closed candles: trend (structure, EMA ' +
    'alignment, ADX), volatility regime, RSI/MACD/Stochastic/Bollinger/VWAP, order blocks, fair value gaps, ' +
    'BOS/CHoCH, liquidity pools, key levels, optional higher-timeframe confluence and comparison symbol, and a ' +
    'scored BUY/SELL/HOLD with entry, stop, targets, risk/reward and the reasons. Every answer names its data ' +
    'source and age. Not financial advice.',
  input: analyzeCryptoInput,
  output: analyzeCryptoOutput,
  annotations: { readOnlyHint: true, openWorldHint: true, idempotentHint: true, destructiveHint: false },
  handler: (args, ctx) => ctx.analysis.analyze(args, { save: args.save_analysis }),
  summarize: formatReportSummary,
});
