/**
 * A real PostgreSQL going away and coming back under a live PgDatabase: calls fail fast with
 * STORE_UNAVAILABLE while it is down, nothing crashes (dropped connections emit 'error' events that must
 * be heard), and the same instance works again once the server is back. The server is private to this
 * file, so stopping it disturbs no other test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgDatabase } from '../../src/store/pg-database.js';
import { SqlPortfolioStore } from '../../src/store/portfolio-store.js';
import { startPrivatePostgres, type PrivatePostgres } from '../helpers/postgres.js';

describe('PgDatabase when PostgreSQL stops and starts again', () => {
  let server: PrivatePostgres;
  let db: PgDatabase;
  let store: SqlPortfolioStore;
  const crashes: unknown[] = [];
  const onCrash = (err: unknown) => crashes.push(err);

  beforeAll(async () => {
    process.on('uncaughtException', onCrash);
    process.on('unhandledRejection', onCrash);
    server = await startPrivatePostgres();
    db = new PgDatabase({ connectionString: server.url, connectTimeoutMs: 1_000, max: 4 });
    store = new SqlPortfolioStore(db);
  });

  afterAll(async () => {
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
    await db?.close();
    await server?.destroy();
  });

  const position = { symbol: 'BTC/USDT', quantity: 1, entry_price: 50_000, entry_time: null, fees: 0 };

  it('works while the server is up, with idle pooled connections', async () => {
    await store.replace('o', 'p', { positions: [position] });
    // Several connections at once, so the pool holds idle ones when the server stops.
    await Promise.all(Array.from({ length: 4 }, () => db.query('select pg_sleep(0.05)')));
    expect(await db.health()).toMatchObject({ status: 'ok' });
  });

  it('fails fast with STORE_UNAVAILABLE while it is down, inside a transaction too, and reports down', async () => {
    // A transaction holds a checked-out connection across the shutdown.
    let release!: () => void;
    const paused = new Promise<void>((resolve) => (release = resolve));
    const inFlight = db.transaction(async (tx) => {
      await tx.query('select 1');
      await paused;
      await tx.query('select 1');
    });
    const outcome = inFlight.then(
      () => null,
      (err: unknown) => err,
    );
    await new Promise((r) => setTimeout(r, 50));

    await server.stop();
    release();
    expect(await outcome).toMatchObject({ code: 'STORE_UNAVAILABLE' });

    for (const call of [
      () => db.query('select 1'),
      () => store.get('o', 'p'),
      () => store.replace('o', 'p', { positions: [] }),
      () => db.transaction((tx) => tx.query('select 1')),
    ]) {
      const started = Date.now();
      const err = await call().catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'STORE_UNAVAILABLE' });
      expect((err as Error).message).toMatch(/^The database is unreachable \(connection refused\)/);
      expect(Date.now() - started).toBeLessThan(1_000);
    }
    const health = await db.health();
    expect(health).toMatchObject({ name: 'database', backend: 'postgres', status: 'down' });
    expect(health.detail).not.toContain(server.url);
  });

  it('works again once the server is back, with the same instance and the data intact', async () => {
    await server.start();
    expect(await db.health()).toMatchObject({ status: 'ok' });
    expect((await store.get('o', 'p'))!.positions).toEqual([position]);
    await store.upsert('o', 'p', { positions: [{ ...position, symbol: 'ETH/USDT' }] });
    expect((await store.list('o')).map((p) => p.positions)).toEqual([2]);
    expect(crashes).toEqual([]);
  });
});
