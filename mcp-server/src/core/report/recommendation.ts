/**
 * The scored recommendation. Each factor adds a signed score (bullish positive) with the reason that
 * produced it; the sum, clamped to ±100, decides the action:
 *   score >= +30 -> BUY, score <= -30 -> SELL, otherwise HOLD.
 * Confidence is |score| for BUY/SELL (30-100) and 100 - 2|score| for HOLD (how balanced the evidence
 * is, 42-100). Entries are at the last close; stops sit beyond the nearest structure within 3 ATR
 * (else 1.5 ATR); targets are the nearest opposing levels at least half a risk unit away (closer ones
 * are noise), completed with 2R/3R multiples. A BUY or SELL whose first target pays less than
 * MIN_RISK_REWARD becomes HOLD (see `buildReport`): the level in the way is reported, not skipped.
 */
import type { LevelReport, Reason, Recommendation } from './types.js';
import { round } from './util.js';

export const ACTION_THRESHOLD = 30;
/** A trade must be able to earn at least what it risks before its first target. */
export const MIN_RISK_REWARD = 1;

export interface StopCandidate {
  price: number;
  kind: string;
}

export function decide(reasons: Reason[]): Pick<Recommendation, 'action' | 'confidence' | 'score'> {
  const raw = reasons.reduce((s, r) => s + r.score, 0);
  const score = Math.max(-100, Math.min(100, raw));
  const action = score >= ACTION_THRESHOLD ? 'BUY' : score <= -ACTION_THRESHOLD ? 'SELL' : 'HOLD';
  const confidence = action === 'HOLD' ? 100 - 2 * Math.abs(score) : Math.abs(score);
  return { action, confidence: Math.round(Math.max(0, Math.min(100, confidence))), score: round(score, 6) };
}

export function tradePlan(
  action: Recommendation['action'],
  entry: number,
  atr: number,
  stopCandidates: StopCandidate[],
  opposingLevels: LevelReport[],
): Pick<Recommendation, 'entry' | 'stop_loss' | 'stop_basis' | 'stop_reference' | 'targets' | 'risk_reward'> {
  if (action === 'HOLD')
    return {
      entry: null,
      stop_loss: null,
      stop_basis: null,
      stop_reference: null,
      targets: [],
      risk_reward: null,
    };
  const side = action === 'BUY' ? 1 : -1;
  // Structure candidates on the protective side, between 0.5 and 3 ATR away; the nearest wins.
  const structural = stopCandidates
    .map((c) => ({ ...c, dist: (entry - c.price) * side }))
    .filter((c) => c.dist >= 0.5 * atr && c.dist <= 3 * atr)
    .sort((a, b) => a.dist - b.dist)[0];
  const stop = structural ? structural.price - side * 0.2 * atr : entry - side * 1.5 * atr;
  const risk = Math.abs(entry - stop);
  const targets: { price: number; basis: string }[] = [];
  for (const l of opposingLevels) {
    if ((l.price - entry) * side >= 0.5 * risk) targets.push({ price: l.price, basis: l.kind });
    if (targets.length === 3) break;
  }
  for (const r of [2, 3]) {
    if (targets.length >= 2) break;
    const price = entry + side * r * risk;
    if (!targets.some((t) => (t.price - price) * side >= 0)) targets.push({ price, basis: `${r}R` });
  }
  targets.sort((a, b) => (a.price - b.price) * side);
  return {
    entry: round(entry),
    stop_loss: round(stop),
    stop_basis: structural ? 'structure' : 'atr',
    stop_reference: structural ? { price: structural.price, kind: structural.kind } : null,
    targets: targets.map((t) => ({ price: round(t.price), basis: t.basis })),
    risk_reward: round(Math.abs(targets[0]!.price - entry) / risk, 6),
  };
}
