# shellcheck shell=bash
# The other front ends and monitors of the shipped examples: lighttpd,
# Caddy, H2O, HAProxy, Varnish, monit, Prometheus's blackbox exporter and
# the Zabbix agent.  Source it after lib.sh:
#   . "$(dirname "$0")/lib.sh"
#   . "$(dirname "$0")/lib-frontends.sh"
# As in lib.sh, each server runs on a free port of 127.0.0.1, with its files
# under $T, as the user its Debian package runs it as, and is stopped by
# pid; nothing global on the machine is touched.

# plain_pass_only: call it first.  These scripts run in CI's plain pass:
# under SANITIZE=1 or VALGRIND=1 (the same suite again on an instrumented
# build) they say so and pass with nothing run, keeping those passes short.
plain_pass_only() {
  if [[ ${SANITIZE:-} == 1 || ${VALGRIND:-} == 1 ]]; then
    echo "$(basename "$0" .sh): runs in the plain pass only; skipped under SANITIZE/VALGRIND"
    echo "0 passed, 0 failed"
    exit 0
  fi
}

# fcgi_start_user USER: the responder under spawn-fcgi as USER (never
# root), with the caller's environment, on the unix socket FCGI_SOCK, which
# every server's user may use; its stderr goes to "$T/fcgi.log".
fcgi_start_user() {
  local bin
  bin=$(responder_copy)
  FCGI_SOCK=$T/fcgi.sock
  rm -f "$FCGI_SOCK"
  spawn fcgi spawn-fcgi -n -M 0666 -u "$1" -g "$1" -s "$FCGI_SOCK" -- "$bin"
  FCGI_PID=$SPAWNED_PID
  export FCGI_SOCK FCGI_PID
  _poll 15 "$FCGI_PID" test -S "$FCGI_SOCK" || die_log fcgi "no FastCGI socket at $FCGI_SOCK"
}

# example_in SRC DEST PORT [SED_EXPRESSION...]: the shipped file SRC as
# DEST with only its paths and ports changed: its own address
# 127.0.0.1:8080 becomes PORT, the responder's socket FCGI_SOCK, the binary
# the copy under $T, the registry 127.0.0.1:5000 EX_REGISTRY (default the
# test's registry), Portus 127.0.0.1:3000 EX_PORTUS (default nginx), the
# database port PG_PORT; then the SED_EXPRESSIONs.
example_in() {
  local src=$1 dest=$2 port=$3 bin
  shift 3
  bin=$(responder_copy)
  local -a more=()
  local e
  for e; do more+=(-e "$e"); done
  sed -e "s#127\\.0\\.0\\.1:8080#127.0.0.1:$port#g" \
    -e "s#/run/portus-health/portus-health\\.sock#${FCGI_SOCK:-/nonexistent}#g" \
    -e "s#/usr/local/lib/portus-health/portus-health#$bin#g" \
    -e "s#/usr/local/lib/portus-health#${bin%/*}#g" \
    -e "s#/usr/local/bin/portus-health#$bin#g" \
    -e "s#127\\.0\\.0\\.1:5000#${EX_REGISTRY:-127.0.0.1:${REG_PORT:-5000}}#g" \
    -e "s#127\\.0\\.0\\.1:3000#${EX_PORTUS:-127.0.0.1:${NGINX_PORT:-3000}}#g" \
    -e "s#\"5432\"#\"${PG_PORT:-5432}\"#g" \
    "${more[@]}" "$src" >"$dest"
}

# _child_pids PID: the processes PID has started.
_child_pids() { pgrep -P "$1" || true; }

# _adopt_children PID: record the processes PID started (responders a
# server spawned) so that cleanup stops them by pid too.
_adopt_children() {
  local c
  for c in $(_child_pids "$1"); do PIDS+=("$c"); done
}

# ---------------------------------------------------------------- lighttpd

# lighttpd_start SITE_CONF: lighttpd (as www-data) on LIGHTTPD_PORT with
# SITE_CONF (lighttpd-example.conf) included; its spawned responders' socket
# directory /run/lighttpd/ becomes "$T/lighttpd/run/" and
# /srv/Portus/config/ "$T/lighttpd/".  lighttpd gets an empty environment:
# what the responders know comes from the file.  LIGHTTPD_URL is its base.
lighttpd_start() {
  local d=$T/lighttpd
  LIGHTTPD_PORT=$(free_port)
  mkdir -p "$d/run" "$d/www" "$d/log"
  chown www-data "$d/run" "$d/log" # lighttpd opens its log as www-data
  example_in "$1" "$d/site.conf" "$LIGHTTPD_PORT" "s#/run/lighttpd/#$d/run/#g" "s#/srv/Portus/config/#$d/#g"
  cat >"$d/lighttpd.conf" <<CONF
server.document-root = "$d/www"
server.bind = "127.0.0.1"
server.port = $LIGHTTPD_PORT
server.username = "www-data"
server.groupname = "www-data"
server.errorlog = "$d/log/error.log"
include "$d/site.conf"
CONF
  _start_listener lighttpd "$LIGHTTPD_PORT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    lighttpd -D -f "$d/lighttpd.conf"
  LIGHTTPD_PID=$SPAWNED_PID
  LIGHTTPD_URL=http://127.0.0.1:$LIGHTTPD_PORT
  export LIGHTTPD_PORT LIGHTTPD_PID LIGHTTPD_URL
  _poll 15 "$LIGHTTPD_PID" test -n "$(_child_pids "$LIGHTTPD_PID")" || die_log lighttpd "lighttpd spawned no responder"
  _adopt_children "$LIGHTTPD_PID"
}

# ---------------------------------------------------------------- Caddy

# caddy_start CADDYFILE: Caddy (as caddy) on CADDY_PORT from CADDYFILE as
# shipped, with a global block of the test's (loopback only, no admin
# endpoint, storage under $T).  CADDY_URL is its base.
caddy_start() {
  local d=$T/caddy
  CADDY_PORT=$(free_port)
  mkdir -p "$d/data"
  chown caddy "$d/data"
  example_in "$1" "$d/site" "$CADDY_PORT"
  {
    printf '{\n\tadmin off\n\tdefault_bind 127.0.0.1\n\tstorage file_system %s\n}\n\n' "$d/data"
    cat "$d/site"
  } >"$d/Caddyfile"
  _start_listener caddy "$CADDY_PORT" env HOME="$d/data" XDG_DATA_HOME="$d/data" XDG_CONFIG_HOME="$d/data" \
    setpriv --reuid=caddy --regid=caddy --init-groups caddy run --adapter caddyfile --config "$d/Caddyfile"
  CADDY_PID=$SPAWNED_PID
  CADDY_URL=http://127.0.0.1:$CADDY_PORT
  export CADDY_PORT CADDY_PID CADDY_URL
}

# ---------------------------------------------------------------- H2O

# h2o_start NAME CONF [SED_EXPRESSION...]: H2O (dropping to its own user,
# debian-h2o) on a free port from CONF as shipped, its logs under
# "$T/NAME/"; H2O_URL is its base, H2O_PID its pid.
h2o_start() {
  local name=$1 conf=$2 d=$T/$1 port
  shift 2
  port=$(free_port)
  mkdir -p "$d"
  example_in "$conf" "$d/h2o.conf" "$port" "s#^\\(  *port:\\) 8080\$#\\1 $port#" "s#/var/log/h2o/#$d/#g" "$@"
  _start_listener "$name" "$port" h2o -c "$d/h2o.conf"
  H2O_PID=$SPAWNED_PID
  H2O_URL=http://127.0.0.1:$port
  export H2O_PID H2O_URL
}

# ---------------------------------------------------------------- HAProxy

# haproxy_start CFG: HAProxy (dropping to haproxy) on HAPROXY_PORT with the
# sections of CFG as shipped after a global and defaults section of the
# test's, as Debian's haproxy.cfg has (no chroot); its admin socket is
# HAPROXY_STATS.  HAPROXY_URL is its base.
haproxy_start() {
  local d=$T/haproxy
  HAPROXY_PORT=$(free_port)
  HAPROXY_STATS=$d/admin.sock
  mkdir -p "$d"
  cat >"$d/global.cfg" <<CFG
global
    user haproxy
    group haproxy
    stats socket $HAPROXY_STATS mode 600 level admin
    log stderr format short local0 info
defaults
    mode http
    log global
    timeout connect 5s
    timeout client 50s
    timeout server 50s
CFG
  example_in "$1" "$d/site.cfg" "$HAPROXY_PORT"
  haproxy -c -q -f "$d/global.cfg" -f "$d/site.cfg" >"$T/haproxy-check.log" 2>&1 ||
    die_log haproxy-check "HAProxy rejects the configuration"
  _start_listener haproxy "$HAPROXY_PORT" haproxy -db -f "$d/global.cfg" -f "$d/site.cfg"
  HAPROXY_PID=$SPAWNED_PID
  HAPROXY_URL=http://127.0.0.1:$HAPROXY_PORT
  export HAPROXY_PORT HAPROXY_PID HAPROXY_URL HAPROXY_STATS
}

# haproxy_state BACKEND/SERVER: the server's status as HAProxy's admin
# socket shows it (UP, DOWN, "UP 1/2", ...).
haproxy_state() {
  printf 'show stat\n' | python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.stdin.buffer.read())
print(s.makefile().read())' "$HAPROXY_STATS" |
    awk -F, -v b="${1%/*}" -v s="${1#*/}" '$1 == b && $2 == s { print $18 }'
}

# ---------------------------------------------------------------- Varnish

# varnish_start VCL: varnishd (its child as vcache) on VARNISH_PORT with
# VCL as shipped, its working directory VARNISH_DIR; the backend's port
# 8080 becomes EX_BACKEND_PORT (default nginx's).  VARNISH_URL is its base.
varnish_start() {
  VARNISH_PORT=$(free_port)
  VARNISH_DIR=$T/varnish
  example_in "$1" "$T/varnish.vcl" "$VARNISH_PORT" \
    "s#\\.port = \"8080\";#.port = \"${EX_BACKEND_PORT:-$NGINX_PORT}\";#"
  _start_listener varnish "$VARNISH_PORT" varnishd -F -n "$VARNISH_DIR" -a "127.0.0.1:$VARNISH_PORT" \
    -T 127.0.0.1:0 -f "$T/varnish.vcl" -s malloc,32m
  VARNISH_PID=$SPAWNED_PID
  VARNISH_URL=http://127.0.0.1:$VARNISH_PORT
  export VARNISH_PORT VARNISH_PID VARNISH_URL VARNISH_DIR
}

# varnish_health BACKEND: healthy or sick, as varnishadm backend.list says.
varnish_health() {
  varnishadm -n "$VARNISH_DIR" backend.list 2>/dev/null | awk -v b="$1" '$1 ~ "\\." b "$" { print $4 }'
}

# ---------------------------------------------------------------- monit

# monit_start SNIPPET [SED_EXPRESSION...]: monit (root, checking every
# second) with SNIPPET as shipped included, from an empty environment;
# MONIT_RC is its control file for monit_status.
monit_start() {
  local d=$T/monit snippet=$1
  shift
  mkdir -p "$d"
  example_in "$snippet" "$d/portus-health" "${NGINX_PORT:-8080}" "$@"
  MONIT_RC=$d/monitrc
  cat >"$MONIT_RC" <<RC
set daemon 1
set logfile $d/monit.log
set pidfile $d/monit.pid
set idfile $d/monit.id
set statefile $d/monit.state
set httpd unixsocket $d/monit.sock
    allow localhost
include $d/portus-health
RC
  chmod 600 "$MONIT_RC" "$d/portus-health"
  monit -t -c "$MONIT_RC" >"$T/monit-check.log" 2>&1 || die_log monit-check "monit rejects the configuration"
  spawn monit env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin monit -I -c "$MONIT_RC"
  MONIT_PID=$SPAWNED_PID
  export MONIT_RC MONIT_PID
  _poll 15 "$MONIT_PID" test -S "$d/monit.sock" || die_log monit "monit did not come up"
}

# monit_status SERVICE: the service's status as `monit summary` shows it
# (OK, Status failed, Connection failed, Initializing, ...).
monit_status() {
  monit -c "$MONIT_RC" summary 2>/dev/null |
    awk -v s="$1" '$1 == s { line = $0; sub("^ *" s " +", "", line); sub(/  +.*$/, "", line); print line }'
}

# monit_detail SERVICE FIELD: one line of `monit status SERVICE`, e.g.
# "last exit value".
monit_detail() {
  monit -c "$MONIT_RC" status "$1" 2>/dev/null |
    awk -v f="$2" 'index($0, "  " f " ") { line = $0; sub("^ *" f " +", "", line); print line }'
}

# ---------------------------------------------------------------- blackbox exporter

# blackbox_start CONFIG: Prometheus's blackbox exporter (as prometheus) on
# BLACKBOX_PORT with CONFIG as shipped.
blackbox_start() {
  BLACKBOX_PORT=$(free_port)
  cp "$1" "$T/blackbox.yml"
  chmod 644 "$T/blackbox.yml"
  _start_listener blackbox "$BLACKBOX_PORT" setpriv --reuid=prometheus --regid=prometheus --init-groups \
    prometheus-blackbox-exporter --config.file="$T/blackbox.yml" --web.listen-address="127.0.0.1:$BLACKBOX_PORT"
  BLACKBOX_PID=$SPAWNED_PID
  export BLACKBOX_PORT BLACKBOX_PID
}

# blackbox_probe MODULE TARGET: the exporter's metrics for one probe.
blackbox_probe() {
  curl -s --max-time 30 -G "http://127.0.0.1:$BLACKBOX_PORT/probe" \
    --data-urlencode "module=$1" --data-urlencode "target=$2"
}

# prometheus_start SCRAPE_CONFIGS: Prometheus (as prometheus) on PROM_PORT,
# scraping every second with the scrape_configs of the file given.
prometheus_start() {
  local d=$T/prometheus
  PROM_PORT=$(free_port)
  mkdir -p "$d/data"
  chown prometheus "$d/data"
  { echo "global: { scrape_interval: 1s, evaluation_interval: 1s }"; cat "$1"; } >"$d/prometheus.yml"
  _start_listener prometheus "$PROM_PORT" setpriv --reuid=prometheus --regid=prometheus --init-groups \
    prometheus --config.file="$d/prometheus.yml" --storage.tsdb.path="$d/data" \
    --web.listen-address="127.0.0.1:$PROM_PORT"
  PROM_PID=$SPAWNED_PID
  export PROM_PORT PROM_PID
}

# prom_value QUERY: the value of the query's first series (empty if none).
prom_value() {
  curl -s --max-time 10 -G "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$1" |
    jq -r '.data.result[0].value[1] // empty' 2>/dev/null || true
}

# ---------------------------------------------------------------- Zabbix agent

# zabbix_item CONF KEY: what `zabbix_agentd -t KEY` prints (the agent
# drops to its user, zabbix) with CONF included as shipped, its web
# server's port 8080 made nginx's.
zabbix_item() {
  local d=$T/zabbix
  mkdir -p "$d"
  example_in "$1" "$d/items.conf" "${NGINX_PORT:-8080}" "s#,8080\\([],]\\)#,${NGINX_PORT:-8080}\\1#g"
  printf 'LogType=console\nPidFile=%s\nServer=127.0.0.1\nInclude=%s\n' "$d/agentd.pid" "$d/items.conf" >"$d/agentd.conf"
  timeout 60 zabbix_agentd -c "$d/agentd.conf" -t "$2" 2>&1
}
