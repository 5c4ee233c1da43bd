#!/usr/bin/env bash
# health.allow through nginx: CIDR ranges (IPv4 and IPv6) that may see
# /_health; others get 403 with a JSON error; /_ping stays open to all.
# Clients come from different loopback addresses (127.0.0.1, 127.0.0.2,
# ::1), so nginx passes different REMOTE_ADDRs.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

deps_start

# The shipped server block, listening on [::1] as well.
sed 's#^\( *\)listen 127.0.0.1:8080;#&\n\1listen [::1]:8080;#' "$ROOT/nginx-example.conf" >"$T/site-v6.conf"

# from ADDR PATH: GET through nginx from the loopback address ADDR.
from() {
  if [[ $1 == *:* ]]; then
    http_req GET "http://[::1]:$NGINX_PORT$2" --interface "$1"
  else
    http_req GET "$NGINX_URL$2" --interface "$1"
  fi
}

run_case() { # ALLOW
  if [[ -n ${FCGI_PID:-} ]]; then stop_pid "$FCGI_PID"; fi
  if [[ -n ${NGINX_PID:-} ]]; then stop_pid "$NGINX_PID"; fi
  export PORTUS_HEALTH_ALLOW=$1
  fcgi_start
  nginx_start "$T/site-v6.conf"
}

run_case "127.0.0.1/32, ::1"
from 127.0.0.1 /_health
t_eq "allow 127.0.0.1/32 ::1: 127.0.0.1 sees /_health" 200 "$RESP_STATUS"
from ::1 /_health
t_eq "allow 127.0.0.1/32 ::1: ::1 sees /_health" 200 "$RESP_STATUS"
from 127.0.0.2 /_health
t_eq "allow 127.0.0.1/32 ::1: 127.0.0.2 gets 403" 403 "$RESP_STATUS"
t_eq "allow 127.0.0.1/32 ::1: a JSON error" forbidden "$(json_get .error)"
t_eq "allow 127.0.0.1/32 ::1: JSON content type" "application/json; charset=utf-8" "$(resp_header Content-Type)"
from 127.0.0.2 /api/v1/health
t_eq "allow 127.0.0.1/32 ::1: 127.0.0.2 gets 403 on the API route too" 403 "$RESP_STATUS"
from 127.0.0.2 /_ping
t_eq "allow 127.0.0.1/32 ::1: /_ping stays open to 127.0.0.2" 200 "$RESP_STATUS"
from 127.0.0.2 /portus/_health
t_eq "allow 127.0.0.1/32 ::1: the sub-URI is guarded too" 403 "$RESP_STATUS"

run_case "127.0.0.0/8"
from 127.0.0.2 /_health
t_eq "allow 127.0.0.0/8: 127.0.0.2 sees /_health" 200 "$RESP_STATUS"
from ::1 /_health
t_eq "allow 127.0.0.0/8: ::1 gets 403" 403 "$RESP_STATUS"
from ::1 /_ping
t_eq "allow 127.0.0.0/8: /_ping stays open to ::1" 200 "$RESP_STATUS"

run_case "::/0"
from ::1 /_health
t_eq "allow ::/0: ::1 sees /_health" 200 "$RESP_STATUS"
from 127.0.0.2 /_health
t_eq "allow ::/0 covers no IPv4 client" 403 "$RESP_STATUS"

run_case ""
from 127.0.0.2 /_health
t_eq "allow empty (the default): everyone" 200 "$RESP_STATUS"

# Through CGI: no REMOTE_ADDR at all is refused when a list is set.
PORTUS_HEALTH_ALLOW=127.0.0.1 cgi_req GET /_health
t_eq "CGI from 127.0.0.1, allowed" 200 "$RESP_STATUS"
_REQ_ENV=(REQUEST_METHOD=GET PATH_INFO=/_health PORTUS_HEALTH_ALLOW=127.0.0.1 PORTUS_LOCAL_CONFIG_PATH=$T/absent.yml)
_run_request "$RESPONDER"
t_eq "CGI without REMOTE_ADDR, a list set: 403" 403 "$RESP_STATUS"

# A bad range is a configuration error naming the key.
rc=0
out=$(PORTUS_HEALTH_ALLOW="10.0.0.0/8, 300.1.1.1" "$RESPONDER" --print-config 2>&1) || rc=$?
t_eq "a bad range: exit 2" 2 "$rc"
t_match "a bad range: named by its place, not its text" 'health.allow: range 2 is not an IPv4 or IPv6 address or CIDR range \(from environment PORTUS_HEALTH_ALLOW\)' "$out"
unset PORTUS_HEALTH_ALLOW
printf 'health:\n  allow:\n    - 10.0.0.0/8\n    - fe80::/10\n' >"$T/allow.yml"
t_match "a YAML list of ranges" 'health.allow +"10.0.0.0/8, fe80::/10" +# .*allow.yml:3' \
  "$(PORTUS_LOCAL_CONFIG_PATH=$T/allow.yml "$RESPONDER" --print-config)"

t_done
