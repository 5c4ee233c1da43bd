#!/usr/bin/env bash
# SPEC 5 and the health run: checks run concurrently under one deadline
# (health.timeout), /_ping answers meanwhile, requests in flight share one
# run, and a finished run is reused for health.cache_ttl seconds.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# Every dependency accepts and never answers.
hang_start
export PORTUS_LOCAL_CONFIG_PATH=$T/absent.yml
export PORTUS_DB_ADAPTER=postgresql PORTUS_DB_HOST=127.0.0.1 PORTUS_DB_PORT=$HANG_PORT
export PORTUS_REGISTRY_HOSTNAME=127.0.0.1:$HANG_PORT
export PORTUS_SECURITY_CLAIR_SERVER=http://127.0.0.1:$HANG_PORT
export PORTUS_SECURITY_CLAIR_HEALTH_PORT=$HANG_PORT
export PORTUS_HEALTH_TIMEOUT=2 PORTUS_HEALTH_CACHE_TTL=0

for via in cgi fcgi; do
  [[ $via == fcgi ]] && fcgi_start
  start=$(date +%s%N)
  "${via}_req" GET /_health
  took=$(ms_since "$start")
  t_eq "$via all hanging: 503" 503 "$RESP_STATUS"
  t_eq "$via all hanging: database" "cannot connect to database" "$(json_get .database.msg)"
  t_eq "$via all hanging: registry" "registry is not reachable: connection timed out" "$(json_get .registry.msg)"
  t_eq "$via all hanging: clair" "clair is not reachable: connection timed out" "$(json_get .clair.msg)"
  # One deadline for the run: three hanging checks one after another would take 6 s.
  t_match "$via all hanging: one deadline, not three (${took} ms)" '^(1[5-9]|2[0-9]|3[0-4])[0-9]{2}$' "$took"
done

# Health requests in flight: /_ping is not held behind them, and they share one run.
clair_start
clair_mode hang
stop_pid "$FCGI_PID"
export PORTUS_SECURITY_CLAIR_SERVER=http://127.0.0.1:$CLAIR_PORT PORTUS_SECURITY_CLAIR_HEALTH_PORT=$CLAIR_PORT
fcgi_start
bg=()
for i in 1 2 3 4 5 6 7 8; do
  env -i REQUEST_METHOD=GET PATH_INFO=/_health cgi-fcgi -bind -connect "$FCGI_SOCK" >"$T/bg.$i" 2>&1 &
  bg+=($!)
done
sleep 0.5
start=$(date +%s%N)
fcgi_req GET /_ping
took=$(ms_since "$start")
t_eq "/_ping while 8 health requests wait" 200 "$RESP_STATUS"
t_match "/_ping is not held by the health run (${took} ms)" '^[0-9]{1,3}$' "$took"
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
before=$(clair_hits)
fcgi_start
start=$(date +%s%N)
fcgi_req GET /_health
took=$(ms_since "$start")
t_eq "interval 1: the first request gets the first run's result" "clair is not reachable: connection timed out" \
  "$(json_get .clair.msg)"
t_match "interval 1: the first request waits at most one run (${took} ms)" '^([0-9]{1,3}|[12][0-9]{3})$' "$took"
worst=0
for _ in $(seq 20); do
  start=$(date +%s%N)
  fcgi_req GET /_health
  took=$(ms_since "$start")
  ((took > worst)) && worst=$took
  sleep 0.2
done
t_match "interval 1: later requests never wait on the hanging clair (worst ${worst} ms)" '^[0-9]{1,3}$' "$worst"
hits=$(($(clair_hits) - before))
# About 5 s went by: runs of 2 s (the hang) every 1 s make 2 or 3 probes.
t_match "interval 1: probes follow the interval, not the 21 requests ($hits)" '^[1-4]$' "$hits"
clair_mode ok
# The run in flight ends at its deadline; the next one, with the database
# and registry still hanging, publishes at its own: two timeouts at most.
sleep 4.5
fcgi_req GET /_health
t_eq "interval 1: the background run sees clair come back" "clair is reachable" "$(json_get .clair.msg)"
unset PORTUS_HEALTH_INTERVAL

t_done
