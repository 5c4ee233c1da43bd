#!/usr/bin/env bash
# Nothing secret leaves the process: the database password, the LDAP bind
# password and credentials in URLs never appear in a response body, a
# header or a log line, across every failure case; --print-config masks
# them.  And the log tells state changes once, not every failed probe.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

deps_start clair
hang_start
DBPW=Db-Secret-9f3a
LDAPPW=Ldap-Secret-71c2
CLAIRPW=Clair-Secret-5d0e
REGPW=Reg-Secret-a8b1
pg_sql "ALTER ROLE portus PASSWORD '$DBPW'"
export PORTUS_DB_PASSWORD=$DBPW PORTUS_LDAP_AUTHENTICATION_PASSWORD=$LDAPPW
calibrate
PORTUS_HEALTH_TIMEOUT=$(health_timeout 2)
export PORTUS_LOCAL_CONFIG_PATH=$T/absent.yml PORTUS_HEALTH_TIMEOUT PORTUS_HEALTH_CACHE_TTL=0
export PORTUS_SECURITY_CLAIR_SERVER=http://clairuser:$CLAIRPW@127.0.0.1:6060
export PORTUS_SECURITY_CLAIR_HEALTH_PORT=$CLAIR_PORT
export PORTUS_REGISTRY_HOSTNAME=reguser:$REGPW@127.0.0.1:$REG_PORT
secrets="$DBPW|$LDAPPW|$CLAIRPW|$REGPW"

# clean NAME: nothing of the last CGI response or its log shows a secret.
clean() {
  t_nomatch "$1: body" "$secrets" "$RESP_BODY"
  t_nomatch "$1: headers" "$secrets" "$RESP_HEADERS"
  t_nomatch "$1: log" "$secrets" "$RESP_STDERR"
}

cgi_req GET /_health
t_eq "all up with credentials everywhere" 200 "$RESP_STATUS"
clean "all up"
# The failure cases, one at a time.
PORTUS_DB_PASSWORD=wrong-$DBPW cgi_req GET /_health
t_eq "wrong database password: cannot connect" "cannot connect to database" "$(json_get .database.msg)"
clean "wrong database password"
PORTUS_DB_PORT=$(free_port) cgi_req GET /_health
clean "database refused"
PORTUS_DB_PORT=$HANG_PORT PORTUS_DB_HOST=127.0.0.1 cgi_req GET /_health
clean "database hangs"
PORTUS_DB_DATABASE=nosuchdb cgi_req GET /_health
clean "database missing"
PORTUS_DB_USERNAME=nosuchuser cgi_req GET /_health
clean "no such role"
PORTUS_DB_ADAPTER=mysql2 cgi_req GET /_health
clean "wrong adapter"
PORTUS_REGISTRY_HOSTNAME=reguser:$REGPW@127.0.0.1:$(free_port) cgi_req GET /_health
t_eq "registry with credentials, refused" "registry is not reachable: connection refused" "$(json_get .registry.msg)"
clean "registry refused"
PORTUS_REGISTRY_HOSTNAME=reguser:$REGPW@127.0.0.1:$HANG_PORT cgi_req GET /_health
clean "registry hangs"
PORTUS_REGISTRY_HOSTNAME=reguser:$REGPW@registry.invalid cgi_req GET /_health
clean "registry not found"
PORTUS_REGISTRY_HOSTNAME=reguser:$REGPW@127.0.0.1:$REG_PORT PORTUS_REGISTRY_USE_SSL=true cgi_req GET /_health
clean "registry TLS error"
clair_mode fail
cgi_req GET /_health
t_eq "clair with credentials, 500" "clair is not reachable: HTTP 500" "$(json_get .clair.msg)"
clean "clair 500"
clair_mode ok
PORTUS_SECURITY_CLAIR_HEALTH_PORT=$HANG_PORT cgi_req GET /_health
clean "clair hangs"
PORTUS_SECURITY_CLAIR_SERVER=clairuser:$CLAIRPW@127.0.0.1:6060 cgi_req GET /_health
clean "clair without a scheme (warning logged)"
PORTUS_SECURITY_CLAIR_SERVER=ftp://clairuser:$CLAIRPW@127.0.0.1 cgi_req GET /_health
clean "clair other scheme"
PORTUS_SECURITY_CLAIR_SERVER=http://clairuser:$CLAIRPW@clair.invalid cgi_req GET /_health
clean "clair not found"
# The registry from the table, with credentials in its hostname.
pg_sql "INSERT INTO registries (name, hostname, use_ssl) VALUES ('r', 'reguser:$REGPW@127.0.0.1:$(free_port)', false)"
PORTUS_REGISTRY_HOSTNAME= cgi_req GET /_health
clean "registry from the table, refused"

# The command line and --print-config.
out=$("$RESPONDER" --check 2>&1 || true)
t_nomatch "--check output and log" "$secrets" "$out"
out=$(PORTUS_DB_PORT=$(free_port) "$RESPONDER" --check 2>&1 || true)
t_nomatch "--check, database down" "$secrets" "$out"
out=$("$RESPONDER" --print-config 2>&1)
t_nomatch "--print-config: no secret" "$secrets" "$out"
t_match "--print-config: passwords masked" 'ldap.authentication.password +"\*\*\*\*\*\*\*\*".*db.password +"\*\*\*\*\*\*\*\*"' "$(tr '\n' ' ' <<<"$out")"
t_match "--print-config: URL credentials masked" 'security.clair.server +"http://clairuser:\*\*\*\*\*\*\*\*@127.0.0.1:6060".*registry.hostname +"reguser:\*\*\*\*\*\*\*\*@127.0.0.1:' "$(tr '\n' ' ' <<<"$out")"

# Configuration errors about a secret never echo it.
printf 'ldap:\n  authentication:\n    password:\n      secret: %s\n' "$LDAPPW" >"$T/bad.yml"
out=$(PORTUS_LOCAL_CONFIG_PATH=$T/bad.yml "$RESPONDER" --print-config 2>&1 || true)
t_match "a secret of the wrong type: an error naming the key" "ldap.authentication.password: expected a string" "$out"
t_nomatch "a secret of the wrong type: not echoed" "$LDAPPW" "$out"

# FastCGI: the responder's whole log over failures and recoveries.
fcgi_start
fcgi_req GET /_health
registry_stop
for _ in 1 2 3 4 5 6; do fcgi_req GET /_health; done
registry_start again
for _ in 1 2 3; do fcgi_req GET /_health; done
pg_stop
for _ in 1 2 3 4; do fcgi_req GET /_health; done
pg_start_again
fcgi_req GET /_health
log=$(<"$T/fcgi.log")
t_nomatch "FastCGI log: no secret" "$secrets" "$log"
t_eq "log: registry down once, with the reason, for 6 failed probes" 1 \
  "$(grep -c 'warning: registry is down: registry is not reachable: connection refused' <<<"$log")"
t_eq "log: registry up at the start and when back" 2 "$(grep -c 'info: registry is up' <<<"$log")"
t_eq "log: database down once for 4 failed probes" 1 "$(grep -c 'warning: database is down: cannot connect to database (' <<<"$log")"
t_eq "log: database back once" 2 "$(grep -c 'info: database is up' <<<"$log")"
t_eq "log: one line per event" 0 "$(grep -cvE '^[0-9T:-]+Z portus-health\[[0-9]+\]: (info|warning|error): ' <<<"$log" || true)"

t_done
