/**
 * OpportunitiesService on the offline snapshot: only BUY/SELL ideas at or above the threshold, each the
 * very recommendation analyze_crypto gives for that market, and the liquidity tiers that stand in for
 * market cap.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { MarketData } from '../../src/market/index.js';
import { AnalysisService } from '../../src/services/analysis.js';
import {
  ANALYSIS_DEFAULTS,
  candidateCount,
  LIQUIDITY_TIERS,
  liquidityTier,
  OpportunitiesService,
  type OpportunitiesRequest,
} from '../../src/services/opportunities.js';
import { formatOpportunitiesSummary } from '../../src/services/scan-text.js';
import { ScannerService } from '../../src/services/scanner.js';
import { analyzeCryptoInput } from '../../src/tools/analyze-crypto.js';
import { detectOpportunitiesInput, detectOpportunitiesOutput } from '../../src/tools/detect-opportunities.js';

const market = new MarketData({ mode: 'offline' });
const scanner = new ScannerService(market);
const svc = new OpportunitiesService(scanner, new AnalysisService(market));
afterAll(() => scanner.close());

const request = (args: Record<string, unknown>): OpportunitiesRequest => detectOpportunitiesInput.parse(args);

describe('detect_opportunities', async () => {
  const progress: [number, number][] = [];
  const r = await svc.detect(request({ confidence_threshold: 35, max_results: 8, min_volume_usd: 0 }), {
    progress: (done, total) => progress.push([done, total]),
  });

  it('returns only BUY/SELL ideas at or above the threshold, best first', () => {
    detectOpportunitiesOutput.parse(r);
    expect(r.ideas.length).toBeGreaterThan(0);
    expect(r.ideas.length).toBeLessThanOrEqual(8);
    r.ideas.forEach((idea, i) => {
      expect(idea.rank).toBe(i + 1);
      expect(['BUY', 'SELL']).toContain(idea.action);
      expect(idea.direction).toBe(idea.action === 'BUY' ? 'long' : 'short');
      expect(idea.confidence).toBeGreaterThanOrEqual(35);
      if (i > 0) expect(idea.confidence).toBeLessThanOrEqual(r.ideas[i - 1]!.confidence);
      const side = idea.action === 'BUY' ? 1 : -1;
      expect((idea.entry - idea.stop_loss) * side).toBeGreaterThan(0);
      for (const t of idea.targets) expect((t.price - idea.entry) * side).toBeGreaterThan(0);
      expect(idea.risk_reward).toBeGreaterThanOrEqual(1);
      expect(idea.rationale.length).toBeGreaterThan(0);
      expect(idea.scan_signals.length).toBeGreaterThan(0);
      expect(idea.data_source).toBe('offline');
      // The scan's signals describe the analysed candles.
      expect(idea.as_of).toBe(r.as_of);
    });
    expect(r.recommendations.buy + r.recommendations.sell).toBeGreaterThanOrEqual(r.ideas.length);
    expect(r.scan.candidates_analysed).toBeLessThanOrEqual(candidateCount(8));
    expect(r.disclaimer).toMatch(/not financial advice/i);
  });

  it("gives each idea exactly analyze_crypto's recommendation for that market", async () => {
    const fresh = new AnalysisService(market);
    for (const idea of r.ideas) {
      // Offline the scan is of one past moment, and so is the analysis of each idea.
      const a = await fresh.analyze({
        symbol: idea.symbol,
        timeframe: '1h',
        ...ANALYSIS_DEFAULTS,
        end_time: Date.parse(r.as_of),
      });
      const rec = a.recommendation;
      expect({
        action: idea.action,
        confidence: idea.confidence,
        score: idea.score,
        entry: idea.entry,
        stop_loss: idea.stop_loss,
        stop_basis: idea.stop_basis,
        stop_reference: idea.stop_reference,
        targets: idea.targets,
        risk_reward: idea.risk_reward,
        reasons: idea.rationale,
      }).toEqual(rec);
      expect(idea.as_of).toBe(a.as_of);
      expect(idea.candles).toBe(a.candles);
      expect(idea.supporting_indicators.rsi).toBe(a.indicators.rsi);
    }
  });

  it("uses analyze_crypto's defaults", () => {
    const defaults = analyzeCryptoInput.parse({ symbol: 'BTCUSDT' });
    expect(ANALYSIS_DEFAULTS).toEqual({ limit: defaults.limit, higher_timeframe: defaults.higher_timeframe });
  });

  it("analyses every idea as of the scan's moment, large caps included", () => {
    // BTC and the other large caps run a year past the snapshot's common window: they are analysed
    // where the scan looked, not at their own last candle, so none is left out for it.
    for (const idea of r.ideas) expect(idea.as_of).toBe(r.as_of);
    expect(r.notes.join(' ')).not.toMatch(/Left out BTC/);
  });

  it('reports progress through the scan and the analyses, never backwards', () => {
    expect(progress.length).toBeGreaterThan(5);
    for (let i = 1; i < progress.length; i++)
      expect(progress[i]![0]).toBeGreaterThan(progress[i - 1]![0] - 1e-9);
    const [done, total] = progress.at(-1)!;
    expect(done).toBeLessThanOrEqual(total);
    expect(formatOpportunitiesSummary(r)).toMatch(/^\d+ trade ideas on 1h at confidence >= 35/);
  });

  it('honours a high threshold', async () => {
    const strict = await svc.detect(
      request({ confidence_threshold: 60, max_results: 20, min_volume_usd: 0 }),
    );
    for (const idea of strict.ideas) expect(idea.confidence).toBeGreaterThanOrEqual(60);
    expect(strict.ideas.length).toBeLessThanOrEqual(
      r.ideas.filter((i) => i.confidence >= 60).length +
        strict.recommendations.buy +
        strict.recommendations.sell,
    );
    const none = await svc.detect(request({ confidence_threshold: 100, min_volume_usd: 0 }));
    expect(none.ideas).toEqual([]);
    expect(none.notes.join(' ')).toMatch(/No BUY or SELL at confidence 100 or more/);
  });
});

describe('market_cap_range as liquidity tiers', async () => {
  const tickers = await market.getTickers();
  const volumes = new Map(tickers.tickers.map((t) => [t.symbol, t.quoteVolume ?? NaN]));

  it('maps volumes to tiers', () => {
    expect(liquidityTier(150e6)).toBe('large');
    expect(liquidityTier(100e6)).toBe('large');
    expect(liquidityTier(99e6)).toBe('mid');
    expect(liquidityTier(10e6)).toBe('mid');
    expect(liquidityTier(9.9e6)).toBe('small');
    expect(liquidityTier(null)).toBeNull();
  });

  for (const tier of ['large', 'mid', 'small'] as const) {
    it(`${tier}: scans and proposes only markets in the tier`, async () => {
      const bounds = LIQUIDITY_TIERS[tier];
      const r = await svc.detect(
        request({ market_cap_range: tier, confidence_threshold: 30, max_results: 10, min_volume_usd: 0 }),
      );
      detectOpportunitiesOutput.parse(r);
      expect(r.criteria).toMatchObject({ market_cap_range: tier, min_volume_usd: bounds.min });
      expect(r.criteria.max_volume_usd).toBe(bounds.max ?? null);
      const inTier = [...volumes].filter(
        ([, v]) => v >= bounds.min && (bounds.max === undefined || v < bounds.max),
      );
      // Scanned markets are those in the tier, less stablecoins and stale ones.
      expect(r.scan.scanned).toBeLessThanOrEqual(inTier.length);
      expect(r.scan.scanned).toBeGreaterThan(inTier.length - 12);
      for (const idea of r.ideas) {
        expect(idea.liquidity.tier).toBe(tier);
        expect(volumes.get(idea.symbol)).toBeGreaterThanOrEqual(bounds.min);
        if (bounds.max !== undefined) expect(volumes.get(idea.symbol)).toBeLessThan(bounds.max);
      }
      const reasons = r.scan.skipped_reasons.map((g) => g.reason);
      if (tier !== 'small') expect(reasons).toContain('24h volume below min_volume_usd');
      if (tier !== 'large') expect(reasons).toContain('24h volume above the liquidity tier');
      expect(r.notes.join(' ')).toMatch(/liquidity tier by 24h quote volume/);
    });
  }

  it('keeps the min_volume_usd floor inside a tier', async () => {
    const r = await svc.detect(request({ market_cap_range: 'small', min_volume_usd: 2_000_000 }));
    expect(r.criteria).toMatchObject({ min_volume_usd: 2_000_000, max_volume_usd: 10_000_000 });
    for (const idea of r.ideas) expect(idea.liquidity.volume_24h_usd!).toBeGreaterThanOrEqual(2_000_000);
  });

  it('validates its arguments', () => {
    const issues = (args: Record<string, unknown>) =>
      detectOpportunitiesInput.safeParse(args).error?.issues[0]?.message;
    expect(issues({ confidence_threshold: 101 })).toBe('confidence_threshold is 0-100');
    expect(issues({ max_results: 21 })).toBe('max_results can be at most 20');
    expect(issues({ market_cap_range: 'mega' })).toBeDefined();
    expect(detectOpportunitiesInput.parse({})).toMatchObject({
      confidence_threshold: 50,
      max_results: 5,
      market_cap_range: 'all',
      timeframe: '1h',
      min_volume_usd: 1_000_000,
      quote: 'USDT',
    });
  });
});
