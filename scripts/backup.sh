#!/usr/bin/env bash
# Backup of crypto-intel's data into one timestamped directory: the server's Postgres database
# (pg_dump, custom format), n8n's Postgres database, the MongoDB analysis archive (mongodump) and a
# Redis snapshot (redis-cli --rdb), with manifest.json and SHA256SUMS. Restore with scripts/restore.sh.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"

usage() {
  cat <<'USAGE'
Usage: scripts/backup.sh [--out DIR] [--compose] [--skip postgres|n8n|mongo|redis]...

Writes DIR/<UTC timestamp>/ (DIR defaults to ./backups) holding:
  postgres.dump      pg_dump --format=custom of the server's database
  n8n.dump           the same for n8n's database (workflows, credentials, executions)
  mongo.archive.gz   mongodump --archive --gzip of the analysis archive's database
  redis.rdb          redis-cli --rdb snapshot (cache, rate limits, BullMQ queues)
  manifest.json      what was saved, from where (no passwords), schema version, sizes
  SHA256SUMS         checksums, verified by restore.sh before it touches anything
The directory is written as <timestamp>.partial and renamed when complete.

Sources, local form (host tools: pg_dump, psql, redis-cli, mongodump):
  DATABASE_URL       required: the server's Postgres database
  N8N_DATABASE_URL   optional: n8n's database
  MONGODB_URL        optional: mongodump of the database named in the URL
  REDIS_URL          optional: snapshot of that Redis server (all its databases)

--compose: the stack of docker-compose.production.yml (its databases have no host ports): every dump
runs inside its container with `docker compose exec` (env file .env.production; COMPOSE_FILE_PATH and
ENV_FILE override the paths). Postgres, n8n, MongoDB and Redis are all included unless skipped.

Exit 0 when everything asked for was saved; 1 otherwise (the .partial directory is left for
inspection); 2 on usage errors. Passwords never appear in the output, the manifest or a command line.
USAGE
}

OUT="./backups"
MODE="local"
SKIP=" "
while [ $# -gt 0 ]; do
  case "$1" in
    --out)
      [ $# -ge 2 ] || EXIT_CODE=2 die "--out needs a directory"
      OUT="$2"
      shift 2
      ;;
    --compose)
      MODE="compose"
      shift
      ;;
    --skip)
      [ $# -ge 2 ] || EXIT_CODE=2 die "--skip needs postgres, n8n, mongo or redis"
      case "$2" in postgres | n8n | mongo | redis) SKIP+="$2 " ;; *) EXIT_CODE=2 die "unknown part: $2" ;; esac
      shift 2
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      usage >&2
      exit 2
      ;;
  esac
done

wanted() { [[ "$SKIP" != *" $1 "* ]]; }

# Dumps hold everything: readable by this user only.
umask 077
SUM="$(sha256_tool)"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
FINAL="$OUT/$STAMP"
DIR="$FINAL.partial"
if [ -e "$FINAL" ] || [ -e "$DIR" ]; then die "$FINAL already exists"; fi
mkdir -m 700 "$DIR"

MONGO_CONFIG=""
cleanup() { [ -z "$MONGO_CONFIG" ] || rm -f "$MONGO_CONFIG"; }
trap cleanup EXIT

# Manifest entries and files, appended as the parts are saved.
PARTS=()
FILES=()
SCHEMA_VERSION="null"

add_part() { # name file source
  local bytes
  bytes="$(wc -c <"$DIR/$2" | tr -d ' ')"
  PARTS+=("{\"part\": $(json_str "$1"), \"file\": $(json_str "$2"), \"bytes\": $bytes, \"source\": $(json_str "$3")}")
  FILES+=("$2")
  note "$1: $2 ($bytes bytes) from $3"
}

# --- local form ---------------------------------------------------------------------------------
backup_pg_local() { # part url file
  local part="$1" url="$2" file="$3"
  pg_url_split "$url"
  pg_dump --format=custom --compress=6 --no-password --dbname="$PG_URL" --file="$DIR/$file" ||
    die "$part: pg_dump failed"
  if [ "$part" = "postgres" ]; then
    SCHEMA_VERSION="$(psql --no-psqlrc --no-password -tAq --dbname="$PG_URL" \
      -c "select coalesce(max(version), 0) from schema_migrations" 2>/dev/null || echo null)"
    [ -n "$SCHEMA_VERSION" ] || SCHEMA_VERSION="null"
  fi
  unset PGPASSWORD
  add_part "$part" "$file" "$(redact_url "$url")"
}

backup_mongo_local() {
  local db
  db="$(mongo_url_db "$MONGODB_URL")"
  [ -n "$db" ] || die "mongo: MONGODB_URL names no database (mongodb://.../<database>)"
  mongo_config_file "$MONGODB_URL"
  mongodump --quiet --config="$MONGO_CONFIG" --db="$db" --archive="$DIR/mongo.archive.gz" --gzip ||
    die "mongo: mongodump failed"
  MONGO_DB="$db"
  add_part mongo mongo.archive.gz "$(redact_url "$MONGODB_URL")"
}

backup_redis_local() {
  redis_url_split "$REDIS_URL"
  redis_cli --rdb "$DIR/redis.rdb" >/dev/null 2>"$DIR/.redis.log" || {
    cat "$DIR/.redis.log" >&2
    die "redis: redis-cli --rdb failed"
  }
  rm -f "$DIR/.redis.log"
  unset REDISCLI_AUTH
  add_part redis redis.rdb "$(redact_url "$REDIS_URL")"
}

# --- compose form: each tool runs in its own container, with that container's credentials ----------
backup_pg_compose() { # part dbvar file
  local part="$1" dbvar="$2" file="$3"
  compose exec -T postgres sh -c "pg_dump --format=custom --compress=6 -U \"\$POSTGRES_USER\" -d \"\$$dbvar\"" \
    >"$DIR/$file" || die "$part: pg_dump in the postgres container failed"
  if [ "$part" = "postgres" ]; then
    # shellcheck disable=SC2016 # expanded by the container's shell
    SCHEMA_VERSION="$(compose exec -T postgres sh -c \
      'psql -tAq -U "$POSTGRES_USER" -d "$APP_DB_NAME" -c "select coalesce(max(version), 0) from schema_migrations"' \
      2>/dev/null | tr -d '\r' || echo null)"
    [ -n "$SCHEMA_VERSION" ] || SCHEMA_VERSION="null"
  fi
  add_part "$part" "$file" "compose service postgres, database \$$dbvar"
}

backup_mongo_compose() {
  # mongodump in the mongo container, as its root user (the password stays inside the container, in a
  # private config file rather than on mongodump's command line).
  # shellcheck disable=SC2016 # expanded by the container's shell
  compose exec -T mongo sh -c "$MONGO_ROOT_CONFIG_SH"'mongodump --quiet --archive --gzip --db "$MONGO_APP_DB" \
      --username "$MONGO_INITDB_ROOT_USERNAME" --config "$cfg" \
      --authenticationDatabase admin'"$MONGO_ROOT_CONFIG_END" >"$DIR/mongo.archive.gz" ||
    die "mongo: mongodump in the mongo container failed"
  # shellcheck disable=SC2016
  MONGO_DB="$(compose exec -T mongo sh -c 'printf %s "$MONGO_APP_DB"')"
  add_part mongo mongo.archive.gz "compose service mongo, database $MONGO_DB"
}

backup_redis_compose() {
  # shellcheck disable=SC2016 # expanded by the container's shell
  compose exec -T redis sh -c 'f=/tmp/backup-$$.rdb; REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli --rdb "$f" >/dev/null 2>&1 \
      && cat "$f"; rc=$?; rm -f "$f"; exit $rc' >"$DIR/redis.rdb" || die "redis: snapshot in the redis container failed"
  add_part redis redis.rdb "compose service redis"
}

MONGO_DB=""
if [ "$MODE" = "local" ]; then
  if wanted postgres; then
    [ -n "${DATABASE_URL:-}" ] || EXIT_CODE=2 die "DATABASE_URL is not set (or pass --skip postgres)"
    need pg_dump psql
    backup_pg_local postgres "$DATABASE_URL" postgres.dump
  fi
  if wanted n8n && [ -n "${N8N_DATABASE_URL:-}" ]; then
    need pg_dump
    backup_pg_local n8n "$N8N_DATABASE_URL" n8n.dump
  fi
  if wanted mongo && [ -n "${MONGODB_URL:-}" ]; then
    need mongodump
    backup_mongo_local
  fi
  if wanted redis && [ -n "${REDIS_URL:-}" ]; then
    need redis-cli
    backup_redis_local
  fi
else
  need docker
  wanted postgres && backup_pg_compose postgres APP_DB_NAME postgres.dump
  wanted n8n && backup_pg_compose n8n N8N_DB_NAME n8n.dump
  wanted mongo && backup_mongo_compose
  wanted redis && backup_redis_compose
fi

[ "${#PARTS[@]}" -gt 0 ] || die "nothing to back up (set DATABASE_URL, MONGODB_URL or REDIS_URL)"

{
  echo "{"
  echo "  \"format\": \"crypto-intel-backup/1\","
  echo "  \"created_at\": $(json_str "$(date -u +%Y-%m-%dT%H:%M:%SZ)"),"
  echo "  \"mode\": $(json_str "$MODE"),"
  echo "  \"schema_version\": $SCHEMA_VERSION,"
  echo "  \"mongo_db\": $(json_str "$MONGO_DB"),"
  echo "  \"parts\": ["
  last=$((${#PARTS[@]} - 1))
  for i in "${!PARTS[@]}"; do
    if [ "$i" -lt "$last" ]; then echo "    ${PARTS[$i]},"; else echo "    ${PARTS[$i]}"; fi
  done
  echo "  ]"
  echo "}"
} >"$DIR/manifest.json"

FILES+=(manifest.json)
# shellcheck disable=SC2086 # SUM is a command with its options
(cd "$DIR" && $SUM -- "${FILES[@]}" >SHA256SUMS)
mv "$DIR" "$FINAL"
echo "$FINAL"
