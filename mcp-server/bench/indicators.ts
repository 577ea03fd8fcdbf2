/**
 * Indicator benchmark: per-call time of ours, TA-Lib (native binding) and technicalindicators on
 * 100,000 real BTCUSDT 1m candles, all measured in this run. Our time includes allocating the outputs;
 * peers get plain arrays prepared beforehand, and their own input/output conversion is part of a call.
 */
import { createRequire } from 'node:module';
import {
  adx,
  atr,
  bollinger,
  ema,
  macd,
  obv,
  rsi,
  sma,
  stochastic,
  vwap,
} from '../src/core/indicators/index.js';
import { loadCandlesCsv } from '../test/helpers/csv.js';
import { benchDataPath, fmt, time } from './harness.js';

type Calculator = { calculate(input: object): unknown };
const require = createRequire(import.meta.url);
const talib = require('talib') as { execute(params: object): unknown };
const ti = require('technicalindicators') as Record<string, Calculator>;

/** Time budget per measurement; with ROUNDS rounds the whole suite stays well under a minute. */
const BUDGET_MS = 250;
/**
 * Each implementation is measured in ROUNDS interleaved rounds and keeps its best median, so a burst of
 * load from other processes on the machine cannot skew one side of a ratio.
 */
const ROUNDS = 3;

interface Row {
  indicator: string;
  ours: () => unknown;
  talib?: () => unknown;
  ti?: () => unknown;
}

/** Median per-call time, with the iteration count sized from one trial call to fit the budget. */
function measure(name: string, fn: () => unknown): number {
  const t0 = performance.now();
  fn();
  const once = Math.max(performance.now() - t0, 0.01);
  const iterations = Math.min(300, Math.max(5, Math.round(BUDGET_MS / once)));
  return time(name, fn, iterations, Math.min(20, Math.ceil(iterations / 5))).p50Ms;
}

const ratio = (peer: number | undefined, ours: number): string =>
  peer === undefined ? 'n/a' : `${(peer / ours).toFixed(1)}x`;

export async function run(): Promise<void> {
  const candles = loadCandlesCsv(benchDataPath('BTCUSDT-1m.csv.gz'), 100_000);
  const { high, low, close, volume } = candles;
  const n = close.length;
  const values = Array.from(close);
  const hlc = { high: Array.from(high), low: Array.from(low), close: values };
  const range = { startIdx: 0, endIdx: n - 1 };
  const talibHlc = { ...range, ...hlc };

  const rows: Row[] = [
    {
      indicator: 'SMA(20)',
      ours: () => sma(close, 20),
      talib: () => talib.execute({ name: 'SMA', ...range, inReal: values, optInTimePeriod: 20 }),
      ti: () => ti.SMA!.calculate({ period: 20, values }),
    },
    {
      indicator: 'EMA(20)',
      ours: () => ema(close, 20),
      talib: () => talib.execute({ name: 'EMA', ...range, inReal: values, optInTimePeriod: 20 }),
      ti: () => ti.EMA!.calculate({ period: 20, values }),
    },
    {
      indicator: 'RSI(14)',
      ours: () => rsi(close, 14),
      talib: () => talib.execute({ name: 'RSI', ...range, inReal: values, optInTimePeriod: 14 }),
      ti: () => ti.RSI!.calculate({ period: 14, values }),
    },
    {
      indicator: 'MACD(12,26,9)',
      ours: () => macd(close, 12, 26, 9),
      talib: () =>
        talib.execute({
          name: 'MACD',
          ...range,
          inReal: values,
          optInFastPeriod: 12,
          optInSlowPeriod: 26,
          optInSignalPeriod: 9,
        }),
      ti: () =>
        ti.MACD!.calculate({
          values,
          fastPeriod: 12,
          slowPeriod: 26,
          signalPeriod: 9,
          SimpleMAOscillator: false,
          SimpleMASignal: false,
        }),
    },
    {
      indicator: 'Bollinger(20,2)',
      ours: () => bollinger(close, 20, 2),
      talib: () =>
        talib.execute({
          name: 'BBANDS',
          ...range,
          inReal: values,
          optInTimePeriod: 20,
          optInNbDevUp: 2,
          optInNbDevDn: 2,
          optInMAType: 0,
        }),
      ti: () => ti.BollingerBands!.calculate({ period: 20, stdDev: 2, values }),
    },
    {
      indicator: 'ATR(14)',
      ours: () => atr(high, low, close, 14),
      talib: () => talib.execute({ name: 'ATR', ...talibHlc, optInTimePeriod: 14 }),
      ti: () => ti.ATR!.calculate({ ...hlc, period: 14 }),
    },
    {
      // Ours returns ADX, +DI and -DI from one call; the TA-Lib time is its ADX call alone.
      indicator: 'ADX(14) (+DI/-DI)',
      ours: () => adx(high, low, close, 14),
      talib: () => talib.execute({ name: 'ADX', ...talibHlc, optInTimePeriod: 14 }),
      ti: () => ti.ADX!.calculate({ ...hlc, period: 14 }),
    },
    {
      indicator: 'Stochastic(14,3,3)',
      ours: () => stochastic(high, low, close, 14, 3, 3),
      talib: () =>
        talib.execute({
          name: 'STOCH',
          ...talibHlc,
          optInFastK_Period: 14,
          optInSlowK_Period: 3,
          optInSlowK_MAType: 0,
          optInSlowD_Period: 3,
          optInSlowD_MAType: 0,
        }),
      // technicalindicators has only the fast stochastic (%K unsmoothed); the nearest peer.
      ti: () => ti.Stochastic!.calculate({ ...hlc, period: 14, signalPeriod: 3 }),
    },
    {
      indicator: 'OBV',
      ours: () => obv(close, volume),
      talib: () => talib.execute({ name: 'OBV', ...range, inReal: values, volume: Array.from(volume) }),
      ti: () => ti.OBV!.calculate({ close: values, volume: Array.from(volume) }),
    },
    {
      // technicalindicators' VWAP never resets: compare with ours anchored at bar 0. TA-Lib has none.
      indicator: 'VWAP (anchored @0)',
      ours: () => vwap(candles, { anchor: 'index', index: 0 }),
      ti: () => ti.VWAP!.calculate({ ...hlc, volume: Array.from(volume) }),
    },
    { indicator: 'VWAP (session)', ours: () => vwap(candles, { anchor: 'session' }) },
  ];

  console.log(
    `\nIndicators: time per call (best median of ${ROUNDS} rounds) on ${n.toLocaleString('en-US')} BTCUSDT 1m candles`,
  );
  const header = ['indicator', 'ours', 'talib', 'technicalindicators', 'talib/ours', 'ti/ours'];
  const widths = [20, 10, 10, 20, 11, 9];
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) {
    let ours = Infinity;
    let talibMs = row.talib && Infinity;
    let tiMs = row.ti && Infinity;
    for (let round = 0; round < ROUNDS; round++) {
      ours = Math.min(ours, measure(`${row.indicator} ours`, row.ours));
      if (row.talib) talibMs = Math.min(talibMs!, measure(`${row.indicator} talib`, row.talib));
      if (row.ti) tiMs = Math.min(tiMs!, measure(`${row.indicator} ti`, row.ti));
    }
    console.log(
      line([
        row.indicator,
        fmt(ours),
        talibMs === undefined ? 'n/a' : fmt(talibMs),
        tiMs === undefined ? 'n/a' : fmt(tiMs),
        ratio(talibMs, ours),
        ratio(tiMs, ours),
      ]),
    );
  }
}
