/* global db, print */
// First start of the mongo container (empty volume), run by the image's entrypoint with mongosh as the
// root user: the analysis archive's user, collection and indexes.
//
// The user gets readWrite on its own database only (MONGODB_URL of the server). The indexes are the
// ones mcp-server/src/store/mongo-archive.ts creates on its first use, with the same keys, options and
// default names, so the server recognises them instead of adding a second set:
//   {symbol: 1, timestamp: -1}                                  latest analyses of a symbol
//   {created_at: 1}, expireAfterSeconds 604800 (7 days)         TTL: archived entries expire
//   {confidence: -1}                                            high-confidence set-ups
// Needs MONGO_APP_DB, MONGO_APP_USER, MONGO_APP_PASSWORD. Safe to run again.

const dbName = process.env.MONGO_APP_DB;
const user = process.env.MONGO_APP_USER;
const password = process.env.MONGO_APP_PASSWORD;
for (const [name, value] of Object.entries({
  MONGO_APP_DB: dbName,
  MONGO_APP_USER: user,
  MONGO_APP_PASSWORD: password,
})) {
  if (!value) throw new Error(`10-archive.js: ${name} is not set`);
}

const ARCHIVE_TTL_SECONDS = 7 * 24 * 3600;
const app = db.getSiblingDB(dbName);

if (app.getUser(user) === null) {
  app.createUser({ user, pwd: password, roles: [{ role: 'readWrite', db: dbName }] });
  print(`10-archive.js: user ${user} created on ${dbName}`);
}

if (!app.getCollectionNames().includes('analyses')) app.createCollection('analyses');
const analyses = app.getCollection('analyses');
analyses.createIndex({ symbol: 1, timestamp: -1 });
analyses.createIndex({ created_at: 1 }, { expireAfterSeconds: ARCHIVE_TTL_SECONDS });
analyses.createIndex({ confidence: -1 });
print(`10-archive.js: ${dbName}.analyses and its indexes ready`);
