/**
 * Schema pieces shared by several tools: symbols, timeframes, exchange ids and the provenance block
 * every answer carries.
 */
import { z } from 'zod';
import { TIMEFRAMES } from '../market/timeframes.js';

export const symbolSchema = z
  .string()
  .trim()
  .regex(
    /^[A-Za-z0-9]{1,20}([/_:-][A-Za-z0-9]{1,20})?$/,
    'a market symbol such as BTCUSDT, BTC/USDT or btc-usdt (letters and digits, optional / _ - : separator)',
  )
  .describe('Market symbol: BTCUSDT, BTC/USDT or btc-usdt');

export const timeframeSchema = z.enum(TIMEFRAMES).describe('Candle timeframe');

export const exchangeSchema = z
  .string()
  .regex(/^[a-z0-9]{2,30}$/, 'a lowercase ccxt exchange id such as binance, kraken, okx or bybit')
  .describe('ccxt exchange id; defaults to the server default (binance)');

/** Source and age of a secondary series (higher timeframe, comparison symbol). */
export const seriesSourceSchema = z.object({
  data_source: z.enum(['exchange', 'offline']),
  exchange: z.string(),
  as_of: z.string().describe('ISO close time of the last candle used'),
});

/** Where the numbers came from and how old they are. Present on every market-data answer. */
export const provenanceSchema = z.object({
  data_source: z
    .enum(['exchange', 'offline'])
    .describe('exchange = live ccxt data; offline = bundled Binance snapshot'),
  exchange: z.string(),
  as_of: z.string().describe('ISO time at which the last candle used closed'),
  data_age_ms: z.number().describe('Milliseconds between as_of and the time of the answer'),
  candles: z.number().int().describe('Number of closed candles analysed'),
  first_candle: z.string().describe('ISO open time of the first candle analysed'),
});

/** One line per problem, `field: message`, for errors that tell the caller what to fix. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || 'arguments'}: ${i.message}`).join('; ');
}
