/**
 * Records every tool call in the audit log without slowing or failing the call: writes run in the
 * background, a failing log store is reported at most once a minute, and `flush` waits for pending
 * writes before the process exits.
 */
import { isAppError } from '../errors.js';
import { log, redact } from '../logger.js';
import type { AuditEntry, AuditLog } from '../store/types.js';

const REPORT_EVERY_MS = 60_000;

export class AuditRecorder {
  private readonly pending = new Set<Promise<void>>();
  private lastReported = -Infinity;

  constructor(
    private readonly store: AuditLog,
    private readonly now: () => number = Date.now,
  ) {}

  /** Arguments are redacted here (tokens, phone numbers) before they leave the process. */
  record(entry: AuditEntry): void {
    const write = this.store
      .record({
        ...entry,
        args: redact(entry.args),
        error: entry.error === null ? null : String(redact(entry.error)),
      })
      .catch((err: unknown) => this.report(err))
      .finally(() => this.pending.delete(write));
    this.pending.add(write);
  }

  async flush(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  private report(err: unknown): void {
    const now = this.now();
    if (now - this.lastReported < REPORT_EVERY_MS) return;
    this.lastReported = now;
    log.warn('audit log unavailable; tool calls are answered but not recorded', {
      error: isAppError(err) ? `${err.code}: ${err.message}` : err,
    });
  }
}
