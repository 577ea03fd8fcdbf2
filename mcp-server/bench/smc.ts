/**
 * Smart-money concepts on 100,000 real BTCUSDT 1m candles: each function alone (the swing-based ones on
 * swings computed beforehand) and the whole set as `analyzeSmc` runs it. Goal: the whole set under 50 ms.
 * Times include building the output objects.
 */
import {
  analyzeSmc,
  breakOfStructure,
  fairValueGaps,
  liquidity,
  orderBlocks,
  swingHighsLows,
} from '../src/core/smc/index.js';
import { loadCandlesCsv } from '../test/helpers/csv.js';
import { benchDataPath, fmt, time, type Timing } from './harness.js';

const GOAL_MS = 50;

export async function run(): Promise<void> {
  const c = loadCandlesCsv(benchDataPath('BTCUSDT-1m.csv.gz'), 100_000);
  const swings = swingHighsLows(c, 5);
  const counts = analyzeSmc(c);
  const cases: [string, () => unknown, number][] = [
    ['swingHighsLows (length 5)', () => swingHighsLows(c, 5), counts.swings.length],
    ['fairValueGaps', () => fairValueGaps(c), counts.fairValueGaps.length],
    ['orderBlocks', () => orderBlocks(c, swings), counts.orderBlocks.length],
    ['breakOfStructure (BOS/CHoCH)', () => breakOfStructure(c, swings), counts.structure.length],
    ['liquidity', () => liquidity(c, swings), counts.liquidity.length],
    ['total: analyzeSmc (all of the above)', () => analyzeSmc(c), NaN],
  ];

  console.log(`\n== smart-money concepts, ${c.close.length.toLocaleString('en')} BTCUSDT 1m candles ==`);
  let total: Timing | undefined;
  for (const [name, fn, items] of cases) {
    const t = time(name, fn, 50, 10);
    total = t;
    const found = Number.isNaN(items) ? '' : `${items.toLocaleString('en')} items`;
    console.log(
      `  ${name.padEnd(38)} mean ${fmt(t.meanMs).padStart(9)}  p50 ${fmt(t.p50Ms).padStart(9)}  p95 ${fmt(t.p95Ms).padStart(9)}  ${found}`,
    );
  }
  const verdict = total!.p50Ms < GOAL_MS ? 'meets' : 'MISSES';
  console.log(`  total p50 ${fmt(total!.p50Ms)} ${verdict} the ${GOAL_MS} ms goal`);
}
