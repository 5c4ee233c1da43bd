# shellcheck shell=bash
# shellcheck source-path=SCRIPTDIR
# Integration-test library for portus-health. Source it from a test script:
#   . "$(dirname "$0")/lib.sh"
#
# It gives each script a private temp dir $T, starts throw-away services on
# free ports of 127.0.0.1 and stops every one of them, by pid, when the
# script exits. Nothing global on the machine is touched. Works under
# `set -euo pipefail`.
#
# This file is the core: the temp dir and cleanup, processes, ports and
# polling, the calibration that timing bounds are derived from, the
# assertions, and the CGI and FastCGI request drivers. The servers have a
# file each, which this one sources at its end, so a test script sources
# lib.sh alone:
#   lib-pg.sh        PostgreSQL
#   lib-registry.sh  docker-registry, the Clair stand-in, fake peers
#   lib-web.sh       nginx, Apache, and http_req through them
# lib-slapd.sh (slapd) is sourced by the scripts that use it, after lib.sh.
#
# Do not call spawn or the *_start functions inside $(...): the pids they
# record would be lost with the subshell. Do not replace the EXIT trap either:
# register extra cleanup with at_exit.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
T=$(mktemp -d /tmp/ph-test.XXXXXX)
chmod 755 "$T" # the postgres and www-data users must be able to traverse it
export ROOT T
# The processes of a test share their results in a directory of its own,
# never with another test's or the machine's.
export PORTUS_HEALTH_CACHE_DIR=$T/cache

# The responder under test; overridable, e.g. to drive a stand-in.
RESPONDER=${RESPONDER:-$ROOT/cgi-bin/portus-health}
REQ_TIMEOUT=${REQ_TIMEOUT:-30} # seconds one cgi_req/fcgi_req may take
# Where memcheck writes a report per CGI run under VALGRIND=1 (tests/run sets it).
VALGRIND_DIR=${VALGRIND_DIR:-/tmp/portus-health-vg}

PIDS=()    # processes that cleanup kills
AT_EXIT=() # commands registered with at_exit
T_PASSED=0
T_FAILED=0
CALIB_MS='' TOOL_FACTOR='' SLACK_MS='' CALIB_RUNS='' # set by calibrate
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

# ---------------------------------------------------------------- certificate

# A self-signed certificate, valid for 127.0.0.1 and localhost, for the TLS
# servers (registry, slapd); it doubles as the registry's token-auth root
# bundle, which it insists on loading.
_make_cert() {
  [[ -f $T/registry.crt ]] && return
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=portus-test \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$T/registry.key" -out "$T/registry.crt" >/dev/null 2>&1 ||
    die "openssl could not make a certificate"
}

# ---------------------------------------------------------------- time

# now_ms: milliseconds since the epoch (bash's clock: no process started).
now_ms() {
  local us=${EPOCHREALTIME/[.,]/}
  echo $((us / 1000))
}

# ms_since START: milliseconds since START (a now_ms value).
ms_since() { echo $(($(now_ms) - $1)); }

# Timing bounds are derived from this machine at this moment, never fixed: a
# duration the test measured is held to its nominal value plus SLACK_MS,
#   SLACK_MS = 250 ms x TOOL_FACTOR + 3 x CALIB_MS
# where CALIB_MS is the median of 5 CGI runs of /_ping through the tests' own
# driver (under memcheck when VALGRIND=1, the sanitizer build's under
# SANITIZE=1): what starting, answering and exiting costs right now, which
# every measured request pays besides its nominal time. Three times, as the
# load may grow between the calibration and the measure. TOOL_FACTOR (1; 2
# under SANITIZE=1; 4 under VALGRIND=1) stretches the fixed part: work inside
# a run slows down more under those tools than a bare start does.

# calibrate: measure once per script (the result is kept in $T, so a call in
# a subshell does not measure again) and set CALIB_MS, TOOL_FACTOR and
# SLACK_MS. Call it at the start of a script that asserts durations; the
# timing assertions call it themselves otherwise. The last response's RESP_*
# are kept.
calibrate() {
  local runs=() i start status headers body rc err
  [[ -z $SLACK_MS ]] || return 0
  if [[ -s $T/.calibration ]]; then
    read -r CALIB_MS TOOL_FACTOR SLACK_MS CALIB_RUNS <"$T/.calibration"
    echo "# calibration: $(_calibration)"
    return 0
  fi
  status=${RESP_STATUS-} headers=${RESP_HEADERS-} body=${RESP_BODY-} rc=${RESP_RC-} err=${RESP_STDERR-}
  for i in 1 2 3 4 5; do
    _request_env GET /_ping /_ping
    _REQ_ENV+=("PORTUS_LOCAL_CONFIG_PATH=$T/absent.yml")
    start=$(now_ms)
    _run_cgi
    runs+=("$(ms_since "$start")")
    [[ $RESP_STATUS == 200 ]] || die "calibrate: CGI /_ping answered '$RESP_STATUS' (exit $RESP_RC): $(_clip "$RESP_STDERR")"
  done
  RESP_STATUS=$status RESP_HEADERS=$headers RESP_BODY=$body RESP_RC=$rc RESP_STDERR=$err
  CALIB_MS=$(printf '%s\n' "${runs[@]}" | sort -n | sed -n 3p)
  TOOL_FACTOR=1
  if [[ ${SANITIZE:-} == 1 ]]; then TOOL_FACTOR=2; fi
  if [[ ${VALGRIND:-} == 1 ]]; then TOOL_FACTOR=4; fi
  SLACK_MS=$((250 * TOOL_FACTOR + 3 * CALIB_MS))
  CALIB_RUNS=$(IFS=,; echo "${runs[*]}")
  echo "$CALIB_MS $TOOL_FACTOR $SLACK_MS $CALIB_RUNS" >"$T/.calibration"
  echo "# calibration: $(_calibration)"
}

# _calibration: how SLACK_MS came about, and the load now, for messages.
_calibration() {
  printf 'slack %s ms = 250 ms x %s + 3 x %s ms (the median of 5 CGI /_ping runs: %s ms); load %s' \
    "$SLACK_MS" "$TOOL_FACTOR" "$CALIB_MS" "$CALIB_RUNS" "$(cut -d ' ' -f 1-3 /proc/loadavg)"
}

# timing_factor: SLACK_MS in whole seconds, rounded up (at least 1), for a
# bound written as NOMINAL + 1000 x timing_factor ms.
timing_factor() {
  calibrate >/dev/null
  echo $(((SLACK_MS + 999) / 1000))
}

# health_timeout SECONDS: a deadline (health.timeout, ldap.timeout) for
# checks that are meant to succeed, so that a slow moment does not fail them:
# SECONDS plus the slack in whole seconds. Under memcheck on a busy machine a
# TLS handshake and bind alone take seconds.
health_timeout() { echo $(($1 + $(timing_factor))); }

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

# t_between NAME N LOW HIGH [HOW]: the count N is within [LOW, HIGH]; HOW
# says where HIGH comes from.
t_between() {
  if [[ $2 =~ ^[0-9]+$ ]] && (($2 >= $3 && $2 <= $4)); then
    t_pass "$1 ($2, within [$3, $4])"
  else
    t_fail "$1" "'$(_clip "$2")' is not within [$3, $4]${5:+ ($5)}"
  fi
}

# t_duration NAME MS LOW NOMINAL [BROKEN]: a duration the test measured, MS
# milliseconds, is at least LOW and below NOMINAL + SLACK_MS (see calibrate).
# BROKEN is what MS would come to were the behaviour under test broken
# (checks one after another, a deadline ignored): a bound that reaches it
# could not tell the two apart, and the check fails rather than pass blindly.
t_duration() {
  local name=$1 ms=$2 low=$3 nominal=$4 broken=${5:-} high
  calibrate
  high=$((nominal + SLACK_MS))
  if [[ -n $broken ]] && ((high >= broken)); then
    t_fail "$name" "$ms ms; the bound $nominal + slack = $high ms reaches $broken ms, what a failure would take: this machine is too slow right now to tell ($(_calibration))"
  elif ((ms < low || ms >= high)); then
    t_fail "$name" "$ms ms is not within [$low, $nominal + slack = $high) ms ($(_calibration))"
  else
    t_pass "$name ($ms ms, within [$low, $high))"
  fi
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

# responder_copy: the binary under test where every server's user can run
# it; prints its path.
responder_copy() {
  if [[ ! -x $T/bin/portus-health ]]; then install -D -m 0755 "$RESPONDER" "$T/bin/portus-health"; fi
  echo "$T/bin/portus-health"
}

# FastCGI responders run as www-data, never as root (spawn-fcgi -u, or
# --user): WWW_CACHE is their cache directory, made theirs.
WWW_CACHE=$T/cache-www
export WWW_CACHE

# www_cache: make WWW_CACHE, owned by www-data, private.
www_cache() { install -d -o www-data -g www-data -m 700 "$WWW_CACHE"; }

# fcgi_start: run the responder under spawn-fcgi as www-data (with the
# caller's environment, and WWW_CACHE as its cache directory) on the unix
# socket FCGI_SOCK; its stderr goes to "$T/fcgi.log".
fcgi_start() {
  local bin
  bin=$(responder_copy)
  FCGI_SOCK=$T/fcgi.sock
  www_cache
  # A socket file left by an earlier responder would pass the wait below
  # before the new one listens.
  rm -f "$FCGI_SOCK"
  # Mode 0666: the web servers' workers (www-data) connect to it too.
  PORTUS_HEALTH_CACHE_DIR=$WWW_CACHE spawn fcgi spawn-fcgi -n -M 0666 -u www-data -g www-data \
    -s "$FCGI_SOCK" -- "$bin"
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

# db_expect VIA NAME MESSAGE SUCCESS STATUS: one GET /_health through VIA
# (cgi or fcgi) and its database part.
db_expect() {
  "${1}_req" GET /_health
  t_eq "$1 $2: message" "$3" "$(json_get .database.msg)"
  t_eq "$1 $2: success" "$4" "$(json_get .database.success)"
  t_eq "$1 $2: status" "$5" "$RESP_STATUS"
}

# db_both NAME MESSAGE SUCCESS STATUS: the same through CGI and FastCGI.
db_both() {
  db_expect cgi "$@"
  db_expect fcgi "$@"
}

# ---------------------------------------------------------------- servers

# shellcheck source=lib-pg.sh
. "$ROOT/tests/lib-pg.sh"
# shellcheck source=lib-registry.sh
. "$ROOT/tests/lib-registry.sh"
# shellcheck source=lib-web.sh
. "$ROOT/tests/lib-web.sh"

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
