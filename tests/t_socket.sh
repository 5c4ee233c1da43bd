#!/usr/bin/env bash
# Under its managers: a listening socket handed on standard input (systemd
# socket activation, mod_fcgid), a clean stop on SIGTERM that finishes the
# requests in hand and leaves the shared socket usable for the next
# process, recycling after health.max_requests, and the shipped systemd
# units.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

clair_start
clair_mode hang
pg_start
pg_exports
export PORTUS_LOCAL_CONFIG_PATH=$T/absent.yml
export PORTUS_REGISTRY_HOSTNAME=127.0.0.1:$(free_port)
export PORTUS_SECURITY_CLAIR_SERVER=http://127.0.0.1:$CLAIR_PORT PORTUS_SECURITY_CLAIR_HEALTH_PORT=$CLAIR_PORT
export PORTUS_HEALTH_TIMEOUT=2 PORTUS_HEALTH_CACHE_TTL=0
# The parent starts it as root, as systemd or mod_fcgid may: --user.
www_cache
export PORTUS_HEALTH_CACHE_DIR=$WWW_CACHE

# req SOCKET PATH: one GET through cgi-fcgi; prints the status line.
req() { env -i REQUEST_METHOD=GET PATH_INFO="$2" timeout 30 cgi-fcgi -bind -connect "$1" | tr -d "\r" | head -1; }
# child_of PID: the current responder started by the parent (its log's last
# start).
child_of() { grep '^start ' "$T/parent.events" | tail -1 | cut -d' ' -f2; }
# log_count WORD: how many lines of the parent's log start with WORD.
log_count() { grep -c "^$1 " "$T/parent.events" || true; }
# logged WORD N: the parent's log has N lines starting with WORD, or more.
logged() { (($(log_count "$1") >= $2)); }
# serving PARENT [OLD]: the parent has started a responder (other than OLD):
# its log says so, which it writes once the socket listens (a child of the
# parent alone may be setsid's or python's own); requests sent before the
# responder accepts wait in the socket's backlog.
serving() {
  local child
  child=$(grep '^start ' "$T/parent.events" | tail -1 | cut -d' ' -f2)
  [[ -n $child && $child != "${2:-}" ]] && pid_alive "$child"
}

for kind in unix tcp; do
  if [[ $kind == unix ]]; then addr=$T/act.sock; where=unix:$addr; else addr=127.0.0.1:$(free_port); where=tcp:${addr#*:}; fi
  : >"$T/parent.events"
  spawn "parent-$kind" python3 "$ROOT/tests/socket-parent.py" "$where" "$T/parent.events" -- "$RESPONDER" --user www-data
  parent=$SPAWNED_PID
  _poll 15 "$parent" serving "$parent" || true
  t_eq "$kind socket on stdin: /_ping" "Status: 200 OK" "$(req "$addr" /_ping)"

  # SIGTERM while a health run hangs: the waiting request still gets its answer.
  first=$(child_of "$parent")
  hits=$(clair_hits)
  req "$addr" /_health >"$T/inflight" &
  inflight=$!
  # In flight: its run has sent Clair the probe that hangs.
  probed() { (($(clair_hits) > hits)); }
  _poll 15 "$inflight" probed || true
  kill -TERM "$first"
  wait "$inflight" || true
  t_eq "$kind SIGTERM: the request in flight is answered" "Status: 503 Service Unavailable" "$(<"$T/inflight")"
  _poll 15 "$parent" logged exit 1 || true
  t_eq "$kind SIGTERM: exit status 0" "exit $first 0" "$(grep '^exit ' "$T/parent.events" | head -1)"
  _poll 15 "$parent" serving "$parent" "$first" || true
  t_eq "$kind the shared socket still serves the next process" "Status: 200 OK" "$(req "$addr" /_ping)"
  stop_pid "$parent"
done
t_match "SIGTERM is logged" "info: stopping \\(SIGTERM\\)" "$(cat "$T"/parent-*.log)"

# Recycling: after health.max_requests requests the responder leaves by
# itself, cleanly; its manager starts the next one.
: >"$T/parent.events"
PORTUS_HEALTH_MAX_REQUESTS=3 spawn parent-recycle python3 "$ROOT/tests/socket-parent.py" \
  "unix:$T/rec.sock" "$T/parent.events" -- "$RESPONDER" --user www-data
parent=$SPAWNED_PID
_poll 15 "$parent" serving "$parent" || true
first=$(child_of "$parent")
for i in 1 2 3; do t_eq "max_requests 3: request $i served" "Status: 200 OK" "$(req "$T/rec.sock" /_ping)"; done
_poll 15 "$parent" logged exit 1 || true
t_eq "max_requests 3: the responder left by itself, exit 0" "exit $first 0" "$(grep '^exit ' "$T/parent.events" | head -1)"
t_match "max_requests 3: says why" "served health.max_requests \\(3\\) requests; recycling" "$(<"$T/parent-recycle.log")"
_poll 15 "$parent" serving "$parent" "$first" || true
t_eq "max_requests 3: the next process serves" "Status: 200 OK" "$(req "$T/rec.sock" /_ping)"
stop_pid "$parent"

# The systemd units as shipped (only the binary's path changed) pass
# systemd's own checker, and hand the socket on standard input.
if command -v systemd-analyze >/dev/null; then
  mkdir "$T/units"
  cp "$ROOT/contrib/systemd/portus-health.socket" "$T/units/"
  sed "s#/usr/local/bin/portus-health#$RESPONDER#" "$ROOT/contrib/systemd/portus-health.service" \
    >"$T/units/portus-health.service"
  out=$(systemd-analyze verify --man=no "$T/units/portus-health.socket" "$T/units/portus-health.service" 2>&1) && rc=0 || rc=$?
  t_eq "systemd-analyze verify: no complaint" "0:" "$rc:$out"
else
  t_fail "systemd-analyze verify" "systemd-analyze is not installed"
fi
t_match "the service takes the socket on stdin" '^StandardInput=socket$' "$(grep StandardInput "$ROOT/contrib/systemd/portus-health.service")"

t_done
