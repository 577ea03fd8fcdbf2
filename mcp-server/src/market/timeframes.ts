import { AppError } from '../errors.js';

/** Candle timeframes in ccxt/Binance notation. */
export const TIMEFRAMES = [
  '1m',
  '3m',
  '5m',
  '15m',
  '30m',
  '1h',
  '2h',
  '4h',
  '6h',
  '8h',
  '12h',
  '1d',
  '3d',
  '1w',
  '1M',
] as const;

export type Timeframe = (typeof TIMEFRAMES)[number];

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
export const DAY_MS = 24 * HOUR;
const WEEK = 7 * DAY_MS;
/** The Unix epoch fell on a Thursday; the first Monday 00:00 UTC after it is 4 days later. */
const FIRST_MONDAY = 4 * DAY_MS;

const DURATION_MS: Record<Timeframe, number> = {
  '1m': MINUTE,
  '3m': 3 * MINUTE,
  '5m': 5 * MINUTE,
  '15m': 15 * MINUTE,
  '30m': 30 * MINUTE,
  '1h': HOUR,
  '2h': 2 * HOUR,
  '4h': 4 * HOUR,
  '6h': 6 * HOUR,
  '8h': 8 * HOUR,
  '12h': 12 * HOUR,
  '1d': DAY_MS,
  '3d': 3 * DAY_MS,
  '1w': WEEK,
  // Nominal length (ccxt's convention); calendar months vary, so use candleCloseTime for '1M' boundaries.
  '1M': 30 * DAY_MS,
};

export function isTimeframe(value: string): value is Timeframe {
  return Object.hasOwn(DURATION_MS, value);
}

/**
 * Validate a user-supplied timeframe. Only the case of `M` (month) vs `m` (minute) matters, so e.g. `1H`
 * and `1D` are accepted and normalised.
 */
export function parseTimeframe(value: string): Timeframe {
  const trimmed = value.trim();
  const normalised = trimmed.endsWith('M') ? trimmed : trimmed.toLowerCase();
  if (isTimeframe(normalised)) return normalised;
  throw new AppError(
    'UNSUPPORTED_TIMEFRAME',
    `Unsupported timeframe "${value}"; use one of ${TIMEFRAMES.join(', ')}.`,
    {
      timeframe: value,
      supported: [...TIMEFRAMES],
    },
  );
}

/** Duration of one candle in milliseconds (nominal 30 days for '1M'). */
export function timeframeMs(tf: Timeframe): number {
  return DURATION_MS[tf];
}

/**
 * Open time of the candle containing `time`, aligned the way Binance aligns klines: multiples of the
 * duration since the Unix epoch (so 4h candles open at 00/04/08.. UTC and 1d at 00:00 UTC), weeks on
 * Monday 00:00 UTC and months on the 1st 00:00 UTC.
 */
export function candleOpenTime(time: number, tf: Timeframe): number {
  if (tf === '1M') {
    const d = new Date(time);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  }
  if (tf === '1w') return Math.floor((time - FIRST_MONDAY) / WEEK) * WEEK + FIRST_MONDAY;
  const ms = DURATION_MS[tf];
  return Math.floor(time / ms) * ms;
}

/** Close time (exclusive end) of the candle that opens at `openTime`: the open time of the next candle. */
export function candleCloseTime(openTime: number, tf: Timeframe): number {
  if (tf === '1M') {
    const d = new Date(openTime);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  }
  return openTime + DURATION_MS[tf];
}
