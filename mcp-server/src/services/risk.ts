/**
 * The risk capability: position sizing for one trade idea from the account, the risk taken, entry and
 * stop, checked against the market it is placed in (ATR noise, nearest structure from the analysis
 * engine). The sizing is pure maths and is always answered; the market checks degrade to notes when
 * the market data cannot be had, and name their data source and age when it can.
 */
import { sizePosition, type PositionSize } from '../core/risk/index.js';
import { AppError, isAppError } from '../errors.js';
import { log } from '../logger.js';
import { timeframeMs, type Timeframe } from '../market/index.js';
import { formatAge } from './format-age.js';
import type { AnalysisResult, AnalysisService } from './analysis.js';
import { DISCLAIMER } from './analysis.js';

export interface RiskRequest {
  symbol: string;
  portfolio_value: number;
  risk_percentage: number;
  entry_price: number;
  stop_loss: number;
  take_profit?: number | undefined;
  side?: 'long' | 'short' | undefined;
  fee_rate: number;
  timeframe: Timeframe;
  atr_stop_multiple: number;
  win_rate?: number | undefined;
  payoff_ratio?: number | undefined;
  exchange?: string | undefined;
}

export const RISK_WARNING_CODES = [
  'STOP_WRONG_SIDE',
  'TARGET_WRONG_SIDE',
  'STOP_INSIDE_NOISE',
  'POSITION_OVER_20_PCT',
  'POSITION_NEEDS_LEVERAGE',
  'RISK_OVER_3_PCT',
  'REWARD_BELOW_RISK',
  'STOP_BEFORE_STRUCTURE',
  'ENTRY_FAR_FROM_PRICE',
  'RISK_ABOVE_KELLY',
] as const;

export interface RiskWarning {
  code: (typeof RISK_WARNING_CODES)[number];
  severity: 'warning' | 'critical';
  message: string;
}

/** Market problems that leave the sizing answerable; a mistyped symbol is still an error. */
const DEGRADABLE = new Set([
  'EXCHANGE_UNAVAILABLE',
  'RATE_LIMITED',
  'DATA_UNAVAILABLE',
  'INSUFFICIENT_DATA',
  'UNSUPPORTED_TIMEFRAME',
]);
/**
 * Market data older than this many candles says nothing about where price is now (the offline
 * snapshot is months old): checks against the current price are left out, with a note.
 */
const STALE_CANDLES = 3;
/** A stop closer than this many ATRs sits inside the candles' ordinary range. */
const NOISE_ATR = 1;
/** An entry further than this many ATRs from the last close is a plan for later, not now. */
const FAR_ENTRY_ATR = 5;
const ANALYSIS_CANDLES = 500;

export class RiskService {
  constructor(private readonly analysis: Pick<AnalysisService, 'analyze'>) {}

  async assess(req: RiskRequest) {
    const notes: string[] = [];
    const side = req.side ?? inferSide(req, notes);
    const market = await this.marketView(req, notes);
    const atr = market?.volatility.atr;
    const size = sizePosition({
      account: req.portfolio_value,
      riskPct: req.risk_percentage,
      entry: req.entry_price,
      stop: req.stop_loss,
      side,
      feeRate: req.fee_rate,
      atrStopMultiple: req.atr_stop_multiple,
      ...(req.take_profit !== undefined && { takeProfit: req.take_profit }),
      ...(atr !== undefined && atr > 0 && { atr }),
      ...(req.win_rate !== undefined && { winRate: req.win_rate }),
      ...(req.payoff_ratio !== undefined && { payoffRatio: req.payoff_ratio }),
    });
    const structure = market ? nearestStructure(market, req.entry_price) : null;
    const current = market !== null && isCurrent(market);
    if (market && !current) {
      notes.push(
        `The market data is ${formatAge(market.data_age_ms)} old, so the checks against the current price ` +
          '(entry far from price, stop in front of structure) are left out; ATR and levels are as of ' +
          `${market.as_of}.`,
      );
    }
    const warnings = riskWarnings(
      req,
      side,
      size,
      current ? market : null,
      current ? structure : null,
      market,
    );
    const kellyNote =
      size.kelly === null
        ? 'Kelly size needs both win_rate and payoff_ratio (e.g. from a historical_backtest of the strategy); ' +
          'without a measured edge it would be a guess, so it is left out.'
        : null;

    return {
      symbol: market?.symbol ?? req.symbol,
      side,
      side_inferred: req.side === undefined,
      portfolio_value: req.portfolio_value,
      risk_percentage: req.risk_percentage,
      entry_price: req.entry_price,
      stop_loss: req.stop_loss,
      take_profit: req.take_profit ?? null,
      fee_rate: req.fee_rate,
      risk_amount: size.riskAmount,
      stop_distance: size.stopDistance,
      stop_distance_pct: round(size.stopDistancePct, 4),
      position_size: size.quantity,
      position_value: size.positionValue,
      position_pct_of_portfolio: round(size.positionPctOfAccount, 4),
      max_loss: size.maxLoss,
      fees: {
        entry: size.fees.entry,
        exit_at_stop: size.fees.exitAtStop,
        exit_at_target: size.fees.exitAtTarget,
      },
      breakeven_price: size.breakevenPrice,
      risk_reward: roundN(size.riskReward, 4),
      risk_reward_after_fees: roundN(size.riskRewardAfterFees, 4),
      volatility_adjusted:
        size.volatilityAdjusted && !size.stopOnWrongSide
          ? {
              timeframe: req.timeframe,
              atr: size.volatilityAdjusted.atr,
              atr_stop_multiple: req.atr_stop_multiple,
              stop_distance: size.volatilityAdjusted.stopDistance,
              position_size: size.volatilityAdjusted.quantity,
              position_value: size.volatilityAdjusted.positionValue,
            }
          : null,
      stop_in_atr: roundN(size.stopInAtr, 4),
      kelly: size.kelly
        ? {
            win_rate: req.win_rate!,
            payoff_ratio: req.payoff_ratio!,
            fraction: round(size.kelly.fraction, 6),
            risk_amount: size.kelly.riskAmount,
            position_size: size.kelly.quantity,
            position_value: size.kelly.positionValue,
            half_kelly_fraction: round(size.kelly.halfFraction, 6),
            half_kelly_position_size: size.kelly.halfQuantity,
            half_kelly_position_value: size.kelly.halfPositionValue,
          }
        : null,
      kelly_note: kellyNote,
      structure,
      market: market
        ? {
            timeframe: market.timeframe,
            last_close: market.price.last_close,
            data_source: market.data_source,
            exchange: market.exchange,
            as_of: market.as_of,
            data_age_ms: market.data_age_ms,
            candles: market.candles,
          }
        : null,
      warnings,
      risk_level: riskLevel(req.risk_percentage, warnings),
      notes,
      disclaimer: DISCLAIMER,
    };
  }

  /** The analysis of the market the trade is placed in, or null with a note when it cannot be had. */
  private async marketView(req: RiskRequest, notes: string[]): Promise<AnalysisResult | null> {
    try {
      const view = await this.analysis.analyze({
        symbol: req.symbol,
        timeframe: req.timeframe,
        exchange: req.exchange,
        limit: ANALYSIS_CANDLES,
        higher_timeframe: 'none',
      });
      notes.push(...view.notes);
      return view;
    } catch (err) {
      if (!isAppError(err) || !DEGRADABLE.has(err.code)) throw err;
      log.debug('risk assessment without market data', { code: err.code });
      notes.push(
        `Sized without market checks (ATR, structure): ${err.message} The sizing itself does not need market data.`,
      );
      return null;
    }
  }
}

/** Direction from the stop: a stop below entry protects a long. */
function inferSide(req: RiskRequest, notes: string[]): 'long' | 'short' {
  if (req.stop_loss === req.entry_price) {
    throw new AppError(
      'INVALID_ARGUMENT',
      'stop_loss equals entry_price: a stop needs a distance to size a position.',
    );
  }
  // The stop is required and defines the risk, so it decides; a target on the other side is flagged.
  const side = req.stop_loss < req.entry_price ? 'long' : 'short';
  notes.push(
    `side not given: taken as ${side} because stop_loss is ${side === 'long' ? 'below' : 'above'} entry_price. ` +
      'Pass side to be explicit.',
  );
  return side;
}

type Level = { price: number; kind: string; distance_pct: number };

/** The support and resistance nearest to the entry, from the analysis' key levels. */
function nearestStructure(
  view: AnalysisResult,
  entry: number,
): {
  timeframe: string;
  support_below_entry: Level | null;
  resistance_above_entry: Level | null;
  supports: Level[];
  resistances: Level[];
} {
  const levels: Level[] = [...view.key_levels.support, ...view.key_levels.resistance].map((l) => ({
    price: l.price,
    kind: l.kind,
    distance_pct: round(((l.price - entry) / entry) * 100, 4),
  }));
  const below = levels.filter((l) => l.price < entry).sort((a, b) => b.price - a.price);
  const above = levels.filter((l) => l.price > entry).sort((a, b) => a.price - b.price);
  return {
    timeframe: view.timeframe,
    support_below_entry: below[0] ?? null,
    resistance_above_entry: above[0] ?? null,
    supports: below.slice(0, 3),
    resistances: above.slice(0, 3),
  };
}

/** Whether the analysis describes the market as it is now, not months ago. */
function isCurrent(view: AnalysisResult): boolean {
  return view.data_age_ms <= STALE_CANDLES * timeframeMs(view.timeframe as Timeframe);
}

/**
 * `current` is the market view when it is recent enough for price-relative checks, else null;
 * `volatility` may be older: ATR still measures how much the market moves.
 */
function riskWarnings(
  req: RiskRequest,
  side: 'long' | 'short',
  size: PositionSize,
  current: AnalysisResult | null,
  structure: ReturnType<typeof nearestStructure> | null,
  volatility: AnalysisResult | null,
): RiskWarning[] {
  const w: RiskWarning[] = [];
  if (size.stopOnWrongSide) {
    w.push({
      code: 'STOP_WRONG_SIDE',
      severity: 'critical',
      message:
        `For a ${side} the stop must be ${side === 'long' ? 'below' : 'above'} entry (${req.entry_price}); ` +
        `${req.stop_loss} is not, so no size is given. Fix stop_loss or side.`,
    });
  }
  if (size.targetOnWrongSide) {
    w.push({
      code: 'TARGET_WRONG_SIDE',
      severity: 'critical',
      message: `For a ${side} the take_profit must be ${side === 'long' ? 'above' : 'below'} entry; ${req.take_profit} is not.`,
    });
  }
  if (size.stopInAtr !== null && !size.stopOnWrongSide && size.stopInAtr < NOISE_ATR) {
    w.push({
      code: 'STOP_INSIDE_NOISE',
      severity: 'warning',
      message:
        `The stop is ${size.stopInAtr.toFixed(2)} ATR from entry (ATR ${fmt(volatility!.volatility.atr)} on ${req.timeframe}): ` +
        `ordinary ${req.timeframe} swings are likely to hit it. Widen it to about ${req.atr_stop_multiple} ATR ` +
        'and take the volatility-adjusted size.',
    });
  }
  if (size.positionPctOfAccount > 100) {
    w.push({
      code: 'POSITION_NEEDS_LEVERAGE',
      severity: 'critical',
      message:
        `The position would be ${size.positionPctOfAccount.toFixed(1)} % of the portfolio: more than it holds, ` +
        'so it needs leverage. The stop is too tight for this risk; widen it or risk less.',
    });
  } else if (size.positionPctOfAccount > 20) {
    w.push({
      code: 'POSITION_OVER_20_PCT',
      severity: 'warning',
      message: `The position would be ${size.positionPctOfAccount.toFixed(1)} % of the portfolio, over 20 %: a gap through the stop would cost far more than planned.`,
    });
  }
  if (req.risk_percentage > 3) {
    w.push({
      code: 'RISK_OVER_3_PCT',
      severity: 'warning',
      message: `Risking ${req.risk_percentage} % of the portfolio on one trade: ten losses in a row would cost about ${(100 * (1 - (1 - req.risk_percentage / 100) ** 10)).toFixed(0)} %. 1-2 % is usual.`,
    });
  }
  if (size.riskRewardAfterFees !== null && !size.targetOnWrongSide && size.riskRewardAfterFees < 1) {
    w.push({
      code: 'REWARD_BELOW_RISK',
      severity: 'warning',
      message: `After fees the target pays ${size.riskRewardAfterFees.toFixed(2)} times the risk: the trade needs a win rate above ${(100 / (1 + size.riskRewardAfterFees)).toFixed(0)} % to break even.`,
    });
  }
  if (structure && !size.stopOnWrongSide) {
    const level = side === 'long' ? structure.support_below_entry : structure.resistance_above_entry;
    const beyond = level && (side === 'long' ? req.stop_loss < level.price : req.stop_loss > level.price);
    if (level && !beyond) {
      w.push({
        code: 'STOP_BEFORE_STRUCTURE',
        severity: 'warning',
        message:
          `The stop sits ${side === 'long' ? 'above' : 'below'} the nearest ${side === 'long' ? 'support' : 'resistance'} ` +
          `(${level.kind} at ${fmt(level.price)}): a sweep of that level would stop the trade before the idea is wrong. ` +
          `A stop just ${side === 'long' ? 'below' : 'above'} it is usual.`,
      });
    }
  }
  if (size.kelly && !size.stopOnWrongSide && req.risk_percentage / 100 > size.kelly.fraction) {
    w.push({
      code: 'RISK_ABOVE_KELLY',
      severity: 'warning',
      message:
        `Risking ${req.risk_percentage} % is more than the full Kelly fraction (${(size.kelly.fraction * 100).toFixed(2)} %) ` +
        'for this win rate and payoff: above Kelly, growth falls as risk rises. Half Kelly or less is usual.',
    });
  }
  const market = current;
  if (market && market.volatility.atr > 0) {
    const away = Math.abs(req.entry_price - market.price.last_close) / market.volatility.atr;
    if (away > FAR_ENTRY_ATR) {
      w.push({
        code: 'ENTRY_FAR_FROM_PRICE',
        severity: 'warning',
        message: `Entry is ${away.toFixed(1)} ATR from the last close (${fmt(market.price.last_close)}); check the price and the symbol.`,
      });
    }
  }
  return w;
}

/** low: under 1 % at risk with no warning; high: over 3 %, or any critical warning; else medium. */
function riskLevel(riskPct: number, warnings: RiskWarning[]): 'low' | 'medium' | 'high' {
  if (riskPct > 3 || warnings.some((w) => w.severity === 'critical')) return 'high';
  if (riskPct <= 1 && warnings.length === 0) return 'low';
  return 'medium';
}

const round = (x: number, digits: number) => Number(x.toFixed(digits));
const roundN = (x: number | null, digits: number) => (x === null ? null : round(x, digits));
const fmt = (x: number) => Number(x.toPrecision(6)).toString();

export type RiskResult = Awaited<ReturnType<RiskService['assess']>>;
