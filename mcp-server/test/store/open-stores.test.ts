/**
 * openStores picks each backend from configuration. MongoDB has no server on these machines, so the
 * Mongo wiring is checked against a closed port: the archive is Mongo's, health names it down, and an
 * analysis is still answered, with a note that it was not archived.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { MarketData } from '../../src/market/index.js';
import { AnalysisService } from '../../src/services/analysis.js';
import { openStores, type Stores } from '../../src/store/index.js';
import { isolatedPostgresUrl } from '../helpers/postgres.js';
import { SHARED_REDIS_URL } from '../helpers/redis.js';

describe('openStores', () => {
  const opened: Stores[] = [];
  const drops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    await Promise.allSettled(opened.map((s) => s.close()));
    await Promise.allSettled(drops.map((d) => d()));
  });

  it('uses Postgres, Redis and MongoDB when configured, and reports each', async () => {
    const pg = await isolatedPostgresUrl();
    drops.push(pg.drop);
    const stores = await openStores({
      DATABASE_URL: pg.url,
      DATA_DIR: 'unused',
      REDIS_URL: SHARED_REDIS_URL,
      MONGODB_URL: 'mongodb://user:secret-password@127.0.0.1:9/archive',
    });
    opened.push(stores);
    expect(stores.database.backend).toBe('postgres');
    expect(stores.archive.backend).toBe('mongodb');

    for (let i = 0; i < 50 && (await stores.health()).stores[1]!.status !== 'ok'; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const health = await stores.health();
    expect(health.status).toBe('degraded');
    expect(health.stores).toEqual([
      expect.objectContaining({ name: 'database', backend: 'postgres', status: 'ok' }),
      expect.objectContaining({ name: 'cache', backend: 'redis', status: 'ok' }),
      expect.objectContaining({ backend: 'mongodb', status: 'down' }),
    ]);
    expect(JSON.stringify(health)).not.toContain('secret-password');

    const analysis = new AnalysisService(new MarketData({ mode: 'offline', cache: stores.cache }), {
      cache: stores.cache,
      archive: stores.archive,
    });
    const r = await analysis.analyze(
      { symbol: 'BTCUSDT', timeframe: '4h', limit: 200, higher_timeframe: 'none' },
      { save: true },
    );
    expect(r.archive).toBeNull();
    expect(r.notes.join(' ')).toMatch(/Not archived: /);
    expect(r.notes.join(' ')).not.toContain('secret-password');
  });

  it('runs embedded with nothing configured', async () => {
    const stores = await openStores({ DATA_DIR: 'memory' });
    opened.push(stores);
    expect(stores.database.backend).toBe('pglite');
    expect(stores.archive.backend).toBe('postgres-jsonb');
    const health = await stores.health();
    expect(health.status).toBe('ok');
    expect(health.stores).toEqual([
      expect.objectContaining({ name: 'database', backend: 'pglite', status: 'ok' }),
      expect.objectContaining({ name: 'cache', backend: 'memory', status: 'disabled' }),
    ]);
  });
});
