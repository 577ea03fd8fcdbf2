/** Rate-limited warnings for feeds that retry forever: one line per failing key per interval. */
import { log } from '../../logger.js';

/** Logs a failing key at most once per `everyMs`, with the number of failures left unlogged. */
export class ErrorLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly now: () => number,
    private readonly everyMs = 60_000,
  ) {}

  report(key: string, msg: string, error: unknown, fields: Record<string, unknown> = {}): void {
    const t = this.now();
    const entry = this.last.get(key);
    if (entry && t - entry.at < this.everyMs) {
      entry.suppressed++;
      return;
    }
    log.warn(msg, { key, ...fields, error, suppressed: entry?.suppressed ?? 0 });
    this.last.set(key, { at: t, suppressed: 0 });
  }

  /** The key works again: its next failure is logged at once. */
  ok(key: string): void {
    this.last.delete(key);
  }
}
