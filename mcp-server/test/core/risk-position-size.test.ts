/**
 * Fee-aware position sizing: the loss at the stop, fees included, must equal the risk budget for longs and
 * shorts; wrong-side stops size to 0 without NaN; Kelly and ATR figures on hand-computed cases.
 */
import { describe, expect, it } from 'vitest';
import { sizePosition, type PositionSizeInput } from '../../src/core/risk/index.js';

/** Every number anywhere in the result is finite. */
function expectAllFinite(value: unknown, path = 'result'): void {
  if (typeof value === 'number') expect(Number.isFinite(value), path).toBe(true);
  else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) expectAllFinite(inner, `${path}.${key}`);
  }
}

const long: PositionSizeInput = {
  account: 10_000,
  riskPct: 2,
  entry: 100,
  stop: 95,
  takeProfit: 110,
  side: 'long',
  feeRate: 0.001,
};

describe('sizePosition, long', () => {
  const size = sizePosition(long);

  it('loses exactly the risk budget at the stop, fees included', () => {
    // Risk 10,000 * 2 % = 200. Per unit: 5 price + 0.1 entry fee + 0.095 exit fee = 5.195 -> q = 200 / 5.195.
    expect(size.riskAmount).toBe(200);
    expect(size.stopDistance).toBe(5);
    expect(size.stopDistancePct).toBeCloseTo(5, 12);
    expect(size.quantity).toBeCloseTo(200 / 5.195, 12);
    // Replay the trade: buy q at 100 paying the fee, sell q at 95 paying the fee.
    const q = size.quantity;
    const cashOut = q * 100 * (1 + 0.001);
    const cashIn = q * 95 * (1 - 0.001);
    expect(Math.abs(cashOut - cashIn - 200)).toBeLessThan(1e-9);
    expect(Math.abs(size.maxLoss - 200)).toBeLessThan(1e-9);
    expect(size.positionValue).toBeCloseTo(q * 100, 9);
    expect(size.positionPctOfAccount).toBeCloseTo((q * 100) / 100, 9);
    expect(size.fees.entry).toBeCloseTo(0.1 * q, 12);
    expect(size.fees.exitAtStop).toBeCloseTo(0.095 * q, 12);
    expect(size.fees.exitAtTarget).toBeCloseTo(0.11 * q, 12);
  });

  it('reports reward to risk before and after fees and the fee breakeven', () => {
    // Before fees 10 / 5 = 2. After: (10 - 0.001 * (100 + 110)) / 5.195 = 9.79 / 5.195.
    expect(size.riskReward).toBe(2);
    expect(size.riskRewardAfterFees).toBeCloseTo(9.79 / 5.195, 12);
    // Selling at p nets p * 0.999 and must repay 100 * 1.001.
    expect(size.breakevenPrice).toBeCloseTo(100.2002002002002, 10);
    expect(size.breakevenPrice * 0.999).toBeCloseTo(100 * 1.001, 10);
    expect(size.stopOnWrongSide).toBe(false);
    expect(size.targetOnWrongSide).toBe(false);
    expect(size.volatilityAdjusted).toBeNull();
    expect(size.stopInAtr).toBeNull();
    expect(size.kelly).toBeNull();
  });

  it('sizes without fees on the price distance alone', () => {
    const noFees = sizePosition({ ...long, feeRate: 0 });
    expect(noFees.quantity).toBe(40); // 200 / 5
    expect(noFees.maxLoss).toBe(200);
    expect(noFees.breakevenPrice).toBe(100);
    expect(noFees.riskRewardAfterFees).toBe(2);
  });
});

describe('sizePosition, short', () => {
  const short: PositionSizeInput = {
    account: 5000,
    riskPct: 1,
    entry: 100,
    stop: 104,
    takeProfit: 92,
    side: 'short',
    feeRate: 0.0005,
  };
  const size = sizePosition(short);

  it('loses exactly the risk budget when the stop above entry is hit', () => {
    // Risk 50. Per unit: 4 price + 0.0005 * (100 + 104) = 4.102 -> q = 50 / 4.102.
    expect(size.riskAmount).toBe(50);
    expect(size.quantity).toBeCloseTo(50 / 4.102, 12);
    // Sell q at 100 receiving net of fee, buy back at 104 paying the fee.
    const q = size.quantity;
    const loss = q * 104 * (1 + 0.0005) - q * 100 * (1 - 0.0005);
    expect(Math.abs(loss - 50)).toBeLessThan(1e-9);
    expect(Math.abs(size.maxLoss - 50)).toBeLessThan(1e-9);
  });

  it('measures reward downwards and breaks even below entry', () => {
    // 8 / 4 = 2 before fees; (8 - 0.0005 * 192) / 4.102 after.
    expect(size.riskReward).toBe(2);
    expect(size.riskRewardAfterFees).toBeCloseTo(7.904 / 4.102, 12);
    // Buying back at p costs p * 1.0005 and must not exceed the 100 * 0.9995 received.
    expect(size.breakevenPrice).toBeCloseTo((100 * 0.9995) / 1.0005, 12);
    expect(size.breakevenPrice).toBeLessThan(100);
    expect(size.stopOnWrongSide).toBe(false);
    expect(size.targetOnWrongSide).toBe(false);
  });
});

describe('sizePosition, wrong sides', () => {
  it('sizes to 0 without NaN when the stop is on the wrong side or at entry', () => {
    for (const input of [
      { ...long, stop: 105 },
      { ...long, stop: 100 },
      { ...long, side: 'short' as const, takeProfit: 90 },
      { ...long, side: 'short' as const, stop: 100, takeProfit: undefined },
    ]) {
      const size = sizePosition({ ...input, atr: 1.5, winRate: 0.5, payoffRatio: 2 });
      expect(size.stopOnWrongSide).toBe(true);
      expect(size.quantity).toBe(0);
      expect(size.positionValue).toBe(0);
      expect(size.maxLoss).toBe(0);
      expect(size.riskReward).toBeNull();
      expect(size.riskRewardAfterFees).toBeNull();
      expectAllFinite(size);
    }
  });

  it('flags a target that is not beyond entry in the trade direction', () => {
    const belowEntry = sizePosition({ ...long, takeProfit: 97 });
    expect(belowEntry.targetOnWrongSide).toBe(true);
    expect(belowEntry.riskReward).toBeCloseTo(-0.6, 12); // (97 - 100) / 5
    expect(sizePosition({ ...long, takeProfit: 100 }).targetOnWrongSide).toBe(true);
    expect(sizePosition({ ...long, takeProfit: undefined }).targetOnWrongSide).toBe(false);
    expect(sizePosition({ ...long, takeProfit: undefined }).riskReward).toBeNull();
    expect(sizePosition({ ...long, takeProfit: undefined }).fees.exitAtTarget).toBeNull();
  });
});

describe('sizePosition, volatility and Kelly', () => {
  it('sizes on a stop of atrStopMultiple ATRs', () => {
    // ATR 2, default 2 ATRs: stop 96, per unit 4 + 0.001 * (100 + 96) = 4.196.
    const size = sizePosition({ ...long, atr: 2 });
    expect(size.volatilityAdjusted!.atr).toBe(2);
    expect(size.volatilityAdjusted!.stopDistance).toBe(4);
    expect(size.volatilityAdjusted!.quantity).toBeCloseTo(200 / 4.196, 12);
    expect(size.volatilityAdjusted!.positionValue).toBeCloseTo((200 / 4.196) * 100, 9);
    expect(size.stopInAtr).toBe(2.5); // 5 / 2
    // Short, 3 ATRs of 1: stop 103, per unit 3 + 0.001 * 203.
    const short = sizePosition({
      ...long,
      side: 'short',
      stop: 105,
      takeProfit: 90,
      atr: 1,
      atrStopMultiple: 3,
    });
    expect(short.volatilityAdjusted!.quantity).toBeCloseTo(200 / 3.203, 12);
  });

  it('ignores an ATR that is zero or not finite', () => {
    for (const atr of [0, NaN, Infinity]) {
      const size = sizePosition({ ...long, atr });
      expect(size.volatilityAdjusted).toBeNull();
      expect(size.stopInAtr).toBeNull();
    }
  });

  it('computes the Kelly fraction f = W - (1 - W) / R', () => {
    // 0.55 - 0.45 / 1.5 = 0.55 - 0.3 = 0.25.
    const kelly = sizePosition({ ...long, winRate: 0.55, payoffRatio: 1.5 }).kelly!;
    expect(kelly.fraction).toBeCloseTo(0.25, 14);
    expect(kelly.halfFraction).toBeCloseTo(0.125, 14);
    // f is the share of the account risked at the stop: 0.25 * 10 000 = 2 500 lost at 95, fees included,
    // so 2 500 / (5 + 0.001 * 195) units, the same way the fixed-risk size is computed.
    expect(kelly.riskAmount).toBeCloseTo(2500, 9);
    expect(kelly.quantity).toBeCloseTo(2500 / 5.195, 9);
    expect(kelly.positionValue).toBeCloseTo((2500 / 5.195) * 100, 6);
    expect(kelly.halfQuantity).toBeCloseTo(2500 / 5.195 / 2, 9);
  });

  it('clips a negative edge to 0 and needs both inputs', () => {
    // 0.4 - 0.6 / 1 = -0.2 -> 0.
    const kelly = sizePosition({ ...long, winRate: 0.4, payoffRatio: 1 }).kelly!;
    expect(kelly).toEqual({
      fraction: 0,
      halfFraction: 0,
      riskAmount: 0,
      quantity: 0,
      positionValue: 0,
      halfQuantity: 0,
      halfPositionValue: 0,
    });
    expect(sizePosition({ ...long, winRate: 0.6 }).kelly).toBeNull();
    expect(sizePosition({ ...long, payoffRatio: 2 }).kelly).toBeNull();
  });
});

describe('sizePosition validation', () => {
  it('rejects impossible inputs with a RangeError', () => {
    const bad: Partial<PositionSizeInput>[] = [
      { account: 0 },
      { account: NaN },
      { entry: -1 },
      { entry: Infinity },
      { stop: 0 },
      { takeProfit: -5 },
      { riskPct: 0 },
      { riskPct: 100.5 },
      { feeRate: -0.001 },
      { feeRate: 0.1 },
      { winRate: 1.1 },
      { winRate: -0.1 },
      { payoffRatio: 0 },
      { atrStopMultiple: 0 },
      { side: 'sideways' as PositionSizeInput['side'] },
    ];
    for (const patch of bad) expect(() => sizePosition({ ...long, ...patch })).toThrow(RangeError);
    expect(() => sizePosition({ ...long, riskPct: 100 })).not.toThrow();
  });
});
