#!/usr/bin/env bash
# SPEC 2: routes, methods and headers, through CGI and through FastCGI.
# The database and registry are real; their state does not matter here
# beyond /_health answering 200 when both are up.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

deps_start
calibrate
PORTUS_HEALTH_TIMEOUT=$(health_timeout 5)
export PORTUS_HEALTH_TIMEOUT
fcgi_start

for via in cgi fcgi; do
  req() { "${via}_req" "$@"; }

  for p in /_ping /api/v1/_ping; do
    req GET "$p"
    t_eq "$via GET $p: 200" 200 "$RESP_STATUS"
    t_eq "$via GET $p: empty body" "" "$RESP_BODY"
    t_eq "$via GET $p: Cache-Control" no-cache "$(resp_header Cache-Control)"
    t_eq "$via GET $p: nosniff" nosniff "$(resp_header X-Content-Type-Options)"
  done

  for p in /_health /api/v1/health; do
    req GET "$p"
    t_eq "$via GET $p: 200 with every component up" 200 "$RESP_STATUS"
    t_eq "$via GET $p: JSON content type" "application/json; charset=utf-8" \
      "$(resp_header Content-Type)"
    t_eq "$via GET $p: keys in order" "database,registry" "$(json_get 'keys_unsorted | join(",")')"
    t_eq "$via GET $p: Content-Length is the body's" "${#RESP_BODY}" "$(resp_header Content-Length)"
    t_eq "$via GET $p: Cache-Control" no-cache "$(resp_header Cache-Control)"
    t_eq "$via GET $p: nosniff" nosniff "$(resp_header X-Content-Type-Options)"
    getlen=$(resp_header Content-Length)
    req HEAD "$p"
    t_eq "$via HEAD $p: 200" 200 "$RESP_STATUS"
    t_eq "$via HEAD $p: no body" "" "$RESP_BODY"
    t_eq "$via HEAD $p: length of the GET body" "$getlen" "$(resp_header Content-Length)"
  done

  req GET /_health/ 
  t_eq "$via trailing slash is the same route" 200 "$RESP_STATUS"

  # A web server that does not split PATH_INFO: the path of REQUEST_URI is
  # decoded, the query string dropped, and matched on its last segments.
  req GET "" "/portus/_health?verbose=1"
  t_eq "$via sub-URI /portus/_health" 200 "$RESP_STATUS"
  t_eq "$via sub-URI body is the document" true "$(json_get '.database.success')"
  req GET "" "/portus/api/v1/_ping"
  t_eq "$via sub-URI /portus/api/v1/_ping" 200 "$RESP_STATUS"
  req GET "" "/portus/%5Fping"
  t_eq "$via percent-encoded REQUEST_URI" 200 "$RESP_STATUS"
  req GET "" "/portus/_ping%00"
  t_eq "$via %00 in REQUEST_URI: 400" 400 "$RESP_STATUS"
  req GET "" "/portus/%zz"
  t_eq "$via bad escape in REQUEST_URI: 400" 400 "$RESP_STATUS"
  req GET "/other" "/portus/_ping"
  t_eq "$via PATH_INFO wins over REQUEST_URI" 404 "$RESP_STATUS"

  for p in / /_pingx /_ping/x //_ping /api/v1/_health /_HEALTH /../_ping; do
    req GET "$p"
    t_eq "$via GET $p: 404" 404 "$RESP_STATUS"
    t_eq "$via GET $p: JSON error" "not found" "$(json_get .error)"
  done
  req HEAD /nope
  t_eq "$via HEAD /nope: 404" 404 "$RESP_STATUS"
  t_eq "$via HEAD /nope: no body" "" "$RESP_BODY"

  for m in POST PUT DELETE PATCH OPTIONS TRACE CONNECT PROPFIND; do
    req "$m" /_health
    t_eq "$via $m /_health: 405" 405 "$RESP_STATUS"
    t_eq "$via $m /_health: Allow" "GET, HEAD" "$(resp_header Allow)"
    t_eq "$via $m /_health: JSON error" "method not allowed" "$(json_get .error)"
  done
  req "G ET" /_ping
  t_eq "$via invalid method: 400" 400 "$RESP_STATUS"

  long=$(printf '/%.0sa' {1..3000})
  req GET "$long"
  t_eq "$via PATH_INFO of 6000 bytes: 414" 414 "$RESP_STATUS"
done

# After all of that the FastCGI responder still serves.
fcgi_req GET /_ping
t_eq "fcgi responder alive after bad requests" 200 "$RESP_STATUS"

t_done
