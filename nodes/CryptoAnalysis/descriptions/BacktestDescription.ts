import type { INodeProperties } from 'n8n-workflow';
import { timeframeOptions } from '../../shared/fields';

const forOperation = (operation: string, extra: Record<string, string[]> = {}) => ({
  show: { resource: ['backtest'], operation: [operation], ...extra },
});

export const backtestOperations: INodeProperties[] = [
  {
    displayName: 'Operation',
    name: 'operation',
    type: 'options',
    noDataExpression: true,
    displayOptions: { show: { resource: ['backtest'] } },
    options: [
      {
        name: 'Compare Runs',
        value: 'compare',
        description: 'Compare 2-10 stored backtest runs side by side',
        action: 'Compare backtest runs',
      },
      {
        name: 'Get Run',
        value: 'get',
        description: 'Fetch a stored backtest run by its run ID',
        action: 'Get a backtest run',
      },
      {
        name: 'Run',
        value: 'run',
        description:
          'Backtest a strategy on closed historical candles with fees and slippage: returns, drawdown, Sharpe, Sortino, win rate, profit factor, the trade log and the equity curve',
        action: 'Backtest a trading strategy on historical candles',
      },
    ],
    default: 'run',
  },
];

export const backtestFields: INodeProperties[] = [
  // run
  {
    displayName: 'Symbol',
    name: 'symbol',
    type: 'string',
    required: true,
    default: '',
    placeholder: 'e.g. BTCUSDT',
    description: 'Market symbol: BTCUSDT, BTC/USDT or btc-usdt',
    displayOptions: forOperation('run'),
  },
  {
    displayName: 'Strategy',
    name: 'strategy',
    type: 'options',
    options: [
      {
        name: 'Bollinger Reversion',
        value: 'bollinger_reversion',
        description:
          'Long when the close crosses back above the lower Bollinger band, exit at the middle band',
      },
      {
        name: 'Donchian Breakout',
        value: 'donchian_breakout',
        description:
          'Long on a close above the previous N-bar high, exit on a close below the previous N-bar low',
      },
      { name: 'EMA Cross', value: 'ema_cross', description: 'Fast EMA crossing the slow EMA' },
      {
        name: 'JSON Rules',
        value: 'rules',
        description: 'Your own entry and exit conditions as JSON (see Rules)',
      },
      {
        name: 'RSI Reversion',
        value: 'rsi_reversion',
        description: 'Long when RSI crosses back up through the oversold level, exit at the overbought level',
      },
      { name: 'SMA Cross', value: 'sma_cross', description: 'Fast SMA crossing the slow SMA' },
      {
        name: 'SMC Structure',
        value: 'smc_structure',
        description:
          'Long on a bullish BOS/CHoCH or the first retest of a bullish order block or FVG; exit on a bearish CHoCH',
      },
    ],
    default: 'ema_cross',
    description: 'Strategy to test; its parameters go in Options > Strategy Parameters',
    displayOptions: forOperation('run'),
  },
  {
    displayName: 'Rules',
    name: 'spec',
    type: 'json',
    required: true,
    default:
      '{\n  "entry_long": { "left": "close", "op": "crosses_above", "right": "ema(50)" },\n  "exit_long": { "left": "rsi(14)", "op": ">", "right": 70 },\n  "stop_loss_pct": 0.03\n}',
    description:
      'Conditions entry_long / exit_long / entry_short / exit_short over series such as close, ema(20), rsi(14), bb_lower(20,2) or SMC flags like choch_bullish, combined with all / any / not; optional stop_loss_pct, take_profit_pct or stop_atr',
    displayOptions: forOperation('run', { strategy: ['rules'] }),
  },
  {
    displayName: 'Timeframe',
    name: 'timeframe',
    type: 'options',
    options: timeframeOptions,
    default: '1h',
    description: 'Candle timeframe of the backtest',
    displayOptions: forOperation('run'),
  },
  {
    displayName: 'Mode',
    name: 'mode',
    type: 'options',
    options: [
      { name: 'Single Run', value: 'single', description: 'One run over the whole period' },
      {
        name: 'Grid (Train/Test)',
        value: 'grid',
        description:
          'Rank the parameter grid on the first part of the period and report the best on the rest (out of sample)',
      },
      {
        name: 'Walk-Forward',
        value: 'walk_forward',
        description: 'Re-optimise the parameter grid on rolling train windows and test on the next window',
      },
    ],
    default: 'single',
    description: 'How the period is used',
    displayOptions: forOperation('run'),
  },
  {
    displayName: 'Parameter Grid',
    name: 'paramGrid',
    type: 'json',
    required: true,
    default: '{\n  "fast": [8, 12, 20],\n  "slow": [26, 50]\n}',
    description:
      'Values to try per strategy parameter, a JSON object of arrays; grid ranks every combination, walk-forward re-picks the best on each training window',
    displayOptions: forOperation('run', { mode: ['grid', 'walk_forward'] }),
  },
  {
    displayName: 'Options',
    name: 'options',
    type: 'collection',
    placeholder: 'Add Option',
    default: {},
    displayOptions: forOperation('run'),
    options: [
      {
        displayName: 'Allow Short',
        name: 'allowShort',
        type: 'boolean',
        default: false,
        description: 'Whether to also take short signals (default long only)',
      },
      {
        displayName: 'Anchored Windows',
        name: 'anchored',
        type: 'boolean',
        default: false,
        description:
          'Whether walk-forward training windows all start at the period start and grow, instead of rolling',
      },
      {
        displayName: 'Charts',
        name: 'charts',
        type: 'options',
        options: [
          { name: 'None', value: 'none' },
          { name: 'PNG', value: 'png' },
          { name: 'SVG', value: 'svg' },
        ],
        default: 'none',
        description: 'Store equity/drawdown and price charts on the server; the answer gives their URLs',
      },
      {
        displayName: 'End',
        name: 'end',
        type: 'string',
        default: '',
        placeholder: 'e.g. 2025-12-31',
        description:
          'Last candle closing by this ISO time or date (a date: the end of that day); default the latest',
      },
      {
        displayName: 'Exchange',
        name: 'exchange',
        type: 'string',
        default: '',
        placeholder: 'e.g. binance',
        description: "Lowercase ccxt exchange ID; empty uses the server's default",
      },
      {
        displayName: 'Fee Rate',
        name: 'feeRate',
        type: 'number',
        typeOptions: { minValue: 0, maxValue: 0.05, numberPrecision: 5 },
        default: 0.001,
        description: 'Fee per side as a fraction of the notional: 0.001 is 0.1 %',
      },
      {
        displayName: 'Initial Capital',
        name: 'initialCapital',
        type: 'number',
        typeOptions: { minValue: 0 },
        default: 10000,
        description: 'Starting capital in the quote currency',
      },
      {
        displayName: 'Position Fraction',
        name: 'positionFraction',
        type: 'number',
        typeOptions: { minValue: 0, maxValue: 1, numberPrecision: 4 },
        default: 1,
        description:
          'With fixed-fraction sizing: share of equity per trade, e.g. 0.5 (at most 1, no leverage)',
      },
      {
        displayName: 'Rank By',
        name: 'rankBy',
        type: 'options',
        options: [
          { name: 'Calmar', value: 'calmar' },
          { name: 'Sharpe', value: 'sharpe' },
          { name: 'SQN', value: 'sqn' },
          { name: 'Total Return', value: 'total_return' },
        ],
        default: 'sharpe',
        description: 'What the grid and walk-forward modes maximise in sample',
      },
      {
        displayName: 'Risk per Trade (%)',
        name: 'riskPerTradePct',
        type: 'number',
        typeOptions: { minValue: 0, maxValue: 100, numberPrecision: 2 },
        default: 1,
        description: 'With risk-per-trade sizing: % of equity lost if the stop is hit',
      },
      {
        displayName: 'Sizing',
        name: 'sizing',
        type: 'options',
        options: [
          {
            name: 'Fixed Fraction',
            value: 'fixed_fraction',
            description: 'Invest Position Fraction of equity per trade',
          },
          {
            name: 'Risk per Trade',
            value: 'risk_per_trade',
            description: 'Size so the stop loses Risk per Trade (%) of equity',
          },
        ],
        default: 'fixed_fraction',
        description: 'How each position is sized',
      },
      {
        displayName: 'Slippage',
        name: 'slippage',
        type: 'number',
        typeOptions: { minValue: 0, maxValue: 0.05, numberPrecision: 5 },
        default: 0.0005,
        description: 'Adverse fill slippage per side as a fraction of the price: 0.0005 is 0.05 %',
      },
      {
        displayName: 'Start',
        name: 'start',
        type: 'string',
        default: '',
        placeholder: 'e.g. 2025-01-01',
        description: 'First candle at or after this ISO time or date (UTC); default a year before End',
      },
      {
        displayName: 'Stop Loss (Fraction)',
        name: 'stopLossPct',
        type: 'number',
        typeOptions: { minValue: 0, maxValue: 0.99, numberPrecision: 4 },
        default: 0.05,
        description:
          "Stop this fraction from the entry fill, e.g. 0.05 for 5 %; a strategy's own stop takes precedence",
      },
      {
        displayName: 'Strategy Parameters',
        name: 'params',
        type: 'json',
        default: '{}',
        description:
          'Strategy parameters by name, e.g. {"fast": 12, "slow": 26} for EMA Cross; defaults fill the rest',
      },
      {
        displayName: 'Take Profit (Fraction)',
        name: 'takeProfitPct',
        type: 'number',
        typeOptions: { minValue: 0, numberPrecision: 4 },
        default: 0.1,
        description: 'Target this fraction from the entry fill, e.g. 0.1 for 10 %',
      },
      {
        displayName: 'Train Fraction',
        name: 'trainFraction',
        type: 'number',
        typeOptions: { minValue: 0.5, maxValue: 0.9, numberPrecision: 2 },
        default: 0.7,
        description: 'Share of the period (grid) or of each window (walk-forward) used for training',
      },
      {
        displayName: 'Walk-Forward Windows',
        name: 'windows',
        type: 'number',
        typeOptions: { minValue: 2, maxValue: 20 },
        default: 5,
        description: 'Number of walk-forward test windows (2-20)',
      },
    ],
  },

  // get
  {
    displayName: 'Run ID',
    name: 'runId',
    type: 'string',
    required: true,
    default: '',
    placeholder: 'e.g. 3f2b8c1e-5d4a-4e7b-9c0d-1a2b3c4d5e6f',
    description: 'Run ID from an earlier backtest answer',
    displayOptions: forOperation('get'),
  },

  // compare
  {
    displayName: 'Run IDs',
    name: 'runIds',
    type: 'string',
    required: true,
    default: '',
    placeholder: 'e.g. 3f2b8c1e-..., 9a7d6e5f-...',
    description: 'Two to ten run IDs from earlier backtests, comma-separated',
    displayOptions: forOperation('compare'),
  },
];
