/**
 * The real ccxt Binance client against the local fixture exchange (real snapshot candles over HTTP on
 * 127.0.0.1): market loading, symbol forms, paging, the still-forming candle, retries, timeouts,
 * fallback to the offline snapshot, malformed bodies and caching.
 */
import { spawn } from 'node:child_process';
import { STATUS_CODES } from 'node:http';
import { createInterface } from 'node:readline';
import { ExchangeError, NetworkError, NotSupported } from 'ccxt';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sliceCandles, type Candles } from '../../src/core/candles.js';
import { AppError } from '../../src/errors.js';
import { setLogLevel } from '../../src/logger.js';
import { CcxtSource } from '../../src/market/ccxt-source.js';
import { MarketData, type MarketDataMode } from '../../src/market/market-data.js';
import { SnapshotSource } from '../../src/market/snapshot.js';
import { startFixtureExchange, type FixtureExchange } from '../helpers/fixture-exchange.js';

const HOUR = 3_600_000;
const snapshot = new SnapshotSource();
let fx: FixtureExchange;

/** Short timeouts and retry delays keep the failure tests fast; `rateLimit: 1` disables ccxt's pacing. */
const fast = { retryBaseDelayMs: 5, retryMaxDelayMs: 20, timeoutMs: 300, ccxt: { rateLimit: 1 } };
const market = (mode: MarketDataMode, extra: object = {}) =>
  new MarketData({ mode, exchangeOptions: { ...fast, baseUrl: fx.baseUrl, ...extra } });

async function appError(promise: Promise<unknown>): Promise<AppError> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AppError);
  return e as AppError;
}

const klineRequests = () => fx.requests.filter((r) => r.includes('/klines')).length;

/**
 * ccxt options whose HTTP client answers `status` with `body` for URLs matching `path` and passes every
 * other request to the fixture, so that ccxt's own status handling runs (the fixture sends no 403/451).
 * `calls` lists the refused URLs.
 */
function refusing(status: number, body: string, path: RegExp) {
  const calls: string[] = [];
  const fetchImplementation = async (url: string, init: RequestInit) => {
    if (!path.test(url)) return fetch(url, init);
    calls.push(url);
    return new Response(body, { status, statusText: STATUS_CODES[status] });
  };
  return { calls, ccxt: { ...fast.ccxt, fetchImplementation } };
}

function expectSameCandles(actual: Candles, expected: Candles): void {
  for (const column of ['time', 'open', 'high', 'low', 'close', 'volume'] as const) {
    expect(actual[column]).toEqual(expected[column]);
  }
}

beforeAll(async () => {
  setLogLevel('error'); // the retry warnings are expected here
  fx = await startFixtureExchange();
});
afterAll(async () => {
  setLogLevel('info');
  await fx.close();
});
beforeEach(() => {
  fx.requests.length = 0;
});

describe('exchange mode against the fixture exchange', () => {
  it('loads spot markets and returns the snapshot values, minus the still-forming candle', async () => {
    const series = await market('exchange').getCandles({ symbol: 'BTCUSDT', timeframe: '1h', limit: 100 });
    const hourly = await snapshot.candles('BTC/USDT', '1h');
    const n = hourly.time.length;
    // The fixture clock is 09:30 in the hour of the last snapshot candle: that candle is still forming.
    expect(fx.now).toBe(hourly.time[n - 1]! + 30 * 60_000);
    expectSameCandles(series.candles, sliceCandles(hourly, n - 101, n - 1));
    expect(series).toMatchObject({
      symbol: 'BTC/USDT',
      exchange: 'binance',
      source: 'exchange',
      timeframe: '1h',
    });
    expect(series.asOf).toBe(hourly.time[n - 2]! + HOUR);
    expect(fx.requests[0]).toBe('/api/v3/exchangeInfo');
    expect(fx.requests.every((r) => r.startsWith('/api/v3/'))).toBe(true); // spot public endpoints only
  });

  it('judges "still forming" by the exchange clock (Date header), not the local one', async () => {
    // Local clock far ahead of the fixture's: by it, every candle would look closed.
    const farFuture = () => fx.now + 365 * 86_400_000;
    const md = new MarketData({
      mode: 'exchange',
      now: farFuture,
      exchangeOptions: { ...fast, baseUrl: fx.baseUrl },
    });
    const series = await md.getCandles({ symbol: 'BTC/USDT', timeframe: '1h', limit: 3 });
    expect(series.asOf).toBeLessThanOrEqual(fx.now);
  });

  it('keeps the newest candle once the exchange clock has passed its close', async () => {
    const hourly = await snapshot.candles('BTC/USDT', '1h');
    const lastOpen = hourly.time[hourly.time.length - 1]!;
    const closedFx = await startFixtureExchange({ now: lastOpen + HOUR });
    try {
      const md = new MarketData({
        mode: 'exchange',
        exchangeOptions: { ...fast, baseUrl: closedFx.baseUrl },
      });
      const series = await md.getCandles({ symbol: 'BTCUSDT', timeframe: '1h', limit: 2 });
      expect(series.candles.time.at(-1)).toBe(lastOpen);
      expect(series.asOf).toBe(lastOpen + HOUR);
    } finally {
      await closedFx.close();
    }
  });

  it('serves higher timeframes equal to the snapshot resampling', async () => {
    const md = market('exchange');
    for (const timeframe of ['4h', '1d', '1w'] as const) {
      const live = await md.getCandles({ symbol: 'BTC/USDT', timeframe, limit: 20 });
      expectSameCandles(live.candles, await snapshot.latest('BTC/USDT', timeframe, 20));
    }
  });

  it('pages beyond the 1000-candle request limit', async () => {
    const series = await market('exchange').getCandles({ symbol: 'BTC/USDT', timeframe: '1h', limit: 2500 });
    const hourly = await snapshot.candles('BTC/USDT', '1h');
    const n = hourly.time.length;
    expectSameCandles(series.candles, sliceCandles(hourly, n - 2501, n - 1));
    expect(klineRequests()).toBeGreaterThanOrEqual(3);
  });

  it('accepts the usual symbol forms', async () => {
    const md = market('exchange');
    for (const symbol of ['ETHUSDT', 'ETH/USDT', 'eth-usdt', 'eth_usdt']) {
      expect(await md.resolveSymbol(symbol)).toBe('ETH/USDT');
    }
    expect((await md.getCandles({ symbol: 'sol-usdt', timeframe: '4h', limit: 5 })).symbol).toBe('SOL/USDT');
  });

  it('returns the latest closed candles up to endTime, e.g. aligned with a market whose data ends earlier', async () => {
    const md = market('exchange');
    const eth = await md.getCandles({ symbol: 'ETHUSDT', timeframe: '1h', limit: 50 });
    const latest = await md.getCandles({ symbol: 'BTCUSDT', timeframe: '1h', limit: 50 });
    expect(latest.asOf).toBeGreaterThan(eth.asOf + 30 * 24 * HOUR); // BTC runs 5 weeks longer
    // Between two closes: the candle closing after endTime is left out. Not served from the cache above.
    const btc = await md.getCandles({
      symbol: 'BTCUSDT',
      timeframe: '1h',
      limit: 50,
      endTime: eth.asOf + 1_000,
    });
    expect(btc.asOf).toBe(eth.asOf);
    const hourly = await snapshot.candles('BTC/USDT', '1h');
    const last = hourly.time.indexOf(eth.candles.time[49]!);
    expectSameCandles(btc.candles, sliceCandles(hourly, last - 49, last + 1));
  });

  it('pages back from endTime, also for hourly history and months', async () => {
    const md = market('exchange');
    const endTime = Date.UTC(2025, 6, 1, 12, 30);
    const series = await md.getCandles({ symbol: 'BTC/USDT', timeframe: '1h', limit: 2500, endTime });
    const hourly = await snapshot.candles('BTC/USDT', '1h');
    const last = hourly.time.indexOf(Date.UTC(2025, 6, 1, 11));
    expectSameCandles(series.candles, sliceCandles(hourly, last - 2499, last + 1));
    expect(series.asOf).toBe(Date.UTC(2025, 6, 1, 12));

    // Twelve months of 28 to 31 days: a nominal 30-day month would start the request one month short.
    const months = await md.getCandles({
      symbol: 'BTC/USDT',
      timeframe: '1M',
      limit: 12,
      endTime: Date.UTC(2026, 3, 15),
    });
    expect(months.candles.time[0]).toBe(Date.UTC(2025, 3, 1));
    expect(months.candles.time).toHaveLength(12);
    expect(months.asOf).toBe(Date.UTC(2026, 3, 1));
  });

  it('drops the still-forming candle when endTime is later than the exchange clock', async () => {
    const series = await market('exchange').getCandles({
      symbol: 'BTCUSDT',
      timeframe: '1h',
      limit: 3,
      endTime: fx.now + 10 * HOUR,
    });
    const hourly = await snapshot.candles('BTC/USDT', '1h');
    const n = hourly.time.length;
    expectSameCandles(series.candles, sliceCandles(hourly, n - 4, n - 1));
  });

  it('reports an unknown symbol with suggestions, without falling back in auto mode', async () => {
    const e = await appError(market('auto').getCandles({ symbol: 'BTCUSDX', timeframe: '1h' }));
    expect(e.code).toBe('UNKNOWN_SYMBOL');
    expect(e.message).toMatch(/^Unknown symbol BTCUSDX on Binance; did you mean BTC\/USDT/);
    expect(e.details['suggestions']).toContain('BTC/USDT');
  });

  it('reports an unknown exchange id with close ids', () => {
    expect(() => new MarketData({ mode: 'exchange', exchange: 'binanse' })).toThrow(/did you mean binance/);
    expect(() => new CcxtSource({ exchange: 'krakn' })).toThrow(
      expect.objectContaining({
        code: 'UNKNOWN_EXCHANGE',
        details: expect.objectContaining({ suggestions: expect.arrayContaining(['kraken']) }),
      }),
    );
  });

  it.each(['offline', 'auto', 'exchange'] as const)(
    'rejects an exchange id ccxt does not know in %s mode',
    async (mode) => {
      expect(() => new MarketData({ mode, exchange: 'binanse' })).toThrow(/did you mean binance/);
      const md = market(mode);
      await expect(
        md.getCandles({ symbol: 'BTCUSDT', timeframe: '1h', exchange: 'zzzz' }),
      ).rejects.toMatchObject({ code: 'UNKNOWN_EXCHANGE', message: expect.stringMatching(/"zzzz"/) });
      await expect(md.getTickers({ exchange: 'krakn' })).rejects.toMatchObject({
        code: 'UNKNOWN_EXCHANGE',
        details: { suggestions: expect.arrayContaining(['kraken']) },
      });
      expect(fx.requests).toEqual([]);
    },
  );

  it('retries after two 503s and after a 429 (Retry-After capped by retryMaxDelayMs)', async () => {
    const md = market('exchange');
    fx.inject({ kind: 'status', status: 503, times: 2 });
    const series = await md.getCandles({ symbol: 'XRPUSDT', timeframe: '1h', limit: 5 });
    expect(series.candles.time).toHaveLength(5);
    expect(fx.requests.filter((r) => r === '/api/v3/exchangeInfo')).toHaveLength(3);

    fx.inject({ kind: 'status', status: 429, times: 1, path: /klines/ });
    const started = Date.now();
    await md.getCandles({ symbol: 'XRPUSDT', timeframe: '4h', limit: 5 });
    expect(Date.now() - started).toBeLessThan(1_000); // the fixture asks for 1 s; the cap is 20 ms
    expect(klineRequests()).toBe(3);
  });

  it('waits for Retry-After before retrying a 429, longer than its own backoff', async () => {
    // Backoff with jitter is at most 2 ms here: only the fixture's Retry-After: 1 can make the wait ~1 s.
    const md = market('exchange', { retryBaseDelayMs: 2, retryMaxDelayMs: 5_000 });
    await md.listSymbols();
    fx.inject({ kind: 'status', status: 429, times: 1, path: /klines/ });
    const started = Date.now();
    await md.getCandles({ symbol: 'XRPUSDT', timeframe: '1h', limit: 5 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(klineRequests()).toBe(2);
  });

  it('gives up with RATE_LIMITED when 429s persist', async () => {
    fx.inject({ kind: 'status', status: 429, times: 3, path: /klines/ });
    const e = await appError(
      market('exchange', { retries: 2 }).getCandles({ symbol: 'LTCUSDT', timeframe: '1h' }),
    );
    expect(e.code).toBe('RATE_LIMITED');
  });

  it('turns a timeout into EXCHANGE_UNAVAILABLE in exchange mode', async () => {
    fx.inject({ kind: 'timeout', times: 2, path: /klines/ });
    const e = await appError(
      market('exchange', { retries: 1 }).getCandles({ symbol: 'ADAUSDT', timeframe: '1h' }),
    );
    expect(e.code).toBe('EXCHANGE_UNAVAILABLE');
    expect(e.message).toBe(
      'Binance did not answer in time while fetching ADA/USDT 1h candles (2 attempts); try again later.',
    );
  });

  it('falls back to the snapshot in auto mode and then skips the exchange for a while', async () => {
    const md = market('auto', { retries: 0 });
    fx.inject({ kind: 'timeout', times: 1 });
    const series = await md.getCandles({ symbol: 'DOTUSDT', timeframe: '1h', limit: 24 });
    expect(series.source).toBe('offline');
    expectSameCandles(series.candles, await snapshot.latest('DOT/USDT', '1h', 24));
    const fallback = {
      requestedExchange: 'binance',
      reason: 'Binance did not answer in time while fetching the market list; try again later.',
      outage: true,
    };
    expect(series.fallback).toEqual(fallback);

    const before = fx.requests.length;
    const again = await md.getCandles({ symbol: 'LINKUSDT', timeframe: '4h', limit: 10 });
    expect(again.source).toBe('offline');
    expect(again.fallback).toEqual(fallback);
    expect(fx.requests.length).toBe(before); // the circuit breaker answers without trying the exchange
    expect((await md.getTickers()).fallback).toEqual(fallback);
  });

  it('retries once in auto mode, so a timing-out exchange falls back after two timeouts', async () => {
    // Two timeouts only: injected failures outlive a test. With more retries the third attempt would succeed.
    fx.inject({ kind: 'timeout', times: 2, path: /klines/ });
    const series = await market('auto').getCandles({ symbol: 'DOTUSDT', timeframe: '1h', limit: 24 });
    expect(series.source).toBe('offline');
    expect(series.fallback?.reason).toMatch(/did not answer in time .*\(2 attempts\)/);
    expect(klineRequests()).toBe(2);
  });

  it('keeps the normal retries in auto mode for an exchange the snapshot cannot stand in for', async () => {
    const md = new MarketData({
      mode: 'auto',
      exchange: 'binanceus',
      exchangeOptions: { ...fast, baseUrl: fx.baseUrl },
    });
    await md.listSymbols();
    fx.inject({ kind: 'status', status: 503, times: 2, path: /klines/ });
    const series = await md.getCandles({ symbol: 'BTCUSDT', timeframe: '1h', limit: 5 });
    expect(series).toMatchObject({ exchange: 'binanceus', source: 'exchange' });
    expect(klineRequests()).toBe(3);
  });

  it.each([400, 403, 404, 410])(
    'neither retries HTTP %i nor takes it for an outage: no fallback, no pause, reachable',
    async (status) => {
      const { calls, ccxt } = refusing(status, '<html><body>Request blocked.</body></html>', /klines/);
      const md = market('auto', { retries: 3, ccxt });
      const e = await appError(md.getCandles({ symbol: 'BTCUSDT', timeframe: '1h' }));
      expect(e.code).toBe('EXCHANGE_UNAVAILABLE');
      expect(e.message).toBe(
        `Binance refused the request for BTC/USDT 1h candles (HTTP ${status}); retrying will not help: ` +
          'check the base URL, a proxy, or whether the exchange blocks this network.',
      );
      expect(e.details).toMatchObject({ httpStatus: status, attempts: 1 });
      expect(e.details['outage']).toBeUndefined();
      expect(calls).toHaveLength(1);
      expect(md.health().exchanges['binance']).toMatchObject({ reachable: true, reason: e.message });

      await appError(md.getCandles({ symbol: 'BTCUSDT', timeframe: '1h' })); // asked again: no outage window
      expect(calls).toHaveLength(2);
    },
  );

  it('says when the exchange is not available from this location (HTTP 451)', async () => {
    const body = JSON.stringify({
      code: 0,
      msg: "Service unavailable from a restricted location according to 'b. Eligibility' in https://www.binance.com/en/terms.",
    });
    const { calls, ccxt } = refusing(451, body, /./);
    const e = await appError(market('exchange', { ccxt }).listSymbols());
    expect(e).toMatchObject({
      code: 'EXCHANGE_UNAVAILABLE',
      message:
        'Binance is not available from this location (HTTP 451), so it cannot provide the market list; ' +
        'use another exchange or the offline snapshot.',
      details: { httpStatus: 451, attempts: 1 },
    });
    expect(calls).toHaveLength(1);
  });

  it('reports an exchange as unreachable in health only after an outage', async () => {
    const md = market('exchange', { retries: 0 });
    const contact = () => md.health().exchanges['binance'];
    await md.getCandles({ symbol: 'LTCUSDT', timeframe: '1h', limit: 5 });
    expect(contact()).toEqual({ reachable: true, at: expect.any(Number) });

    fx.inject({ kind: 'status', status: 429, times: 1, path: /klines/ });
    await appError(md.getCandles({ symbol: 'LTCUSDT', timeframe: '2h' }));
    expect(contact()).toMatchObject({ reachable: true, reason: expect.stringMatching(/rate-limiting/) });

    fx.inject({ kind: 'status', status: 503, times: 1, path: /klines/ });
    await appError(md.getCandles({ symbol: 'LTCUSDT', timeframe: '4h' }));
    expect(contact()).toMatchObject({ reachable: false, reason: expect.stringMatching(/unreachable/) });

    fx.inject({ kind: 'malformed', times: 1, path: /klines/ });
    await appError(md.getCandles({ symbol: 'LTCUSDT', timeframe: '6h' }));
    expect(contact()).toMatchObject({ reachable: false, reason: expect.stringMatching(/unreadable/) });

    const fetchOHLCV = async () => {
      throw new ExchangeError('binance {"code":-1000,"msg":"An unknown error occurred."}');
    };
    const failing = market('exchange', { ccxt: { ...fast.ccxt, fetchOHLCV } });
    await appError(failing.getCandles({ symbol: 'LTCUSDT', timeframe: '1h' }));
    expect(failing.health().exchanges['binance']).toMatchObject({
      reachable: true,
      reason: 'Binance returned an error for LTC/USDT 1h candles.',
    });
  });

  it('does not pass Binance snapshot candles off as another exchange in auto mode', async () => {
    // binanceus speaks Binance's API, so the fixture can play it.
    const md = new MarketData({
      mode: 'auto',
      exchange: 'binanceus',
      exchangeOptions: { ...fast, retries: 0, baseUrl: fx.baseUrl },
    });
    fx.inject({ kind: 'status', status: 503, times: 1 });
    await expect(md.getCandles({ symbol: 'BTCUSDT', timeframe: '1h' })).rejects.toMatchObject({
      code: 'EXCHANGE_UNAVAILABLE',
      message: expect.stringMatching(/^Binance US is unreachable or failing/),
    });
    // No outage window either: the next request goes to the exchange again.
    const series = await md.getCandles({ symbol: 'BTCUSDT', timeframe: '1h', limit: 5 });
    expect(series).toMatchObject({ exchange: 'binanceus', source: 'exchange' });
    expect(series.fallback).toBeUndefined();
  });

  it('returns RATE_LIMITED in auto mode instead of falling back or pausing the exchange', async () => {
    const md = market('auto', { retries: 0 });
    fx.inject({ kind: 'status', status: 429, times: 1, path: /klines/ });
    await expect(md.getCandles({ symbol: 'LTCUSDT', timeframe: '1h' })).rejects.toMatchObject({
      code: 'RATE_LIMITED',
      message: expect.stringMatching(/try again in a minute/),
    });
    const series = await md.getCandles({ symbol: 'LTCUSDT', timeframe: '1h', limit: 5 });
    expect(series.source).toBe('exchange');
  });

  it('does not fall back on an exchange error that is no outage', async () => {
    const fetchOHLCV = async () => {
      throw new ExchangeError('binance {"code":-1000,"msg":"An unknown error occurred."}');
    };
    const md = market('auto', { ccxt: { ...fast.ccxt, fetchOHLCV } });
    await expect(md.getCandles({ symbol: 'LTCUSDT', timeframe: '1h' })).rejects.toMatchObject({
      code: 'EXCHANGE_UNAVAILABLE',
      message: 'Binance returned an error for LTC/USDT 1h candles.',
    });
  });

  it('does not retry when the network or host is unreachable or DNS cannot answer', async () => {
    for (const cause of [
      'connect ENETUNREACH 10.1.2.3:443',
      'connect EHOSTUNREACH 10.1.2.3:443',
      'getaddrinfo EAI_AGAIN api.binance.com',
    ]) {
      let calls = 0;
      const fetch = async (url: string) => {
        calls++;
        throw new NetworkError(`binance GET ${url} fetch failed: ${cause}`);
      };
      const source = new CcxtSource({ ...fast, retries: 3, ccxt: { ...fast.ccxt, fetch } });
      await expect(source.listSymbols()).rejects.toMatchObject({ code: 'EXCHANGE_UNAVAILABLE' });
      expect(calls).toBe(1);
    }
  });

  it('reports NotSupported as an invalid request, without falling back', async () => {
    const fetchOHLCV = async () => {
      throw new NotSupported('binance fetchOHLCV() is not supported yet');
    };
    const md = market('auto', { ccxt: { ...fast.ccxt, fetchOHLCV } });
    await expect(md.getCandles({ symbol: 'BTCUSDT', timeframe: '1h' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/^Binance does not support fetchOHLCV through ccxt/),
    });
  });

  it('rejects a derivatives-only exchange id without asking it for spot markets', async () => {
    // ccxt's binanceusdm lists USDⓈ-M futures only; with the spot-only option it would load Binance spot
    // markets (here: the fixture's) and pass them off as its own.
    const md = new MarketData({
      mode: 'auto',
      exchange: 'binanceusdm',
      exchangeOptions: { ...fast, baseUrl: fx.baseUrl },
    });
    await expect(md.getCandles({ symbol: 'BTCUSDT', timeframe: '1h' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/^Binance USDⓈ-M has no spot market data through ccxt/),
    });
    expect(fx.requests).toEqual([]);
  });

  it('reports an exchange whose market list has no spot markets as such, not as unreadable', async () => {
    const loadMarkets = async () => ({
      'BTC/USD:USD': { id: 'PF_XBTUSD', symbol: 'BTC/USD:USD', spot: false, swap: true, type: 'swap' },
    });
    const md = market('auto', { ccxt: { ...fast.ccxt, loadMarkets } });
    await expect(md.listSymbols()).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/^Binance has no spot market data through ccxt/),
    });
  });

  it('combines both reasons when the snapshot cannot stand in either', async () => {
    const md = market('auto', { retries: 0 });
    fx.inject({ kind: 'status', status: 502, times: 1 });
    const e = await appError(md.getCandles({ symbol: 'BTCUSDT', timeframe: '15m' }));
    expect(e.code).toBe('EXCHANGE_UNAVAILABLE');
    expect(e.message).toMatch(
      /unreachable or failing.*The offline snapshot cannot stand in: .*cannot serve 15m/,
    );
  });

  it('turns a malformed body into a friendly EXCHANGE_UNAVAILABLE', async () => {
    const md = market('exchange');
    fx.inject({ kind: 'malformed', times: 1, path: /klines/ });
    const e = await appError(md.getCandles({ symbol: 'NEARUSDT', timeframe: '1h', limit: 5 }));
    expect(e.code).toBe('EXCHANGE_UNAVAILABLE');
    expect(e.message).toBe('Binance sent an unreadable response for NEAR/USDT 1h candles; try again later.');
    expect(e.message).not.toMatch(/JSON|Unexpected|position/);

    fx.inject({ kind: 'malformed', times: 1, path: /exchangeInfo/ });
    const markets = await appError(market('exchange').listSymbols());
    expect(markets.code).toBe('EXCHANGE_UNAVAILABLE');
  });

  it('answers repeated requests from the cache', async () => {
    const md = market('exchange');
    const first = await md.getCandles({ symbol: 'TRXUSDT', timeframe: '1h', limit: 50 });
    const requests = fx.requests.length;
    const second = await md.getCandles({ symbol: 'TRX/USDT', timeframe: '1h', limit: 50 });
    expect(second).toBe(first);
    expect(fx.requests.length).toBe(requests);
  });

  it('fetches 24h tickers', async () => {
    const { tickers, source, derived } = await market('exchange').getTickers();
    expect(source).toBe('exchange');
    expect(derived).toBe(false);
    expect(tickers.length).toBeGreaterThan(400);
    const offline = (await snapshot.tickers()).tickers.find((t) => t.symbol === 'ETH/USDT')!;
    expect(tickers.find((t) => t.symbol === 'ETH/USDT')).toMatchObject({
      last: offline.last,
      high: offline.high,
      timestamp: offline.timestamp - 1, // the fixture's closeTime
    });
  });

  it('leaves a ticker timestamp the exchange did not send undefined', async () => {
    const fetchTickers = async () => ({ 'BTC/USDT': { symbol: 'BTC/USDT', last: 100, info: {} } });
    const source = new CcxtSource({ ...fast, baseUrl: fx.baseUrl, ccxt: { ...fast.ccxt, fetchTickers } });
    const [btc] = await source.fetchTickers();
    expect(btc).toMatchObject({ symbol: 'BTC/USDT', last: 100 });
    expect(btc!.timestamp).toBeUndefined();
  });
});

describe('fixture exchange CLI', () => {
  it('runs as a separate process and prints its URL', async () => {
    // node --import tsx, not npx: the signal must reach the server process itself.
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/helpers/fixture-exchange.ts', '--port', '0'],
      {
        cwd: new URL('../../', import.meta.url),
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`fixture exited with ${code}`)));
      });
      const { url, baseUrl } = JSON.parse(line) as { url: string; baseUrl: string };
      expect(baseUrl).toBe(`${url}/api/v3`);
      const time = (await (await fetch(`${baseUrl}/time`)).json()) as { serverTime: number };
      expect(time.serverTime).toBe(fx.now);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
