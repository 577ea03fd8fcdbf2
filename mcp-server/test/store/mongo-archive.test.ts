/**
 * MongoArchive. Without a server (always run): it opens, fails fast and cleanly with STORE_UNAVAILABLE,
 * retries on the next call, and refuses ill-typed filters before any I/O. With MONGODB_URL set: the
 * archive contract, the indexes, and operator injection attempts against a real MongoDB. There is no
 * MongoDB in CI, so there those tests are skipped.
 */
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbNameFromUrl, MongoArchive } from '../../src/store/mongo-archive.js';
import { archiveContract } from './archive-contract.js';

const MONGODB_URL = process.env.MONGODB_URL;
/** Nothing listens on port 1: connection refused at once. */
const DEAD_URL = 'mongodb://archivist:hunter2-secret@127.0.0.1:1/crypto_test';

describe('MongoArchive without a reachable server', () => {
  let archive: MongoArchive;

  beforeAll(async () => {
    archive = await MongoArchive.open(DEAD_URL, { serverSelectionTimeoutMS: 300 });
  });

  afterAll(async () => {
    await archive.close();
  });

  it('opens without connecting, and every call fails with STORE_UNAVAILABLE, never the password', async () => {
    for (let attempt = 0; attempt < 2; attempt++) {
      const err = await archive.find({ symbol: 'BTC/USDT', limit: 10 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'STORE_UNAVAILABLE' });
      const message = (err as Error).message;
      expect(message).not.toContain('hunter2');
      // Each call really tries again (a MongoClient whose first connect failed would say "Topology is closed").
      expect(message).not.toMatch(/topology is closed/i);
    }
    const saved = archive.save({
      symbol: 'BTC/USDT',
      exchange: 'binance',
      timeframe: '1h',
      timestamp: new Date(),
      confidence: 50,
      action: 'HOLD',
      report: {},
    });
    await expect(saved).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    const health = await archive.health();
    expect(health).toMatchObject({ name: 'archive', backend: 'mongodb', status: 'down' });
    expect(health.detail).not.toContain('hunter2');
  });

  it('rejects ill-typed filters before any I/O', async () => {
    const query = { symbol: { $ne: null }, limit: 10 } as unknown as { symbol: string; limit: number };
    await expect(archive.find(query)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('refuses a malformed URL without echoing it', async () => {
    const err = await MongoArchive.open('mongodb://user:pw-in-url@', {}).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((err as Error).message).not.toContain('pw-in-url');
  });

  it('takes the database name from the URL path', () => {
    expect(dbNameFromUrl('mongodb://u:p@h1:27017,h2:27017/crypto?replicaSet=rs0')).toBe('crypto');
    expect(dbNameFromUrl('mongodb+srv://cluster0.example.net/my%20db?retryWrites=true')).toBe('my db');
    expect(dbNameFromUrl('mongodb://localhost:27017')).toBeUndefined();
    expect(dbNameFromUrl('mongodb://localhost:27017/?tls=true')).toBeUndefined();
  });
});

describe.skipIf(!MONGODB_URL)('MongoArchive on a real MongoDB (MONGODB_URL)', () => {
  /** Each run gets its own database, dropped afterwards. */
  const newDbName = () => `crypto_mcp_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`;

  archiveContract('MongoArchive', async () => {
    let fixed: number | undefined;
    const dbName = newDbName();
    const archive = await MongoArchive.open(MONGODB_URL!, { dbName, now: () => fixed ?? Date.now() });
    return {
      archive,
      setNow: (ms) => (fixed = ms),
      cleanup: async () => {
        await archive.close();
        await dropDatabase(dbName);
      },
    };
  });

  describe('Mongo specifics', () => {
    const dbName = newDbName();
    let archive: MongoArchive;
    let client: MongoClient;

    beforeAll(async () => {
      archive = await MongoArchive.open(MONGODB_URL!, { dbName });
      client = new MongoClient(MONGODB_URL!, { serverSelectionTimeoutMS: 5_000 });
      await archive.save({
        symbol: 'BTC/USDT',
        exchange: 'binance',
        timeframe: '1h',
        timestamp: new Date(),
        confidence: 75,
        action: 'BUY',
        report: { ok: true, gone: undefined },
      });
    });

    afterAll(async () => {
      await archive.close();
      await client.db(dbName).dropDatabase();
      await client.close();
    });

    it('creates the symbol+timestamp, 7-day TTL on created_at and confidence indexes', async () => {
      const indexes = await client.db(dbName).collection('analyses').listIndexes().toArray();
      const byKey = new Map(indexes.map((i) => [JSON.stringify(i.key), i]));
      expect(byKey.get(JSON.stringify({ symbol: 1, timestamp: -1 }))).toBeDefined();
      expect(byKey.get(JSON.stringify({ confidence: -1 }))).toBeDefined();
      expect(byKey.get(JSON.stringify({ created_at: 1 }))?.expireAfterSeconds).toBe(7 * 24 * 3600);
    });

    it('stores the documented document shape', async () => {
      const doc = await client.db(dbName).collection('analyses').findOne({ symbol: 'BTC/USDT' });
      expect(doc).toMatchObject({ symbol: 'BTC/USDT', exchange: 'binance', confidence: 75, action: 'BUY' });
      expect(doc!.timestamp).toBeInstanceOf(Date);
      expect(doc!.created_at).toBeInstanceOf(Date);
      expect(doc!.report).toEqual({ ok: true }); // undefined dropped, as JSON does
    });

    it('never lets user input become an operator', async () => {
      const attempts: unknown[] = [
        { $ne: null },
        { $gt: '' },
        { $regex: '.*' },
        { $where: 'true' },
        JSON.parse('{"$ne": null}'),
        ['BTC/USDT'],
      ];
      for (const value of attempts) {
        for (const field of ['symbol', 'timeframe', 'min_confidence', 'since']) {
          const query = { [field]: value, limit: 10 } as unknown as { limit: number };
          await expect(archive.find(query), `${field}=${JSON.stringify(value)}`).rejects.toMatchObject({
            code: 'INVALID_ARGUMENT',
          });
        }
      }
      for (const text of ['{"$ne":null}', '{ "$where": "true" }', '$where', '/.*/']) {
        expect(await archive.find({ symbol: text, limit: 10 })).toEqual([]);
      }
      expect(await archive.find({ symbol: 'BTC/USDT', limit: 10 })).toHaveLength(1);
    });

    it('reuses the indexes of an existing collection on reopen', async () => {
      const again = await MongoArchive.open(MONGODB_URL!, { dbName });
      try {
        expect(await again.find({ symbol: 'BTC/USDT', limit: 10 })).toHaveLength(1);
        const indexes = await client.db(dbName).collection('analyses').listIndexes().toArray();
        expect(indexes).toHaveLength(4); // _id + the three
      } finally {
        await again.close();
      }
    });
  });
});

async function dropDatabase(dbName: string): Promise<void> {
  const client = new MongoClient(MONGODB_URL!, { serverSelectionTimeoutMS: 5_000 });
  try {
    await client.db(dbName).dropDatabase();
  } finally {
    await client.close();
  }
}
