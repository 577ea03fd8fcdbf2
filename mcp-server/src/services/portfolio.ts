/**
 * The portfolio capability: store and read positions, price them, and measure the portfolio's risk
 * from real return series.
 *
 * Risk is a historical simulation of the current holdings: today's quantities (and cash) applied to the
 * closes of the lookback window give the value path whose returns feed VaR, CVaR, volatility, drawdown,
 * Sharpe/Sortino and beta. Positions are valued at the latest price: the exchange's ticker for live
 * data, the last closed hourly candle for the offline snapshot. All series must come from one kind of
 * source, never live candles mixed with the months-old snapshot.
 */
import { alignCloses, portfolioRisk, type PortfolioRisk } from '../core/risk/index.js';
import { AppError, isAppError } from '../errors.js';
import { log } from '../logger.js';
import { timeframeMs, DAY_MS, type CandleSeries, type MarketData } from '../market/index.js';
import type { Portfolio, PortfolioStore, Position } from '../store/types.js';
import { DISCLAIMER } from './analysis.js';
import { formatAge } from './format-age.js';
import {
  recommendPortfolioActions,
  RISK_LIMITS,
  type PortfolioRecommendation,
  type RiskLevel,
} from './portfolio-recommendations.js';

export type ReturnInterval = '1h' | '1d';

export interface PositionInput {
  symbol: string;
  quantity: number;
  entry_price: number;
  entry_time?: string | undefined;
  fees?: number | undefined;
}

export interface MonitorRequest {
  portfolio_id?: string | undefined;
  positions?: PositionInput[] | undefined;
  /** With portfolio_id and positions: replace all stored positions, or insert/replace these by symbol. */
  update_mode: 'replace' | 'upsert';
  cash?: number | undefined;
  /** The original tool's input: holdings named without quantities (an equal-weight basket), or a filter. */
  symbols?: string[] | undefined;
  risk_level: RiskLevel;
  interval: ReturnInterval;
  lookback_days: number;
  benchmark: string;
  exchange?: string | undefined;
  risk_free_rate: number;
}

const PERIODS_PER_YEAR: Record<ReturnInterval, number> = { '1h': 8760, '1d': 365 };
/** Pairs above this correlation are listed whatever the risk level. */
const LISTED_CORRELATION = 0.7;
const MAX_LISTED_PAIRS = 10;

type Holding = { symbol: string; position: Position | null };

export class PortfolioService {
  constructor(
    private readonly market: MarketData,
    private readonly store: PortfolioStore,
    private readonly now: () => number = Date.now,
  ) {}

  async monitor(req: MonitorRequest, owner: string) {
    const notes: string[] = [];
    const { portfolio, holdings, basket } = await this.holdings(req, owner, notes);
    const cash = req.cash ?? portfolio?.cash ?? 0;
    if (holdings.length === 0) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `Portfolio "${portfolio?.id ?? ''}" holds no positions to monitor; pass positions to add some.`,
      );
    }
    const quote = quoteCurrency(holdings.map((h) => h.symbol));

    const interval = req.interval;
    const perDay = DAY_MS / timeframeMs(interval);
    const limit = Math.round(req.lookback_days * perDay) + 1;
    const benchmark = await this.market.resolveSymbol(req.benchmark, req.exchange);
    const symbols = holdings.map((h) => h.symbol);
    const wanted = symbols.includes(benchmark) ? symbols : [...symbols, benchmark];
    const fetch = (symbol: string, endTime?: number) =>
      this.market.getCandles({ symbol, timeframe: interval, limit, exchange: req.exchange, endTime });
    let series = await Promise.all(wanted.map((symbol) => fetch(symbol)));
    // Series that end at different times (the snapshot's groups, a delisted market) share a window
    // only if each is cut where the earliest one ends.
    const commonEnd = Math.min(...series.map((s) => s.asOf));
    if (series.some((s) => s.asOf > commonEnd)) {
      const ending = series.find((s) => s.asOf === commonEnd)!;
      notes.push(
        `The risk window ends ${new Date(commonEnd).toISOString()}, where the data of ${ending.symbol} ends; ` +
          'later candles of the other markets are left out so every series covers the same times.',
      );
      series = await Promise.all(series.map((s) => (s.asOf > commonEnd ? fetch(s.symbol, commonEnd) : s)));
    }
    const source = sameSource(series);
    const bySymbol = new Map(series.map((s) => [s.symbol, s]));

    const aligned = alignCloses(series.map((s) => ({ time: s.candles.time, close: s.candles.close })));
    const observations = aligned.time.length - 1;
    if (observations < 30) {
      throw new AppError(
        'INSUFFICIENT_DATA',
        `Only ${aligned.time.length} ${interval} closes are common to ${wanted.join(', ')} over the last ` +
          `${req.lookback_days} days; risk figures need at least 31. Lengthen lookback_days or use interval 1h.`,
        { observations },
      );
    }
    const shortest = Math.min(...series.map((s) => s.candles.time.length));
    if (aligned.time.length < limit - 1) {
      notes.push(
        `Risk uses ${aligned.time.length} common ${interval} closes of the ${limit} asked for ` +
          `(the shortest history has ${shortest}; times missing from any series are left out).`,
      );
    }

    const prices = await this.latestPrices(symbols, source, req.exchange, notes);
    const quantities = basket
      ? holdings.map((h) => 1 / holdings.length / prices.get(h.symbol)!.price)
      : holdings.map((h) => h.position!.quantity);
    const risk = portfolioRisk({
      closes: symbols.map((s) => aligned.closes[wanted.indexOf(s)]!),
      quantities,
      cash: basket ? 0 : cash,
      benchmark: aligned.closes[wanted.indexOf(benchmark)],
      periodsPerYear: PERIODS_PER_YEAR[interval],
      riskFreeAnnual: req.risk_free_rate,
    });

    const valued = holdings.map((h, i) => {
      const { price, source: priceSource, at } = prices.get(h.symbol)!;
      const value = quantities[i]! * price;
      const p = h.position;
      const cost = p ? p.quantity * p.entry_price + p.fees : null;
      return { h, price, priceSource, at, value, cost };
    });
    const invested = valued.reduce((a, v) => a + v.value, 0);
    const total = invested + (basket ? 0 : cash);
    const costBasis = basket ? null : valued.reduce((a, v) => a + v.cost!, 0);
    const amount = (fraction: number) => (basket ? null : money(fraction * total));
    const pct = (x: number) => round4(x * 100);
    const figure = (fraction: number) => ({ pct: pct(fraction), amount: amount(fraction) });
    const main = bySymbol.get(benchmark)!;
    const time = (i: number) => new Date(aligned.time[i]! + timeframeMs(interval)).toISOString();
    const weights = valued.map((v) => v.value / total);
    const largest = weights.reduce((best, w, i) => (w > weights[best]! ? i : best), 0);
    // Concentration is about today's weights (the risk window may end earlier, see notes).
    const herfindahl = valued.reduce((a, v) => a + (v.value / invested) ** 2, 0);
    const oneDayVar95 = risk.var.historical95 * Math.sqrt(perDay);

    const recommendations: PortfolioRecommendation[] = recommendPortfolioActions({
      level: req.risk_level,
      symbols,
      weights,
      effectivePositions: 1 / herfindahl,
      risk,
      oneDayVar95,
      interval,
    });
    const asOf = aligned.time[aligned.time.length - 1]! + timeframeMs(interval);
    const now = this.now();
    if (source === 'offline') {
      notes.push(
        `Offline data: Binance candles from the bundled snapshot; the last close used is ` +
          `${new Date(asOf).toISOString()} (${formatAge(now - asOf)} ago).`,
      );
    }
    if (basket) {
      notes.push(
        'No quantities were given, so this is an equal-weight basket of the symbols: weights and percentage ' +
          'risk only. Pass positions (symbol, quantity, entry_price) for values and P&L.',
      );
    }

    return {
      portfolio: {
        id: portfolio?.id ?? req.portfolio_id ?? null,
        stored: portfolio !== null,
        mode: basket ? ('equal_weight_basket' as const) : ('positions' as const),
        base_currency: quote,
        updated_at: portfolio?.updated_at ?? null,
      },
      data_source: source,
      exchange: main.exchange,
      as_of: new Date(asOf).toISOString(),
      data_age_ms: Math.max(0, now - asOf),
      candles: aligned.time.length,
      first_candle: new Date(aligned.time[0]!).toISOString(),
      valuation: {
        total_value: basket ? null : money(total),
        invested_value: basket ? null : money(invested),
        cash: basket ? null : money(cash),
        cost_basis: costBasis === null ? null : money(costBasis),
        unrealized_pnl: costBasis === null ? null : money(invested - costBasis),
        unrealized_pnl_pct:
          costBasis === null || costBasis === 0 ? null : pct((invested - costBasis) / costBasis),
      },
      positions: valued.map((v, i) => ({
        symbol: v.h.symbol,
        quantity: v.h.position?.quantity ?? null,
        entry_price: v.h.position?.entry_price ?? null,
        entry_time: v.h.position?.entry_time ?? null,
        fees: v.h.position?.fees ?? null,
        price: v.price,
        price_source: v.priceSource,
        price_as_of: new Date(v.at).toISOString(),
        value: basket ? null : money(v.value),
        unrealized_pnl: v.cost === null ? null : money(v.value - v.cost),
        unrealized_pnl_pct: v.cost === null ? null : pct((v.value - v.cost) / v.cost),
        weight_pct: pct(weights[i]!),
        volatility_annualized_pct: pct(risk.assetVolatility[i]!),
        risk_contribution_pct: risk.riskContribution[i] === null ? null : pct(risk.riskContribution[i]!),
      })),
      risk: {
        lookback: {
          interval,
          days: req.lookback_days,
          from: new Date(aligned.time[0]!).toISOString(),
          to: new Date(asOf).toISOString(),
          observations,
          data_source: source,
          exchange: main.exchange,
          benchmark,
          method: 'historical simulation of the current holdings over the lookback',
        },
        horizon: interval,
        value_at_risk: {
          historical_95: figure(risk.var.historical95),
          historical_99: figure(risk.var.historical99),
          parametric_95: figure(risk.var.parametric95),
          parametric_99: figure(risk.var.parametric99),
        },
        conditional_var: {
          historical_95: figure(risk.cvar.historical95),
          historical_99: figure(risk.cvar.historical99),
          parametric_95: figure(risk.cvar.parametric95),
          parametric_99: figure(risk.cvar.parametric99),
        },
        one_day_var_95: figure(oneDayVar95),
        volatility: {
          per_period_pct: pct(risk.volatility.perPeriod),
          annualized_pct: pct(risk.volatility.annualized),
        },
        max_drawdown: {
          pct: pct(risk.maxDrawdown.drawdown),
          peak_at: time(risk.maxDrawdown.peakIndex),
          trough_at: time(risk.maxDrawdown.troughIndex),
        },
        sharpe: round4n(risk.sharpe),
        sortino: round4n(risk.sortino),
        beta_to_benchmark: round4n(risk.beta),
        correlation: {
          symbols,
          matrix: risk.correlation.map((row) => row.map(round4n)),
          high_pairs: highPairs(symbols, risk),
        },
        concentration: {
          largest_symbol: symbols[largest]!,
          largest_weight_pct: pct(weights[largest]!),
          herfindahl: round4(herfindahl),
          effective_positions: round4(1 / herfindahl),
          diversification_ratio: round4n(risk.diversificationRatio),
        },
      },
      risk_level: req.risk_level,
      limits: RISK_LIMITS[req.risk_level],
      recommendations,
      notes,
      disclaimer: DISCLAIMER,
    };
  }

  /** Which positions to analyse, storing them first when the call carries positions and an id. */
  private async holdings(
    req: MonitorRequest,
    owner: string,
    notes: string[],
  ): Promise<{ portfolio: Portfolio | null; holdings: Holding[]; basket: boolean }> {
    if (req.positions) {
      const positions = await this.resolvePositions(req.positions, req.exchange, req.update_mode);
      if (req.portfolio_id === undefined) {
        return {
          portfolio: null,
          holdings: positions.map((p) => ({ symbol: p.symbol, position: p })),
          basket: false,
        };
      }
      const data = { positions, ...(req.cash !== undefined && { cash: req.cash }) };
      const portfolio =
        req.update_mode === 'replace'
          ? await this.store.replace(owner, req.portfolio_id, data)
          : await this.store.upsert(owner, req.portfolio_id, data);
      return { portfolio, holdings: this.filter(portfolio, req.symbols), basket: false };
    }
    const symbols = req.symbols ? await this.resolveSymbols(req.symbols, req.exchange) : undefined;
    const stored = req.portfolio_id === undefined ? null : await this.store.get(owner, req.portfolio_id);
    if (stored) return { portfolio: stored, holdings: this.filter(stored, symbols), basket: false };
    if (!symbols) {
      throw new AppError(
        'NOT_FOUND',
        `No portfolio "${req.portfolio_id}" is stored for this API key. Create it by passing portfolio_id ` +
          'with positions (symbol, quantity, entry_price), or pass symbols for an equal-weight basket.',
      );
    }
    if (req.portfolio_id !== undefined) {
      notes.push(`No portfolio "${req.portfolio_id}" is stored yet; analysed the symbols as a basket.`);
    }
    return { portfolio: null, holdings: symbols.map((symbol) => ({ symbol, position: null })), basket: true };
  }

  /** A stored portfolio's positions, limited to `symbols` when given (each must be held). */
  private filter(portfolio: Portfolio, symbols: string[] | undefined): Holding[] {
    const held = portfolio.positions;
    if (!symbols) return held.map((p) => ({ symbol: p.symbol, position: p }));
    const missing = symbols.filter((s) => !held.some((p) => p.symbol === s));
    if (missing.length > 0) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `Portfolio "${portfolio.id}" does not hold ${missing.join(', ')}; it holds ` +
          `${held.map((p) => p.symbol).join(', ') || 'nothing'}. Drop them from symbols or add positions.`,
      );
    }
    return held.filter((p) => symbols.includes(p.symbol)).map((p) => ({ symbol: p.symbol, position: p }));
  }

  private async resolveSymbols(symbols: string[], exchange: string | undefined): Promise<string[]> {
    const resolved = await Promise.all(symbols.map((s) => this.market.resolveSymbol(s, exchange)));
    const dup = resolved.find((s, i) => resolved.indexOf(s) !== i);
    if (dup !== undefined) {
      throw new AppError('INVALID_ARGUMENT', `symbols names ${dup} twice; list each market once.`);
    }
    return resolved;
  }

  /** Unified symbols, each market once; quantity 0 only where it means "remove" (upsert). */
  private async resolvePositions(
    inputs: PositionInput[],
    exchange: string | undefined,
    mode: MonitorRequest['update_mode'],
  ): Promise<Position[]> {
    const symbols = await this.resolveSymbols(
      inputs.map((p) => p.symbol),
      exchange,
    );
    return inputs.map((p, i) => {
      if (p.quantity === 0 && mode !== 'upsert') {
        throw new AppError(
          'INVALID_ARGUMENT',
          `positions.${i}.quantity: 0 only removes a position with update_mode "upsert"; leave it out instead.`,
        );
      }
      return {
        symbol: symbols[i]!,
        quantity: p.quantity,
        entry_price: p.entry_price,
        entry_time: p.entry_time ?? null,
        fees: p.fees ?? 0,
      };
    });
  }

  /**
   * The latest price of each symbol: the exchange's 24h ticker for live data (one cached call for all
   * markets), else the last closed hourly candle. A ticker that is missing falls back to the candle.
   */
  private async latestPrices(
    symbols: string[],
    source: 'exchange' | 'offline',
    exchange: string | undefined,
    notes: string[],
  ): Promise<Map<string, { price: number; source: 'ticker' | 'candle'; at: number }>> {
    const prices = new Map<string, { price: number; source: 'ticker' | 'candle'; at: number }>();
    if (source === 'exchange') {
      try {
        const set = await this.market.getTickers({ exchange });
        if (set.source === 'exchange') {
          const fetchedAt = this.now();
          for (const t of set.tickers) {
            if (symbols.includes(t.symbol) && Number.isFinite(t.last) && t.last > 0) {
              prices.set(t.symbol, { price: t.last, source: 'ticker', at: t.timestamp ?? fetchedAt });
            }
          }
        }
      } catch (err) {
        if (!isAppError(err)) log.error('tickers failed', { error: err });
        notes.push(
          `Priced at the last closed candle: tickers were unavailable (${isAppError(err) ? err.message : 'unexpected error'}).`,
        );
      }
    }
    await Promise.all(
      symbols
        .filter((s) => !prices.has(s))
        .map(async (symbol) => {
          const hourly = await this.market.getCandles({ symbol, timeframe: '1h', limit: 1, exchange });
          const n = hourly.candles.time.length;
          prices.set(symbol, { price: hourly.candles.close[n - 1]!, source: 'candle', at: hourly.asOf });
        }),
    );
    return prices;
  }
}

/** Values add up only in one currency: every market must share its quote. */
function quoteCurrency(symbols: string[]): string {
  const quotes = [...new Set(symbols.map((s) => s.split('/')[1]?.split(':')[0] ?? s))];
  if (quotes.length > 1) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `Positions are quoted in ${quotes.join(' and ')}; values can only be added up in one quote currency. ` +
        `Use markets quoted in one currency, e.g. ${quotes[0]}.`,
    );
  }
  return quotes[0]!;
}

function sameSource(series: CandleSeries[]): 'exchange' | 'offline' {
  const kinds = new Set(series.map((s) => s.source));
  if (kinds.size > 1) {
    const offline = series.filter((s) => s.source === 'offline').map((s) => s.symbol);
    throw new AppError(
      'DATA_UNAVAILABLE',
      `${offline.join(', ')} came from the offline snapshot while the rest came live from the exchange; ` +
        'risk across sources would be meaningless. Try again when the exchange answers.',
    );
  }
  return series[0]!.source;
}

function highPairs(symbols: string[], risk: PortfolioRisk) {
  const pairs: { a: string; b: string; correlation: number }[] = [];
  for (let i = 0; i < symbols.length; i++) {
    for (let j = i + 1; j < symbols.length; j++) {
      const c = risk.correlation[i]![j];
      if (c !== null && c !== undefined && c >= LISTED_CORRELATION) {
        pairs.push({ a: symbols[i]!, b: symbols[j]!, correlation: round4(c) });
      }
    }
  }
  return pairs.sort((x, y) => y.correlation - x.correlation).slice(0, MAX_LISTED_PAIRS);
}

/** Money in the quote currency (which may be BTC): 12 significant digits, no fixed decimals. */
const money = (x: number) => Number(x.toPrecision(12));
const round4 = (x: number) => Math.round(x * 1e4) / 1e4;
const round4n = (x: number | null | undefined) => (x === null || x === undefined ? null : round4(x));

export type MonitorResult = Awaited<ReturnType<PortfolioService['monitor']>>;
