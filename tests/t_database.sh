#!/usr/bin/env bash
# SPEC 3, database: every state of Portus's database check, against a real
# PostgreSQL cluster, through CGI and FastCGI; the kept connection.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

deps_start
calibrate
PORTUS_HEALTH_TIMEOUT=$(health_timeout 3)
export PORTUS_HEALTH_CACHE_TTL=0 PORTUS_HEALTH_TIMEOUT
fcgi_start

fcgi_restart() {
  stop_pid "$FCGI_PID"
  fcgi_start
}

backend_pids() {
  pg_sql "SELECT pid FROM pg_stat_activity WHERE application_name = 'portus-health' ORDER BY pid" | tr '\n' ' '
}

db_both "migrated" "database is up-to-date" true 200

# The FastCGI responder keeps one connection across runs.
for _ in 1 2 3 4 5; do fcgi_req GET /_health; done
pids=$(backend_pids)
t_match "one kept connection" '^[0-9]+ $' "$pids"
for _ in 1 2 3; do fcgi_req GET /_health; done
t_eq "the same connection after more runs" "$pids" "$(backend_pids)"

# A connection killed under it is made again within the same run.
pg_sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'portus-health'" >/dev/null
db_expect fcgi "after pg_terminate_backend" "database is up-to-date" true 200
t_nomatch "a new connection after pg_terminate_backend" "^$pids\$" "$(backend_pids)"

pg_sql "DELETE FROM schema_migrations"
db_both "schema_migrations empty" "database is initializing" false 503
pg_sql "INSERT INTO schema_migrations VALUES ('20150101000000'), ('20160101000000'), ('20170101000000')"

# Migrations on disk: every version must be in schema_migrations.
mkdir "$T/migrate"
touch "$T/migrate/20150101000000_create_users.rb" "$T/migrate/20170101000000_add_x.rb" \
  "$T/migrate/README" "$T/migrate/2016_short.rb"
export PORTUS_HEALTH_DATABASE_MIGRATIONS_PATH=$T/migrate
fcgi_restart
db_both "every migration applied" "database is up-to-date" true 200
touch "$T/migrate/20180101000000_pending.rb"
db_both "a migration pending" "database is initializing" false 503
pg_sql "INSERT INTO schema_migrations VALUES ('20180101000000')"
db_both "the pending migration applied" "database is up-to-date" true 200
unset PORTUS_HEALTH_DATABASE_MIGRATIONS_PATH
fcgi_restart

pg_sql "ALTER TABLE schema_migrations RENAME TO schema_migrations_old"
db_both "no schema_migrations table" "database is initializing" false 503
pg_sql "ALTER TABLE schema_migrations_old RENAME TO schema_migrations"

# A query error that is none of the above: Portus's "unknown error".
pg_sql "ALTER TABLE schema_migrations OWNER TO postgres; REVOKE ALL ON schema_migrations FROM portus"
db_both "permission denied on schema_migrations" "unknown error" false 503
pg_sql "ALTER TABLE schema_migrations OWNER TO portus"

PORTUS_DB_DATABASE=portus_absent cgi_req GET /_health
t_eq "cgi database missing" "database has not been created" "$(json_get .database.msg)"
t_match "cgi database missing: the log says why" '3D000|does not exist' "$RESP_STDERR"
PORTUS_DB_DATABASE=portus_absent fcgi_restart
db_expect fcgi "database missing" "database has not been created" false 503

PORTUS_DB_PASSWORD=wrong-password-xyz cgi_req GET /_health
t_eq "cgi wrong password" "cannot connect to database" "$(json_get .database.msg)"
t_match "cgi wrong password: the log says why" 'password authentication failed' "$RESP_STDERR"
t_nomatch "cgi wrong password: the password is not logged" 'wrong-password-xyz' "$RESP_STDERR"
t_nomatch "cgi wrong password: the password is not in the body" 'wrong-password-xyz' "$RESP_BODY"

PORTUS_DB_PORT=$(free_port) cgi_req GET /_health
t_eq "cgi nothing listening" "cannot connect to database" "$(json_get .database.msg)"

# Another adapter is Portus's "unknown error"; mysql2 (and unset) is
# MariaDB, tested in t_mysql.sh: here, nothing of it listens.
PORTUS_DB_ADAPTER=sqlite3 cgi_req GET /_health
t_eq "cgi adapter sqlite3" "unknown error" "$(json_get .database.msg)"
t_match "cgi adapter sqlite3: the log says so" 'PORTUS_DB_ADAPTER is neither mysql2 nor postgresql' "$RESP_STDERR"
PORTUS_DB_ADAPTER= PORTUS_DB_PORT=$(free_port) cgi_req GET /_health
t_eq "cgi adapter unset is mysql2 (Portus's default)" "cannot connect to database" "$(json_get .database.msg)"
t_match "cgi adapter unset: MariaDB's client said why" "Can't connect to server on '127.0.0.1'" "$RESP_STDERR"
checkdb_down() { local out; out=$("$RESPONDER" --check-db 2>/dev/null) || true; echo "$out"; }
t_eq "--check-db: a PostgreSQL that is up" DB_READY "$(checkdb_down)"
t_eq "--check-db: PostgreSQL down is DB_DOWN, as for MariaDB" DB_DOWN "$(PORTUS_DB_PORT=$(free_port) checkdb_down)"
t_eq "--check-db: PostgreSQL, database missing" DB_MISSING "$(PORTUS_DB_DATABASE=portus_absent checkdb_down)"

# Through a unix socket directory, which wins over the host.
PORTUS_DB_SOCKET=$PG_SOCKDIR PORTUS_DB_HOST=host.invalid cgi_req GET /_health
t_eq "cgi PORTUS_DB_SOCKET wins over PORTUS_DB_HOST" "database is up-to-date" "$(json_get .database.msg)"

# The process keeps serving across a database restart.
fcgi_restart
db_expect fcgi "before the restart" "database is up-to-date" true 200
pg_stop
db_expect fcgi "database stopped" "cannot connect to database" false 503
fcgi_req GET /_ping
t_eq "fcgi /_ping while the database is down" 200 "$RESP_STATUS"
pg_start_again
db_expect fcgi "database back, same responder" "database is up-to-date" true 200

t_done
