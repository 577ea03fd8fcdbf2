/**
 * `risk_assessment`: position size for one trade from the account, the risk taken, entry and stop:
 * fee-inclusive size and max loss, risk/reward, an ATR-based volatility-adjusted size, a Kelly size when
 * the edge is known, warnings, and the nearest structure levels from the analysis engine.
 */
import { z } from 'zod';
import { defineTool } from './tool.js';
import { exchangeSchema, symbolSchema, timeframeSchema } from './schemas.js';
import { formatRiskSummary } from '../services/risk-text.js';
import { RISK_WARNING_CODES } from '../services/risk.js';

const num = z.number();
const nullableNum = z.number().nullable();
/** Far above any real price or account, low enough that every product stays finite. */
const MAX_AMOUNT = 1e15;
const price = (what: string) =>
  z
    .number()
    .positive(`${what} must be greater than 0`)
    .max(MAX_AMOUNT, `${what} can be at most ${MAX_AMOUNT}`);

export const riskAssessmentInput = z
  .object({
    symbol: symbolSchema,
    portfolio_value: z
      .number()
      .min(100, 'portfolio_value must be at least 100')
      .max(MAX_AMOUNT, `portfolio_value can be at most ${MAX_AMOUNT}`)
      .describe('Account size in the quote currency'),
    risk_percentage: z
      .number()
      .min(0.1, 'risk_percentage must be at least 0.1')
      .max(10, 'risk_percentage can be at most 10')
      .default(2)
      .describe('% of the account to lose if the stop is hit (0.1-10, default 2)'),
    entry_price: price('entry_price'),
    stop_loss: price('stop_loss'),
    take_profit: price('take_profit').optional(),
    side: z
      .enum(['long', 'short'])
      .optional()
      .describe('Trade direction; inferred from take_profit or stop_loss when omitted'),
    fee_rate: z
      .number()
      .min(0)
      .max(0.01, 'fee_rate is a fraction per side: 0.001 is 0.1 %')
      .default(0.001)
      .describe('Fee per side as a fraction of notional (default 0.001 = 0.1 %, Binance spot taker)'),
    timeframe: timeframeSchema.default('1h').describe('Timeframe for ATR and structure levels'),
    atr_stop_multiple: z
      .number()
      .min(0.5)
      .max(10)
      .default(2)
      .describe('ATR multiple of the volatility-adjusted stop (default 2)'),
    win_rate: z.number().min(0).max(1).optional().describe('Win rate 0-1 (e.g. from a backtest), for Kelly'),
    payoff_ratio: z
      .number()
      .positive()
      .optional()
      .describe('Average win / average loss (e.g. from a backtest), for Kelly'),
    exchange: exchangeSchema.optional(),
  })
  .refine((a) => a.stop_loss !== a.entry_price, {
    message: 'stop_loss must differ from entry_price: the distance between them sizes the position',
    path: ['stop_loss'],
  })
  .refine((a) => (a.win_rate === undefined) === (a.payoff_ratio === undefined), {
    message: 'give win_rate and payoff_ratio together (Kelly needs both)',
    path: ['payoff_ratio'],
  });

const levelSchema = z.object({ price: num, kind: z.string(), distance_pct: num.describe('From entry, %') });

export const riskAssessmentOutput = z.object({
  symbol: z.string(),
  side: z.enum(['long', 'short']),
  side_inferred: z.boolean(),
  portfolio_value: num,
  risk_percentage: num,
  entry_price: num,
  stop_loss: num,
  take_profit: nullableNum,
  fee_rate: num,
  risk_amount: num.describe('portfolio_value x risk_percentage'),
  stop_distance: num,
  stop_distance_pct: num,
  position_size: num.describe('Units so that the loss at the stop, fees included, equals risk_amount'),
  position_value: num,
  position_pct_of_portfolio: num,
  max_loss: num.describe('Loss at the stop including entry and exit fees'),
  fees: z.object({ entry: num, exit_at_stop: num, exit_at_target: nullableNum }),
  breakeven_price: num.describe('Price that covers the round-trip fees'),
  risk_reward: nullableNum,
  risk_reward_after_fees: nullableNum,
  volatility_adjusted: z
    .object({
      timeframe: timeframeSchema,
      atr: num,
      atr_stop_multiple: num,
      stop_distance: num,
      position_size: num,
      position_value: num,
    })
    .nullable()
    .describe('Size if the stop were atr_stop_multiple ATR away; null without market data'),
  stop_in_atr: nullableNum,
  kelly: z
    .object({
      win_rate: num,
      payoff_ratio: num,
      fraction: num.describe(
        'Kelly fraction W - (1-W)/R: the share of the account to risk at the stop; 0 when there is no edge',
      ),
      risk_amount: num.describe('fraction x portfolio_value, lost at the stop (fees included)'),
      position_size: num,
      position_value: num,
      half_kelly_fraction: num,
      half_kelly_position_size: num,
      half_kelly_position_value: num,
    })
    .nullable(),
  kelly_note: z.string().nullable().describe('Why there is no Kelly size'),
  structure: z
    .object({
      timeframe: z.string(),
      support_below_entry: levelSchema.nullable(),
      resistance_above_entry: levelSchema.nullable(),
      supports: z.array(levelSchema),
      resistances: z.array(levelSchema),
    })
    .nullable(),
  market: z
    .object({
      timeframe: z.string(),
      last_close: num,
      data_source: z.enum(['exchange', 'offline']),
      exchange: z.string(),
      as_of: z.string(),
      data_age_ms: num,
      candles: z.number().int(),
    })
    .nullable()
    .describe('Source and age of the ATR and structure; null when market data was unavailable (see notes)'),
  warnings: z.array(
    z.object({
      code: z.enum(RISK_WARNING_CODES),
      severity: z.enum(['warning', 'critical']),
      message: z.string(),
    }),
  ),
  risk_level: z.enum(['low', 'medium', 'high']),
  notes: z.array(z.string()),
  disclaimer: z.string(),
});

export const riskAssessmentTool = defineTool({
  name: 'risk_assessment',
  title: 'Size a position',
  description:
    'Position sizing for one trade: from portfolio_value, risk_percentage, entry_price and stop_loss (optional ' +
    'take_profit, side, fee_rate) the size whose loss at the stop, fees included, equals the risk; position value, ' +
    'max loss, risk/reward before and after fees, an ATR-based volatility-adjusted size, a Kelly size when win_rate ' +
    'and payoff_ratio are given, warnings (stop on the wrong side or inside normal noise, position over 20 %, risk ' +
    'over 3 %), and the nearest support/resistance from the analysis engine. Not financial advice.',
  input: riskAssessmentInput,
  output: riskAssessmentOutput,
  annotations: { readOnlyHint: true, openWorldHint: true, idempotentHint: true, destructiveHint: false },
  handler: (args, ctx) => ctx.risk.assess(args),
  summarize: formatRiskSummary,
});
