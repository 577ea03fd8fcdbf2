/**
 * The alert engine: keeps the active alerts in memory, indexed for evaluation (`CandleAlertIndex` for
 * candle conditions, `PriceAlertIndex` for price conditions, one of each per exchange), subscribes a feed
 * to what they need, and turns what fires into stored firings:
 *
 *   feed close/tick -> index -> firing policy (firing-policy.ts) -> store.recordFiring (firing + outbox
 *   row in one transaction, idempotent on (alert_id, at)) -> in-memory update (once: dropped).
 *
 * It sends nothing: the dispatcher delivers the outbox. A restart re-evaluating a close already recorded
 * creates nothing new (the policy skips firings not after `last_fired_at`, and the store ignores a
 * repeated (alert_id, at)). A firing the store could not record is retried before the next event.
 *
 * Portfolio conditions (issue 5) are evaluated by the optional `portfolio` evaluator (portfolio-alerts.ts)
 * every `portfolioIntervalMs` after `start()`, and on demand with `evaluatePortfolios()`; their firings go
 * through the same policy and recordFiring path. Without an evaluator such alerts are loaded and ignored.
 */
import { CandleAlertIndex } from '../../core/alerts/evaluate.js';
import { formatCondition } from '../../core/alerts/expression.js';
import { formatNumber, renderMessage } from '../../core/alerts/message.js';
import { PriceAlertIndex } from '../../core/alerts/price-index.js';
import type { AlertDefinition, AlertFiring } from '../../core/alerts/types.js';
import { log } from '../../logger.js';
import type { AlertStore } from '../../store/types.js';
import {
  PollingFeed,
  type AlertFeed,
  type CandleCloseEvent,
  type CandleSubscription,
  type FeedMarket,
  type FeedSubscription,
  type TickEvent,
  type TickSubscription,
} from './feed.js';
import { decideFiring, type SkipReason } from './firing-policy.js';
import type { PortfolioAlertEvaluator } from './portfolio-alerts.js';

/** The store, optionally able to mark an alert expired (status 'expired'). */
export type EngineStore = Pick<AlertStore, 'listActive' | 'recordFiring'> & {
  markExpired?: (id: string) => Promise<unknown>;
};

export interface AlertEngineOptions {
  market: FeedMarket;
  store: EngineStore;
  /** Default: a PollingFeed over `market`. */
  feed?: AlertFeed;
  /** Clock in ms (expiry of loaded alerts). Default Date.now. */
  now?: () => number;
  // --- portfolio alerts (issue 5) ---
  /** Evaluates portfolio conditions; without it portfolio alerts are ignored. */
  portfolio?: PortfolioAlertEvaluator;
  /** How often `start()` evaluates portfolio alerts. Default 15 minutes. */
  portfolioIntervalMs?: number;
  /** How often the active alerts are re-read from the store (changes from other processes). Default 60 s; 0: never. */
  reloadEveryMs?: number;
}

export interface AlertEngineStats {
  /** Firings recorded (new rows). */
  recorded: number;
  /** recordFiring calls that found the firing already stored. */
  duplicates: number;
  /** Firings the store refused: another process paused, deleted, fired or cooled the alert first. */
  refused: number;
  /** Firings not recorded, by reason; `before_created`: a feed's first close, older than the alert. */
  skipped: Record<SkipReason | 'before_created', number>;
  expired: number;
  /** Store errors (the firing is retried). */
  errors: number;
}

interface Entry {
  alert: AlertDefinition;
  lastFiredAt: number | null;
  kind: 'candle' | 'price' | 'none';
}

/** Failed recordFiring calls kept for retry at most; older ones are dropped (and logged). */
const MAX_PENDING = 10_000;

export class AlertEngine {
  private readonly store: EngineStore;
  private readonly feed: AlertFeed;
  private readonly now: () => number;
  private readonly alerts = new Map<string, Entry>();
  private readonly candleIndexes = new Map<string, CandleAlertIndex>();
  private readonly priceIndexes = new Map<string, PriceAlertIndex>();
  private pending: { firing: AlertFiring; alert: AlertDefinition }[] = [];
  private running = false;
  // --- portfolio alerts (issue 5) ---
  private readonly portfolio: PortfolioAlertEvaluator | undefined;
  private readonly portfolioIntervalMs: number;
  private portfolioTimer: NodeJS.Timeout | null = null;
  private portfolioRun: Promise<number> | null = null;
  readonly stats: AlertEngineStats = {
    recorded: 0,
    duplicates: 0,
    refused: 0,
    skipped: { not_active: 0, quiet_hours: 0, cooldown: 0, stale: 0, before_created: 0 },
    expired: 0,
    errors: 0,
  };

  constructor(options: AlertEngineOptions) {
    this.store = options.store;
    this.now = options.now ?? Date.now;
    this.feed = options.feed ?? new PollingFeed({ market: options.market });
    this.portfolio = options.portfolio;
    this.portfolioIntervalMs = options.portfolioIntervalMs ?? 15 * 60_000;
    this.reloadEveryMs = options.reloadEveryMs ?? 60_000;
  }

  private readonly reloadEveryMs: number;
  private reloadTimer: NodeJS.Timeout | null = null;
  private refreshTimer: NodeJS.Timeout | null = null;

  /**
   * Re-reads the alerts soon (debounced): a refused firing means another process changed an alert this
   * engine still holds (paused, deleted, re-addressed, or fired it first).
   */
  private refresh(_id: string): void {
    if (this.refreshTimer || !this.running) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      this.reload().catch((error: unknown) => log.warn('alert engine: reload failed', { error }));
    }, 1_000);
    this.refreshTimer.unref();
  }

  /** Number of alerts evaluated (candle or price). */
  get size(): number {
    let n = 0;
    for (const e of this.alerts.values()) if (e.kind !== 'none') n++;
    return n;
  }

  /** Load the active alerts and start the feed. */
  async start(): Promise<void> {
    this.running = true;
    await this.reload();
    // Alerts created or changed through another process (replicas, workers) arrive within a minute; the
    // store's checks at firing time keep a stale copy from ever firing what may no longer fire.
    if (!this.reloadTimer && this.reloadEveryMs > 0) {
      this.reloadTimer = setInterval(() => {
        this.reload().catch((error: unknown) => log.warn('alert engine: reload failed', { error }));
      }, this.reloadEveryMs);
      this.reloadTimer.unref();
    }
    // --- portfolio alerts (issue 5): now, then periodically; unref'd so it never keeps the process alive.
    if (this.portfolio && !this.portfolioTimer) {
      const tick = () => void this.evaluatePortfolios();
      this.portfolioTimer = setInterval(tick, this.portfolioIntervalMs);
      this.portfolioTimer.unref();
      tick();
    }
  }

  /**
   * Evaluates the active portfolio alerts now (issue 5) and records what fires; returns the number of
   * firings produced (before the policy). A call while a run is in flight joins it. Never throws.
   */
  evaluatePortfolios(): Promise<number> {
    if (!this.portfolio) return Promise.resolve(0);
    this.portfolioRun ??= (async () => {
      try {
        await this.retryPending();
        const alerts = [...this.alerts.values()]
          .map((e) => e.alert)
          .filter((a) => a.condition.kind === 'portfolio');
        if (alerts.length === 0) return 0;
        const firings = await this.portfolio!.evaluate(alerts, this.now());
        for (const f of firings) await this.handle(f);
        return firings.length;
      } catch (error) {
        log.error('alert engine: portfolio evaluation failed', { error });
        return 0;
      } finally {
        this.portfolioRun = null;
      }
    })();
    return this.portfolioRun;
  }

  /** Re-read every active alert from the store (replaces the in-memory set). */
  async reload(): Promise<void> {
    const active = await this.store.listActive();
    for (const id of [...this.alerts.keys()]) this.unindex(id);
    this.alerts.clear();
    for (const a of active) this.index(a);
    this.resubscribe();
  }

  /** After create / update / resume (any status: a non-active alert is dropped). */
  upsert(alert: AlertDefinition): void {
    this.unindex(alert.id);
    this.alerts.delete(alert.id);
    this.index(alert);
    this.resubscribe();
  }

  /** After delete / pause. */
  remove(id: string): void {
    this.unindex(id);
    if (this.alerts.delete(id)) this.resubscribe();
  }

  stop(): void {
    this.running = false;
    this.feed.stop();
    if (this.reloadTimer) clearInterval(this.reloadTimer);
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.reloadTimer = null;
    this.refreshTimer = null;
    if (this.portfolioTimer) clearInterval(this.portfolioTimer); // portfolio alerts (issue 5)
    this.portfolioTimer = null;
  }

  /** Evaluate a candle close (the feed's handler; public for tests and manual runs). */
  async onCandleClose(e: CandleCloseEvent): Promise<void> {
    await this.retryPending();
    const index = this.candleIndexes.get(e.exchange);
    if (!index) return;
    const firings = index.onCandleClose(e.symbol, e.timeframe, e.candles, e.now);
    for (const f of firings) {
      // A feed's first close may predate the alert: a new alert is evaluated from the next close on,
      // wherever its symbol was watched before (an alert created at 15:40 does not fire on 15:00).
      const created = Date.parse(this.alerts.get(f.alert_id)?.alert.created_at ?? '');
      if (e.initial && created > e.at) {
        this.stats.skipped.before_created++;
        continue;
      }
      await this.handle(f);
    }
  }

  /** Evaluate a tick (the feed's handler). */
  async onTick(e: TickEvent): Promise<void> {
    await this.retryPending();
    const index = this.priceIndexes.get(e.exchange);
    if (!index) return;
    for (const id of index.onTick(e.symbol, e.price, e.time)) {
      const entry = this.alerts.get(id);
      if (!entry) continue;
      const { alert } = entry;
      const condition = alert.expression ?? formatCondition(alert.condition);
      const values = { price: e.price };
      const message = renderMessage(alert.template, {
        alert_id: id,
        symbol: e.symbol,
        price: e.price,
        condition,
        summary: `price ${formatNumber(e.price)}`,
        at: e.time,
        values,
      });
      await this.handle({ alert_id: id, at: e.time, values, message });
    }
  }

  private async handle(firing: AlertFiring): Promise<void> {
    const entry = this.alerts.get(firing.alert_id);
    if (!entry) return;
    const decision = decideFiring(entry.alert, firing.at, entry.lastFiredAt);
    if (decision.action === 'skip') {
      this.stats.skipped[decision.reason]++;
      log.debug('alert firing skipped', {
        alert_id: firing.alert_id,
        at: firing.at,
        reason: decision.reason,
      });
      return;
    }
    if (decision.action === 'expire') {
      this.stats.expired++;
      this.expire(entry.alert);
      return;
    }
    // Optimistic: a later event of the same alert must not fire again while this one is being stored.
    this.applyFired(entry, firing.at);
    await this.record(firing, entry.alert);
  }

  private applyFired(entry: Entry, at: number): void {
    entry.lastFiredAt = at;
    entry.alert = { ...entry.alert, last_fired_at: new Date(at).toISOString() };
    if (entry.alert.repeat.mode === 'once') {
      entry.alert = { ...entry.alert, status: 'fired' };
      this.unindex(entry.alert.id);
      this.alerts.delete(entry.alert.id);
      this.resubscribe();
    }
  }

  private async record(firing: AlertFiring, alert: AlertDefinition): Promise<void> {
    try {
      const r = await this.store.recordFiring(firing, alert.channel, firing.message);
      if (r === null) {
        // The stored alert decides: another process changed it since this engine loaded it.
        this.stats.refused++;
        void this.refresh(alert.id);
      } else if (r.created) this.stats.recorded++;
      else this.stats.duplicates++;
    } catch (e) {
      this.stats.errors++;
      this.pending.push({ firing, alert });
      if (this.pending.length > MAX_PENDING) {
        const dropped = this.pending.shift()!;
        log.error('alert engine: firing dropped, store unavailable too long', {
          alert_id: dropped.firing.alert_id,
          at: dropped.firing.at,
        });
      }
      log.error('alert engine: recording a firing failed, will retry', {
        alert_id: firing.alert_id,
        error: e,
      });
    }
  }

  private async retryPending(): Promise<void> {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    for (const { firing, alert } of batch) await this.record(firing, alert);
  }

  private expire(alert: AlertDefinition): void {
    this.remove(alert.id);
    log.info('alert expired', { alert_id: alert.id, expires_at: alert.expires_at });
    if (this.store.markExpired) {
      this.store.markExpired(alert.id).catch((error: unknown) => {
        log.warn('alert engine: marking an alert expired failed', { alert_id: alert.id, error });
      });
    }
  }

  /** Put an alert in the indexes when it is active, unexpired and has a symbol. */
  private index(alert: AlertDefinition): void {
    if (alert.status !== 'active') return;
    if (alert.expires_at !== null && Date.parse(alert.expires_at) <= this.now()) {
      this.stats.expired++;
      if (this.store.markExpired) this.store.markExpired(alert.id).catch(() => undefined);
      return;
    }
    const entry: Entry = {
      alert,
      lastFiredAt: alert.last_fired_at === null ? null : Date.parse(alert.last_fired_at),
      kind: 'none',
    };
    this.alerts.set(alert.id, entry);
    if (alert.symbol === null) return; // portfolio alert: evaluatePortfolios() (issue 5)
    try {
      const tfs = this.candleIndex(alert.exchange).add({
        id: alert.id,
        symbol: alert.symbol,
        condition: alert.condition,
        timeframe: alert.timeframe,
        template: alert.template,
        expression: alert.expression,
      });
      if (tfs.length > 0) entry.kind = 'candle';
      else if (this.priceIndex(alert.exchange).add(alert.id, alert.symbol, alert.condition))
        entry.kind = 'price';
    } catch (error) {
      log.warn('alert engine: alert not evaluated, invalid condition', { alert_id: alert.id, error });
    }
  }

  private unindex(id: string): void {
    const entry = this.alerts.get(id);
    if (!entry) return;
    this.candleIndexes.get(entry.alert.exchange)?.remove(id);
    this.priceIndexes.get(entry.alert.exchange)?.remove(id);
  }

  private candleIndex(exchange: string): CandleAlertIndex {
    let i = this.candleIndexes.get(exchange);
    if (!i) this.candleIndexes.set(exchange, (i = new CandleAlertIndex()));
    return i;
  }

  private priceIndex(exchange: string): PriceAlertIndex {
    let i = this.priceIndexes.get(exchange);
    if (!i) this.priceIndexes.set(exchange, (i = new PriceAlertIndex()));
    return i;
  }

  /** What the feed must deliver: the union of the indexes' requirements. */
  subscription(): FeedSubscription {
    const candleKeys = new Set<string>();
    const tickKeys = new Set<string>();
    const candles: CandleSubscription[] = [];
    const ticks: TickSubscription[] = [];
    for (const { alert, kind } of this.alerts.values()) {
      if (alert.symbol === null) continue;
      const key = `${alert.exchange}|${alert.symbol}`;
      if (kind === 'candle' && !candleKeys.has(key)) {
        candleKeys.add(key);
        for (const r of this.candleIndex(alert.exchange).requirements(alert.symbol)) {
          candles.push({
            exchange: alert.exchange,
            symbol: alert.symbol,
            timeframe: r.timeframe,
            candles: r.candles,
          });
        }
      } else if (kind === 'price' && !tickKeys.has(key)) {
        tickKeys.add(key);
        ticks.push({ exchange: alert.exchange, symbol: alert.symbol });
      }
    }
    return { candles, ticks };
  }

  private resubscribe(): void {
    if (!this.running) return;
    this.feed.subscribe(this.subscription(), {
      candleClose: (e) => this.onCandleClose(e),
      tick: (e) => this.onTick(e),
    });
  }
}
