/**
 * RiskService: sizing arithmetic checked by hand, warnings from the real offline market (ATR,
 * structure), and sizing that still answers when the exchange is unreachable.
 */
import { describe, expect, it } from 'vitest';
import { MarketData } from '../../src/market/index.js';
import { AnalysisService } from '../../src/services/analysis.js';
import { RiskService, type RiskRequest } from '../../src/services/risk.js';
import { riskAssessmentInput, riskAssessmentOutput } from '../../src/tools/risk-assessment.js';

const analysis = new AnalysisService(new MarketData({ mode: 'offline' }));
const svc = new RiskService(analysis);
const request = (args: Record<string, unknown>): RiskRequest => riskAssessmentInput.parse(args);

async function btc() {
  const view = await analysis.analyze({
    symbol: 'BTCUSDT',
    timeframe: '1h',
    limit: 500,
    higher_timeframe: 'none',
  });
  return { close: view.price.last_close, atr: view.volatility.atr };
}

describe('RiskService', () => {
  it('sizes so the loss at the stop, fees included, is the risk amount', async () => {
    const { close, atr } = await btc();
    const entry = close;
    const stop = close - 3 * atr;
    const r = await svc.assess(
      request({
        symbol: 'BTCUSDT',
        portfolio_value: 10_000,
        risk_percentage: 1,
        entry_price: entry,
        stop_loss: stop,
        take_profit: close + 6 * atr,
        side: 'long',
      }),
    );
    riskAssessmentOutput.parse(r);
    // 1 % of 10 000 = 100; per unit the stop costs the distance plus 0.1 % on entry and on exit.
    const perUnit = entry - stop + 0.001 * (entry + stop);
    expect(r.risk_amount).toBe(100);
    expect(r.position_size).toBeCloseTo(100 / perUnit, 9);
    expect(r.max_loss).toBeCloseTo(100, 9);
    expect(r.position_value).toBeCloseTo((100 / perUnit) * entry, 6);
    expect(r.risk_reward).toBeCloseTo(2, 6);
    expect(r.risk_reward_after_fees!).toBeLessThan(2);
    expect(r.stop_in_atr).toBeCloseTo(3, 3);
    expect(r.volatility_adjusted).toMatchObject({ timeframe: '1h', atr_stop_multiple: 2 });
    expect(r.volatility_adjusted!.stop_distance).toBeCloseTo(2 * atr, 9);
    expect(r.kelly).toBeNull();
    expect(r.kelly_note).toMatch(/win_rate and payoff_ratio/);
    expect(r.market).toMatchObject({ data_source: 'offline', exchange: 'binance', timeframe: '1h' });
    expect(r.structure!.timeframe).toBe('1h');
    for (const s of r.structure!.supports) expect(s.price).toBeLessThan(entry);
    for (const s of r.structure!.resistances) expect(s.price).toBeGreaterThan(entry);
    expect(r.warnings.map((w) => w.code)).not.toContain('STOP_INSIDE_NOISE');
  });

  it('warns about a stop inside the noise, a large position and a large risk', async () => {
    const { close, atr } = await btc();
    const r = await svc.assess(
      request({
        symbol: 'BTCUSDT',
        portfolio_value: 10_000,
        risk_percentage: 5,
        entry_price: close,
        stop_loss: close - 0.3 * atr,
      }),
    );
    const codes = r.warnings.map((w) => w.code);
    expect(codes).toEqual(expect.arrayContaining(['STOP_INSIDE_NOISE', 'RISK_OVER_3_PCT']));
    expect(codes.some((c) => c === 'POSITION_OVER_20_PCT' || c === 'POSITION_NEEDS_LEVERAGE')).toBe(true);
    expect(r.side).toBe('long');
    expect(r.side_inferred).toBe(true);
    expect(r.risk_level).toBe('high');
  });

  it('refuses to size a stop on the wrong side, and says how to fix it', async () => {
    const r = await svc.assess(
      request({
        symbol: 'BTCUSDT',
        portfolio_value: 5_000,
        entry_price: 100_000,
        stop_loss: 101_000,
        side: 'long',
      }),
    );
    expect(r.position_size).toBe(0);
    expect(r.max_loss).toBe(0);
    expect(r.warnings[0]).toMatchObject({ code: 'STOP_WRONG_SIDE', severity: 'critical' });
    expect(r.warnings[0]!.message).toMatch(/stop must be below entry/);
    expect(r.risk_level).toBe('high');
  });

  it('sizes a short and gives a Kelly size when the edge is known', async () => {
    const { close, atr } = await btc();
    const r = await svc.assess(
      request({
        symbol: 'BTCUSDT',
        portfolio_value: 20_000,
        entry_price: close,
        stop_loss: close + 2 * atr,
        take_profit: close - 4 * atr,
        win_rate: 0.55,
        payoff_ratio: 1.5,
      }),
    );
    expect(r.side).toBe('short');
    expect(r.max_loss).toBeCloseTo(400, 9);
    // f = W - (1 - W) / R = 0.55 - 0.45 / 1.5 = 0.25 of the account risked at the stop: 5 000.
    expect(r.kelly!.fraction).toBeCloseTo(0.25, 9);
    expect(r.kelly!.half_kelly_fraction).toBeCloseTo(0.125, 9);
    expect(r.kelly!.risk_amount).toBeCloseTo(5_000, 6);
    const perUnit = 2 * atr + 0.001 * (close + close + 2 * atr);
    expect(r.kelly!.position_size).toBeCloseTo(5_000 / perUnit, 6);
    expect(r.kelly!.half_kelly_position_size).toBeCloseTo(2_500 / perUnit, 6);
    // 2 % risked is below the 25 % Kelly fraction: no warning; 30 % would be above it.
    expect(r.warnings.map((w) => w.code)).not.toContain('RISK_ABOVE_KELLY');
  });

  it('takes the side from the stop, flags a target on the wrong side, and says when the data is old', async () => {
    const { close, atr } = await btc();
    const r = await svc.assess(
      request({
        symbol: 'BTCUSDT',
        portfolio_value: 10_000,
        entry_price: close,
        stop_loss: close - 3 * atr,
        take_profit: close - 6 * atr,
      }),
    );
    expect(r.side).toBe('long');
    expect(r.warnings.map((w) => w.code)).toContain('TARGET_WRONG_SIDE');
    expect(r.warnings.map((w) => w.code)).not.toContain('STOP_WRONG_SIDE');
    // The snapshot is months old: no checks against "the current price".
    expect(r.notes.join(' ')).toMatch(/checks against the current price .* are left out/);
    expect(r.warnings.map((w) => w.code)).not.toContain('ENTRY_FAR_FROM_PRICE');
  });

  it('still sizes when the exchange is unreachable, with a note, and names a mistyped symbol', async () => {
    // A closed port: connection refused, which the ccxt source reports at once as an outage.
    const live = new MarketData({
      mode: 'exchange',
      exchangeOptions: { baseUrl: 'http://127.0.0.1:9', retries: 0, timeoutMs: 2_000 },
    });
    const offlineService = new RiskService(new AnalysisService(live));
    const r = await offlineService.assess(
      request({ symbol: 'BTCUSDT', portfolio_value: 1_000, entry_price: 100, stop_loss: 95 }),
    );
    expect(r.market).toBeNull();
    expect(r.volatility_adjusted).toBeNull();
    expect(r.structure).toBeNull();
    expect(r.position_size).toBeGreaterThan(0);
    expect(r.notes.join(' ')).toMatch(/Sized without market checks/);
    await expect(
      svc.assess(request({ symbol: 'NOSUCHCOIN', portfolio_value: 1_000, entry_price: 100, stop_loss: 95 })),
    ).rejects.toMatchObject({ code: 'UNKNOWN_SYMBOL' });
  });

  it('validates arguments with messages that say what to fix', () => {
    const bad = riskAssessmentInput.safeParse({
      symbol: 'BTCUSDT',
      portfolio_value: 50,
      entry_price: 1,
      stop_loss: 1,
      win_rate: 0.5,
    });
    expect(bad.success).toBe(false);
    const text = JSON.stringify(bad.error!.issues);
    expect(text).toMatch(/portfolio_value must be at least 100/);
    expect(text).toMatch(/stop_loss must differ from entry_price/);
    expect(text).toMatch(/give win_rate and payoff_ratio together/);
  });
});
