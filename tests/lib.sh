# shellcheck shell=bash
# Integration-test library for portus-health. Source it from a test script:
#   . "$(dirname "$0")/lib.sh"
#
# It gives each script a private temp dir $T, starts throw-away services on
# free ports of 127.0.0.1 (PostgreSQL, docker-registry, a Clair stand-in, fake
# HTTP peers) and stops every one of them, by pid, when the script exits.
# Nothing global on the machine is touched. Works under `set -euo pipefail`.
# Do not call spawn or the *_start functions inside $(...): the pids they
# record would be lost with the subshell. Do not replace the EXIT trap either:
# register extra cleanup with at_exit.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
T=$(mktemp -d /tmp/ph-test.XXXXXX)
chmod 755 "$T" # the postgres and www-data users must be able to traverse it
export ROOT T

# The responder under test; overridable, e.g. to drive a stand-in.
RESPONDER=${RESPONDER:-$ROOT/cgi-bin/portus-health}
REQ_TIMEOUT=${REQ_TIMEOUT:-30} # seconds one cgi_req/fcgi_req may take
PG_BIN=/usr/lib/postgresql/15/bin

PIDS=()    # processes that cleanup kills
AT_EXIT=() # commands registered with at_exit
T_PASSED=0
T_FAILED=0
_LIB_PID=$BASHPID

# ---------------------------------------------------------------- cleanup

# at_exit CMD: run CMD (with eval) on exit, before the processes are killed.
at_exit() { AT_EXIT+=("$1"); }

cleanup() {
  local rc=$? cmd
  # A child forked by `&` inherits this trap and can run it if a signal hits
  # it before it execs; only the shell that sourced the library cleans up.
  [[ $BASHPID == "$_LIB_PID" ]] || return 0
  trap - EXIT
  set +e
  for cmd in "${AT_EXIT[@]}"; do eval "$cmd"; done
  # pg_ctl daemonizes the postmaster; stop it the way PostgreSQL wants to be
  # stopped, the pid kill below being the fallback.
  if [[ -n ${PG_DATA:-} && -f $PG_DATA/postmaster.pid ]]; then
    _as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w stop >/dev/null 2>&1
  fi
  if ((${#PIDS[@]})); then _kill_pids 3 "${PIDS[@]}"; fi
  if [[ ${KEEP_TMP:-0} == 1 ]]; then
    echo "lib.sh: keeping $T" >&2
  else
    rm -rf "$T"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

die() {
  echo "lib.sh: $*" >&2
  exit 1
}

# die_log NAME MESSAGE: die, showing the end of "$T/NAME.log".
die_log() {
  echo "lib.sh: $2; last lines of $T/$1.log:" >&2
  tail -n 20 "$T/$1.log" >&2 2>/dev/null
  exit 1
}

# ---------------------------------------------------------------- processes

# pid_alive PID: true while PID runs (a zombie counts as gone).
pid_alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) } # the command name, in parentheses, may hold spaces
  [[ ${stat%% *} != Z ]]
}

# _kill_pids SECONDS PID...: TERM, wait up to SECONDS for them to go, then KILL.
_kill_pids() {
  local secs=$1 pid i alive
  shift
  kill -TERM "$@" 2>/dev/null || true
  for ((i = 0; i < secs * 10; i++)); do
    alive=0
    for pid; do if pid_alive "$pid"; then alive=1; fi; done
    ((alive)) || break
    sleep 0.1
  done
  for pid; do
    if pid_alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
    # Reap our own children (also silences bash's "Terminated" notice);
    # for a pid that is not our child, wait just fails.
    wait "$pid" 2>/dev/null || true
  done
}

_forget_pid() {
  local pid keep=()
  for pid in "${PIDS[@]}"; do
    if [[ $pid != "$1" ]]; then keep+=("$pid"); fi
  done
  PIDS=("${keep[@]}")
}

# spawn NAME CMD...: run CMD in the background, output to "$T/NAME.log";
# its pid is recorded for cleanup and left in SPAWNED_PID.
spawn() {
  local name=$1
  shift
  # A session of its own: a server that signals its process group on the
  # way out (Apache's mod_fcgid does) must not hit this script.  Not a
  # group leader, setsid execs in place, so $! is the server's pid.
  setsid "$@" >"$T/$name.log" 2>&1 </dev/null &
  SPAWNED_PID=$!
  PIDS+=("$SPAWNED_PID")
}

# stop_pid PID: TERM, wait up to 5 s, then KILL; cleanup forgets it.
stop_pid() {
  # kill 0 or a negative pid would signal a whole process group.
  [[ $1 =~ ^[1-9][0-9]*$ ]] || die "stop_pid: not a pid: '$1'"
  _kill_pids 5 "$1"
  _forget_pid "$1"
}

# ---------------------------------------------------------------- ports

# free_port: print a TCP port of 127.0.0.1 that is free now. Ports handed out
# are listed in a file rather than a variable because callers use $(free_port).
free_port() {
  local port
  while :; do
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    if ! grep -qx "$port" "$T/.ports" 2>/dev/null; then break; fi
  done
  echo "$port" >>"$T/.ports"
  echo "$port"
}

# _poll SECONDS PID CMD...: run CMD every 0.1 s until it succeeds; fail after
# SECONDS, or as soon as PID (unless empty) has died.
_poll() {
  local deadline=$((SECONDS + $1)) pid=$2
  shift 2
  until "$@"; do
    if [[ -n $pid ]] && ! pid_alive "$pid"; then return 1; fi
    if ((SECONDS >= deadline)); then return 1; fi
    sleep 0.1
  done
}

# _listening PORT: true if an IPv4 TCP socket listens on PORT (read from
# /proc, so checking does not open a connection to the service).
_listening() {
  local hex
  printf -v hex ':%04X' "$1"
  awk -v p="$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }' \
    /proc/net/tcp
}

_http_answers() {
  [[ $(curl -ks -o /dev/null --max-time 2 -w '%{http_code}' "$1") != 000 ]]
}

# wait_port PORT [SECONDS]: wait until something listens on 127.0.0.1:PORT.
wait_port() {
  _poll "${2:-15}" "" _listening "$1" && return
  echo "lib.sh: nothing listens on 127.0.0.1:$1 after ${2:-15} s" >&2
  return 1
}

# wait_http URL [SECONDS]: wait until URL gives any HTTP answer.
wait_http() {
  _poll "${2:-15}" "" _http_answers "$1" && return
  echo "lib.sh: no HTTP answer from $1 after ${2:-15} s" >&2
  return 1
}

# _start_listener NAME PORT CMD...: spawn CMD and wait until it listens on PORT.
_start_listener() {
  local name=$1 port=$2
  shift 2
  spawn "$name" "$@"
  _poll 15 "$SPAWNED_PID" _listening "$port" || die_log "$name" "$name did not come up on port $port"
}

# ---------------------------------------------------------------- PostgreSQL

_as_pg() { (cd "$T" && runuser -u postgres -- "$@"); }

# _psql USER DB SQL: run SQL over the unix socket (trust), print the result.
_psql() {
  _as_pg "$PG_BIN/psql" -X -q -t -A -v ON_ERROR_STOP=1 \
    -h "$PG_SOCKDIR" -p "$PG_PORT" -U "$1" -d "$2" -c "$3"
}

pg_sql_db() { _psql postgres "$1" "$2"; }
pg_sql() { _psql postgres portus_test "$1"; }

_pg_record_pid() {
  PG_PID=$(head -n 1 "$PG_DATA/postmaster.pid")
  PIDS+=("$PG_PID")
  export PG_PID
}

# pg_start: a fresh cluster on a free port with role portus (password
# $PG_PASSWORD) owning database portus_test, which holds a Portus-like schema.
pg_start() {
  PG_PORT=$(free_port)
  export PG_PORT PG_SOCKDIR=$T/pgsock PG_DATA=$T/pg
  export PG_PASSWORD=${PG_PASSWORD:-portus-Secr3t-pw}
  install -d -o postgres -g postgres -m 700 "$PG_DATA"
  install -d -o postgres -g postgres -m 755 "$PG_SOCKDIR"
  install -o postgres -g postgres -m 644 /dev/null "$T/pg.log"
  _as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -A trust --auth-host=scram-sha-256 \
    -E UTF8 --locale=C --no-sync >"$T/initdb.log" 2>&1 || die_log initdb "initdb failed"
  cat >>"$PG_DATA/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCKDIR'
fsync = off
EOF
  cat >"$PG_DATA/pg_hba.conf" <<EOF
local all all trust
host all all 127.0.0.1/32 scram-sha-256
EOF
  pg_start_again
  pg_sql_db postgres "CREATE ROLE portus LOGIN PASSWORD '$PG_PASSWORD'"
  pg_sql_db postgres "CREATE DATABASE portus_test OWNER portus"
  _psql portus portus_test "
    CREATE TABLE schema_migrations (version character varying NOT NULL PRIMARY KEY);
    INSERT INTO schema_migrations VALUES ('20150101000000'), ('20160101000000'), ('20170101000000');
    CREATE TABLE registries (
      id serial PRIMARY KEY,
      name character varying NOT NULL,
      hostname character varying NOT NULL,
      use_ssl boolean NOT NULL DEFAULT false,
      created_at timestamp,
      updated_at timestamp,
      external_hostname character varying
    );"
}

# pg_start_again: start the cluster made by pg_start (after pg_stop).
pg_start_again() {
  _as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$T/pg.log" -w -t 30 start >/dev/null ||
    die_log pg "PostgreSQL did not start"
  _pg_record_pid
}

# pg_clone_db NAME: a copy of portus_test called NAME, owned by portus.
pg_clone_db() { pg_sql_db postgres "CREATE DATABASE $1 TEMPLATE portus_test OWNER portus" >/dev/null; }

pg_stop() {
  _as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 30 stop >/dev/null ||
    die_log pg "PostgreSQL did not stop"
  _forget_pid "$PG_PID"
}

# pg_exports: export the database settings the responder reads.
pg_exports() {
  export PORTUS_DB_ADAPTER=postgresql PORTUS_DB_HOST=127.0.0.1 PORTUS_DB_PORT=$PG_PORT \
    PORTUS_DB_USERNAME=portus PORTUS_DB_PASSWORD=$PG_PASSWORD PORTUS_DB_DATABASE=portus_test
}

# ---------------------------------------------------------------- registry

# A self-signed certificate, valid for 127.0.0.1 and localhost; it doubles as
# the token-auth root bundle, which the registry insists on loading.
_make_cert() {
  [[ -f $T/registry.crt ]] && return
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=portus-test \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$T/registry.key" -out "$T/registry.crt" >/dev/null 2>&1 ||
    die "openssl could not make a certificate"
}

# _registry_config PORT DATADIR [TLS]: print a docker-registry config.
# Token auth makes GET /v2/ answer 401 as Portus's registries do; the access
# log (stdout) records each request.
_registry_config() {
  cat <<EOF
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $2
http:
  addr: 127.0.0.1:$1
  secret: portus-health-test
EOF
  if [[ -n ${3:-} ]]; then
    cat <<EOF
  tls:
    certificate: $T/registry.crt
    key: $T/registry.key
EOF
  fi
  cat <<EOF
auth:
  token:
    realm: http://127.0.0.1:1/auth
    service: registry.test
    issuer: portus.test
    rootcertbundle: $T/registry.crt
EOF
}

# _registry_launch NAME URL CURL_OPTS...: start "$T/NAME.yml", wait for a 401
# from URL carrying the Docker-Distribution-Api-Version header.
_registry_launch() {
  local name=$1 url=$2 headers
  shift 2
  spawn "$name" docker-registry serve "$T/$name.yml"
  _poll 15 "$SPAWNED_PID" _answers_401 "$url" "$@" ||
    die_log "$name" "registry gives no 401 at $url"
  headers=$(curl -s -D - -o /dev/null --max-time 5 "$@" "$url") || true
  [[ ${headers,,} == *docker-distribution-api-version:* ]] ||
    die_log "$name" "registry's 401 at $url lacks the Docker-Distribution-Api-Version header"
}

_answers_401() {
  [[ $(curl -s -o /dev/null --max-time 2 -w '%{http_code}' "${@:2}" "$1") == 401 ]]
}

# registry_start: plain-HTTP registry on REG_PORT.
# registry_start [again]: "again" starts it on the port it had (after registry_stop).
registry_start() {
  _make_cert
  if [[ ${1:-} != again ]]; then REG_PORT=$(free_port); fi
  _registry_config "$REG_PORT" "$T/registry-data" >"$T/registry.yml"
  _registry_launch registry "http://127.0.0.1:$REG_PORT/v2/"
  REG_PID=$SPAWNED_PID
  export REG_PORT REG_PID
}

registry_stop() { stop_pid "$REG_PID"; }

# registry_start_tls: registry over TLS on REG_TLS_PORT; REG_CA verifies it.
registry_start_tls() {
  _make_cert
  REG_TLS_PORT=$(free_port)
  REG_CA=$T/registry.crt
  _registry_config "$REG_TLS_PORT" "$T/registry-tls-data" tls >"$T/registry-tls.yml"
  _registry_launch registry-tls "https://127.0.0.1:$REG_TLS_PORT/v2/" --cacert "$REG_CA"
  REG_TLS_PID=$SPAWNED_PID
  export REG_TLS_PORT REG_TLS_PID REG_CA
}

registry_stop_tls() { stop_pid "$REG_TLS_PID"; }

# registry_hits [tls]: how many GET /v2/ the (TLS) registry has logged,
# including the probes made by registry_start*.
registry_hits() {
  grep -c '"GET /v2/ HTTP/' "$T/registry${1:+-$1}.log" || true
}

# ---------------------------------------------------------------- Clair and fake peers

clair_start() {
  CLAIR_PORT=$(free_port)
  clair_mode ok
  _start_listener clair "$CLAIR_PORT" \
    python3 "$ROOT/tests/clair-standin.py" "$CLAIR_PORT" "$T/clair.mode" "$T/clair.count"
  CLAIR_PID=$SPAWNED_PID
  export CLAIR_PORT CLAIR_PID
}

# clair_mode ok|fail|hang (replaced atomically: the stand-in reads it per request)
clair_mode() {
  case $1 in ok | fail | hang) ;; *) die "clair_mode: unknown mode '$1'" ;; esac
  echo "$1" >"$T/clair.mode.tmp"
  mv "$T/clair.mode.tmp" "$T/clair.mode"
}

clair_hits() { cat "$T/clair.count" 2>/dev/null || echo 0; }
# clair_conns: how many TCP connections the stand-in has accepted.
clair_conns() { cat "$T/clair.count.conns" 2>/dev/null || echo 0; }

clair_stop() { stop_pid "$CLAIR_PID"; }

# hang_start: a TCP peer on HANG_PORT that accepts and never answers.
hang_start() {
  HANG_PORT=$(free_port)
  _start_listener "hang-$HANG_PORT" "$HANG_PORT" python3 "$ROOT/tests/fake-http.py" --hang "$HANG_PORT"
  HANG_PID=$SPAWNED_PID
  export HANG_PORT HANG_PID
}

# banner_start TEXT: a TCP peer on BANNER_PORT that greets with TEXT, as SMTP
# or FTP servers do, and says nothing more.
banner_start() {
  BANNER_PORT=$(free_port)
  _start_listener "banner-$BANNER_PORT" "$BANNER_PORT" python3 "$ROOT/tests/fake-http.py" --banner "$BANNER_PORT" "$1"
  BANNER_PID=$SPAWNED_PID
  export BANNER_PORT BANNER_PID
}

# fakehttp_start STATUS [HEADERLINE]: HTTP server on FAKE_PORT answering every
# GET with STATUS (and HEADERLINE, e.g. "Docker-Distribution-Api-Version: registry/2.0").
fakehttp_start() {
  FAKE_PORT=$(free_port)
  _start_listener "fakehttp-$FAKE_PORT" "$FAKE_PORT" python3 "$ROOT/tests/fake-http.py" "$FAKE_PORT" "$@"
  FAKE_PID=$SPAWNED_PID
  export FAKE_PORT FAKE_PID
}

# deps_start [clair]: what most tests share: PostgreSQL (its PORTUS_DB_*
# exported), the registry named by PORTUS_REGISTRY_HOSTNAME, no local
# configuration file; with "clair", the Clair stand-in as
# security.clair.server.
deps_start() {
  pg_start
  pg_exports
  registry_start
  export PORTUS_REGISTRY_HOSTNAME=127.0.0.1:$REG_PORT
  export PORTUS_LOCAL_CONFIG_PATH=$T/absent.yml
  if [[ ${1:-} == clair ]]; then
    clair_start
    export PORTUS_SECURITY_CLAIR_SERVER=http://127.0.0.1:$CLAIR_PORT PORTUS_SECURITY_CLAIR_HEALTH_PORT=$CLAIR_PORT
  fi
}

# ---------------------------------------------------------------- test runner

# _clip TEXT: TEXT on one line, at most 300 characters, for failure messages.
_clip() {
  local s=${1//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  ((${#s} <= 300)) || s="${s:0:300}..."
  printf '%s' "$s"
}

# The assertions always return 0, so a failure is counted, not fatal under set -e.
t_pass() {
  T_PASSED=$((T_PASSED + 1))
  echo "ok - $1"
}

t_fail() {
  T_FAILED=$((T_FAILED + 1))
  echo "not ok - $1: $2"
}

t_eq() { # NAME EXPECTED ACTUAL
  if [[ $3 == "$2" ]]; then t_pass "$1"; else t_fail "$1" "expected '$(_clip "$2")', got '$(_clip "$3")'"; fi
}

t_match() { # NAME REGEX ACTUAL (bash ERE)
  if [[ $3 =~ $2 ]]; then t_pass "$1"; else t_fail "$1" "'$(_clip "$3")' does not match /$2/"; fi
}

t_nomatch() { # NAME REGEX ACTUAL
  if [[ $3 =~ $2 ]]; then t_fail "$1" "'$(_clip "$3")' matches /$2/"; else t_pass "$1"; fi
}

t_done() {
  echo "$T_PASSED passed, $T_FAILED failed"
  ((T_FAILED == 0)) || exit 1
  exit 0
}

# ---------------------------------------------------------------- CGI / FastCGI drivers
# A request sets RESP_STATUS (from "Status:", 200 when absent; empty when the
# output holds no complete header block), RESP_HEADERS (one header a line, CR
# removed), RESP_BODY (as sent), RESP_RC (exit status; 124 = took longer than
# REQ_TIMEOUT) and RESP_STDERR.

# _request_env METHOD PATH_INFO REQUEST_URI [settings]: fill _REQ_ENV with the request's
# CGI variables, plus (with "settings") every exported PORTUS_* and PG* variable.
_request_env() {
  local name query=
  _REQ_ENV=()
  if [[ ${4:-} == settings ]]; then
    while IFS= read -r name; do
      if [[ $name == PORTUS_* || $name == PG* ]]; then _REQ_ENV+=("$name=${!name}"); fi
    done < <(compgen -e)
  fi
  if [[ $3 == *\?* ]]; then query=${3#*\?}; fi
  _REQ_ENV+=("REQUEST_METHOD=$1" "PATH_INFO=$2" "REQUEST_URI=$3" "QUERY_STRING=$query"
    GATEWAY_INTERFACE=CGI/1.1 SERVER_PROTOCOL=HTTP/1.1 REMOTE_ADDR=127.0.0.1)
}

# _run_request CMD...: run CMD under env -i with _REQ_ENV, then split its output.
# shellcheck disable=SC2034 # the RESP_* globals are for the test scripts
_run_request() {
  RESP_RC=0
  timeout "$REQ_TIMEOUT" env -i "${_REQ_ENV[@]}" "$@" </dev/null >"$T/resp.out" 2>"$T/resp.err" ||
    RESP_RC=$?
  RESP_STDERR=$(<"$T/resp.err")
  _parse_response "$T/resp.out"
}

# _parse_response FILE: split a CGI answer into the RESP_* globals.
# shellcheck disable=SC2034
_parse_response() {
  local raw rest line status
  raw=$(cat "$1" && echo x) # the x keeps the body's trailing newlines
  raw=${raw%x}
  rest=$raw
  RESP_HEADERS=
  while [[ $rest == *$'\n'* ]]; do
    line=${rest%%$'\n'*}
    rest=${rest#*$'\n'}
    line=${line%$'\r'}
    if [[ -z $line ]]; then # end of the header block
      RESP_HEADERS=${RESP_HEADERS%$'\n'}
      RESP_BODY=$rest
      if status=$(resp_header Status); then RESP_STATUS=${status%% *}; else RESP_STATUS=200; fi
      return 0
    fi
    RESP_HEADERS+=$line$'\n'
  done
  # Not a CGI response: keep all of it in the body for the failure message.
  RESP_HEADERS=
  RESP_BODY=$raw
  RESP_STATUS=
}

# cgi_req METHOD PATH_INFO [REQUEST_URI]: run the responder once as a CGI program,
# with the caller's PORTUS_* and PG* variables in its environment.
# Under VALGRIND=1 (make valgrind) each CGI run is a memcheck run; tests/run
# reads the reports from $VALGRIND_DIR.
cgi_req() {
  _request_env "$1" "$2" "${3:-$2}" settings
  _run_cgi
}

# _run_cgi: run the responder as CGI with _REQ_ENV (under memcheck when
# VALGRIND=1).
_run_cgi() {
  if [[ ${VALGRIND:-} == 1 ]]; then
    _run_request valgrind --error-exitcode=99 --leak-check=full \
      --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible \
      --log-file="$VALGRIND_DIR/vg.%p" "$RESPONDER"
    return
  fi
  _run_request "$RESPONDER"
}

# fcgi_start: run the responder under spawn-fcgi (with the caller's
# environment) on the unix socket FCGI_SOCK; its stderr goes to "$T/fcgi.log".
fcgi_start() {
  FCGI_SOCK=$T/fcgi.sock
  # A socket file left by an earlier responder would pass the wait below
  # before the new one listens.
  rm -f "$FCGI_SOCK"
  # Mode 0666: the web servers' workers (www-data) connect to it too.
  spawn fcgi spawn-fcgi -n -M 0666 -s "$FCGI_SOCK" -- "$RESPONDER"
  FCGI_PID=$SPAWNED_PID
  export FCGI_SOCK FCGI_PID
  _poll 15 "$FCGI_PID" test -S "$FCGI_SOCK" || die_log fcgi "no FastCGI socket at $FCGI_SOCK"
}

# fcgi_req METHOD PATH_INFO [REQUEST_URI]: one request to the running responder.
# Like a web server, it passes no PORTUS_* parameters, unless FCGI_PARAMS
# names some (NAME=VALUE, space-separated): per-request settings.
fcgi_req() {
  _request_env "$1" "$2" "${3:-$2}"
  if [[ -n ${FCGI_PARAMS:-} ]]; then
    local -a extra
    read -r -a extra <<<"$FCGI_PARAMS"
    _REQ_ENV+=("${extra[@]}")
  fi
  _run_request "$(command -v cgi-fcgi)" -bind -connect "$FCGI_SOCK"
}

# resp_header NAME: print the value of header NAME (any case) of the last
# response; fails if it has none.
resp_header() {
  local line name value
  while IFS= read -r line; do
    name=${line%%:*}
    if [[ $line == *:* && ${name,,} == "${1,,}" ]]; then
      value=${line#*:}
      value=${value#"${value%%[![:space:]]*}"} # trim leading blanks
      printf '%s\n' "${value%"${value##*[![:space:]]}"}" # and trailing ones
      return 0
    fi
  done <<<"$RESP_HEADERS"
  return 1
}

# json_get [JQ_OPTION...] FILTER: jq -r on the last response's body.
json_get() { printf '%s' "$RESP_BODY" | jq -r "$@"; }

# ---------------------------------------------------------------- nginx

# nginx_start SITE_CONF: run nginx (master as root, workers as www-data) on a
# free port NGINX_PORT with the server block SITE_CONF, as shipped: only its
# listen address, the FastCGI socket path and the examples' registry
# 127.0.0.1:5000 are replaced (by NGINX_PORT, FCGI_SOCK and REG_PORT).
# Logs go to "$T/nginx/"; NGINX_URL is its base URL.
nginx_start() {
  local d=$T/nginx
  NGINX_PORT=$(free_port)
  mkdir -p "$d/tmp"
  chown www-data "$d/tmp"
  cp /etc/nginx/fastcgi_params "$d/"
  sed -e "s#127\.0\.0\.1:8080#127.0.0.1:$NGINX_PORT#" -e "s#\[::1\]:8080#[::1]:$NGINX_PORT#" \
    -e "s#unix:/run/portus-health/portus-health\.sock#unix:$FCGI_SOCK#" \
    -e "s#127\.0\.0\.1:5000#127.0.0.1:${REG_PORT:-5000}#g" "$1" >"$d/site.conf"
  cat >"$d/nginx.conf" <<CONF
user www-data;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log info;
events { worker_connections 1024; }
http {
  access_log $d/access.log;
  client_body_temp_path $d/tmp/body;
  proxy_temp_path $d/tmp/proxy;
  fastcgi_temp_path $d/tmp/fastcgi;
  uwsgi_temp_path $d/tmp/uwsgi;
  scgi_temp_path $d/tmp/scgi;
  include $d/site.conf;
}
CONF
  _start_listener nginx "$NGINX_PORT" nginx -p "$d" -c "$d/nginx.conf" -g 'daemon off;'
  NGINX_PID=$SPAWNED_PID
  NGINX_URL=http://127.0.0.1:$NGINX_PORT
  export NGINX_PORT NGINX_PID NGINX_URL
}

# http_req METHOD URL [CURL_OPTION...]: one request with curl; fills
# RESP_STATUS, RESP_HEADERS (CR removed) and RESP_BODY like the drivers above.
http_req() {
  local m=$1 url=$2
  shift 2
  RESP_RC=0
  if [[ $m == HEAD ]]; then
    curl -s -m "$REQ_TIMEOUT" -I -D "$T/http.head" -o /dev/null "$@" "$url" || RESP_RC=$?
    : >"$T/http.body"
  else
    curl -s -m "$REQ_TIMEOUT" -X "$m" -D "$T/http.head" -o "$T/http.body" "$@" "$url" || RESP_RC=$?
  fi
  RESP_STATUS=$(head -1 "$T/http.head" | awk '{print $2}')
  RESP_HEADERS=$(tail -n +2 "$T/http.head" | tr -d '\r')
  RESP_BODY=$(cat "$T/http.body")
}

# ---------------------------------------------------------------- Apache

# apache_start NAME SITE_CONF MODULE...: run Apache (prefork, workers as
# www-data) on a free port APACHE_PORT with SITE_CONF as shipped but for
# paths and ports: 127.0.0.1:8080 becomes APACHE_PORT, the FastCGI socket
# FCGI_SOCK, /usr/local/lib/portus-health the directory of the binary under
# test, and
# 127.0.0.1:5000 (the registry of the examples) REG_PORT, the database port
# PG_PORT, /srv/Portus/config/ the directory "$T/NAME/".  MODULEs are
# loaded besides the core set.  Logs go to "$T/NAME/"; APACHE_URL is its
# base URL.  DocumentRoot is "$T/NAME/www".
apache_start() {
  local name=$1 site=$2 d=$T/$1 m mods=
  shift 2
  APACHE_PORT=$(free_port)
  mkdir -p "$d/run" "$d/www" "$d/fcgid"
  chown www-data "$d/run" "$d/fcgid"
  # The binary where www-data can surely read it.
  mkdir -p "$d/lib"
  install -m 0755 "$RESPONDER" "$d/lib/portus-health"
  for m in mpm_prefork authz_core authn_core alias mime dir env setenvif "$@"; do
    mods+="LoadModule ${m}_module /usr/lib/apache2/modules/mod_$m.so"$'\n'
  done
  sed -e "s#127\\.0\\.0\\.1:8080#127.0.0.1:$APACHE_PORT#g" \
    -e "s#/run/portus-health/portus-health\\.sock#${FCGI_SOCK:-/nonexistent}#g" \
    -e "s#/usr/local/lib/portus-health#$d/lib#g" \
    -e "s#127\\.0\\.0\\.1:5000#127.0.0.1:${REG_PORT:-5000}#g" \
    -e "s#PORTUS_DB_PORT 5432#PORTUS_DB_PORT ${PG_PORT:-5432}#" \
    -e "s#/srv/Portus/config/#$d/#" "$site" >"$d/site.conf"
  cat >"$d/httpd.conf" <<CONF
$mods
ServerRoot $d
ServerName 127.0.0.1
Listen 127.0.0.1:$APACHE_PORT
User www-data
Group www-data
PidFile $d/run/httpd.pid
DefaultRuntimeDir $d/run
Mutex file:$d/run default
ErrorLog $d/error.log
LogLevel warn
TypesConfig /etc/mime.types
DocumentRoot $d/www
<Directory />
  AllowOverride None
  Require all denied
</Directory>
<Directory $d/www>
  Require all granted
</Directory>
<FilesMatch "^\\.ht">
  Require all denied
</FilesMatch>
<IfModule fcgid_module>
  FcgidIPCDir $d/fcgid
  FcgidProcessTableFile $d/run/fcgid_shm
</IfModule>
<IfModule cgid_module>
  ScriptSock $d/run/cgid.sock
</IfModule>
Include $d/site.conf
CONF
  _start_listener "$name" "$APACHE_PORT" apache2 -f "$d/httpd.conf" -DFOREGROUND
  APACHE_PID=$SPAWNED_PID
  APACHE_URL=http://127.0.0.1:$APACHE_PORT
  export APACHE_PORT APACHE_PID APACHE_URL
}
