/**
 * Worker-thread entry of the scanner's piscina pool (the default export is what piscina calls). It
 * receives candle columns as transferred Float64Array buffers, runs the core detectors and returns
 * plain hits and metrics. It must be plain JavaScript at run time, so the pool uses it only from the
 * build (dist/services/scan-worker.js); elsewhere the scanner calls `runScanTask` inline.
 */
import type { Candles } from '../core/candles.js';
import { scanCandles, type CandleScan, type ScanType } from '../core/scan/index.js';

/** One market's candles: time, open, high, low, close, volume, each a Float64Array of the same length. */
export interface ScanTaskItem {
  key: string;
  columns: [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
}

export interface ScanTask {
  types: ScanType[];
  items: ScanTaskItem[];
}

/** Per market: its scan, or why the detectors failed on it (a bug, reported rather than fatal). */
export type ScanTaskResult = Array<{ key: string; scan: CandleScan } | { key: string; error: string }>;

export function runScanTask(task: ScanTask): ScanTaskResult {
  return task.items.map(({ key, columns }) => {
    const [time, open, high, low, close, volume] = columns;
    const candles: Candles = { time, open, high, low, close, volume };
    try {
      return { key, scan: scanCandles(candles, task.types) };
    } catch (e) {
      return { key, error: e instanceof Error ? e.message : String(e) };
    }
  });
}

export default runScanTask;
