# shellcheck shell=bash
# PostgreSQL for the integration tests of portus-health: a throw-away cluster
# in "$T/pg" on a free port of 127.0.0.1, run as the postgres user from
# Debian's postgresql-15 binaries, with a Portus-shaped database. lib.sh
# sources this file; a test script needs nothing more than lib.sh.
# Like the other *_start functions, do not call pg_start inside $(...).

PG_BIN=/usr/lib/postgresql/15/bin

_as_pg() { (cd "$T" && runuser -u postgres -- "$@"); }

# _psql USER DB SQL: run SQL over the unix socket (trust), print the result.
_psql() {
  _as_pg "$PG_BIN/psql" -X -q -t -A -v ON_ERROR_STOP=1 \
    -h "$PG_SOCKDIR" -p "$PG_PORT" -U "$1" -d "$2" -c "$3"
}

pg_sql_db() { _psql postgres "$1" "$2"; }
pg_sql() { _psql postgres portus_test "$1"; }

_pg_record_pid() {
  PG_PID=$(head -n 1 "$PG_DATA/postmaster.pid")
  PIDS+=("$PG_PID")
  export PG_PID
}

# pg_start: a fresh cluster on a free port with role portus (password
# $PG_PASSWORD) owning database portus_test, which holds a Portus-like schema.
pg_start() {
  PG_PORT=$(free_port)
  export PG_PORT PG_SOCKDIR=$T/pgsock PG_DATA=$T/pg
  export PG_PASSWORD=${PG_PASSWORD:-portus-Secr3t-pw}
  install -d -o postgres -g postgres -m 700 "$PG_DATA"
  install -d -o postgres -g postgres -m 755 "$PG_SOCKDIR"
  install -o postgres -g postgres -m 644 /dev/null "$T/pg.log"
  _as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -A trust --auth-host=scram-sha-256 \
    -E UTF8 --locale=C --no-sync >"$T/initdb.log" 2>&1 || die_log initdb "initdb failed"
  cat >>"$PG_DATA/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCKDIR'
fsync = off
EOF
  cat >"$PG_DATA/pg_hba.conf" <<EOF
local all all trust
host all all 127.0.0.1/32 scram-sha-256
EOF
  pg_start_again
  pg_sql_db postgres "CREATE ROLE portus LOGIN PASSWORD '$PG_PASSWORD'"
  pg_sql_db postgres "CREATE DATABASE portus_test OWNER portus"
  _psql portus portus_test "
    CREATE TABLE schema_migrations (version character varying NOT NULL PRIMARY KEY);
    INSERT INTO schema_migrations VALUES ('20150101000000'), ('20160101000000'), ('20170101000000');
    CREATE TABLE registries (
      id serial PRIMARY KEY,
      name character varying NOT NULL,
      hostname character varying NOT NULL,
      use_ssl boolean NOT NULL DEFAULT false,
      created_at timestamp,
      updated_at timestamp,
      external_hostname character varying
    );"
}

# pg_start_again: start the cluster made by pg_start (after pg_stop).
pg_start_again() {
  _as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$T/pg.log" -w -t 30 start >/dev/null ||
    die_log pg "PostgreSQL did not start"
  _pg_record_pid
}

# pg_clone_db NAME: a copy of portus_test called NAME, owned by portus.
pg_clone_db() { pg_sql_db postgres "CREATE DATABASE $1 TEMPLATE portus_test OWNER portus" >/dev/null; }

pg_stop() {
  _as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 30 stop >/dev/null ||
    die_log pg "PostgreSQL did not stop"
  _forget_pid "$PG_PID"
}

# pg_exports: export the database settings the responder reads.
pg_exports() {
  export PORTUS_DB_ADAPTER=postgresql PORTUS_DB_HOST=127.0.0.1 PORTUS_DB_PORT=$PG_PORT \
    PORTUS_DB_USERNAME=portus PORTUS_DB_PASSWORD=$PG_PASSWORD PORTUS_DB_DATABASE=portus_test
}

# _pg_cleanup: on exit, stop the cluster the way PostgreSQL wants to be
# stopped (pg_ctl daemonizes the postmaster); lib.sh's kill of the recorded
# pid is the fallback.
_pg_cleanup() {
  if [[ -n ${PG_DATA:-} && -f $PG_DATA/postmaster.pid ]]; then
    _as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w stop >/dev/null 2>&1
  fi
  return 0
}
at_exit _pg_cleanup
