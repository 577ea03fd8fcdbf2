/**
 * Plain-text rendering of an analysis: the `content` text for MCP clients that ignore structured
 * content, and the CLI's readable report. Kept short enough for a chat reply.
 */
import type { AnalysisResult } from './analysis.js';
import { formatAge } from './format-age.js';

const n = (x: number | null | undefined): string => (x === null || x === undefined ? 'n/a' : String(x));

export function formatReportSummary(r: AnalysisResult): string {
  const rec = r.recommendation;
  const plan =
    rec.action === 'HOLD'
      ? 'no trade'
      : `entry ${n(rec.entry)}, stop ${n(rec.stop_loss)} (${rec.stop_basis}), targets ${rec.targets
          .map((t) => `${t.price} (${t.basis})`)
          .join(', ')}, R:R ${n(rec.risk_reward)}`;
  const lines = [
    `${r.symbol} ${r.timeframe} on ${r.exchange}: ${rec.action} (confidence ${rec.confidence}/100, score ${rec.score}); ${plan}.`,
    `Price ${r.price.last_close}; trend ${r.trend.direction} (${r.trend.structure}; EMAs ${r.trend.ema_alignment}; ADX ${n(r.trend.adx)} ${r.trend.strength}).`,
    `RSI ${r.indicators.rsi}, MACD histogram ${r.indicators.macd.histogram}, ATR ${r.volatility.atr} (${r.volatility.atr_pct.toFixed(2)}%, ${r.volatility.regime} volatility).`,
    `Structure: last BOS ${event(r.smc.break_of_structure)}; last CHoCH ${event(r.smc.change_of_character)}; ` +
      `${r.smc.order_blocks.length} unbroken order blocks, ${r.smc.fair_value_gaps.length} unfilled FVGs nearby.`,
    `Support ${r.key_levels.support.map((l) => l.price).join(', ') || 'none'}; resistance ${r.key_levels.resistance.map((l) => l.price).join(', ') || 'none'}.`,
  ];
  if (r.confluence)
    lines.push(
      `${r.confluence.timeframe} trend ${r.confluence.trend}${r.confluence.agrees === null ? '' : r.confluence.agrees ? ' (agrees)' : ' (disagrees)'}.`,
    );
  if (r.comparison) {
    lines.push(
      `vs ${r.comparison.symbol} (${r.comparison.common_candles} common candles to ${r.comparison.as_of}): ` +
        `correlation ${n(r.comparison.correlation)}, beta ${n(r.comparison.beta)}, ` +
        `relative strength ${r.comparison.relative_strength_pct.toFixed(2)} pp.`,
    );
  }
  lines.push(
    'Reasons: ' +
      rec.reasons.map((x) => `${x.factor} ${x.score > 0 ? '+' : ''}${x.score} (${x.detail})`).join('; ') +
      '.',
  );
  lines.push(
    `Data: ${r.data_source} ${r.exchange}, ${r.candles} closed candles to ${r.as_of} (age ${formatAge(r.data_age_ms)}).`,
  );
  for (const note of r.notes) lines.push(`Note: ${note}`);
  lines.push(r.disclaimer);
  return lines.join('\n');
}

function event(e: AnalysisResult['smc']['break_of_structure']): string {
  return e ? `${e.direction} at ${e.level} (${e.broken_at})` : 'none';
}
