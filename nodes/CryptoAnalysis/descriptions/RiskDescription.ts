import type { INodeProperties } from 'n8n-workflow';
import { timeframeOptions } from '../../shared/fields';

const forAssess = { show: { resource: ['risk'], operation: ['assess'] } };

export const riskOperations: INodeProperties[] = [
  {
    displayName: 'Operation',
    name: 'operation',
    type: 'options',
    noDataExpression: true,
    displayOptions: { show: { resource: ['risk'] } },
    options: [
      {
        name: 'Assess Trade',
        value: 'assess',
        description:
          'Position size whose loss at the stop, fees included, equals the risk you choose; risk/reward, ATR and Kelly sizes, warnings and nearby structure',
        action: 'Size a position and assess its risk',
      },
    ],
    default: 'assess',
  },
];

const price = (displayName: string, name: string, description: string): INodeProperties => ({
  displayName,
  name,
  type: 'number',
  required: true,
  typeOptions: { minValue: 0, numberPrecision: 8 },
  default: 0,
  description,
  displayOptions: forAssess,
});

export const riskFields: INodeProperties[] = [
  {
    displayName: 'Symbol',
    name: 'symbol',
    type: 'string',
    required: true,
    default: '',
    placeholder: 'e.g. BTCUSDT',
    description: 'Market symbol: BTCUSDT, BTC/USDT or btc-usdt',
    displayOptions: forAssess,
  },
  {
    displayName: 'Portfolio Value',
    name: 'portfolioValue',
    type: 'number',
    required: true,
    typeOptions: { minValue: 0 },
    default: 0,
    description: 'Account size in the quote currency (at least 100)',
    displayOptions: forAssess,
  },
  price('Entry Price', 'entryPrice', 'Planned entry price'),
  price('Stop Loss', 'stopLoss', 'Stop-loss price; its distance from the entry sizes the position'),
  {
    displayName: 'Risk Percentage',
    name: 'riskPercentage',
    type: 'number',
    typeOptions: { minValue: 0.1, maxValue: 10, numberPrecision: 2 },
    default: 2,
    description: '% of the account to lose if the stop is hit (0.1-10)',
    displayOptions: forAssess,
  },
  {
    displayName: 'Options',
    name: 'options',
    type: 'collection',
    placeholder: 'Add Option',
    default: {},
    displayOptions: forAssess,
    options: [
      {
        displayName: 'ATR Stop Multiple',
        name: 'atrStopMultiple',
        type: 'number',
        typeOptions: { minValue: 0.5, maxValue: 10, numberPrecision: 2 },
        default: 2,
        description: 'ATR multiple of the volatility-adjusted stop',
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
        typeOptions: { minValue: 0, maxValue: 0.01, numberPrecision: 5 },
        default: 0.001,
        description: 'Fee per side as a fraction of the notional: 0.001 is 0.1 %',
      },
      {
        displayName: 'Payoff Ratio',
        name: 'payoffRatio',
        type: 'number',
        typeOptions: { minValue: 0, numberPrecision: 4 },
        default: 1.5,
        description:
          'Average win divided by average loss (e.g. from a backtest); give it with Win Rate for a Kelly size',
      },
      {
        displayName: 'Side',
        name: 'side',
        type: 'options',
        options: [
          { name: 'Long', value: 'long' },
          { name: 'Short', value: 'short' },
        ],
        default: 'long',
        description: 'Trade direction; inferred from the take profit or stop loss when not set',
      },
      {
        displayName: 'Take Profit',
        name: 'takeProfit',
        type: 'number',
        typeOptions: { minValue: 0, numberPrecision: 8 },
        default: 0,
        description: 'Target price, for risk/reward; 0 means none',
      },
      {
        displayName: 'Timeframe',
        name: 'timeframe',
        type: 'options',
        options: timeframeOptions,
        default: '1h',
        description: 'Timeframe of the ATR and the structure levels',
      },
      {
        displayName: 'Win Rate',
        name: 'winRate',
        type: 'number',
        typeOptions: { minValue: 0, maxValue: 1, numberPrecision: 4 },
        default: 0.5,
        description:
          'Share of winning trades, 0-1 (e.g. from a backtest); give it with Payoff Ratio for a Kelly size',
      },
    ],
  },
];
