/**
 * Whether a firing the evaluator produced is recorded (and so delivered). Pure: the alert, the firing
 * time and the last firing time in, a decision out.
 *
 * Order of the checks: the alert must be active; an alert past `expires_at` is expired (the engine drops
 * it and marks it expired where the store can); quiet hours skip; a repeat alert waits `cooldown_s` since
 * its last firing; a firing not after the last one (a replay, a restart re-evaluating a candle) is stale.
 * A once alert fires once: recording it marks it 'fired' in the store, and the engine drops it.
 *
 * Quiet hours SKIP the firing: nothing is recorded or queued for later. A condition that still holds
 * when the quiet hours end (a level such as `close > 70000`) fires on the first evaluation after them;
 * an event (a cross, a CHoCH) that happened during them is not reported. Holding messages until the
 * window ends would deliver stale prices in a burst, which is worse than a later fresh firing.
 */
import type { AlertDefinition } from '../../core/alerts/types.js';

export type SkipReason = 'not_active' | 'quiet_hours' | 'cooldown' | 'stale';

export type FiringDecision =
  { action: 'fire' } | { action: 'expire' } | { action: 'skip'; reason: SkipReason };

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

function minutesOf(hhmm: string): number | null {
  const m = HHMM.exec(hhmm.trim());
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}

const formats = new Map<string, Intl.DateTimeFormat | null>();

/** Formatter of the hour and minute in `timeZone`; null for a time zone Intl does not know. */
function formatter(timeZone: string): Intl.DateTimeFormat | null {
  let f = formats.get(timeZone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      });
    } catch {
      f = null;
    }
    formats.set(timeZone, f);
  }
  return f;
}

/** Minutes since local midnight of `at` (ms) in `timeZone`; null for an unknown time zone. */
export function localMinutes(at: number, timeZone: string): number | null {
  const f = formatter(timeZone);
  if (!f) return null;
  let hour = 0;
  let minute = 0;
  for (const p of f.formatToParts(new Date(at))) {
    if (p.type === 'hour') hour = Number(p.value) % 24;
    else if (p.type === 'minute') minute = Number(p.value);
  }
  return hour * 60 + minute;
}

/**
 * Whether `at` falls in the quiet hours: [start, end) local time, spanning midnight when end < start
 * (22:00-07:00). start = end is an empty window. An invalid time or time zone is no quiet hours (the
 * store validates them on input; a firing is not lost to a bad setting).
 */
export function inQuietHours(quiet: AlertDefinition['quiet_hours'], at: number): boolean {
  if (!quiet) return false;
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  const local = localMinutes(at, quiet.time_zone);
  if (start === null || end === null || local === null || start === end) return false;
  return start < end ? local >= start && local < end : local >= start || local < end;
}

/**
 * @param at candle close or tick time (ms) of the candidate firing
 * @param lastFiredAt last firing time (ms), or null when it never fired
 */
export function decideFiring(
  alert: Pick<AlertDefinition, 'status' | 'expires_at' | 'repeat' | 'quiet_hours'>,
  at: number,
  lastFiredAt: number | null,
): FiringDecision {
  if (alert.status !== 'active') return { action: 'skip', reason: 'not_active' };
  if (alert.expires_at !== null && Date.parse(alert.expires_at) <= at) return { action: 'expire' };
  if (lastFiredAt !== null && at <= lastFiredAt) return { action: 'skip', reason: 'stale' };
  if (inQuietHours(alert.quiet_hours, at)) return { action: 'skip', reason: 'quiet_hours' };
  if (
    alert.repeat.mode === 'repeat' &&
    lastFiredAt !== null &&
    at - lastFiredAt < alert.repeat.cooldown_s * 1000
  ) {
    return { action: 'skip', reason: 'cooldown' };
  }
  return { action: 'fire' };
}
