import { expect } from 'vitest';
import { analyzeCryptoOutput, type AnalyzeCryptoOutput } from '../../src/tools/analyze-crypto.js';

/** The last BTCUSDT 1h candle in the bundled snapshot opens 2026-06-20T09:00Z, so it closes at 10:00Z. */
export const SNAPSHOT_BTC_1H_AS_OF = '2026-06-20T10:00:00.000Z';

/**
 * Checks that a structured analyze_crypto result is complete and self-consistent: it matches the
 * output schema, names its source and age, and its trade plan is on the right side of the price.
 */
export function expectCompleteAnalysis(
  structured: unknown,
  expected: { symbol: string; timeframe: string; candles?: number },
): AnalyzeCryptoOutput {
  const r = analyzeCryptoOutput.parse(structured);
  expect(r.symbol).toBe(expected.symbol);
  expect(r.timeframe).toBe(expected.timeframe);
  if (expected.candles !== undefined) expect(r.candles).toBe(expected.candles);
  expect(['exchange', 'offline']).toContain(r.data_source);
  expect(Date.parse(r.as_of)).toBeGreaterThan(Date.parse(r.first_candle));
  // The age is measured when the answer is made: now minus the last close, within a test's runtime.
  const age = Date.now() - Date.parse(r.as_of);
  expect(r.data_age_ms).toBeLessThanOrEqual(age);
  expect(r.data_age_ms).toBeGreaterThan(age - 120_000);
  expect(r.price.last_close).toBeGreaterThan(0);
  expect(r.price.low).toBeLessThanOrEqual(r.price.last_close);
  expect(r.price.high).toBeGreaterThanOrEqual(r.price.last_close);
  expect(r.indicators.rsi).toBeGreaterThanOrEqual(0);
  expect(r.indicators.rsi).toBeLessThanOrEqual(100);
  expect(r.recommendation.reasons.length).toBeGreaterThan(0);
  const sum = r.recommendation.reasons.reduce((s, x) => s + x.score, 0);
  expect(r.recommendation.score).toBeCloseTo(Math.max(-100, Math.min(100, sum)), 4);
  const { action, entry, stop_loss, targets } = r.recommendation;
  if (action !== 'HOLD') expect(r.recommendation.risk_reward!).toBeGreaterThanOrEqual(1);
  if (action === 'BUY') {
    expect(stop_loss!).toBeLessThan(entry!);
    for (const t of targets) expect(t.price).toBeGreaterThan(entry!);
  } else if (action === 'SELL') {
    expect(stop_loss!).toBeGreaterThan(entry!);
    for (const t of targets) expect(t.price).toBeLessThan(entry!);
  } else {
    expect(entry).toBeNull();
  }
  for (const s of r.key_levels.support) expect(s.price).toBeLessThan(r.price.last_close);
  for (const s of r.key_levels.resistance) expect(s.price).toBeGreaterThan(r.price.last_close);
  expect(r.disclaimer).toMatch(/not financial advice/i);
  return r;
}
