/**
 * Smart-money zones as the report shows them: order blocks not yet broken (untouched or mitigated) and
 * fair value gaps not yet filled, nearest to price first, with distances.
 */
import type { Candles } from '../candles.js';
import type { FairValueGap, LiquidityPool, OrderBlock, StructureBreak, Swing } from '../smc/index.js';
import type {
  FairValueGapReport,
  LevelReport,
  LiquidityReport,
  OrderBlockReport,
  StructureEventReport,
} from './types.js';
import { distancePct, iso, pct, round } from './util.js';

const MAX_ZONES = 5;

export function structureEvent(c: Candles, e: StructureBreak): StructureEventReport {
  return {
    type: e.type,
    direction: e.direction,
    level: e.level,
    swing_at: iso(c.time[e.swingIndex]!),
    broken_at: iso(c.time[e.index]!),
  };
}

export function activeOrderBlocks(c: Candles, blocks: OrderBlock[], price: number): OrderBlockReport[] {
  const n = c.close.length;
  // Strength: the block's volume relative to the average 3-candle volume of the window.
  let total = 0;
  for (let i = 0; i < n; i++) total += c.volume[i]!;
  const avg3 = (total / n) * 3;
  return blocks
    .filter((b) => b.state === 'active' || b.state === 'mitigated')
    .map((b) => ({
      type: b.type,
      top: b.top,
      bottom: b.bottom,
      formed_at: iso(c.time[b.index]!),
      confirmed_at: iso(c.time[b.confirmedIndex]!),
      state: b.state,
      distance_pct: round(distancePct(price, b.bottom, b.top), 4),
      strength: Math.round(Math.min(100, avg3 > 0 ? (b.volume / avg3) * 50 : 0)),
      volume: round(b.volume),
    }))
    .sort((a, b) => a.distance_pct - b.distance_pct)
    .slice(0, MAX_ZONES);
}

export function openFairValueGaps(c: Candles, gaps: FairValueGap[], price: number): FairValueGapReport[] {
  return gaps
    .filter((g) => g.state !== 'filled')
    .map((g) => ({
      type: g.type,
      top: g.top,
      bottom: g.bottom,
      formed_at: iso(c.time[g.index]!),
      confirmed_at: iso(c.time[g.confirmedIndex]!),
      state: g.state === 'open' ? 'open' : 'partially filled',
      distance_pct: round(distancePct(price, g.bottom, g.top), 4),
      filled_pct: round(g.filledFraction * 100, 4),
    }))
    .sort((a, b) => a.distance_pct - b.distance_pct)
    .slice(0, MAX_ZONES);
}

export function liquidityZones(c: Candles, pools: LiquidityPool[], price: number): LiquidityReport[] {
  return pools
    .map((p) => ({
      type: p.type,
      level: p.level,
      touches: p.swingIndices.length,
      confirmed_at: iso(c.time[p.confirmedIndex]!),
      swept_at: p.sweptIndex === null ? null : iso(c.time[p.sweptIndex]!),
      _distance: Math.abs(p.level - price),
      _swept: p.sweptIndex !== null,
    }))
    .sort((a, b) => Number(a._swept) - Number(b._swept) || a._distance - b._distance)
    .slice(0, MAX_ZONES)
    .map(({ _distance: _d, _swept: _s, ...z }) => z);
}

/**
 * Support below and resistance above price from unbroken swing levels, active zone edges and
 * unswept liquidity; levels closer than `mergeDistance` to a nearer one are merged into it.
 */
export function keyLevels(
  c: Candles,
  price: number,
  swings: Swing[],
  blocks: OrderBlockReport[],
  gaps: FairValueGapReport[],
  pools: LiquidityReport[],
  mergeDistance: number,
): { support: LevelReport[]; resistance: LevelReport[] } {
  const candidates: { price: number; kind: string; at: string | null }[] = [];
  for (const s of swings.slice(-20))
    candidates.push({ price: s.level, kind: `swing ${s.type}`, at: iso(c.time[s.index]!) });
  for (const b of blocks) {
    candidates.push({
      price: b.type === 'bullish' ? b.top : b.bottom,
      kind: `${b.type} order block`,
      at: b.formed_at,
    });
  }
  for (const g of gaps) {
    candidates.push({
      price: g.type === 'bullish' ? g.top : g.bottom,
      kind: `${g.type} fair value gap`,
      at: g.formed_at,
    });
  }
  for (const p of pools) {
    if (p.swept_at === null)
      candidates.push({ price: p.level, kind: `${p.type} liquidity`, at: p.confirmed_at });
  }
  const pick = (side: 'support' | 'resistance'): LevelReport[] => {
    const chosen: LevelReport[] = [];
    const list = candidates
      .filter((l) => (side === 'support' ? l.price < price : l.price > price))
      .sort((a, b) => Math.abs(a.price - price) - Math.abs(b.price - price));
    for (const l of list) {
      if (chosen.some((x) => Math.abs(x.price - l.price) < mergeDistance)) continue;
      chosen.push({ ...l, distance_pct: round(pct(Math.abs(l.price - price), price), 4) });
      if (chosen.length === MAX_ZONES) break;
    }
    return chosen;
  };
  return { support: pick('support'), resistance: pick('resistance') };
}
