#!/usr/bin/env bash
# What monitoring systems see, through nginx from the shipped server block:
# one component at a time, ?exclude=, application/health+json, the page
# for people (rendered by headless Chromium), /_metrics (checked by
# promtool and scraped by a real Prometheus), and Nagios's check_http.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

deps_start clair
unset PORTUS_REGISTRY_HOSTNAME   # from the registries table: empty for now
export PORTUS_HEALTH_CACHE_TTL=0
fcgi_start
nginx_start "$ROOT/nginx-example.conf"
u=$NGINX_URL

# --- One component; several left out.
http_req GET "$u/_health/database"
t_eq "/_health/database: 200" 200 "$RESP_STATUS"
t_eq "/_health/database: only that component" database "$(json_get 'keys | join(",")')"
http_req GET "$u/_health/registry"
t_eq "/_health/registry: 503 (no registry in the table)" 503 "$RESP_STATUS"
t_eq "/_health/registry: its message" "no registry configured" "$(json_get .registry.msg)"
http_req GET "$u/api/v1/health/clair"
t_eq "/api/v1/health/clair: 200" 200 "$RESP_STATUS"
http_req GET "$u/portus/_health/database"
t_eq "/portus/_health/database (sub-URI)" database "$(json_get 'keys | join(",")')"
http_req GET "$u/_health/nosuch"
t_eq "/_health/nosuch: 404" 404 "$RESP_STATUS"
t_eq "/_health/nosuch: says so" "unknown component" "$(json_get .error)"
http_req GET "$u/_health"
t_eq "/_health with the registry failing: 503" 503 "$RESP_STATUS"
http_req GET "$u/_health?exclude=registry"
t_eq "?exclude=registry: 200" 200 "$RESP_STATUS"
t_eq "?exclude=registry: left out of the document" "database,clair" "$(json_get 'keys_unsorted | join(",")')"
http_req GET "$u/_health?exclude=registry,clair"
t_eq "?exclude=registry,clair" database "$(json_get 'keys | join(",")')"
http_req GET "$u/_health?exclude=registry&exclude=database"
t_eq "?exclude= twice" clair "$(json_get 'keys | join(",")')"
http_req GET "$u/_health?exclude=etcd"
t_eq "?exclude=etcd: 400" 400 "$RESP_STATUS"
t_match "?exclude=etcd: says so" "unknown component in exclude" "$(json_get .error)"
PORTUS_SECURITY_CLAIR_SERVER= cgi_req GET /_health/clair
t_eq "/_health/clair with clair not configured: 404" 404 "$RESP_STATUS"
t_eq "/_health/clair with clair not configured: says so" "component not enabled" "$(json_get .error)"

# --- application/health+json.
http_req GET "$u/_health" -H "Accept: application/health+json"
t_eq "health+json: content type" "application/health+json; charset=utf-8" "$(resp_header Content-Type)"
t_eq "health+json: 503 as the document" 503 "$RESP_STATUS"
t_eq "health+json: status fail" fail "$(json_get .status)"
t_eq "health+json: checks keyed component:measurement" \
  "database:responseTime,registry:responseTime,clair:responseTime" "$(json_get '.checks | keys_unsorted | join(",")')"
t_eq "health+json: the failing check" "fail|component|ms|no registry configured" \
  "$(json_get '.checks["registry:responseTime"][0] | [.status, .componentType, .observedUnit, .output] | join("|")')"
t_eq "health+json: database is a datastore that passes" "pass|datastore" \
  "$(json_get '.checks["database:responseTime"][0] | [.status, .componentType] | join("|")')"
t_match "health+json: observedValue is a latency" '^[0-9]+(\.[0-9]+)?$' \
  "$(json_get '.checks["database:responseTime"][0].observedValue')"
t_match "health+json: time is RFC 3339" '^20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]Z$' \
  "$(json_get '.checks["clair:responseTime"][0].time')"
t_eq "health+json: top-level output on failure" "no registry configured" "$(json_get .output)"
http_req GET "$u/_health?exclude=registry" -H "Accept: application/health+json"
t_eq "health+json: pass" "200 pass null" "$RESP_STATUS $(json_get .status) $(json_get .output)"
http_req GET "$u/_health" -H "Accept: */*"
t_eq "Accept */*: Portus's document" "no registry configured" "$(json_get .registry.msg)"

# --- The page for people, in a real browser: Clair goes down for a few
# runs and comes back; the page shows its history.
pg_sql "INSERT INTO registries (name, hostname, use_ssl) VALUES ('r', '127.0.0.1:$REG_PORT', false)"
html() { http_req GET "$u/_health" -H "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"; }
html
clair_mode fail
for _ in 1 2 3; do html; done
t_eq "HTML: content type" "text/html; charset=utf-8" "$(resp_header Content-Type)"
t_eq "HTML: status of the document" 503 "$RESP_STATUS"
t_nomatch "HTML: self-contained (no script, no external asset)" '<script|src=|href=|@import|url\(' "$RESP_BODY"
chrome=(chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run
  --disable-background-networking --disable-component-update --disable-sync
  --user-data-dir="$T/chrome")
# Chromium sends a browser's Accept header, so it gets the page.
dom=$(timeout 60 "${chrome[@]}" --dump-dom "$u/_health" 2>/dev/null || true)
t_match "Chromium: the page says Portus is unhealthy, in red" '<h1 id="overall" class="down">Portus is unhealthy</h1>' "$dom"
t_match "Chromium: database is up, in green" '<div class="comp" id="database"><div class="line"><span class="name">database</span><span class="state up">up</span><span class="since">up for [0-9]+ s</span><span class="msg">database is up-to-date</span>' "$dom"
t_match "Chromium: clair is down, in red, since a moment, with its message" '<div class="comp" id="clair"><div class="line"><span class="name">clair</span><span class="state down">down</span><span class="since">down for [0-9]+ s</span><span class="msg">clair is not reachable: HTTP 500</span>' "$dom"
t_match "Chromium: when it was checked" 'Checked at <time>20[0-9-]+T[0-9:]+Z</time>' "$dom"
t_match "Chromium: the page refreshes itself" 'http-equiv="refresh" content="10"' "$dom"
clair_mode ok
for _ in 1 2; do html; done
dom=$(timeout 60 "${chrome[@]}" --dump-dom "$u/_health" 2>/dev/null || true)
strip=$(sed -n 's/.*<div class="comp" id="clair">\(.*\)/\1/p' <<<"$dom" | sed 's#</div></div>.*##')
t_match "Chromium: clair is back, up since then" '<span class="state up">up</span><span class="since">up for [0-9]+ s</span>' "$strip"
t_match "Chromium: clair's strip has its red marks, then green ones" \
  '<span class="ok" title="[^"]+ up [0-9]+ ms"></span>(<span class="ko" title="[^"]+ down [0-9]+ ms"></span>){3,}(<span class="ok" title="[^"]+"></span>){2,}' "$strip"
t_match "Chromium: each mark says when" 'class="ko" title="20[0-9-]+T[0-9:]+Z down' "$strip"
# The strip wraps: on a phone's screen, nothing scrolls sideways.
widths=$(timeout 90 python3 "$ROOT/tests/cdp.py" "$u/_health" 360 640 \
  '[document.documentElement.scrollWidth, document.documentElement.clientWidth]' "$T/cdp" 2>/dev/null || true)
t_match "a phone's screen (360 px): the page fits, no horizontal scroll ($widths)" '^\[360, 360\]$' "$widths"
wide=$(timeout 90 python3 "$ROOT/tests/cdp.py" "$u/_health" 360 640 \
  'document.body.insertAdjacentHTML("beforeend", "<div style=width:900px>x</div>"); document.documentElement.scrollWidth > document.documentElement.clientWidth' "$T/cdp" 2>/dev/null || true)
t_eq "the measure sees an overflow when there is one" true "$wide"
clair_mode fail
html
timeout 60 "${chrome[@]}" --window-size=800,600 --screenshot="$T/health.png" "$u/_health" >/dev/null 2>&1 || true
if [[ -s $T/health.png ]]; then
  # The screenshot holds the page's red (#c62828) and green (#2e7d32) cells.
  colours=$(python3 - "$T/health.png" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n"
pos, idat, w, h = 8, b"", 0, 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        bpp = {2: 3, 6: 4}[ctype]
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
raw, seen, prev = zlib.decompress(idat), set(), bytearray(w * bpp)
stride = w * bpp + 1
for y in range(h):
    f, line = raw[y * stride], bytearray(raw[y * stride + 1:(y + 1) * stride])
    for x in range(len(line)):
        a = line[x - bpp] if x >= bpp else 0
        b, c = prev[x], prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    prev = line
    for x in range(0, len(line), bpp):
        seen.add(tuple(line[x:x + 3]))
print(("red " if (0xc6, 0x28, 0x28) in seen else "") + ("green" if (0x2e, 0x7d, 0x32) in seen else ""))
PY
)
  t_eq "screenshot: red and green cells on the page" "red green" "$colours"
else
  t_fail "screenshot" "Chromium made no screenshot"
fi
clair_mode ok

# --- /_metrics: promtool, then a real Prometheus scrape.
http_req GET "$u/_ping"
http_req GET "$u/_metrics"
t_eq "/_metrics: 200" 200 "$RESP_STATUS"
t_eq "/_metrics: exposition content type" "text/plain; version=0.0.4; charset=utf-8" "$(resp_header Content-Type)"
out=$(promtool check metrics <<<"$RESP_BODY" 2>&1) && rc=0 || rc=$?
t_eq "/_metrics: promtool check metrics is happy" "0:" "$rc:$out"
t_match "/_metrics: components up" 'portus_health_up\{component="database"\} 1' "$RESP_BODY"
t_match "/_metrics: check durations" 'portus_health_check_duration_seconds\{component="clair"\} [0-9.]+' "$RESP_BODY"
t_match "/_metrics: check timestamps" 'portus_health_check_timestamp_seconds\{component="registry"\} [0-9]{10}\.[0-9]{3}' "$RESP_BODY"
t_match "/_metrics: requests by route and status" 'portus_health_requests_total\{route="ping",code="200"\} [1-9]' "$RESP_BODY"
t_match "/_metrics: 404s counted" 'portus_health_requests_total\{route="other",code="404"\} [1-9]' "$RESP_BODY"
prom_port=$(free_port)
cat >"$T/prometheus.yml" <<YML
global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: portus-health
    metrics_path: /_metrics
    static_configs: [ { targets: ["127.0.0.1:$NGINX_PORT"] } ]
YML
spawn prometheus prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prom-data" \
  --web.listen-address="127.0.0.1:$prom_port"
prom_pid=$SPAWNED_PID
wait_port "$prom_port" 30
# scraped: Prometheus has portus_health_up of every component (in $got).
got=
scraped() {
  got=$(curl -s --max-time 5 "http://127.0.0.1:$prom_port/api/v1/query?query=portus_health_up" |
    jq -r '[.data.result[] | .metric.component + "=" + .value[1]] | sort | join(",")' 2>/dev/null || true)
  [[ $got == *clair* && $got == *database* && $got == *registry* ]]
}
_poll 30 "$prom_pid" scraped || true
t_eq "Prometheus scraped portus_health_up" "clair=1,database=1,registry=1" "$got"
health=$(curl -s "http://127.0.0.1:$prom_port/api/v1/query?query=up" | jq -r '.data.result[0].value[1]' 2>/dev/null || true)
t_eq "Prometheus: the target is up" 1 "$health"

# --- Nagios / Icinga check_http.
check_http=/usr/lib/nagios/plugins/check_http
out=$("$check_http" -H 127.0.0.1 -p "$NGINX_PORT" -u /_health -e 200 2>&1) && rc=0 || rc=$?
t_eq "check_http /_health, all up: OK (0)" 0 "$rc"
t_match "check_http /_health: says OK" '^HTTP OK' "$out"
out=$("$check_http" -H 127.0.0.1 -p "$NGINX_PORT" -u /_health -s '"success":false' -e 200 2>&1) && rc=0 || rc=$?
t_eq "check_http: no component failing (string absent): CRITICAL (2)" 2 "$rc"
clair_stop
out=$("$check_http" -H 127.0.0.1 -p "$NGINX_PORT" -u /_health -e 200 2>&1) && rc=0 || rc=$?
t_eq "check_http /_health, clair down: CRITICAL (2)" 2 "$rc"
t_match "check_http: says 503" '503' "$out"
out=$("$check_http" -H 127.0.0.1 -p "$NGINX_PORT" -u /_ping 2>&1) && rc=0 || rc=$?
t_eq "check_http /_ping with clair down: OK (0)" 0 "$rc"
out=$("$check_http" -H 127.0.0.1 -p "$NGINX_PORT" -u '/_health?exclude=clair' -e 200 2>&1) && rc=0 || rc=$?
t_eq "check_http /_health?exclude=clair: OK (0)" 0 "$rc"

t_done
