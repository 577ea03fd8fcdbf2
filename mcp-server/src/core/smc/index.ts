/**
 * Smart-money concepts after the smartmoneyconcepts Python library (joshyattridge/smart-money-concepts),
 * made causal for live use: every item carries the bar at which it became known (`confirmedIndex`), and a
 * function run on the first t candles returns exactly the items with `confirmedIndex < t`, lifecycle fields
 * as of bar t-1. Each function documents its deliberate differences from the library.
 */
import type { Candles } from '../candles.js';
import { fairValueGaps, type FairValueGap } from './fvg.js';
import { liquidity, type LiquidityPool } from './liquidity.js';
import { orderBlocks, type OrderBlock } from './orderBlocks.js';
import { breakOfStructure, type StructureBreak } from './structure.js';
import { swingHighsLows, type Swing } from './swings.js';

export { fairValueGaps, liquidity, orderBlocks, breakOfStructure, swingHighsLows };
export type { FairValueGap, LiquidityPool, OrderBlock, StructureBreak, Swing };

/** Everything `analyzeSmc` finds, each list as its own function returns it. */
export interface SmcAnalysis {
  swings: Swing[];
  fairValueGaps: FairValueGap[];
  orderBlocks: OrderBlock[];
  structure: StructureBreak[];
  liquidity: LiquidityPool[];
}

/** Every concept with the library's defaults except the swing length (library default 50; ours 5). */
export function analyzeSmc(c: Candles, { swingLength = 5 }: { swingLength?: number } = {}): SmcAnalysis {
  const swings = swingHighsLows(c, swingLength);
  return {
    swings,
    fairValueGaps: fairValueGaps(c),
    orderBlocks: orderBlocks(c, swings),
    structure: breakOfStructure(c, swings),
    liquidity: liquidity(c, swings),
  };
}
