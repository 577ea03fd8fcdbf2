/**
 * TA-Lib's `TA_IS_ZERO` (`|v| < 1e-14`). TA-Lib uses it, not `=== 0`, to decide when a ratio such as
 * gain / (gain + loss) is undefined and it outputs 0 instead; matching TA-Lib means using the same test.
 */
export function isNearZero(value: number): boolean {
  return value > -1e-14 && value < 1e-14;
}
