/** The archive contract on the Postgres JSONB adapter, on embedded PGlite and on a real PostgreSQL. */
import { PostgresArchive } from '../../src/store/pg-archive.js';
import { PgDatabase } from '../../src/store/pg-database.js';
import { PgliteDatabase } from '../../src/store/pglite-database.js';
import { isolatedPostgresUrl } from '../helpers/postgres.js';
import { archiveContract } from './archive-contract.js';

/** A clock that follows real time until a test sets it. */
function settableClock(): { now: () => number; setNow: (ms: number) => void } {
  let fixed: number | undefined;
  return { now: () => fixed ?? Date.now(), setNow: (ms) => (fixed = ms) };
}

archiveContract('PostgresArchive on PGlite', async () => {
  const clock = settableClock();
  const db = new PgliteDatabase({ dataDir: 'memory' });
  const archive = new PostgresArchive(db, clock.now);
  return {
    archive,
    setNow: clock.setNow,
    cleanup: async () => {
      await archive.close();
      await db.close();
    },
  };
});

archiveContract('PostgresArchive on PostgreSQL', async () => {
  const clock = settableClock();
  const { url, drop } = await isolatedPostgresUrl();
  const db = new PgDatabase({ connectionString: url });
  const archive = new PostgresArchive(db, clock.now);
  return {
    archive,
    setNow: clock.setNow,
    cleanup: async () => {
      await archive.close();
      await db.close();
      await drop();
    },
  };
});
