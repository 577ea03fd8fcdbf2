/**
 * ScannerService on the offline snapshot: the whole 404-market universe, explicit symbols, the filters
 * and their skip reasons, progress, errors that say what to fix, and the worker-pool path (the built
 * worker from dist/) giving exactly the inline answer.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { MIN_SCAN_CANDLES, scanCandles, SCAN_TYPES } from '../../src/core/scan/index.js';
import { candleCloseTime, MarketData } from '../../src/market/index.js';
import { SCAN_CANDLES, ScannerService, STABLE_BASES, type ScanRequest } from '../../src/services/scanner.js';
import { formatScanSummary } from '../../src/services/scan-text.js';
import { marketScannerInput, marketScannerOutput } from '../../src/tools/market-scanner.js';
import { startFixtureExchange } from '../helpers/fixture-exchange.js';

const market = new MarketData({ mode: 'offline' });
const scanner = new ScannerService(market);
afterAll(() => scanner.close());

/** Arguments as the tool receives them: through the input schema, defaults applied. */
const request = (args: Record<string, unknown>): ScanRequest => marketScannerInput.parse(args);

const index = await market.snapshot.index();
/** The snapshot's universe window closes here: the time offline scans run as of. */
const END = candleCloseTime(index.universeWindow.end, '1h');

describe('offline universe scan', async () => {
  const progress: [number, number, string | undefined][] = [];
  const r = await scanner.scan(request({ scan_type: 'all', min_volume_usd: 0, max_results: 100 }), {
    progress: (done, total, message) => progress.push([done, total, message]),
  });

  it('considers all 404 markets: scanned or skipped with a reason', () => {
    marketScannerOutput.parse(r);
    expect(index.symbols).toHaveLength(404);
    expect(r.universe.considered).toBe(404);
    expect(r.universe.scanned + r.universe.skipped).toBe(404);
    const reasons = Object.fromEntries(r.universe.skipped_reasons.map((g) => [g.reason, g]));
    const stable = index.symbols.filter((s) => STABLE_BASES.has(s.base)).map((s) => s.symbol);
    expect(stable.length).toBeGreaterThan(5);
    const stableGroup = r.universe.skipped_reasons.find((g) => g.reason.startsWith('stablecoin'))!;
    expect(stableGroup.count).toBe(stable.length);
    // KMNO and SYRUP end a day before the others: stale, not scanned as if current.
    const stale = r.universe.skipped_reasons.find((g) => g.reason.startsWith('stale'))!;
    expect(stale.symbols.sort()).toEqual(['KMNO/USDT', 'SYRUP/USDT']);
    expect(Object.values(reasons).reduce((a, g) => a + g.count, 0)).toBe(r.universe.skipped);
    expect(r.universe.scanned).toBe(404 - stable.length - 2);
  });

  it('names its source and age, as of the end of the snapshot universe window', () => {
    expect(r.data_source).toBe('offline');
    expect(r.exchange).toBe('binance');
    expect(r.as_of).toBe(new Date(END).toISOString());
    expect(r.data_age_ms).toBeGreaterThan(Date.now() - END - 120_000);
    expect(r.notes.join(' ')).toMatch(
      /Offline mode: Binance candles from the bundled snapshot, scanned as of/,
    );
    expect(r.disclaimer).toMatch(/not financial advice/i);
    expect(r.compute.mode).toBe('inline'); // vitest runs TypeScript: no worker file beside the service
  });

  it('reports market breadth within 0-100 and consistent counts', () => {
    const m = r.market_conditions;
    expect(m.markets).toBe(r.universe.scanned);
    expect(m.breadth_pct!).toBeGreaterThanOrEqual(0);
    expect(m.breadth_pct!).toBeLessThanOrEqual(100);
    expect(m.breadth_pct!).toBeCloseTo((m.above_ema50 / m.with_ema50) * 100, 4);
    const lc = m.last_candle;
    expect(lc.advancers + lc.decliners + lc.unchanged).toBe(m.markets);
    expect(lc.open_time).toBe(new Date(END - 3_600_000).toISOString());
    expect(m.change_24h!.source).toBe('snapshot_derived');
    expect(m.median_atr_pct!).toBeGreaterThan(0);
  });

  it('ranks hits by strength, each with signals, a candle time and an invalidation', () => {
    expect(r.hits.length).toBeGreaterThan(10);
    expect(r.hits_total).toBe(Object.values(r.hits_by_type).reduce((a, b) => a + b!, 0));
    r.hits.forEach((h, i) => {
      expect(h.rank).toBe(i + 1);
      if (i > 0) expect(h.strength).toBeLessThanOrEqual(r.hits[i - 1]!.strength);
      const side = h.direction === 'bullish' ? 1 : -1;
      expect((h.last_close - h.invalidation.price) * side).toBeGreaterThan(0);
      expect(h.invalidation.basis.length).toBeGreaterThan(0);
      expect(h.signals.length).toBeGreaterThan(0);
      expect(Date.parse(h.signal_at)).toBeLessThan(Date.parse(h.as_of));
      expect(h.as_of).toBe(r.as_of);
      expect(h.bars_ago).toBeGreaterThanOrEqual(0);
      expect(h.signals[0]!.at).toBe(h.signal_at);
    });
  });

  it('gives the hits the core detectors give on the same candles', async () => {
    const hit = r.hits[0]!;
    const series = await market.getCandles({
      symbol: hit.symbol,
      timeframe: '1h',
      limit: SCAN_CANDLES,
      endTime: END,
    });
    const core = scanCandles(series.candles, SCAN_TYPES).hits.find(
      (h) => h.type === hit.scan_type && h.direction === hit.direction,
    )!;
    expect(core.strength).toBe(hit.strength);
    expect(core.invalidation).toBe(hit.invalidation.price);
    expect(new Date(core.time).toISOString()).toBe(hit.signal_at);
    expect(core.signals.map((s) => s.values)).toEqual(hit.signals.map((s) => s.values));
  });

  it('reports progress up to the total, never backwards', () => {
    expect(progress.length).toBeGreaterThan(3);
    for (let i = 1; i < progress.length; i++)
      expect(progress[i]![0]).toBeGreaterThanOrEqual(progress[i - 1]![0]);
    expect(progress.at(-1)!.slice(0, 2)).toEqual([404, 404]);
  });

  it('answers a repeated scan identically, from cache', async () => {
    const again = await scanner.scan(request({ scan_type: 'all', min_volume_usd: 0, max_results: 100 }));
    expect({ ...again, duration_ms: 0, data_age_ms: 0 }).toEqual({ ...r, duration_ms: 0, data_age_ms: 0 });
    expect(again.duration_ms).toBeLessThan(1000);
    expect(formatScanSummary(again)).toMatch(/^Scan all on 1h: \d+ markets scanned, \d+ skipped/);
  });
});

describe('filters', () => {
  it('skips markets below min_volume_usd, by the derived 24h volumes', async () => {
    const r = await scanner.scan(request({ scan_type: 'volume_surge', min_volume_usd: 5_000_000 }));
    const tickers = (await market.getTickers()).tickers;
    const volume = new Map(tickers.map((t) => [t.symbol, t.quoteVolume]));
    const eligible = index.symbols.filter((s) => !STABLE_BASES.has(s.base));
    const below = eligible.filter((s) => !((volume.get(s.symbol) ?? NaN) >= 5_000_000));
    const group = (prefix: string) =>
      r.universe.skipped_reasons.find((g) => g.reason.startsWith(prefix))?.count ?? 0;
    expect(group('24h volume below') + group('no 24h volume')).toBe(below.length);
    expect(r.universe.scanned + group('stale')).toBe(eligible.length - below.length);
    for (const h of r.hits) expect(h.volume_24h_usd!).toBeGreaterThanOrEqual(5_000_000);
    expect(Object.keys(r.hits_by_type)).toEqual(['volume_surge']);
    expect(r.notes.join(' ')).toMatch(/24h volumes are estimates derived from the snapshot candles/);
  });

  it('counts markets too short for the timeframe as skipped', async () => {
    const r = await scanner.scan(request({ scan_type: 'breakouts', timeframe: '1d', min_volume_usd: 0 }));
    expect(r.universe.scanned + r.universe.skipped).toBe(404);
    const short: string[] = [];
    for (const s of index.symbols) {
      if (STABLE_BASES.has(s.base)) continue;
      const series = await market.getCandles({
        symbol: s.symbol,
        timeframe: '1d',
        limit: SCAN_CANDLES,
        endTime: END,
      });
      if (series.candles.time.length < MIN_SCAN_CANDLES) short.push(s.symbol);
    }
    expect(short.length).toBeGreaterThan(0);
    const group = r.universe.skipped_reasons.find((g) => g.reason.startsWith('too short'))!;
    expect(group.count).toBe(short.length);
    expect(r.as_of).toBe(new Date(Date.UTC(2025, 5, 18)).toISOString()); // the last whole day
  });

  it('scans stablecoins when asked', async () => {
    const r = await scanner.scan(
      request({ scan_type: 'volume_surge', min_volume_usd: 0, include_stablecoins: true }),
    );
    expect(r.universe.skipped_reasons.find((g) => g.reason.startsWith('stablecoin'))).toBeUndefined();
  });
});

describe('explicit symbols', () => {
  it('scans exactly the listed markets, in any accepted form, stablecoins included', async () => {
    const r = await scanner.scan(
      request({ symbols: ['BTCUSDT', 'eth-usdt', 'USDC/USDT'], min_volume_usd: 1e9 }),
    );
    marketScannerOutput.parse(r);
    expect(r.universe).toMatchObject({
      selection: 'symbols',
      considered: 3,
      scanned: 3,
      skipped: 0,
      quote: null,
    });
    expect(r.market_conditions.markets).toBe(3);
    // BTC's data runs a year longer; offline scans still compare one moment.
    expect(r.as_of).toBe(new Date(END).toISOString());
    for (const h of r.hits) expect(['BTC/USDT', 'ETH/USDT', 'USDC/USDT']).toContain(h.symbol);
    expect(r.notes.join(' ')).toMatch(/scanned as listed/);
  });

  it('refuses an unknown symbol, naming it and suggesting close ones', async () => {
    await expect(scanner.scan(request({ symbols: ['BTCUSDT', 'ETHUSDX'] }))).rejects.toMatchObject({
      code: 'UNKNOWN_SYMBOL',
      message: expect.stringMatching(
        /^symbols\.1: Unknown symbol ETHUSDX on the offline snapshot; did you mean .*ETH\/USDT/,
      ),
    });
  });

  it('refuses a market listed twice', async () => {
    await expect(scanner.scan(request({ symbols: ['BTCUSDT', 'btc/usdt'] }))).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: 'symbols names BTC/USDT twice; list each market once.',
    });
  });
});

describe('errors that say what to fix', () => {
  it('refuses timeframes the snapshot cannot serve, and quotes it does not hold', async () => {
    await expect(scanner.scan(request({ timeframe: '15m' }))).rejects.toMatchObject({
      code: 'UNSUPPORTED_TIMEFRAME',
      message: expect.stringMatching(/cannot scan 15m; use one of 1h, 2h/),
    });
    await expect(scanner.scan(request({ quote: 'eur' }))).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: 'The offline snapshot holds USDT markets only; scan quote USDT.',
    });
  });

  it('says why nothing could be scanned', async () => {
    await expect(scanner.scan(request({ timeframe: '1M', min_volume_usd: 0 }))).rejects.toMatchObject({
      code: 'INSUFFICIENT_DATA',
      message: expect.stringMatching(
        /^No market could be scanned on 1M \(\d+ too short.*Try a lower timeframe/,
      ),
    });
  });

  it('validates the arguments', () => {
    const issues = (args: Record<string, unknown>) =>
      marketScannerInput.safeParse(args).error?.issues[0]?.message;
    expect(issues({ max_results: 0 })).toBe('max_results must be at least 1');
    expect(issues({ min_volume_usd: -1 })).toBe('min_volume_usd must be 0 or more');
    expect(issues({ symbols: [] })).toMatch(/symbols needs at least one market/);
    expect(issues({ quote: 'US DT' })).toMatch(/a quote currency such as USDT/);
    expect(issues({ scan_type: 'momentum' })).toBeDefined();
    expect(marketScannerInput.parse({})).toMatchObject({
      scan_type: 'all',
      timeframe: '1h',
      min_volume_usd: 1_000_000,
      max_results: 20,
      quote: 'USDT',
      include_stablecoins: false,
    });
  });
});

describe('live exchange (a local Binance-compatible fixture serving the snapshot)', () => {
  it('picks markets by 24h volume from one ticker call, loads at most 8 at a time, and reuses cached candles', async () => {
    // The exchange clock half an hour after the universe window's last close.
    const fx = await startFixtureExchange({ now: END + 30 * 60_000 });
    try {
      const live = new MarketData({
        mode: 'exchange',
        exchangeOptions: { baseUrl: fx.baseUrl, timeoutMs: 5_000, ccxt: { rateLimit: 1 } },
      });
      let inFlight = 0;
      let peak = 0;
      const getCandles = live.getCandles.bind(live);
      live.getCandles = async (req) => {
        peak = Math.max(peak, ++inFlight);
        try {
          return await getCandles(req);
        } finally {
          inFlight--;
        }
      };
      const svc = new ScannerService(live, { workerUrl: null });
      const r = await svc.scan(request({ min_volume_usd: 20_000_000 }));
      marketScannerOutput.parse(r);
      expect(r.data_source).toBe('exchange');
      expect(r.as_of).toBe(new Date(END).toISOString()); // the last closed candle by the exchange clock
      expect(r.notes.join(' ')).not.toMatch(/snapshot/);
      expect(r.market_conditions.change_24h!.source).toBe('exchange_tickers');
      expect(peak).toBeGreaterThan(1);
      expect(peak).toBeLessThanOrEqual(8);
      const tickers = (await live.getTickers()).tickers;
      const eligible = tickers.filter(
        (t) => (t.quoteVolume ?? 0) >= 20_000_000 && !STABLE_BASES.has(t.symbol.split('/')[0]!),
      );
      expect(r.universe.scanned).toBe(eligible.length);
      for (const h of r.hits) expect(h.volume_24h_usd!).toBeGreaterThanOrEqual(20_000_000);
      const count = (path: string) => fx.requests.filter((q) => q.includes(path)).length;
      expect(count('/ticker/24hr')).toBe(1);
      // One candle request per market that passed the filters, none for the others.
      expect(count('/klines')).toBe(eligible.length);
      const again = await svc.scan(request({ min_volume_usd: 20_000_000 }));
      expect(count('/klines')).toBe(eligible.length);
      expect(again.hits).toEqual(r.hits);
    } finally {
      await fx.close();
    }
  });

  it('says which quotes the exchange has', async () => {
    const fx = await startFixtureExchange({ now: END + 30 * 60_000 });
    try {
      const live = new MarketData({
        mode: 'exchange',
        exchangeOptions: { baseUrl: fx.baseUrl, timeoutMs: 5_000 },
      });
      await expect(new ScannerService(live).scan(request({ quote: 'BRL' }))).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: 'binance has no spot markets quoted in BRL with 24h tickers; try USDT.',
      });
    } finally {
      await fx.close();
    }
  });
});

describe('worker pool', () => {
  const workerUrl = new URL('../../dist/services/scan-worker.js', import.meta.url);

  it('runs the detectors on worker threads with the same answer as inline', async () => {
    expect(
      existsSync(fileURLToPath(workerUrl)),
      'dist/services/scan-worker.js is missing: run npm run build',
    ).toBe(true);
    const pooled = new ScannerService(market, { workerUrl, poolSize: 2 });
    const inline = new ScannerService(market, { workerUrl: null });
    try {
      const req = request({ scan_type: 'all', min_volume_usd: 0, max_results: 100 });
      const progress: number[] = [];
      const [a, b] = await Promise.all([
        pooled.scan(req, { progress: (done) => progress.push(done) }),
        inline.scan(req),
      ]);
      expect(a.compute).toEqual({ mode: 'worker_pool', workers: 2 });
      expect(b.compute).toEqual({ mode: 'inline', workers: 0 });
      const strip = (x: typeof a) => ({ ...x, duration_ms: 0, data_age_ms: 0, compute: null });
      expect(strip(a)).toEqual(strip(b));
      expect(progress.at(-1)).toBe(404);
      // The cached candles were copied before their buffers moved: the cache still holds them.
      const again = await market.getCandles({
        symbol: 'BTC/USDT',
        timeframe: '1h',
        limit: SCAN_CANDLES,
        endTime: END,
      });
      expect(again.candles.close.length).toBe(SCAN_CANDLES);
      expect(again.candles.close.buffer.byteLength).toBeGreaterThan(0);
    } finally {
      await pooled.close();
    }
  });

  it('falls back to inline without a worker file', async () => {
    const missing = new ScannerService(market, {
      workerUrl: new URL('./no-such-worker.js', import.meta.url),
    });
    expect(missing.computeMode).toBe('inline');
    const r = await missing.scan(request({ symbols: ['BTCUSDT'] }));
    expect(r.compute.mode).toBe('inline');
  });

  it('stops on cancellation', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      new ScannerService(market).scan(request({ min_volume_usd: 0 }), { signal: controller.signal }),
    ).rejects.toMatchObject({ message: /cancelled/ });
  });
});
