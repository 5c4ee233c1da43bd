#!/bin/bash
# Self-test of tests/lib.sh: starts every service the library offers and
# checks each behaves as the integration tests expect. The responder itself
# is not run; cgi_req is checked against a stand-in shell script.
# registry_hits' argument is optional; the helpers given to _poll are called indirectly.
# shellcheck disable=SC2119,SC2317
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

# http_code URL [CURL_OPTION...]: the status curl gets, 000 when none.
http_code() { curl -s -o /dev/null --max-time 5 -w '%{http_code}' "${@:2}" "$1" || true; }
# curl_exit URL [CURL_OPTION...]: "exit N" for curl's exit status.
curl_exit() { curl -s -o /dev/null "${@:2}" "$1" && echo "exit 0" || echo "exit $?"; }
state() { if pid_alive "$1"; then echo running; else echo gone; fi; }

# --- ports and processes
p1=$(free_port)
p2=$(free_port)
t_match "free_port prints a port number" '^[0-9]+$' "$p1"
t_nomatch "free_port never repeats a port" "^$p1\$" "$p2"
t_eq "wait_port fails when nothing listens" failed "$(wait_port "$p1" 1 2>/dev/null && echo listening || echo failed)"

spawn sleeper sleep 60
pid=$SPAWNED_PID
t_eq "spawn starts the command" running "$(state "$pid")"
stop_pid "$pid"
t_eq "stop_pid ends it" gone "$(state "$pid")"

# A process that ignores TERM must be KILLed after the grace time.
spawn stubborn python3 -c 'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print("ready", flush=True); time.sleep(60)'
pid=$SPAWNED_PID
_poll 5 "$pid" grep -qs ready "$T/stubborn.log"
stop_pid "$pid"
t_eq "stop_pid KILLs a process that ignores TERM" gone "$(state "$pid")"

# --- PostgreSQL
pg_start
t_eq "pg: schema_migrations has 3 rows" 3 "$(pg_sql 'select count(*) from schema_migrations')"
t_eq "pg: registries is empty" 0 "$(pg_sql 'select count(*) from registries')"
t_eq "pg: tables belong to portus" portus "$(pg_sql "select tableowner from pg_tables where tablename = 'registries'")"
t_eq "pg_sql_db runs in the given database" postgres "$(pg_sql_db postgres 'select current_database()')"

pg_exports
tcp_login() {
  PGPASSWORD=$1 "$PG_BIN/psql" -X -t -A -h "$PORTUS_DB_HOST" -p "$PORTUS_DB_PORT" \
    -U "$PORTUS_DB_USERNAME" -d "$PORTUS_DB_DATABASE" -c 'select current_user' 2>&1 || true
}
t_eq "pg: portus logs in over TCP with its password" portus "$(tcp_login "$PORTUS_DB_PASSWORD")"
t_match "pg: a wrong password is refused" 'password authentication failed' "$(tcp_login wrong)"

old_pid=$PG_PID
pg_stop
t_eq "pg_stop stops the postmaster" gone "$(state "$old_pid")"
t_match "pg: TCP refused while stopped" 'refused|could not connect' "$(tcp_login "$PG_PASSWORD")"
pg_start_again
t_eq "pg_start_again: data kept, login works" portus "$(tcp_login "$PG_PASSWORD")"
t_eq "pg_start_again records the new postmaster" running "$(state "$PG_PID")"

# --- registry
registry_start
reg=http://127.0.0.1:$REG_PORT/v2/
t_eq "registry: /v2/ answers 401" 401 "$(http_code "$reg")"
t_match "registry: token challenge" 'Bearer realm="http://127.0.0.1:1/auth",service="registry.test"' \
  "$(curl -s -D - -o /dev/null "$reg")"
hits=$(registry_hits)
curl -s -o /dev/null "$reg"
# The access log line is written just after the answer.
logged() { (($(registry_hits) >= $1)); }
_poll 10 "$REG_PID" logged $((hits + 1)) || true
t_eq "registry_hits counts GET /v2/" $((hits + 1)) "$(registry_hits)"

registry_start_tls
t_eq "tls registry: 401 with --cacert" 401 "$(http_code "https://127.0.0.1:$REG_TLS_PORT/v2/" --cacert "$REG_CA")"
t_eq "tls registry: cert valid for localhost" 401 "$(http_code "https://localhost:$REG_TLS_PORT/v2/" --cacert "$REG_CA")"
t_eq "tls registry: untrusted without --cacert" "exit 60" "$(curl_exit "https://127.0.0.1:$REG_TLS_PORT/v2/")"
registry_stop_tls
t_eq "registry_stop_tls stops it" gone "$(state "$REG_TLS_PID")"
registry_stop
t_eq "registry_stop stops it" gone "$(state "$REG_PID")"

# --- Clair stand-in
clair_start
clair=http://127.0.0.1:$CLAIR_PORT/health
t_eq "clair ok: 200" 200 "$(http_code "$clair")"
t_eq "clair ok: empty body" "" "$(curl -s "$clair")"
t_eq "clair: keep-alive (2 requests, 1 connection)" $'1\n0' \
  "$(curl -s -o /dev/null -o /dev/null -w '%{num_connects}\n' "$clair" "$clair")"
clair_mode fail
t_eq "clair fail: 500" 500 "$(http_code "$clair")"
t_eq "clair: other paths 404" 404 "$(http_code "http://127.0.0.1:$CLAIR_PORT/other")"
clair_mode hang
t_eq "clair hang: request times out" "exit 28" "$(curl_exit "$clair" --max-time 1)"
t_eq "clair hang: other requests still served" 404 "$(http_code "http://127.0.0.1:$CLAIR_PORT/other")"
t_eq "clair_hits counts every request" 8 "$(clair_hits)"
clair_stop
t_eq "clair_stop stops it" gone "$(state "$CLAIR_PID")"

# --- fake peers
fakehttp_start 200
t_eq "fakehttp 200" 200 "$(http_code "http://127.0.0.1:$FAKE_PORT/v2/")"
t_eq "wait_http sees it" ok "$(wait_http "http://127.0.0.1:$FAKE_PORT/" 2 && echo ok)"
fakehttp_start 401 'Docker-Distribution-Api-Version: registry/2.0'
t_match "fakehttp with header" $'^HTTP/1.1 401 .*\r\nDocker-Distribution-Api-Version: registry/2.0\r\n' \
  "$(curl -s -D - -o /dev/null "http://127.0.0.1:$FAKE_PORT/v2/")"
hang_start
t_eq "hang: accepted, never answered" "exit 28" "$(curl_exit "http://127.0.0.1:$HANG_PORT/" --max-time 1)"
t_eq "wait_port sees it" ok "$(wait_port "$HANG_PORT" 2 && echo ok)"

# --- cgi_req against a stand-in responder
cat >"$T/standin" <<'EOF'
#!/bin/sh
case $PATH_INFO in
/crlf)
  printf 'Status: 503 Service Unavailable\r\nContent-Type: application/json\r\n\r\n'
  printf '{"method":"%s","uri":"%s","query":"%s","db":"%s","home":"%s"}\n' \
    "$REQUEST_METHOD" "$REQUEST_URI" "$QUERY_STRING" "$PORTUS_DB_DATABASE" "${HOME:-}" ;;
/lf) printf 'Content-Type: text/plain\n\nhello\n\n' ;;
*) echo 'not a CGI answer'; exit 3 ;;
esac
EOF
chmod 755 "$T/standin"
RESPONDER=$T/standin cgi_req GET /crlf '/health/crlf?verbose=1'
t_eq "cgi_req: status from Status:" 503 "$RESP_STATUS"
t_eq "cgi_req: CRs removed from headers" $'Status: 503 Service Unavailable\nContent-Type: application/json' "$RESP_HEADERS"
t_eq "resp_header ignores case" application/json "$(resp_header CONTENT-type)"
t_eq "json_get: method" GET "$(json_get .method)"
t_eq "json_get: REQUEST_URI" '/health/crlf?verbose=1' "$(json_get .uri)"
t_eq "json_get: QUERY_STRING" verbose=1 "$(json_get .query)"
t_eq "cgi_req passes PORTUS_* through" portus_test "$(json_get .db)"
t_eq "cgi_req passes nothing else (env -i)" "" "$(json_get .home)"
RESPONDER=$T/standin cgi_req GET /lf
t_eq "cgi_req: 200 without Status:" 200 "$RESP_STATUS"
t_eq "cgi_req: body kept as sent" $'hello\n\n' "$RESP_BODY"
RESPONDER=$T/standin cgi_req GET /other
t_eq "cgi_req: no status for a non-CGI answer" "" "$RESP_STATUS"
t_eq "cgi_req: exit status" 3 "$RESP_RC"

t_done
