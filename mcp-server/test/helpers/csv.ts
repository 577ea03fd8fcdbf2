import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { allocCandles, type Candles } from '../../src/core/candles.js';

/** Read a `timestamp,open,high,low,close,volume` CSV (optionally gzipped) into columnar candles. */
export function loadCandlesCsv(path: string, limit = Infinity): Candles {
  const raw = readFileSync(path);
  const text = (path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  const lines = text.split('\n').filter((l) => l.length > 0 && /^\d/.test(l));
  const n = Math.min(lines.length, limit);
  const c = allocCandles(n);
  for (let i = 0; i < n; i++) {
    const f = lines[i]!.split(',');
    c.time[i] = Number(f[0]);
    c.open[i] = Number(f[1]);
    c.high[i] = Number(f[2]);
    c.low[i] = Number(f[3]);
    c.close[i] = Number(f[4]);
    c.volume[i] = Number(f[5]);
  }
  return c;
}

export const fixturePath = (name: string): string => new URL(`../fixtures/${name}`, import.meta.url).pathname;
