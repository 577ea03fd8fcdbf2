/**
 * Backtest runs in SQL (Postgres or PGlite): one row per run with its inputs (symbol, period, strategy,
 * parameters, engine configuration, the validated request) and its outputs (headline metrics and the
 * result as JSONB). Every statement is parameterised and filtered by owner, so one owner can neither read
 * nor list another's runs whatever ids it sends. Times are returned as ISO strings in UTC.
 *
 * JSONB keeps values, not key order: a run read back equals the one saved (deep equality), with its keys
 * possibly in another order.
 */
import { AppError } from '../errors.js';
import type {
  BacktestMode,
  BacktestRun,
  BacktestRunStore,
  BacktestRunSummary,
  NewBacktestRun,
  SqlDatabase,
} from './types.js';

/** Largest result stored, in bytes of JSON; the service keeps its results far below this. */
export const MAX_BACKTEST_RUN_BYTES = 16 * 1024 * 1024;
export const MAX_BACKTEST_RUN_LIST = 100;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface RunRow extends Record<string, unknown> {
  id: string;
  created_at: Date;
  symbol: string;
  exchange: string;
  timeframe: string;
  strategy: string;
  params: Record<string, unknown>;
  config?: Record<string, unknown>;
  period_start: Date;
  period_end: Date;
  mode: BacktestMode;
  metrics: Record<string, unknown>;
  result?: Record<string, unknown>;
  request?: Record<string, unknown>;
  data_source: 'exchange' | 'offline';
  as_of: Date;
}

const SUMMARY_COLUMNS =
  'id, created_at, symbol, exchange, timeframe, strategy, params, period_start, period_end, mode, metrics, ' +
  'data_source, as_of';

/** Stored runs kept per owner (API key); the oldest beyond this are deleted on save. */
export const MAX_RUNS_PER_OWNER = 500;

export class SqlBacktestRunStore implements BacktestRunStore {
  constructor(private readonly db: SqlDatabase) {}

  async save(owner: string, run: NewBacktestRun): Promise<BacktestRun> {
    const row = await this.insert(owner, run, null);
    if (!row) throw new Error('a backtest run without a request key was not stored');
    return toRun(row);
  }

  async saveOnce(
    owner: string,
    run: NewBacktestRun,
    requestKey: string,
  ): Promise<{ run: BacktestRun; created: boolean }> {
    const row = await this.insert(owner, run, requestKey);
    if (row) return { run: toRun(row), created: true };
    // Only the request key conflicts: the same request stored before (a job run again) is the answer.
    const earlier = await this.getByRequestKey(owner, requestKey);
    if (!earlier) throw new Error('a backtest run was neither stored nor found by its request key');
    return { run: earlier, created: false };
  }

  /** Inserts the run (nothing when `requestKey` is taken) and applies the per-owner retention. */
  private async insert(
    owner: string,
    run: NewBacktestRun,
    requestKey: string | null,
  ): Promise<RunRow | undefined> {
    const times = { period_start: run.period_start, period_end: run.period_end, as_of: run.as_of };
    for (const [name, value] of Object.entries(times)) {
      if (typeof value !== 'string' || !Number.isFinite(Date.parse(value))) {
        throw new AppError('INVALID_ARGUMENT', `A backtest run needs ${name} as an ISO time, got ${value}.`);
      }
    }
    const result = json(run.result, 'result');
    const rows = await this.db.query<RunRow>(
      `insert into backtest_runs
         (owner, symbol, exchange, timeframe, strategy, params, config, period_start, period_end, mode,
          metrics, result, request, data_source, as_of, request_key)
       values ($1, $2, $3, $4, $5, $6::text::jsonb, $7::text::jsonb, $8::timestamptz, $9::timestamptz, $10,
               $11::text::jsonb, $12::text::jsonb, $13::text::jsonb, $14, $15::timestamptz, $16)
       on conflict (owner, request_key) where request_key is not null do nothing
       returning *`,
      [
        owner,
        run.symbol,
        run.exchange,
        run.timeframe,
        run.strategy,
        json(run.params, 'params'),
        json(run.config, 'config'),
        run.period_start,
        run.period_end,
        run.mode,
        json(run.metrics, 'metrics'),
        result,
        json(run.request, 'request'),
        run.data_source,
        run.as_of,
        requestKey,
      ],
    );
    const row = rows[0];
    if (!row) return undefined;
    // Retention: an owner keeps the newest MAX_RUNS_PER_OWNER runs; older ones go, so a client that
    // backtests in a loop cannot grow the database without bound.
    await this.db.query(
      `delete from backtest_runs where owner = $1 and id in (
         select id from backtest_runs where owner = $1 order by created_at desc, id desc offset $2)`,
      [owner, MAX_RUNS_PER_OWNER],
    );
    return row;
  }

  async get(owner: string, id: string): Promise<BacktestRun | null> {
    if (!UUID.test(id)) return null; // not a run id at all; the cast below would fail
    const rows = await this.db.query<RunRow>(
      'select * from backtest_runs where owner = $1 and id = $2::uuid',
      [owner, id],
    );
    return rows[0] ? toRun(rows[0]) : null;
  }

  async getByRequestKey(owner: string, requestKey: string): Promise<BacktestRun | null> {
    const rows = await this.db.query<RunRow>(
      'select * from backtest_runs where owner = $1 and request_key = $2',
      [owner, requestKey],
    );
    return rows[0] ? toRun(rows[0]) : null;
  }

  async list(owner: string, limit: number): Promise<BacktestRunSummary[]> {
    const n = Math.min(Math.max(Math.floor(limit), 1), MAX_BACKTEST_RUN_LIST);
    const rows = await this.db.query<RunRow>(
      `select ${SUMMARY_COLUMNS} from backtest_runs
        where owner = $1
        order by created_at desc, id
        limit $2::int`,
      [owner, n],
    );
    return rows.map(toSummary);
  }
}

/**
 * A JSON value as text for a jsonb parameter (pg would send a JS array as a Postgres array). NaN and
 * Infinity become null, as JSON has no such numbers; NUL characters are dropped (jsonb cannot hold them).
 */
function json(value: unknown, name: string): string {
  const text = JSON.stringify(value ?? null, (_key, v: unknown) =>
    typeof v === 'string' ? v.replaceAll('\0', '') : v,
  );
  if (Buffer.byteLength(text) > MAX_BACKTEST_RUN_BYTES) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `The backtest run's ${name} is larger than ${MAX_BACKTEST_RUN_BYTES / 1024 / 1024} MB of JSON and ` +
        'cannot be stored; shorten the period or use a larger timeframe.',
    );
  }
  return text;
}

function toSummary(r: RunRow): BacktestRunSummary {
  return {
    id: r.id,
    created_at: r.created_at.toISOString(),
    symbol: r.symbol,
    exchange: r.exchange,
    timeframe: r.timeframe,
    strategy: r.strategy,
    params: r.params,
    period_start: r.period_start.toISOString(),
    period_end: r.period_end.toISOString(),
    mode: r.mode,
    metrics: r.metrics,
    data_source: r.data_source,
    as_of: r.as_of.toISOString(),
  };
}

function toRun(r: RunRow): BacktestRun {
  return { ...toSummary(r), config: r.config ?? {}, result: r.result ?? {}, request: r.request ?? {} };
}
