/**
 * Portfolio alerts (issue 5): `{ kind: 'portfolio', portfolio_id, metric, above }` fires when a stored
 * portfolio's maximum drawdown or one-day historical VaR95 (both in %, over the last 30 days of hourly
 * returns) is above `above`.
 *
 * The evaluator asks PortfolioService.monitor for each alert's portfolio AS THE ALERT'S OWNER, so an alert
 * can only ever see its owner's portfolio (another owner's id is simply not found). It only produces
 * firings; the engine passes them through the firing policy and `store.recordFiring`, like every other
 * alert.
 *
 * The firing time is the portfolio answer's `as_of` (the close the risk window ends at), not the clock: the
 * same market state gives the same (alert_id, at), so a re-evaluation or a restart records nothing new
 * (the policy finds it stale, the store ignores a repeated key). A new hourly close moves `as_of` and lets a
 * repeat alert fire again after its cooldown.
 *
 * A portfolio that is gone, data that cannot be had or any other failure skips that alert with a logged
 * note; the batch never throws. Several alerts on one portfolio share one monitor call per batch.
 * Only a top-level portfolio condition is evaluated (not one nested in all/any).
 */
import { formatCondition } from '../../core/alerts/expression.js';
import { formatNumber, renderMessage } from '../../core/alerts/message.js';
import type { AlertCondition, AlertDefinition, AlertFiring } from '../../core/alerts/types.js';
import { log } from '../../logger.js';
import { monitorPortfolioInput } from '../../tools/monitor-portfolio.js';
import type { MonitorRequest } from '../portfolio.js';

export type PortfolioCondition = Extract<AlertCondition, { kind: 'portfolio' }>;

/** What the evaluator reads from PortfolioService.monitor's answer. */
export interface PortfolioSnapshot {
  as_of: string;
  valuation: { total_value: number | null };
  risk: { max_drawdown: { pct: number }; one_day_var_95: { pct: number } };
}

/** PortfolioService, or anything answering monitor() the same way. */
export interface PortfolioMonitor {
  monitor(req: MonitorRequest, owner: string): Promise<PortfolioSnapshot>;
}

export interface PortfolioAlertOptions {
  /** Return interval of the risk figures. Default '1h'. */
  interval?: '1h' | '1d';
  /** Default 30. */
  lookbackDays?: number;
  /** Portfolios measured at once. Default 4. */
  concurrency?: number;
}

/** Default text of a portfolio alert, e.g. `Portfolio "main": max drawdown 12.40% > 10% ...`. */
export const PORTFOLIO_TEMPLATE =
  'Portfolio "{symbol}": {summary} (alert "{condition}") at {time}. Reply STOP to stop alerts.';

const METRIC_LABEL: Record<PortfolioCondition['metric'], string> = {
  drawdown_pct: 'max drawdown',
  var95_pct: 'one-day VaR95',
};

/** The portfolio condition of an alert, or null when it has none at the top level. */
export function portfolioConditionOf(alert: AlertDefinition): PortfolioCondition | null {
  return alert.condition.kind === 'portfolio' ? alert.condition : null;
}

export class PortfolioAlertEvaluator {
  private readonly interval: '1h' | '1d';
  private readonly lookbackDays: number;
  private readonly concurrency: number;

  constructor(
    private readonly portfolio: PortfolioMonitor,
    options: PortfolioAlertOptions = {},
  ) {
    this.interval = options.interval ?? '1h';
    this.lookbackDays = options.lookbackDays ?? 30;
    this.concurrency = Math.max(1, options.concurrency ?? 4);
  }

  /**
   * Firings of the active, unexpired portfolio alerts among `alerts` whose metric is above the threshold.
   * Other alerts are ignored. Never throws.
   *
   * @param now clock (ms): alerts expired by then are not measured (the engine expires them)
   */
  async evaluate(alerts: AlertDefinition[], now: number = Date.now()): Promise<AlertFiring[]> {
    // One monitor call per (owner, portfolio): several alerts on one portfolio share it.
    const groups = new Map<string, { owner: string; portfolioId: string; alerts: AlertDefinition[] }>();
    for (const alert of alerts) {
      const cond = portfolioConditionOf(alert);
      if (!cond || alert.status !== 'active') continue;
      if (alert.expires_at !== null && Date.parse(alert.expires_at) <= now) continue;
      const key = JSON.stringify([alert.owner, cond.portfolio_id]);
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { owner: alert.owner, portfolioId: cond.portfolio_id, alerts: [] }));
      g.alerts.push(alert);
    }

    const firings: AlertFiring[] = [];
    const queue = [...groups.values()];
    const worker = async () => {
      for (let g = queue.shift(); g; g = queue.shift()) {
        const snapshot = await this.measure(g.owner, g.portfolioId, g.alerts);
        if (!snapshot) continue;
        for (const alert of g.alerts) {
          try {
            const f = firingOf(alert, snapshot);
            if (f) firings.push(f);
          } catch (error) {
            log.warn('portfolio alert skipped: evaluation failed', { alert_id: alert.id, error });
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, queue.length) }, worker));
    return firings.sort((a, b) => a.alert_id.localeCompare(b.alert_id));
  }

  /** The owner's portfolio measured, or null (logged) when that fails for any reason. */
  private async measure(
    owner: string,
    portfolioId: string,
    alerts: AlertDefinition[],
  ): Promise<PortfolioSnapshot | null> {
    try {
      const req = monitorPortfolioInput.parse({
        portfolio_id: portfolioId,
        interval: this.interval,
        lookback_days: this.lookbackDays,
      });
      const r = await this.portfolio.monitor(req, owner);
      if (!Number.isFinite(Date.parse(r.as_of))) throw new Error(`invalid as_of ${r.as_of}`);
      return r;
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      log.warn('portfolio alert skipped: the portfolio could not be measured', {
        alert_ids: alerts.map((a) => a.id),
        portfolio_id: portfolioId,
        code: typeof code === 'string' ? code : undefined,
        reason: error instanceof Error ? error.message : String(error),
      });
      return null;
    }
  }
}

/** The firing of one alert on a measured portfolio, or null when its metric is not above the threshold. */
export function firingOf(alert: AlertDefinition, snapshot: PortfolioSnapshot): AlertFiring | null {
  const cond = portfolioConditionOf(alert);
  if (!cond) return null;
  const drawdown = snapshot.risk.max_drawdown.pct;
  const var95 = snapshot.risk.one_day_var_95.pct;
  const metric = cond.metric === 'drawdown_pct' ? drawdown : var95;
  if (!Number.isFinite(metric) || !(metric > cond.above)) return null;

  const at = Date.parse(snapshot.as_of);
  const total = snapshot.valuation.total_value;
  const values: Record<string, number> = { drawdown_pct: drawdown, var95_pct: var95 };
  if (total !== null && Number.isFinite(total)) values.total_value = total;
  const summary =
    `${METRIC_LABEL[cond.metric]} ${formatNumber(metric)}% > ${formatNumber(cond.above)}%` +
    (values.total_value === undefined ? '' : `, value ${formatNumber(values.total_value)}`);
  const message = renderMessage(alert.template ?? PORTFOLIO_TEMPLATE, {
    alert_id: alert.id,
    symbol: cond.portfolio_id,
    price: values.total_value ?? 0,
    condition: alert.expression ?? formatCondition(cond),
    summary,
    at,
    values,
  });
  return { alert_id: alert.id, at, values, message };
}
