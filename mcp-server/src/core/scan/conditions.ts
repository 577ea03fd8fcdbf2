/**
 * Market conditions across a scan: breadth (share of markets closing above their 50-candle EMA),
 * advancers and decliners over the last candle, and the median ATR(14) in % of price.
 */
import type { ScanSeries } from './series.js';

/** What one market contributes to the market conditions, as of bar t. */
export interface SymbolMetrics {
  /** Open time of bar t. */
  time: number;
  close: number;
  /** Change of bar t's close over the previous close, %; null on the first bar or a zero close. */
  changePct: number | null;
  /** null while EMA(50) is warming up. */
  aboveEma50: boolean | null;
  /** ATR(14) / close, %; null while ATR is warming up. */
  atrPct: number | null;
}

export function symbolMetrics(s: ScanSeries, t: number): SymbolMetrics {
  const c = s.candles;
  const close = c.close[t]!;
  const prev = t > 0 ? c.close[t - 1]! : NaN;
  const ema = s.ema50[t]!;
  const atr = s.atr[t]!;
  return {
    time: c.time[t]!,
    close,
    changePct: prev > 0 ? ((close - prev) / prev) * 100 : null,
    aboveEma50: Number.isFinite(ema) ? close > ema : null,
    atrPct: Number.isFinite(atr) && close > 0 ? (atr / close) * 100 : null,
  };
}

export interface MarketConditions {
  markets: number;
  /** Markets with an EMA(50) value, those closing above it, and their share in % (null without any). */
  breadth: { measured: number; aboveEma50: number; pct: number | null };
  lastCandle: { advancers: number; decliners: number; unchanged: number; medianChangePct: number | null };
  medianAtrPct: number | null;
}

export function marketConditions(metrics: readonly SymbolMetrics[]): MarketConditions {
  let measured = 0;
  let above = 0;
  let advancers = 0;
  let decliners = 0;
  let unchanged = 0;
  const changes: number[] = [];
  const atrs: number[] = [];
  for (const m of metrics) {
    if (m.aboveEma50 !== null) {
      measured++;
      if (m.aboveEma50) above++;
    }
    if (m.changePct !== null) {
      changes.push(m.changePct);
      if (m.changePct > 0) advancers++;
      else if (m.changePct < 0) decliners++;
      else unchanged++;
    }
    if (m.atrPct !== null) atrs.push(m.atrPct);
  }
  return {
    markets: metrics.length,
    breadth: { measured, aboveEma50: above, pct: measured === 0 ? null : (above / measured) * 100 },
    lastCandle: { advancers, decliners, unchanged, medianChangePct: median(changes) },
    medianAtrPct: median(atrs),
  };
}

/** Median of the finite values; null when there are none. */
export function median(values: readonly number[]): number | null {
  const xs = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const mid = xs.length >> 1;
  return xs.length % 2 === 1 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2;
}
