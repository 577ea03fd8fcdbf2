/**
 * `buildReport`: the full analysis of one closed-candle series. Pure: the same candles give the same
 * report, and only candles up to the last one are read, so the report at bar t never sees bar t+1.
 */
import type { Candles } from '../candles.js';
import { adx, atr, bollinger, ema, macd, obv, rsi, sma, stochastic, vwap } from '../indicators/index.js';
import { analyzeSmc, type Swing } from '../smc/index.js';
import { adxStrength, combineTrend, emaAlignment, seriesTrend, swingStructure } from './trend.js';
import { activeOrderBlocks, keyLevels, liquidityZones, openFairValueGaps, structureEvent } from './zones.js';
import { compareSeries } from './comparison.js';
import { decide, MIN_RISK_REWARD, tradePlan } from './recommendation.js';
import type { Direction, MarketReport, Reason, Trend } from './types.js';
import { iso, lastFinite, pct, round } from './util.js';

export const MIN_REPORT_CANDLES = 100;
/** Fewer higher-timeframe candles than this give no confluence (EMA 50 and swings need the history). */
export const MIN_HIGHER_CANDLES = 60;

export interface ReportOptions {
  /** Bars on each side that confirm a swing (default 5). */
  swingLength?: number;
  /** Higher-timeframe candles for confluence, all closed by the last candle of the main series. */
  higher?: { timeframe: string; candles: Candles };
  /**
   * Whether the candles are intraday, so a VWAP of the current UTC day means something (default true).
   * On daily and longer candles the "session" is a single bar and the field is null.
   */
  intraday?: boolean;
  /** A second symbol's candles on the same timeframe; `closeTime` maps an open time to its close. */
  comparison?: { symbol: string; candles: Candles; closeTime: (openTime: number) => number };
}

export function buildReport(c: Candles, opts: ReportOptions = {}): MarketReport {
  const n = c.close.length;
  if (n < MIN_REPORT_CANDLES)
    throw new RangeError(`buildReport needs at least ${MIN_REPORT_CANDLES} candles, got ${n}`);
  const swingLength = opts.swingLength ?? 5;
  const last = n - 1;
  const close = c.close[last]!;
  const at = (i: number) => iso(c.time[i]!);

  // Indicators (TA-Lib conventions; NaN during warm-up).
  const ema20 = ema(c.close, 20)[last]!;
  const ema50 = ema(c.close, 50)[last]!;
  const ema200 = n > 200 ? ema(c.close, 200)[last]! : null;
  const sma20 = sma(c.close, 20)[last]!;
  const sma50 = sma(c.close, 50)[last]!;
  const sma200 = n >= 200 ? sma(c.close, 200)[last]! : null;
  const rsiSeries = rsi(c.close, 14);
  const rsiNow = rsiSeries[last]!;
  const m = macd(c.close, 12, 26, 9);
  const bb = bollinger(c.close, 20, 2);
  const atrSeries = atr(c.high, c.low, c.close, 14);
  const atrNow = atrSeries[last]!;
  const dmi = adx(c.high, c.low, c.close, 14);
  const st = stochastic(c.high, c.low, c.close, 14, 3, 3);
  const obvSeries = obv(c.close, c.volume);
  const sessionVwap = opts.intraday === false ? NaN : vwap(c, { anchor: 'session' })[last]!;

  // Smart-money structure.
  const smc = analyzeSmc(c, { swingLength });
  const lastBreak = smc.structure.at(-1);
  const lastBos = smc.structure.filter((e) => e.type === 'BOS').at(-1);
  const lastChoch = smc.structure.filter((e) => e.type === 'CHoCH').at(-1);
  const swingHigh = smc.swings.filter((s) => s.type === 'high').at(-1);
  const swingLow = smc.swings.filter((s) => s.type === 'low').at(-1);

  // Trend.
  const alignment = emaAlignment(close, ema20, ema50, ema200);
  const swingView = swingStructure(smc.swings);
  const adxNow = lastFinite(dmi.adx);
  const plusDi = lastFinite(dmi.plusDI);
  const minusDi = lastFinite(dmi.minusDI);
  const direction = combineTrend([lastBreak?.direction, swingView.bias, alignment]);

  // Volatility.
  const atrPct = pct(atrNow, close);
  const atrPercentile = percentileOfLast(atrSeries, c.close, 200);
  const bbUpper = bb.upper[last]!;
  const bbLower = bb.lower[last]!;
  const bbMiddle = bb.middle[last]!;

  // Zones and levels.
  const orderBlocks = activeOrderBlocks(c, smc.orderBlocks, close);
  const gaps = openFairValueGaps(c, smc.fairValueGaps, close);
  const pools = liquidityZones(c, smc.liquidity, close);
  const levels = keyLevels(c, close, smc.swings, orderBlocks, gaps, pools, 0.25 * atrNow);

  const anchorIndex = lastBreak?.swingIndex ?? null;
  const anchoredVwap = anchorIndex === null ? null : vwap(c, { anchor: 'index', index: anchorIndex })[last]!;
  const divergence = rsiDivergence(smc.swings, rsiSeries);

  // Higher timeframe.
  let htfTrend: Trend | null = null;
  let confluence: MarketReport['confluence'] = null;
  if (opts.higher && opts.higher.candles.close.length >= MIN_HIGHER_CANDLES) {
    const h = opts.higher.candles;
    const hSmc = analyzeSmc(h, { swingLength });
    htfTrend = seriesTrend(h, hSmc.swings, hSmc.structure);
    const hLast = hSmc.structure.at(-1);
    confluence = {
      timeframe: opts.higher.timeframe,
      trend: htfTrend,
      last_structure: hLast ? structureEvent(h, hLast) : null,
      agrees: null,
    };
  }

  // Reasons -> score -> action.
  const reasons: Reason[] = [];
  const add = (factor: string, score: number, detail: string) => {
    if (score !== 0) reasons.push({ factor, score: round(score, 6), detail });
  };
  if (lastBreak) {
    const age = last - lastBreak.index;
    const weight = (lastBreak.type === 'BOS' ? 25 : 20) * (age > 100 ? 0.5 : 1);
    add(
      'market structure',
      sign(lastBreak.direction) * weight,
      `${lastBreak.direction} ${lastBreak.type} through ${fmt(lastBreak.level)} at ${at(lastBreak.index)} (${age} candles ago)`,
    );
  }
  if (alignment !== 'mixed')
    add(
      'EMA alignment',
      sign(alignment) * 15,
      `close, EMA20, EMA50${ema200 === null ? '' : ', EMA200'} stacked ${alignment}`,
    );
  if (adxNow !== null && plusDi !== null && minusDi !== null && adxNow >= 20) {
    const dir: Direction = plusDi >= minusDi ? 'bullish' : 'bearish';
    add(
      'ADX/DI',
      sign(dir) * 10 * Math.min(1, adxNow / 40),
      `ADX ${fmt(adxNow, 3)} with +DI ${fmt(plusDi, 3)} vs -DI ${fmt(minusDi, 3)}`,
    );
  }
  const hist = m.histogram[last]!;
  const histPrev = m.histogram[last - 1]!;
  if (Number.isFinite(hist) && Number.isFinite(histPrev)) {
    const rising = hist > histPrev;
    const s = hist > 0 ? (rising ? 10 : 5) : rising ? -5 : -10;
    add('MACD', s, `histogram ${fmt(hist, 4)} and ${rising ? 'rising' : 'falling'}`);
  }
  if (rsiNow >= 70) add('RSI', -10, `RSI ${fmt(rsiNow, 3)} overbought`);
  else if (rsiNow <= 30) add('RSI', 10, `RSI ${fmt(rsiNow, 3)} oversold`);
  else add('RSI', rsiNow >= 50 ? 5 : -5, `RSI ${fmt(rsiNow, 3)} ${rsiNow >= 50 ? 'above' : 'below'} 50`);
  const nearZone = (type: Direction) =>
    [...orderBlocks, ...gaps].find((z) => z.type === type && (z.distance_pct / 100) * close <= 0.5 * atrNow);
  const demand = nearZone('bullish');
  const supply = nearZone('bearish');
  if (demand)
    add(
      'demand zone',
      15,
      `price at a ${'strength' in demand ? 'bullish order block' : 'bullish fair value gap'} ${fmt(demand.bottom)}-${fmt(demand.top)}`,
    );
  if (supply)
    add(
      'supply zone',
      -15,
      `price at a ${'strength' in supply ? 'bearish order block' : 'bearish fair value gap'} ${fmt(supply.bottom)}-${fmt(supply.top)}`,
    );
  const recentSweep = smc.liquidity
    .filter((p) => p.sweptIndex !== null && last - p.sweptIndex <= 10)
    .sort((a, b) => b.sweptIndex! - a.sweptIndex!)[0];
  if (recentSweep) {
    const s = recentSweep.type === 'sell-side' ? 10 : -10;
    add(
      'liquidity sweep',
      s,
      `${recentSweep.type} liquidity at ${fmt(recentSweep.level)} swept at ${at(recentSweep.sweptIndex!)}`,
    );
  }
  if (divergence !== 'none')
    add('RSI divergence', sign(divergence) * 10, `${divergence} divergence between the last two swings`);
  if (htfTrend && htfTrend !== 'neutral')
    add('higher timeframe', sign(htfTrend) * 10, `${opts.higher!.timeframe} trend ${htfTrend}`);

  let decision = decide(reasons);
  const opposing = (action: 'BUY' | 'SELL' | 'HOLD') =>
    action === 'BUY' ? levels.resistance : levels.support;
  const stopSide = (action: 'BUY' | 'SELL' | 'HOLD') =>
    action === 'BUY' ? levels.support : levels.resistance;
  let plan = tradePlan(decision.action, close, atrNow, stopSide(decision.action), opposing(decision.action));
  if (plan.risk_reward !== null && plan.risk_reward < MIN_RISK_REWARD) {
    // The evidence leans one way, but the level in the way pays less than the stop risks: no trade.
    const first = plan.targets[0]!;
    reasons.push({
      factor: 'risk/reward',
      score: 0,
      detail:
        `${decision.action} rejected: the first target, ${first.basis} at ${fmt(first.price)}, pays ` +
        `${fmt(plan.risk_reward, 3)}R against the stop at ${fmt(plan.stop_loss!)} (at least ${MIN_RISK_REWARD}R needed)`,
    });
    decision = {
      ...decision,
      action: 'HOLD',
      confidence: Math.max(0, Math.round(100 - 2 * Math.abs(decision.score))),
    };
    plan = tradePlan('HOLD', close, atrNow, [], []);
  }
  if (confluence && decision.action !== 'HOLD') {
    confluence.agrees = htfTrend === (decision.action === 'BUY' ? 'bullish' : 'bearish');
  }

  let comparison: MarketReport['comparison'] = null;
  if (opts.comparison) {
    const cmp = compareSeries(c, opts.comparison.candles);
    if (cmp) {
      comparison = {
        symbol: opts.comparison.symbol,
        correlation: cmp.correlation === null ? null : round(cmp.correlation, 6),
        beta: cmp.beta === null ? null : round(cmp.beta, 6),
        relative_strength_pct: round(cmp.relativeStrengthPct, 6),
        common_candles: cmp.commonCandles,
        window_start: iso(cmp.firstTime),
        as_of: iso(opts.comparison.closeTime(cmp.lastTime)),
      };
    }
  }

  let hi = -Infinity;
  let lo = Infinity;
  for (let i = 0; i < n; i++) {
    if (c.high[i]! > hi) hi = c.high[i]!;
    if (c.low[i]! < lo) lo = c.low[i]!;
  }
  const obvChange = obvSeries[last]! - obvSeries[Math.max(0, last - 20)]!;
  let vol20 = 0;
  for (let i = Math.max(0, last - 19); i <= last; i++) vol20 += c.volume[i]!;

  return {
    price: {
      last_close: close,
      change_pct: round(pct(close - c.close[0]!, c.close[0]!), 6),
      high: hi,
      low: lo,
    },
    trend: {
      direction,
      structure: swingView.label,
      ema_alignment: alignment,
      adx: adxNow === null ? null : round(adxNow, 6),
      plus_di: plusDi === null ? null : round(plusDi, 6),
      minus_di: minusDi === null ? null : round(minusDi, 6),
      strength: adxStrength(adxNow),
    },
    volatility: {
      atr: round(atrNow),
      atr_pct: round(atrPct, 6),
      regime: atrPercentile < 25 ? 'low' : atrPercentile > 75 ? 'high' : 'normal',
      atr_percentile: round(atrPercentile, 4),
      bollinger: {
        upper: round(bbUpper),
        middle: round(bbMiddle),
        lower: round(bbLower),
        bandwidth_pct: round(pct(bbUpper - bbLower, bbMiddle), 6),
        percent_b: round(bbUpper === bbLower ? 0.5 : (close - bbLower) / (bbUpper - bbLower), 6),
      },
    },
    indicators: {
      rsi: round(rsiNow, 6),
      macd: { macd: round(m.macd[last]!), signal: round(m.signal[last]!), histogram: round(hist) },
      stochastic: { k: round(st.k[last]!, 6), d: round(st.d[last]!, 6) },
      ema: { ema20: round(ema20), ema50: round(ema50), ema200: ema200 === null ? null : round(ema200) },
      sma: { sma20: round(sma20), sma50: round(sma50), sma200: sma200 === null ? null : round(sma200) },
      obv_slope: Math.abs(obvChange) < 0.1 * vol20 ? 'flat' : obvChange > 0 ? 'rising' : 'falling',
      vwap: {
        // NaN when the current day has no volume yet (illiquid pairs): no value rather than a made-up one.
        session: Number.isFinite(sessionVwap) ? round(sessionVwap) : null,
        anchored: anchoredVwap === null || !Number.isFinite(anchoredVwap) ? null : round(anchoredVwap),
        anchored_at: anchorIndex === null ? null : at(anchorIndex),
      },
      rsi_divergence: divergence,
    },
    smc: {
      swing_length: swingLength,
      last_swing_high: swingHigh ? { price: swingHigh.level, at: at(swingHigh.index) } : null,
      last_swing_low: swingLow ? { price: swingLow.level, at: at(swingLow.index) } : null,
      break_of_structure: lastBos ? structureEvent(c, lastBos) : null,
      change_of_character: lastChoch ? structureEvent(c, lastChoch) : null,
      recent_structure: smc.structure.slice(-5).map((e) => structureEvent(c, e)),
      order_blocks: orderBlocks,
      fair_value_gaps: gaps,
      liquidity_zones: pools,
    },
    key_levels: levels,
    confluence,
    comparison,
    recommendation: { ...decision, ...plan, reasons },
  };
}

const sign = (d: Direction): number => (d === 'bullish' ? 1 : -1);
const fmt = (x: number, digits = 8): string => String(round(x, digits));

/** Percentile (0-100) of the last ATR% among the ATR% values of the last `window` bars. */
function percentileOfLast(atrSeries: Float64Array, close: Float64Array, window: number): number {
  const n = atrSeries.length;
  const current = atrSeries[n - 1]! / close[n - 1]!;
  let below = 0;
  let count = 0;
  for (let i = Math.max(0, n - window); i < n; i++) {
    const v = atrSeries[i]! / close[i]!;
    if (!Number.isFinite(v)) continue;
    count++;
    if (v < current) below++;
  }
  return count === 0 ? 50 : (below / count) * 100;
}

/** Regular divergence between price and RSI at the last two confirmed swing lows (bullish) or highs (bearish). */
function rsiDivergence(swings: Swing[], rsiSeries: Float64Array): Direction | 'none' {
  const lows = swings.filter((s) => s.type === 'low').slice(-2);
  const highs = swings.filter((s) => s.type === 'high').slice(-2);
  const lastLow = lows[1]?.confirmedIndex ?? -1;
  const lastHigh = highs[1]?.confirmedIndex ?? -1;
  const bull =
    lows.length === 2 &&
    lows[1]!.level < lows[0]!.level &&
    rsiSeries[lows[1]!.index]! > rsiSeries[lows[0]!.index]!;
  const bear =
    highs.length === 2 &&
    highs[1]!.level > highs[0]!.level &&
    rsiSeries[highs[1]!.index]! < rsiSeries[highs[0]!.index]!;
  if (bull && (!bear || lastLow > lastHigh)) return 'bullish';
  if (bear) return 'bearish';
  return 'none';
}
