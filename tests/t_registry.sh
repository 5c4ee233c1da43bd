#!/usr/bin/env bash
# SPEC 3, registry: the real Debian docker-registry with token auth (401 and
# the API-version header), taken from registry.hostname or from Portus's
# registries table; down, not a registry, none configured.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

deps_start
calibrate
PORTUS_HEALTH_TIMEOUT=$(health_timeout 3)
export PORTUS_HEALTH_CACHE_TTL=0 PORTUS_HEALTH_TIMEOUT
unset PORTUS_REGISTRY_HOSTNAME

# expect VIA NAME MESSAGE SUCCESS: one GET /_health and its registry part.
expect() {
  "${1}_req" GET /_health
  t_eq "$1 $2: message" "$3" "$(json_get .registry.msg)"
  t_eq "$1 $2: success" "$4" "$(json_get .registry.success)"
  if [[ $4 == true ]]; then t_eq "$1 $2: 200" 200 "$RESP_STATUS"; else t_eq "$1 $2: 503" 503 "$RESP_STATUS"; fi
}

both() {
  expect cgi "$@"
  expect fcgi "$@"
}

fcgi_start

# From the registries table (Portus's own source of truth).
both "registries table empty" "no registry configured" false
pg_sql "INSERT INTO registries (name, hostname, use_ssl) VALUES ('main', '127.0.0.1:$REG_PORT', false)"
hits=$(registry_hits)
both "first row of registries" "registry is reachable" true
# The registry logs a request just after answering it.
logged() { (($(registry_hits) >= $1)); }
_poll 10 "$REG_PID" logged $((hits + 2)) || true
t_eq "the registry saw the two probes" $((hits + 2)) "$(registry_hits)"
pg_sql "INSERT INTO registries (name, hostname, use_ssl) VALUES ('second', '127.0.0.1:$(free_port)', false)"
both "the lowest id wins" "registry is reachable" true
pg_sql "UPDATE registries SET use_ssl = true WHERE name = 'main'"
both "use_ssl from the table against plain HTTP" "registry is not reachable: SSL error" false
pg_sql "UPDATE registries SET use_ssl = false WHERE name = 'main'"

# The registry stopped and started again: no restart of the responder.
registry_stop
both "registry stopped" "registry is not reachable: connection refused" false
fcgi_req GET /_ping
t_eq "fcgi /_ping while the registry is down" 200 "$RESP_STATUS"
registry_start
pg_sql "UPDATE registries SET hostname = '127.0.0.1:$REG_PORT' WHERE name = 'main'"
both "registry back" "registry is reachable" true

# registry.hostname bypasses the table, even when the database is down.
stop_pid "$FCGI_PID"
export PORTUS_REGISTRY_HOSTNAME=127.0.0.1:$REG_PORT
fcgi_start
pg_stop
for via in cgi fcgi; do
  "${via}_req" GET /_health
  t_eq "$via registry.hostname with the database down" "registry is reachable" "$(json_get .registry.msg)"
done
pg_start_again

unset PORTUS_REGISTRY_HOSTNAME
PORTUS_DB_PORT=$(free_port) cgi_req GET /_health
t_eq "cgi registry from the table, database down" "registry is not reachable: database unavailable" \
  "$(json_get .registry.msg)"

# Web servers that are not a registry.
fakehttp_start 200
PORTUS_REGISTRY_HOSTNAME=127.0.0.1:$FAKE_PORT cgi_req GET /_health
t_eq "cgi 200 without the API-version header" "registry is not reachable: not a Docker registry" \
  "$(json_get .registry.msg)"
fakehttp_start 401
PORTUS_REGISTRY_HOSTNAME=127.0.0.1:$FAKE_PORT cgi_req GET /_health
t_eq "cgi 401 without the API-version header" "registry is not reachable: not a Docker registry" \
  "$(json_get .registry.msg)"
fakehttp_start 404 "Docker-Distribution-Api-Version: registry/2.0"
PORTUS_REGISTRY_HOSTNAME=127.0.0.1:$FAKE_PORT cgi_req GET /_health
t_eq "cgi 404 even with the header" "registry is not reachable: HTTP 404" "$(json_get .registry.msg)"
fakehttp_start 500
PORTUS_REGISTRY_HOSTNAME=127.0.0.1:$FAKE_PORT cgi_req GET /_health
t_eq "cgi 500" "registry is not reachable: HTTP 500" "$(json_get .registry.msg)"
PORTUS_REGISTRY_HOSTNAME=registry.invalid cgi_req GET /_health
t_eq "cgi a name that does not resolve" "registry is not reachable: host not found" "$(json_get .registry.msg)"

# Over TLS: a self-signed certificate is an SSL error.
registry_start_tls
PORTUS_REGISTRY_HOSTNAME=127.0.0.1:$REG_TLS_PORT PORTUS_REGISTRY_USE_SSL=true cgi_req GET /_health
t_eq "cgi TLS registry, self-signed" "registry is not reachable: SSL error" "$(json_get .registry.msg)"

t_done
