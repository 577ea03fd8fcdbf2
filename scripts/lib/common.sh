# shellcheck shell=bash disable=SC2034  # the variables set here are read by the sourcing scripts
# Helpers shared by the operator scripts (sourced, not run). Nothing here prints a secret: connection
# URLs are split so that passwords travel in environment variables (PGPASSWORD, REDISCLI_AUTH) or
# private temporary files, never on a command line or in a log line.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export REPO_ROOT

die() {
  echo "$(basename "$0"): $*" >&2
  exit "${EXIT_CODE:-1}"
}

note() {
  echo "$(basename "$0"): $*" >&2
}

need() {
  local cmd
  for cmd in "$@"; do
    command -v "$cmd" >/dev/null 2>&1 || die "needs $cmd on the PATH"
  done
}

# Percent-decoding of a URL component (%40 -> @).
url_decode() {
  local s="${1//+/%2B}"
  printf '%b' "${s//%/\\x}"
}

# A URL with its user-info password removed, for messages: scheme://user@host:port/path.
redact_url() {
  printf '%s' "$1" | sed -E 's#^([a-z][a-z0-9+.-]*://)([^:/@]*):[^@/]*@#\1\2@#'
}

# Splits a postgres:// URL: sets PG_URL (the URL without its password) and exports PGPASSWORD (decoded)
# when the URL carries one. libpq reads PGPASSWORD when the URL has none.
pg_url_split() {
  local url="$1"
  [[ "$url" =~ ^postgres(ql)?:// ]] || die "not a postgres:// URL: $(redact_url "$url")"
  if [[ "$url" =~ ^(postgres(ql)?://)([^:/@]*):([^@/]*)@(.*)$ ]]; then
    PG_URL="${BASH_REMATCH[1]}${BASH_REMATCH[3]}@${BASH_REMATCH[5]}"
    PGPASSWORD="$(url_decode "${BASH_REMATCH[4]}")"
    export PGPASSWORD
  else
    PG_URL="$url"
  fi
}

# Splits a redis:// or rediss:// URL into REDIS_HOST, REDIS_PORT, REDIS_DB, REDIS_USER, REDIS_TLS and
# exports REDISCLI_AUTH (the password, which redis-cli reads from there).
redis_url_split() {
  local url="$1" rest userinfo hostport
  [[ "$url" =~ ^rediss?:// ]] || die "not a redis:// URL: $(redact_url "$url")"
  REDIS_TLS=""
  [[ "$url" == rediss://* ]] && REDIS_TLS="--tls"
  rest="${url#*://}"
  REDIS_USER=""
  if [[ "$rest" == *@* ]]; then
    userinfo="${rest%@*}"
    rest="${rest##*@}"
    if [[ "$userinfo" == *:* ]]; then
      REDIS_USER="$(url_decode "${userinfo%%:*}")"
      REDISCLI_AUTH="$(url_decode "${userinfo#*:}")"
      export REDISCLI_AUTH
    else
      REDISCLI_AUTH="$(url_decode "$userinfo")"
      export REDISCLI_AUTH
    fi
  fi
  hostport="${rest%%/*}"
  hostport="${hostport%%\?*}"
  REDIS_DB="0"
  if [[ "$rest" == */* ]]; then
    local path="${rest#*/}"
    path="${path%%\?*}"
    [ -n "$path" ] && REDIS_DB="$path"
  fi
  if [[ "$hostport" =~ ^\[(.*)\](:([0-9]+))?$ ]]; then
    REDIS_HOST="${BASH_REMATCH[1]}"
    REDIS_PORT="${BASH_REMATCH[3]:-6379}"
  elif [[ "$hostport" == *:* ]]; then
    REDIS_HOST="${hostport%%:*}"
    REDIS_PORT="${hostport##*:}"
  else
    REDIS_HOST="${hostport:-127.0.0.1}"
    REDIS_PORT="6379"
  fi
}

# redis-cli against the split REDIS_URL (password from REDISCLI_AUTH).
redis_cli() {
  local args=(-h "$REDIS_HOST" -p "$REDIS_PORT")
  [ -n "$REDIS_USER" ] && args+=(--user "$REDIS_USER")
  [ -n "$REDIS_TLS" ] && args+=("$REDIS_TLS")
  redis-cli "${args[@]}" "$@"
}

# The database named in a mongodb:// URL's path, or empty.
mongo_url_db() {
  local rest="${1#*://}"
  rest="${rest#*@}"
  [[ "$rest" == */* ]] || return 0
  rest="${rest#*/}"
  url_decode "${rest%%\?*}"
}

# A private (0600) mongo tools config file holding the URI, so it stays off the command line. The
# caller removes it (its path is in MONGO_CONFIG).
mongo_config_file() {
  MONGO_CONFIG="$(mktemp)"
  chmod 600 "$MONGO_CONFIG"
  # YAML single-quoted scalar: a quote is written twice.
  printf "uri: '%s'\n" "${1//\'/\'\'}" >"$MONGO_CONFIG"
}

# POSIX sh prefix for a command run in the mongo container (docker compose exec ... sh -c): writes the
# root password into a private mongo tools config file, $cfg, so mongodump and mongorestore get it with
# `--config "$cfg"` instead of on their command line (which ps shows, in the container and on the host).
# End the command with MONGO_ROOT_CONFIG_END, which removes the file and keeps the command's exit code.
# YAML double-quoted value: backslash and double quote escaped.
# shellcheck disable=SC2016 # expanded by the container's shell
MONGO_ROOT_CONFIG_SH='umask 077; cfg="$(mktemp)" || exit 1;
printf "password: \"%s\"\n" "$(printf "%s" "$MONGO_INITDB_ROOT_PASSWORD" | sed -e "s/[\\\"]/\\\\&/g")" >"$cfg";
'
# shellcheck disable=SC2016
MONGO_ROOT_CONFIG_END='; rc=$?; rm -f "$cfg"; exit $rc'

sha256_tool() {
  if command -v sha256sum >/dev/null 2>&1; then
    echo "sha256sum"
  elif command -v shasum >/dev/null 2>&1; then
    echo "shasum -a 256"
  else
    die "needs sha256sum or shasum"
  fi
}

# JSON string literal of $1 (quotes, backslashes and control characters escaped).
json_str() {
  local s="$1"
  s="${s//\\/\\\\}"
  s="${s//\"/\\\"}"
  s="${s//$'\n'/\\n}"
  s="${s//$'\r'/\\r}"
  s="${s//$'\t'/\\t}"
  printf '"%s"' "$s"
}

# docker compose with the production file and env file (COMPOSE_FILE_PATH / ENV_FILE override them).
compose() {
  docker compose -f "${COMPOSE_FILE_PATH:-$REPO_ROOT/docker-compose.production.yml}" \
    --env-file "${ENV_FILE:-$REPO_ROOT/.env.production}" "$@"
}
