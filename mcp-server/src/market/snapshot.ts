import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sliceCandles, type Candles } from '../core/candles.js';
import { AppError } from '../errors.js';
import { canResample, resample } from './resample.js';
import { decodeSnapshotFile } from './snapshot-codec.js';
import { closeMatches, resolveSymbol } from './symbols.js';
import { candleCloseTime, TIMEFRAMES, type Timeframe } from './timeframes.js';
import type { Ticker24h } from './types.js';

/** Entry of data/snapshot/index.json (written by scripts/build-snapshot.ts). */
export interface SnapshotSymbolInfo {
  symbol: string;
  id: string;
  base: string;
  quote: string;
  group: 'history' | 'universe';
  file: string;
  firstTime: number;
  lastTime: number;
  rows: number;
  missingCandles: number;
  bytes: number;
}

export interface SnapshotIndex {
  format: string;
  exchange: string;
  timeframe: '1h';
  credits: string;
  sourceNote: string;
  universeWindow: { start: number; end: number };
  groups: { history: string[]; universe: string[] };
  symbols: SnapshotSymbolInfo[];
}

export interface SnapshotTickers {
  /** Always true: the snapshot's tickers are computed from its candles, not captured from the API. */
  derived: true;
  note: string;
  /** End of the 24h window. */
  asOf: number;
  /** All with `timestamp` = `asOf`. */
  tickers: Array<Ticker24h & { timestamp: number }>;
}

interface DerivedTickerFile {
  description: string;
  window_end_exclusive: number;
  /** Binance 24hr-ticker field names with string values (quoteVolumeEstimate instead of quoteVolume). */
  tickers: Array<Record<string, string>>;
}

/** Timeframes the snapshot serves: its native 1h and everything resampled from it. */
interface LoadedIndex {
  index: SnapshotIndex;
  bySymbol: Map<string, SnapshotSymbolInfo>;
  symbols: ReadonlySet<string>;
}

export const SNAPSHOT_TIMEFRAMES: readonly Timeframe[] = TIMEFRAMES.filter(
  (tf) => tf === '1h' || canResample('1h', tf),
);

export const DEFAULT_SNAPSHOT_DIR = fileURLToPath(new URL('../../data/snapshot/', import.meta.url));

/**
 * The bundled offline data: real Binance spot 1h candles (see data/snapshot/README.md). Files are read and
 * decoded on first use and kept in memory, as are the resampled higher timeframes.
 */
export class SnapshotSource {
  readonly exchange = 'binance';
  readonly dir: string;
  private indexLoad?: Promise<LoadedIndex>;
  private readonly series = new Map<string, Promise<Candles>>();

  constructor(options: { dir?: string } = {}) {
    this.dir = options.dir ?? DEFAULT_SNAPSHOT_DIR;
  }

  async index(): Promise<SnapshotIndex> {
    return (await this.loadIndex()).index;
  }

  async listSymbols(): Promise<string[]> {
    return (await this.index()).symbols.map((s) => s.symbol);
  }

  /** Unified symbol for a user form ('BTCUSDT', 'btc-usdt', ...); UNKNOWN_SYMBOL with suggestions if absent. */
  async resolveSymbol(input: string): Promise<string> {
    const { symbols } = await this.loadIndex();
    const symbol = resolveSymbol(input, symbols);
    if (symbol !== undefined) return symbol;
    const suggestions = closeMatches(input, symbols);
    const hint =
      suggestions.length > 0 ? `did you mean ${suggestions.join(', ')}?` : 'see listSymbols for what it has.';
    throw new AppError('UNKNOWN_SYMBOL', `Unknown symbol ${input} on the offline snapshot; ${hint}`, {
      symbol: input,
      source: 'offline',
      suggestions,
    });
  }

  /** All snapshot candles of `symbol` at `timeframe`, oldest first (closed candles only). */
  async candles(symbol: string, timeframe: Timeframe): Promise<Candles> {
    if (!SNAPSHOT_TIMEFRAMES.includes(timeframe)) {
      throw new AppError(
        'UNSUPPORTED_TIMEFRAME',
        `The offline snapshot holds 1h candles and cannot serve ${timeframe}; it serves ${SNAPSHOT_TIMEFRAMES.join(', ')}.`,
        { timeframe, supported: [...SNAPSHOT_TIMEFRAMES] },
      );
    }
    const unified = await this.resolveSymbol(symbol);
    const key = `${unified}|${timeframe}`;
    let load = this.series.get(key);
    if (!load) {
      load =
        timeframe === '1h'
          ? this.decode(unified)
          : this.candles(unified, '1h').then((h) => resample(h, '1h', timeframe));
      this.series.set(key, load);
      load.catch(() => this.series.delete(key));
    }
    return load;
  }

  /**
   * The last `limit` candles whose close time is <= `endTime`; without it the last ones: for a historical
   * snapshot the "latest" data is where it ends.
   */
  async latest(symbol: string, timeframe: Timeframe, limit: number, endTime = Infinity): Promise<Candles> {
    const all = await this.candles(symbol, timeframe);
    const end = countClosedBy(all, timeframe, endTime);
    return sliceCandles(all, Math.max(0, end - limit), end);
  }

  /**
   * Where the snapshot's data ends: the close time of the last 1h candle of `symbol`, or of any symbol.
   * Read from the index, no candle file is decoded. A higher timeframe may end earlier, as its last bucket
   * is dropped when unfinished.
   */
  async lastClose(symbol?: string): Promise<number> {
    const { index, bySymbol } = await this.loadIndex();
    const infos = symbol === undefined ? index.symbols : [bySymbol.get(await this.resolveSymbol(symbol))!];
    return Math.max(...infos.map((s) => candleCloseTime(s.lastTime, index.timeframe)));
  }

  /** The derived 24h tickers bundled with the snapshot. */
  async tickers(): Promise<SnapshotTickers> {
    const file = JSON.parse(await this.read('tickers-24h-derived.json', 'utf8')) as DerivedTickerFile;
    const { bySymbol } = await this.loadIndex();
    const unifiedById = new Map([...bySymbol.values()].map((s) => [s.id, s.symbol]));
    return {
      derived: true,
      note: file.description,
      asOf: file.window_end_exclusive,
      tickers: file.tickers.map((t) => ({
        symbol: unifiedById.get(t.symbol) ?? t.symbol,
        open: Number(t.openPrice),
        high: Number(t.highPrice),
        low: Number(t.lowPrice),
        last: Number(t.lastPrice),
        change: Number(t.priceChange),
        percentage: Number(t.priceChangePercent),
        baseVolume: Number(t.volume),
        quoteVolume: t.quoteVolumeEstimate === undefined ? undefined : Number(t.quoteVolumeEstimate),
        timestamp: file.window_end_exclusive,
      })),
    };
  }

  private loadIndex(): Promise<LoadedIndex> {
    if (!this.indexLoad) {
      this.indexLoad = this.read('index.json', 'utf8').then((text) => {
        const index = JSON.parse(text) as SnapshotIndex;
        const bySymbol = new Map(index.symbols.map((s) => [s.symbol, s]));
        return { index, bySymbol, symbols: new Set(bySymbol.keys()) };
      });
      this.indexLoad.catch(() => (this.indexLoad = undefined)); // retry on the next call, e.g. after a rebuild
    }
    return this.indexLoad;
  }

  private async decode(symbol: string): Promise<Candles> {
    const info = (await this.loadIndex()).bySymbol.get(symbol)!;
    return decodeSnapshotFile(await this.read(info.file)).candles;
  }

  private async read(file: string): Promise<Buffer>;
  private async read(file: string, encoding: 'utf8'): Promise<string>;
  private async read(file: string, encoding?: 'utf8'): Promise<Buffer | string> {
    try {
      return await readFile(join(this.dir, file), encoding);
    } catch (e) {
      throw new AppError(
        'DATA_UNAVAILABLE',
        `The offline snapshot is missing or unreadable (${file} in ${this.dir}).`,
        {
          file,
          dir: this.dir,
          reason: e instanceof Error ? e.message : String(e),
        },
      );
    }
  }
}

/** How many leading candles close at or before `endTime` (close times grow with open times: bisect). */
function countClosedBy(c: Candles, timeframe: Timeframe, endTime: number): number {
  let lo = 0;
  let hi = c.time.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (candleCloseTime(c.time[mid]!, timeframe) <= endTime) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
