#!/usr/bin/env bash
# First start of the postgres container (empty volume): the server's database and role, and n8n's,
# each database owned by its role and closed to every other role. The official image runs the files of
# /docker-entrypoint-initdb.d once, as the superuser POSTGRES_USER, over the local socket.
#
# Needs: APP_DB_NAME, APP_DB_USER, APP_DB_PASSWORD, N8N_DB_NAME, N8N_DB_USER, N8N_DB_PASSWORD.
# Values reach SQL only through psql variables (:"name" quotes an identifier, :'value' a literal), so
# no name or password can change the statements; the password comes from psql's environment (\getenv),
# never its command line, which ps shows. Safe to run again: what exists is left as it is (passwords
# included; change one with ALTER ROLE).
set -euo pipefail

for var in APP_DB_NAME APP_DB_USER APP_DB_PASSWORD N8N_DB_NAME N8N_DB_USER N8N_DB_PASSWORD; do
  if [ -z "${!var:-}" ]; then
    echo "10-databases.sh: $var is not set" >&2
    exit 1
  fi
done

create_database() {
  local db="$1" user="$2" password="$3"
  ROLE_PASSWORD="$password" psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet \
    --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
    -v db="$db" -v user="$user" <<'SQL'
\getenv password ROLE_PASSWORD
select format('create role %I login password %L', :'user', :'password')
 where not exists (select from pg_roles where rolname = :'user') \gexec
select format('create database %I owner %I encoding %L', :'db', :'user', 'UTF8')
 where not exists (select from pg_database where datname = :'db') \gexec
revoke all on database :"db" from public;
grant all on database :"db" to :"user";
SQL
  echo "10-databases.sh: database $db owned by $user"
}

create_database "$APP_DB_NAME" "$APP_DB_USER" "$APP_DB_PASSWORD"
create_database "$N8N_DB_NAME" "$N8N_DB_USER" "$N8N_DB_PASSWORD"
