/**
 * Build the bundled offline snapshot (data/snapshot/) from the real Binance 1h CSVs.
 *
 *   tsx scripts/build-snapshot.ts [sourceDir=/work/shared/data/market]
 *
 * Keeps, per symbol, everything from min(2025-01-01, the Monday on or before "last candle - 2 years") to the
 * end, so the 16 history symbols carry their last two years and every one of the 404 symbols covers the
 * universe window 2025-01-01..2025-06-18. Every decoded value is checked against `Number(csvText)`.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { allocCandles, type Candles } from '../src/core/candles.js';
import {
  decodeSnapshotFile,
  encodeSnapshotFile,
  MAX_SCALED_INTEGER,
  type SnapshotFileHeader,
} from '../src/market/snapshot-codec.js';
import type { SnapshotSymbolInfo } from '../src/market/snapshot.js';
import { candleOpenTime, timeframeMs } from '../src/market/timeframes.js';

interface ManifestFile {
  file: string;
  symbol: string;
  base: string;
  quote: string;
  timeframe: string;
  group: string;
  sha256: string;
}

const UNIVERSE_START = Date.UTC(2025, 0, 1);
const TICKERS_FILE = 'tickers-24h-derived.json';

const sourceDir = process.argv[2] ?? '/work/shared/data/market';
const outDir = fileURLToPath(new URL('../data/snapshot/', import.meta.url));
const candlesDir = join(outDir, 'candles');

const manifest = JSON.parse(readFileSync(join(sourceDir, 'manifest.json'), 'utf8')) as {
  files: ManifestFile[];
};
const selected = manifest.files
  .filter((f) => f.timeframe === '1h' && (f.group === 'history' || f.group === 'universe'))
  .sort((a, b) => a.symbol.localeCompare(b.symbol));

rmSync(candlesDir, { recursive: true, force: true });
mkdirSync(candlesDir, { recursive: true });

const entries: SnapshotSymbolInfo[] = [];
for (const f of selected) {
  const gz = readFileSync(join(sourceDir, f.file));
  const sha = createHash('sha256').update(gz).digest('hex');
  if (sha !== f.sha256) throw new Error(`${f.file}: sha256 ${sha} does not match the manifest`);

  const rows = parseCsv(gunzipSync(gz).toString('utf8'), f.file);
  const lastTime = Number(rows[rows.length - 1]![0]);
  const twoYearsBefore = new Date(lastTime);
  twoYearsBefore.setUTCFullYear(twoYearsBefore.getUTCFullYear() - 2);
  // Start on a Monday 00:00 UTC so the first 4h/1d/1w buckets of the resampled series are complete.
  const start = Math.min(UNIVERSE_START, candleOpenTime(twoYearsBefore.getTime(), '1w'));
  const kept = rows.filter((r) => Number(r[0]) >= start);

  const { header, scaled } = toScaledSeries(f, kept);
  const encoded = encodeSnapshotFile(header, scaled);
  verifyRoundTrip(encoded, kept, f.file);

  const file = `candles/${f.symbol}-1h.ohlcv.br`;
  writeFileSync(join(outDir, file), encoded);
  entries.push({
    symbol: header.symbol,
    id: header.id,
    base: header.base,
    quote: header.quote,
    group: f.group as SnapshotSymbolInfo['group'],
    file,
    firstTime: header.firstTime,
    lastTime: header.lastTime,
    rows: header.count,
    missingCandles: header.gaps.reduce((sum, [, missing]) => sum + missing, 0),
    bytes: encoded.length,
  });
}

const groupSymbols = (group: string): string[] =>
  entries.filter((e) => e.group === group).map((e) => e.symbol);
const index = {
  format: 'crypto-mcp-snapshot/1',
  exchange: 'binance',
  market: 'spot',
  timeframe: '1h',
  credits: 'Candles © Binance (binance.com), public spot market data. Cite "Binance" as the data source.',
  sourceNote:
    'Real Binance spot 1h klines as published by Binance, collected from freqtrade download-data files in public ' +
    'GitHub repositories and cross-checked between independent copies (0 conflicts); gaps are exchange outages ' +
    'and are not filled. tickers-24h-derived.json is computed from these candles, not captured from the API.',
  universeWindow: {
    start: UNIVERSE_START,
    end: Math.max(...entries.filter((e) => e.group === 'universe').map((e) => e.lastTime)),
  },
  groups: { history: groupSymbols('history'), universe: groupSymbols('universe') },
  symbols: entries,
};
writeFileSync(join(outDir, 'index.json'), JSON.stringify(index, null, 1) + '\n');
// Copied by content, not copyFileSync, so the read-only mode of the source does not carry over.
writeFileSync(join(outDir, TICKERS_FILE), readFileSync(join(sourceDir, TICKERS_FILE)));

const totalBytes = [
  'index.json',
  TICKERS_FILE,
  ...readdirSync(outDir).filter((name) => name.endsWith('.md')),
  ...entries.map((e) => e.file),
].reduce((sum, name) => sum + statSync(join(outDir, name)).size, 0);
const totalRows = entries.reduce((sum, e) => sum + e.rows, 0);
console.log(
  `snapshot: ${entries.length} symbols, ${totalRows} candles, ${(totalBytes / 1e6).toFixed(2)} MB in ${outDir}`,
);

/** Rows of CSV text fields [timestamp, open, high, low, close, volume], header dropped. */
function parseCsv(text: string, name: string): string[][] {
  const lines = text.trim().split('\n');
  if (lines[0] !== 'timestamp,open,high,low,close,volume') throw new Error(`${name}: unexpected header`);
  return lines.slice(1).map((line) => {
    const fields = line.split(',');
    if (fields.length !== 6 || !fields.every((v) => /^\d+(\.\d+)?$/.test(v))) {
      throw new Error(`${name}: unexpected row "${line}"`);
    }
    return fields;
  });
}

function decimalsOf(text: string): number {
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}

/** `text` × 10^decimals as an exact integer, built from the digits rather than by float multiplication. */
function scaledInteger(text: string, decimals: number): number {
  const [whole, fraction = ''] = text.split('.');
  return Number(whole + fraction.padEnd(decimals, '0'));
}

function toScaledSeries(f: ManifestFile, rows: string[][]): { header: SnapshotFileHeader; scaled: Candles } {
  const n = rows.length;
  let priceDecimals = 0;
  let volumeDecimals = 0;
  for (const r of rows) {
    for (let k = 1; k < 5; k++) priceDecimals = Math.max(priceDecimals, decimalsOf(r[k]!));
    volumeDecimals = Math.max(volumeDecimals, decimalsOf(r[5]!));
  }
  const scaled = allocCandles(n);
  const priceColumns = [scaled.open, scaled.high, scaled.low, scaled.close];
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    scaled.time[i] = Number(r[0]);
    for (let k = 0; k < 4; k++) priceColumns[k]![i] = scaledInteger(r[k + 1]!, priceDecimals);
    scaled.volume[i] = scaledInteger(r[5]!, volumeDecimals);
  }

  const fits = (columns: Float64Array[]): boolean =>
    columns.every((col) => col.every((v) => v < MAX_SCALED_INTEGER));
  // The price residuals assume high >= max(open, close) and low <= min(open, close).
  const ordered = scaled.high.every(
    (h, i) =>
      h >= Math.max(scaled.open[i], scaled.close[i]) &&
      scaled.low[i] <= Math.min(scaled.open[i], scaled.close[i]),
  );
  const pricesAsIntegers = priceDecimals <= 22 && fits(priceColumns) && ordered;
  const volumeAsIntegers = volumeDecimals <= 22 && fits([scaled.volume]);
  // Fallback: raw float64 columns for whatever cannot be stored as scaled integers.
  if (!pricesAsIntegers) for (let k = 0; k < 4; k++) priceColumns[k]!.set(rows.map((r) => Number(r[k + 1])));
  if (!volumeAsIntegers) scaled.volume.set(rows.map((r) => Number(r[5])));

  const tfMs = timeframeMs('1h');
  const gaps: Array<[number, number]> = [];
  for (let i = 1; i < n; i++) {
    const missing = (scaled.time[i] - scaled.time[i - 1]) / tfMs - 1;
    if (missing > 0) gaps.push([scaled.time[i - 1] + tfMs, missing]);
  }

  const header: SnapshotFileHeader = {
    symbol: `${f.base}/${f.quote}`,
    id: f.symbol,
    base: f.base,
    quote: f.quote,
    timeframe: '1h',
    firstTime: scaled.time[0],
    lastTime: scaled.time[n - 1],
    count: n,
    priceDecimals: pricesAsIntegers ? priceDecimals : null,
    volumeDecimals: volumeAsIntegers ? volumeDecimals : null,
    gaps,
  };
  return { header, scaled };
}

function verifyRoundTrip(encoded: Buffer, rows: string[][], name: string): void {
  const { candles } = decodeSnapshotFile(encoded);
  const columns = [candles.time, candles.open, candles.high, candles.low, candles.close, candles.volume];
  if (candles.time.length !== rows.length) throw new Error(`${name}: decoded ${candles.time.length} rows`);
  rows.forEach((r, i) =>
    columns.forEach((col, k) => {
      if (col[i] !== Number(r[k]))
        throw new Error(`${name}: row ${i} column ${k} decodes to ${col[i]}, CSV ${r[k]}`);
    }),
  );
}
