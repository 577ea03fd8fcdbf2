#!/usr/bin/env bash
# Applies the server's database migrations (mcp-server/migrations) to DATABASE_URL with the built CLI's
# `crypto-mcp migrate`: the same code path a server takes at start, under the same advisory lock, so it
# is safe while replicas run. Forward-only; an applied migration that was edited is refused.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"

usage() {
  cat <<'USAGE'
Usage: DATABASE_URL=postgres://user:password@host:5432/db scripts/migrate.sh
       scripts/migrate.sh --compose     in the production stack: docker compose run --rm mcp migrate
                                        (docker-compose.production.yml, --env-file .env.production;
                                        COMPOSE_FILE_PATH and ENV_FILE override them)

Prints the schema version the database is at. Exit 0 on success, 1 when the database is unreachable
or a migration fails (the transaction is rolled back: nothing is half-applied), 2 on usage errors.
Build the server first (npm run build) for the local form.
USAGE
}

case "${1:-}" in
  -h | --help)
    usage
    exit 0
    ;;
  --compose)
    need docker
    compose run --rm mcp migrate
    exit 0
    ;;
  "") ;;
  *)
    usage >&2
    exit 2
    ;;
esac

[ -n "${DATABASE_URL:-}" ] || EXIT_CODE=2 die "DATABASE_URL is not set (the database to migrate; see --help)"
[[ "$DATABASE_URL" =~ ^postgres(ql)?:// ]] || EXIT_CODE=2 die "DATABASE_URL must be a postgres:// URL"
need node
CLI="$REPO_ROOT/mcp-server/bin/crypto-mcp.js"
[ -f "$REPO_ROOT/mcp-server/dist/cli.js" ] || die "the server is not built: run 'npm run build' first"
exec node "$CLI" migrate
