#!/usr/bin/env bash
# nginx from the shipped nginx-example.conf (only its listen port, the
# socket path and the example registry's port changed) in front of the
# responder under spawn-fcgi: the routes at the root and under /portus,
# HEAD, 404, 405, and a setting passed per request with fastcgi_param.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

deps_start
unset PORTUS_REGISTRY_HOSTNAME
fcgi_start
nginx_start "$ROOT/nginx-example.conf"
u=$NGINX_URL

for base in "" /portus; do
  for p in /_ping /api/v1/_ping; do
    http_req GET "$u$base$p"
    t_eq "nginx $base$p: 200" 200 "$RESP_STATUS"
    t_eq "nginx $base$p: empty" "" "$RESP_BODY"
    t_eq "nginx $base$p: nosniff" nosniff "$(resp_header X-Content-Type-Options)"
  done
  for p in /_health /api/v1/health; do
    http_req GET "$u$base$p"
    t_eq "nginx $base$p: JSON" "application/json; charset=utf-8" "$(resp_header Content-Type)"
    t_eq "nginx $base$p: database" "database is up-to-date" "$(json_get .database.msg)"
    len=$(resp_header Content-Length)
    status=$RESP_STATUS
    http_req HEAD "$u$base$p"
    t_eq "nginx HEAD $base$p: status of GET" "$status" "$RESP_STATUS"
    t_eq "nginx HEAD $base$p: length of GET" "$len" "$(resp_header Content-Length)"
    t_eq "nginx HEAD $base$p: no body" "" "$RESP_BODY"
  done
  http_req GET "$u$base/_health/nosuch"
  t_eq "nginx $base/_health/nosuch: 404" 404 "$RESP_STATUS"
  t_eq "nginx $base/_health/nosuch: JSON" "unknown component" "$(json_get .error)"
  http_req POST "$u$base/_health" -d x=1
  t_eq "nginx POST $base/_health: 405" 405 "$RESP_STATUS"
  t_eq "nginx POST $base/_health: Allow" "GET, HEAD" "$(resp_header Allow)"
  http_req GET "$u$base/_health?pretty=1&x=%00"
  t_match "nginx $base/_health with a query string: answered" '^(200|503)$' "$RESP_STATUS"
done

# The root location passes no settings: the registry comes from the table,
# which is empty.  The /portus location passes PORTUS_REGISTRY_HOSTNAME.
http_req GET "$u/_health"
t_eq "nginx /_health: the table is empty" "no registry configured" "$(json_get .registry.msg)"
t_eq "nginx /_health: 503" 503 "$RESP_STATUS"
http_req GET "$u/portus/_health"
t_eq "nginx /portus/_health: fastcgi_param names the registry" "registry is reachable" "$(json_get .registry.msg)"
t_eq "nginx /portus/_health: 200" 200 "$RESP_STATUS"
http_req GET "$u/_health" -H "Portus-Registry-Hostname: 127.0.0.1:$REG_PORT" -H "PORTUS_REGISTRY_HOSTNAME: 127.0.0.1:$REG_PORT"
t_eq "nginx: client headers cannot set a setting" "no registry configured" "$(json_get .registry.msg)"

# Everything else is not ours: nginx answers it.
http_req GET "$u/_pingx"
t_eq "nginx /_pingx is not routed to the responder" 404 "$RESP_STATUS"
t_nomatch "nginx /_pingx: nginx's page, not our JSON" '"error"' "$RESP_BODY"

t_done
