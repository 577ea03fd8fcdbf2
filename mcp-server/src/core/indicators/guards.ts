/**
 * Argument checks shared by the indicators. They throw `RangeError` so a bad period fails loudly at the
 * call site instead of silently producing an all-NaN series.
 */

/** Throw unless `value` is an integer >= `min` (TA-Lib's periods are integers). */
export function assertPeriod(label: string, value: number, min = 1): void {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`${label} must be an integer >= ${min}, got ${value}`);
  }
}

/** Throw unless every column has the same length as the first; bars are matched by index. */
export function assertSameLength(label: string, ...columns: ArrayLike<number>[]): void {
  const n = columns[0]?.length ?? 0;
  if (columns.some((c) => c.length !== n)) {
    throw new RangeError(
      `${label} inputs must have the same length, got ${columns.map((c) => c.length).join(', ')}`,
    );
  }
}
