import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { closeMatches, normalizeSymbol, resolveSymbol } from '../../src/market/symbols.js';
import { candleCloseTime, candleOpenTime, parseTimeframe, timeframeMs } from '../../src/market/timeframes.js';

describe('timeframes', () => {
  it('parses and validates', () => {
    expect(parseTimeframe('1h')).toBe('1h');
    expect(parseTimeframe(' 4H ')).toBe('4h');
    expect(parseTimeframe('1M')).toBe('1M');
    expect(parseTimeframe('1m')).toBe('1m');
    expect(() => parseTimeframe('7h')).toThrow(AppError);
    expect(() => parseTimeframe('2d')).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_TIMEFRAME' }));
  });

  it('knows durations', () => {
    expect(timeframeMs('1m')).toBe(60_000);
    expect(timeframeMs('4h')).toBe(4 * 3_600_000);
    expect(timeframeMs('1w')).toBe(7 * 86_400_000);
  });

  it('aligns like Binance: UTC multiples, weeks on Monday, months on the 1st', () => {
    const t = Date.UTC(2024, 0, 7, 23, 59); // Sunday 2024-01-07 23:59 UTC
    expect(candleOpenTime(t, '4h')).toBe(Date.UTC(2024, 0, 7, 20));
    expect(candleOpenTime(t, '1d')).toBe(Date.UTC(2024, 0, 7));
    expect(candleOpenTime(t, '1w')).toBe(Date.UTC(2024, 0, 1)); // the Monday before
    expect(candleOpenTime(Date.UTC(2024, 0, 8), '1w')).toBe(Date.UTC(2024, 0, 8));
    expect(candleOpenTime(Date.UTC(2024, 1, 29, 5), '1M')).toBe(Date.UTC(2024, 1, 1));
    expect(candleCloseTime(Date.UTC(2024, 1, 1), '1M')).toBe(Date.UTC(2024, 2, 1));
    expect(candleCloseTime(Date.UTC(2024, 1, 1), '1d')).toBe(Date.UTC(2024, 1, 2));
  });
});

describe('symbols', () => {
  it('normalises the common user forms to ccxt unified symbols', () => {
    for (const input of [
      'BTCUSDT',
      'BTC/USDT',
      'btc-usdt',
      'btc_usdt',
      'BTC:USDT',
      ' btc usdt ',
      'BTC/USDT:USDT',
    ]) {
      expect(normalizeSymbol(input)).toBe('BTC/USDT');
    }
    expect(normalizeSymbol('ETHBTC')).toBe('ETH/BTC');
    expect(normalizeSymbol('BTCFDUSD')).toBe('BTC/FDUSD'); // longest quote first, not BTCFD/USD
    expect(normalizeSymbol('USDCUSDT')).toBe('USDC/USDT');
    expect(normalizeSymbol('1000SATSUSDT')).toBe('1000SATS/USDT');
    expect(normalizeSymbol('BITCOIN')).toBeUndefined();
  });

  it('resolves against a market list, which decides how to split unusual quotes', () => {
    const known = new Set(['BTC/USDT', 'ETH/BTC', 'PEPE/XYZ']);
    expect(resolveSymbol('btcusdt', known)).toBe('BTC/USDT');
    expect(resolveSymbol('PEPEXYZ', known)).toBe('PEPE/XYZ');
    expect(resolveSymbol('BTC/EUR', known)).toBeUndefined();
    expect(resolveSymbol('', known)).toBeUndefined();
  });

  it('suggests close matches: same base, prefixes and small edit distances', () => {
    const known = ['BTC/USDT', 'BTC/FDUSD', 'ETH/USDT', 'ETHFI/USDT', 'SOL/USDT', 'LTC/USDT'];
    expect(closeMatches('BTCUSDTT', known)[0]).toBe('BTC/USDT');
    expect(closeMatches('BTC/EUR', known).sort()).toEqual(['BTC/FDUSD', 'BTC/USDT']);
    expect(closeMatches('ETH', known)).toEqual(['ETH/USDT', 'ETHFI/USDT']);
    expect(closeMatches('SOLANA', known)).toEqual([]);
    expect(closeMatches('binanse', ['binance', 'binanceus', 'kraken'])).toEqual(['binance']);
    expect(closeMatches('x', known, 2).length).toBeLessThanOrEqual(2);
  });
});
