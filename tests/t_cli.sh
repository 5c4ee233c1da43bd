#!/usr/bin/env bash
# SPEC 1: the command line (--check like Portus's bin/health.rb, its
# environment twins, --print-config, --help, --version) and the choice of
# mode (--listen, a socket on standard input, CGI, none).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
B=$RESPONDER

pg_start
pg_exports
registry_start
export PORTUS_REGISTRY_HOSTNAME=127.0.0.1:$REG_PORT
export PORTUS_LOCAL_CONFIG_PATH=$T/absent.yml

# check ARGS...: run --check ARGS, keep OUT, ERR and RC.
check() {
  RC=0
  "$B" --check "$@" >"$T/out" 2>"$T/err" || RC=$?
  OUT=$(<"$T/out")
  ERR=$(<"$T/err")
}

check
t_eq "--check, all up: exit 0" 0 "$RC"
t_eq "--check prints the document" "database is up-to-date|registry is reachable" \
  "$(jq -r '[.database.msg, .registry.msg] | join("|")' <<<"$OUT")"
t_match "--check prints it pretty" $'^\\{\n  "database": \\{' "$OUT"

check -c registry
t_eq "-c registry: only that component" registry "$(jq -r 'keys | join(",")' <<<"$OUT")"
check --component registry --component database
t_eq "two -c: document order" "database,registry" "$(jq -r 'keys_unsorted | join(",")' <<<"$OUT")"

PORTUS_DB_PORT=$(free_port) check
t_eq "--check, database down: exit 1" 1 "$RC"
t_eq "--check, database down: says so" "cannot connect to database" "$(jq -r .database.msg <<<"$OUT")"
t_match "--check, database down: the reason on stderr" "database is down: .*(refused|connect)" "$ERR"
PORTUS_DB_PORT=$(free_port) check -c registry
t_eq "-c registry with the database down: exit 0" 0 "$RC"
PORTUS_DB_PORT=$(free_port) PORTUS_HEALTH_COMPONENT_1=registry check
t_eq "PORTUS_HEALTH_COMPONENT_1=registry: exit 0" 0 "$RC"
t_eq "PORTUS_HEALTH_COMPONENT_1=registry: only that" registry "$(jq -r 'keys | join(",")' <<<"$OUT")"
PORTUS_DB_PORT=$(free_port) PORTUS_HEALTH_COMPONENT_1=registry PORTUS_HEALTH_COMPONENT_2=database check
t_eq "PORTUS_HEALTH_COMPONENT_1 and _2: exit 1" 1 "$RC"
PORTUS_DB_PORT=$(free_port) PORTUS_HEALTH_COMPONENT_1=database check -c registry
t_eq "-c wins over PORTUS_HEALTH_COMPONENT_n" 0 "$RC"

PORTUS_DB_PORT=$(free_port) check -q
t_eq "-q: exit 1 when down" 1 "$RC"
t_eq "-q: prints nothing" "" "$OUT"
check --quiet
t_eq "--quiet: exit 0 when up" 0 "$RC"
t_eq "--quiet: prints nothing" "" "$OUT"
for v in t y 1 true yes; do
  PORTUS_HEALTH_QUIET=$v check
  t_eq "PORTUS_HEALTH_QUIET=$v: prints nothing" "" "$OUT"
done
PORTUS_HEALTH_QUIET=no check
t_match "PORTUS_HEALTH_QUIET=no: prints" database "$OUT"

check -c nosuch
t_eq "unknown component: exit 2" 2 "$RC"
t_match "unknown component: named" 'unknown component "nosuch"' "$ERR"
PORTUS_HEALTH_COMPONENT_1=nosuch check
t_eq "unknown component from the environment: exit 2" 2 "$RC"
check -c clair
t_eq "clair not configured: exit 1" 1 "$RC"
t_match "clair not configured: says why" "clair is not enabled \\(security.clair.server is empty\\)" "$ERR"

rc=0; out=$("$B" --version) || rc=$?
t_eq "--version" "0 portus-health 0.1.0" "$rc $out"
rc=0; out=$("$B" --help) || rc=$?
t_match "--help shows the usage" "^usage: portus-health" "$out"
rc=0; "$B" --bogus 2>/dev/null || rc=$?
t_eq "unknown option: exit 2" 2 "$rc"
rc=0; "$B" -q 2>/dev/null || rc=$?
t_eq "-q without --check: exit 2" 2 "$rc"
rc=0; out=$(env -u REQUEST_METHOD "$B" </dev/null 2>&1) || rc=$?
t_eq "no mode (no REQUEST_METHOD, no socket): exit 2" 2 "$rc"
t_match "no mode: says why" "not started by a web server" "$out"

# --listen HOST:PORT and unix:PATH, as root: --user first.
www_cache
export PORTUS_HEALTH_CACHE_DIR=$WWW_CACHE
rc=0
out=$(timeout 10 "$B" --listen "unix:$T/root.sock" 2>&1) || rc=$?
t_eq "FastCGI as root without --user: exit 2" 2 "$rc"
t_match "FastCGI as root without --user: names the flag" 'refusing to serve FastCGI as root: give --user NAME' "$out"
rc=0
out=$(timeout 10 "$B" --listen "unix:$T/root.sock" --user no-such-user-ph 2>&1) || rc=$?
t_eq "--user of no user: exit 2" 2 "$rc"
t_match "--user of no user: says so" '--user no-such-user-ph: no such user' "$out"
rc=0
out=$(REQUEST_METHOD=GET PATH_INFO=/_ping "$B" --user www-data </dev/null 2>&1) || rc=$?
t_eq "--user in CGI mode: exit 2" 2 "$rc"
t_match "--user in CGI mode: says it is for FastCGI" '--user is for a FastCGI responder' "$out"
rc=0
out=$(runuser -u nobody -- "$(responder_copy)" --listen "127.0.0.1:$(free_port)" --user www-data 2>&1) || rc=$?
t_eq "--user of another user, not as root: exit 2" 2 "$rc"
t_match "--user of another user, not as root: says so" 'only root can become another user' "$out"
port=$(free_port)
spawn listen-tcp "$B" --listen "127.0.0.1:$port" --user www-data
pid=$SPAWNED_PID
wait_port "$port"
out=$(env -i REQUEST_METHOD=GET PATH_INFO=/_ping cgi-fcgi -bind -connect "127.0.0.1:$port" | tr -d '\r' | head -1)
t_eq "--listen 127.0.0.1:PORT serves FastCGI" "Status: 200 OK" "$out"
# The IDs changed, all of them, and no supplementary group is left.
www=$(id -u www-data) wwwg=$(id -g www-data)
t_eq "--user www-data: the user IDs" "$www $www $www $www" "$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$pid/status")"
t_eq "--user www-data: the group IDs" "$wwwg $wwwg $wwwg $wwwg" "$(awk '/^Gid:/ { print $2, $3, $4, $5 }' "/proc/$pid/status")"
t_eq "--user www-data: no supplementary group" "Groups:" "$(grep '^Groups:' "/proc/$pid/status" | xargs)"
t_eq "FastCGI: no_new_privs" "NoNewPrivs: 1" "$(grep '^NoNewPrivs:' "/proc/$pid/status" | xargs)"
t_eq "FastCGI: a seccomp filter" "Seccomp: 2" "$(grep '^Seccomp:' "/proc/$pid/status" | xargs)"
stop_pid "$pid"
spawn listen-unix "$B" --listen "unix:$T/l.sock" --user www-data
pid=$SPAWNED_PID
_poll 15 "$pid" test -S "$T/l.sock" || true
out=$(env -i REQUEST_METHOD=GET PATH_INFO=/_health cgi-fcgi -bind -connect "$T/l.sock" | tr -d '\r' | head -1)
t_eq "--listen unix:PATH serves FastCGI" "Status: 200 OK" "$out"
t_eq "--listen unix:PATH --user: the socket is the user's, 0660" "www-data:www-data 660" "$(stat -c '%U:%G %a' "$T/l.sock")"
out=$(runuser -u www-data -- env -i REQUEST_METHOD=GET PATH_INFO=/_ping cgi-fcgi -bind -connect "$T/l.sock" 2>&1 | tr -d '\r' | head -1)
t_eq "--listen unix:PATH --user: a web server as that user connects" "Status: 200 OK" "$out"
out=$(runuser -u nobody -- env -i REQUEST_METHOD=GET PATH_INFO=/_ping cgi-fcgi -bind -connect "$T/l.sock" 2>&1 | tr -d "\r" | head -1) || true
t_nomatch "--listen unix:PATH --user: another user cannot" "Status: 200" "$out"
stop_pid "$pid"
t_match "SIGTERM: the responder says it stops" "info: stopping" "$(<"$T/listen-unix.log")"

t_done
