import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allocCandles } from '../../src/core/candles.js';
import { AppError } from '../../src/errors.js';
import { MarketData } from '../../src/market/market-data.js';
import {
  decodeSnapshotFile,
  encodeSnapshotFile,
  type SnapshotFileHeader,
} from '../../src/market/snapshot-codec.js';
import { SnapshotSource } from '../../src/market/snapshot.js';
import { loadCandlesCsv } from '../helpers/csv.js';

const SOURCE_DIR = '/work/shared/data/market';
const snapshot = new SnapshotSource();

async function appError(promise: Promise<unknown>): Promise<AppError> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AppError);
  return e as AppError;
}

describe('offline snapshot', () => {
  it('indexes 404 symbols: 16 with two years of history covering the universe window, 388 inside it', async () => {
    const index = await snapshot.index();
    expect(index.symbols).toHaveLength(404);
    expect(index.groups.history).toHaveLength(16);
    expect(index.groups.universe).toHaveLength(388);
    expect(index.credits).toMatch(/Binance/);
    const { start, end } = index.universeWindow;
    expect(start).toBe(Date.UTC(2025, 0, 1));
    expect(end).toBe(Date.UTC(2025, 5, 18, 7));
    for (const s of index.symbols) {
      if (s.group === 'history') {
        expect(s.lastTime - s.firstTime).toBeGreaterThanOrEqual(2 * 365 * 86_400_000);
        expect(s.firstTime).toBeLessThanOrEqual(start);
        expect(s.lastTime).toBeGreaterThanOrEqual(end);
      } else {
        // Pairs listed after 2025-01-01 start later; a few copies end shortly before the window does.
        expect(s.firstTime).toBeGreaterThanOrEqual(start);
        expect(s.lastTime).toBeLessThanOrEqual(end);
      }
    }
    const universe = index.symbols.find((s) => s.symbol === '1000CAT/USDT')!;
    expect(universe).toMatchObject({ group: 'universe', firstTime: start, lastTime: end, missingCandles: 0 });
    const candles = await snapshot.candles(universe.symbol, '1h');
    expect(candles.time[0]).toBe(start);
    expect(candles.time.at(-1)).toBe(end);
    expect(candles.time).toHaveLength((end - start) / 3_600_000 + 1);
  });

  it.skipIf(!existsSync(SOURCE_DIR))('round-trips the source CSV values exactly', async () => {
    for (const id of ['BTCUSDT', 'ETHUSDT', 'SHIBUSDT', '1000CATUSDT', 'REDUSDT']) {
      const source = loadCandlesCsv(`${SOURCE_DIR}/${id}-1h.csv.gz`);
      const info = (await snapshot.index()).symbols.find((s) => s.id === id)!;
      const decoded = await snapshot.candles(info.symbol, '1h');
      const from = source.time.indexOf(info.firstTime);
      expect(from).toBeGreaterThanOrEqual(0);
      for (const column of ['time', 'open', 'high', 'low', 'close', 'volume'] as const) {
        expect(decoded[column]).toEqual(source[column].subarray(from));
      }
    }
  });

  it('codec keeps raw float64 columns when values do not fit scaled integers', () => {
    const c = allocCandles(3);
    c.time.set([0, 3_600_000, 3 * 3_600_000]); // with a one-candle gap
    c.open.set([0.1 + 0.2, 1e300, Math.PI]);
    c.high.set([1, 2e300, 4]);
    c.low.set([0, 1, 3]);
    c.close.set([0.5, 1.5e300, 3.5]);
    c.volume.set([1e-320, 2 ** 60, 0]);
    const header: SnapshotFileHeader = {
      symbol: 'X/Y',
      id: 'XY',
      base: 'X',
      quote: 'Y',
      timeframe: '1h',
      firstTime: 0,
      lastTime: 3 * 3_600_000,
      count: 3,
      priceDecimals: null,
      volumeDecimals: null,
      gaps: [[2 * 3_600_000, 1]],
    };
    const decoded = decodeSnapshotFile(encodeSnapshotFile(header, c));
    expect(decoded.header).toEqual(header);
    expect(decoded.candles).toEqual(c);
  });

  it('serves 1h and resampled timeframes; asOf = last open + timeframe', async () => {
    const market = new MarketData({ mode: 'offline' });
    const h1 = await market.getCandles({ symbol: 'ETHUSDT', timeframe: '1h', limit: 10 });
    expect(h1).toMatchObject({ symbol: 'ETH/USDT', exchange: 'binance', source: 'offline', timeframe: '1h' });
    expect(h1.candles.time).toHaveLength(10);
    const lastOpen = h1.candles.time[9]!;
    expect(lastOpen).toBe(Date.UTC(2026, 4, 16, 18));
    expect(h1.asOf).toBe(lastOpen + 3_600_000);

    const w1 = await market.getCandles({ symbol: 'eth-usdt', timeframe: '1w', limit: 4 });
    expect(w1.asOf).toBe(w1.candles.time[3]! + 7 * 86_400_000);
    expect(new Date(w1.candles.time[3]!).getUTCDay()).toBe(1); // Monday
    const d1 = await market.getCandles({ symbol: 'ETH/USDT', timeframe: '1d', limit: 2 });
    expect(d1.asOf).toBe(Date.UTC(2026, 4, 16)); // 16 May is incomplete (ends 18:00), so 15 May is the last day
  });

  it('slices to endTime, e.g. to align BTC with ETH, whose data ends 5 weeks earlier', async () => {
    const market = new MarketData({ mode: 'offline' });
    const eth = await market.getCandles({ symbol: 'ETHUSDT', timeframe: '4h', limit: 30 });
    expect(eth.asOf).toBe(Date.UTC(2026, 4, 16, 16)); // the 16:00 candle lacks its 19:00 hour
    const latest = await market.getCandles({ symbol: 'BTCUSDT', timeframe: '4h', limit: 30 });
    expect(latest.asOf).toBe(Date.UTC(2026, 5, 20, 8));

    const btc = await market.getCandles({ symbol: 'BTCUSDT', timeframe: '4h', limit: 30, endTime: eth.asOf });
    expect(btc).toMatchObject({ symbol: 'BTC/USDT', source: 'offline', asOf: eth.asOf });
    expect(btc.candles.time).toEqual(eth.candles.time);
    const all = await snapshot.candles('BTC/USDT', '4h');
    const last = all.time.indexOf(Date.UTC(2026, 4, 16, 12));
    expect(btc.candles.close).toEqual(all.close.subarray(last - 29, last + 1));

    // A candle closing one millisecond after endTime is left out.
    const earlier = await market.getCandles({
      symbol: 'BTCUSDT',
      timeframe: '4h',
      limit: 30,
      endTime: eth.asOf - 1,
    });
    expect(earlier.asOf).toBe(eth.asOf - 4 * 3_600_000);
    expect(earlier.candles.time).toHaveLength(30);
  });

  it('says when no candle closes by endTime, and rejects an endTime that is no time', async () => {
    const market = new MarketData({ mode: 'offline' });
    const e = await appError(
      market.getCandles({ symbol: 'BTCUSDT', timeframe: '1h', endTime: Date.UTC(2024, 0, 1) }),
    );
    expect(e.code).toBe('INSUFFICIENT_DATA');
    expect(e.message).toBe(
      'BTC/USDT has no closed 1h candles on binance closing by 2024-01-01T00:00:00.000Z.',
    );
    for (const endTime of [NaN, Infinity, 1e20]) {
      const invalid = await appError(market.getCandles({ symbol: 'BTCUSDT', timeframe: '1h', endTime }));
      expect(invalid.code).toBe('INVALID_ARGUMENT');
    }
  });

  it('tells where its data ends, per symbol and overall, from the index', async () => {
    const fresh = new SnapshotSource();
    expect(await fresh.lastClose('ethusdt')).toBe(Date.UTC(2026, 4, 16, 19));
    expect(await fresh.lastClose('BTC/USDT')).toBe(Date.UTC(2026, 5, 20, 10));
    expect(await fresh.lastClose()).toBe(Date.UTC(2026, 5, 20, 10));
    expect((await appError(fresh.lastClose('BTCUSDX'))).code).toBe('UNKNOWN_SYMBOL');
  });

  it('says when it stands in for an exchange other than Binance', async () => {
    const market = new MarketData({ mode: 'offline' });
    const binance = await market.getCandles({ symbol: 'ETHUSDT', timeframe: '1h', limit: 10 });
    expect(binance.fallback).toBeUndefined();
    const onlyBinance = { reason: 'the offline snapshot holds Binance data only', outage: false };
    const kraken = await market.getCandles({
      symbol: 'ETHUSDT',
      timeframe: '1h',
      limit: 10,
      exchange: 'Kraken',
    });
    expect(kraken).toMatchObject({ exchange: 'binance', source: 'offline' });
    expect(kraken.fallback).toEqual({ requestedExchange: 'kraken', ...onlyBinance });
    expect(kraken.candles).toBe(binance.candles);
    expect(binance.fallback).toBeUndefined(); // the cached series is not changed

    const krakenByDefault = new MarketData({ mode: 'offline', exchange: 'kraken' });
    const series = await krakenByDefault.getCandles({ symbol: 'ETHUSDT', timeframe: '4h', limit: 10 });
    expect(series.fallback).toEqual({ requestedExchange: 'kraken', ...onlyBinance });
    expect((await krakenByDefault.getTickers()).fallback).toEqual({
      requestedExchange: 'kraken',
      ...onlyBinance,
    });
  });

  it('rejects sub-hour timeframes, naming what it serves', async () => {
    const e = await appError(
      new MarketData({ mode: 'offline' }).getCandles({ symbol: 'BTCUSDT', timeframe: '15m' }),
    );
    expect(e.code).toBe('UNSUPPORTED_TIMEFRAME');
    expect(e.message).toMatch(/1h, 2h, 4h, 6h, 8h, 12h, 1d, 3d, 1w, 1M/);
  });

  it('reports unknown symbols with suggestions', async () => {
    const e = await appError(
      new MarketData({ mode: 'offline' }).getCandles({ symbol: 'BTCUSDX', timeframe: '1h' }),
    );
    expect(e.code).toBe('UNKNOWN_SYMBOL');
    expect(e.message).toMatch(/^Unknown symbol BTCUSDX on the offline snapshot; did you mean BTC\/USDT/);
    expect(e.details['suggestions']).toContain('BTC/USDT');
  });

  it('validates limit and caches series objects', async () => {
    const market = new MarketData({ mode: 'offline' });
    const e = await appError(market.getCandles({ symbol: 'BTCUSDT', timeframe: '1h', limit: 0 }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    const a = await market.getCandles({ symbol: 'BTCUSDT', timeframe: '4h', limit: 50 });
    expect(await market.getCandles({ symbol: 'BTC/USDT', timeframe: '4h', limit: 50 })).toBe(a);
  });

  it('bundles the derived 24h tickers', async () => {
    const tickers = await snapshot.tickers();
    expect(tickers.derived).toBe(true);
    expect(tickers.note).toMatch(/DERIVED/);
    const btc = tickers.tickers.find((t) => t.symbol === 'BTC/USDT')!;
    expect(btc.last).toBeGreaterThan(0);
    expect(btc.high).toBeGreaterThanOrEqual(btc.low);
  });
});
