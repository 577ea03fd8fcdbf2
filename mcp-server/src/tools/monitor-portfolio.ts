/**
 * `monitor_portfolio`: store positions and measure a portfolio live: value and unrealised P&L per
 * position, then risk from real return series (VaR, CVaR, volatility, drawdown, Sharpe, Sortino, beta,
 * correlations, concentration) and recommendations that follow from those numbers and the risk level.
 */
import { z } from 'zod';
import { defineTool } from './tool.js';
import { exchangeSchema, provenanceSchema, symbolSchema } from './schemas.js';
import { formatPortfolioSummary } from '../services/portfolio-text.js';
import { RECOMMENDATION_CODES } from '../services/portfolio-recommendations.js';

const num = z.number();
const nullableNum = z.number().nullable();

export const portfolioIdSchema = z
  .string()
  .trim()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/,
    'letters, digits, _ . - (up to 64, starting with a letter or digit)',
  )
  .describe('Your name for a stored portfolio, e.g. "main" or "swing-2026"');

/** Far above any real holding, low enough that sums stay finite and exact to the cent. */
const MAX_AMOUNT = 1e12;
/** Clocks differ a little; an entry time further ahead than this is a mistake. */
const CLOCK_SKEW_MS = 5 * 60_000;

const positionInput = z
  .object({
    symbol: symbolSchema,
    quantity: z
      .number()
      .min(0, 'quantity must be 0 or more (spot holdings; 0 removes the position with update_mode upsert)')
      .max(MAX_AMOUNT, `quantity can be at most ${MAX_AMOUNT}`)
      .describe('Units held, e.g. 0.5 for half a BTC'),
    entry_price: z
      .number()
      .positive('entry_price must be greater than 0')
      .max(MAX_AMOUNT, `entry_price can be at most ${MAX_AMOUNT}`)
      .optional()
      .describe('Average entry price (not needed when quantity is 0)'),
    entry_time: z.iso
      .datetime({ offset: true })
      .refine((t) => Date.parse(t) <= Date.now() + CLOCK_SKEW_MS, 'entry_time cannot be in the future')
      .optional()
      .describe('ISO time the position was opened'),
    fees: z
      .number()
      .min(0)
      .max(MAX_AMOUNT)
      .default(0)
      .describe('Fees paid to open it, in the quote currency'),
  })
  .refine((p) => p.quantity === 0 || p.entry_price !== undefined, {
    message: 'entry_price is required for a position with a quantity above 0',
    path: ['entry_price'],
  });

export const monitorPortfolioInput = z
  .object({
    portfolio_id: portfolioIdSchema.optional(),
    positions: z
      .array(positionInput)
      .max(50, 'at most 50 positions')
      .optional()
      .describe('Positions to analyse; with portfolio_id they are stored (see update_mode), without it not'),
    update_mode: z
      .enum(['replace', 'upsert'])
      .default('replace')
      .describe('replace: the stored positions become exactly these; upsert: add or replace these by symbol'),
    cash: z
      .number()
      .min(0)
      .max(MAX_AMOUNT * 1000)
      .optional()
      .describe('Cash held in the quote currency; stored with the portfolio'),
    symbols: z
      .array(symbolSchema)
      .min(1)
      .max(50, 'at most 50 symbols')
      .optional()
      .describe(
        'Without positions: limit a stored portfolio to these symbols, or analyse them as an equal-weight basket',
      ),
    risk_level: z
      .enum(['conservative', 'moderate', 'aggressive'])
      .default('moderate')
      .describe('Sets the limits the recommendations check against'),
    interval: z.enum(['1h', '1d']).default('1h').describe('Return interval of the risk figures'),
    lookback_days: z
      .number()
      .int()
      .min(7, 'lookback_days must be at least 7')
      .max(400, 'lookback_days can be at most 400')
      .optional()
      .describe('Days of returns behind the risk figures (1h: 7-400, default 30; 1d: 60-400, default 365)'),
    benchmark: symbolSchema.default('BTC/USDT').describe('Market for beta, BTC/USDT by default'),
    risk_free_rate: z
      .number()
      .min(0)
      .max(0.5)
      .default(0)
      .describe('Annual risk-free rate for Sharpe and Sortino, e.g. 0.04'),
    exchange: exchangeSchema.optional(),
  })
  .refine((a) => a.positions !== undefined || a.portfolio_id !== undefined || a.symbols !== undefined, {
    message: 'pass positions, a stored portfolio_id, or symbols',
    path: ['positions'],
  })
  .refine((a) => a.interval === '1h' || a.lookback_days === undefined || a.lookback_days >= 60, {
    message: 'with interval 1d, lookback_days must be at least 60 so the risk figures rest on enough returns',
    path: ['lookback_days'],
  });

const figure = z.object({
  pct: num.describe('% of the portfolio value'),
  amount: nullableNum.describe('In the quote currency; null for an equal-weight basket'),
});
const figures = z.object({
  historical_95: figure,
  historical_99: figure,
  parametric_95: figure,
  parametric_99: figure,
});

export const monitorPortfolioOutput = z.object({
  portfolio: z.object({
    id: z.string().nullable(),
    stored: z.boolean(),
    mode: z.enum(['positions', 'equal_weight_basket']),
    base_currency: z.string(),
    updated_at: z.string().nullable(),
  }),
  ...provenanceSchema.shape,
  valuation: z.object({
    total_value: nullableNum,
    invested_value: nullableNum,
    cash: nullableNum,
    cost_basis: nullableNum.describe('Quantity x entry price + fees'),
    unrealized_pnl: nullableNum,
    unrealized_pnl_pct: nullableNum,
  }),
  positions: z.array(
    z.object({
      symbol: z.string(),
      quantity: nullableNum,
      entry_price: nullableNum,
      entry_time: z.string().nullable(),
      fees: nullableNum,
      price: num,
      price_source: z
        .enum(['ticker', 'candle'])
        .describe('ticker: live 24h ticker; candle: last closed 1h candle'),
      price_as_of: z.string(),
      value: nullableNum,
      unrealized_pnl: nullableNum,
      unrealized_pnl_pct: nullableNum,
      weight_pct: num,
      volatility_annualized_pct: num,
      risk_contribution_pct: nullableNum.describe('Share of the portfolio variance from this position'),
    }),
  ),
  risk: z.object({
    lookback: z.object({
      interval: z.enum(['1h', '1d']),
      days: z.number().int(),
      from: z.string(),
      to: z.string(),
      observations: z.number().int().describe('Returns behind the figures'),
      data_source: z.enum(['exchange', 'offline']),
      exchange: z.string(),
      benchmark: z
        .string()
        .nullable()
        .describe('Market for beta; null when it could not be loaded (see notes)'),
      days_covered: num.describe('Days the returns span: observations x interval (may be fewer than asked)'),
      method: z.string(),
    }),
    horizon: z.enum(['1h', '1d']).describe('VaR and CVaR are losses over one return interval'),
    value_at_risk: figures,
    conditional_var: figures.describe('Expected shortfall: the average loss beyond the VaR'),
    one_day_var_95: figure.describe('Historical VaR 95 % scaled to one day by the square root of time'),
    volatility: z.object({ per_period_pct: num, annualized_pct: num }),
    max_drawdown: z.object({ pct: num, peak_at: z.string(), trough_at: z.string() }),
    sharpe: nullableNum.describe('Annualised'),
    sortino: nullableNum.describe('Annualised'),
    beta_to_benchmark: nullableNum,
    correlation: z.object({
      symbols: z.array(z.string()),
      matrix: z
        .array(z.array(nullableNum))
        .describe('Pearson correlation of returns, in the order of symbols'),
      high_pairs: z.array(z.object({ a: z.string(), b: z.string(), correlation: num })),
    }),
    concentration: z.object({
      largest_symbol: z.string(),
      largest_weight_pct: num,
      herfindahl: num.describe('Sum of squared weights of the invested value'),
      effective_positions: num.describe('1 / Herfindahl'),
      diversification_ratio: nullableNum.describe('Weighted asset volatility over portfolio volatility'),
    }),
  }),
  risk_level: z.enum(['conservative', 'moderate', 'aggressive']),
  limits: z.object({
    max_position_pct: num,
    max_one_day_var95_pct: num,
    max_drawdown_pct: num,
    max_pair_correlation: num,
    min_effective_positions: num,
    max_beta: num,
  }),
  recommendations: z.array(
    z.object({
      severity: z.enum(['info', 'warning', 'critical']),
      code: z.enum(RECOMMENDATION_CODES),
      message: z.string(),
      value: nullableNum,
      limit: nullableNum,
    }),
  ),
  notes: z.array(z.string()),
  disclaimer: z.string(),
});

export const monitorPortfolioTool = defineTool({
  name: 'monitor_portfolio',
  title: 'Monitor a portfolio',
  description:
    'Store a portfolio (positions: symbol, quantity, entry price, optional entry time and fees; cash) under ' +
    'portfolio_id, or pass positions inline, and measure it: value and unrealised P&L per position at the latest ' +
    'price, weights, and risk from real hourly or daily returns over a lookback: historical and parametric VaR and ' +
    'CVaR at 95/99 %, volatility, max drawdown, Sharpe, Sortino, beta to BTC, the correlation matrix and ' +
    'concentration, with recommendations against conservative/moderate/aggressive limits. Every figure names its ' +
    'lookback and data source. Not financial advice.',
  input: monitorPortfolioInput,
  output: monitorPortfolioOutput,
  annotations: { readOnlyHint: false, openWorldHint: true, idempotentHint: true, destructiveHint: true },
  handler: (args, ctx, call) => ctx.portfolio.monitor(args, call.caller),
  summarize: formatPortfolioSummary,
});
