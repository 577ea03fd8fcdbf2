/**
 * `detect_opportunities`: the top trade ideas across the market. The scanner picks the markets with the
 * strongest setups; each candidate gets analyze_crypto's full analysis, and BUY/SELL recommendations at
 * or above the confidence threshold become ideas with entry, stop, targets, risk/reward and reasons.
 */
import { z } from 'zod';
import { defineTool } from './tool.js';
import { exchangeSchema, provenanceSchema, timeframeSchema } from './schemas.js';
import { marketConditionsSchema, quoteSchema } from './market-scanner.js';
import { formatOpportunitiesSummary } from '../services/scan-text.js';

const num = z.number();
const nullableNum = z.number().nullable();

export const detectOpportunitiesInput = z.object({
  confidence_threshold: z
    .number()
    .min(0)
    .max(100, 'confidence_threshold is 0-100')
    .default(50)
    .describe(
      "Minimum confidence (0-100) of analyze_crypto's BUY/SELL recommendation (BUY/SELL start at 30)",
    ),
  max_results: z
    .number()
    .int()
    .min(1, 'max_results must be at least 1')
    .max(20, 'max_results can be at most 20')
    .default(5)
    .describe('Ideas listed at most'),
  market_cap_range: z
    .enum(['large', 'mid', 'small', 'all'])
    .default('all')
    .describe(
      'Liquidity tier by 24h quote volume in USD, standing in for market cap (no market-cap data is bundled): ' +
        'large >= 100M, mid 10M-100M, small < 10M; all: no tier',
    ),
  timeframe: timeframeSchema.default('1h'),
  min_volume_usd: z
    .number()
    .min(0)
    .max(1e12)
    .default(1_000_000)
    .describe('Liquidity floor: markets with less 24h quote volume (USD) are not considered, in every tier'),
  quote: quoteSchema.default('USDT'),
  exchange: exchangeSchema.optional(),
});

const ideaSchema = z.object({
  rank: z.number().int(),
  symbol: z.string(),
  direction: z.enum(['long', 'short']),
  action: z.enum(['BUY', 'SELL']),
  confidence: z.number().int().min(0).max(100),
  score: num.describe('Signed sum of the reasons, -100..100'),
  entry: num,
  stop_loss: num,
  stop_basis: z.enum(['structure', 'atr']).nullable(),
  stop_reference: z.object({ price: num, kind: z.string() }).nullable(),
  targets: z.array(z.object({ price: num, basis: z.string() })),
  risk_reward: num.describe('Reward to the first target divided by risk to the stop'),
  rationale: z
    .array(z.object({ factor: z.string(), score: num, detail: z.string() }))
    .describe("The recommendation's reasons, as analyze_crypto gives them"),
  supporting_indicators: z.object({
    trend: z.enum(['bullish', 'bearish', 'neutral']),
    trend_strength: z.enum(['none', 'weak', 'trending', 'strong']),
    ema_alignment: z.enum(['bullish', 'bearish', 'mixed']),
    adx: nullableNum,
    rsi: num,
    macd_histogram: num,
    stochastic_k: num,
    rsi_divergence: z.enum(['bullish', 'bearish', 'none']),
    obv_slope: z.enum(['rising', 'falling', 'flat']),
    atr_pct: num,
    volatility_regime: z.enum(['low', 'normal', 'high']),
  }),
  higher_timeframe: z
    .object({
      timeframe: z.string(),
      trend: z.enum(['bullish', 'bearish', 'neutral']),
      agrees: z.boolean().nullable(),
    })
    .nullable(),
  scan_signals: z
    .array(
      z.object({
        scan_type: z.enum(['breakouts', 'reversals', 'institutional', 'volume_surge']),
        direction: z.enum(['bullish', 'bearish']),
        strength: z.number().int(),
        signal_at: z.string(),
        invalidation: num,
        summary: z.string(),
      }),
    )
    .describe('The scanner hits that made this market a candidate'),
  scan_agrees: z.boolean().describe('Whether a scanner hit points the same way as the recommendation'),
  liquidity: z.object({
    tier: z.enum(['large', 'mid', 'small']).nullable(),
    volume_24h_usd: nullableNum,
  }),
  ...provenanceSchema.shape,
});

export const detectOpportunitiesOutput = z.object({
  timeframe: timeframeSchema,
  ...provenanceSchema.pick({ data_source: true, exchange: true, as_of: true, data_age_ms: true }).shape,
  criteria: z.object({
    confidence_threshold: num,
    market_cap_range: z.enum(['large', 'mid', 'small', 'all']),
    min_volume_usd: num,
    max_volume_usd: nullableNum,
    quote: z.string(),
  }),
  scan: z.object({
    considered: z.number().int(),
    scanned: z.number().int(),
    skipped: z.number().int(),
    skipped_reasons: z.array(
      z.object({ reason: z.string(), count: z.number().int(), symbols: z.array(z.string()) }),
    ),
    hits: z.number().int(),
    markets_with_hits: z.number().int(),
    candidates_analysed: z.number().int(),
  }),
  recommendations: z
    .object({
      buy: z.number().int(),
      sell: z.number().int(),
      hold: z.number().int(),
      below_threshold: z.number().int(),
    })
    .describe('What the analysed candidates got'),
  market_conditions: marketConditionsSchema,
  ideas: z.array(ideaSchema).describe('Highest confidence first'),
  duration_ms: z.number().int(),
  notes: z.array(z.string()),
  disclaimer: z.string(),
});

export type DetectOpportunitiesInput = z.output<typeof detectOpportunitiesInput>;
export type DetectOpportunitiesOutput = z.output<typeof detectOpportunitiesOutput>;

export const detectOpportunitiesTool = defineTool({
  name: 'detect_opportunities',
  title: 'Detect trade opportunities',
  description:
    'The top trade ideas across the market: the market scanner finds the markets with the strongest setups, each ' +
    'candidate gets the same analysis and recommendation as analyze_crypto, and BUY/SELL recommendations at or ' +
    'above confidence_threshold are returned with direction, entry, stop, targets, risk/reward, the reasons and ' +
    'supporting indicators, and the scan signals behind them. market_cap_range filters by 24h volume tier. ' +
    'Every idea names its data source and age. Not financial advice.',
  input: detectOpportunitiesInput,
  output: detectOpportunitiesOutput,
  annotations: { readOnlyHint: true, openWorldHint: true, idempotentHint: true, destructiveHint: false },
  handler: (args, ctx, call) => ctx.opportunities.detect(args, call),
  // It scans the whole market before analysing the best candidates.
  runsOnWorker: () => true,
  summarize: formatOpportunitiesSummary,
});
