/**
 * The analysis archive in a Postgres JSONB table, for installs without MongoDB. It behaves like the Mongo
 * `analyses` collection, including its 7-day TTL index: `find` never returns an entry older than the TTL,
 * and expired rows are deleted by `save` at most once a minute (Mongo's TTL monitor also runs every 60 s).
 */
import { AppError } from '../errors.js';
import {
  ARCHIVE_TTL_MS,
  type AnalysisArchive,
  type ArchivedAnalysis,
  type SqlDatabase,
  type StoreHealth,
} from './types.js';

/** Most entries one `find` returns. */
export const MAX_ARCHIVE_FIND = 500;
const SWEEP_INTERVAL_MS = 60_000;

type FindQuery = Parameters<AnalysisArchive['find']>[0];

interface ArchiveRow extends Record<string, unknown> {
  id: string;
  symbol: string;
  exchange: string;
  timeframe: string;
  ts: Date;
  confidence: number;
  action: string;
  report: Record<string, unknown>;
  created_at: Date;
}

export class PostgresArchive implements AnalysisArchive {
  readonly backend = 'postgres-jsonb' as const;
  private lastSweep = Number.NEGATIVE_INFINITY;

  /** `now` is the clock of created_at and of the TTL, injectable for tests. */
  constructor(
    private readonly db: SqlDatabase,
    private readonly now: () => number = Date.now,
  ) {}

  async save(entry: Omit<ArchivedAnalysis, 'id' | 'created_at'>): Promise<string> {
    if (!(entry.timestamp instanceof Date) || Number.isNaN(entry.timestamp.getTime())) {
      throw new AppError('INVALID_ARGUMENT', 'An archived analysis needs a valid timestamp (a Date).');
    }
    if (typeof entry.confidence !== 'number' || !Number.isFinite(entry.confidence)) {
      throw new AppError('INVALID_ARGUMENT', 'An archived analysis needs a finite confidence (0-100).');
    }
    const now = this.now();
    if (now - this.lastSweep >= SWEEP_INTERVAL_MS) {
      await this.db.query('delete from analysis_archive where created_at < $1::timestamptz', [
        new Date(now - ARCHIVE_TTL_MS).toISOString(),
      ]);
      this.lastSweep = now;
    }
    const rows = await this.db.query<{ id: string }>(
      `insert into analysis_archive (symbol, exchange, timeframe, ts, confidence, action, report, created_at)
       values ($1, $2, $3, $4::timestamptz, $5::int, $6, $7::text::jsonb, $8::timestamptz)
       returning id`,
      [
        entry.symbol,
        entry.exchange,
        entry.timeframe,
        entry.timestamp.toISOString(),
        Math.round(entry.confidence), // integer column, as the confidence the reports carry
        entry.action,
        // Passed as text: pg would send a JS array as a Postgres array. jsonb cannot hold NUL characters.
        JSON.stringify(entry.report, (_key, value: unknown) =>
          typeof value === 'string' ? value.replaceAll('\0', '') : value,
        ),
        new Date(now).toISOString(),
      ],
    );
    return rows[0]!.id;
  }

  async find(query: FindQuery): Promise<ArchivedAnalysis[]> {
    const { symbol, timeframe, min_confidence, since } = checkQuery(query);
    const limit = Math.min(Math.max(Math.floor(query.limit), 0), MAX_ARCHIVE_FIND);
    if (limit === 0) return [];
    const params: unknown[] = [new Date(this.now() - ARCHIVE_TTL_MS).toISOString()];
    const where = ['created_at >= $1::timestamptz'];
    const filter = (sql: (placeholder: string) => string, value: unknown) => {
      params.push(value);
      where.push(sql(`$${params.length}`));
    };
    if (symbol !== undefined) filter((p) => `symbol = ${p}::text`, symbol);
    if (timeframe !== undefined) filter((p) => `timeframe = ${p}::text`, timeframe);
    if (min_confidence !== undefined) filter((p) => `confidence >= ${p}::numeric`, min_confidence);
    if (since !== undefined) filter((p) => `ts >= ${p}::timestamptz`, since.toISOString());
    params.push(limit);
    const rows = await this.db.query<ArchiveRow>(
      `select id, symbol, exchange, timeframe, ts, confidence, action, report, created_at
         from analysis_archive
        where ${where.join(' and ')}
        order by ts desc, created_at desc, id
        limit $${params.length}::int`,
      params,
    );
    return rows.map((r) => ({
      id: r.id,
      symbol: r.symbol,
      exchange: r.exchange,
      timeframe: r.timeframe,
      timestamp: r.ts,
      confidence: r.confidence,
      action: r.action,
      report: r.report,
      created_at: r.created_at,
    }));
  }

  /** The shared database's health, under the archive's name. */
  async health(): Promise<StoreHealth> {
    return { ...(await this.db.health()), name: 'archive', backend: this.backend };
  }

  /** Nothing to do: the database is shared with the other SQL stores and closed by whoever opened it. */
  async close(): Promise<void> {}
}

/**
 * Filters are checked at run time too: they come from tool arguments, and an object where a string is
 * expected (a Mongo-style `{ $gt: '' }`) must be refused, not compared. Null counts as absent.
 */
function checkQuery(query: FindQuery): Omit<FindQuery, 'limit'> {
  const symbol = query.symbol ?? undefined;
  const timeframe = query.timeframe ?? undefined;
  const minConfidence = query.min_confidence ?? undefined;
  const since = query.since ?? undefined;
  const bad = (name: string, expected: string) =>
    new AppError('INVALID_ARGUMENT', `Archive filter ${name} must be ${expected}.`);
  if (symbol !== undefined && typeof symbol !== 'string') throw bad('symbol', 'a string');
  if (timeframe !== undefined && typeof timeframe !== 'string') throw bad('timeframe', 'a string');
  if (minConfidence !== undefined && (typeof minConfidence !== 'number' || !Number.isFinite(minConfidence))) {
    throw bad('min_confidence', 'a finite number');
  }
  if (since !== undefined && (!(since instanceof Date) || Number.isNaN(since.getTime()))) {
    throw bad('since', 'a valid Date');
  }
  if (typeof query.limit !== 'number' || !Number.isFinite(query.limit)) throw bad('limit', 'a finite number');
  return { symbol, timeframe, min_confidence: minConfidence, since };
}
