#!/usr/bin/env bash
# Health of a running crypto-mcp server (directly, or through nginx), for cron jobs and monitors.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/health-check.sh <base-url> [api-key]
       HEALTH_API_KEY=<key> scripts/health-check.sh <base-url>     (keeps the key off the command line)

  <base-url>   e.g. http://127.0.0.1:8080 or https://mcp.example.com
  api-key      one of MCP_API_KEYS; needed for the details when the server has keys

Checks GET /health (liveness, open), then GET /health/infrastructure (each store and dependency;
200 ok or degraded, 503 down). A server without /health/infrastructure (404) is judged by the
details of /health instead.

Exit codes: 0 ok, 1 degraded (serving, something is missing), 2 down, unreachable, refused
(401/403: a key is needed or wrong) or a usage error. HEALTH_TIMEOUT sets the seconds per request
(default 10). The key is sent in a header through curl's standard input, never printed.
USAGE
}

case "${1:-}" in
  -h | --help)
    usage
    exit 0
    ;;
  "")
    usage >&2
    exit 2
    ;;
esac
[ $# -le 2 ] || {
  usage >&2
  exit 2
}
BASE="${1%/}"
KEY="${2:-${HEALTH_API_KEY:-}}"
TIMEOUT="${HEALTH_TIMEOUT:-10}"
[[ "$BASE" =~ ^https?://[^/]+ ]] || {
  echo "health-check.sh: the base URL must start with http:// or https:// (got: $BASE)" >&2
  exit 2
}
command -v curl >/dev/null 2>&1 || {
  echo "health-check.sh: needs curl" >&2
  exit 2
}

BODY="$(mktemp)"
trap 'rm -f "$BODY"' EXIT

# A value for a double-quoted string of a curl config file (backslash and quote escaped).
curl_quote() {
  local s="${1//\\/\\\\}"
  printf '"%s"' "${s//\"/\\\"}"
}

# GET $1 (a path), with the key when $2 is "auth". Sets CODE (000 when unreachable) and fills $BODY.
get() {
  local path="$1" auth="${2:-}" config
  config="url = $(curl_quote "$BASE$path")"$'\n'"max-time = $TIMEOUT"$'\n'"silent"$'\n'
  config+="output = $(curl_quote "$BODY")"$'\n'"write-out = \"%{http_code}\""$'\n'
  if [ "$auth" = "auth" ] && [ -n "$KEY" ]; then
    config+="header = $(curl_quote "Authorization: Bearer $KEY")"$'\n'
  fi
  CODE="$(printf '%s' "$config" | curl --config - 2>/dev/null)" || true
  [ -n "$CODE" ] || CODE="000"
}

# The top-level "status" of the JSON in $BODY (jq, else node, else the first "status" field).
json_status() {
  if command -v jq >/dev/null 2>&1; then
    jq -r '.status // empty' "$BODY" 2>/dev/null || true
  elif command -v node >/dev/null 2>&1; then
    node -e 'try { const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); process.stdout.write(String(j.status ?? "")); } catch {}' "$BODY"
  else
    sed -nE 's/^[^"]*"status" *: *"([a-z]+)".*/\1/p' "$BODY" | head -n 1
  fi
}

# What is not ok, one line each, e.g. "database: down (connection refused)": every object below the top
# level with a string "status" other than ok/disabled, named by its "name" or its key. Needs node or
# jq; without them, nothing.
json_problems() {
  # shellcheck disable=SC2016 # JavaScript and jq, not shell
  local js='
    const walk = (v, key, depth, out) => {
      if (Array.isArray(v)) v.forEach((x) => walk(x, key, depth + 1, out));
      else if (v && typeof v === "object") {
        if (depth > 0 && typeof v.status === "string" && !["ok", "disabled"].includes(v.status))
          out.push(`${v.name ?? key}: ${v.status}${v.detail ? ` (${v.detail})` : ""}`);
        for (const [k, x] of Object.entries(v)) walk(x, k, depth + 1, out);
      }
      return out;
    };
    try {
      const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      process.stdout.write(walk(j, "", 0, []).join("\n"));
    } catch {}'
  # shellcheck disable=SC2016
  local jq_filter='path(.. | objects | select((.status | type) == "string")) as $p
    | select($p | length > 0) | getpath($p) as $o | select($o.status != "ok" and $o.status != "disabled")
    | "\($o.name // ($p | map(select(type == "string")) | last)): \($o.status)\(if $o.detail then " (\($o.detail))" else "" end)"'
  if command -v node >/dev/null 2>&1; then
    node -e "$js" "$BODY"
  elif command -v jq >/dev/null 2>&1; then
    jq -r "$jq_filter" "$BODY" 2>/dev/null || true
  fi
}

verdict() { # status label -> exit code
  local status="$1" label="$2" problems
  problems="$(json_problems)"
  case "$status" in
    ok)
      echo "$label: ok"
      exit 0
      ;;
    degraded)
      echo "$label: degraded"
      [ -z "$problems" ] || printf '  %s\n' "$problems" | sed '2,$s/^/  /'
      exit 1
      ;;
    *)
      echo "$label: ${status:-unknown status}"
      [ -z "$problems" ] || printf '  %s\n' "$problems" | sed '2,$s/^/  /'
      exit 2
      ;;
  esac
}

# 1. Liveness.
get /health
if [ "$CODE" = "000" ]; then
  echo "health: unreachable ($BASE/health did not answer within ${TIMEOUT}s)"
  exit 2
fi
if [ "$CODE" != "200" ]; then
  echo "health: down (/health answered HTTP $CODE)"
  exit 2
fi
echo "health: live ($(json_status || true))"

# 2. Infrastructure.
get /health/infrastructure auth
case "$CODE" in
  200 | 503)
    status="$(json_status)"
    [ "$CODE" = "503" ] && [ "$status" != "down" ] && status="down"
    verdict "$status" "infrastructure"
    ;;
  401 | 403)
    if [ -n "$KEY" ]; then
      echo "infrastructure: refused (HTTP $CODE): the API key was not accepted"
    else
      echo "infrastructure: refused (HTTP $CODE): pass an API key (argument or HEALTH_API_KEY)"
    fi
    exit 2
    ;;
  404)
    # A server from before /health/infrastructure: the details of /health (with the key) instead.
    get /health auth
    [ "$CODE" = "200" ] || {
      echo "health details: HTTP $CODE"
      exit 2
    }
    verdict "$(json_status)" "health details (no /health/infrastructure on this server)"
    ;;
  000)
    echo "infrastructure: no answer within ${TIMEOUT}s"
    exit 2
    ;;
  *)
    echo "infrastructure: HTTP $CODE"
    exit 2
    ;;
esac
