/**
 * One Postgres schema for the server processes the end-to-end tests start, so they persist to the real
 * Postgres (as in production) without touching anyone's home directory, and leave nothing behind.
 * Server processes share it as replicas share a database: tests use their own portfolio ids and keys.
 */
import { isolatedPostgresUrl } from './helpers/postgres.js';

export default async function setup(): Promise<() => Promise<void>> {
  const { url, drop } = await isolatedPostgresUrl();
  process.env.E2E_DATABASE_URL = url;
  return drop;
}
