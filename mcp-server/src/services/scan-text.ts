/** Plain-text summaries of market_scanner and detect_opportunities answers for clients that ignore structured content. */
import { formatAge } from './format-age.js';
import type { OpportunitiesResult } from './opportunities.js';
import type { ScanResult } from './scanner.js';

const pct = (x: number | null) => (x === null ? 'n/a' : `${x.toFixed(2)} %`);
const num = (x: number) => String(Number(x.toPrecision(8)));

function conditionsLine(m: ScanResult['market_conditions']): string {
  const day = m.change_24h
    ? `; 24h: ${m.change_24h.advancers} up / ${m.change_24h.decliners} down (median ${pct(m.change_24h.median_change_pct)})`
    : '';
  return (
    `Market: ${pct(m.breadth_pct)} of ${m.with_ema50} markets above their 50-candle EMA; last candle ` +
    `${m.last_candle.advancers} up / ${m.last_candle.decliners} down (median ${pct(m.last_candle.median_change_pct)})` +
    `${day}; median ATR ${pct(m.median_atr_pct)} of price.`
  );
}

export function formatScanSummary(r: ScanResult): string {
  const u = r.universe;
  const lines = [
    `Scan ${r.scan_type} on ${r.timeframe}: ${u.scanned} markets scanned, ${u.skipped} skipped, ${r.hits_total} hits ` +
      `(${Object.entries(r.hits_by_type)
        .map(([t, n]) => `${t} ${n}`)
        .join(', ')}), ${r.duration_ms} ms.`,
    ...r.hits.map(
      (h) =>
        `${h.rank}. ${h.symbol} ${h.scan_type} ${h.direction} ${h.strength}/100 at ${h.signal_at}: ` +
        `${h.signals.map((s) => s.detail).join('; ')}. Invalid beyond ${num(h.invalidation.price)} (${h.invalidation.basis}).`,
    ),
    conditionsLine(r.market_conditions),
    ...u.skipped_reasons.map((s) => `Skipped ${s.count}: ${s.reason}.`),
    `Data: ${r.data_source} ${r.exchange}, as of ${r.as_of} (${formatAge(r.data_age_ms)} old).`,
    ...r.notes.map((n) => `Note: ${n}`),
    r.disclaimer,
  ];
  return lines.join('\n');
}

export function formatOpportunitiesSummary(r: OpportunitiesResult): string {
  const c = r.criteria;
  const lines = [
    `${r.ideas.length} trade ideas on ${r.timeframe} at confidence >= ${c.confidence_threshold} ` +
      `(${c.market_cap_range} liquidity; ${r.scan.scanned} markets scanned, ${r.scan.candidates_analysed} analysed), ` +
      `${r.duration_ms} ms.`,
    ...r.ideas.map(
      (i) =>
        `${i.rank}. ${i.symbol} ${i.action} (${i.direction}) confidence ${i.confidence}: entry ${num(i.entry)}, ` +
        `stop ${num(i.stop_loss)}, targets ${i.targets.map((t) => num(t.price)).join(' / ')}, R/R ${i.risk_reward}. ` +
        `Why: ${i.rationale
          .slice()
          .sort((a, b) => Math.abs(b.score) - Math.abs(a.score))
          .slice(0, 3)
          .map((x) => x.detail)
          .join('; ')}. Data as of ${i.as_of}.`,
    ),
    conditionsLine(r.market_conditions),
    `Data: ${r.data_source} ${r.exchange}, scan as of ${r.as_of} (${formatAge(r.data_age_ms)} old).`,
    ...r.notes.map((n) => `Note: ${n}`),
    r.disclaimer,
  ];
  return lines.join('\n');
}
