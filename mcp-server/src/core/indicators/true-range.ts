/**
 * Wilder's true range of one bar: the largest of high - low, |high - previous close| and
 * |low - previous close|, so gaps between bars count as range (TA-Lib `TRANGE`).
 */
export function trueRange(high: number, low: number, previousClose: number): number {
  let range = high - low;
  const upGap = Math.abs(high - previousClose);
  if (upGap > range) range = upGap;
  const downGap = Math.abs(low - previousClose);
  if (downGap > range) range = downGap;
  return range;
}
