/**
 * A local Binance-compatible spot REST API serving the offline snapshot's real candles, for tests that
 * run the real ccxt client without internet. Listens on 127.0.0.1 only.
 *
 *   const fx = await startFixtureExchange();          // in a test
 *   new MarketData({ mode: 'exchange', exchangeOptions: { baseUrl: fx.baseUrl } });
 *
 *   tsx test/helpers/fixture-exchange.ts --port 0 [--now <ms>] [--snapshot <dir>]
 *   # prints {"url":"http://127.0.0.1:PORT","baseUrl":"http://127.0.0.1:PORT/api/v3","now":...}
 *
 * The exchange clock is fixed at `now`; klines are served up to it, so the newest candle is still forming
 * unless `now` falls on a candle boundary. Responses carry `now` in their Date header, as Binance's do.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sliceCandles, type Candles } from '../../src/core/candles.js';
import { resample } from '../../src/market/resample.js';
import { SnapshotSource } from '../../src/market/snapshot.js';
import { candleCloseTime, isTimeframe, timeframeMs, type Timeframe } from '../../src/market/timeframes.js';

export interface FixtureFailure {
  /** timeout: accept and never answer; status: answer `status`; malformed: 200 with a truncated JSON body. */
  kind: 'timeout' | 'status' | 'malformed';
  /** For kind 'status'; 429 comes with `Retry-After: 1`. Default 503. */
  status?: 429 | 500 | 502 | 503;
  /** How many matching requests fail. */
  times: number;
  /** Only requests whose path (without query) matches; default every request. */
  path?: RegExp;
}

export interface FixtureExchangeOptions {
  /** Default 0 (any free port). */
  port?: number;
  snapshotDir?: string;
  /**
   * The exchange clock. Default: 30 minutes into the hour after BTC/USDT's last snapshot candle opened,
   * i.e. that last 1h candle is still forming.
   */
  now?: number;
}

export interface FixtureExchange {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** Spot REST base for ccxt's `urls.api.public`, e.g. http://127.0.0.1:41234/api/v3 */
  baseUrl: string;
  /** The exchange clock (ms). */
  now: number;
  /** Every request received, as path + query, oldest first. */
  requests: string[];
  /** Make the next `failure.times` matching requests fail. */
  inject(failure: FixtureFailure): void;
  close(): Promise<void>;
}

const API = '/api/v3';
const MAX_KLINES = 1000;

export async function startFixtureExchange(options: FixtureExchangeOptions = {}): Promise<FixtureExchange> {
  const snapshot = new SnapshotSource(options.snapshotDir === undefined ? {} : { dir: options.snapshotDir });
  const index = await snapshot.index();
  const symbolById = new Map(index.symbols.map((s) => [s.id, s]));
  const btc = index.symbols.find((s) => s.id === 'BTCUSDT')!;
  const now = options.now ?? btc.lastTime + 30 * 60_000;

  const requests: string[] = [];
  const failures: Array<FixtureFailure & { remaining: number }> = [];
  const served = new Map<string, Promise<Candles>>();

  /** Candles opened at or before `now`, the last possibly still forming. */
  const klines = (id: string, interval: Timeframe): Promise<Candles> => {
    const key = `${id}|${interval}`;
    if (!served.has(key)) {
      const symbol = symbolById.get(id)!.symbol;
      const load = snapshot.candles(symbol, '1h').then((hourly) => {
        let end = hourly.time.length;
        while (end > 0 && hourly.time[end - 1]! > now) end--;
        const upToNow = sliceCandles(hourly, 0, end);
        return interval === '1h' ? upToNow : resample(upToNow, '1h', interval, { includeOpenBucket: true });
      });
      served.set(key, load);
    }
    return served.get(key)!;
  };

  const routes: Record<string, (q: URLSearchParams) => Promise<[number, unknown]>> = {
    '/ping': async () => [200, {}],
    '/time': async () => [200, { serverTime: now }],
    '/exchangeInfo': async () => [
      200,
      {
        timezone: 'UTC',
        serverTime: now,
        rateLimits: [{ rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 6000 }],
        exchangeFilters: [],
        symbols: index.symbols.map((s) => exchangeInfoSymbol(s.id, s.base, s.quote)),
      },
    ],
    '/klines': async (q) => {
      const id = q.get('symbol') ?? '';
      const interval = q.get('interval') ?? '';
      if (!symbolById.has(id)) return [400, { code: -1121, msg: 'Invalid symbol.' }];
      if (!isTimeframe(interval) || timeframeMs(interval) < timeframeMs('1h')) {
        return [400, { code: -1120, msg: 'Invalid interval.' }];
      }
      const c = await klines(id, interval);
      const limit = Math.min(Number(q.get('limit') ?? 500), MAX_KLINES);
      const startTime = q.has('startTime') ? Number(q.get('startTime')) : undefined;
      const endTime = q.has('endTime') ? Number(q.get('endTime')) : undefined;
      let from = 0;
      let to = c.time.length;
      if (endTime !== undefined) while (to > 0 && c.time[to - 1]! > endTime) to--;
      if (startTime !== undefined) {
        while (from < to && c.time[from]! < startTime) from++;
        to = Math.min(to, from + limit);
      } else from = Math.max(0, to - limit);
      const rows = [];
      for (let i = from; i < to; i++) rows.push(klineRow(c, i, interval));
      return [200, rows];
    },
    '/ticker/24hr': async (q) => {
      const { tickers } = await snapshot.tickers();
      const wanted = q.has('symbol')
        ? [q.get('symbol')]
        : q.has('symbols')
          ? (JSON.parse(q.get('symbols')!) as string[])
          : undefined;
      const rows = tickers
        .map((t) => ({ ...t, id: t.symbol.replace('/', '') }))
        .filter((t) => !wanted || wanted.includes(t.id))
        .map((t) => ({
          symbol: t.id,
          priceChange: String(t.change),
          priceChangePercent: String(t.percentage),
          weightedAvgPrice: String(t.quoteVolume !== undefined ? t.quoteVolume / t.baseVolume : t.last),
          prevClosePrice: String(t.open),
          lastPrice: String(t.last),
          lastQty: '0',
          bidPrice: String(t.last),
          bidQty: '0',
          askPrice: String(t.last),
          askQty: '0',
          openPrice: String(t.open),
          highPrice: String(t.high),
          lowPrice: String(t.low),
          volume: String(t.baseVolume),
          quoteVolume: String(t.quoteVolume ?? 0),
          openTime: t.timestamp - 86_400_000,
          closeTime: t.timestamp - 1,
          firstId: 0,
          lastId: 0,
          count: 0,
        }));
      return [200, q.has('symbol') ? rows[0] : rows];
    },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://fixture');
    requests.push(url.pathname + url.search);
    const failure = failures.find((f) => f.remaining > 0 && (!f.path || f.path.test(url.pathname)));
    if (failure) failure.remaining--;
    if (failure?.kind === 'timeout') return; // never answered; close() drops the connection

    const route = url.pathname.startsWith(API) ? routes[url.pathname.slice(API.length)] : undefined;
    if (!route) console.error(`fixture exchange: unhandled ${req.method} ${url.pathname}${url.search}`);
    const [status, body] = route
      ? await route(url.searchParams)
      : [404, { code: -1000, msg: 'Unknown path.' }];
    const headers = { 'Content-Type': 'application/json', Date: new Date(now).toUTCString() };

    if (failure?.kind === 'status') {
      const code = failure.status ?? 503;
      const retryAfter = code === 429 ? { 'Retry-After': '1' } : {};
      const text =
        code === 429
          ? JSON.stringify({ code: -1003, msg: 'Too many requests.' })
          : `${code} ${STATUS_CODES[code]}`;
      res.writeHead(code, {
        ...headers,
        ...retryAfter,
        'Content-Type': code === 429 ? 'application/json' : 'text/plain',
      });
      res.end(text);
      return;
    }
    const json = JSON.stringify(body);
    res.writeHead(status, headers);
    res.end(failure?.kind === 'malformed' ? json.slice(0, Math.max(1, Math.floor(json.length / 2))) : json);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      console.error('fixture exchange: handler failed', e);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((ready) => server.listen(options.port ?? 0, '127.0.0.1', ready));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    baseUrl: url + API,
    now,
    requests,
    inject: (failure) => void failures.push({ ...failure, remaining: failure.times }),
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections(); // including requests held open by 'timeout' failures
      }),
  };
}

/** Binance number strings: fixed 8 decimals when that is exact, as the real API sends them. */
function decimal(v: number): string {
  const fixed = v.toFixed(8);
  return Number(fixed) === v ? fixed : String(v);
}

function klineRow(c: Candles, i: number, interval: Timeframe): unknown[] {
  const open = c.time[i]!;
  const quoteVolume = (c.volume[i]! * (c.open[i]! + c.high[i]! + c.low[i]! + c.close[i]!)) / 4; // estimate
  return [
    open,
    decimal(c.open[i]!),
    decimal(c.high[i]!),
    decimal(c.low[i]!),
    decimal(c.close[i]!),
    decimal(c.volume[i]!),
    candleCloseTime(open, interval) - 1,
    decimal(quoteVolume),
    0,
    '0',
    '0',
    '0',
  ];
}

function exchangeInfoSymbol(id: string, base: string, quote: string): Record<string, unknown> {
  return {
    symbol: id,
    status: 'TRADING',
    baseAsset: base,
    baseAssetPrecision: 8,
    quoteAsset: quote,
    quotePrecision: 8,
    quoteAssetPrecision: 8,
    baseCommissionPrecision: 8,
    quoteCommissionPrecision: 8,
    orderTypes: ['LIMIT', 'LIMIT_MAKER', 'MARKET', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT_LIMIT'],
    icebergAllowed: true,
    ocoAllowed: true,
    otoAllowed: true,
    quoteOrderQtyMarketAllowed: true,
    allowTrailingStop: true,
    cancelReplaceAllowed: true,
    isSpotTradingAllowed: true,
    isMarginTradingAllowed: false,
    filters: [
      {
        filterType: 'PRICE_FILTER',
        minPrice: '0.00000001',
        maxPrice: '1000000.00000000',
        tickSize: '0.00000001',
      },
      { filterType: 'LOT_SIZE', minQty: '0.00000001', maxQty: '9000000000.00000000', stepSize: '0.00000001' },
      {
        filterType: 'MARKET_LOT_SIZE',
        minQty: '0.00000000',
        maxQty: '9000000000.00000000',
        stepSize: '0.00000000',
      },
      {
        filterType: 'NOTIONAL',
        minNotional: '5.00000000',
        applyMinToMarket: true,
        maxNotional: '9000000.00000000',
      },
    ],
    permissions: [],
    permissionSets: [['SPOT']],
    defaultSelfTradePreventionMode: 'EXPIRE_MAKER',
    allowedSelfTradePreventionModes: ['EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'],
  };
}

/** CLI: run as a separate process (e.g. for a server spawned with EXCHANGE_API_URL=<baseUrl>). */
async function main(argv: string[]): Promise<void> {
  const arg = (name: string): string | undefined => {
    const at = argv.indexOf(`--${name}`);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const fx = await startFixtureExchange({
    port: Number(arg('port') ?? 0),
    ...(arg('now') !== undefined ? { now: Number(arg('now')) } : {}),
    ...(arg('snapshot') !== undefined ? { snapshotDir: arg('snapshot') } : {}),
  });
  console.log(JSON.stringify({ url: fx.url, baseUrl: fx.baseUrl, now: fx.now }));
  const stop = () => void fx.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main(process.argv.slice(2));
}
