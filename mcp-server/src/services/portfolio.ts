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
  /** Required unless quantity is 0 (the schema checks). */
  entry_price?: number | undefined;
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
  /** Default: 30 days of hourly returns, or a year of daily ones (the 1d minimum is 60). */
  lookback_days?: number | undefined;
  benchmark: string;
  exchange?: string | undefined;
  risk_free_rate: number;
}

const PERIODS_PER_YEAR: Record<ReturnInterval, number> = { '1h': 8760, '1d': 365 };
const DEFAULT_LOOKBACK_DAYS: Record<ReturnInterval, number> = { '1h': 30, '1d': 365 };
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
    const cash = basket ? 0 : (portfolio?.cash ?? req.cash ?? 0);
    const quote = quoteCurrency(holdings.map((h) => h.symbol));

    const interval = req.interval;
    const lookbackDays = req.lookback_days ?? DEFAULT_LOOKBACK_DAYS[interval];
    const perDay = DAY_MS / timeframeMs(interval);
    const limit = Math.round(lookbackDays * perDay) + 1;
    const symbols = holdings.map((h) => h.symbol);
    const fetch = (symbol: string, endTime?: number) =>
      this.market.getCandles({ symbol, timeframe: interval, limit, exchange: req.exchange, endTime });
    let series = await Promise.all(symbols.map((symbol) => fetch(symbol)));
    // Beta is one figure among many: a benchmark that cannot be had leaves it null, with a note.
    const bench = await this.benchmark(req, symbols, fetch, notes);
    const benchmark = bench?.symbol ?? null;
    if (bench?.series) series.push(bench.series);
    const wanted = series.map((s) => s.symbol);
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

    const aligned = alignCloses(series.map((s) => ({ time: s.candles.time, close: s.candles.close })));
    const observations = aligned.time.length - 1;
    if (observations < 30) {
      throw new AppError(
        'INSUFFICIENT_DATA',
        `Only ${aligned.time.length} ${interval} closes are common to ${wanted.join(', ')} over the last ` +
          `${lookbackDays} days; risk figures need at least 31. Lengthen lookback_days or use interval 1h.`,
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

    const asOf = aligned.time[aligned.time.length - 1]! + timeframeMs(interval);
    const prices =
      source === 'offline'
        ? snapshotPrices(symbols, aligned.closes, asOf)
        : await this.livePrices(symbols, req.exchange, notes);
    const quantities = basket
      ? holdings.map((h) => 1 / holdings.length / prices.get(h.symbol)!.price)
      : holdings.map((h) => h.position!.quantity);
    let risk: PortfolioRisk;
    try {
      risk = portfolioRisk({
        closes: symbols.map((s) => aligned.closes[wanted.indexOf(s)]!),
        quantities,
        cash,
        benchmark: benchmark === null ? undefined : aligned.closes[wanted.indexOf(benchmark)],
        periodsPerYear: PERIODS_PER_YEAR[interval],
        riskFreeAnnual: req.risk_free_rate,
      });
    } catch (err) {
      // The maths refuses prices it cannot use (a zero close in the exchange's data, say).
      if (!(err instanceof RangeError)) throw err;
      throw new AppError('DATA_UNAVAILABLE', `The candles cannot be used for risk figures: ${err.message}`);
    }

    const valued = holdings.map((h, i) => {
      const { price, source: priceSource, at } = prices.get(h.symbol)!;
      const value = quantities[i]! * price;
      const p = h.position;
      const cost = p ? p.quantity * p.entry_price + p.fees : null;
      return { h, price, priceSource, at, value, cost };
    });
    const invested = valued.reduce((a, v) => a + v.value, 0);
    const total = invested + cash;
    if (!Number.isFinite(total) || total <= 0) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `The portfolio's value comes to ${total}; check the quantities (a value must be finite and positive).`,
      );
    }
    const costBasis = basket ? null : valued.reduce((a, v) => a + v.cost!, 0);
    const amount = (fraction: number) => (basket ? null : money(fraction * total));
    const pct = (x: number) => round4(x * 100);
    const figure = (fraction: number) => ({ pct: pct(fraction), amount: amount(fraction) });
    const main = series[0]!;
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
      riskFreeRate: req.risk_free_rate,
    });
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
          days: lookbackDays,
          from: new Date(aligned.time[0]!).toISOString(),
          to: new Date(asOf).toISOString(),
          observations,
          data_source: source,
          exchange: main.exchange,
          benchmark,
          days_covered: round4((observations * timeframeMs(interval)) / DAY_MS),
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

  /**
   * Which positions to analyse. A call with positions and an id stores them, but only after the result
   * has been checked (one quote currency, at least one position, every filter symbol held), so a
   * refused call never leaves a portfolio that later reads would refuse too.
   */
  private async holdings(
    req: MonitorRequest,
    owner: string,
    notes: string[],
  ): Promise<{ portfolio: Portfolio | null; holdings: Holding[]; basket: boolean }> {
    const filter = req.symbols ? await this.resolveSymbols(req.symbols, req.exchange) : undefined;
    const id = req.portfolio_id;
    if (req.positions) {
      const incoming = await this.resolvePositions(req.positions, req.exchange, req.update_mode);
      const existing = id === undefined ? null : await this.store.get(owner, id);
      const next = req.update_mode === 'upsert' && existing ? merge(existing.positions, incoming) : incoming;
      const held = next.filter((p) => p.quantity > 0);
      const label = id === undefined ? 'The inline positions' : `Portfolio "${id}"`;
      if (held.length === 0) {
        throw new AppError(
          'INVALID_ARGUMENT',
          `${label} would hold no positions; pass at least one position with a quantity above 0.`,
        );
      }
      const quote = quoteCurrency(held.map((p) => p.symbol));
      const chosen = pick(held, filter, label);
      if (id === undefined) return { portfolio: null, holdings: chosen, basket: false };
      const data = {
        positions: incoming,
        base_currency: quote,
        ...(req.cash !== undefined && { cash: req.cash }),
      };
      const portfolio =
        req.update_mode === 'replace'
          ? await this.store.replace(owner, id, data)
          : await this.store.upsert(owner, id, data);
      return { portfolio, holdings: pick(portfolio.positions, filter, label), basket: false };
    }
    let stored = id === undefined ? null : await this.store.get(owner, id);
    if (stored) {
      // Cash given with a stored portfolio is its new cash, as the schema promises.
      if (req.cash !== undefined && req.cash !== stored.cash) {
        stored = await this.store.upsert(owner, stored.id, { positions: [], cash: req.cash });
      }
      const label = `Portfolio "${stored.id}"`;
      return { portfolio: stored, holdings: pick(stored.positions, filter, label), basket: false };
    }
    if (!filter) {
      throw new AppError(
        'NOT_FOUND',
        `No portfolio "${id}" is stored for this API key. Create it by passing portfolio_id ` +
          'with positions (symbol, quantity, entry_price), or pass symbols for an equal-weight basket.',
      );
    }
    if (id !== undefined) notes.push(`No portfolio "${id}" is stored yet; analysed the symbols as a basket.`);
    if (req.cash !== undefined)
      notes.push('cash is left out of an equal-weight basket, which has no values.');
    return { portfolio: null, holdings: filter.map((symbol) => ({ symbol, position: null })), basket: true };
  }

  /** The benchmark (its series unless it is held), or null with a note when it cannot be had. */
  private async benchmark(
    req: MonitorRequest,
    symbols: string[],
    fetch: (symbol: string) => Promise<CandleSeries>,
    notes: string[],
  ): Promise<{ symbol: string; series?: CandleSeries } | null> {
    try {
      const symbol = await this.market.resolveSymbol(req.benchmark, req.exchange);
      return symbols.includes(symbol) ? { symbol } : { symbol, series: await fetch(symbol) };
    } catch (err) {
      if (!isAppError(err)) log.error('benchmark failed', { error: err });
      const why = isAppError(err) ? err.message : 'unexpected error';
      notes.push(`No beta: the benchmark ${req.benchmark} could not be loaded (${why}).`);
      return null;
    }
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
        // A removal (quantity 0) needs no price; the store never writes it.
        entry_price: p.entry_price ?? 0,
        entry_time: p.entry_time ?? null,
        fees: p.fees ?? 0,
      };
    });
  }

  /**
   * Live prices: the exchange's 24h ticker (one cached call for all markets), else the last closed
   * hourly candle, which must be live too: a snapshot price would value today's holdings at a months-old
   * close.
   */
  private async livePrices(
    symbols: string[],
    exchange: string | undefined,
    notes: string[],
  ): Promise<Map<string, Price>> {
    const prices = new Map<string, Price>();
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
      const why = isAppError(err) ? err.message : 'unexpected error';
      notes.push(`Priced at the last closed hourly candle: tickers were unavailable (${why}).`);
    }
    await Promise.all(
      symbols
        .filter((s) => !prices.has(s))
        .map(async (symbol) => {
          const hourly = await this.market.getCandles({ symbol, timeframe: '1h', limit: 1, exchange });
          const close = hourly.candles.close[hourly.candles.close.length - 1]!;
          if (hourly.source !== 'exchange' || !(close > 0)) {
            const why =
              hourly.source !== 'exchange'
                ? 'the exchange stopped answering'
                : 'its last close is not positive';
            throw new AppError(
              'DATA_UNAVAILABLE',
              `No live price for ${symbol} (${why}); try again shortly.`,
            );
          }
          prices.set(symbol, { price: close, source: 'candle', at: hourly.asOf });
        }),
    );
    return prices;
  }
}

type Price = { price: number; source: 'ticker' | 'candle'; at: number };

/**
 * Offline, every position is valued at the close that ends the risk window, so values, weights and
 * risk all describe one moment of the snapshot rather than each market's own last day.
 */
function snapshotPrices(symbols: string[], closes: Float64Array[], at: number): Map<string, Price> {
  return new Map(
    symbols.map((symbol, i): [string, Price] => [
      symbol,
      { price: closes[i]![closes[i]!.length - 1]!, source: 'candle', at },
    ]),
  );
}

/** Stored positions with `incoming` inserted or replaced by symbol; quantity 0 removes one. */
function merge(stored: Position[], incoming: Position[]): Position[] {
  const bySymbol = new Map(stored.map((p) => [p.symbol, p]));
  for (const p of incoming) bySymbol.set(p.symbol, p);
  return [...bySymbol.values()];
}

/** The positions named by `filter` (all when none); each named symbol must be held. */
function pick(positions: Position[], filter: string[] | undefined, label: string): Holding[] {
  const held = positions.filter((p) => p.quantity > 0);
  if (filter) {
    const missing = filter.filter((s) => !held.some((p) => p.symbol === s));
    if (missing.length > 0) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `${label} does not hold ${missing.join(', ')}; it holds ${held.map((p) => p.symbol).join(', ') || 'nothing'}. ` +
          'Drop them from symbols or add positions.',
      );
    }
  }
  return held
    .filter((p) => !filter || filter.includes(p.symbol))
    .map((p) => ({ symbol: p.symbol, position: p }));
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
