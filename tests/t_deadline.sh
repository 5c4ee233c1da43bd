#!/usr/bin/env bash
# SPEC 5 and the health run: checks run concurrently under one deadline
# (health.timeout), /_ping answers meanwhile, requests in flight share one
# run, and a finished run is reused for health.cache_ttl seconds. Durations
# are held to bounds derived from this machine's calibration (lib.sh).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# Every dependency accepts and never answers.
hang_start
export PORTUS_LOCAL_CONFIG_PATH=$T/absent.yml
export PORTUS_DB_ADAPTER=postgresql PORTUS_DB_HOST=127.0.0.1 PORTUS_DB_PORT=$HANG_PORT
export PORTUS_REGISTRY_HOSTNAME=127.0.0.1:$HANG_PORT
export PORTUS_SECURITY_CLAIR_SERVER=http://127.0.0.1:$HANG_PORT
export PORTUS_SECURITY_CLAIR_HEALTH_PORT=$HANG_PORT
export PORTUS_HEALTH_TIMEOUT=2 PORTUS_HEALTH_CACHE_TTL=0
calibrate

for via in cgi fcgi; do
  [[ $via == fcgi ]] && fcgi_start
  start=$(now_ms)
  "${via}_req" GET /_health
  took=$(ms_since "$start")
  t_eq "$via all hanging: 503" 503 "$RESP_STATUS"
  t_eq "$via all hanging: database" "cannot connect to database" "$(json_get .database.msg)"
  t_eq "$via all hanging: registry" "registry is not reachable: connection timed out" "$(json_get .registry.msg)"
  t_eq "$via all hanging: clair" "clair is not reachable: connection timed out" "$(json_get .clair.msg)"
  # One deadline for the run: three hanging checks one after another would take 6 s.
  t_duration "$via all hanging: one deadline, not three" "$took" 2000 2000 6000
done

# Health requests in flight: /_ping is not held behind them, and they share
# one run. Clair hangs, so the run lasts health.timeout: 5 s here, long
# enough for a /_ping held behind it to show.
clair_start
clair_mode hang
stop_pid "$FCGI_PID"
export PORTUS_SECURITY_CLAIR_SERVER=http://127.0.0.1:$CLAIR_PORT PORTUS_SECURITY_CLAIR_HEALTH_PORT=$CLAIR_PORT
PORTUS_HEALTH_TIMEOUT=5 fcgi_start
# waiting N: the responder has accepted N connections and clair has the probe.
waiting() { (($(ss -xH src "$FCGI_SOCK" | wc -l) >= $1 && $(clair_hits) >= 1)); }
launched=$(now_ms)
bg=()
for i in 1 2 3 4 5 6 7 8; do
  env -i REQUEST_METHOD=GET PATH_INFO=/_health timeout "$REQ_TIMEOUT" cgi-fcgi -bind -connect "$FCGI_SOCK" >"$T/bg.$i" 2>&1 &
  bg+=($!)
done
_poll 20 "$FCGI_PID" waiting 8 || true
start=$(now_ms)
fcgi_req GET /_ping
took=$(ms_since "$start")
t_eq "/_ping while 8 health requests wait" 200 "$RESP_STATUS"
# Held behind the run, it would end with it: 5 s after the launch at the soonest.
t_duration "/_ping is not held by the health run" "$took" 0 0 $((5000 - (start - launched)))
wait "${bg[@]}"
n503=$(grep -l '^Status: 503' "$T"/bg.* | wc -l)
t_eq "each waiting request got its answer" 8 "$n503"
t_eq "8 concurrent requests, one probe of clair" 1 "$(clair_hits)"

# The cache: a finished result is reused for health.cache_ttl seconds.
stop_pid "$FCGI_PID"
clair_mode ok
export PORTUS_HEALTH_CACHE_TTL=30
fcgi_start
before=$(clair_hits)
for _ in 1 2 3 4 5 6; do fcgi_req GET /_health; done
t_eq "cache_ttl 30: six requests, one probe" $((before + 1)) "$(clair_hits)"
stop_pid "$FCGI_PID"
export PORTUS_HEALTH_CACHE_TTL=0
fcgi_start
before=$(clair_hits)
conns=$(clair_conns)
for _ in 1 2 3; do fcgi_req GET /_health; done
t_eq "cache_ttl 0: every request checks" $((before + 3)) "$(clair_hits)"
t_eq "keep-alive: three probes over one connection" $((conns + 1)) "$(clair_conns)"

# Background mode: a thread checks every health.interval seconds; requests
# never wait on a dependency once a first result exists.
stop_pid "$FCGI_PID"
clair_mode hang
export PORTUS_HEALTH_INTERVAL=1
period_start=$(now_ms)
before=$(clair_hits)
fcgi_start
start=$(now_ms)
fcgi_req GET /_health
took=$(ms_since "$start")
t_eq "interval 1: the first request gets the first run's result" "clair is not reachable: connection timed out" \
  "$(json_get .clair.msg)"
# The first run began with the responder and lasts health.timeout (2 s):
# waiting for a second one as well would take 4 s.
t_duration "interval 1: the first request waits at most one run" "$took" 0 2000 4000
worst=0
for _ in $(seq 20); do
  start=$(now_ms)
  fcgi_req GET /_health
  took=$(ms_since "$start")
  ((took > worst)) && worst=$took
  sleep 0.2
done
hits=$(($(clair_hits) - before))
period=$(ms_since "$period_start")
# A request held by the run in flight would wait for its end, up to 2 s.
t_duration "interval 1: later requests never wait on the hanging clair (the worst of 20)" "$worst" 0 0 2000
# Runs begin at least health.interval apart, however many requests come.
t_between "interval 1: probes follow the interval, not the 21 requests" "$hits" 1 $((period / 1000 + 1)) \
  "at most $period ms / 1 s + 1 in the $period ms counted"
clair_mode ok
# The run in flight ends at its deadline; the next one, with the database
# and registry still hanging, publishes at its own: two timeouts at most.
clair_back() {
  fcgi_req GET /_health
  [[ $(json_get .clair.msg) == "clair is reachable" ]]
}
start=$(now_ms)
_poll 30 "$FCGI_PID" clair_back || true
took=$(ms_since "$start")
t_eq "interval 1: the background run sees clair come back" "clair is reachable" "$(json_get .clair.msg)"
t_duration "interval 1: clair seen back within two runs" "$took" 0 4000
unset PORTUS_HEALTH_INTERVAL

t_done
