/** Plain-text summary of a risk_assessment answer for clients that ignore structured content. */
import { formatAge } from './format-age.js';
import type { RiskResult } from './risk.js';

const f = (x: number) => Number(x.toPrecision(8)).toString();

export function formatRiskSummary(r: RiskResult): string {
  const lines = [
    `${r.symbol} ${r.side}: risk ${f(r.risk_amount)} (${r.risk_percentage} % of ${f(r.portfolio_value)}), ` +
      `entry ${f(r.entry_price)}, stop ${f(r.stop_loss)} (${r.stop_distance_pct} % away).`,
    `Position size ${f(r.position_size)} units = ${f(r.position_value)} (${r.position_pct_of_portfolio} % of the portfolio); ` +
      `max loss with fees ${f(r.max_loss)}.` +
      (r.risk_reward === null
        ? ''
        : ` Risk/reward ${r.risk_reward} (${r.risk_reward_after_fees} after fees).`),
  ];
  if (r.volatility_adjusted) {
    const va = r.volatility_adjusted;
    lines.push(
      `Volatility-adjusted (${va.atr_stop_multiple} ATR stop, ATR ${f(va.atr)} on ${va.timeframe}): ` +
        `${f(va.position_size)} units = ${f(va.position_value)}.`,
    );
  }
  lines.push(
    r.kelly
      ? `Kelly: risk ${(r.kelly.fraction * 100).toFixed(2)} % of the account (${f(r.kelly.position_size)} units); ` +
          `half Kelly ${(r.kelly.half_kelly_fraction * 100).toFixed(2)} % (${f(r.kelly.half_kelly_position_size)} units).`
      : `No Kelly size: ${r.kelly_note}`,
  );
  if (r.structure) {
    const s = r.structure;
    lines.push(
      `Nearest support below entry ${s.support_below_entry ? f(s.support_below_entry.price) : 'none'}, ` +
        `resistance above ${s.resistance_above_entry ? f(s.resistance_above_entry.price) : 'none'} (${s.timeframe}).`,
    );
  }
  lines.push(`Risk level: ${r.risk_level}.`);
  lines.push(...r.warnings.map((w) => `Warning [${w.severity}]: ${w.message}`));
  if (r.market) {
    lines.push(
      `Market data: ${r.market.data_source} ${r.market.exchange}, as of ${r.market.as_of} (${formatAge(r.market.data_age_ms)} old).`,
    );
  }
  lines.push(...r.notes.map((n) => `Note: ${n}`), r.disclaimer);
  return lines.join('\n');
}
