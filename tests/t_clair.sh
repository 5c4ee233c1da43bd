#!/usr/bin/env bash
# SPEC 3, clair: the health-port rewrite, the missing scheme, other schemes;
# up, down, 500, hanging.  Clair is not packaged: tests/clair-standin.py
# answers GET /health as Clair v2's health port does.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

deps_start clair
calibrate
PORTUS_HEALTH_TIMEOUT=$(health_timeout 2)
export PORTUS_HEALTH_CACHE_TTL=0 PORTUS_HEALTH_TIMEOUT
# The API port of Clair is 6060; its health port is what we probe.
export PORTUS_SECURITY_CLAIR_SERVER=http://127.0.0.1:6060

expect() {
  "${1}_req" GET /_health
  t_eq "$1 $2: message" "$3" "$(json_get .clair.msg)"
  t_eq "$1 $2: success" "$4" "$(json_get .clair.success)"
  if [[ $4 == true ]]; then t_eq "$1 $2: 200" 200 "$RESP_STATUS"; else t_eq "$1 $2: 503" 503 "$RESP_STATUS"; fi
}

both() {
  expect cgi "$@"
  expect fcgi "$@"
}

fcgi_start
hits=$(clair_hits)
both "port replaced by health_port" "clair is reachable" true
t_eq "the stand-in saw both probes" $((hits + 2)) "$(clair_hits)"
t_eq "clair comes last" "database,registry,clair" "$(json_get 'keys_unsorted | join(",")')"

clair_mode fail
both "health port answers 500" "clair is not reachable: HTTP 500" false
clair_mode ok

clair_mode hang
both "health port hangs" "clair is not reachable: connection timed out" false
clair_mode ok

clair_stop
both "clair down" "clair is not reachable: connection refused" false
clair_start
export PORTUS_SECURITY_CLAIR_HEALTH_PORT=$CLAIR_PORT

PORTUS_SECURITY_CLAIR_SERVER=127.0.0.1:6060 cgi_req GET /_health
t_eq "cgi no scheme: http:// added" "clair is reachable" "$(json_get .clair.msg)"
t_match "cgi no scheme: a warning in the log" 'warning: .*no scheme' "$RESP_STDERR"
PORTUS_SECURITY_CLAIR_SERVER="https://127.0.0.1:6060/clair?x=1" cgi_req GET /_health
t_eq "cgi https against a plain-HTTP health port" "clair is not reachable: SSL error" "$(json_get .clair.msg)"
PORTUS_SECURITY_CLAIR_SERVER=ftp://127.0.0.1:6060 cgi_req GET /_health
t_eq "cgi neither HTTP nor HTTPS" "clair is not reachable: neither HTTP nor HTTPS" "$(json_get .clair.msg)"
PORTUS_SECURITY_CLAIR_SERVER=http://clair.invalid:6060 cgi_req GET /_health
t_eq "cgi a name that does not resolve" "clair is not reachable: host not found" "$(json_get .clair.msg)"
PORTUS_SECURITY_CLAIR_SERVER= cgi_req GET /_health
t_eq "cgi empty server: no clair key" "database,registry" "$(json_get 'keys_unsorted | join(",")')"
t_eq "cgi empty server: 200" 200 "$RESP_STATUS"

t_done
