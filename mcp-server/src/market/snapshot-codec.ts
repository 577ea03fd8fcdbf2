/**
 * Binary format of one offline-snapshot candle file (`<ID>-<tf>.ohlcv.br`), shared by the builder
 * (scripts/build-snapshot.ts) and the reader (snapshot.ts). See data/snapshot/README.md.
 *
 * Whole file = Brotli( u32le headerLength | header JSON (utf8) | time | open | high | low | close | volume ).
 * - time: unsigned varints of (time - previous time) / timeframe, the first relative to `header.firstTime`,
 *   so a gap-free series is a run of 1s.
 * - prices, when `priceDecimals` is a number: the values scaled by 10^priceDecimals are integers and are
 *   stored as four varint columns predicted from each other (open vs previous close, close vs open,
 *   high above max(open, close), low below min(open, close)); most of these residuals are tiny.
 *   When `priceDecimals` is null the four columns are raw float64 little-endian.
 * - volume: unsigned varints of volume × 10^volumeDecimals, or raw float64 when `volumeDecimals` is null.
 * Decoding divides the integer by 10^decimals, which yields the double nearest to the decimal, i.e. exactly
 * `Number(csvText)` (both operands are exact doubles and IEEE division rounds correctly).
 */
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';
import { allocCandles, type Candles } from '../core/candles.js';
import { timeframeMs, type Timeframe } from './timeframes.js';

export interface SnapshotFileHeader {
  /** Unified symbol, e.g. 'BTC/USDT'. */
  symbol: string;
  /** Exchange market id, e.g. 'BTCUSDT'. */
  id: string;
  base: string;
  quote: string;
  timeframe: Timeframe;
  firstTime: number;
  lastTime: number;
  count: number;
  /** Decimal places of open/high/low/close, or null when they are stored as raw float64. */
  priceDecimals: number | null;
  /** Decimal places of volume, or null when it is stored as raw float64. */
  volumeDecimals: number | null;
  /** Missing candles (not filled): [open time of the first missing candle, number missing]. */
  gaps: Array<[number, number]>;
}

/**
 * Largest scaled integer the format accepts. Prices are stored as signed differences whose zigzag form
 * doubles them, and that doubled value must stay an exactly representable integer (< 2^53).
 */
export const MAX_SCALED_INTEGER = 2 ** 52;

/**
 * Encode a series. `scaled` holds the real open times, and in the price/volume columns either integers
 * (value × 10^decimals) or, where the header says null decimals, the raw values.
 */
export function encodeSnapshotFile(header: SnapshotFileHeader, scaled: Candles): Buffer {
  const n = header.count;
  const tfMs = timeframeMs(header.timeframe);
  const out = new ByteWriter(n * 40 + 64);
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  out.u32(headerBytes.length);
  out.bytes(headerBytes);

  let previousTime = header.firstTime;
  for (let i = 0; i < n; i++) {
    out.varint((scaled.time[i] - previousTime) / tfMs);
    previousTime = scaled.time[i];
  }

  const { open, high, low, close } = scaled;
  if (header.priceDecimals === null) {
    for (const column of [open, high, low, close]) out.float64s(column);
  } else {
    for (let i = 0; i < n; i++) out.varint(zigzag(open[i] - (i > 0 ? close[i - 1] : 0)));
    for (let i = 0; i < n; i++) out.varint(high[i] - Math.max(open[i], close[i]));
    for (let i = 0; i < n; i++) out.varint(Math.min(open[i], close[i]) - low[i]);
    for (let i = 0; i < n; i++) out.varint(zigzag(close[i] - open[i]));
  }

  if (header.volumeDecimals === null) out.float64s(scaled.volume);
  else for (let i = 0; i < n; i++) out.varint(scaled.volume[i]);

  return brotliCompressSync(out.result(), {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 11,
      [constants.BROTLI_PARAM_LGWIN]: 24,
      [constants.BROTLI_PARAM_SIZE_HINT]: out.length,
    },
  });
}

export function decodeSnapshotFile(file: Uint8Array): { header: SnapshotFileHeader; candles: Candles } {
  const input = new ByteReader(brotliDecompressSync(file));
  const headerLength = input.u32();
  const header = JSON.parse(input.utf8(headerLength)) as SnapshotFileHeader;
  const n = header.count;
  const tfMs = timeframeMs(header.timeframe);
  const c = allocCandles(n);

  let time = header.firstTime;
  for (let i = 0; i < n; i++) {
    time += input.varint() * tfMs;
    c.time[i] = time;
  }

  if (header.priceDecimals === null) {
    for (const column of [c.open, c.high, c.low, c.close]) input.float64s(column);
  } else {
    // Rebuild the scaled integers first (the residual columns refer to each other), then scale once.
    const { open, high, low, close } = c;
    for (let i = 0; i < n; i++) open[i] = unzigzag(input.varint()); // still relative to previous close
    for (let i = 0; i < n; i++) high[i] = input.varint();
    for (let i = 0; i < n; i++) low[i] = input.varint();
    for (let i = 0; i < n; i++) close[i] = unzigzag(input.varint());
    for (let i = 0; i < n; i++) {
      open[i] += i > 0 ? close[i - 1] : 0;
      close[i] += open[i];
      high[i] += Math.max(open[i], close[i]);
      low[i] = Math.min(open[i], close[i]) - low[i];
    }
    const scale = 10 ** header.priceDecimals;
    for (const column of [open, high, low, close]) for (let i = 0; i < n; i++) column[i] /= scale;
  }

  if (header.volumeDecimals === null) input.float64s(c.volume);
  else {
    const scale = 10 ** header.volumeDecimals;
    for (let i = 0; i < n; i++) c.volume[i] = input.varint() / scale;
  }
  if (!input.atEnd()) throw new Error(`snapshot file for ${header.symbol} has trailing bytes`);
  return { header, candles: c };
}

// Zigzag maps signed to unsigned (0,-1,1,-2.. -> 0,1,2,3..). Arithmetic, not bit ops: values exceed 32 bits.
const zigzag = (v: number): number => (v >= 0 ? 2 * v : -2 * v - 1);
const unzigzag = (u: number): number => (u % 2 === 0 ? u / 2 : -(u + 1) / 2);

class ByteWriter {
  private buf: Buffer;
  length = 0;

  constructor(capacity: number) {
    this.buf = Buffer.alloc(capacity);
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    const bigger = Buffer.alloc(Math.max(this.buf.length * 2, this.length + extra));
    this.buf.copy(bigger, 0, 0, this.length);
    this.buf = bigger;
  }

  u32(v: number): void {
    this.reserve(4);
    this.length = this.buf.writeUInt32LE(v, this.length);
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  /** Unsigned LEB128 for integers up to 2^53. */
  varint(v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) throw new Error(`varint out of range: ${v}`);
    this.reserve(8);
    while (v >= 128) {
      this.buf[this.length++] = (v % 128) + 128;
      v = Math.floor(v / 128);
    }
    this.buf[this.length++] = v;
  }

  float64s(column: Float64Array): void {
    this.reserve(column.length * 8);
    for (const v of column) this.length = this.buf.writeDoubleLE(v, this.length);
  }

  result(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

class ByteReader {
  private pos = 0;

  constructor(private readonly buf: Buffer) {}

  u32(): number {
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  utf8(length: number): string {
    const s = this.buf.toString('utf8', this.pos, this.pos + length);
    this.pos += length;
    return s;
  }

  varint(): number {
    let value = 0;
    let factor = 1;
    for (;;) {
      const byte = this.buf[this.pos++];
      if (byte === undefined) throw new Error('truncated snapshot file');
      value += (byte & 127) * factor;
      if (byte < 128) return value;
      factor *= 128;
    }
  }

  float64s(into: Float64Array): void {
    for (let i = 0; i < into.length; i++, this.pos += 8) into[i] = this.buf.readDoubleLE(this.pos);
  }

  atEnd(): boolean {
    return this.pos === this.buf.length;
  }
}
