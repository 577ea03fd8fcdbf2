import { describe, expect, it } from 'vitest';
import { TIMED_OUT, within } from '../src/deadline.js';

const later = <T>(ms: number, settle: () => T) =>
  new Promise<T>((resolve) => setTimeout(() => resolve(settle()), ms));

describe('within', () => {
  it("gives the work's value when it settles in time, TIMED_OUT when not", async () => {
    expect(
      await within(
        later(5, () => 42),
        1_000,
      ),
    ).toBe(42);
    expect(
      await within(
        later(1_000, () => 42),
        10,
      ),
    ).toBe(TIMED_OUT);
  });

  it('passes a rejection on, and swallows one that comes after the deadline', async () => {
    await expect(within(Promise.reject(new Error('no')), 1_000)).rejects.toThrow('no');
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const late = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('late')), 20));
      expect(await within(late, 5)).toBe(TIMED_OUT);
      await new Promise((r) => setTimeout(r, 50));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
