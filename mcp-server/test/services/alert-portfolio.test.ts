/**
 * Portfolio alerts (issue 5) on the offline snapshot and a real Postgres: a stored portfolio whose drawdown
 * is above the threshold fires once with its values, re-evaluating the same market state records nothing
 * new (also after a restart), a threshold above the figure does not fire, another owner's portfolio id is
 * not found, and a failing portfolio service never breaks the batch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertChannel, AlertCondition, AlertDefinition } from '../../src/core/alerts/types.js';
import { MarketData } from '../../src/market/index.js';
import { AlertEngine } from '../../src/services/alerts/engine.js';
import {
  PortfolioAlertEvaluator,
  type PortfolioMonitor,
} from '../../src/services/alerts/portfolio-alerts.js';
import { PortfolioService, type MonitorResult } from '../../src/services/portfolio.js';
import { SqlAlertStore } from '../../src/store/alert-store.js';
import { PgDatabase } from '../../src/store/pg-database.js';
import { SqlPortfolioStore } from '../../src/store/portfolio-store.js';
import type { NewAlert } from '../../src/store/types.js';
import { monitorPortfolioInput } from '../../src/tools/monitor-portfolio.js';
import { isolatedPostgresUrl } from '../helpers/postgres.js';

const OWNER = 'owner-a';
const OTHER = 'owner-b';
const channel: AlertChannel = { type: 'webhook', url: 'https://example.test/portfolio-hook' };
const market = new MarketData({ mode: 'offline' });

let db: PgDatabase;
let drop: () => Promise<void>;
let alerts: SqlAlertStore;
let service: PortfolioService;
let evaluator: PortfolioAlertEvaluator;
/** The stored portfolio measured once, as the evaluator will see it. */
let measured: MonitorResult;

function portfolioAlert(
  condition: Extract<AlertCondition, { kind: 'portfolio' }>,
  over: Partial<NewAlert> = {},
) {
  return {
    symbol: null,
    exchange: 'binance',
    timeframe: '1h',
    condition,
    expression: null,
    channel,
    template: null,
    repeat: { mode: 'repeat', cooldown_s: 3600 },
    expires_at: null,
    quiet_hours: null,
    ...over,
  } satisfies NewAlert;
}

beforeAll(async () => {
  const isolated = await isolatedPostgresUrl();
  drop = isolated.drop;
  db = new PgDatabase({ connectionString: isolated.url });
  alerts = new SqlAlertStore(db);
  service = new PortfolioService(market, new SqlPortfolioStore(db));
  evaluator = new PortfolioAlertEvaluator(service);
  // Store the owner's portfolio through the service, as the monitor_portfolio tool does.
  await service.monitor(
    monitorPortfolioInput.parse({
      portfolio_id: 'main',
      positions: [
        { symbol: 'BTC/USDT', quantity: 0.5, entry_price: 60000 },
        { symbol: 'ETH/USDT', quantity: 10, entry_price: 2500 },
      ],
      cash: 1000,
      lookback_days: 30,
    }),
    OWNER,
  );
  measured = await service.monitor(
    monitorPortfolioInput.parse({ portfolio_id: 'main', interval: '1h', lookback_days: 30 }),
    OWNER,
  );
}, 60_000);

afterAll(async () => {
  await db.close();
  await drop();
});

describe('portfolio alerts', () => {
  it('the snapshot portfolio has a drawdown to alert on', () => {
    expect(measured.risk.max_drawdown.pct).toBeGreaterThan(0.5);
    expect(measured.valuation.total_value).toBeGreaterThan(0);
  });

  it('fires once with the values when the drawdown is above the threshold; re-evaluating adds nothing', async () => {
    const dd = measured.risk.max_drawdown.pct;
    const alert = await alerts.create(
      OWNER,
      portfolioAlert({ kind: 'portfolio', portfolio_id: 'main', metric: 'drawdown_pct', above: dd - 0.5 }),
    );
    const engine = new AlertEngine({ market, store: alerts, portfolio: evaluator });
    await engine.reload();
    expect(await engine.evaluatePortfolios()).toBe(1);
    expect(engine.stats.recorded).toBe(1);

    const history = await alerts.history(OWNER, alert.id, 10);
    expect(history).toHaveLength(1);
    const [h] = history;
    expect(h!.at).toBe(Date.parse(measured.as_of));
    expect(h!.values).toEqual({
      drawdown_pct: dd,
      var95_pct: measured.risk.one_day_var_95.pct,
      total_value: measured.valuation.total_value,
    });
    expect(h!.message).toContain('Portfolio "main"');
    expect(h!.message).toContain('max drawdown');
    expect(h!.message).toContain('Reply STOP');

    // Same market state: the policy finds it stale, nothing is recorded.
    expect(await engine.evaluatePortfolios()).toBe(1);
    expect(engine.stats.recorded).toBe(1);
    expect(engine.stats.skipped.stale).toBe(1);

    // A restart reloads last_fired_at from the store: still nothing new.
    const restarted = new AlertEngine({ market, store: alerts, portfolio: evaluator });
    await restarted.reload();
    await restarted.evaluatePortfolios();
    expect(restarted.stats.recorded).toBe(0);
    expect(await alerts.history(OWNER, alert.id, 10)).toHaveLength(1);

    // The firing itself is stable: recording it again is a duplicate at the store too.
    const again = await evaluator.evaluate([(await alerts.get(OWNER, alert.id))!], Date.now());
    expect(again).toHaveLength(1);
    expect(again[0]!.at).toBe(h!.at);
    expect((await alerts.recordFiring(again[0]!, channel, again[0]!.message))!.created).toBe(false);
    await alerts.delete(OWNER, alert.id);
  });

  it('does not fire below the threshold, and VaR95 is compared when asked', async () => {
    const dd = measured.risk.max_drawdown.pct;
    const var95 = measured.risk.one_day_var_95.pct;
    const make = (c: Extract<AlertCondition, { kind: 'portfolio' }>): AlertDefinition => ({
      ...portfolioAlert(c),
      id: `00000000-0000-4000-8000-00000000000${c.metric === 'drawdown_pct' ? 1 : 2}`,
      owner: OWNER,
      status: 'active',
      created_at: new Date().toISOString(),
      updated_at: new Date().toISOString(),
      last_fired_at: null,
    });
    expect(
      await evaluator.evaluate(
        [make({ kind: 'portfolio', portfolio_id: 'main', metric: 'drawdown_pct', above: dd + 1 })],
        Date.now(),
      ),
    ).toEqual([]);
    expect(
      await evaluator.evaluate(
        [make({ kind: 'portfolio', portfolio_id: 'main', metric: 'var95_pct', above: var95 + 0.01 })],
        Date.now(),
      ),
    ).toEqual([]);
    const fired = await evaluator.evaluate(
      [make({ kind: 'portfolio', portfolio_id: 'main', metric: 'var95_pct', above: var95 - 0.01 })],
      Date.now(),
    );
    expect(fired).toHaveLength(1);
    expect(fired[0]!.message).toContain('one-day VaR95');
  });

  it("another owner's portfolio id is not found: no firing, no error", async () => {
    const alert = await alerts.create(
      OTHER,
      portfolioAlert({ kind: 'portfolio', portfolio_id: 'main', metric: 'drawdown_pct', above: 0 }),
    );
    expect(await evaluator.evaluate([alert], Date.now())).toEqual([]);
    const engine = new AlertEngine({ market, store: alerts, portfolio: evaluator });
    await engine.reload();
    await engine.evaluatePortfolios();
    expect(await alerts.history(OTHER, alert.id, 10)).toEqual([]);
  });

  it('skips a failing portfolio without failing the others, and ignores non-portfolio alerts', async () => {
    let calls = 0;
    const flaky: PortfolioMonitor = {
      monitor: async (req, owner) => {
        calls++;
        if (req.portfolio_id === 'broken') throw new Error('boom');
        return service.monitor(req, owner);
      },
    };
    const base = {
      owner: OWNER,
      status: 'active' as const,
      created_at: new Date().toISOString(),
      updated_at: new Date().toISOString(),
      last_fired_at: null,
    };
    const list: AlertDefinition[] = [
      {
        ...portfolioAlert({ kind: 'portfolio', portfolio_id: 'broken', metric: 'drawdown_pct', above: 0 }),
        ...base,
        id: 'a-broken',
      },
      {
        ...portfolioAlert({ kind: 'portfolio', portfolio_id: 'main', metric: 'drawdown_pct', above: 0 }),
        ...base,
        id: 'b-main-dd',
      },
      {
        ...portfolioAlert({ kind: 'portfolio', portfolio_id: 'main', metric: 'var95_pct', above: 0 }),
        ...base,
        id: 'c-main-var',
      },
      {
        ...portfolioAlert({ kind: 'portfolio', portfolio_id: 'main', metric: 'var95_pct', above: 0 }),
        ...base,
        id: 'd-paused',
        status: 'paused',
      },
      {
        ...portfolioAlert({
          kind: 'portfolio',
          portfolio_id: 'not a valid id!',
          metric: 'var95_pct',
          above: 0,
        }),
        ...base,
        id: 'e-invalid-id',
      },
      {
        ...portfolioAlert({ kind: 'portfolio', portfolio_id: 'main', metric: 'var95_pct', above: 0 }),
        ...base,
        id: 'f-expired',
        expires_at: new Date(Date.now() - 1000).toISOString(),
      },
      {
        ...portfolioAlert({ kind: 'portfolio', portfolio_id: 'main', metric: 'var95_pct', above: 0 }),
        ...base,
        condition: { kind: 'price', op: 'above', level: 1 },
        symbol: 'BTC/USDT',
        id: 'g-price',
      },
    ];
    const firings = await new PortfolioAlertEvaluator(flaky).evaluate(list, Date.now());
    expect(firings.map((f) => f.alert_id)).toEqual(['b-main-dd', 'c-main-var']);
    // One call per (owner, portfolio): 'main' once for both alerts; the invalid id never reaches it.
    expect(calls).toBe(2);
  });
});
