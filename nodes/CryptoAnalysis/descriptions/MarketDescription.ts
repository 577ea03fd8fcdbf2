import type { INodeProperties } from 'n8n-workflow';
import { scanTypeOptions, timeframeOptions } from '../../shared/fields';

const forOperation = (operation: string) => ({ show: { resource: ['market'], operation: [operation] } });

export const marketOperations: INodeProperties[] = [
  {
    displayName: 'Operation',
    name: 'operation',
    type: 'options',
    noDataExpression: true,
    displayOptions: { show: { resource: ['market'] } },
    options: [
      {
        name: 'Analyze',
        value: 'analyze',
        description:
          'Technical and smart-money analysis of one symbol: trend, volatility, indicators, order blocks, fair value gaps, BOS/CHoCH, key levels and a scored BUY/SELL/HOLD with entry, stop and targets',
        action: 'Analyze a crypto market with technical and smart money indicators',
      },
      {
        name: 'Detect Opportunities',
        value: 'detectOpportunities',
        description:
          'Top trade ideas across the market: BUY/SELL setups above a confidence threshold with entry, stop, targets, risk/reward and the reasons',
        action: 'Find the top crypto trade ideas',
      },
      {
        name: 'Scan',
        value: 'scan',
        description:
          'Scan many markets for breakouts, reversals, institutional footprints and volume surges, ranked by strength',
        action: 'Scan the crypto market for trade setups',
      },
    ],
    default: 'analyze',
  },
];

const symbolField = (operation: string): INodeProperties => ({
  displayName: 'Symbol',
  name: 'symbol',
  type: 'string',
  required: true,
  default: '',
  placeholder: 'e.g. BTCUSDT',
  description: 'Market symbol: BTCUSDT, BTC/USDT or btc-usdt',
  displayOptions: forOperation(operation),
});

const timeframeField = (operation: string): INodeProperties => ({
  displayName: 'Timeframe',
  name: 'timeframe',
  type: 'options',
  options: timeframeOptions,
  default: '1h',
  description: 'Candle timeframe; only closed candles are used',
  displayOptions: forOperation(operation),
});

const exchangeOption: INodeProperties = {
  displayName: 'Exchange',
  name: 'exchange',
  type: 'string',
  default: '',
  placeholder: 'e.g. binance',
  description:
    "Lowercase ccxt exchange ID such as binance, kraken, okx or bybit; empty uses the server's default",
};

const quoteOption: INodeProperties = {
  displayName: 'Quote Currency',
  name: 'quote',
  type: 'string',
  default: 'USDT',
  description: 'Quote currency of the markets to consider, e.g. USDT, USDC, BTC or EUR',
};

const minVolumeOption: INodeProperties = {
  displayName: 'Min 24h Volume (USD)',
  name: 'minVolumeUsd',
  type: 'number',
  typeOptions: { minValue: 0 },
  default: 1000000,
  description: 'Skip markets whose 24h quote volume in USD is below this',
};

export const marketFields: INodeProperties[] = [
  // analyze
  symbolField('analyze'),
  timeframeField('analyze'),
  {
    displayName: 'Options',
    name: 'options',
    type: 'collection',
    placeholder: 'Add Option',
    default: {},
    displayOptions: forOperation('analyze'),
    options: [
      {
        displayName: 'Candles',
        name: 'candles',
        type: 'number',
        typeOptions: { minValue: 100, maxValue: 1000 },
        default: 500,
        description: 'Closed candles to analyse (100-1000)',
      },
      {
        displayName: 'Comparison Symbol',
        name: 'comparisonSymbol',
        type: 'string',
        default: '',
        placeholder: 'e.g. BTCUSDT',
        description: 'Second symbol for correlation, beta and relative strength',
      },
      exchangeOption,
      {
        displayName: 'Higher Timeframe',
        name: 'higherTimeframe',
        type: 'options',
        options: [
          { name: 'Auto (Next Higher)', value: 'auto' },
          { name: 'None', value: 'none' },
          ...timeframeOptions,
        ],
        default: 'auto',
        description:
          'Timeframe for multi-timeframe confluence; must be longer than Timeframe. Auto picks the next higher one (1h to 4h).',
      },
      {
        displayName: 'Save Analysis',
        name: 'saveAnalysis',
        type: 'boolean',
        default: true,
        description:
          'Whether to archive the analysis on the server (kept 7 days) to review signal accuracy later',
      },
    ],
  },

  // scan
  {
    displayName: 'Scan Type',
    name: 'scanType',
    type: 'options',
    options: scanTypeOptions,
    default: 'all',
    description: 'Which setups to look for',
    displayOptions: forOperation('scan'),
  },
  timeframeField('scan'),
  {
    displayName: 'Options',
    name: 'options',
    type: 'collection',
    placeholder: 'Add Option',
    default: {},
    displayOptions: forOperation('scan'),
    options: [
      exchangeOption,
      {
        displayName: 'Include Stablecoins',
        name: 'includeStablecoins',
        type: 'boolean',
        default: false,
        description:
          'Whether to also scan markets whose base is a stablecoin or fiat (USDC, FDUSD, DAI, EUR, ...)',
      },
      {
        displayName: 'Max Results',
        name: 'maxResults',
        type: 'number',
        typeOptions: { minValue: 1, maxValue: 100 },
        default: 20,
        description: 'Hits listed at most, strongest first (1-100)',
      },
      minVolumeOption,
      quoteOption,
      {
        displayName: 'Symbols',
        name: 'symbols',
        type: 'string',
        default: '',
        placeholder: 'e.g. BTCUSDT, ETH/USDT, SOLUSDT',
        description:
          'Scan exactly these markets (comma-separated, at most 500) instead of the whole market; quote, volume and stablecoin filters then do not apply',
      },
    ],
  },

  // detectOpportunities
  {
    displayName: 'Minimum Confidence',
    name: 'confidenceThreshold',
    type: 'number',
    typeOptions: { minValue: 0, maxValue: 100 },
    default: 50,
    description: 'Minimum confidence (0-100) of a BUY/SELL recommendation; BUY/SELL start at 30',
    displayOptions: forOperation('detectOpportunities'),
  },
  timeframeField('detectOpportunities'),
  {
    displayName: 'Options',
    name: 'options',
    type: 'collection',
    placeholder: 'Add Option',
    default: {},
    displayOptions: forOperation('detectOpportunities'),
    options: [
      exchangeOption,
      {
        displayName: 'Market Cap Range',
        name: 'marketCapRange',
        type: 'options',
        options: [
          { name: 'All', value: 'all' },
          { name: 'Large (24h Volume ≥ $100M)', value: 'large' },
          { name: 'Mid (24h Volume $10M-$100M)', value: 'mid' },
          { name: 'Small (24h Volume < $10M)', value: 'small' },
        ],
        default: 'all',
        description: 'Liquidity tier by 24h quote volume, standing in for market cap',
      },
      {
        displayName: 'Max Results',
        name: 'maxResults',
        type: 'number',
        typeOptions: { minValue: 1, maxValue: 20 },
        default: 5,
        description: 'Ideas listed at most, highest confidence first (1-20)',
      },
      minVolumeOption,
      quoteOption,
    ],
  },
];
