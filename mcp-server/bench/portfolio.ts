/**
 * monitor_portfolio and risk_assessment speed, warm (candles cached, as a repeated call sees them).
 *
 * - The risk maths for 50 positions over one year of hourly returns (8,760 per asset, a 50 x 50
 *   correlation matrix and every figure), against simple-statistics computing only the correlation
 *   matrix the usual way (pairwise sampleCorrelation on arrays): the peer a JavaScript developer would
 *   reach for. The snapshot holds a full year for 16 markets only, so the 50 columns are those 16 real
 *   Binance histories over staggered one-year windows: real prices, realigned in time.
 * - The whole service call (store read excluded: positions inline) for the 16 one-year markets, and for
 *   50 markets over the window the whole snapshot universe shares (about 168 days).
 * - risk_assessment's sizing maths and its service call with the analysis cached.
 */
import { sampleCorrelation } from 'simple-statistics';
import { portfolioRisk, sizePosition } from '../src/core/risk/index.js';
import { MarketData } from '../src/market/index.js';
import { AnalysisService } from '../src/services/analysis.js';
import { PortfolioService } from '../src/services/portfolio.js';
import { RiskService } from '../src/services/risk.js';
import type { PortfolioStore } from '../src/store/types.js';
import { monitorPortfolioInput } from '../src/tools/monitor-portfolio.js';
import { riskAssessmentInput } from '../src/tools/risk-assessment.js';
import { fmt, time, timeAsync, type Timing } from './harness.js';

const row = (t: Timing, extra = '') =>
  console.log(
    `  ${t.name.padEnd(62)} p50 ${fmt(t.p50Ms).padStart(9)}  p95 ${fmt(t.p95Ms).padStart(9)}  (n=${t.iterations})${extra}`,
  );

const YEAR_HOURS = 8760;

/** Inline positions never touch the store; this one only says so if a bench ever does. */
const noStore: PortfolioStore = new Proxy({} as PortfolioStore, {
  get: () => () => Promise.reject(new Error('the benchmark uses inline positions only')),
});

export async function run(): Promise<void> {
  const market = new MarketData({ mode: 'offline', exchange: 'binance' });
  const index = market.snapshot;
  const history = (await index.listSymbols()).filter((s) =>
    [
      'ADA/USDT',
      'AVAX/USDT',
      'BCH/USDT',
      'BTC/USDT',
      'DOGE/USDT',
      'DOT/USDT',
      'ETH/USDT',
      'LINK/USDT',
      'LTC/USDT',
      'NEAR/USDT',
      'NEO/USDT',
      'SOL/USDT',
      'TRX/USDT',
      'XLM/USDT',
      'XRP/USDT',
      'XTZ/USDT',
    ].includes(s),
  );

  console.log('\n== monitor_portfolio: risk maths, 50 positions x one year of hourly returns ==');
  const longSeries = await Promise.all(history.map((symbol) => index.latest(symbol, '1h', 16_000)));
  const closes: Float64Array[] = [];
  for (let i = 0; closes.length < 50; i++) {
    const s = longSeries[i % longSeries.length]!.close;
    const shift = Math.floor(i / longSeries.length) * 2000; // a different year of the same market
    closes.push(s.slice(s.length - YEAR_HOURS - 1 - shift, s.length - shift));
  }
  const quantities = closes.map((c) => 1000 / c[c.length - 1]!);
  const benchmark = closes[history.indexOf('BTC/USDT')]!;
  const ours = time(
    'core portfolioRisk (VaR/CVaR, vol, drawdown, ratios, beta, 50x50 corr)',
    () => portfolioRisk({ closes, quantities, cash: 0, benchmark, periodsPerYear: YEAR_HOURS }),
    30,
    5,
  );
  row(ours);
  const returns = closes.map((c) => Array.from({ length: c.length - 1 }, (_, t) => c[t + 1]! / c[t]! - 1));
  const peer = time(
    'simple-statistics: 50x50 correlation matrix only',
    () => {
      const m: number[][] = [];
      for (let i = 0; i < returns.length; i++) {
        m.push([]);
        for (let j = 0; j < returns.length; j++) m[i]!.push(sampleCorrelation(returns[i]!, returns[j]!));
      }
      return m;
    },
    5,
    1,
  );
  row(peer, `   ours is ${(peer.p50Ms / ours.p50Ms).toFixed(1)}x faster while computing every figure`);

  console.log('\n== monitor_portfolio: service call, warm cache, offline snapshot ==');
  const service = new PortfolioService(market, noStore);
  const oneYear = monitorPortfolioInput.parse({
    positions: history.map((symbol) => ({ symbol, quantity: 1, entry_price: 1 })),
    lookback_days: 365,
  });
  await service.monitor(oneYear, 'bench');
  row(
    await timeAsync(
      '16 positions, 365 days hourly (8,760 returns each)',
      () => service.monitor(oneYear, 'bench'),
      50,
      5,
    ),
  );

  // 50 markets that were listed for the whole window, so all 160 days are common to them.
  const universe: string[] = [];
  for (const symbol of (await index.listSymbols()).filter((s) => !history.includes(s))) {
    const candles = await index.latest(symbol, '1h', 160 * 24 + 1);
    if (candles.time.length === 160 * 24 + 1) universe.push(symbol);
    if (universe.length === 50) break;
  }
  const fifty = monitorPortfolioInput.parse({
    positions: universe.map((symbol) => ({ symbol, quantity: 1, entry_price: 1 })),
    lookback_days: 160,
  });
  const first = await service.monitor(fifty, 'bench');
  row(
    await timeAsync(
      `50 positions, ${first.risk.lookback.observations} hourly returns each`,
      () => service.monitor(fifty, 'bench'),
      50,
      5,
    ),
  );

  console.log('\n== risk_assessment ==');
  row(
    time(
      'core sizePosition (fees, ATR size, Kelly, flags)',
      () =>
        sizePosition({
          account: 10_000,
          riskPct: 1,
          entry: 100,
          stop: 97,
          takeProfit: 106,
          side: 'long',
          feeRate: 0.001,
          atr: 1.4,
          winRate: 0.55,
          payoffRatio: 1.5,
        }),
      20_000,
      2_000,
    ),
  );
  const risk = new RiskService(new AnalysisService(market));
  const args = riskAssessmentInput.parse({
    symbol: 'BTCUSDT',
    portfolio_value: 10_000,
    entry_price: 100_000,
    stop_loss: 98_000,
    take_profit: 104_000,
  });
  await risk.assess(args);
  row(await timeAsync('service assess, analysis cached (BTC/USDT 1h)', () => risk.assess(args), 5_000, 200));
}
