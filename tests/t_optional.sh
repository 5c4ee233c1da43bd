#!/usr/bin/env bash
# Beyond Portus: optional components (health.optional), shown with their
# real success but not counted in the status; and Portus itself as a
# component (health.portus.url), asked for its /api/v1/_ping.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

deps_start clair
calibrate
PORTUS_HEALTH_TIMEOUT=$(health_timeout 5)
export PORTUS_HEALTH_CACHE_TTL=0 PORTUS_HEALTH_TIMEOUT

# Clair down, not optional: the whole is down.
clair_mode fail
cgi_req GET /_health
t_eq "clair down, not optional: 503" 503 "$RESP_STATUS"
rc=0
"$RESPONDER" --check -q || rc=$?
t_eq "clair down, not optional: --check exits 1" 1 "$rc"

# Optional: shown as it is, not counted.
export PORTUS_HEALTH_OPTIONAL=clair
cgi_req GET /_health
t_eq "clair down, optional: 200" 200 "$RESP_STATUS"
t_eq "clair down, optional: its real success" "false clair is not reachable: HTTP 500" \
  "$(json_get '.clair.success, .clair.msg' | xargs)"
cgi_req GET /_health /_health
_request_env GET /_health /_health settings
_REQ_ENV+=(HTTP_ACCEPT=application/health+json)
_run_cgi
t_eq "clair down, optional: health+json says warn, 200" "200 warn" "$RESP_STATUS $(json_get .status)"
t_eq "clair down, optional: health+json's check fails" fail "$(json_get '.checks["clair:responseTime"][0].status')"
cgi_req GET /_health/clair
t_eq "clair down, optional: /_health/clair answers by its own state" 503 "$RESP_STATUS"
rc=0
"$RESPONDER" --check -q || rc=$?
t_eq "clair down, optional: --check exits 0" 0 "$rc"
rc=0
"$RESPONDER" --check -q -c clair || rc=$?
t_eq "clair down, optional: --check -c clair exits 1 (asked for alone)" 1 "$rc"
# A component that counts still counts.
PORTUS_DB_PORT=$(free_port) cgi_req GET /_health
t_eq "the database down, clair optional: 503" 503 "$RESP_STATUS"
clair_mode ok
cgi_req GET /_health
_request_env GET /_health /_health settings
_REQ_ENV+=(HTTP_ACCEPT=application/health+json)
_run_cgi
t_eq "all up, clair optional: pass" "200 pass" "$RESP_STATUS $(json_get .status)"
clair_mode fail
_request_env GET /_health /_health settings
_REQ_ENV+=(HTTP_ACCEPT=text/html)
_run_cgi
t_match "the page marks it optional" 'optional</span>' "$RESP_BODY"
t_match "the page still shows it down" '<span class="name">clair</span><span class="state down">down</span>' "$RESP_BODY"
PORTUS_HEALTH_OPTIONAL=nosuch cgi_req GET /_health
t_eq "an unknown name in health.optional: a configuration error" 503 "$RESP_STATUS"
t_match "an unknown name in health.optional: named" 'health.optional: item 1 is not a component' "$(json_get .error)"
unset PORTUS_HEALTH_OPTIONAL
clair_mode ok

# Portus itself.  The stand-in for Puma (the Rails server, not packaged
# here) is an nginx server that answers /api/v1/_ping as Puma does: 200.
cat >"$T/puma.conf" <<'CONF'
# A stand-in for Portus's Puma: its /api/v1/_ping answers 200; the rest 404.
server {
    listen 127.0.0.1:8080;
    location = /api/v1/_ping { default_type application/json; return 200 "{}"; }
    location / { return 404; }
}
CONF
FCGI_SOCK=$T/none.sock nginx_start "$T/puma.conf"
export PORTUS_HEALTH_PORTUS_URL=$NGINX_URL
cgi_req GET /_health
t_eq "health.portus.url, Puma up: reachable" "true Portus is reachable" "$(json_get '.portus.success, .portus.msg' | xargs)"
t_eq "health.portus.url, Puma up: 200" 200 "$RESP_STATUS"
t_match "the portus component comes last" '"clair":.*"portus":' "$RESP_BODY"
t_match "Puma was asked its /api/v1/_ping" 'GET /api/v1/_ping' "$(cat "$T/nginx/access.log")"
PORTUS_HEALTH_PORTUS_URL=$NGINX_URL/ cgi_req GET /_health/portus
t_eq "a URL with a trailing slash: the same" "Portus is reachable" "$(json_get .portus.msg)"
PORTUS_HEALTH_PORTUS_URL=$NGINX_URL/nowhere cgi_req GET /_health/portus
t_eq "a Puma that answers 404 there: down" "Portus is not reachable: HTTP 404" "$(json_get .portus.msg)"
stop_pid "$NGINX_PID"
cgi_req GET /_health
t_eq "Puma down: the component says so" "false Portus is not reachable: connection refused" \
  "$(json_get '.portus.success, .portus.msg' | xargs)"
t_eq "Puma down: 503, for a load balancer picking Portus backends" 503 "$RESP_STATUS"
cgi_req GET /_ping
t_eq "Puma down: /_ping still 200 (portus-health answers)" 200 "$RESP_STATUS"
PORTUS_HEALTH_OPTIONAL=portus cgi_req GET /_health
t_eq "Puma down, portus optional: 200" 200 "$RESP_STATUS"
unset PORTUS_HEALTH_PORTUS_URL
cgi_req GET /_health
t_eq "no health.portus.url: no portus component" null "$(json_get .portus)"
cgi_req GET /_health/portus
t_eq "no health.portus.url: /_health/portus is 404" 404 "$RESP_STATUS"

t_done
