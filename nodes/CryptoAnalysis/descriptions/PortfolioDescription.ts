import type { INodeProperties } from 'n8n-workflow';

const forMonitor = (extra: Record<string, string[]> = {}) => ({
  show: { resource: ['portfolio'], operation: ['monitor'], ...extra },
});

export const portfolioOperations: INodeProperties[] = [
  {
    displayName: 'Operation',
    name: 'operation',
    type: 'options',
    noDataExpression: true,
    displayOptions: { show: { resource: ['portfolio'] } },
    options: [
      {
        name: 'Monitor',
        value: 'monitor',
        description:
          'Value, unrealised P&L and risk of a portfolio (VaR, CVaR, volatility, drawdown, Sharpe, Sortino, beta, correlations, concentration) with recommendations',
        action: 'Monitor the value and risk of a crypto portfolio',
      },
    ],
    default: 'monitor',
  },
];

export const portfolioFields: INodeProperties[] = [
  {
    displayName: 'Portfolio ID',
    name: 'portfolioId',
    type: 'string',
    default: '',
    placeholder: 'e.g. main',
    description:
      'Name of a stored portfolio (letters, digits, _ . -). With positions they are stored under it; empty analyses the positions once without storing them.',
    displayOptions: forMonitor(),
  },
  {
    displayName: 'Positions Input',
    name: 'positionsInput',
    type: 'options',
    options: [
      { name: 'Define Below', value: 'fields', description: 'Enter the positions one by one' },
      {
        name: 'JSON',
        value: 'json',
        description: 'A JSON array of positions, e.g. from a previous node',
      },
      {
        name: 'None',
        value: 'none',
        description: 'Use the stored portfolio, or the symbols in Options as an equal-weight basket',
      },
    ],
    default: 'fields',
    description: 'How the positions are given',
    displayOptions: forMonitor(),
  },
  {
    displayName: 'Positions',
    name: 'positions',
    type: 'fixedCollection',
    typeOptions: { multipleValues: true },
    placeholder: 'Add Position',
    default: {},
    description: 'Spot holdings (at most 50)',
    displayOptions: forMonitor({ positionsInput: ['fields'] }),
    options: [
      {
        displayName: 'Position',
        name: 'position',
        values: [
          {
            displayName: 'Entry Price',
            name: 'entryPrice',
            type: 'number',
            typeOptions: { minValue: 0 },
            default: 0,
            description: 'Average entry price in the quote currency (may be 0 only when Quantity is 0)',
          },
          {
            displayName: 'Entry Time',
            name: 'entryTime',
            type: 'string',
            default: '',
            placeholder: 'e.g. 2025-03-01T12:00:00Z',
            description: 'ISO time with time zone when the position was opened (optional)',
          },
          {
            displayName: 'Fees',
            name: 'fees',
            type: 'number',
            typeOptions: { minValue: 0 },
            default: 0,
            description: 'Fees paid to open it, in the quote currency',
          },
          {
            displayName: 'Quantity',
            name: 'quantity',
            type: 'number',
            typeOptions: { minValue: 0, numberPrecision: 8 },
            default: 0,
            description:
              'Units held, e.g. 0.5 for half a BTC; 0 removes the position when updating by symbol',
          },
          {
            displayName: 'Symbol',
            name: 'symbol',
            type: 'string',
            default: '',
            placeholder: 'e.g. BTCUSDT',
            description: 'Market symbol: BTCUSDT, BTC/USDT or btc-usdt',
          },
        ],
      },
    ],
  },
  {
    displayName: 'Positions (JSON)',
    name: 'positionsJson',
    type: 'json',
    default: '[]',
    required: true,
    description:
      'Array of positions with symbol, quantity, entry_price and optional entry_time and fees, e.g. [{"symbol": "BTCUSDT", "quantity": 0.5, "entry_price": 60000}]',
    displayOptions: forMonitor({ positionsInput: ['json'] }),
  },
  {
    displayName: 'Risk Level',
    name: 'riskLevel',
    type: 'options',
    options: [
      { name: 'Aggressive', value: 'aggressive' },
      { name: 'Conservative', value: 'conservative' },
      { name: 'Moderate', value: 'moderate' },
    ],
    default: 'moderate',
    description:
      'Sets the limits (position size, VaR, drawdown, correlation, beta) the recommendations check against',
    displayOptions: forMonitor(),
  },
  {
    displayName: 'Options',
    name: 'options',
    type: 'collection',
    placeholder: 'Add Option',
    default: {},
    displayOptions: forMonitor(),
    options: [
      {
        displayName: 'Benchmark',
        name: 'benchmark',
        type: 'string',
        default: 'BTC/USDT',
        description: 'Market for beta',
      },
      {
        displayName: 'Cash',
        name: 'cash',
        type: 'number',
        typeOptions: { minValue: 0 },
        default: 0,
        description: 'Cash held in the quote currency; stored with the portfolio',
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
        displayName: 'Lookback Days',
        name: 'lookbackDays',
        type: 'number',
        typeOptions: { minValue: 7, maxValue: 400 },
        default: 30,
        description: 'Days of returns behind the risk figures (hourly: 7-400, daily: 60-400)',
      },
      {
        displayName: 'Return Interval',
        name: 'interval',
        type: 'options',
        options: [
          { name: 'Hourly', value: '1h' },
          { name: 'Daily', value: '1d' },
        ],
        default: '1h',
        description: 'Return interval of the risk figures; VaR is a loss over one interval',
      },
      {
        displayName: 'Risk-Free Rate',
        name: 'riskFreeRate',
        type: 'number',
        typeOptions: { minValue: 0, maxValue: 0.5, numberPrecision: 4 },
        default: 0,
        description: 'Annual risk-free rate for Sharpe and Sortino as a fraction, e.g. 0.04',
      },
      {
        displayName: 'Symbols',
        name: 'symbols',
        type: 'string',
        default: '',
        placeholder: 'e.g. BTCUSDT, ETHUSDT',
        description:
          'Without positions: limit the stored portfolio to these symbols, or analyse them as an equal-weight basket (comma-separated, at most 50)',
      },
      {
        displayName: 'Update Mode',
        name: 'updateMode',
        type: 'options',
        options: [
          {
            name: 'Replace',
            value: 'replace',
            description: 'The stored positions become exactly these',
          },
          {
            name: 'Create or Update',
            value: 'upsert',
            description: 'Create a new record, or update the current one if it already exists (upsert)',
          },
        ],
        default: 'replace',
        description:
          'How positions change a stored portfolio: replace all of them, or add or replace positions by symbol',
      },
    ],
  },
];
