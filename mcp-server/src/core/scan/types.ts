/** What the market scanner's detectors return: plain numbers and bar indices, ready to cross a worker boundary. */
export const SCAN_TYPES = ['breakouts', 'reversals', 'institutional', 'volume_surge'] as const;
export type ScanType = (typeof SCAN_TYPES)[number];

export type Direction = 'bullish' | 'bearish';

/** One piece of evidence: what was seen, on which candle, with its numbers. */
export interface ScanSignal {
  /** Machine name, e.g. `donchian_breakout`, `choch`, `order_block_retest`. */
  name: string;
  direction: Direction;
  /** Bar the signal is based on, and its open time (ms). */
  index: number;
  time: number;
  /** 0-100, integer. */
  strength: number;
  /** One sentence with the numbers behind it. */
  detail: string;
  /** The measured values, by name (prices in the quote currency, ratios as plain numbers). */
  values: Record<string, number>;
  /** The signal no longer holds once a candle closes beyond this price (below it for bullish). */
  invalidation: number;
  /** What the invalidation price is, e.g. "the sweep candle's low". */
  invalidationBasis: string;
}

/** The signals of one scan type and direction on one market, combined. */
export interface ScanHit {
  type: ScanType;
  direction: Direction;
  /** 0-100, integer: the strongest signal plus a quarter of each further one, capped at 100. */
  strength: number;
  /** The strongest signal's bar and open time: the candle the hit is based on. */
  index: number;
  time: number;
  /** Bars between that candle and the evaluated (last) one. */
  barsAgo: number;
  /** Close of the evaluated candle. */
  close: number;
  /** The strongest signal's invalidation. */
  invalidation: number;
  invalidationBasis: string;
  /** Strongest first. */
  signals: ScanSignal[];
}
