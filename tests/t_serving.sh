#!/usr/bin/env bash
# SPEC 5, the serving core: no front end, client or resource limit stalls
# the responder.  HAProxy's fcgi-app with keep-conn and its own health
# check, nginx with fastcgi_keep_conn and an upstream keepalive pool, both
# with more clients than event loops; silent TCP clients; a burst at
# ulimit -n 64 with every dependency hanging; SIGTERM under that load.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

calibrate
deps_start clair
export PORTUS_HEALTH_WORKERS=2
# Every responder here runs as www-data (--user, spawn-fcgi -u).
www_cache
export PORTUS_HEALTH_CACHE_DIR=$WWW_CACHE
PH=$(responder_copy)

# status_counts FILE: "code count" lines of wrk's or curl's statuses.
statuses() { sort "$1" | uniq -c | awk '{ printf "%s:%s ", $2, $1 }'; }

# ---------------------------------------------------------------- silent clients

# Six TCP connections that send nothing, two event loops: a real request is
# answered at once, and the silent ones are dropped after the read timeout.
port=$(free_port)
spawn listen "$PH" --listen "127.0.0.1:$port" --user www-data
LISTEN_PID=$SPAWNED_PID
wait_port "$port"
cat >"$T/silent.py" <<'PY'
import socket, sys, time
port, n, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
start = time.monotonic()
open(out + ".ready", "w").close()
for s in socks:
    s.settimeout(60)
    try:
        got = s.recv(1)
    except OSError:
        got = b""
    with open(out, "a") as f:
        f.write("%d %d\n" % (int((time.monotonic() - start) * 1000), len(got)))
PY
spawn silent python3 "$T/silent.py" "$port" 6 "$T/silent.out"
SILENT_PID=$SPAWNED_PID
_poll 15 "$SILENT_PID" test -e "$T/silent.out.ready" || die "the silent clients did not connect"
start=$(now_ms)
_request_env GET /_ping /_ping
_run_request "$(command -v cgi-fcgi)" -bind -connect "127.0.0.1:$port"
t_eq "six silent clients, two loops: /_ping answered" 200 "$RESP_STATUS"
t_duration "six silent clients: answered at once, not after them" "$(ms_since "$start")" 0 0 5000
silent_done() { [[ $(wc -l <"$T/silent.out" 2>/dev/null || echo 0) -ge 6 ]]; }
_poll 60 "$SILENT_PID" silent_done || true
t_eq "the silent clients were all closed, sent nothing" "6 0" \
  "$(awk '{ n++; b += $2 } END { print n, b }' "$T/silent.out")"
t_duration "a silent client is closed after the 5 s read timeout" \
  "$(sort -n "$T/silent.out" | tail -1 | cut -d' ' -f1)" 5000 5000 60000
stop_pid "$SILENT_PID"
stop_pid "$LISTEN_PID"

# ---------------------------------------------------------------- HAProxy, keep-conn

# fcgi-app with option keep-conn (its documented setting) and HAProxy's own
# health check on /_health; 64 clients on /_ping for a few seconds.
port=$(free_port)
hport=$(free_port)
spawn listen "$PH" --listen "127.0.0.1:$port" --user www-data
LISTEN_PID=$SPAWNED_PID
wait_port "$port"
cat >"$T/haproxy.cfg" <<CFG
global
    stats socket $T/haproxy.stats mode 600 level admin
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
fcgi-app portus-health
    docroot /
    option keep-conn
backend portus_health
    use-fcgi-app portus-health
    option httpchk
    http-check send meth GET uri /_health
    server ph 127.0.0.1:$port proto fcgi check inter 300ms fall 2 rise 1
frontend web
    bind 127.0.0.1:$hport
    default_backend portus_health
CFG
spawn haproxy haproxy -db -f "$T/haproxy.cfg"
HAPROXY_PID=$SPAWNED_PID
wait_port "$hport"
# server_state: the server's status and last check, from HAProxy's stats.
server_state() {
  echo "show stat" | socat -t 5 - "UNIX-CONNECT:$T/haproxy.stats" |
    awk -F, '$1 == "portus_health" && $2 == "ph" { print $18, $37 }'
}
up() { [[ $(server_state) == "UP L7OK" ]]; }
_poll 30 "$HAPROXY_PID" up || true
t_eq "HAProxy: the server is UP by its /_health check" "UP L7OK" "$(server_state)"
wrk -t2 -c64 -d3s "http://127.0.0.1:$hport/_ping" >"$T/wrk-haproxy.log" 2>&1 || true
t_match "HAProxy keep-conn, 64 clients: requests were made" '[0-9]+ requests in' "$(cat "$T/wrk-haproxy.log")"
t_nomatch "HAProxy keep-conn, 64 clients: no non-2xx answer" 'Non-2xx' "$(cat "$T/wrk-haproxy.log")"
t_nomatch "HAProxy keep-conn, 64 clients: no socket error" 'Socket errors' "$(cat "$T/wrk-haproxy.log")"
t_eq "HAProxy: the server stays UP through the load" "UP L7OK" "$(server_state)"
# The checks kept working: one more must pass after the load.
t_match "HAProxy: its checks hit /_health" 'GET|L7OK' "$(server_state)"
stop_pid "$HAPROXY_PID"
stop_pid "$LISTEN_PID"

# ---------------------------------------------------------------- nginx, keepalive

# fastcgi_keep_conn on and an upstream pool of 32, two event loops.
fcgi_start
cat >"$T/keep.conf" <<'CONF'
upstream ph_keep {
    server unix:/run/portus-health/portus-health.sock;
    keepalive 32;
}
server {
    listen 127.0.0.1:8080;
    access_log off;
    location / {
        include fastcgi_params;
        fastcgi_param PATH_INFO $uri;
        fastcgi_keep_conn on;
        fastcgi_pass ph_keep;
    }
}
CONF
nginx_start "$T/keep.conf"
for path in /_ping /_health; do
  wrk -t2 -c64 -d3s "$NGINX_URL$path" >"$T/wrk-keep.log" 2>&1 || true
  t_match "nginx keepalive, 64 clients, $path: requests were made" '[0-9]+ requests in' "$(cat "$T/wrk-keep.log")"
  t_nomatch "nginx keepalive, 64 clients, $path: no non-2xx answer" 'Non-2xx' "$(cat "$T/wrk-keep.log")"
  t_nomatch "nginx keepalive, 64 clients, $path: no socket error" 'Socket errors' "$(cat "$T/wrk-keep.log")"
done
# The pool holds its connections open, idle, and they still serve.
kept=$(ss -x | grep -c "$FCGI_SOCK" || true)
t_match "nginx keeps connections to the responder open ($kept)" '^[1-9][0-9]*$' "$kept"
http_req GET "$NGINX_URL/_health"
t_eq "a kept connection still serves after the load" 200 "$RESP_STATUS"
t_eq "the responder is still running" yes "$(pid_alive "$FCGI_PID" && echo yes)"
stop_pid "$NGINX_PID"
stop_pid "$FCGI_PID"

# ---------------------------------------------------------------- ulimit -n 64

# Every dependency hangs; 150 concurrent /_health through nginx (a new
# connection each) against a responder limited to 64 descriptors.
hang_start
export PORTUS_DB_PORT=$HANG_PORT PORTUS_REGISTRY_HOSTNAME=127.0.0.1:$HANG_PORT
export PORTUS_SECURITY_CLAIR_SERVER=http://127.0.0.1:$HANG_PORT PORTUS_SECURITY_CLAIR_HEALTH_PORT=$HANG_PORT
export PORTUS_HEALTH_TIMEOUT=3 PORTUS_HEALTH_CACHE_TTL=0
FCGI_SOCK=$T/fcgi.sock
rm -f "$FCGI_SOCK"
spawn fcgi bash -c 'ulimit -n 64 && exec spawn-fcgi -n -M 0666 -u www-data -g www-data -s "$0" -- "$1"' "$FCGI_SOCK" "$PH"
FCGI_PID=$SPAWNED_PID
_poll 15 "$FCGI_PID" test -S "$FCGI_SOCK" || die_log fcgi "no FastCGI socket"
t_eq "the responder runs with 64 descriptors" 64 "$(awk '/Max open files/ { print $4 }' "/proc/$FCGI_PID/limits")"
nginx_start nginx-example.conf
burst() { # N PATH OUT: the statuses in OUT, the heads in OUT.heads
  seq "$1" | xargs -P "$1" -I{} curl -s -D "$3.heads.{}" -o /dev/null -m 60 -w '%{http_code}\n' "$NGINX_URL$2" >"$3" || true
  cat "$3".heads.* >"$3.heads" 2>/dev/null || true
}
burst 150 /_health "$T/burst.codes"
t_eq "150 at once: each answered 503 by the responder (no 502, no 504)" "503:150 " "$(statuses "$T/burst.codes")"
t_eq "the responder survived the burst" yes "$(pid_alive "$FCGI_PID" && echo yes)"
t_nomatch "it never stopped itself" 'stopping' "$(cat "$T/fcgi.log")"
http_req GET "$NGINX_URL/_ping"
t_eq "after the burst: /_ping 200" 200 "$RESP_STATUS"
start=$(now_ms)
http_req GET "$NGINX_URL/_health"
t_eq "after the burst: /_health answers (503: everything hangs)" 503 "$RESP_STATUS"
t_duration "after the burst: /_health within health.timeout" "$(ms_since "$start")" 0 3000 60000
t_match "more waiting than descriptors allow: 503 with Retry-After at once" '^[1-9][0-9]*$' \
  "$(grep -ci '^Retry-After: 1' "$T/burst.codes.heads" || true)"

# ---------------------------------------------------------------- SIGTERM under load

# A run that hangs longer than the grace: waiting requests get a 503 and
# the process is gone within about 10 s.
stop_pid "$FCGI_PID"
export PORTUS_HEALTH_TIMEOUT=60
rm -f "$FCGI_SOCK"
spawn fcgi spawn-fcgi -n -M 0666 -u www-data -g www-data -s "$FCGI_SOCK" -- "$PH"
FCGI_PID=$SPAWNED_PID
_poll 15 "$FCGI_PID" test -S "$FCGI_SOCK" || die_log fcgi "no FastCGI socket"
burst 20 /_health "$T/term.codes" &
burst_pid=$!
waiting() { [[ $(ss -x | grep -c "$FCGI_SOCK") -ge 20 ]]; }
_poll 15 "$FCGI_PID" waiting || true
start=$(now_ms)
kill -TERM "$FCGI_PID"
gone() { ! pid_alive "$FCGI_PID"; }
_poll 60 "" gone || true
t_duration "SIGTERM with a run hanging: gone within the 10 s grace" "$(ms_since "$start")" 0 11000 60000
wait "$burst_pid" || true
t_eq "SIGTERM: every waiting request got a 503" "503:20 " "$(statuses "$T/term.codes")"
t_match "SIGTERM: logged" 'stopping \(SIGTERM\)' "$(cat "$T/fcgi.log")"
_forget_pid "$FCGI_PID"

t_done
