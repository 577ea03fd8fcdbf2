#!/usr/bin/env bash
# Local PostgreSQL and Redis for development and the test suite, started with this machine's own
# commands (Debian's postgresql cluster tools, redis-server), the same ones .ci/run uses.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"

usage() {
  cat <<'USAGE'
Usage: scripts/services.sh start|stop|status

  start    start PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) unless already running,
           then wait until both answer (up to 30 s)
  stop     stop both (Redis keeps nothing on disk: it runs with --save "" --appendonly no)
  status   print whether each answers; exit 0 when both do, 1 otherwise

Idempotent: starting what runs, or stopping what is stopped, does nothing. The tests expect these
services (TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test, TEST_REDIS_URL=redis://127.0.0.1:6379).
PG_PORT and REDIS_PORT change the ports checked (the cluster's own port is set in its configuration).
USAGE
}

PG_PORT="${PG_PORT:-5432}"
REDIS_PORT="${REDIS_PORT:-6379}"

pg_up() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT" >/dev/null 2>&1; }
redis_up() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]; }

# The newest installed cluster version (/etc/postgresql/<version>/main).
pg_version() {
  [ -d /etc/postgresql ] || die "no /etc/postgresql: this script drives Debian's postgresql-common clusters"
  local version
  version="$(find /etc/postgresql -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort -V | tail -n 1)"
  [ -n "$version" ] || die "no PostgreSQL cluster under /etc/postgresql"
  echo "$version"
}

start() {
  need pg_isready redis-cli
  if pg_up; then
    echo "postgres: already running on 127.0.0.1:$PG_PORT"
  else
    need pg_ctlcluster
    pg_ctlcluster --skip-systemctl-redirect "$(pg_version)" main start
    echo "postgres: started"
  fi
  if redis_up; then
    echo "redis: already running on 127.0.0.1:$REDIS_PORT"
  else
    need redis-server
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log
    echo "redis: started"
  fi
  local _
  for _ in $(seq 1 30); do
    pg_up && redis_up && return 0
    sleep 1
  done
  pg_up || note "postgres does not answer on 127.0.0.1:$PG_PORT after 30 s"
  redis_up || note "redis does not answer on 127.0.0.1:$REDIS_PORT after 30 s"
  exit 1
}

stop() {
  need pg_isready redis-cli
  if pg_up; then
    need pg_ctlcluster
    pg_ctlcluster --skip-systemctl-redirect "$(pg_version)" main stop
    echo "postgres: stopped"
  else
    echo "postgres: not running"
  fi
  if redis_up; then
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    echo "redis: stopped"
  else
    echo "redis: not running"
  fi
}

status() {
  need pg_isready redis-cli
  local rc=0
  if pg_up; then echo "postgres: up (127.0.0.1:$PG_PORT)"; else echo "postgres: down (127.0.0.1:$PG_PORT)"; rc=1; fi
  if redis_up; then echo "redis: up (127.0.0.1:$REDIS_PORT)"; else echo "redis: down (127.0.0.1:$REDIS_PORT)"; rc=1; fi
  return "$rc"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  -h | --help | help) usage ;;
  *)
    usage >&2
    exit 2
    ;;
esac
