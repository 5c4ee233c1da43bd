#!/usr/bin/env bash
# Faults the other scripts do not make: the database dropped under a kept
# connection, a registry that accepts and never answers, a TLS registry
# with and without its CA configured (health.ca_file); and a soak: while
# every dependency fails and comes back, every answer is a designed one,
# none stalls past health.timeout, and the responder never dies. Durations
# are held to bounds derived from this machine's calibration (lib.sh).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

deps_start clair
export PORTUS_HEALTH_TIMEOUT=2 PORTUS_HEALTH_CACHE_TTL=0
calibrate

# The database dropped while the responder holds a connection to it.
pg_clone_db portus_doomed
PORTUS_DB_DATABASE=portus_doomed fcgi_start
fcgi_req GET /_health
t_eq "before the drop: up-to-date" "database is up-to-date" "$(json_get .database.msg)"
pg_sql_db postgres "DROP DATABASE portus_doomed WITH (FORCE)" >/dev/null
fcgi_req GET /_health
t_eq "database dropped: not created" "database has not been created" "$(json_get .database.msg)"
pg_clone_db portus_doomed
fcgi_req GET /_health
t_eq "database created again: up-to-date, no restart" "database is up-to-date" "$(json_get .database.msg)"
stop_pid "$FCGI_PID"

# A registry that accepts and never answers costs one health.timeout.
hang_start
start=$(now_ms)
PORTUS_REGISTRY_HOSTNAME=127.0.0.1:$HANG_PORT cgi_req GET /_health
took=$(ms_since "$start")
t_eq "hanging registry: timed out" "registry is not reachable: connection timed out" "$(json_get .registry.msg)"
# Its read timeout (registry.read_timeout.value, 120 s) is capped by health.timeout.
t_duration "hanging registry: answered at health.timeout" "$took" 2000 2000
t_eq "hanging registry: the others are still checked" "database is up-to-date|clair is reachable" \
  "$(json_get '[.database.msg, .clair.msg] | join("|")')"

# TLS: self-signed is an SSL error; with health.ca_file it is reachable.
registry_start_tls
export PORTUS_REGISTRY_USE_SSL=true
PORTUS_REGISTRY_HOSTNAME=127.0.0.1:$REG_TLS_PORT cgi_req GET /_health
t_eq "TLS registry, unknown CA: SSL error" "registry is not reachable: SSL error" "$(json_get .registry.msg)"
PORTUS_HEALTH_CA_FILE=$REG_CA PORTUS_REGISTRY_HOSTNAME=127.0.0.1:$REG_TLS_PORT cgi_req GET /_health
t_eq "TLS registry, health.ca_file: reachable" "registry is reachable" "$(json_get .registry.msg)"
PORTUS_HEALTH_CA_FILE=$REG_CA PORTUS_REGISTRY_HOSTNAME=localhost:$REG_TLS_PORT cgi_req GET /_health
t_eq "TLS registry by name, health.ca_file: reachable" "registry is reachable" "$(json_get .registry.msg)"
PORTUS_HEALTH_CA_FILE=$T/nosuch.pem PORTUS_REGISTRY_HOSTNAME=127.0.0.1:$REG_TLS_PORT cgi_req GET /_health
t_eq "TLS registry, a CA file that is missing: SSL error" "registry is not reachable: SSL error" "$(json_get .registry.msg)"
unset PORTUS_REGISTRY_USE_SSL

# The soak: four clients hammer /_health and /_ping through FastCGI while
# the registry, Clair and PostgreSQL fail and come back. Each change lasts
# until a /_health request begun after it has seen it, and 1 s more.
fcgi_start
pid=$FCGI_PID
cat >"$T/client.sh" <<'SH'
# client.sh OUT PATH: requests until $T/stop exists; one line each:
# milliseconds taken, status line, body, start (milliseconds since the epoch).
while [[ ! -e $T/stop ]]; do
  s=${EPOCHREALTIME/[.,]/}
  out=$(env -i REQUEST_METHOD=GET PATH_INFO="$2" timeout 10 cgi-fcgi -bind -connect "$FCGI_SOCK" 2>&1 | tr -d '\r')
  e=${EPOCHREALTIME/[.,]/}
  printf '%s\t%s\t%s\t%s\n' $(((e - s) / 1000)) "$(head -1 <<<"$out")" "$(tail -1 <<<"$out")" $((s / 1000)) >>"$1"
done
SH
# soak_sees SINCE MESSAGE: a /_health request begun at SINCE (now_ms) or
# later was answered with MESSAGE.
soak_sees() {
  cat "$T"/soak.health.* 2>/dev/null |
    awk -F'\t' -v since="$1" -v msg="$2" '$4 >= since && index($3, msg) { found = 1 } END { exit !found }'
}
# soak_step NAME MESSAGE: after the change made at $changed, wait until
# the clients see MESSAGE, then let them hammer that state for 1 s.
soak_step() {
  if _poll 30 "$pid" soak_sees "$changed" "$2"; then
    t_pass "soak: $1 is seen"
  else
    t_fail "soak: $1 is seen" "no /_health request begun after it was answered '$2' within 30 s"
  fi
  sleep 1
}
clients=()
for i in 1 2 3; do T=$T FCGI_SOCK=$FCGI_SOCK bash "$T/client.sh" "$T/soak.health.$i" /_health & clients+=($!); done
T=$T FCGI_SOCK=$FCGI_SOCK bash "$T/client.sh" "$T/soak.ping" /_ping &
clients+=($!)
changed=$(now_ms)
soak_step "all up" "clair is reachable"
changed=$(now_ms)
registry_stop
soak_step "the registry stopped" "registry is not reachable: connection refused"
changed=$(now_ms)
clair_mode fail
soak_step "Clair failing" "clair is not reachable: HTTP 500"
changed=$(now_ms)
pg_stop
soak_step "PostgreSQL stopped" "cannot connect to database"
changed=$(now_ms)
clair_mode hang
soak_step "Clair hanging" "clair is not reachable: connection timed out"
changed=$(now_ms)
registry_start again
pg_start_again
soak_step "the registry back" "registry is reachable"
soak_step "PostgreSQL back" "database is up-to-date"
changed=$(now_ms)
clair_mode ok
soak_step "Clair back" "clair is reachable"
touch "$T/stop"
wait "${clients[@]}"

cat "$T"/soak.health.* >"$T/soak.health"
total=$(wc -l <"$T/soak.health")
t_match "soak: /_health was asked many times ($total)" '^[0-9]{2,}$' "$total"
bad=$(awk -F'\t' '$2 != "Status: 200 OK" && $2 != "Status: 503 Service Unavailable"' "$T/soak.health" | head -3)
t_eq "soak: every /_health answer is 200 or 503" "" "$bad"
bad=$(awk -F'\t' '{print $3}' "$T/soak.health" | jq -c 'select((.database.msg | type) != "string" or (.registry.msg | type) != "string" or (.clair.msg | type) != "string")' 2>&1 | head -3)
t_eq "soak: every /_health body is a full document" "" "$bad"
msgs=$(awk -F'\t' '{print $3}' "$T/soak.health" | jq -r '.database.msg, .registry.msg, .clair.msg' | sort -u | tr '\n' '|')
t_match "soak: saw the registry go and come back" 'registry is not reachable: connection refused.*registry is reachable' "$msgs"
t_match "soak: saw clair fail and hang" 'clair is not reachable: HTTP 500.*clair is not reachable: connection timed out' "$msgs"
t_match "soak: saw the database go" 'cannot connect to database' "$msgs"
bad=$(awk -F'\t' '{print $3}' "$T/soak.health" | jq -r '.database.msg, .registry.msg, .clair.msg' | sort -u |
  grep -vxE 'database is up-to-date|cannot connect to database|registry is reachable|registry is not reachable: (connection refused|connection timed out|database unavailable)|clair is reachable|clair is not reachable: (HTTP 500|connection timed out|connection refused)' || true)
t_eq "soak: only designed messages" "" "$bad"
slowest=$(cut -f1 "$T/soak.health" | sort -n | tail -1)
# A request waits at most for the run in flight, or the one it starts.
t_duration "soak: no /_health answer took longer than one run (the slowest)" "$slowest" 0 2000
bad=$(awk -F'\t' '$2 != "Status: 200 OK"' "$T/soak.ping" | head -3)
t_eq "soak: every /_ping answer is 200" "" "$bad"
t_eq "soak: the responder never died" "$pid" "$(pgrep -f "$(responder_copy)" | grep -x "$pid" || true)"
fcgi_req GET /_health
t_eq "soak: afterwards all is up again" 200 "$RESP_STATUS"

t_done
