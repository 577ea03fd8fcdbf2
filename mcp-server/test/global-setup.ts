/**
 * One Postgres schema for the server processes the end-to-end tests start, so they persist to the real
 * Postgres (as in production) without touching anyone's home directory, and leave nothing behind.
 * Server processes share it as replicas share a database: tests use their own portfolio ids and keys.
 * Likewise one Redis key prefix per run.
 */
import { randomBytes } from 'node:crypto';
import { isolatedPostgresUrl } from './helpers/postgres.js';
import { deleteKeys, rawClient } from './helpers/redis.js';

export default async function setup(): Promise<() => Promise<void>> {
  const { url, drop } = await isolatedPostgresUrl();
  process.env.E2E_DATABASE_URL = url;
  // Servers that share the machine's Redis keep this run's keys apart from any other run's.
  const prefix = `test:e2e:${randomBytes(4).toString('hex')}:`;
  process.env.E2E_REDIS_KEY_PREFIX = prefix;
  return async () => {
    await drop();
    const redis = rawClient();
    try {
      await deleteKeys(redis, prefix);
    } finally {
      redis.disconnect();
    }
  };
}
