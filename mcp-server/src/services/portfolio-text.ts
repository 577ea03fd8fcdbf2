/** Plain-text summary of a monitor_portfolio answer for clients that ignore structured content. */
import { formatAge } from './format-age.js';
import type { MonitorResult } from './portfolio.js';

const money = (x: number | null, ccy: string) => (x === null ? 'n/a' : `${Number(x.toPrecision(8))} ${ccy}`);

export function formatPortfolioSummary(r: MonitorResult): string {
  const ccy = r.portfolio.base_currency;
  const v = r.valuation;
  const risk = r.risk;
  const head =
    r.portfolio.mode === 'positions'
      ? `Portfolio ${r.portfolio.id ?? '(inline)'}: ${money(v.total_value, ccy)} (cash ${money(v.cash, ccy)}), ` +
        `unrealised P&L ${money(v.unrealized_pnl, ccy)} (${v.unrealized_pnl_pct ?? 'n/a'} %).`
      : `Equal-weight basket of ${r.positions.length} symbols (no quantities: percentages only).`;
  const lines = [
    head,
    ...r.positions.map(
      (p) =>
        `- ${p.symbol}: ${p.weight_pct} % at ${p.price}` +
        (p.unrealized_pnl === null
          ? ''
          : `, P&L ${money(p.unrealized_pnl, ccy)} (${p.unrealized_pnl_pct} %)`) +
        `, ${p.risk_contribution_pct ?? 'n/a'} % of risk`,
    ),
    `Risk over ${risk.lookback.days_covered} days of ${risk.lookback.interval} returns (${risk.lookback.observations}, ` +
      `${risk.lookback.data_source} ${risk.lookback.exchange}): VaR95 ${risk.value_at_risk.historical_95.pct} % per ` +
      `${risk.horizon} (one day ~${risk.one_day_var_95.pct} %), CVaR95 ${risk.conditional_var.historical_95.pct} %, ` +
      `volatility ${risk.volatility.annualized_pct} %/yr, max drawdown ${risk.max_drawdown.pct} %, ` +
      `Sharpe ${risk.sharpe ?? 'n/a'}, beta ${risk.beta_to_benchmark ?? 'n/a'} to ${risk.lookback.benchmark ?? 'no benchmark'}.`,
    `Concentration: largest ${risk.concentration.largest_symbol} ${risk.concentration.largest_weight_pct} %, ` +
      `${risk.concentration.effective_positions} effective positions.`,
    `Recommendations (${r.risk_level}):`,
    ...r.recommendations.map((x) => `- [${x.severity}] ${x.message}`),
    `Data: ${r.data_source} ${r.exchange}, as of ${r.as_of} (${formatAge(r.data_age_ms)} old).`,
    ...r.notes.map((n) => `Note: ${n}`),
    r.disclaimer,
  ];
  return lines.join('\n');
}
