#!/usr/bin/env bash
# Restores a directory written by scripts/backup.sh, after checking its SHA256SUMS.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"

usage() {
  cat <<'USAGE'
Usage: scripts/restore.sh [--force] [--compose] [--only postgres|n8n|mongo|redis]... <backup-dir>

Checks SHA256SUMS, then restores every part found in <backup-dir> (or only those named):
  postgres.dump     -> DATABASE_URL       pg_restore --no-owner --no-privileges --single-transaction
  n8n.dump          -> N8N_DATABASE_URL   the same
  mongo.archive.gz  -> MONGODB_URL        mongorestore into the URL's database
  redis.rdb         -> REDIS_URL          see below
A part whose target variable is unset is skipped with a note, unless it was named with --only.

Refusals (exit 3, nothing changed): a Postgres target that already has tables, or a Redis target that
already has keys, unless --force. With --force: Postgres objects of the backup are dropped and
recreated (pg_restore --clean --if-exists; objects the backup does not have are left alone), Mongo
collections of the backup are dropped first (mongorestore --drop; without --force documents whose _id
exists are kept), Redis keys of the backup replace same-named keys (other keys stay).

Redis: an RDB file can only be loaded by a Redis server at start, and a server with AOF enabled (as
in production) ignores it. So the snapshot is loaded into a temporary redis-server (127.0.0.1, a free
port, a temporary directory) and every key is copied into the live server with MIGRATE ... COPY
REPLACE (values and TTLs kept), while the live server keeps running. Needs redis-server and redis-cli.
Key names containing newlines are not supported.

--compose: restore into the stack of docker-compose.production.yml (env file .env.production;
COMPOSE_FILE_PATH and ENV_FILE override the paths): pg_restore and mongorestore run inside their
containers (objects owned by the application roles); the temporary Redis runs in a one-off container
of the redis service on the internal network. Stop the services that write (docker compose stop mcp
worker n8n n8n-worker) before restoring, and start them afterwards.

Exit 0 restored, 1 failed, 2 usage error, 3 refused (target not empty, no --force).
USAGE
}

FORCE=0
MODE="local"
ONLY=" "
DIR=""
while [ $# -gt 0 ]; do
  case "$1" in
    --force)
      FORCE=1
      shift
      ;;
    --compose)
      MODE="compose"
      shift
      ;;
    --only)
      [ $# -ge 2 ] || EXIT_CODE=2 die "--only needs postgres, n8n, mongo or redis"
      case "$2" in postgres | n8n | mongo | redis) ONLY+="$2 " ;; *) EXIT_CODE=2 die "unknown part: $2" ;; esac
      shift 2
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    -*)
      usage >&2
      exit 2
      ;;
    *)
      [ -z "$DIR" ] || EXIT_CODE=2 die "one backup directory only"
      DIR="$1"
      shift
      ;;
  esac
done
[ -n "$DIR" ] || {
  usage >&2
  exit 2
}
[ -d "$DIR" ] || EXIT_CODE=2 die "no such directory: $DIR"
DIR="$(cd "$DIR" && pwd)"
if [ ! -f "$DIR/SHA256SUMS" ] || [ ! -f "$DIR/manifest.json" ]; then
  die "$DIR is not a complete backup (no SHA256SUMS or manifest.json)"
fi

SUM="$(sha256_tool)"
# shellcheck disable=SC2086 # SUM is a command with its options
(cd "$DIR" && $SUM -c --quiet SHA256SUMS) || die "checksums do not match: $DIR is damaged or was altered"
note "checksums verified"

named() { [[ "$ONLY" == *" $1 "* ]]; }
# A file SHA256SUMS vouches for ("<hash>  <file>", or "<hash> *<file>" in binary mode): the check above
# passes whatever file is not listed, so an unlisted one is never restored.
listed() { awk -v f="$1" '$2 == f || $2 == "*" f { found = 1 } END { exit !found }' "$DIR/SHA256SUMS"; }
selected() { # part file
  [ -f "$DIR/$2" ] || {
    named "$1" && die "$1: $2 is not in this backup"
    return 1
  }
  [ "$ONLY" = " " ] || named "$1" || return 1
  listed "$2" || die "$1: $2 is not listed in SHA256SUMS (not written by backup.sh): not restored"
}
# A part whose target is not configured: an error if it was asked for by name, else a note.
no_target() { # part variable
  named "$1" && EXIT_CODE=2 die "$1: $2 is not set"
  note "$1: skipped ($2 is not set)"
}

refuse() {
  echo "$(basename "$0"): $*" >&2
  exit 3
}

RESTORED=0
MONGO_SRC_DB="$(sed -nE 's/^ *"mongo_db": "(.*)",?$/\1/p' "$DIR/manifest.json")"

# Relations (tables, views, sequences...) outside the system schemas: 0 means an empty database.
COUNT_SQL="select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
   and n.nspname not in ('pg_catalog', 'information_schema')
   and n.nspname not like 'pg\_toast%' and n.nspname not like 'pg\_temp%'"

PG_RESTORE_OPTS=(--no-owner --no-privileges --single-transaction --exit-on-error)

# --- Postgres -----------------------------------------------------------------------------------------
restore_pg_local() { # part url file
  local part="$1" url="$2" file="$3" count opts=("${PG_RESTORE_OPTS[@]}")
  need psql pg_restore
  pg_url_split "$url"
  count="$(psql --no-psqlrc --no-password -tAq --dbname="$PG_URL" -c "$COUNT_SQL")" ||
    die "$part: cannot read the target database $(redact_url "$url")"
  if [ "$count" -gt 0 ]; then
    [ "$FORCE" = 1 ] || refuse "$part: the target database is not empty ($count relations); --force replaces what the backup holds"
    opts+=(--clean --if-exists)
  fi
  pg_restore "${opts[@]}" --no-password --dbname="$PG_URL" "$DIR/$file" || die "$part: pg_restore failed (rolled back)"
  unset PGPASSWORD
  note "$part: restored into $(redact_url "$url")"
  RESTORED=$((RESTORED + 1))
}

restore_pg_compose() { # part dbvar uservar file
  local part="$1" dbvar="$2" uservar="$3" file="$4" count clean=""
  count="$(compose exec -T postgres sh -c "psql -tAq -U \"\$POSTGRES_USER\" -d \"\$$dbvar\" -c \"$COUNT_SQL\"" | tr -d '\r')" ||
    die "$part: cannot read the target database"
  if [ "$count" -gt 0 ]; then
    [ "$FORCE" = 1 ] || refuse "$part: the target database is not empty ($count relations); --force replaces what the backup holds"
    clean="--clean --if-exists"
  fi
  # --role: objects are created as (and owned by) the application's role, not the superuser.
  compose exec -T postgres sh -c "pg_restore ${PG_RESTORE_OPTS[*]} $clean -U \"\$POSTGRES_USER\" \
      --role=\"\$$uservar\" -d \"\$$dbvar\"" <"$DIR/$file" || die "$part: pg_restore failed (rolled back)"
  note "$part: restored into compose service postgres, database \$$dbvar"
  RESTORED=$((RESTORED + 1))
}

# --- MongoDB ------------------------------------------------------------------------------------------
restore_mongo_local() {
  local db opts=()
  need mongorestore
  db="$(mongo_url_db "$MONGODB_URL")"
  [ -n "$db" ] || die "mongo: MONGODB_URL names no database (mongodb://.../<database>)"
  [ "$FORCE" = 1 ] && opts+=(--drop)
  [ -n "$MONGO_SRC_DB" ] && opts+=(--nsFrom="$MONGO_SRC_DB.*" --nsTo="$db.*")
  mongo_config_file "$MONGODB_URL"
  mongorestore --quiet --config="$MONGO_CONFIG" --archive="$DIR/mongo.archive.gz" --gzip "${opts[@]}" ||
    die "mongo: mongorestore failed"
  rm -f "$MONGO_CONFIG"
  MONGO_CONFIG=""
  note "mongo: restored into $(redact_url "$MONGODB_URL")"
  RESTORED=$((RESTORED + 1))
}

restore_mongo_compose() {
  local drop=""
  [ "$FORCE" = 1 ] && drop="--drop"
  [ -n "$MONGO_SRC_DB" ] || die "mongo: the manifest names no source database"
  # shellcheck disable=SC2016 # expanded by the container's shell
  compose exec -T -e SRC_DB="$MONGO_SRC_DB" mongo sh -c "$MONGO_ROOT_CONFIG_SH"'mongorestore --quiet --archive --gzip '"$drop"' \
      --nsFrom="$SRC_DB.*" --nsTo="$MONGO_APP_DB.*" --username "$MONGO_INITDB_ROOT_USERNAME" \
      --config "$cfg" --authenticationDatabase admin'"$MONGO_ROOT_CONFIG_END" <"$DIR/mongo.archive.gz" ||
    die "mongo: mongorestore in the mongo container failed"
  note "mongo: restored into compose service mongo"
  RESTORED=$((RESTORED + 1))
}

# --- Redis --------------------------------------------------------------------------------------------
# POSIX sh, run on this machine or in a one-off redis container. Environment: RDB (the snapshot), WORK
# (an empty directory), TMP_PORT, TARGET_HOST, TARGET_PORT, TARGET_USER, TARGET_PASSWORD (else
# REDIS_PASSWORD), FORCE. The password reaches redis-cli through REDISCLI_AUTH and MIGRATE through
# redis-cli's standard input: never a command line.
# shellcheck disable=SC2016 # expanded by the sh that runs it
REDIS_RESTORE_SH='
set -eu
pw="${TARGET_PASSWORD:-${REDIS_PASSWORD:-}}"
unset REDISCLI_AUTH
tcli() {
  if [ -n "$pw" ]; then
    REDISCLI_AUTH="$pw" redis-cli -h "$TARGET_HOST" -p "$TARGET_PORT" ${TARGET_USER:+--user "$TARGET_USER"} "$@"
  else
    redis-cli -h "$TARGET_HOST" -p "$TARGET_PORT" "$@"
  fi
}
if [ "$(tcli ping 2>/dev/null)" != "PONG" ]; then
  echo "redis: the target $TARGET_HOST:$TARGET_PORT does not answer PING (down, or wrong password)" >&2
  exit 1
fi
if [ "$(tcli info keyspace | grep -c "^db[0-9]*:keys=")" -gt 0 ] && [ "$FORCE" != 1 ]; then
  echo "redis: the target already holds keys; --force copies the backup over them (same-named keys are replaced)" >&2
  exit 3
fi
cp "$RDB" "$WORK/dump.rdb"
redis-server --port "$TMP_PORT" --bind 127.0.0.1 --dir "$WORK" --dbfilename dump.rdb --save "" \
  --appendonly no --daemonize yes --logfile "$WORK/redis.log" --pidfile "$WORK/redis.pid"
trap "redis-cli -p $TMP_PORT shutdown nosave >/dev/null 2>&1 || true" EXIT
i=0
until [ "$(redis-cli -p "$TMP_PORT" ping 2>/dev/null)" = "PONG" ]; do
  i=$((i + 1))
  if [ "$i" -gt 60 ]; then cat "$WORK/redis.log" >&2; echo "redis: the snapshot did not load" >&2; exit 1; fi
  sleep 1
done
esc() { printf "%s" "$1" | sed -e "s/\\\\/\\\\\\\\/g" -e "s/\"/\\\\\"/g"; }
auth=""
if [ -n "${TARGET_USER:-}" ]; then auth=" AUTH2 \"$(esc "$TARGET_USER")\" \"$(esc "$pw")\""
elif [ -n "$pw" ]; then auth=" AUTH \"$(esc "$pw")\""; fi
total=0
for db in $(redis-cli -p "$TMP_PORT" info keyspace | sed -n "s/^db\([0-9]*\):.*/\1/p"); do
  out="$(redis-cli -p "$TMP_PORT" -n "$db" --scan | sed -e "s/\\\\/\\\\\\\\/g" -e "s/\"/\\\\\"/g" |
    while IFS= read -r key; do
      printf "MIGRATE %s %s \"%s\" %s 10000 COPY REPLACE%s\n" "$TARGET_HOST" "$TARGET_PORT" "$key" "$db" "$auth"
    done | redis-cli -p "$TMP_PORT" -n "$db")"
  ok="$(printf "%s\n" "$out" | grep -c "^OK$" || true)"
  bad="$(printf "%s\n" "$out" | grep -v -e "^OK$" -e "^NOKEY$" -e "^$" || true)"
  if [ -n "$bad" ]; then
    echo "redis: MIGRATE failed in db $db:" >&2
    printf "%s\n" "$bad" | head -n 5 >&2
    exit 1
  fi
  echo "redis: db $db: $ok keys copied" >&2
  total=$((total + ok))
done
echo "redis: $total keys restored into $TARGET_HOST:$TARGET_PORT" >&2
'

free_port() {
  local port _
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 30000))
    redis-cli -p "$port" ping >/dev/null 2>&1 || {
      echo "$port"
      return 0
    }
  done
  die "redis: no free port for the temporary server"
}

restore_redis_local() {
  need redis-server redis-cli
  [[ "$REDIS_URL" != rediss://* ]] || die "redis: restoring into a TLS (rediss://) server is not supported"
  redis_url_split "$REDIS_URL"
  local work rc=0
  work="$(mktemp -d)"
  RDB="$DIR/redis.rdb" WORK="$work" TMP_PORT="$(free_port)" TARGET_HOST="$REDIS_HOST" \
    TARGET_PORT="$REDIS_PORT" TARGET_USER="$REDIS_USER" TARGET_PASSWORD="${REDISCLI_AUTH:-}" FORCE="$FORCE" \
    sh -c "$REDIS_RESTORE_SH" || rc=$?
  rm -rf "$work"
  unset REDISCLI_AUTH
  [ "$rc" -eq 3 ] && exit 3
  [ "$rc" -eq 0 ] || die "redis: restore failed"
  RESTORED=$((RESTORED + 1))
}

restore_redis_compose() {
  local rc=0
  compose run --rm --no-deps -T -v "$DIR/redis.rdb:/restore/redis.rdb:ro" \
    -e RDB=/restore/redis.rdb -e WORK=/tmp/restore -e TMP_PORT=6390 -e TARGET_HOST=redis \
    -e TARGET_PORT=6379 -e FORCE="$FORCE" --entrypoint sh redis -c "mkdir -p /tmp/restore && $REDIS_RESTORE_SH" ||
    rc=$?
  [ "$rc" -eq 3 ] && exit 3
  [ "$rc" -eq 0 ] || die "redis: restore failed"
  RESTORED=$((RESTORED + 1))
}

MONGO_CONFIG=""
cleanup() { [ -z "$MONGO_CONFIG" ] || rm -f "$MONGO_CONFIG"; }
trap cleanup EXIT

# --- Refusals first -------------------------------------------------------------------------------------
# Every selected Postgres and Redis target is looked at before any part is restored, so a refusal (exit 3)
# leaves all of them as they were. A target that cannot be read here is left to its restore step, which
# says why. Each restore step checks its own target again.
refuse_if_not_empty() { # part count what
  if [ "${2:-0}" -gt 0 ] 2>/dev/null && [ "$FORCE" != 1 ]; then
    refuse "$1: the target $3; --force replaces what the backup holds (nothing was restored)"
  fi
}
if [ "$FORCE" != 1 ]; then
  for pg_part in postgres:postgres.dump:DATABASE_URL:APP_DB_NAME n8n:n8n.dump:N8N_DATABASE_URL:N8N_DB_NAME; do
    IFS=: read -r part file urlvar dbvar <<<"$pg_part"
    selected "$part" "$file" || continue
    if [ "$MODE" = "compose" ]; then
      count="$(compose exec -T postgres sh -c "psql -tAq -U \"\$POSTGRES_USER\" -d \"\$$dbvar\" -c \"$COUNT_SQL\"" 2>/dev/null | tr -d '\r')" || count=""
    elif [ -n "${!urlvar:-}" ]; then
      pg_url_split "${!urlvar}"
      count="$(psql --no-psqlrc --no-password -tAq --dbname="$PG_URL" -c "$COUNT_SQL" 2>/dev/null)" || count=""
      unset PGPASSWORD
    else
      count=""
    fi
    refuse_if_not_empty "$part" "$count" "database is not empty ($count relations)"
  done
  if selected redis redis.rdb; then
    if [ "$MODE" = "compose" ]; then
      # shellcheck disable=SC2016 # expanded by the container's shell
      keyspace="$(compose exec -T redis sh -c 'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli info keyspace' 2>/dev/null)" || keyspace=""
    elif [ -n "${REDIS_URL:-}" ]; then
      redis_url_split "$REDIS_URL"
      keyspace="$(redis_cli info keyspace 2>/dev/null)" || keyspace=""
      unset REDISCLI_AUTH
    else
      keyspace=""
    fi
    refuse_if_not_empty redis "$(printf '%s\n' "$keyspace" | grep -c '^db[0-9]*:keys=' || true)" "already holds keys"
  fi
fi

if [ "$MODE" = "compose" ]; then
  need docker
  if selected postgres postgres.dump; then restore_pg_compose postgres APP_DB_NAME APP_DB_USER postgres.dump; fi
  if selected n8n n8n.dump; then restore_pg_compose n8n N8N_DB_NAME N8N_DB_USER n8n.dump; fi
  if selected mongo mongo.archive.gz; then restore_mongo_compose; fi
  if selected redis redis.rdb; then restore_redis_compose; fi
else
  if selected postgres postgres.dump; then
    if [ -n "${DATABASE_URL:-}" ]; then restore_pg_local postgres "$DATABASE_URL" postgres.dump; else no_target postgres DATABASE_URL; fi
  fi
  if selected n8n n8n.dump; then
    if [ -n "${N8N_DATABASE_URL:-}" ]; then restore_pg_local n8n "$N8N_DATABASE_URL" n8n.dump; else no_target n8n N8N_DATABASE_URL; fi
  fi
  if selected mongo mongo.archive.gz; then
    if [ -n "${MONGODB_URL:-}" ]; then restore_mongo_local; else no_target mongo MONGODB_URL; fi
  fi
  if selected redis redis.rdb; then
    if [ -n "${REDIS_URL:-}" ]; then restore_redis_local; else no_target redis REDIS_URL; fi
  fi
fi

[ "$RESTORED" -gt 0 ] || die "nothing restored (no part of the backup had a target)"
note "done: $RESTORED part(s) restored from $DIR"
