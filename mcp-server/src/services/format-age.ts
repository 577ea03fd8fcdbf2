/** A duration in the unit a person would use: minutes, hours or days. */
export function formatAge(ms: number): string {
  const min = Math.round(ms / 60_000);
  if (min < 120) return `${min} min`;
  const h = Math.round(min / 60);
  if (h < 72) return `${h} h`;
  return `${Math.round(h / 24)} days`;
}
