#!/usr/bin/env bash
# The shipped lighttpd, Caddy, H2O, HAProxy and Varnish examples, each as
# shipped but for paths and ports, in front of the responder (never run
# as root): the routes, the sub-URI, the settings each passes, and the
# health checks of HAProxy and Varnish taking Portus out while the
# registry is down and back when it returns.  Each server starts once.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-frontends.sh"
plain_pass_only

# The database the shipped files name (portus_production, role portus,
# password portus, as t_apache), with the registry in Portus's table.
pg_start
pg_sql "ALTER ROLE portus PASSWORD 'portus'"
registry_start
pg_clone_db portus_production
pg_sql_db portus_production "INSERT INTO registries (name, hostname, use_ssl) VALUES ('registry', '127.0.0.1:$REG_PORT', false)" >/dev/null
pg_exports
export PORTUS_DB_PASSWORD=portus PORTUS_DB_DATABASE=portus_production
export PORTUS_LOCAL_CONFIG_PATH=$T/absent.yml

# One responder for the servers that connect to a socket, as www-data;
# nginx (nginx-example.conf) is Portus for the others, and Varnish's backend.
fcgi_start_user www-data
nginx_start "$ROOT/nginx-example.conf"
# Where a file sets the registry for /portus alone, it names one that is
# down, so that the setting shows.
dead=$(free_port)
EX_REGISTRY=127.0.0.1:$dead

# user_of PID: the user a process runs as.
user_of() { ps -o user= -p "$1" | tr -d ' '; }

# responders_under PID: the responders (the binary under test) among the
# processes PID started, and theirs.
responders_under() {
  local c
  for c in $(pgrep -P "$1" || true); do
    if [[ $(readlink "/proc/$c/exe" 2>/dev/null) == "$T/bin/portus-health" ]]; then echo "$c"; fi
    responders_under "$c"
  done
}

# routes NAME BASE_URL [sub]: the routes through a front end, at the root
# and (with "sub") under /portus, with every component up.
routes() {
  local n=$1 u=$2 base
  for base in "" ${3:+/portus}; do
    http_req GET "$u$base/_ping"
    t_eq "$n $base/_ping: 200, empty" "200:" "$RESP_STATUS:$RESP_BODY"
    t_eq "$n $base/_ping: nosniff" nosniff "$(resp_header X-Content-Type-Options || true)"
    t_eq "$n $base/_ping: no CGI Status header passed on" "" "$(resp_header Status || true)"
    http_req GET "$u$base/api/v1/_ping"
    t_eq "$n $base/api/v1/_ping: 200" 200 "$RESP_STATUS"
    http_req GET "$u$base/api/v1/health"
    t_eq "$n $base/api/v1/health: JSON" "application/json; charset=utf-8" "$(resp_header Content-Type || true)"
    t_eq "$n $base/api/v1/health: database" "database is up-to-date" "$(json_get .database.msg)"
    http_req HEAD "$u$base/_health"
    t_eq "$n HEAD $base/_health: no body" "" "$RESP_BODY"
    t_match "$n HEAD $base/_health: a status of the route" '^(200|503)$' "$RESP_STATUS"
    http_req GET "$u$base/_health/database"
    t_eq "$n $base/_health/database: that component" "200 database" "$RESP_STATUS $(json_get 'keys | join(",")')"
    http_req GET "$u$base/api/v1/health/nosuch"
    t_eq "$n $base/api/v1/health/nosuch: 404" "404 unknown component" "$RESP_STATUS $(json_get .error)"
    http_req GET "$u$base/_health?exclude=registry"
    t_eq "$n $base/_health?exclude=registry" "200 database" "$RESP_STATUS $(json_get 'keys | join(",")')"
    http_req POST "$u$base/_health" -d x=1
    t_eq "$n POST $base/_health: 405" "405 GET, HEAD" "$RESP_STATUS $(resp_header Allow || true)"
  done
  http_req GET "$u/_health"
  t_eq "$n /_health: 200, all up" "200 database is up-to-date|registry is reachable" \
    "$RESP_STATUS $(json_get '[.database.msg, .registry.msg] | join("|")')"
  http_req GET "$u/_pingx"
  t_nomatch "$n /_pingx is not the responder's" '"error"' "$RESP_STATUS $RESP_BODY"
}

# --- lighttpd: spawns its responders (bin-path, max-procs 2) as its user,
# their settings from bin-environment alone (lighttpd has no environment).
lighttpd_start "$ROOT/lighttpd-example.conf"
routes lighttpd "$LIGHTTPD_URL" sub
mapfile -t lt_resp < <(responders_under "$LIGHTTPD_PID")
t_eq "lighttpd: max-procs 2 responders" 2 "${#lt_resp[@]}"
t_eq "lighttpd: the responders run as lighttpd's user" "www-data www-data" \
  "$(for p in "${lt_resp[@]}"; do user_of "$p"; done | xargs)"
http_req GET "$LIGHTTPD_URL/_health/database"
t_eq "lighttpd: bin-environment reaches the database" "database is up-to-date" "$(json_get .database.msg)"
http_req GET "$LIGHTTPD_URL/portus/_health/registry"
t_eq "lighttpd /portus: setenv.add-environment names the registry" \
  "registry is not reachable: connection refused" "$(json_get .registry.msg)"
t_match "lighttpd: the responders log to lighttpd's standard error (the journal)" \
  "portus-health\\[[0-9]+\\]: info: FastCGI responder" "$(cat "$T/lighttpd.log")"

# --- Caddy: reverse_proxy with the fastcgi transport, as caddy.
caddy_start "$ROOT/Caddyfile.example"
t_eq "Caddy runs as caddy" caddy "$(user_of "$CADDY_PID")"
routes Caddy "$CADDY_URL" sub
http_req GET "$CADDY_URL/portus/_health/registry"
t_eq "Caddy /portus: env names the registry" "registry is not reachable: connection refused" "$(json_get .registry.msg)"
http_req GET "$CADDY_URL/api/v1/users"
t_eq "Caddy: everything else goes to Portus" 404 "$RESP_STATUS"
t_match "Caddy: ... which is nginx here" "nginx" "$RESP_BODY"

# --- H2O: fastcgi.connect as shipped; then fastcgi.spawn, as the file
# says, where H2O starts the responders as its own user.
h2o_start h2o "$ROOT/h2o-example.conf"
routes H2O "$H2O_URL"
http_req GET "$H2O_URL/api/v1/users"
t_match "H2O: everything else goes to Portus (nginx here)" "^404 .*nginx" "$RESP_STATUS $RESP_BODY"
stop_pid "$H2O_PID"
bin=$(responder_copy)
h2o_start h2o-spawn "$ROOT/h2o-example.conf" \
  "/^ *fastcgi\\.connect:\$/{N;N;s#fastcgi\\.connect:\\n.*\\n.*#fastcgi.spawn: \"exec $bin\"#}"
t_match "H2O spawn: the file was changed as it says" "fastcgi.spawn: \"exec $bin\"" "$(cat "$T/h2o-spawn/h2o.conf")"
http_req GET "$H2O_URL/api/v1/health"
t_eq "H2O spawn: /api/v1/health" "200 database is up-to-date" "$RESP_STATUS $(json_get .database.msg)"
_poll 15 "" test -n "$(responders_under "$H2O_PID")" || true
mapfile -t h2o_resp < <(responders_under "$H2O_PID")
t_eq "H2O spawn: one responder per path" 5 "${#h2o_resp[@]}"
t_eq "H2O spawn: the responders run as H2O's user" debian-h2o "$(for p in "${h2o_resp[@]}"; do user_of "$p"; done | sort -u | xargs)"
stop_pid "$H2O_PID"
left=
for p in "${h2o_resp[@]}"; do
  _poll 10 "" bash -c "! kill -0 $p 2>/dev/null" || left+=" $p"
done
t_eq "H2O spawn: its responders stop with it" "" "$left"
for p in $left; do stop_pid "$p"; done

# --- HAProxy: fcgi-app; the responder's check; Portus's server follows the
# check of /api/v1/health.
haproxy_start "$ROOT/haproxy-example.cfg"
routes HAProxy "$HAPROXY_URL" sub

# --- Varnish: the backend is nginx (nginx-example.conf), probed on /api/v1/health.
varnish_start "$ROOT/varnish-example.vcl"
routes Varnish "$VARNISH_URL" sub

# The checks of both, as each shows them.
all_up() {
  [[ $(haproxy_state portus-health/responder) == UP && $(haproxy_state portus-health-state/responder) == UP &&
    $(haproxy_state portus/puma) == UP && $(varnish_health portus) == healthy ]]
}
all_down() {
  [[ $(haproxy_state portus-health-state/responder) == DOWN && $(haproxy_state portus/puma) == DOWN &&
    $(varnish_health portus) == sick ]]
}
_poll 30 "" all_up || true
t_eq "HAProxy: the responder's check passes" UP "$(haproxy_state portus-health/responder)"
t_eq "HAProxy: /api/v1/health's check passes" UP "$(haproxy_state portus-health-state/responder)"
t_eq "HAProxy: Portus's server is up with it" UP "$(haproxy_state portus/puma)"
t_eq "Varnish: the backend is healthy" healthy "$(varnish_health portus)"
http_req GET "$HAPROXY_URL/api/v1/users"
t_match "HAProxy: everything else goes to Portus (nginx here)" "^404 .*nginx" "$RESP_STATUS $RESP_BODY"
http_req GET "$VARNISH_URL/api/v1/users"
t_match "Varnish: everything else goes to Portus (nginx here)" "^404 .*nginx" "$RESP_STATUS $RESP_BODY"
http_req GET "$VARNISH_URL/api/v1/health"
http_req GET "$VARNISH_URL/api/v1/health"
t_match "Varnish: the health routes are never cached" '^[0-9]+$' "$(resp_header X-Varnish || true)"

# --- The registry goes down: Portus is taken out, the health routes still
# answer, with the reason; it comes back.
registry_stop
_poll 60 "" all_down || true
t_eq "HAProxy: /api/v1/health's check fails: DOWN" DOWN "$(haproxy_state portus-health-state/responder)"
t_eq "HAProxy: Portus's server is taken out" DOWN "$(haproxy_state portus/puma)"
t_eq "HAProxy: the responder itself stays UP" UP "$(haproxy_state portus-health/responder)"
t_match "HAProxy logs why" "portus-health-state/responder is DOWN.*code: 503" "$(cat "$T/haproxy.log")"
t_eq "Varnish: the backend is sick" sick "$(varnish_health portus)"
# (Another path each time: Varnish would answer from its cache.)
http_req GET "$HAPROXY_URL/api/v1/teams"
t_match "HAProxy: Portus's requests get HAProxy's 503" "^503 .*No server is available" "$RESP_STATUS $RESP_BODY"
http_req GET "$VARNISH_URL/api/v1/teams"
t_match "Varnish: Portus's requests get Varnish's 503" "^503 .*Backend fetch failed" "$RESP_STATUS $RESP_BODY"
for fe in "lighttpd $LIGHTTPD_URL" "Caddy $CADDY_URL" "HAProxy $HAPROXY_URL" "Varnish $VARNISH_URL"; do
  http_req GET "${fe#* }/api/v1/health"
  t_eq "${fe%% *} registry down: /api/v1/health says why" "503 registry is not reachable: connection refused" \
    "$RESP_STATUS $(json_get .registry.msg)"
  http_req GET "${fe#* }/api/v1/_ping"
  t_eq "${fe%% *} registry down: /api/v1/_ping" 200 "$RESP_STATUS"
done

registry_start again
_poll 60 "" all_up || true
t_eq "HAProxy: registry back: /api/v1/health's check passes" UP "$(haproxy_state portus-health-state/responder)"
t_eq "HAProxy: registry back: Portus's server is back" UP "$(haproxy_state portus/puma)"
t_eq "Varnish: registry back: the backend is healthy" healthy "$(varnish_health portus)"
http_req GET "$HAPROXY_URL/api/v1/namespaces"
t_eq "HAProxy: registry back: Portus answers again" 404 "$RESP_STATUS"
http_req GET "$VARNISH_URL/api/v1/namespaces"
t_eq "Varnish: registry back: Portus answers again" 404 "$RESP_STATUS"

t_done
