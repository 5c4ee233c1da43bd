#!/usr/bin/env bash
# Hostile requests, table-driven, through FastCGI and CGI: every method,
# %00, "..", "//", invalid UTF-8, 64 KiB paths, huge query strings, many
# parameters, huge headers, missing variables, header injection.  Each
# gets its designed answer (a clear 4xx, or the route it names), the
# process survives, and the next request is served.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

deps_start
calibrate
PORTUS_HEALTH_TIMEOUT=$(health_timeout 5)
export PORTUS_HEALTH_TIMEOUT
fcgi_start

big=$(head -c 65536 /dev/zero | tr '\0' 'a')
many=$(for i in $(seq 1000); do printf 'p%d=%d&' "$i" "$i"; done)

# The table: expected status, then the request's variables, exactly (no
# others but GATEWAY_INTERFACE and SERVER_PROTOCOL).
cases=(
  "200|REQUEST_METHOD=GET|PATH_INFO=/_ping"
  "200|REQUEST_METHOD=HEAD|PATH_INFO=/_ping"
  "405|REQUEST_METHOD=POST|PATH_INFO=/_ping|CONTENT_LENGTH=5|CONTENT_TYPE=text/plain"
  "405|REQUEST_METHOD=PUT|PATH_INFO=/_health"
  "405|REQUEST_METHOD=DELETE|PATH_INFO=/_health"
  "405|REQUEST_METHOD=PATCH|PATH_INFO=/_health"
  "405|REQUEST_METHOD=OPTIONS|PATH_INFO=/_health"
  "405|REQUEST_METHOD=TRACE|PATH_INFO=/_health"
  "405|REQUEST_METHOD=CONNECT|PATH_INFO=/_health"
  "405|REQUEST_METHOD=PROPFIND|PATH_INFO=/_health"
  "405|REQUEST_METHOD=MKCOL|PATH_INFO=/_health"
  "405|REQUEST_METHOD=LOCK|PATH_INFO=/_ping"
  "405|REQUEST_METHOD=get|PATH_INFO=/_ping"
  "405|REQUEST_METHOD=BREW|PATH_INFO=/_ping"
  "400|REQUEST_METHOD=|PATH_INFO=/_ping"
  "400|REQUEST_METHOD=G ET|PATH_INFO=/_ping"
  "400|REQUEST_METHOD=GET\r\n|PATH_INFO=/_ping"
  "400|REQUEST_METHOD=G\tET|PATH_INFO=/_ping"
  "400|REQUEST_METHOD=GETGETGETGETGETGETGETGETGETGETGETGETGETGETGET|PATH_INFO=/_ping"
  "400|REQUEST_METHOD=\xff\xfe|PATH_INFO=/_ping"
  "404|REQUEST_METHOD=GET"
  "404|REQUEST_METHOD=GET|PATH_INFO=|REQUEST_URI="
  "404|REQUEST_METHOD=GET|PATH_INFO=/"
  "404|REQUEST_METHOD=GET|PATH_INFO=/_ping%00"
  "404|REQUEST_METHOD=GET|PATH_INFO=/_ping\x01"
  "404|REQUEST_METHOD=GET|PATH_INFO=/../_ping"
  "404|REQUEST_METHOD=GET|PATH_INFO=/_health/../_ping"
  "404|REQUEST_METHOD=GET|PATH_INFO=//_health"
  "404|REQUEST_METHOD=GET|PATH_INFO=/_health//"
  "404|REQUEST_METHOD=GET|PATH_INFO=/\xff\xfe\xfd"
  "404|REQUEST_METHOD=GET|PATH_INFO=/_ping\xc0\xaf"
  "404|REQUEST_METHOD=GET|PATH_INFO=/_ping\r\nSet-Cookie: pwned=1"
  "404|REQUEST_METHOD=GET|PATH_INFO=/_ping\nStatus: 200"
  "414|REQUEST_METHOD=GET|PATH_INFO=/$big"
  "414|REQUEST_METHOD=GET|REQUEST_URI=/$big"
  "414|REQUEST_METHOD=HEAD|REQUEST_URI=/portus/$big/_ping"
  "200|REQUEST_METHOD=GET|REQUEST_URI=/_ping?$big|QUERY_STRING=$big"
  "200|REQUEST_METHOD=GET|REQUEST_URI=/_ping?$many|QUERY_STRING=$many"
  "200|REQUEST_METHOD=GET|PATH_INFO=/_ping|HTTP_X_HUGE=$big"
  "200|REQUEST_METHOD=GET|PATH_INFO=/_ping|HTTP_COOKIE=$many"
  "200|REQUEST_METHOD=GET|PATH_INFO=/_ping|CONTENT_LENGTH=99999999999"
  "200|REQUEST_METHOD=GET|PATH_INFO=/_ping|HTTP_PORTUS_HEALTH_TIMEOUT=abc"
  "400|REQUEST_METHOD=GET|REQUEST_URI=/_ping%00"
  "400|REQUEST_METHOD=GET|REQUEST_URI=/%00/_ping"
  "400|REQUEST_METHOD=GET|REQUEST_URI=/_ping%"
  "400|REQUEST_METHOD=GET|REQUEST_URI=/_ping%4"
  "400|REQUEST_METHOD=GET|REQUEST_URI=/_p%zzing"
  "404|REQUEST_METHOD=GET|REQUEST_URI=/%ff%fe%fd"
  "404|REQUEST_METHOD=GET|REQUEST_URI=/_ping%0d%0aSet-Cookie:%20x"
  "404|REQUEST_METHOD=GET|REQUEST_URI=/_pingx?x=/_ping"
  "404|REQUEST_METHOD=GET|REQUEST_URI=?/_ping"
  "200|REQUEST_METHOD=GET|REQUEST_URI=/portus%2F_ping"
  "200|REQUEST_METHOD=GET|REQUEST_URI=/a/b/c/d/e/f/g/_ping#frag"
  "400|REQUEST_METHOD=GET|REQUEST_URI=/_health/..%2f_ping"
  "400|REQUEST_METHOD=GET|REQUEST_URI=/portus/./_ping"
  "404|REQUEST_METHOD=GET|REQUEST_URI=*"
  "404|REQUEST_METHOD=GET|REQUEST_URI=http://evil.example/_pingx"
  "200|REQUEST_METHOD=GET|REQUEST_URI=http://evil.example/_ping"
  "200|REQUEST_METHOD=GET|PATH_INFO=/_health|HTTP_ACCEPT=$big"
  "404|REQUEST_METHOD=GET|PATH_INFO=/_health/database/../../etc/passwd"
)

# hreq VIA SPEC: one request with exactly the variables of SPEC.
hreq() {
  local via=$1 kv
  local -a parts
  IFS='|' read -r -a parts <<<"$2"
  _REQ_ENV=(GATEWAY_INTERFACE=CGI/1.1 SERVER_PROTOCOL=HTTP/1.1 REMOTE_ADDR=127.0.0.1)
  for kv in "${parts[@]:1}"; do _REQ_ENV+=("$(printf '%b' "$kv")"); done
  # The settings a CGI program reads from its environment.
  if [[ $via == cgi ]]; then
    for kv in $(compgen -e | grep -E '^PORTUS_'); do _REQ_ENV+=("$kv=${!kv}"); done
    _run_cgi
  else
    _run_request "$(command -v cgi-fcgi)" -bind -connect "$FCGI_SOCK"
  fi
}

n=0
for via in fcgi cgi; do
  for spec in "${cases[@]}"; do
    n=$((n + 1))
    want=${spec%%|*}
    name="$via #$n ${spec:4:60}"
    name=${name//$'\n'/}
    hreq "$via" "$spec"
    t_eq "$name: $want" "$want" "$RESP_STATUS"
    if [[ $want != 200 && $spec != *=HEAD* ]]; then
      t_match "$name: a JSON error" '^\{"error":"[A-Za-z :-]+"\}$' "$RESP_BODY"
    fi
    t_nomatch "$name: no injected header" 'Set-Cookie|pwned' "$RESP_HEADERS"
    if [[ $via == cgi ]]; then
      t_eq "$name: the CGI process exits 0" 0 "$RESP_RC"
    fi
  done
  fcgi_req GET /_ping
  t_eq "$via: FastCGI still serves after the table" 200 "$RESP_STATUS"
done
t_eq "the FastCGI responder is the same process" "$FCGI_PID" "$(pgrep -f "$(responder_copy)" | grep -x "$FCGI_PID" || true)"

# Without REQUEST_METHOD and without a socket it is not CGI: a usage error.
rc=0
env -i PATH_INFO=/_ping "$RESPONDER" </dev/null >/dev/null 2>"$T/nomethod.err" || rc=$?
t_eq "CGI without REQUEST_METHOD: exit 2" 2 "$rc"
t_match "CGI without REQUEST_METHOD: says why" "not started by a web server" "$(<"$T/nomethod.err")"

# A FastCGI request that hangs up before its parameters are complete does
# not hold a worker: the responder keeps serving.
for _ in 1 2 3 4 5 6 7 8; do
  python3 - "$FCGI_SOCK" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
# FCGI_BEGIN_REQUEST (responder), then half a PARAMS record, then gone.
s.sendall(bytes([1, 1, 0, 1, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]) + bytes([1, 4, 0, 1, 0, 200, 0, 0]) + b"\x0eREQUEST_METHOD")
s.close()
PY
done
fcgi_req GET /_ping
t_eq "after 8 truncated FastCGI requests: still serving" 200 "$RESP_STATUS"
python3 - "$FCGI_SOCK" "$T/silent.connected" <<'PY' &
import socket, sys, time
# A client that opens a request and sends nothing for 5 s.
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
open(sys.argv[2], "w").close()
time.sleep(5)
PY
slow=$!
_poll 10 "$slow" test -e "$T/silent.connected" || true
fcgi_req GET /_ping
t_eq "with a silent client connected: still serving" 200 "$RESP_STATUS"
wait "$slow" || true

t_done
