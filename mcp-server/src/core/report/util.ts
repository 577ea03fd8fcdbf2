/** Small pure helpers shared by the report builders. */
export const iso = (ms: number): string => new Date(ms).toISOString();

/** Last finite value of a series, or null when there is none. */
export function lastFinite(a: Float64Array): number | null {
  for (let i = a.length - 1; i >= 0; i--) if (Number.isFinite(a[i])) return a[i]!;
  return null;
}

/** Round to a sensible number of significant digits for display without losing price precision. */
export function round(x: number, digits = 8): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const magnitude = Math.floor(Math.log10(Math.abs(x)));
  const decimals = Math.max(0, digits - 1 - magnitude);
  return Number(x.toFixed(Math.min(decimals, 12)));
}

export const pct = (part: number, whole: number): number => (whole === 0 ? 0 : (part / whole) * 100);

/** Distance from price to the zone [bottom, top] in % of price; 0 when price is inside. */
export function distancePct(price: number, bottom: number, top: number): number {
  if (price >= bottom && price <= top) return 0;
  return pct(price > top ? price - top : bottom - price, price);
}
