/**
 * `historical_backtest`: run a named strategy (or a JSON rule strategy) over a period of closed candles
 * with realistic fills, and report freqtrade's metric set and more, the trade log and the equity curve;
 * or validate it out of sample (a train/test parameter grid, or walk-forward windows). Runs are stored,
 * so one can be fetched again by run_id, compared with others and charted (PNG or SVG).
 */
import { z } from 'zod';
import { RANK_BY } from '../core/backtest/grid.js';
import { STRATEGIES } from '../core/backtest/strategies/index.js';
import { backtestImages, formatBacktestSummary, MAX_GRID_COMBINATIONS } from '../services/backtest.js';
import { exchangeSchema, provenanceSchema, symbolSchema, timeframeSchema } from './schemas.js';
import { defineTool } from './tool.js';

const num = z.number();
const nullableNum = z.number().nullable();

const time = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()])
  .describe('ISO time (2025-03-01T00:00:00Z) or date (2025-03-01, UTC)');

const runId = z.uuid('a run_id from an earlier historical_backtest answer (a UUID)');

const paramValue = z.union([z.number(), z.string(), z.boolean()]);

const strategyList = STRATEGIES.map((s) => s.name).join(', ');

export const historicalBacktestInput = z
  .object({
    symbol: symbolSchema.optional().describe('Market symbol: BTCUSDT, BTC/USDT or btc-usdt (needed to run)'),
    timeframe: timeframeSchema.default('1h'),
    strategy: z
      .string()
      .trim()
      .min(1)
      .max(64)
      .optional()
      .describe(`Strategy name (needed to run): ${strategyList}`),
    params: z
      .record(z.string(), z.unknown())
      .optional()
      .describe(
        'Strategy parameters by name, e.g. {"fast": 12, "slow": 26} for ema_cross; defaults fill the rest',
      ),
    spec: z
      .record(z.string(), z.unknown())
      .optional()
      .describe(
        'For strategy "rules": the JSON rule strategy, e.g. {"entry_long": {"left": "close", "op": "crosses_above", ' +
          '"right": "ema(50)"}, "exit_long": {"left": "rsi(14)", "op": ">", "right": 70}, "stop_loss_pct": 0.03}',
      ),
    start: time.optional().describe('First candle at or after this time; default: a year before end'),
    end: time
      .optional()
      .describe('Last candle closing by this time (a date alone: the end of that day); default: the latest'),
    exchange: exchangeSchema.optional(),
    initial_capital: z
      .number()
      .positive()
      .max(1e12)
      .default(10_000)
      .describe('Starting capital, quote currency'),
    fee_rate: z
      .number()
      .min(0)
      .max(0.05, 'fee_rate is a fraction per side: 0.001 means 0.1 %; at most 0.05')
      .default(0.001)
      .describe('Fee per side as a fraction of the notional (0.001 = 0.1 %)'),
    slippage: z
      .number()
      .min(0)
      .max(0.05, 'slippage is a fraction of the price: 0.0005 means 0.05 %; at most 0.05')
      .default(0.0005)
      .describe('Adverse fill slippage per side as a fraction of the price (0.0005 = 0.05 %)'),
    sizing: z
      .enum(['fixed_fraction', 'risk_per_trade'])
      .default('fixed_fraction')
      .describe(
        'fixed_fraction: invest position_fraction of equity; risk_per_trade: lose risk_per_trade_pct at the stop',
      ),
    position_fraction: z
      .number()
      .gt(0)
      .max(1, 'position_fraction is a fraction of equity, at most 1 (no leverage)')
      .default(1)
      .describe('With fixed_fraction: share of equity per trade, e.g. 0.5'),
    risk_per_trade_pct: z
      .number()
      .gt(0)
      .max(100)
      .default(1)
      .describe('With risk_per_trade: % of equity lost if the stop is hit, e.g. 1'),
    allow_short: z.boolean().default(false).describe('Also take short signals (default long only)'),
    stop_loss_pct: z
      .number()
      .gt(0)
      .lt(1, 'stop_loss_pct is a fraction of the entry price: 0.05 means 5 %')
      .optional()
      .describe(
        'Stop this fraction from the entry fill, e.g. 0.05 (a strategy stop, if any, takes precedence)',
      ),
    take_profit_pct: z
      .number()
      .gt(0)
      .max(100, 'take_profit_pct is a fraction of the entry price: 0.1 means 10 %')
      .optional()
      .describe('Target this fraction from the entry fill, e.g. 0.1'),
    mode: z
      .enum(['single', 'walk_forward', 'grid'])
      .default('single')
      .describe(
        'single: one run over the period; grid: rank param_grid on the first train_fraction of the period and ' +
          'report the best on the rest; walk_forward: train/test windows rolling through the period',
      ),
    train_fraction: z
      .number()
      .min(0.5)
      .max(0.9)
      .default(0.7)
      .describe('Share of the period (grid) or of each window (walk_forward) used for training'),
    windows: z.number().int().min(2).max(20).default(5).describe('walk_forward: number of test windows'),
    anchored: z
      .boolean()
      .default(false)
      .describe('walk_forward: training windows all start at the period start and grow (default: they roll)'),
    param_grid: z
      .record(z.string(), z.array(paramValue).min(1).max(100))
      .optional()
      .describe(
        `Values to try per parameter, e.g. {"fast": [8, 12, 20], "slow": [26, 50]}; at most ${MAX_GRID_COMBINATIONS} combinations`,
      ),
    rank_by: z.enum(RANK_BY).default('sharpe').describe('What the grid maximises in sample'),
    charts: z
      .enum(['none', 'png', 'svg'])
      .default('none')
      .describe('Attach the equity/drawdown chart and the price chart with trades as images'),
    run_id: runId.optional().describe('Fetch this stored run instead of running one'),
    compare_run_ids: z
      .array(runId)
      .min(2)
      .max(10)
      .optional()
      .describe('Compare these stored runs (2-10) instead of running one'),
  })
  .superRefine((a, ctx) => {
    const fetching = a.run_id !== undefined || a.compare_run_ids !== undefined;
    if (a.run_id !== undefined && a.compare_run_ids !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['run_id'], message: 'pass run_id or compare_run_ids, not both' });
    }
    if (fetching) return;
    if (a.symbol === undefined) {
      ctx.addIssue({ code: 'custom', path: ['symbol'], message: 'symbol is required to run a backtest' });
    }
    if (a.strategy === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['strategy'],
        message: `strategy is required to run a backtest: one of ${strategyList}`,
      });
    }
    if (a.mode === 'grid' && a.param_grid === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['param_grid'],
        message: 'mode grid needs param_grid, e.g. {"fast": [8, 12, 20], "slow": [26, 50]}',
      });
    }
    if (a.start !== undefined && a.end !== undefined && Date.parse(a.start) >= Date.parse(a.end)) {
      ctx.addIssue({ code: 'custom', path: ['end'], message: 'end must be after start' });
    }
  });

const metricsSchema = z.object({
  start: z.string().describe('ISO open time of the first bar'),
  end: z.string().describe('ISO close time of the last bar'),
  bars: z.number().int(),
  initial_capital: num,
  final_equity: num,
  total_return_pct: num,
  cagr_pct: nullableNum.describe(
    'Annualised; null when too large to represent (a short period, a large gain)',
  ),
  max_drawdown_pct: num,
  max_drawdown_amount: num,
  max_drawdown_duration_ms: num.describe('Longest peak-to-recovery span (to the end if not recovered)'),
  sharpe: nullableNum.describe('Annualised, from per-bar returns'),
  sortino: nullableNum,
  calmar: nullableNum.describe('CAGR / max drawdown'),
  sqn: nullableNum.describe("Van Tharp's System Quality Number"),
  trades: z.number().int(),
  win_rate_pct: nullableNum,
  profit_factor: nullableNum.describe('Gross profit / gross loss; null without losses'),
  expectancy: nullableNum.describe('Mean P&L per trade, quote currency'),
  exposure_pct: num.describe('Share of bars with a position open'),
  avg_trade_duration_ms: nullableNum,
  median_trade_duration_ms: nullableNum,
  best_trade_pct: nullableNum,
  worst_trade_pct: nullableNum,
  fees_paid: num,
  buy_and_hold_return_pct: num.describe('Buy at the first open, sell at the last close, same costs'),
});

const summarySchema = metricsSchema.pick({
  total_return_pct: true,
  cagr_pct: true,
  max_drawdown_pct: true,
  sharpe: true,
  sortino: true,
  calmar: true,
  sqn: true,
  trades: true,
  win_rate_pct: true,
  profit_factor: true,
  exposure_pct: true,
  buy_and_hold_return_pct: true,
});

const spanSchema = z.object({ start: z.string(), end: z.string(), bars: z.number().int() });

const tradeSchema = z.object({
  side: z.enum(['long', 'short']),
  entry_time: z.string(),
  entry_price: num.describe('Fill price, slippage included'),
  exit_time: z.string(),
  exit_price: num,
  exit_reason: z.enum(['signal', 'stop_loss', 'take_profit', 'end_of_data']),
  quantity: num,
  fees: num,
  pnl: num.describe('Net of fees and slippage'),
  return_pct: num.describe('pnl / entry notional, %'),
  bars: z.number().int(),
  stop_price: nullableNum,
  target_price: nullableNum,
});

const equityPointSchema = z.object({
  time: z.string().describe('ISO time: the period start, then bar close times'),
  equity: num,
  drawdown_pct: num.describe('Below the running peak, %'),
  buy_and_hold: num.describe('Value of buying at the first open with the same entry costs, marked to market'),
});

const configSchema = z.object({
  initial_capital: num,
  fee_rate: num,
  slippage: num,
  sizing: z.object({
    mode: z.enum(['fixed_fraction', 'risk_per_trade']),
    fraction: nullableNum,
    risk_pct: nullableNum,
  }),
  allow_short: z.boolean(),
  stop_loss_pct: nullableNum,
  take_profit_pct: nullableNum,
  periods_per_year: num,
  warmup_bars: z.number().int().describe('Candles before the period used only to warm indicators up'),
});

const runShape = {
  run_id: z
    .string()
    .nullable()
    .describe('Id to fetch or compare this run later; null when it could not be stored'),
  created_at: z.string().nullable(),
  symbol: z.string(),
  timeframe: z.string(),
  ...provenanceSchema.shape,
  mode: z.enum(['single', 'walk_forward', 'grid']),
  strategy: z.string(),
  params: z.record(z.string(), z.unknown()).describe('Parameters used (the best in sample for grid)'),
  config: configSchema,
  period: spanSchema.extend({ traded: spanSchema.describe('Where the headline metrics come from') }),
  metrics: metricsSchema.describe('Headline metrics: the run, or out of sample for grid and walk_forward'),
  buy_and_hold: z.object({
    return_pct: num,
    excess_return_pct: num.describe('Strategy return minus buy and hold'),
  }),
  trades_total: z.number().int(),
  trades: z.array(tradeSchema).describe('The most recent trades (at most 200); trades_total counts all'),
  equity: z
    .array(equityPointSchema)
    .describe('Equity curve, downsampled (at most 500 points; lows and highs kept)'),
  windows: z
    .array(
      z.object({
        index: z.number().int(),
        train: spanSchema,
        test: spanSchema,
        params: z.record(z.string(), z.unknown()).describe('Chosen on the training window'),
        in_sample: summarySchema,
        out_of_sample: summarySchema,
      }),
    )
    .nullable()
    .describe('walk_forward windows'),
  grid: z
    .object({
      combinations: z.number().int(),
      skipped_invalid: z.number().int(),
      rank_by: z.enum(RANK_BY),
      in_sample: spanSchema,
      out_of_sample: spanSchema,
      best_params: z.record(z.string(), z.unknown()),
      table: z.array(
        z.object({
          rank: z.number().int(),
          params: z.record(z.string(), z.unknown()).describe('The values from param_grid'),
          in_sample: summarySchema,
          out_of_sample: summarySchema,
        }),
      ),
    })
    .nullable(),
  charts: z
    .object({
      equity_url: z.string().nullable(),
      price_url: z.string().nullable(),
      format: z.enum(['png', 'svg']),
    })
    .nullable()
    .describe(
      'Chart paths on this server (GET with the same API key); the images are attached when charts is set',
    ),
};

export const historicalBacktestOutput = z.object({
  kind: z.enum(['run', 'comparison']),
  ...z.object(runShape).partial().shape,
  comparison: z
    .object({
      runs: z.array(
        z.object({
          run_id: z.string(),
          created_at: z.string(),
          symbol: z.string(),
          timeframe: z.string(),
          exchange: z.string(),
          data_source: z.enum(['exchange', 'offline']),
          strategy: z.string(),
          mode: z.enum(['single', 'walk_forward', 'grid']),
          params: z.record(z.string(), z.unknown()),
          period_start: z.string(),
          period_end: z.string(),
          metrics: summarySchema,
        }),
      ),
      best: z.object({
        total_return_pct: z.string(),
        sharpe: z.string().nullable(),
        max_drawdown_pct: z.string().describe('The smallest drawdown'),
        calmar: z.string().nullable(),
      }),
    })
    .optional(),
  notes: z.array(z.string()),
  disclaimer: z.string(),
});

export const historicalBacktestTool = defineTool({
  name: 'historical_backtest',
  title: 'Backtest a strategy on history',
  description:
    `Backtest a strategy (${strategyList}) with parameters, or your own JSON rules (strategy "rules" with spec), ` +
    'on closed historical candles of one market: next-bar-open fills, fees and slippage (default 0.1 % and ' +
    '0.05 % per side), conservative stops and targets inside bars, fixed-fraction or risk-per-trade sizing, long ' +
    'only unless allow_short. Returns total return, CAGR, max drawdown and its duration, Sharpe, Sortino, ' +
    'Calmar, SQN, win rate, profit factor, expectancy, exposure, trade durations, fees, buy and hold, the trade ' +
    'log and the equity curve. mode grid ranks param_grid in sample and reports it out of sample; mode ' +
    'walk_forward re-optimises on rolling windows. Runs are stored: fetch one with run_id, compare with ' +
    'compare_run_ids, and set charts to png or svg for the equity and price charts. Not financial advice.',
  input: historicalBacktestInput,
  output: historicalBacktestOutput,
  annotations: { readOnlyHint: false, openWorldHint: true, idempotentHint: false, destructiveHint: false },
  handler: (args, ctx, call) => ctx.backtest.run(args, call.caller, call),
  // Running one; fetching or comparing stored runs is a read, answered where it arrives.
  runsOnWorker: (args) => args.run_id === undefined && args.compare_run_ids === undefined,
  summarize: formatBacktestSummary,
  images: backtestImages,
});
