/**
 * PortfolioService on the offline snapshot and a real Postgres: stored and inline portfolios, valuation,
 * and risk figures checked against an independent computation from the same candles.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MarketData } from '../../src/market/index.js';
import { PortfolioService, type MonitorRequest } from '../../src/services/portfolio.js';
import { PgDatabase } from '../../src/store/pg-database.js';
import { SqlPortfolioStore } from '../../src/store/portfolio-store.js';
import { monitorPortfolioInput, monitorPortfolioOutput } from '../../src/tools/monitor-portfolio.js';
import { isolatedPostgresUrl } from '../helpers/postgres.js';

const market = new MarketData({ mode: 'offline' });
let db: PgDatabase;
let drop: () => Promise<void>;
let svc: PortfolioService;

beforeAll(async () => {
  const isolated = await isolatedPostgresUrl();
  drop = isolated.drop;
  db = new PgDatabase({ connectionString: isolated.url });
  svc = new PortfolioService(market, new SqlPortfolioStore(db));
});
afterAll(async () => {
  await db.close();
  await drop();
});

/** Arguments as the tool receives them: through the input schema, defaults applied. */
const request = (args: Record<string, unknown>): MonitorRequest => monitorPortfolioInput.parse(args);

/** Type-7 quantile, written out independently of core/risk. */
function quantile7(sorted: number[], p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  return sorted[lo]! + (h - lo) * ((sorted[Math.min(lo + 1, sorted.length - 1)] ?? 0) - sorted[lo]!);
}

describe('PortfolioService', () => {
  it('values inline positions and matches an independent historical VaR and drawdown', async () => {
    const positions = [
      { symbol: 'BTCUSDT', quantity: 0.5, entry_price: 60000, fees: 12 },
      { symbol: 'ETH/USDT', quantity: 10, entry_price: 2500 },
    ];
    const r = await svc.monitor(request({ positions, cash: 1000, lookback_days: 30 }), 'owner-a');
    monitorPortfolioOutput.parse(r);
    expect(r.portfolio).toMatchObject({ id: null, stored: false, mode: 'positions', base_currency: 'USDT' });
    expect(r.data_source).toBe('offline');

    // Independent: the same closes, aligned by time, the same quantities held, cash constant.
    const end = Date.parse(r.risk.lookback.to);
    const [btc, eth] = await Promise.all(
      ['BTC/USDT', 'ETH/USDT'].map((symbol) =>
        market.getCandles({ symbol, timeframe: '1h', limit: 721, endTime: end }),
      ),
    );
    const ethAt = new Map<number, number>();
    eth!.candles.time.forEach((t, i) => ethAt.set(t, eth!.candles.close[i]!));
    const value: number[] = [];
    btc!.candles.time.forEach((t, i) => {
      const e = ethAt.get(t);
      if (e !== undefined) value.push(1000 + 0.5 * btc!.candles.close[i]! + 10 * e);
    });
    expect(r.risk.lookback.observations).toBe(value.length - 1);
    const returns = value.slice(1).map((v, i) => v / value[i]! - 1);
    const sorted = [...returns].sort((a, b) => a - b);
    expect(r.risk.value_at_risk.historical_95.pct).toBeCloseTo(-quantile7(sorted, 0.05) * 100, 3);
    expect(r.risk.value_at_risk.historical_99.pct).toBeCloseTo(-quantile7(sorted, 0.01) * 100, 3);
    let peak = -Infinity;
    let mdd = 0;
    for (const v of value) {
      peak = Math.max(peak, v);
      mdd = Math.max(mdd, 1 - v / peak);
    }
    expect(r.risk.max_drawdown.pct).toBeCloseTo(mdd * 100, 3);
    // CVaR is beyond VaR, 99 beyond 95.
    expect(r.risk.conditional_var.historical_95.pct).toBeGreaterThanOrEqual(
      r.risk.value_at_risk.historical_95.pct,
    );
    expect(r.risk.value_at_risk.historical_99.pct).toBeGreaterThanOrEqual(
      r.risk.value_at_risk.historical_95.pct,
    );

    // Valuation at the latest price, P&L against cost including fees.
    const [pb, pe] = r.positions;
    expect(pb!.symbol).toBe('BTC/USDT');
    expect(pb!.value).toBeCloseTo(0.5 * pb!.price, 6);
    expect(pb!.unrealized_pnl).toBeCloseTo(0.5 * pb!.price - (0.5 * 60000 + 12), 6);
    expect(pe!.unrealized_pnl).toBeCloseTo(10 * pe!.price - 25000, 6);
    expect(r.valuation.total_value).toBeCloseTo(1000 + pb!.value! + pe!.value!, 6);
    expect(pb!.weight_pct + pe!.weight_pct).toBeCloseTo((1 - 1000 / r.valuation.total_value!) * 100, 3);
    expect(pb!.risk_contribution_pct! + pe!.risk_contribution_pct!).toBeCloseTo(100, 3);
    // BTC is the benchmark and held: beta lies between ETH's and BTC's (1).
    expect(r.risk.beta_to_benchmark).toBeGreaterThan(0.5);
    expect(r.risk.correlation.matrix[0]![1]).toBeGreaterThan(0.5);
    expect(r.risk.correlation.matrix[0]![0]).toBe(1);
  });

  it('stores, upserts and replaces a portfolio per owner', async () => {
    const created = await svc.monitor(
      request({
        portfolio_id: 'main',
        positions: [
          { symbol: 'BTCUSDT', quantity: 0.1, entry_price: 50000 },
          { symbol: 'SOLUSDT', quantity: 20, entry_price: 150 },
        ],
        cash: 500,
      }),
      'owner-a',
    );
    expect(created.portfolio).toMatchObject({ id: 'main', stored: true });
    expect(created.positions.map((p) => p.symbol)).toEqual(['BTC/USDT', 'SOL/USDT']);

    // Read back by id alone; another owner does not see it.
    const read = await svc.monitor(request({ portfolio_id: 'main' }), 'owner-a');
    expect(read.valuation.cash).toBe(500);
    await expect(svc.monitor(request({ portfolio_id: 'main' }), 'owner-b')).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });

    // Upsert: change SOL, add ETH, remove BTC with quantity 0.
    const upserted = await svc.monitor(
      request({
        portfolio_id: 'main',
        update_mode: 'upsert',
        positions: [
          { symbol: 'SOLUSDT', quantity: 5, entry_price: 140 },
          { symbol: 'ETHUSDT', quantity: 1, entry_price: 3000 },
          { symbol: 'BTCUSDT', quantity: 0, entry_price: 1 },
        ],
      }),
      'owner-a',
    );
    expect(upserted.positions.map((p) => [p.symbol, p.quantity])).toEqual([
      ['ETH/USDT', 1],
      ['SOL/USDT', 5],
    ]);

    // The original form: portfolio_id with symbols limits the analysis to those holdings.
    const limited = await svc.monitor(request({ portfolio_id: 'main', symbols: ['ETHUSDT'] }), 'owner-a');
    expect(limited.positions.map((p) => p.symbol)).toEqual(['ETH/USDT']);
    await expect(
      svc.monitor(request({ portfolio_id: 'main', symbols: ['XRPUSDT'] }), 'owner-a'),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: /does not hold XRP\/USDT/ });

    // Replace: exactly these positions.
    const replaced = await svc.monitor(
      request({ portfolio_id: 'main', positions: [{ symbol: 'XRPUSDT', quantity: 1000, entry_price: 0.5 }] }),
      'owner-a',
    );
    expect(replaced.positions.map((p) => p.symbol)).toEqual(['XRP/USDT']);
    expect(replaced.valuation.cash).toBe(500);
  });

  it('checks a change before storing it, applies symbols to new positions, and stores cash on its own', async () => {
    const seed = {
      portfolio_id: 'checked',
      positions: [{ symbol: 'BTCUSDT', quantity: 1, entry_price: 50000 }],
    };
    await svc.monitor(request(seed), 'owner-c');
    // Asking for a symbol the result would not hold is refused, and nothing is written.
    await expect(
      svc.monitor(
        request({
          portfolio_id: 'checked',
          update_mode: 'upsert',
          positions: [{ symbol: 'ETHUSDT', quantity: 2, entry_price: 3000 }],
          symbols: ['SOLUSDT'],
        }),
        'owner-c',
      ),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: /does not hold SOL\/USDT/ });
    const unchanged = await svc.monitor(request({ portfolio_id: 'checked' }), 'owner-c');
    expect(unchanged.positions.map((p) => p.symbol)).toEqual(['BTC/USDT']);
    // Raw symbols in `symbols` are resolved like positions are.
    const both = await svc.monitor(
      request({
        portfolio_id: 'checked',
        update_mode: 'upsert',
        positions: [{ symbol: 'ETHUSDT', quantity: 2, entry_price: 3000 }],
        symbols: ['ethusdt'],
      }),
      'owner-c',
    );
    expect(both.positions.map((p) => p.symbol)).toEqual(['ETH/USDT']);
    // Removing every position would leave nothing to monitor: refused, nothing written.
    await expect(
      svc.monitor(
        request({
          portfolio_id: 'checked',
          update_mode: 'upsert',
          positions: [
            { symbol: 'BTCUSDT', quantity: 0 },
            { symbol: 'ETHUSDT', quantity: 0 },
          ],
        }),
        'owner-c',
      ),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: /would hold no positions/ });
    // Cash with a stored id is stored.
    await svc.monitor(request({ portfolio_id: 'checked', cash: 1234 }), 'owner-c');
    const read = await svc.monitor(request({ portfolio_id: 'checked' }), 'owner-c');
    expect(read.valuation.cash).toBe(1234);
    expect(read.positions).toHaveLength(2);
  });

  it('warns about a portfolio that is one asset', async () => {
    const r = await svc.monitor(
      request({ positions: [{ symbol: 'BTCUSDT', quantity: 1, entry_price: 60000 }] }),
      'o',
    );
    const codes = r.recommendations.map((x) => x.code);
    expect(codes).toEqual(expect.arrayContaining(['CONCENTRATION', 'FEW_EFFECTIVE_POSITIONS']));
    expect(r.risk.beta_to_benchmark).toBeCloseTo(1, 6);
  });

  it('analyses bare symbols as an equal-weight basket, percentages only', async () => {
    const r = await svc.monitor(request({ symbols: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'] }), 'owner-a');
    expect(r.portfolio.mode).toBe('equal_weight_basket');
    expect(r.valuation.total_value).toBeNull();
    expect(r.risk.value_at_risk.historical_95.amount).toBeNull();
    for (const p of r.positions) expect(p.weight_pct).toBeCloseTo(100 / 3, 3);
    expect(r.risk.concentration.effective_positions).toBeCloseTo(3, 3);
    expect(r.notes.join(' ')).toMatch(/equal-weight basket/);
  });

  it('cuts markets whose data ends later to a common window', async () => {
    // AAVE belongs to the snapshot's universe window (to 2025-06-18), BTC runs a year longer.
    const r = await svc.monitor(
      request({
        positions: [
          { symbol: 'BTCUSDT', quantity: 0.1, entry_price: 90000 },
          { symbol: 'AAVEUSDT', quantity: 10, entry_price: 200 },
        ],
      }),
      'owner-a',
    );
    expect(r.risk.lookback.observations).toBe(720);
    expect(r.risk.lookback.to.startsWith('2025-06-18')).toBe(true);
    expect(r.notes.join(' ')).toMatch(/risk window ends 2025-06-18.*AAVE\/USDT/);
    // Offline, every position is valued where the risk window ends: one moment of the snapshot.
    expect(r.positions.map((p) => p.price_as_of)).toEqual([r.risk.lookback.to, r.risk.lookback.to]);
    expect(r.risk.lookback.days_covered).toBeCloseTo(30, 6);
  });

  it('flags concentration and correlation against the risk level', async () => {
    const positions = [
      { symbol: 'BTCUSDT', quantity: 1, entry_price: 60000 },
      { symbol: 'ETHUSDT', quantity: 0.5, entry_price: 3000 },
    ];
    const conservative = await svc.monitor(request({ positions, risk_level: 'conservative' }), 'o');
    const codes = conservative.recommendations.map((x) => x.code);
    expect(codes).toContain('CONCENTRATION');
    const concentration = conservative.recommendations.find((x) => x.code === 'CONCENTRATION')!;
    expect(concentration.value).toBeGreaterThan(concentration.limit!);
    expect(concentration.message).toMatch(/BTC\/USDT is \d+(\.\d)? % of the portfolio/);
    expect(conservative.limits.max_position_pct).toBe(25);
    const aggressive = await svc.monitor(request({ positions, risk_level: 'aggressive' }), 'o');
    expect(aggressive.recommendations.length).toBeLessThanOrEqual(conservative.recommendations.length);
  });

  it('refuses duplicates, unknown portfolios and quantity 0 outside upsert, with what to fix', async () => {
    await expect(
      svc.monitor(
        request({
          positions: [
            { symbol: 'BTCUSDT', quantity: 1, entry_price: 1 },
            { symbol: 'btc-usdt', quantity: 1, entry_price: 1 },
          ],
        }),
        'o',
      ),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: /BTC\/USDT twice/ });
    await expect(svc.monitor(request({ portfolio_id: 'nope' }), 'o')).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: /Create it by passing portfolio_id with positions/,
    });
    await expect(
      svc.monitor(request({ positions: [{ symbol: 'BTCUSDT', quantity: 0, entry_price: 1 }] }), 'o'),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: /upsert/ });
    await expect(
      svc.monitor(request({ positions: [{ symbol: 'NOSUCHCOIN', quantity: 1, entry_price: 1 }] }), 'o'),
    ).rejects.toMatchObject({ code: 'UNKNOWN_SYMBOL' });
  });

  it('accepts one-letter bases, which Binance lists (S/USDT, T/USDT, ...)', async () => {
    const r = await svc.monitor(request({ symbols: ['S/USDT', 'TUSDT'] }), 'o');
    expect(r.positions.map((p) => p.symbol)).toEqual(['S/USDT', 'T/USDT']);
  });

  it('defaults the lookback per interval: daily returns get a year, not the hourly 30 days', async () => {
    const parsed = monitorPortfolioInput.parse({ interval: '1d', symbols: ['BTCUSDT', 'ETHUSDT'] });
    const r = await svc.monitor(parsed as never, 'o');
    expect(r.risk.lookback).toMatchObject({ interval: '1d', days: 365 });
    const hourly = await svc.monitor(monitorPortfolioInput.parse({ symbols: ['BTCUSDT'] }) as never, 'o');
    expect(hourly.risk.lookback).toMatchObject({ interval: '1h', days: 30 });
  });

  it('validates arguments at the schema with messages that say what to fix', () => {
    const bad = monitorPortfolioInput.safeParse({ interval: '1d', lookback_days: 30, symbols: ['BTCUSDT'] });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error!.issues)).toMatch(/lookback_days must be at least 60/);
    expect(monitorPortfolioInput.safeParse({}).success).toBe(false);
    expect(monitorPortfolioInput.safeParse({ portfolio_id: "x'; drop table portfolios; --" }).success).toBe(
      false,
    );
  });
});
