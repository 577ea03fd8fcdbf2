/**
 * The market layer's part of observability, in process against the fixture exchange: each failed
 * exchange request is counted once by kind (timeout, network, bad response, rate limit, refusal), user
 * mistakes are not counted, and the reachability probe behind /health/infrastructure measures a real
 * round trip, reports failures truthfully, is reused for a few seconds, and never contacts the exchange
 * in offline mode.
 */
import { STATUS_CODES } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setLogLevel } from '../../src/logger.js';
import { MarketData, type MarketDataMode } from '../../src/market/market-data.js';
import { exchangeErrors } from '../../src/observability/instruments.js';
import { startFixtureExchange, type FixtureExchange } from '../helpers/fixture-exchange.js';

let fx: FixtureExchange;
const fast = { retryBaseDelayMs: 5, retryMaxDelayMs: 20, timeoutMs: 300, retries: 0, ccxt: { rateLimit: 1 } };
const market = (mode: MarketDataMode, ccxt: object = {}) =>
  new MarketData({
    mode,
    exchangeOptions: { ...fast, baseUrl: fx.baseUrl, ccxt: { ...fast.ccxt, ...ccxt } },
  });
const errors = (kind: string) => exchangeErrors.get({ exchange: 'binance', kind });

beforeAll(async () => {
  setLogLevel('error');
  fx = await startFixtureExchange();
});
afterAll(async () => {
  await fx?.close();
});

describe('exchange errors by kind', () => {
  it.each([
    ['timeout', { kind: 'timeout' as const, times: 1, path: /klines/ }],
    ['network', { kind: 'status' as const, status: 503 as const, times: 1, path: /klines/ }],
    ['bad_response', { kind: 'malformed' as const, times: 1, path: /klines/ }],
    ['rate_limited', { kind: 'status' as const, status: 429 as const, times: 1, path: /klines/ }],
  ])('counts a %s once', async (kind, failure) => {
    const m = market('exchange');
    await m.listSymbols(); // markets loaded first, so the failure hits the candles
    const before = errors(kind);
    fx.inject(failure);
    await expect(m.getCandles({ symbol: 'BTCUSDT', timeframe: '1h', limit: 50 })).rejects.toMatchObject({
      code: kind === 'rate_limited' ? 'RATE_LIMITED' : 'EXCHANGE_UNAVAILABLE',
    });
    expect(errors(kind) - before).toBe(1);
  });

  it('counts a refusal (HTTP 403) as refused', async () => {
    const fetchImplementation = async (url: string, init: RequestInit) =>
      /klines/.test(url)
        ? new Response('blocked', { status: 403, statusText: STATUS_CODES[403] })
        : fetch(url, init);
    const m = market('exchange', { fetchImplementation });
    const before = errors('refused');
    await expect(m.getCandles({ symbol: 'ETHUSDT', timeframe: '1h', limit: 50 })).rejects.toMatchObject({
      code: 'EXCHANGE_UNAVAILABLE',
    });
    expect(errors('refused') - before).toBe(1);
  });

  it('does not count mistakes of the caller', async () => {
    const m = market('exchange');
    const kinds = [
      'timeout',
      'network',
      'bad_response',
      'rate_limited',
      'refused',
      'rejected',
      'exchange_error',
    ];
    const before = kinds.map(errors);
    await expect(m.getCandles({ symbol: 'NOPEUSDT', timeframe: '1h' })).rejects.toMatchObject({
      code: 'UNKNOWN_SYMBOL',
    });
    expect(kinds.map(errors)).toEqual(before);
  });
});

describe('exchange probe', () => {
  it('measures a round trip to the server time and reuses it for a while', async () => {
    const m = market('exchange');
    const timeRequests = () => fx.requests.filter((r) => r.startsWith('/api/v3/time')).length;
    const before = timeRequests();
    const probe = await m.probeExchange(2_000);
    expect(probe).toMatchObject({ exchange: 'binance', mode: 'exchange', status: 'ok' });
    expect(probe.latency_ms).toBeTypeOf('number');
    expect(timeRequests() - before).toBe(1);
    await m.probeExchange(2_000);
    expect(timeRequests() - before).toBe(1);
  });

  it('reports a failing exchange down with a message, not a URL, and does not count it as an error', async () => {
    const m = market('auto');
    const before = errors('network');
    fx.inject({ kind: 'status', status: 503, times: 1, path: /\/time/ });
    const probe = await m.probeExchange(2_000);
    expect(probe).toMatchObject({ status: 'down', latency_ms: null });
    expect(probe.detail).toMatch(/Binance/);
    expect(probe.detail).not.toMatch(/https?:|127\.0\.0\.1/);
    expect(errors('network')).toBe(before);
  });

  it('reports an exchange that does not answer in time as down', async () => {
    const m = market('exchange');
    fx.inject({ kind: 'timeout', times: 1, path: /\/time/ });
    // ccxt's own timeout (300 ms) ends the request before the probe's deadline would.
    const probe = await m.probeExchange(2_000);
    expect(probe).toMatchObject({ status: 'down', latency_ms: null });
  });

  it('reports a rate-limiting exchange as degraded', async () => {
    const m = market('exchange');
    fx.inject({ kind: 'status', status: 429, times: 1, path: /\/time/ });
    expect(await m.probeExchange(2_000)).toMatchObject({ status: 'degraded', latency_ms: null });
  });

  it('never contacts the exchange offline', async () => {
    const m = new MarketData({ mode: 'offline', exchangeOptions: { baseUrl: fx.baseUrl } });
    const before = fx.requests.length;
    expect(await m.probeExchange()).toMatchObject({ status: 'disabled', mode: 'offline', latency_ms: null });
    expect(fx.requests.length).toBe(before);
  });
});
