/**
 * Contracts of the persistence layer. Services depend on these interfaces only; `openStores` picks the
 * implementation (Postgres through pg or embedded PGlite, Redis or in-process, MongoDB or Postgres JSONB).
 */

/** How a store is doing, for /health. `disabled`: not configured, an embedded fallback serves instead. */
export interface StoreHealth {
  name: string;
  /** e.g. 'postgres', 'pglite', 'redis', 'memory', 'mongodb', 'postgres-jsonb'. */
  backend: string;
  status: 'ok' | 'degraded' | 'down' | 'disabled';
  /** Why it is degraded or down; never a secret (connection strings are not echoed). */
  detail?: string;
}

/** Something that runs parameterised SQL. Parameters are always `$1, $2, ...`; never interpolate values. */
export interface SqlClient {
  query<R extends Record<string, unknown> = Record<string, unknown>>(
    text: string,
    params?: readonly unknown[],
  ): Promise<R[]>;
}

/**
 * A Postgres database (pg pool or PGlite). The first query connects and runs pending migrations; while the
 * server is unreachable every query fails with AppError STORE_UNAVAILABLE, and the next query after it
 * returns reconnects.
 */
export interface SqlDatabase extends SqlClient {
  readonly backend: 'postgres' | 'pglite';
  /** Runs `fn` in one transaction (BEGIN/COMMIT, ROLLBACK on throw). */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
  health(): Promise<StoreHealth>;
  close(): Promise<void>;
}

/** One held position. Quantities and prices are plain numbers (stored as NUMERIC, read back exactly). */
export interface Position {
  symbol: string;
  quantity: number;
  entry_price: number;
  /** ISO time the position was opened, if known. */
  entry_time: string | null;
  /** Fees paid to open it, in quote currency. */
  fees: number;
}

export interface Portfolio {
  id: string;
  /** Quote currency of prices, cash and values, e.g. 'USDT'. */
  base_currency: string;
  cash: number;
  positions: Position[];
  created_at: string;
  updated_at: string;
}

/**
 * Portfolios per owner (the API key's id, or 'local' without keys): one owner never sees another's.
 * Positions are keyed by symbol: one position per symbol.
 */
export interface PortfolioStore {
  get(owner: string, id: string): Promise<Portfolio | null>;
  /** Creates the portfolio or replaces all its positions (and cash/base currency when given), atomically. */
  replace(
    owner: string,
    id: string,
    data: { positions: Position[]; cash?: number; base_currency?: string },
  ): Promise<Portfolio>;
  /**
   * Creates the portfolio if needed and inserts or replaces the given positions by symbol, keeping the
   * others; a position with quantity 0 removes that symbol. Atomic.
   */
  upsert(
    owner: string,
    id: string,
    data: { positions: Position[]; cash?: number; base_currency?: string },
  ): Promise<Portfolio>;
  delete(owner: string, id: string): Promise<boolean>;
  list(owner: string): Promise<{ id: string; positions: number; updated_at: string }[]>;
}

export interface AuditEntry {
  tool: string;
  /** Owner id of the caller ('local' without keys); never the key itself. */
  caller: string;
  transport: 'stdio' | 'http' | 'rest';
  /** Arguments with secrets and phone numbers redacted (logger's `redact`). */
  args: unknown;
  duration_ms: number;
  status: 'ok' | 'error';
  /** Error code and message when status is 'error'. */
  error: string | null;
}

export interface AuditLog {
  record(entry: AuditEntry): Promise<void>;
  /** Newest first. */
  recent(limit: number): Promise<(AuditEntry & { id: string; at: string })[]>;
}

/** An archived analyze_crypto report. */
export interface ArchivedAnalysis {
  id: string;
  /** Unified symbol, e.g. 'BTC/USDT'. */
  symbol: string;
  exchange: string;
  timeframe: string;
  /** Close time of the last candle analysed (the report's as_of). */
  timestamp: Date;
  /** 0-100, the recommendation's confidence. */
  confidence: number;
  action: string;
  /** The full report as returned to the caller. */
  report: Record<string, unknown>;
  created_at: Date;
}

/**
 * The analysis archive: MongoDB `analyses` (indexes symbol+timestamp, confidence, 7-day TTL on created_at)
 * or a Postgres JSONB table with the same behaviour. Entries older than 7 days are never returned.
 */
export interface AnalysisArchive {
  readonly backend: 'mongodb' | 'postgres-jsonb';
  save(entry: Omit<ArchivedAnalysis, 'id' | 'created_at'>): Promise<string>;
  /** Newest `timestamp` first; filters are typed values, never operators from user input. */
  find(query: {
    symbol?: string;
    timeframe?: string;
    min_confidence?: number;
    since?: Date;
    limit: number;
  }): Promise<ArchivedAnalysis[]>;
  health(): Promise<StoreHealth>;
  close(): Promise<void>;
}

export const ARCHIVE_TTL_MS = 7 * 24 * 3600 * 1000;

/** Fixed-window request counter per key (API key id + tool). */
export interface RateLimiter {
  /** Counts one request; `allowed` false once more than `limit` arrived in the current window. */
  hit(key: string, limit: number, windowMs: number): Promise<RateLimitDecision>;
}

export interface RateLimitDecision {
  allowed: boolean;
  remaining: number;
  /** Milliseconds until the window resets. */
  resetMs: number;
}

export type BacktestMode = 'single' | 'walk_forward' | 'grid';

/** A backtest run as stored: its inputs and what it returned. JSON fields hold plain JSON (no NaN, no undefined). */
export interface NewBacktestRun {
  /** Unified symbol, e.g. 'BTC/USDT'. */
  symbol: string;
  exchange: string;
  timeframe: string;
  strategy: string;
  params: Record<string, unknown>;
  config: Record<string, unknown>;
  /** ISO times: first candle's open, last candle's close of the period traded. */
  period_start: string;
  period_end: string;
  mode: BacktestMode;
  metrics: Record<string, unknown>;
  /** Trades, downsampled equity and prices, windows, grid table, notes. */
  result: Record<string, unknown>;
  /** The validated request, to repeat the run. */
  request: Record<string, unknown>;
  data_source: 'exchange' | 'offline';
  /** ISO close time of the last candle used. */
  as_of: string;
}

export interface BacktestRun extends NewBacktestRun {
  id: string;
  /** ISO time the run was stored. */
  created_at: string;
}

/** A run in a listing: what identifies it and its headline metrics, not the bulky result. */
export type BacktestRunSummary = Omit<BacktestRun, 'result' | 'request' | 'config'>;

/** Backtest runs per owner (the API key's id, or 'local'): one owner never sees another's runs. */
export interface BacktestRunStore {
  /** Stores a run; returns it with its id and creation time. */
  save(owner: string, run: NewBacktestRun): Promise<BacktestRun>;
  /**
   * Stores a run under `requestKey` (the call's tool job id) unless one is stored under it already:
   * `created` says whether `run` is this one or that earlier one.
   */
  saveOnce(
    owner: string,
    run: NewBacktestRun,
    requestKey: string,
  ): Promise<{ run: BacktestRun; created: boolean }>;
  /** The run stored for `requestKey`, or null. */
  getByRequestKey(owner: string, requestKey: string): Promise<BacktestRun | null>;
  /** null when the owner has no run with that id (also for ids that are not UUIDs). */
  get(owner: string, id: string): Promise<BacktestRun | null>;
  /** Newest first, at most `limit` (1..100). */
  list(owner: string, limit: number): Promise<BacktestRunSummary[]>;
}

/** What a caller gives to create an alert; the store sets id, status 'active' and the times. */
export type NewAlert = Omit<
  import('../core/alerts/types.js').AlertDefinition,
  'id' | 'owner' | 'status' | 'created_at' | 'updated_at' | 'last_fired_at'
>;

/** The fields of an alert that `update` may change. */
export type AlertChanges = Partial<NewAlert>;

/** Where the message of a firing stands. */
export type OutboxStatus = 'pending' | 'sending' | 'sent' | 'failed' | 'skipped';

/** One firing with the delivery of its message, newest first in `history`. */
export interface AlertHistoryEntry {
  firing_id: string;
  alert_id: string;
  at: number;
  values: Record<string, number>;
  message: string;
  created_at: string;
  outbox_id: string | null;
  delivery: OutboxStatus | null;
  attempts: number;
  /** Provider error code and message (e.g. "63016: ..."), or why it was skipped. */
  last_error: string | null;
  /** Twilio message SID. */
  provider_id: string | null;
  /** Latest status Twilio reported through the status callback (delivered, read, failed, ...). */
  provider_status: string | null;
  provider_error_code: number | null;
}

/**
 * Alerts per owner (the API key's id, or 'local'), their firings and the outbox of messages. One owner
 * never sees or changes another's alerts.
 */
export interface AlertStore {
  create(owner: string, alert: NewAlert): Promise<import('../core/alerts/types.js').AlertDefinition>;
  get(owner: string, id: string): Promise<import('../core/alerts/types.js').AlertDefinition | null>;
  /** null when the owner has no (undeleted) alert with that id. */
  update(
    owner: string,
    id: string,
    changes: AlertChanges,
  ): Promise<import('../core/alerts/types.js').AlertDefinition | null>;
  /** Soft delete (status 'deleted'); false when there was nothing to delete. */
  delete(owner: string, id: string): Promise<boolean>;
  /** The owner's alerts except deleted ones, newest first. */
  list(owner: string): Promise<import('../core/alerts/types.js').AlertDefinition[]>;
  pause(owner: string, id: string): Promise<import('../core/alerts/types.js').AlertDefinition | null>;
  resume(owner: string, id: string): Promise<import('../core/alerts/types.js').AlertDefinition | null>;
  /** Alerts the engine evaluates: status 'active', optionally for one symbol (all owners). */
  listActive(symbol?: string): Promise<import('../core/alerts/types.js').AlertDefinition[]>;
  /**
   * Stores the firing and its outbox message in one transaction, if the stored alert may still fire
   * (active, not expired, once not yet fired, cooldown passed; decided under a row lock, so several engines
   * never both fire it), sent to the alert's stored channel. Idempotent on (alert_id, at): a repeated call
   * inserts nothing and returns the existing ids with `created: false`. null when the alert may not fire.
   */
  recordFiring(
    firing: import('../core/alerts/types.js').AlertFiring,
    channel: import('../core/alerts/types.js').AlertChannel,
    body: string,
  ): Promise<{ firing_id: string; outbox_id: string; created: boolean } | null>;
  /** Newest first, at most `limit` (1..500); empty when the alert is not the owner's. */
  history(owner: string, alertId: string, limit: number): Promise<AlertHistoryEntry[]>;
  /** Marks an active alert whose expiry passed as expired (the engine calls it). */
  markExpired(id: string): Promise<boolean>;
}
