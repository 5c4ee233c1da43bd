#!/usr/bin/env bash
# SPEC 3, database, with Portus's default adapter: every state of the
# database check against a real MariaDB server, through CGI, FastCGI,
# --check and --check-db; the kept connection, a crash and restart, a
# server that never answers, the registries row in MariaDB's dialect.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-mysql.sh"

my_start
my_exports
registry_start
export PORTUS_LOCAL_CONFIG_PATH=$T/absent.yml
export PORTUS_REGISTRY_HOSTNAME=127.0.0.1:$REG_PORT
calibrate
PORTUS_HEALTH_TIMEOUT=$(health_timeout 3)
export PORTUS_HEALTH_CACHE_TTL=0 PORTUS_HEALTH_TIMEOUT
fcgi_start

# checkdb NAME WORD RC: --check-db prints WORD and exits RC.
checkdb() {
  local out rc=0
  out=$("$RESPONDER" --check-db 2>"$T/checkdb.err") || rc=$?
  t_eq "--check-db $1: prints $2" "$2" "$out"
  t_eq "--check-db $1: exit status" "$3" "$rc"
}

fcgi_restart() {
  stop_pid "$FCGI_PID"
  fcgi_start
}

# Portus's own environment: no PORTUS_DB_ADAPTER means mysql2.
db_both "adapter unset" "database is up-to-date" true 200
PORTUS_DB_ADAPTER=mysql2 cgi_req GET /_health
t_eq "cgi adapter mysql2" "database is up-to-date" "$(json_get .database.msg)"
checkdb "migrated" DB_READY 0
rc=0
out=$("$RESPONDER" --check 2>&1) || rc=$?
t_eq "--check: exit 0 when all is up" 0 "$rc"
t_eq "--check: the database part" "database is up-to-date" "$(jq -r .database.msg <<<"$out")"
t_eq "the default port of mysql2" '3306 # default (mysql2)' \
  "$(env -u PORTUS_DB_PORT "$RESPONDER" --print-config | awk '$1 == "db.port" {print $2, $3, $4, $5}')"

# The FastCGI responder keeps one connection across runs: the server's
# Connections counter grows by the queries of this test alone.
for _ in 1 2 3; do fcgi_req GET /_health; done
c0=$(my_connections)
for _ in 1 2 3 4 5 6 7 8; do fcgi_req GET /_health; done
c1=$(my_connections)
t_eq "eight runs, no new connection (Connections $c0 -> $c1, one of them the count itself)" 1 $((c1 - c0))
t_eq "one connection of portus-health" 1 \
  "$(my_sql "" "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'portus'")"

# A connection killed under it is made again within the same run.
id=$(my_sql "" "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = 'portus'")
my_sql "" "KILL $id"
db_expect fcgi "after KILL of its connection" "database is up-to-date" true 200
t_nomatch "a new connection after KILL" "^$id\$" \
  "$(my_sql "" "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = 'portus'")"

# Every state.
my_sql portus_test "DELETE FROM schema_migrations"
db_both "schema_migrations empty" "database is initializing" false 503
checkdb "schema_migrations empty" DB_EMPTY 1
my_sql portus_test "INSERT INTO schema_migrations VALUES ('20150101000000'), ('20160101000000'), ('20170101000000')"

my_sql portus_test "RENAME TABLE schema_migrations TO schema_migrations_old"
db_both "no schema_migrations table" "database is initializing" false 503
checkdb "no schema_migrations table" DB_EMPTY 1
my_sql portus_test "RENAME TABLE schema_migrations_old TO schema_migrations"

mkdir "$T/migrate"
touch "$T/migrate/20150101000000_create_users.rb" "$T/migrate/20170101000000_add_x.rb" "$T/migrate/README"
export PORTUS_HEALTH_DATABASE_MIGRATIONS_PATH=$T/migrate
fcgi_restart
db_both "every migration applied" "database is up-to-date" true 200
touch "$T/migrate/20180101000000_pending.rb"
db_both "a migration pending" "database is initializing" false 503
checkdb "a migration pending" DB_EMPTY 1
my_sql portus_test "INSERT INTO schema_migrations VALUES ('20180101000000')"
db_both "the pending migration applied" "database is up-to-date" true 200
unset PORTUS_HEALTH_DATABASE_MIGRATIONS_PATH

# Where Portus's RPM and image install its migrations, they are compared
# without any setting.  /srv is a private tmpfs here (a mount namespace of
# this test alone), so the machine's own /srv is never touched.
in_srv() { # FILE... -- CMD...: CMD with /srv/Portus/db/migrate holding FILEs
  local files=()
  while [[ $1 != -- ]]; do files+=("$1"); shift; done
  shift
  unshare -m bash -c 'mount -t tmpfs none /srv && mkdir -p /srv/Portus/db/migrate &&
    for f in "${@:2:$1}"; do touch "/srv/Portus/db/migrate/$f"; done && shift $(($1 + 1)) && exec "$@"' \
    _ "${#files[@]}" "${files[@]}" "$@"
}
t_eq "migrations_path: /srv/Portus/db/migrate by default when it exists" \
  'health.database.migrations_path "/srv/Portus/db/migrate" # default (the directory exists)' \
  "$(in_srv -- "$RESPONDER" --print-config | grep '^health.database.migrations_path' | sed -E 's/ +/ /g')"
t_eq "migrations_path: none when it does not exist" 'health.database.migrations_path "" # default' \
  "$("$RESPONDER" --print-config | grep '^health.database.migrations_path' | sed -E 's/ +/ /g')"
t_eq "the default migrations, all applied: DB_READY" DB_READY \
  "$(in_srv 20150101000000_a.rb 20170101000000_b.rb -- "$RESPONDER" --check-db 2>/dev/null || true)"
t_eq "the default migrations, one pending: DB_EMPTY, as rake db:migrate:status sees it" DB_EMPTY \
  "$(in_srv 20150101000000_a.rb 20190101000000_c.rb -- "$RESPONDER" --check-db 2>/dev/null || true)"

# A query error that is none of the above: Portus's "unknown error".
my_sql "" "CREATE USER 'narrow'@'%' IDENTIFIED BY '$MY_PASSWORD'; CREATE USER 'narrow'@'localhost' IDENTIFIED BY '$MY_PASSWORD';
  GRANT SELECT ON portus_test.registries TO 'narrow'@'%'; GRANT SELECT ON portus_test.registries TO 'narrow'@'localhost'"
PORTUS_DB_USERNAME=narrow cgi_req GET /_health
t_eq "cgi no right on schema_migrations" "unknown error" "$(json_get .database.msg)"
t_match "cgi no right on schema_migrations: the error number is logged" 'query failed: error 1142' "$RESP_STDERR"

export PORTUS_DB_DATABASE=portus_absent
cgi_req GET /_health
t_eq "cgi database missing (error 1049)" "database has not been created" "$(json_get .database.msg)"
t_match "cgi database missing: the log says why" "Unknown database 'portus_absent'" "$RESP_STDERR"
checkdb "database missing" DB_MISSING 1
fcgi_restart
db_expect fcgi "database missing" "database has not been created" false 503
export PORTUS_DB_DATABASE=portus_test

PORTUS_DB_PASSWORD=wrong-password-xyz cgi_req GET /_health
t_eq "cgi wrong password" "cannot connect to database" "$(json_get .database.msg)"
t_match "cgi wrong password: the log says why" 'Access denied for user' "$RESP_STDERR"
t_nomatch "cgi wrong password: the password is not logged" 'wrong-password-xyz' "$RESP_STDERR"
t_nomatch "cgi wrong password: the password is not in the body" 'wrong-password-xyz' "$RESP_BODY"
PORTUS_DB_PASSWORD=wrong-password-xyz checkdb "wrong password" DB_DOWN 1
out=$(PORTUS_DB_PASSWORD=$MY_PASSWORD "$RESPONDER" --print-config 2>&1)
t_nomatch "--print-config hides the password" "$MY_PASSWORD" "$out"

closed=$(free_port)
PORTUS_DB_PORT=$closed cgi_req GET /_health
t_eq "cgi nothing listening" "cannot connect to database" "$(json_get .database.msg)"
PORTUS_DB_PORT=$closed checkdb "nothing listening" DB_DOWN 1

PORTUS_DB_ADAPTER=oracle cgi_req GET /_health
t_eq "cgi another adapter" "unknown error" "$(json_get .database.msg)"
PORTUS_DB_ADAPTER=oracle checkdb "another adapter" DB_UNKNOWN 1

# Through the socket file, which wins over the host.
PORTUS_DB_SOCKET=$MY_SOCK PORTUS_DB_HOST=host.invalid cgi_req GET /_health
t_eq "cgi PORTUS_DB_SOCKET (a file) wins over PORTUS_DB_HOST" "database is up-to-date" "$(json_get .database.msg)"
PORTUS_DB_SOCKET=$T/no.sock cgi_req GET /_health
t_eq "cgi a socket file that is not there" "cannot connect to database" "$(json_get .database.msg)"

# A server that accepts and never answers costs the one deadline.
hang_start
start=$(now_ms)
PORTUS_DB_PORT=$HANG_PORT PORTUS_HEALTH_TIMEOUT=1 cgi_req GET /_health
took=$(ms_since "$start")
t_eq "a silent server: cannot connect" "cannot connect to database" "$(json_get .database.msg)"
t_match "a silent server: timed out, says the log" 'connection timed out' "$RESP_STDERR"
# A client that ignored the deadline would wait for the server forever
# (REQ_TIMEOUT, 30 s, ends it).
t_duration "a silent server: health.timeout 1 honoured" "$took" 1000 1000 30000

# The registry named by the registries table, in MariaDB's dialect.
unset PORTUS_REGISTRY_HOSTNAME
fcgi_restart
db_expect fcgi "no registry row" "database is up-to-date" true 503
t_eq "fcgi no registry row: the registry" "no registry configured" "$(json_get .registry.msg)"
my_sql portus_test "INSERT INTO registries (name, hostname, use_ssl) VALUES ('r', '127.0.0.1:$REG_PORT', 0)"
db_expect fcgi "a registry row" "database is up-to-date" true 200
t_eq "fcgi a registry row: the registry" "registry is reachable" "$(json_get .registry.msg)"
my_sql portus_test "UPDATE registries SET use_ssl = 1"
fcgi_req GET /_health
t_match "fcgi use_ssl 1: the registry is asked over TLS" 'registry is not reachable: (SSL error|connection reset)' "$(json_get .registry.msg)"
my_sql portus_test "UPDATE registries SET use_ssl = 0"
export PORTUS_REGISTRY_HOSTNAME=127.0.0.1:$REG_PORT

# A crash and a restart: the same responder sees the database go and come back.
fcgi_restart
db_expect fcgi "before the crash" "database is up-to-date" true 200
my_kill
db_expect fcgi "server killed" "cannot connect to database" false 503
fcgi_req GET /_ping
t_eq "fcgi /_ping while the database is down" 200 "$RESP_STATUS"
my_start_again
db_expect fcgi "server back, same responder" "database is up-to-date" true 200
my_stop
db_expect fcgi "server stopped" "cannot connect to database" false 503
my_start_again
db_expect fcgi "server started again" "database is up-to-date" true 200

t_done
