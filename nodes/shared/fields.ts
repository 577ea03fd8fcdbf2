/**
 * Parameter pieces and value helpers shared by the Crypto MCP nodes: the timeframes the server
 * accepts, list and JSON parsing, and dropping unset optional values so the server's defaults apply.
 */
import type { IDataObject, INode, INodePropertyOptions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

/** The server's timeframes (ccxt notation), shortest first. */
export const TIMEFRAMES = [
  '1m',
  '3m',
  '5m',
  '15m',
  '30m',
  '1h',
  '2h',
  '4h',
  '6h',
  '8h',
  '12h',
  '1d',
  '3d',
  '1w',
  '1M',
] as const;

const TIMEFRAME_NAMES: Record<string, string> = {
  m: 'Minute',
  h: 'Hour',
  d: 'Day',
  w: 'Week',
  M: 'Month',
};

function timeframeName(timeframe: string): string {
  const count = Number(timeframe.slice(0, -1));
  const unit = TIMEFRAME_NAMES[timeframe.slice(-1)];
  return `${count} ${unit}${count === 1 ? '' : 's'} (${timeframe})`;
}

/** market_scanner's scan types, for the Crypto Analysis scan operation and the Crypto Scan Trigger. */
export const scanTypeOptions: INodePropertyOptions[] = [
  { name: 'All', value: 'all', description: 'Every scan type' },
  {
    name: 'Breakouts',
    value: 'breakouts',
    description: 'Donchian(20) range and BOS breaks on at least 1.5x volume',
  },
  {
    name: 'Institutional',
    value: 'institutional',
    description: 'Fresh order-block or fair-value-gap retests and liquidity sweeps',
  },
  {
    name: 'Reversals',
    value: 'reversals',
    description: 'CHoCH, RSI divergence and exhaustion at 50-candle extremes',
  },
  { name: 'Volume Surge', value: 'volume_surge', description: 'At least 3x the 20-candle average volume' },
];

/** Options for a timeframe parameter, in time order (the options lint rule is satisfied by `value` order). */
export const timeframeOptions: INodePropertyOptions[] = TIMEFRAMES.map((value) => ({
  name: timeframeName(value),
  value,
}));

/** Drop undefined, null, empty strings and empty lists, so the server applies its own defaults. */
export function compact(values: IDataObject): IDataObject {
  const result: IDataObject = {};
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined || value === null) continue;
    if (typeof value === 'string' && value.trim() === '') continue;
    if (Array.isArray(value) && value.length === 0) continue;
    result[key] = typeof value === 'string' ? value.trim() : value;
  }
  return result;
}

/**
 * A list parameter: "BTCUSDT, ETH/USDT" (commas, spaces or new lines) or an array from an expression.
 * Undefined when empty.
 */
export function parseList(value: unknown): string[] | undefined {
  const parts = Array.isArray(value)
    ? value.map((v) => String(v))
    : typeof value === 'string'
      ? value.split(/[\s,;]+/)
      : [];
  const list = parts.map((p) => p.trim()).filter((p) => p !== '');
  return list.length > 0 ? list : undefined;
}

/** A JSON parameter: an object (or array, with `array`) from text or an expression; undefined when empty. */
export function parseJson(
  node: INode,
  value: unknown,
  label: string,
  itemIndex: number,
  expect: 'object' | 'array' = 'object',
): IDataObject | IDataObject[] | undefined {
  let parsed: unknown = value;
  if (typeof value === 'string') {
    if (value.trim() === '') return undefined;
    try {
      parsed = JSON.parse(value) as unknown;
    } catch (error) {
      throw new NodeOperationError(node, `${label} is not valid JSON: ${(error as Error).message}`, {
        itemIndex,
      });
    }
  }
  if (parsed === undefined || parsed === null) return undefined;
  const isArray = Array.isArray(parsed);
  if (typeof parsed !== 'object' || (expect === 'array') !== isArray) {
    throw new NodeOperationError(node, `${label} must be a JSON ${expect === 'array' ? 'array' : 'object'}`, {
      itemIndex,
    });
  }
  return parsed as IDataObject | IDataObject[];
}

/** Symbols compare without case or separator: BTC/USDT, btc-usdt and BTCUSDT are the same market. */
export function normalizeSymbol(symbol: string): string {
  return symbol.replace(/[^A-Za-z0-9]/g, '').toUpperCase();
}

/** Quote currencies the server recognises at the end of a separator-less symbol (mcp-server/src/market/symbols.ts). */
const KNOWN_QUOTES = [
  'USDT',
  'USDC',
  'FDUSD',
  'BUSD',
  'TUSD',
  'USDP',
  'DAI',
  'BTC',
  'ETH',
  'BNB',
  'EUR',
  'TRY',
  'BRL',
  'GBP',
  'AUD',
  'JPY',
  'USD',
];

/**
 * Whether `symbol` names a market (BTC/USDT, btc-usdt, ETHBTC) rather than a bare base currency (SOL),
 * the way the server reads it: two parts around a separator, or a known quote currency at the end.
 * The server refuses a bare base where it expects markets (UNKNOWN_SYMBOL).
 */
export function isMarketSymbol(symbol: string): boolean {
  const parts = symbol
    .trim()
    .toUpperCase()
    .split(/[\s/_:-]+/)
    .filter(Boolean);
  if (parts.length === 2 || (parts.length === 3 && parts[2] === parts[1])) return true;
  if (parts.length !== 1) return false;
  const single = parts[0]!;
  return KNOWN_QUOTES.some((quote) => single.length > quote.length && single.endsWith(quote));
}
