/**
 * Recommendations that follow from a portfolio's measured risk and the owner's risk level. Each one
 * names the figure that triggered it and the limit it broke, so an agent can explain it and a trader
 * can check it.
 */
import type { PortfolioRisk } from '../core/risk/index.js';

export type RiskLevel = 'conservative' | 'moderate' | 'aggressive';

export interface RiskLimits {
  /** Largest share of the portfolio in one position, %. */
  max_position_pct: number;
  /** One-day historical VaR at 95 %, % of the portfolio. */
  max_one_day_var95_pct: number;
  /** Max drawdown of the current holdings over the lookback, %. */
  max_drawdown_pct: number;
  /** Correlation above which two holdings count as one bet. */
  max_pair_correlation: number;
  /** Fewest effective positions (1 / Herfindahl). */
  min_effective_positions: number;
  /** Beta to the benchmark above which the portfolio amplifies the market. */
  max_beta: number;
}

export const RISK_LIMITS: Record<RiskLevel, RiskLimits> = {
  conservative: {
    max_position_pct: 25,
    max_one_day_var95_pct: 3,
    max_drawdown_pct: 15,
    max_pair_correlation: 0.7,
    min_effective_positions: 5,
    max_beta: 0.8,
  },
  moderate: {
    max_position_pct: 40,
    max_one_day_var95_pct: 5,
    max_drawdown_pct: 25,
    max_pair_correlation: 0.8,
    min_effective_positions: 3,
    max_beta: 1.2,
  },
  aggressive: {
    max_position_pct: 60,
    max_one_day_var95_pct: 8,
    max_drawdown_pct: 40,
    max_pair_correlation: 0.9,
    min_effective_positions: 2,
    max_beta: 1.6,
  },
};

export const RECOMMENDATION_CODES = [
  'CONCENTRATION',
  'VAR_ABOVE_LIMIT',
  'DRAWDOWN_ABOVE_LIMIT',
  'CORRELATED_HOLDINGS',
  'FEW_EFFECTIVE_POSITIONS',
  'HIGH_BETA',
  'NEGATIVE_RISK_ADJUSTED_RETURN',
  'WITHIN_LIMITS',
] as const;

export interface PortfolioRecommendation {
  severity: 'info' | 'warning' | 'critical';
  code: (typeof RECOMMENDATION_CODES)[number];
  message: string;
  /** The measured figure and the limit it is compared with. */
  value: number | null;
  limit: number | null;
}

export interface RecommendationInput {
  level: RiskLevel;
  symbols: string[];
  /** Current weights of the positions (cash included in the total). */
  weights: number[];
  /** 1 / Herfindahl of the current invested weights. */
  effectivePositions: number;
  risk: PortfolioRisk;
  /** Historical VaR 95 % scaled to one day (square root of time), fraction. */
  oneDayVar95: number;
  interval: string;
  /** Annual; Sharpe below 0 means "below this rate", which is a loss only when it is 0. */
  riskFreeRate: number;
}

const pct = (x: number) => Math.round(x * 1000) / 10;

export function recommendPortfolioActions(input: RecommendationInput): PortfolioRecommendation[] {
  const { level, symbols, weights, risk } = input;
  const limits = RISK_LIMITS[level];
  const out: PortfolioRecommendation[] = [];

  weights.forEach((w, i) => {
    if (w * 100 > limits.max_position_pct) {
      out.push({
        severity: w * 100 > limits.max_position_pct * 1.5 ? 'critical' : 'warning',
        code: 'CONCENTRATION',
        message:
          `${symbols[i]} is ${pct(w)} % of the portfolio, above the ${limits.max_position_pct} % ${level} limit; ` +
          `trim it by about ${pct(w - limits.max_position_pct / 100)} % of the portfolio.`,
        value: pct(w),
        limit: limits.max_position_pct,
      });
    }
  });

  const var95 = input.oneDayVar95 * 100;
  if (var95 > limits.max_one_day_var95_pct) {
    const keep = limits.max_one_day_var95_pct / var95;
    out.push({
      severity: var95 > limits.max_one_day_var95_pct * 1.5 ? 'critical' : 'warning',
      code: 'VAR_ABOVE_LIMIT',
      message:
        `One-day 95 % VaR is ${pct(input.oneDayVar95)} % of the portfolio, above the ${limits.max_one_day_var95_pct} % ` +
        `${level} limit; holding about ${pct(1 - keep)} % less of the risky positions (in cash) would bring it within.`,
      value: pct(input.oneDayVar95),
      limit: limits.max_one_day_var95_pct,
    });
  }

  const dd = risk.maxDrawdown.drawdown * 100;
  if (dd > limits.max_drawdown_pct) {
    out.push({
      severity: 'warning',
      code: 'DRAWDOWN_ABOVE_LIMIT',
      message:
        `These holdings fell ${pct(risk.maxDrawdown.drawdown)} % from peak to trough over the lookback, more than the ` +
        `${limits.max_drawdown_pct} % a ${level} portfolio tolerates; expect such falls again with this mix.`,
      value: pct(risk.maxDrawdown.drawdown),
      limit: limits.max_drawdown_pct,
    });
  }

  const correlated: string[] = [];
  let highest = 0;
  for (let i = 0; i < symbols.length; i++) {
    for (let j = i + 1; j < symbols.length; j++) {
      const c = risk.correlation[i]![j];
      if (c !== null && c !== undefined && c > limits.max_pair_correlation) {
        correlated.push(`${symbols[i]}/${symbols[j]} ${c.toFixed(2)}`);
        highest = Math.max(highest, c);
      }
    }
  }
  if (correlated.length > 0) {
    out.push({
      severity: 'warning',
      code: 'CORRELATED_HOLDINGS',
      message:
        `${correlated.length} pair(s) move together above the ${limits.max_pair_correlation} ${level} limit ` +
        `(${correlated.slice(0, 5).join(', ')}${correlated.length > 5 ? ', ...' : ''}): they act as one bet; ` +
        'diversify into less correlated assets or size them as one position.',
      value: Math.round(highest * 100) / 100,
      limit: limits.max_pair_correlation,
    });
  }

  if (input.effectivePositions < limits.min_effective_positions) {
    out.push({
      severity: 'info',
      code: 'FEW_EFFECTIVE_POSITIONS',
      message:
        symbols.length === 1
          ? `A single asset has no diversification; a ${level} portfolio aims for at least ` +
            `${limits.min_effective_positions} equally sized positions.`
          : `The weights amount to ${input.effectivePositions.toFixed(1)} equally sized positions (1/Herfindahl), ` +
            `fewer than the ${limits.min_effective_positions} a ${level} portfolio aims for.`,
      value: Math.round(input.effectivePositions * 10) / 10,
      limit: limits.min_effective_positions,
    });
  }

  if (risk.beta !== null && risk.beta > limits.max_beta) {
    out.push({
      severity: 'warning',
      code: 'HIGH_BETA',
      message:
        `Beta to the benchmark is ${risk.beta.toFixed(2)}: a 10 % fall in it has meant about ` +
        `${(risk.beta * 10).toFixed(1)} % for this portfolio, above the ${limits.max_beta} ${level} limit.`,
      value: Math.round(risk.beta * 100) / 100,
      limit: limits.max_beta,
    });
  }

  if (risk.sharpe !== null && risk.sharpe < 0) {
    out.push({
      severity: 'info',
      code: 'NEGATIVE_RISK_ADJUSTED_RETURN',
      message:
        (input.riskFreeRate > 0
          ? `These holdings earned less than the ${(input.riskFreeRate * 100).toFixed(2)} % risk-free rate over the lookback (Sharpe ${risk.sharpe.toFixed(2)} on `
          : `These holdings lost money over the lookback for the risk taken (Sharpe ${risk.sharpe.toFixed(2)} on `) +
        `${input.interval} returns); review whether each position still has a reason to be held.`,
      value: Math.round(risk.sharpe * 100) / 100,
      limit: 0,
    });
  }

  if (out.length === 0) {
    out.push({
      severity: 'info',
      code: 'WITHIN_LIMITS',
      message: `Every measure checked is within the ${level} limits.`,
      value: null,
      limit: null,
    });
  }
  const rank = { critical: 0, warning: 1, info: 2 } as const;
  return out.sort((a, b) => rank[a.severity] - rank[b.severity]);
}
