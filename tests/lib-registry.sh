# shellcheck shell=bash
# The HTTP dependencies for the integration tests of portus-health: Debian's
# docker-registry with token auth (plain and TLS), the Clair stand-in
# (tests/clair-standin.py, Clair not being packaged), and fake peers
# (tests/fake-http.py): an HTTP server with a fixed answer, a TCP peer that
# accepts and never answers, one that greets like a mail server. Each runs
# on a free port of 127.0.0.1 under lib.sh's spawn. lib.sh sources this
# file; a test script needs nothing more than lib.sh. Do not call the
# *_start functions inside $(...).

# _registry_config PORT DATADIR [TLS]: print a docker-registry config.
# Token auth makes GET /v2/ answer 401 as Portus's registries do; the access
# log (stdout) records each request.  Its tokens are those of $T/registry.key
# issued by portus.test for the service REG_SERVICE (registry.test unless
# set; a working Portus deployment has it be the registry's hostname).
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
    service: ${REG_SERVICE:-registry.test}
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

# ---------------------------------------------------------------- Clair stand-in

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

# ---------------------------------------------------------------- fake peers

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
