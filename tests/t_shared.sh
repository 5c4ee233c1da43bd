#!/usr/bin/env bash
# SPEC 5: one health run per health.cache_ttl whatever the deployment.
# Real Apache runs portus-health under mod_fcgid (up to 8 processes) and
# as CGI (a process per request), with MariaDB and with PostgreSQL and the
# Clair stand-in; under a few seconds of /_health load, the dependencies
# see at most one run per TTL.  Then the cache directory under attack: a
# directory of another user, a symbolic link, a garbage file, another
# configuration's file, a file others may write, a directory it cannot
# write: each is ignored, logged, and the answer is still right.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-mysql.sh"

calibrate
pg_start
pg_sql "ALTER SYSTEM SET log_connections = on" >/dev/null
pg_sql "SELECT pg_reload_conf()" >/dev/null
my_start
registry_start
clair_start
export PORTUS_LOCAL_CONFIG_PATH=$T/absent.yml

# The responders run as www-data: their cache directory is theirs.
WWW_CACHE=$T/cache-www
install -d -o www-data -g www-data -m 700 "$WWW_CACHE"

# pg_sessions: sessions PostgreSQL opened for portus-health (log_connections).
pg_sessions() { grep -c 'connection authorized:.*application_name=portus-health' "$T/pg.log" || true; }
# my_sessions: connections MariaDB accepted, less the one asking.
my_sessions() { echo $(($(my_connections) - 1)); }
# responders: portus-health processes Apache has running now.
responders() { pgrep -c -u www-data -f "$T/shared/lib/[a-z0-9]+/portus-health" || true; }

# Settings for the one Apache config, per database: SetEnv lines, the CGI
# environment under mod_cgi and FastCGI parameters of each request under
# mod_fcgid.
settings() { # ADAPTER
  local a=$1 kw
  for kw in SetEnv; do
    cat <<EOF
  $kw PORTUS_LOCAL_CONFIG_PATH $T/absent.yml
  $kw PORTUS_HEALTH_CACHE_DIR $WWW_CACHE
  $kw PORTUS_HEALTH_CACHE_TTL 1
  $kw PORTUS_REGISTRY_HOSTNAME 127.0.0.1:$REG_PORT
  $kw PORTUS_SECURITY_CLAIR_SERVER http://127.0.0.1:$CLAIR_PORT
  $kw PORTUS_SECURITY_CLAIR_HEALTH_PORT $CLAIR_PORT
EOF
    if [[ $a == postgresql ]]; then
      cat <<EOF
  $kw PORTUS_DB_ADAPTER postgresql
  $kw PORTUS_DB_HOST 127.0.0.1
  $kw PORTUS_DB_PORT $PG_PORT
  $kw PORTUS_DB_USERNAME portus
  $kw PORTUS_DB_PASSWORD $PG_PASSWORD
  $kw PORTUS_DB_DATABASE portus_test
EOF
    else
      cat <<EOF
  $kw PORTUS_DB_HOST 127.0.0.1
  $kw PORTUS_DB_PORT $MY_PORT
  $kw PORTUS_DB_USERNAME portus
  $kw PORTUS_DB_PASSWORD $MY_PASSWORD
  $kw PORTUS_DB_DATABASE portus_test
EOF
    fi
  done
}

# The four deployments: /fcgid-my/, /fcgid-pg/ (mod_fcgid, up to 8
# processes each) and /cgi-my/, /cgi-pg/ (mod_cgi).
{
  cat <<EOF
# The processes' own cache directory (a per-request one is not used).
FcgidInitialEnv PORTUS_HEALTH_CACHE_DIR $WWW_CACHE
FcgidMaxProcessesPerClass 8
FcgidMaxProcesses 32
FcgidSpawnScoreUpLimit 100
FcgidIdleTimeout 60
EOF
  for a in mysql2 postgresql; do
    short=my
    if [[ $a == postgresql ]]; then short=pg; fi
    cat <<EOF
AliasMatch "^/fcgid-$short(/.*)$" "/usr/local/lib/portus-health/$a/portus-health\$1"
<Directory /usr/local/lib/portus-health/$a>
  SetHandler fcgid-script
  Options +ExecCGI
  Require all granted
</Directory>
ScriptAliasMatch "^/cgi-$short(/.*)$" "/usr/local/lib/portus-health/portus-health\$1"
<LocationMatch "^/(fcgid|cgi)-$short/">
$(settings "$a")
</LocationMatch>
<Directory /usr/local/lib/portus-health>
  Options +ExecCGI
  Require all granted
</Directory>
EOF
  done
} >"$T/shared.conf"
apache_start shared "$T/shared.conf" fcgid cgi
# A binary per mod_fcgid class (one class per path, so each has its own
# settings and processes).
for a in mysql2 postgresql; do
  install -d "$T/shared/lib/$a"
  install -m 0755 "$RESPONDER" "$T/shared/lib/$a/portus-health"
done

# load NAME URL: a few seconds of /_health from 16 clients; then what the
# dependencies saw: no more than one run per TTL (1 s), every answer 200.
load() {
  local name=$1 url=$2 clair0 pg0 my0 start ms runs
  http_req GET "$url"
  t_eq "$name: /_health answers" 200 "$RESP_STATUS"
  clair0=$(clair_hits) pg0=$(pg_sessions) my0=$(my_sessions)
  start=$(now_ms)
  wrk -t2 -c16 -d4s "$url" >"$T/wrk-$name.log" 2>&1 || true
  ms=$(ms_since "$start")
  runs=$((ms / 1000 + 1))
  t_match "$name: requests made" '[0-9]+ requests in' "$(cat "$T/wrk-$name.log")"
  t_nomatch "$name: every answer 200" 'Non-2xx' "$(cat "$T/wrk-$name.log")"
  # Apache's own connection handling may show here; not the responder's.
  grep 'Socket errors' "$T/wrk-$name.log" | sed "s/^/# $name: /" || true
  t_between "$name: Clair probes in ${ms} ms, at most one per second" $(($(clair_hits) - clair0)) 1 "$runs"
  t_between "$name: new PostgreSQL sessions" $(($(pg_sessions) - pg0)) 0 "$runs"
  t_between "$name: new MariaDB sessions" $(($(my_sessions) - my0)) 0 "$runs"
  echo "# $name: $(grep -E 'Requests/sec' "$T/wrk-$name.log" | awk '{print $2}') requests/s," \
    "$(($(clair_hits) - clair0)) Clair probes, $(($(pg_sessions) - pg0)) PostgreSQL and" \
    "$(($(my_sessions) - my0)) MariaDB sessions in $ms ms"
}

load "mod_fcgid, MariaDB" "$APACHE_URL/fcgid-my/_health"
t_match "mod_fcgid ran several processes ($(responders))" '^([2-9]|[1-9][0-9]+)$' "$(responders)"
load "mod_fcgid, PostgreSQL" "$APACHE_URL/fcgid-pg/_health"
load "CGI, MariaDB" "$APACHE_URL/cgi-my/_health"
load "CGI, PostgreSQL" "$APACHE_URL/cgi-pg/_health"
t_eq "one file for each configuration (two adapters), mod_fcgid and CGI alike: no more" 2 "$(find "$WWW_CACHE" -name '*.json' | wc -l)"
t_eq "the cache directory is private" "700 www-data" "$(stat -c '%a %U' "$WWW_CACHE")"
t_eq "its files are private" "600" "$(stat -c '%a' "$WWW_CACHE"/*.json | sort -u | tr '\n' ' ' | xargs)"
stop_pid "$APACHE_PID"

# ---------------------------------------------------------------- hostile cache

# CGI as root from here, each case with a cache of its own, and Clair
# failing: a result that was not believed would show Clair up.
pg_exports
export PORTUS_REGISTRY_HOSTNAME=127.0.0.1:$REG_PORT PORTUS_HEALTH_CACHE_TTL=60
export PORTUS_SECURITY_CLAIR_SERVER=http://127.0.0.1:$CLAIR_PORT PORTUS_SECURITY_CLAIR_HEALTH_PORT=$CLAIR_PORT

# fresh DIR: one good run with Clair up, which leaves DIR's result file.
fresh() {
  clair_mode ok
  PORTUS_HEALTH_CACHE_DIR=$1 cgi_req GET /_health
  RESULT=$(find "$1" -name '*.json' | head -1)
  clair_mode fail
}
# believed NAME DIR: a request now; was the file believed (Clair up), or
# did the process check by itself (Clair failing)?
ask() {
  local hits
  hits=$(clair_hits)
  PORTUS_HEALTH_CACHE_DIR=$1 cgi_req GET /_health
  PROBED=$(($(clair_hits) - hits))
}

mkdir -m 700 "$T/c-good"
fresh "$T/c-good"
t_match "a result file is written" '\.json$' "$RESULT"
ask "$T/c-good"
t_eq "a fresh result file is believed: no probe" 0 "$PROBED"
t_eq "a fresh result file is believed: its answer" "clair is reachable" "$(json_get .clair.msg)"

# A directory of another user.
mkdir -m 700 "$T/c-other"
chown nobody "$T/c-other"
ask "$T/c-other"
t_eq "another user's directory: checked here" "1 clair is not reachable: HTTP 500" "$PROBED $(json_get .clair.msg)"
t_match "another user's directory: logged" "health.cache_dir $T/c-other: not a private directory" "$RESP_STDERR"
t_eq "another user's directory: nothing written in it" "" "$(ls -A "$T/c-other")"

# A directory others may write in.
mkdir -m 777 "$T/c-open"
ask "$T/c-open"
t_eq "a directory others may write in: checked here" "1 503" "$PROBED $RESP_STATUS"
t_match "a directory others may write in: logged" "not a private directory" "$RESP_STDERR"

# A symbolic link in place of the result, to a good-looking file.
mkdir -m 700 "$T/c-link"
fresh "$T/c-link"
mv "$RESULT" "$T/planted.json"
ln -s "$T/planted.json" "$RESULT"
ask "$T/c-link"
t_eq "a symbolic link: not followed, checked here" "1 clair is not reachable: HTTP 500" "$PROBED $(json_get .clair.msg)"
t_match "a symbolic link: logged" "cache file .*\\.json: a symbolic link" "$RESP_STDERR"

# A garbage file, then a truncated one.
mkdir -m 700 "$T/c-junk"
fresh "$T/c-junk"
head -c 3000 /dev/urandom >"$RESULT"
ask "$T/c-junk"
t_eq "a garbage file: checked here" "1 clair is not reachable: HTTP 500" "$PROBED $(json_get .clair.msg)"
t_match "a garbage file: logged" "not a result of this configuration" "$RESP_STDERR"
t_match "a garbage file: replaced by a good result" '"format":"portus-health/1"' "$(cat "$RESULT")"
clair_mode ok
ask "$T/c-junk"
clair_mode fail
head -c 40 "$RESULT" >"$RESULT.cut" && cat "$RESULT.cut" >"$RESULT"
ask "$T/c-junk"
t_eq "a truncated file: checked here" "1 503" "$PROBED $RESP_STATUS"

# Another configuration's result under this one's name.
mkdir -m 700 "$T/c-foreign"
fresh "$T/c-foreign"
other=$RESULT
PORTUS_HEALTH_TIMEOUT=4 fresh "$T/c-foreign"
for f in "$T"/c-foreign/*.json; do [[ $f == "$other" ]] || mine=$f; done
cp "$other" "$mine"
PORTUS_HEALTH_TIMEOUT=4 ask "$T/c-foreign"
t_eq "another configuration's file: checked here" "1 clair is not reachable: HTTP 500" "$PROBED $(json_get .clair.msg)"

# A file others may write.
mkdir -m 700 "$T/c-mode"
fresh "$T/c-mode"
chmod 666 "$RESULT"
ask "$T/c-mode"
t_eq "a file others may write: checked here" "1 clair is not reachable: HTTP 500" "$PROBED $(json_get .clair.msg)"
t_match "a file others may write: logged" "not a private regular file of this user" "$RESP_STDERR"

# A file of another user.
chmod 600 "$RESULT"
chown nobody "$RESULT"
ask "$T/c-mode"
t_eq "a file of another user: checked here" "1 503" "$PROBED $RESP_STATUS"

# A directory it may not write in (as www-data: root writes anywhere).
install -d -o www-data -g www-data -m 500 "$T/c-ro"
install -m 0755 "$RESPONDER" "$T/ph-www"
RESPONDER=$T/ph-www
clair_mode ok
_request_env GET /_health /_health settings
_REQ_ENV+=("PORTUS_HEALTH_CACHE_DIR=$T/c-ro")
_run_request "$(command -v runuser)" -u www-data -- env "${_REQ_ENV[@]}" "$RESPONDER"
t_eq "a directory it cannot write: the right answer" "200 clair is reachable" "$RESP_STATUS $(json_get .clair.msg)"
t_eq "a directory it cannot write: no crash" 0 "$RESP_RC"

t_done
