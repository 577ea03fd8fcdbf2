/**
 * AnalysisService rules: notes per request, higher timeframe cut at the main series' close, no mixing
 * of live and offline series. Most cases run on the real offline MarketData; the cases that need two
 * sources to disagree (a race between an exchange and the snapshot) use a small stand-in market that
 * serves real snapshot candles with chosen provenance.
 */
import { describe, expect, it } from 'vitest';
import { sliceCandles, type Candles } from '../../src/core/candles.js';
import { buildReport } from '../../src/core/report/index.js';
import { MarketData, type CandleSeries, type Timeframe } from '../../src/market/index.js';
import { AnalysisService, type AnalyzeRequest } from '../../src/services/analysis.js';
import { analyzeCryptoInput, analyzeCryptoOutput } from '../../src/tools/analyze-crypto.js';

const offline = new MarketData({ mode: 'offline' });
const request = (r: Partial<AnalyzeRequest>): AnalyzeRequest => ({
  symbol: 'BTCUSDT',
  timeframe: '1h',
  limit: 500,
  higher_timeframe: 'auto',
  ...r,
});

describe('AnalysisService on the offline snapshot', () => {
  const svc = new AnalysisService(offline);

  it('builds notes for each request instead of reusing the first one', async () => {
    const withMonthly = await svc.analyze(request({ symbol: 'LTCUSDT', higher_timeframe: '1M' }));
    expect(withMonthly.confluence).toBeNull();
    expect(withMonthly.notes.join(' ')).toMatch(/No 1M confluence/);
    const without = await svc.analyze(request({ symbol: 'LTCUSDT', higher_timeframe: 'none' }));
    expect(without.notes.join(' ')).not.toMatch(/confluence/);
    expect(without.notes.join(' ')).toMatch(/Offline mode: these are Binance candles/);
  });

  it('gives confluence its own source and a close no later than the main series', async () => {
    const r = await svc.analyze(request({ higher_timeframe: '4h' }));
    expect(r.confluence).toMatchObject({ timeframe: '4h', data_source: 'offline', exchange: 'binance' });
    expect(Date.parse(r.confluence!.as_of)).toBeLessThanOrEqual(Date.parse(r.as_of));
    analyzeCryptoOutput.parse(r);
  });

  it('aligns the comparison symbol to the main series close (the snapshot series end on different days)', async () => {
    const r = await svc.analyze(
      request({ symbol: 'ETHUSDT', timeframe: '4h', comparison_symbol: 'BTCUSDT' }),
    );
    expect(r.comparison).toMatchObject({
      symbol: 'BTC/USDT',
      common_candles: 500,
      as_of: r.as_of,
      window_start: r.first_candle,
    });
    expect(r.comparison!.correlation).toBeGreaterThan(0.5);
  });

  it('says so when the comparison symbol has no candles in the analysed window', async () => {
    // BTC/USDT runs five weeks past the other history symbols in the snapshot.
    const r = await svc.analyze(
      request({ symbol: 'BTCUSDT', timeframe: '1h', comparison_symbol: 'ETHUSDT' }),
    );
    expect(r.comparison).toBeNull();
    expect(r.notes.join(' ')).toMatch(/ETH\/USDT shares too few candle times/);
  });

  it('rejects a "higher" timeframe that is not higher, at the schema', () => {
    const parsed = analyzeCryptoInput.safeParse({
      symbol: 'BTCUSDT',
      timeframe: '4h',
      higher_timeframe: '1h',
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues[0]!.path).toEqual(['higher_timeframe']);
  });
});

/** Serves real snapshot candles, with the provenance and end each test needs. */
function standIn(series: Record<string, CandleSeries>): MarketData {
  return {
    getCandles: async ({ symbol, timeframe }: { symbol: string; timeframe: Timeframe }) => {
      const s = series[`${symbol}@${timeframe}`];
      if (!s) throw new Error(`no series ${symbol}@${timeframe}`);
      return s;
    },
  } as unknown as MarketData;
}

async function snapshotSeries(symbol: string, timeframe: Timeframe, limit: number): Promise<CandleSeries> {
  return offline.getCandles({ symbol, timeframe, limit });
}

function truncate(s: CandleSeries, drop: number, tfMs: number): CandleSeries {
  const candles: Candles = sliceCandles(s.candles, 0, s.candles.time.length - drop);
  return { ...s, candles, asOf: candles.time[candles.time.length - 1]! + tfMs };
}

describe('AnalysisService with series that disagree', () => {
  it('cuts the higher timeframe at the main series close (no look-ahead into later 4h candles)', async () => {
    // The 1h series ends 30 hours before the 4h series does, as after a stale cache or a lagging source.
    const main = truncate(await snapshotSeries('BTCUSDT', '1h', 530), 30, 3_600_000);
    const higher = await snapshotSeries('BTCUSDT', '4h', 300);
    const svc = new AnalysisService(standIn({ 'BTCUSDT@1h': main, 'BTC/USDT@4h': higher }));
    const r = await svc.analyze(request({ limit: 500 }));
    expect(Date.parse(r.confluence!.as_of)).toBeLessThanOrEqual(main.asOf);
    const closedByThen = higher.candles.time.filter((t) => t + 4 * 3_600_000 <= main.asOf).length;
    const expected = buildReport(main.candles, {
      higher: { timeframe: '4h', candles: sliceCandles(higher.candles, 0, closedByThen) },
    });
    expect(r.confluence!.trend).toBe(expected.confluence!.trend);
    expect(r.recommendation).toEqual(expected.recommendation);
  });

  it('refuses to compare a live series with an offline one, and drops confluence from another source', async () => {
    const main = await snapshotSeries('BTCUSDT', '1h', 500);
    const live = (s: CandleSeries): CandleSeries => ({ ...s, source: 'exchange' });
    const eth = live(await snapshotSeries('ETHUSDT', '1h', 500));
    const higher = live(await snapshotSeries('BTCUSDT', '4h', 300));
    const svc = new AnalysisService(
      standIn({ 'BTCUSDT@1h': main, 'BTC/USDT@4h': higher, 'ETHUSDT@1h': eth }),
    );
    await expect(svc.analyze(request({ comparison_symbol: 'ETHUSDT' }))).rejects.toMatchObject({
      code: 'DATA_UNAVAILABLE',
    });
    const r = await svc.analyze(request({}));
    expect(r.confluence).toBeNull();
    expect(r.notes.join(' ')).toMatch(/No 4h confluence: its candles came from exchange data/);
  });
});

describe('buildReport without volume', () => {
  it('reports no session VWAP instead of NaN when the day has traded nothing', async () => {
    const s = await snapshotSeries('BTCUSDT', '1h', 300);
    const c = sliceCandles(s.candles, 0);
    const volume = new Float64Array(c.volume);
    const lastDay = Math.floor(c.time[c.time.length - 1]! / 86_400_000) * 86_400_000;
    for (let i = 0; i < volume.length; i++) if (c.time[i]! >= lastDay) volume[i] = 0;
    const r = buildReport({ ...c, volume });
    expect(r.indicators.vwap.session).toBeNull();
    const nonFinite: string[] = [];
    const walk = (v: unknown, path: string): void => {
      if (typeof v === 'number' && !Number.isFinite(v)) nonFinite.push(path);
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`);
    };
    walk(r, 'report');
    expect(nonFinite).toEqual([]);
  });
});
