#!/usr/bin/env bash
# SPEC 6, least privilege: the FastCGI and CGI modes sandbox themselves
# (no_new_privs, seccomp, Landlock); a build with test hooks (tests/portus-health-hooks, never installed)
# tries what the sandbox must refuse: starting a program and writing
# outside the cache directory.  health.sandbox false turns it off.  A
# sanitizer build's reports still reach their directory.  The shipped
# systemd unit rates 1.5 or lower with systemd-analyze security.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

HOOKS=$ROOT/tests/portus-health-hooks
[[ -x $HOOKS ]] || die "no $HOOKS: make tests/portus-health-hooks"
install -m 0755 "$HOOKS" "$T/hooks"
HOOKS=$T/hooks
export PORTUS_LOCAL_CONFIG_PATH=$T/absent.yml
mkdir -m 777 "$T/outside"
www_cache

# cgi_hooks VAR=VALUE...: one CGI /_ping of the hooks build.
cgi_hooks() {
  _request_env GET /_ping /_ping settings
  _REQ_ENV+=("$@")
  _run_request "$HOOKS"
}

# CGI: the write outside is refused (Landlock), so is execve (seccomp).
cgi_hooks "PORTUS_HEALTH_TEST_ESCAPE=$T/outside/cgi"
t_eq "CGI, sandboxed: /_ping still answers" 200 "$RESP_STATUS"
t_match "CGI, sandboxed: a write outside the cache directory is refused" \
  "escape test: write $T/outside/cgi: Permission denied" "$RESP_STDERR"
t_eq "CGI, sandboxed: nothing was written" no "$([[ -e $T/outside/cgi ]] && echo yes || echo no)"
t_match "CGI, sandboxed: execve is refused" 'escape test: execve: Operation not permitted' "$RESP_STDERR"
# The same with health.sandbox false: the hooks would get through.
cgi_hooks "PORTUS_HEALTH_TEST_ESCAPE=$T/outside/off" PORTUS_HEALTH_SANDBOX=false
t_match "health.sandbox false: said" 'health.sandbox is false: no sandbox' "$RESP_STDERR"
t_eq "health.sandbox false: the write goes through" yes "$([[ -e $T/outside/off ]] && echo yes || echo no)"
t_nomatch "health.sandbox false: execve goes through (the process became true)" 'escape test: execve' "$RESP_STDERR"

# The cache directory stays writable: a shared result is written there.
cgi_hooks "PORTUS_HEALTH_CACHE_DIR=$T/cache-cgi" PORTUS_REGISTRY_HOSTNAME=127.0.0.1:1
_request_env GET /_health /_health settings
_REQ_ENV+=("PORTUS_HEALTH_CACHE_DIR=$T/cache-cgi" PORTUS_REGISTRY_HOSTNAME=127.0.0.1:1)
_run_request "$HOOKS"
t_eq "CGI, sandboxed: /_health answers" 503 "$RESP_STATUS"
t_match "CGI, sandboxed: the cache directory is written" '\.json' "$(ls "$T/cache-cgi")"

# FastCGI, started as root: drops to www-data, then the sandbox.
sock=$T/hooks.sock
PORTUS_HEALTH_CACHE_DIR=$WWW_CACHE PORTUS_HEALTH_TEST_ESCAPE=$T/outside/fcgi \
  spawn hooks "$HOOKS" --listen "unix:$sock" --user www-data
pid=$SPAWNED_PID
_poll 15 "$pid" test -S "$sock" || die_log hooks "no socket"
req() { env -i REQUEST_METHOD=GET PATH_INFO="$1" cgi-fcgi -bind -connect "$sock" | tr -d '\r' | head -1; }
t_eq "FastCGI, sandboxed: /_ping" "Status: 200 OK" "$(req /_ping)"
t_eq "FastCGI: no_new_privs" "NoNewPrivs: 1" "$(grep '^NoNewPrivs:' "/proc/$pid/status" | xargs)"
t_eq "FastCGI: a seccomp filter" "Seccomp: 2" "$(grep '^Seccomp:' "/proc/$pid/status" | xargs)"
t_match "FastCGI: a write outside is refused" "escape test: write $T/outside/fcgi: Permission denied" "$(cat "$T/hooks.log")"
t_match "FastCGI: execve is refused" 'escape test: execve: Operation not permitted' "$(cat "$T/hooks.log")"
t_eq "FastCGI: nothing was written" no "$([[ -e $T/outside/fcgi ]] && echo yes || echo no)"
# Its threads are bound too (the sandbox comes before the first one).
tids=$(ls "/proc/$pid/task" | wc -l)
t_match "FastCGI: several threads ($tids)" '^([2-9]|[1-9][0-9]+)$' "$tids"
bad=$(for t in /proc/"$pid"/task/*; do grep -q '^Seccomp:.*2' "$t/status" || echo "$t"; done)
t_eq "FastCGI: every thread is under the filter" "" "$bad"
stop_pid "$pid"

# A sanitizer build still gets its reports out: a planted leak is
# reported with the sandbox on (then taken away, it is no finding).
if [[ ${SANITIZE:-} == 1 ]]; then
  before=$(find /tmp/portus-health-san -type f | wc -l)
  cgi_hooks PORTUS_HEALTH_TEST_LEAK=1
  reports=$(grep -l 'detected memory leaks' /tmp/portus-health-san/* 2>/dev/null || true)
  t_match "sanitizers: a planted leak is reported with the sandbox on" 'asan' "$reports"
  t_match "sanitizers: the report names the planted allocation" 'test_hooks' "$(cat $reports 2>/dev/null)"
  rm -f $reports
  t_eq "sanitizers: no other report" "$before" "$(find /tmp/portus-health-san -type f | wc -l)"
else
  echo "# the planted sanitizer report is checked under SANITIZE=1"
fi

# The shipped service, hardened: 1.5 or lower.
score=$(systemd-analyze security --offline=yes --no-pager "$ROOT/contrib/systemd/portus-health.service" 2>/dev/null |
  awk '/Overall exposure level/ { print $(NF - 2) }')
t_match "systemd-analyze security: the service rates 1.5 or lower ($score)" '^(0\.[0-9]|1\.[0-5])$' "$score"

t_done
