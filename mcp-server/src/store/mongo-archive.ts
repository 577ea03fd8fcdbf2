/**
 * The analysis archive in MongoDB: collection `analyses`, one document per archived analyze_crypto
 * report, with the indexes of the original design:
 *
 * - `{symbol: 1, timestamp: -1}`: "latest analyses of BTC/USDT", the common query;
 * - `{created_at: 1}` with `expireAfterSeconds` = 7 days: a TTL index. Mongo deletes a document 7 days
 *   after its `created_at` (when it was archived, not the analysed candle's `timestamp`), but its TTL
 *   monitor only runs every 60 s, so `find` also filters on `created_at` and never returns an entry older
 *   than 7 days;
 * - `{confidence: -1}`: "high-confidence setups".
 *
 * A dead Mongo must not stall or crash the server: `open` does not connect, the first use does (and
 * creates the indexes), server selection gives up after ~2 s, and every failure becomes
 * `AppError('STORE_UNAVAILABLE')` with a message free of credentials. The next call tries again.
 *
 * Filters are built only from values whose runtime type was checked, and compared with `$eq`/`$gte`, so
 * user input (e.g. the string or object `{"$ne": null}`) can never become a query operator.
 */
import { MongoClient, MongoError, MongoTopologyClosedError, type Collection, type Filter } from 'mongodb';
import { AppError } from '../errors.js';
import { log, redact } from '../logger.js';
import { ARCHIVE_TTL_MS, type AnalysisArchive, type ArchivedAnalysis, type StoreHealth } from './types.js';

export interface MongoArchiveOptions {
  /** Database name. Default: the one in the URL's path, else 'crypto_mcp'. */
  dbName?: string;
  /** Default 'analyses'. */
  collection?: string;
  /** Clock in ms for `created_at` and the 7-day cut-off, injectable for tests. Default `Date.now`. */
  now?: () => number;
  /** How long an operation waits for a reachable server before failing. Default 2000. */
  serverSelectionTimeoutMS?: number;
}

interface AnalysisDoc {
  symbol: string;
  exchange: string;
  timeframe: string;
  timestamp: Date;
  confidence: number;
  action: string;
  report: Record<string, unknown>;
  created_at: Date;
}

/** Most entries one `find` returns, whatever the caller asks for. */
export const MAX_FIND_LIMIT = 500;

/** Index specs (default names, so an index created by an earlier version is recognised, not doubled). */
const INDEXES = [
  { key: { symbol: 1, timestamp: -1 } },
  { key: { created_at: 1 }, expireAfterSeconds: ARCHIVE_TTL_MS / 1000 },
  { key: { confidence: -1 } },
] as const;

export class MongoArchive implements AnalysisArchive {
  readonly backend = 'mongodb' as const;
  /** The current client; replaced after a failed first connect (such a client never recovers). */
  private client: MongoClient | null;
  private ready: Promise<Collection<AnalysisDoc>> | null = null;
  private closed = false;

  private constructor(
    private readonly url: string,
    client: MongoClient,
    private readonly dbName: string,
    private readonly collectionName: string,
    private readonly now: () => number,
    private readonly serverSelectionTimeoutMS: number,
  ) {
    this.client = client;
  }

  /** Never connects: a Mongo that is down at start only makes the archive calls fail until it is up. */
  static async open(url: string, options: MongoArchiveOptions = {}): Promise<MongoArchive> {
    const timeout = options.serverSelectionTimeoutMS ?? 2_000;
    let client: MongoClient;
    try {
      client = newClient(url, timeout);
    } catch (err) {
      // A malformed URL is a configuration error; the driver's message may quote the URL, so it is not used.
      throw new AppError(
        'INVALID_ARGUMENT',
        `MONGODB_URL is not a valid MongoDB connection string (${(err as Error).name})`,
      );
    }
    return new MongoArchive(
      url,
      client,
      options.dbName ?? dbNameFromUrl(url) ?? 'crypto_mcp',
      options.collection ?? 'analyses',
      options.now ?? Date.now,
      timeout,
    );
  }

  async save(entry: Omit<ArchivedAnalysis, 'id' | 'created_at'>): Promise<string> {
    const doc: AnalysisDoc = {
      symbol: requireString(entry.symbol, 'symbol'),
      exchange: requireString(entry.exchange, 'exchange'),
      timeframe: requireString(entry.timeframe, 'timeframe'),
      timestamp: requireDate(entry.timestamp, 'timestamp'),
      confidence: requireNumber(entry.confidence, 'confidence'),
      action: requireString(entry.action, 'action'),
      report: asJsonObject(entry.report),
      created_at: new Date(this.now()),
    };
    const result = await this.run((c) => c.insertOne(doc));
    return result.insertedId.toHexString();
  }

  async find(query: {
    symbol?: string;
    timeframe?: string;
    min_confidence?: number;
    since?: Date;
    limit: number;
  }): Promise<ArchivedAnalysis[]> {
    // Values arrive from tool arguments: their static types are not trusted, their runtime types are checked.
    const symbol = optional(query.symbol, 'symbol', requireString);
    const timeframe = optional(query.timeframe, 'timeframe', requireString);
    const minConfidence = optional(query.min_confidence, 'min_confidence', requireNumber);
    const since = optional(query.since, 'since', requireDate);
    const limit = Math.min(MAX_FIND_LIMIT, Math.floor(requireNumber(query.limit, 'limit')));
    if (limit < 1) return [];

    const filter: Filter<AnalysisDoc> = {
      created_at: { $gte: new Date(this.now() - ARCHIVE_TTL_MS) },
    };
    if (symbol !== undefined) filter.symbol = { $eq: symbol };
    if (timeframe !== undefined) filter.timeframe = { $eq: timeframe };
    if (minConfidence !== undefined) filter.confidence = { $gte: minConfidence };
    if (since !== undefined) filter.timestamp = { $gte: since };

    const docs = await this.run((c) =>
      c.find(filter).sort({ timestamp: -1, _id: -1 }).limit(limit).toArray(),
    );
    return docs.map((d) => ({
      id: d._id.toHexString(),
      symbol: d.symbol,
      exchange: d.exchange,
      timeframe: d.timeframe,
      timestamp: d.timestamp,
      confidence: d.confidence,
      action: d.action,
      report: d.report,
      created_at: d.created_at,
    }));
  }

  async health(): Promise<StoreHealth> {
    try {
      await this.run(async () => this.client!.db(this.dbName).command({ ping: 1 }));
      return { name: 'archive', backend: 'mongodb', status: 'ok' };
    } catch (err) {
      return { name: 'archive', backend: 'mongodb', status: 'down', detail: (err as Error).message };
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.ready?.catch(() => undefined);
    const client = this.client;
    this.client = null;
    await client?.close();
  }

  /** Runs `op` on the collection, connecting first if needed; failures become STORE_UNAVAILABLE. */
  private async run<T>(op: (c: Collection<AnalysisDoc>) => Promise<T>): Promise<T> {
    if (this.closed) throw new AppError('STORE_UNAVAILABLE', 'The analysis archive is closed');
    try {
      this.ready ??= this.connect().catch((err: unknown) => {
        this.ready = null;
        throw err;
      });
      return await op(await this.ready);
    } catch (err) {
      // Only the driver's errors mean "the store is unavailable"; anything else is a bug to surface as is.
      if (!(err instanceof MongoError)) throw err;
      if (err instanceof MongoTopologyClosedError && !this.closed) this.discardClient();
      throw new AppError(
        'STORE_UNAVAILABLE',
        `The MongoDB analysis archive is unavailable (${safeMessage(err)}); try again later`,
      );
    }
  }

  private async connect(): Promise<Collection<AnalysisDoc>> {
    const client = (this.client ??= newClient(this.url, this.serverSelectionTimeoutMS));
    try {
      await client.connect();
    } catch (err) {
      // After a failed first connect a MongoClient keeps a closed topology and fails every later call
      // with "Topology is closed": the next attempt needs a new client.
      this.discardClient();
      throw err;
    }
    const collection = client.db(this.dbName).collection<AnalysisDoc>(this.collectionName);
    try {
      await collection.createIndexes(INDEXES.map((i) => ({ ...i })));
    } catch (err) {
      if (isConnectivityError(err)) throw err;
      // E.g. an existing index with other options: the archive works without ours (find enforces the
      // 7-day cut-off itself), so this is reported, not fatal.
      log.warn('MongoDB archive indexes not created', { error: safeMessage(err) });
    }
    return collection;
  }

  private discardClient(): void {
    const client = this.client;
    this.client = null;
    this.ready = null;
    client?.close().catch(() => undefined);
  }
}

function newClient(url: string, serverSelectionTimeoutMS: number): MongoClient {
  return new MongoClient(url, {
    serverSelectionTimeoutMS,
    connectTimeoutMS: 5_000,
    // A reply that never comes (half-open connection) must not hang a request forever.
    socketTimeoutMS: 15_000,
    appName: 'crypto-mcp',
    // JSON semantics for reports: an undefined field is dropped, not stored as null.
    ignoreUndefined: true,
  });
}

/** The database named in a `mongodb://` / `mongodb+srv://` URL's path, if any. */
export function dbNameFromUrl(url: string): string | undefined {
  const match = /^mongodb(?:\+srv)?:\/\/[^/?#]*\/([^?#]*)/i.exec(url);
  if (!match?.[1]) return undefined;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return undefined;
  }
}

function isConnectivityError(err: unknown): boolean {
  const name = (err as Error | undefined)?.name ?? '';
  return /Network|ServerSelection|TopologyClosed|NotConnected|PoolCleared/.test(name);
}

/** A driver error's message without credentials (URLs' user info, secret-looking values), shortened. */
function safeMessage(err: unknown): string {
  const raw = err instanceof Error ? err.message || err.name : String(err);
  const withoutUserInfo = raw.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s@]*@/gi, '$1');
  const text = String(redact(withoutUserInfo));
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

function invalid(field: string, expected: string): AppError {
  return new AppError('INVALID_ARGUMENT', `${field} must be ${expected}`, { field });
}

function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string') throw invalid(field, 'a string');
  return value;
}

function requireNumber(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(field, 'a finite number');
  return value;
}

function requireDate(value: unknown, field: string): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw invalid(field, 'a valid Date');
  return value;
}

/** An absent filter: undefined or null (JSON callers send null); anything else must pass `check`. */
function optional<T>(value: unknown, field: string, check: (v: unknown, field: string) => T): T | undefined {
  return value === undefined || value === null ? undefined : check(value, field);
}

/** The report as JSON would carry it (what Postgres JSONB stores too), so both archives return the same. */
function asJsonObject(report: unknown): Record<string, unknown> {
  if (report === null || typeof report !== 'object' || Array.isArray(report)) {
    throw invalid('report', 'a JSON object');
  }
  try {
    return JSON.parse(JSON.stringify(report)) as Record<string, unknown>;
  } catch {
    throw invalid('report', 'serialisable as JSON');
  }
}
