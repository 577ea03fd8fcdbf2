/**
 * The market scanner: pick a universe of markets, load their closed candles with bounded concurrency,
 * run the core detectors on a worker pool, and rank what they find, with the market's breadth and
 * volatility alongside.
 *
 * - Universe. Offline: the bundled snapshot's markets. Live: every spot market of the exchange with a
 *   24h ticker in the chosen quote (one bulk ticker call). Stable/fiat-like bases are left out unless
 *   asked for, and markets below `min_volume_usd` of 24h quote volume (in USD) are skipped. An explicit
 *   `symbols` list is scanned as given. Every market left out is counted with its reason.
 * - Time. Live scans use each market's latest closed candles. Offline scans run as of the end of the
 *   snapshot's universe window, the last hour every one of its markets has data (its large caps run on
 *   for another year), so breadth and rankings compare one moment, and the derived 24h tickers cover
 *   exactly the 24 hours before it. A market whose data ends more than one candle before the others
 *   (halted, delisted) is skipped as stale.
 * - Load. At most LOAD_CONCURRENCY candle requests at a time; ccxt's own rate limiter is on, and the
 *   market layer caches candles until the next candle closes, so repeated scans cost no requests.
 * - Compute. Loaded markets are sent in chunks, as they arrive, to a piscina pool whose workers run the
 *   detectors, so a scan of hundreds of markets never blocks the event loop. The candle columns are
 *   copied out of the shared cache and their buffers transferred, not cloned. The worker must be
 *   JavaScript: it exists only in the build (dist/), so under vitest or tsx, or when a worker fails,
 *   the same function runs inline, one chunk per event-loop turn. Results are memoised per cached
 *   series object (a WeakMap: released with the series), so a repeated scan over unchanged candles
 *   costs no detector work.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { Candles } from '../core/candles.js';
import {
  marketConditions,
  median,
  MIN_SCAN_CANDLES,
  SCAN_TYPES,
  type CandleScan,
  type ScanHit,
  type ScanType,
} from '../core/scan/index.js';
import { round } from '../core/report/util.js';
import { AppError, isAppError } from '../errors.js';
import { log } from '../logger.js';
import {
  candleCloseTime,
  SNAPSHOT_TIMEFRAMES,
  timeframeMs,
  type CandleSeries,
  type DataSourceKind,
  type MarketData,
  type SnapshotFallback,
  type Ticker24h,
  type Timeframe,
} from '../market/index.js';
import { DISCLAIMER } from './analysis.js';
import { formatAge } from './format-age.js';
import { runScanTask, type ScanTask, type ScanTaskItem, type ScanTaskResult } from './scan-worker.js';

export type ScanKind = ScanType | 'all';

/** Markets one live scan fetches at most (the most traded first). */
export const MAX_LIVE_UNIVERSE = 400;

export interface ScanRequest {
  scan_type: ScanKind;
  timeframe: Timeframe;
  /** Markets below this 24h quote volume (USD) are skipped; 0 keeps markets whose volume is unknown. */
  min_volume_usd: number;
  /** Markets at or above this 24h quote volume (USD) are skipped (liquidity tiers). Default none. */
  max_volume_usd?: number | undefined;
  max_results: number;
  quote: string;
  exchange?: string | undefined;
  /** Scan exactly these markets: quote, volume and stablecoin filters then do not apply. */
  symbols?: string[] | undefined;
  include_stablecoins: boolean;
}

/** How a call reports progress and is cancelled (ToolCall's fields). */
export interface ScanCall {
  progress?: ((done: number, total: number, message?: string) => void) | undefined;
  signal?: AbortSignal | undefined;
}

export interface ScannerOptions {
  /**
   * The worker module (JavaScript). Default `./scan-worker.js` next to this file, used only if it
   * exists (it does in dist/); null: always inline.
   */
  workerUrl?: URL | null;
  /** Worker threads at most. Default max(1, availableParallelism() - 1). */
  poolSize?: number;
  /** A worker idle this long exits (the pool never keeps the process alive). Default 30 000 ms. */
  idleTimeoutMs?: number;
  /** Candle requests in flight at most. Default 8. */
  concurrency?: number;
  now?: () => number;
}

/** Closed candles loaded per market: EMA 50, 50-candle levels and 100-candle zone freshness need ~150. */
export const SCAN_CANDLES = 250;
export const LOAD_CONCURRENCY = 8;
/** Markets per worker task: large enough to amortise a message, small enough to start early. */
const CHUNK = 32;

/**
 * Bases that track a fiat currency (stablecoins, tokenised fiat) or a fiat currency itself: their
 * "setups" are peg noise. USTC (the collapsed TerraUSD) and gold tokens float freely and stay in.
 */
export const STABLE_BASES: ReadonlySet<string> = new Set([
  'USDT',
  'USDC',
  'FDUSD',
  'TUSD',
  'USDP',
  'DAI',
  'BUSD',
  'USD1',
  'XUSD',
  'USDE',
  'USDS',
  'USDD',
  'PYUSD',
  'FRAX',
  'LUSD',
  'GUSD',
  'SUSD',
  'USDJ',
  'USDX',
  'RLUSD',
  'BFUSD',
  'EUR',
  'AEUR',
  'EURI',
  'EURC',
  'EURT',
  'EURS',
  'GBP',
  'AUD',
  'TRY',
  'BRL',
  'JPY',
  'RUB',
  'UAH',
  'ZAR',
  'NGN',
  'PLN',
  'RON',
  'ARS',
  'MXN',
  'CZK',
  'IDRT',
  'BIDR',
  'BVND',
  'USD',
]);

/** Quotes counted 1:1 as US dollars. */
const USD_QUOTES: ReadonlySet<string> = new Set([
  'USDT',
  'USDC',
  'FDUSD',
  'BUSD',
  'TUSD',
  'USDP',
  'DAI',
  'USD',
  'USD1',
]);

/** Load errors that concern the whole request (not one market): the scan stops with them. */
const FATAL: ReadonlySet<string> = new Set(['UNSUPPORTED_TIMEFRAME', 'UNKNOWN_EXCHANGE', 'INVALID_ARGUMENT']);

const iso = (ms: number) => new Date(ms).toISOString();
const base = (symbol: string) => symbol.split('/')[0]!;
const quoteOf = (symbol: string) => symbol.split('/')[1]?.split(':')[0] ?? '';

interface Skip {
  symbol: string;
  reason: string;
  /** The error of a failed load, to rethrow when nothing at all could be scanned. */
  error?: AppError;
}

interface Universe {
  source: DataSourceKind;
  exchange: string;
  fallback: SnapshotFallback | undefined;
  derivedTickers: boolean;
  symbols: string[];
  skipped: Skip[];
  tickers: Map<string, Ticker24h>;
  /** 24h quote volume in USD per market; null when unknown or not convertible. */
  volumeUsd: (symbol: string) => number | null;
  /** Offline: the candle close the scan runs as of. */
  endTime: number | undefined;
}

interface Scanned {
  symbol: string;
  series: CandleSeries;
  scan?: CandleScan;
}

export type ScanResult = Awaited<ReturnType<ScannerService['scan']>>;
export type ScanResultHit = ScanResult['hits'][number];

export class ScannerService {
  private readonly workerFile: string | null;
  private readonly poolSize: number;
  private readonly idleTimeoutMs: number;
  private readonly concurrency: number;
  private readonly now: () => number;
  private pool: Piscina<ScanTask, ScanTaskResult> | undefined;
  /** Set after a worker failed: the rest of the process scans inline. */
  private poolBroken = false;
  private readonly memo = new WeakMap<Candles, Map<string, CandleScan>>();

  constructor(
    private readonly market: MarketData,
    options: ScannerOptions = {},
  ) {
    const url =
      options.workerUrl === undefined ? new URL('./scan-worker.js', import.meta.url) : options.workerUrl;
    const file = url === null ? null : fileURLToPath(url);
    // Under vitest/tsx this file is TypeScript and there is no scan-worker.js beside it: inline.
    this.workerFile = file !== null && existsSync(file) ? file : null;
    this.poolSize = options.poolSize ?? Math.max(1, availableParallelism() - 1);
    this.idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
    this.concurrency = options.concurrency ?? LOAD_CONCURRENCY;
    this.now = options.now ?? Date.now;
  }

  /** Where the detectors run: on worker threads, or inline on the event loop (no worker file, or it failed). */
  get computeMode(): 'worker_pool' | 'inline' {
    return this.workerFile !== null && !this.poolBroken ? 'worker_pool' : 'inline';
  }

  /** Stops the worker threads (idle ones exit on their own; this is for a clean shutdown). */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.destroy();
  }

  async scan(req: ScanRequest, call: ScanCall = {}) {
    const started = performance.now();
    const types: ScanType[] = req.scan_type === 'all' ? [...SCAN_TYPES] : [req.scan_type];
    const notes: string[] = [];
    const universe = await this.universe(req, notes);
    const total = universe.symbols.length + universe.skipped.length;
    let done = universe.skipped.length;
    call.progress?.(done, total, `loading candles of ${universe.symbols.length} markets`);

    const skipped = [...universe.skipped];
    const loaded: Scanned[] = [];
    const computing: Promise<void>[] = [];
    let computeError: unknown;
    let pending: Scanned[] = [];
    const flush = () => {
      if (pending.length === 0) return;
      const chunk = pending;
      pending = [];
      computing.push(
        this.compute(chunk, types, call.signal).then(
          () => {
            done += chunk.length;
            call.progress?.(done, total, `scanned ${done} of ${total} markets`);
          },
          (e: unknown) => {
            computeError ??= e;
          },
        ),
      );
    };

    let next = 0;
    let fatal: unknown;
    const loader = async () => {
      while (next < universe.symbols.length && fatal === undefined) {
        const i = next++;
        // Cached candles arrive through microtasks only: let timers and I/O in between batches.
        if (i > 0 && i % CHUNK === 0) await yieldToEventLoop();
        if (call.signal?.aborted) throw cancelled();
        const symbol = universe.symbols[i]!;
        let series: CandleSeries;
        try {
          series = await this.market.getCandles({
            symbol,
            timeframe: req.timeframe,
            limit: SCAN_CANDLES,
            exchange: req.exchange,
            endTime: universe.endTime,
          });
        } catch (e) {
          if (!isAppError(e)) throw e;
          if (FATAL.has(e.code)) {
            fatal ??= e;
            return;
          }
          const reason =
            e.code === 'INSUFFICIENT_DATA' ? 'no closed candles' : `candles could not be loaded (${e.code})`;
          skipped.push({ symbol, reason, error: e });
          done++;
          continue;
        }
        const n = series.candles.time.length;
        if (series.source !== universe.source) {
          skipped.push({
            symbol,
            reason: `its candles came from ${series.source} data while the scan is ${universe.source}`,
          });
          done++;
        } else if (n < MIN_SCAN_CANDLES) {
          skipped.push({ symbol, reason: `too short: fewer than ${MIN_SCAN_CANDLES} closed candles` });
          done++;
        } else {
          const item = { symbol, series };
          loaded.push(item);
          pending.push(item);
          if (pending.length >= CHUNK) flush();
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, universe.symbols.length) }, loader));
    if (fatal !== undefined) {
      await Promise.all(computing);
      throw fatal;
    }
    flush();
    await Promise.all(computing);
    if (computeError !== undefined) throw computeError;

    // As of the newest close among the markets; those more than one candle behind it are stale.
    const tfMs = timeframeMs(req.timeframe);
    const asOf = loaded.length > 0 ? Math.max(...loaded.map((l) => l.series.asOf)) : NaN;
    const scanned: (Scanned & { scan: CandleScan })[] = [];
    for (const l of loaded) {
      if (!l.scan) {
        skipped.push({ symbol: l.symbol, reason: 'the detectors failed on its candles' });
      } else if (l.series.asOf < asOf - tfMs) {
        skipped.push({
          symbol: l.symbol,
          reason: 'stale: its data ends more than one candle before the other markets (halted or delisted)',
        });
      } else {
        scanned.push(l as Scanned & { scan: CandleScan });
      }
    }
    if (scanned.length === 0) throw nothingScanned(skipped, req.timeframe);
    call.progress?.(total, total, `scanned ${scanned.length} markets`);

    const hits = scanned
      .flatMap((s) => s.scan.hits.map((h) => ({ s, h })))
      .sort((a, b) => b.h.strength - a.h.strength || a.s.symbol.localeCompare(b.s.symbol));
    const counts: Partial<Record<ScanType, number>> = Object.fromEntries(types.map((t) => [t, 0]));
    for (const { h } of hits) counts[h.type] = (counts[h.type] ?? 0) + 1;
    if (hits.length > req.max_results) {
      notes.push(
        `${hits.length} hits; the ${req.max_results} strongest are listed (raise max_results for more).`,
      );
    }
    const now = this.now();
    notes.push(...this.sourceNotes(universe, asOf, now));
    if (req.symbols) {
      notes.push(
        'The symbols were scanned as listed: quote, min_volume_usd and include_stablecoins do not filter them.',
      );
    }
    if (skipped.length > 0) {
      notes.push(`${skipped.length} of ${total} markets were skipped; see universe.skipped_reasons.`);
    }

    return {
      scan_type: req.scan_type,
      timeframe: req.timeframe,
      data_source: universe.source,
      exchange: universe.exchange,
      as_of: iso(asOf),
      data_age_ms: Math.max(0, now - asOf),
      candles_per_market: SCAN_CANDLES,
      universe: {
        selection: req.symbols ? ('symbols' as const) : ('all_markets' as const),
        quote: req.symbols ? null : req.quote.toUpperCase(),
        min_volume_usd: req.symbols ? null : req.min_volume_usd,
        max_volume_usd: req.symbols ? null : (req.max_volume_usd ?? null),
        include_stablecoins: req.symbols ? null : req.include_stablecoins,
        considered: total,
        scanned: scanned.length,
        skipped: skipped.length,
        skipped_reasons: summariseSkips(skipped),
      },
      hits_total: hits.length,
      hits_by_type: counts,
      hits: hits.slice(0, req.max_results).map(({ s, h }, i) => this.hitOutput(i + 1, s, h, universe)),
      market_conditions: this.conditions(scanned, universe, req.timeframe, asOf),
      duration_ms: Math.round(performance.now() - started),
      compute: { mode: this.computeMode, workers: this.computeMode === 'worker_pool' ? this.poolSize : 0 },
      notes,
      disclaimer: DISCLAIMER,
    };
  }

  private hitOutput(rank: number, s: Scanned & { scan: CandleScan }, h: ScanHit, u: Universe) {
    const volume = u.volumeUsd(s.symbol);
    return {
      rank,
      symbol: s.symbol,
      scan_type: h.type,
      direction: h.direction,
      strength: h.strength,
      signal_at: iso(h.time),
      bars_ago: h.barsAgo,
      as_of: iso(s.series.asOf),
      last_close: h.close,
      invalidation: {
        price: h.invalidation,
        basis: h.invalidationBasis,
        distance_pct: round((Math.abs(h.close - h.invalidation) / h.close) * 100, 6),
      },
      signals: h.signals.map((g) => ({
        name: g.name,
        at: iso(g.time),
        strength: g.strength,
        detail: g.detail,
        values: g.values,
        invalidation: g.invalidation,
      })),
      volume_24h_usd: volume === null ? null : round(volume, 8),
    };
  }

  private conditions(
    scanned: (Scanned & { scan: CandleScan })[],
    u: Universe,
    timeframe: Timeframe,
    asOf: number,
  ) {
    const m = marketConditions(scanned.map((s) => s.scan.metrics));
    const day: number[] = [];
    for (const s of scanned) {
      const pct = u.tickers.get(s.symbol)?.percentage;
      if (pct !== undefined && Number.isFinite(pct)) day.push(pct);
    }
    const r = (x: number | null) => (x === null ? null : round(x, 6));
    return {
      markets: m.markets,
      breadth_pct: r(m.breadth.pct),
      above_ema50: m.breadth.aboveEma50,
      with_ema50: m.breadth.measured,
      last_candle: {
        open_time: iso(asOf - timeframeMs(timeframe)),
        advancers: m.lastCandle.advancers,
        decliners: m.lastCandle.decliners,
        unchanged: m.lastCandle.unchanged,
        median_change_pct: r(m.lastCandle.medianChangePct),
      },
      change_24h:
        day.length === 0
          ? null
          : {
              markets: day.length,
              advancers: day.filter((x) => x > 0).length,
              decliners: day.filter((x) => x < 0).length,
              unchanged: day.filter((x) => x === 0).length,
              median_change_pct: r(median(day)),
              source: u.derivedTickers ? ('snapshot_derived' as const) : ('exchange_tickers' as const),
            },
      median_atr_pct: r(m.medianAtrPct),
    };
  }

  /** The markets to scan, and those left out with their reasons. */
  private async universe(req: ScanRequest, notes: string[]): Promise<Universe> {
    const set = await this.market.getTickers({ exchange: req.exchange });
    const offline = set.source === 'offline';
    if (offline && !SNAPSHOT_TIMEFRAMES.includes(req.timeframe)) {
      throw new AppError(
        'UNSUPPORTED_TIMEFRAME',
        `The offline snapshot holds 1h candles and cannot scan ${req.timeframe}; use one of ${SNAPSHOT_TIMEFRAMES.join(', ')}.`,
        { timeframe: req.timeframe, supported: [...SNAPSHOT_TIMEFRAMES] },
      );
    }
    const tickers = new Map(set.tickers.map((t) => [t.symbol, t]));
    const usdPerQuote = new Map<string, number | null>();
    const usdRate = (quote: string): number | null => {
      if (!usdPerQuote.has(quote)) usdPerQuote.set(quote, usdValue(quote, tickers));
      return usdPerQuote.get(quote)!;
    };
    const volumeUsd = (symbol: string): number | null => {
      const t = tickers.get(symbol);
      if (!t) return null;
      const quoteVolume = t.quoteVolume ?? t.baseVolume * t.last;
      const rate = usdRate(quoteOf(symbol));
      return Number.isFinite(quoteVolume) && rate !== null ? quoteVolume * rate : null;
    };
    const endTime = offline ? await this.snapshotEnd() : undefined;
    const universe = {
      source: set.source,
      exchange: set.exchange,
      fallback: set.fallback,
      derivedTickers: set.derived,
      tickers,
      volumeUsd,
      endTime,
    };

    if (req.symbols) {
      const symbols = await this.resolveSymbols(req.symbols, req.exchange);
      return { ...universe, symbols, skipped: [] };
    }

    const quote = req.quote.toUpperCase();
    const listed = offline ? await this.market.snapshot.listSymbols() : set.tickers.map((t) => t.symbol);
    const inQuote = listed.filter((s) => quoteOf(s) === quote && !s.includes(':')).sort();
    if (inQuote.length === 0) {
      const quotes = [...new Set(listed.map(quoteOf))].sort();
      throw new AppError(
        'INVALID_ARGUMENT',
        offline
          ? `The offline snapshot holds ${quotes.join(', ')} markets only; scan quote ${quotes[0] ?? 'USDT'}.`
          : `${set.exchange} has no spot markets quoted in ${quote} with 24h tickers; try ${
              ['USDT', 'USDC', 'USD', 'EUR'].filter((q) => quotes.includes(q)).join(', ') ||
              quotes.slice(0, 5).join(', ')
            }.`,
        { quote, exchange: set.exchange },
      );
    }
    const filtersVolume = req.min_volume_usd > 0 || req.max_volume_usd !== undefined;
    if (filtersVolume && usdRate(quote) === null) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `${quote} volumes cannot be valued in USD on ${set.exchange} (no ${quote}/USDT, ${quote}/USDC or ${quote}/USD ticker); ` +
          'set min_volume_usd to 0 or scan a USD-quoted market such as USDT.',
        { quote },
      );
    }
    const symbols: string[] = [];
    const skipped: Skip[] = [];
    for (const symbol of inQuote) {
      if (!req.include_stablecoins && STABLE_BASES.has(base(symbol))) {
        skipped.push({ symbol, reason: 'stablecoin or fiat-like base (set include_stablecoins to scan it)' });
        continue;
      }
      if (filtersVolume) {
        const v = volumeUsd(symbol);
        if (v === null) {
          const hint = req.max_volume_usd === undefined ? ' (set min_volume_usd to 0 to scan it)' : '';
          skipped.push({ symbol, reason: `no 24h volume known${hint}` });
          continue;
        }
        if (v < req.min_volume_usd) {
          skipped.push({ symbol, reason: '24h volume below min_volume_usd' });
          continue;
        }
        if (req.max_volume_usd !== undefined && v >= req.max_volume_usd) {
          skipped.push({ symbol, reason: '24h volume above the liquidity tier' });
          continue;
        }
      }
      symbols.push(symbol);
    }
    // One live scan fetches candles per market through the exchange's rate limiter: keep it to the most
    // traded markets, so a zero volume floor on an exchange with thousands of pairs stays one call's work.
    if (!offline && symbols.length > MAX_LIVE_UNIVERSE) {
      symbols.sort((a, b) => (volumeUsd(b) ?? -1) - (volumeUsd(a) ?? -1) || a.localeCompare(b));
      for (const symbol of symbols.splice(MAX_LIVE_UNIVERSE)) {
        skipped.push({
          symbol,
          reason: `beyond the ${MAX_LIVE_UNIVERSE} most traded markets of a live scan`,
        });
      }
      symbols.sort();
      notes.push(
        `Scanned the ${MAX_LIVE_UNIVERSE} most traded of the markets that passed the filters; raise min_volume_usd ` +
          'or pass symbols to choose others.',
      );
    }
    if (offline && filtersVolume) {
      notes.push(
        '24h volumes are estimates derived from the snapshot candles (volume x average price over the 24 hours ' +
          `to ${iso(endTime!)}), not exchange figures.`,
      );
    }
    return { ...universe, symbols, skipped };
  }

  /** Unified symbols of an explicit list; an unknown one is an error naming it, a repeated one too. */
  private async resolveSymbols(symbols: string[], exchange: string | undefined): Promise<string[]> {
    const resolved = await Promise.all(
      symbols.map(async (s, i) => {
        try {
          return await this.market.resolveSymbol(s, exchange);
        } catch (e) {
          if (!isAppError(e) || e.code !== 'UNKNOWN_SYMBOL') throw e;
          throw new AppError('UNKNOWN_SYMBOL', `symbols.${i}: ${e.message} Fix or remove it.`, e.details);
        }
      }),
    );
    const dup = resolved.find((s, i) => resolved.indexOf(s) !== i);
    if (dup !== undefined) {
      throw new AppError('INVALID_ARGUMENT', `symbols names ${dup} twice; list each market once.`);
    }
    return resolved;
  }

  /** Close of the last candle of the snapshot's universe window: the last hour all its markets have. */
  private async snapshotEnd(): Promise<number> {
    const index = await this.market.snapshot.index();
    return candleCloseTime(index.universeWindow.end, index.timeframe);
  }

  /** Scan one chunk of markets (memo, then worker pool or inline) and attach the results. */
  private async compute(chunk: Scanned[], types: ScanType[], signal: AbortSignal | undefined): Promise<void> {
    const key = types.join(',');
    const todo: Scanned[] = [];
    for (const item of chunk) {
      const cached = this.memo.get(item.series.candles)?.get(key);
      if (cached) item.scan = cached;
      else todo.push(item);
    }
    if (todo.length === 0) return;
    const results = await this.run(todo, types, signal);
    const byKey = new Map(results.map((r) => [r.key, r]));
    for (const item of todo) {
      const r = byKey.get(item.symbol);
      if (!r || 'error' in r) {
        log.error('scan detectors failed', {
          symbol: item.symbol,
          error: r && 'error' in r ? r.error : 'missing',
        });
        continue;
      }
      item.scan = r.scan;
      let perSeries = this.memo.get(item.series.candles);
      if (!perSeries) this.memo.set(item.series.candles, (perSeries = new Map()));
      perSeries.set(key, r.scan);
    }
  }

  private async run(
    items: Scanned[],
    types: ScanType[],
    signal: AbortSignal | undefined,
  ): Promise<ScanTaskResult> {
    const pool = this.getPool();
    if (pool) {
      // Copies: the cached candles are views into the snapshot's (or cache's) arrays, which a transfer
      // would detach. The copies' buffers move to the worker without a structured clone.
      const taskItems: ScanTaskItem[] = items.map((l) => ({
        key: l.symbol,
        columns: columns(l.series.candles, true),
      }));
      const transferList = taskItems.flatMap((t) => t.columns.map((col) => col.buffer as ArrayBuffer));
      try {
        return await pool.run({ types, items: taskItems }, { transferList, ...(signal && { signal }) });
      } catch (e) {
        if (signal?.aborted) throw cancelled();
        log.warn('scan worker failed; scanning inline from now on', { error: e });
        this.poolBroken = true;
        void this.close();
      }
    }
    // Inline: one chunk per event-loop turn, so other requests are served between chunks.
    await yieldToEventLoop();
    if (signal?.aborted) throw cancelled();
    return runScanTask({
      types,
      items: items.map((l) => ({ key: l.symbol, columns: columns(l.series.candles, false) })),
    });
  }

  private getPool(): Piscina<ScanTask, ScanTaskResult> | undefined {
    if (this.workerFile === null || this.poolBroken) return undefined;
    this.pool ??= new Piscina<ScanTask, ScanTaskResult>({
      filename: this.workerFile,
      minThreads: 0,
      maxThreads: this.poolSize,
      idleTimeout: this.idleTimeoutMs,
    });
    return this.pool;
  }

  private sourceNotes(u: Universe, asOf: number, now: number): string[] {
    if (u.source !== 'offline') return [];
    const when =
      `scanned as of ${iso(asOf)} (${formatAge(now - asOf)} ago), where the snapshot's window of all its ` +
      'markets ends';
    if (!u.fallback) {
      return [
        `Offline mode: Binance candles from the bundled snapshot, ${when}. Set DATA_SOURCE=auto or exchange ` +
          'for live data.',
      ];
    }
    return [
      `${u.fallback.requestedExchange} could not be used (${u.fallback.reason}), so these are Binance candles ` +
        `from the bundled snapshot, ${when}.`,
    ];
  }
}

/** Candle columns in the worker's order; `copy` gives each its own buffer (for a transfer). */
function columns(c: Candles, copy: boolean): ScanTaskItem['columns'] {
  const cols = [c.time, c.open, c.high, c.low, c.close, c.volume] as ScanTaskItem['columns'];
  return copy ? (cols.map((col) => col.slice()) as ScanTaskItem['columns']) : cols;
}

/** USD per unit of `quote`: 1 for dollar stablecoins, else the last price of QUOTE/USDT, /USDC or /USD. */
function usdValue(quote: string, tickers: Map<string, Ticker24h>): number | null {
  if (USD_QUOTES.has(quote)) return 1;
  for (const usd of ['USDT', 'USDC', 'USD']) {
    const last = tickers.get(`${quote}/${usd}`)?.last;
    if (last !== undefined && Number.isFinite(last) && last > 0) return last;
  }
  return null;
}

/** Skips grouped by reason, most frequent first, with up to 10 example symbols each. */
function summariseSkips(skipped: Skip[]): { reason: string; count: number; symbols: string[] }[] {
  const groups = new Map<string, string[]>();
  for (const s of skipped) {
    const list = groups.get(s.reason);
    if (list) list.push(s.symbol);
    else groups.set(s.reason, [s.symbol]);
  }
  return [...groups]
    .map(([reason, symbols]) => ({ reason, count: symbols.length, symbols: symbols.slice(0, 10) }))
    .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
}

function nothingScanned(skipped: Skip[], timeframe: Timeframe): AppError {
  // Every load failed the same way (e.g. the exchange is down): that error says it best.
  const failed = skipped.filter((s) => s.error);
  if (failed.length > 0 && failed.length === skipped.length) return failed[0]!.error!;
  const reasons = summariseSkips(skipped)
    .map((g) => `${g.count} ${g.reason}`)
    .join('; ');
  return new AppError(
    'INSUFFICIENT_DATA',
    `No market could be scanned on ${timeframe} (${reasons || 'none selected'}). Try a lower timeframe, ` +
      'lower min_volume_usd, or other symbols.',
    { skipped: skipped.length },
  );
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

function cancelled(): AppError {
  return new AppError('DATA_UNAVAILABLE', 'The scan was cancelled before it finished.');
}
