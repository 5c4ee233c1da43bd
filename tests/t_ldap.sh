#!/usr/bin/env bash
# The LDAP component against a real slapd on loopback: anonymous and
# authenticated binds, the server's reason on failure, simple_tls (ldaps)
# and start_tls with and without the CA, a server that never answers, and
# the bind password kept out of every answer and log line.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-slapd.sh"

deps_start
slapd_start
export PORTUS_HEALTH_CACHE_TTL=0 PORTUS_HEALTH_TIMEOUT=3
export PORTUS_LDAP_ENABLED=true PORTUS_LDAP_HOSTNAME=127.0.0.1 PORTUS_LDAP_PORT=$LDAP_PORT

# expect VIA NAME MESSAGE: GET /_health/ldap and its message.
expect() {
  "${1}_req" GET /_health/ldap
  t_eq "$1 $2" "$3" "$(json_get .ldap.msg)"
}

fcgi_start
for via in cgi fcgi; do
  expect "$via" "anonymous bind" "LDAP server is reachable"
  "${via}_req" GET /_health
  t_eq "$via ldap comes last in the document" "database,registry,ldap" "$(json_get 'keys_unsorted | join(",")')"
  t_eq "$via all up: 200" 200 "$RESP_STATUS"
done
stop_pid "$FCGI_PID"

export PORTUS_LDAP_AUTHENTICATION_ENABLED=true PORTUS_LDAP_AUTHENTICATION_BIND_DN=$LDAP_USER_DN
export PORTUS_LDAP_AUTHENTICATION_PASSWORD=$LDAP_USER_PW
fcgi_start
expect fcgi "bind as a user" "LDAP server is reachable"
expect cgi "bind as a user" "LDAP server is reachable"
PORTUS_LDAP_AUTHENTICATION_PASSWORD=wrong-$LDAP_USER_PW cgi_req GET /_health
t_eq "wrong password: the server's reason" "LDAP server is not reachable: Invalid Credentials (code 49)" \
  "$(json_get .ldap.msg)"
t_eq "wrong password: 503" 503 "$RESP_STATUS"
t_nomatch "wrong password: not in the body" "$LDAP_USER_PW" "$RESP_BODY"
t_nomatch "wrong password: not in the log" "$LDAP_USER_PW" "$RESP_STDERR"
PORTUS_LDAP_AUTHENTICATION_BIND_DN=uid=nobody,ou=people,$LDAP_BASE cgi_req GET /_health/ldap
t_eq "a DN that does not exist" "LDAP server is not reachable: Invalid Credentials (code 49)" "$(json_get .ldap.msg)"
PORTUS_LDAP_PORT=$(free_port) cgi_req GET /_health/ldap
t_eq "nothing listening" "LDAP server is not reachable: connection refused" "$(json_get .ldap.msg)"
PORTUS_LDAP_HOSTNAME=ldap.invalid cgi_req GET /_health/ldap
t_eq "a name that does not resolve" "LDAP server is not reachable: host not found" "$(json_get .ldap.msg)"
hang_start
start=$(date +%s%N)
PORTUS_LDAP_PORT=$HANG_PORT PORTUS_LDAP_TIMEOUT=1 cgi_req GET /_health/ldap
took=$((($(date +%s%N) - start) / 1000000))
t_eq "a server that never answers" "LDAP server is not reachable: connection timed out" "$(json_get .ldap.msg)"
t_match "ldap.timeout 1 is honoured (${took} ms)" '^(1[0-9]{3}|[0-9]{1,3})$' "$took"
PORTUS_LDAP_ENCRYPTION_METHOD=rot13 cgi_req GET /_health/ldap
t_eq "an unknown encryption method" "LDAP server is not reachable: unknown encryption method" "$(json_get .ldap.msg)"

# TLS: ldaps (simple_tls) and STARTTLS, with the CA and without.
PORTUS_LDAP_ENCRYPTION_METHOD=simple_tls PORTUS_LDAP_PORT=$LDAPS_PORT cgi_req GET /_health/ldap
t_eq "simple_tls, unknown CA" "LDAP server is not reachable: SSL error" "$(json_get .ldap.msg)"
PORTUS_HEALTH_CA_FILE=$LDAP_CA PORTUS_LDAP_ENCRYPTION_METHOD=simple_tls PORTUS_LDAP_PORT=$LDAPS_PORT cgi_req GET /_health/ldap
t_eq "simple_tls with health.ca_file" "LDAP server is reachable" "$(json_get .ldap.msg)"
PORTUS_HEALTH_CA_FILE=$LDAP_CA PORTUS_LDAP_ENCRYPTION_METHOD=simple_tls PORTUS_LDAP_PORT=$LDAPS_PORT \
  PORTUS_LDAP_AUTHENTICATION_PASSWORD=wrong cgi_req GET /_health/ldap
t_eq "simple_tls, wrong password" "LDAP server is not reachable: Invalid Credentials (code 49)" "$(json_get .ldap.msg)"
# STARTTLS through libcurl's OpenLDAP backend is broken in libcurl 7.87 to
# 8.5 (Debian 12 has 7.88): the check says so instead of a false failure.
curlver=$(curl --version | awk 'NR == 1 { print $2 }')
PORTUS_HEALTH_CA_FILE=$LDAP_CA PORTUS_LDAP_ENCRYPTION_METHOD=start_tls cgi_req GET /_health/ldap
if printf '%s\n8.6.0\n' "$curlver" | sort -V -C; then
  t_eq "start_tls with libcurl $curlver: says it needs 8.6" \
    "LDAP server is not reachable: start_tls needs libcurl 8.6 or later" "$(json_get .ldap.msg)"
else
  t_eq "start_tls with health.ca_file" "LDAP server is reachable" "$(json_get .ldap.msg)"
  PORTUS_LDAP_ENCRYPTION_METHOD=start_tls cgi_req GET /_health/ldap
  t_eq "start_tls, unknown CA" "LDAP server is not reachable: SSL error" "$(json_get .ldap.msg)"
fi
# The server offers STARTTLS all the same (checked with OpenLDAP's client).
out=$(LDAPTLS_CACERT=$LDAP_CA ldapwhoami -x -ZZ -H "ldap://127.0.0.1:$LDAP_PORT" -D "$LDAP_USER_DN" -w "$LDAP_USER_PW" 2>&1) && rc=0 || rc=$?
t_eq "slapd offers STARTTLS (ldapwhoami -ZZ)" "0 dn:$LDAP_USER_DN" "$rc $out"

# The server going away and coming back, under one responder.
slapd_stop
expect fcgi "slapd stopped" "LDAP server is not reachable: connection refused"
fcgi_req GET /_ping
t_eq "/_ping while LDAP is down" 200 "$RESP_STATUS"
slapd_start again
expect fcgi "slapd back" "LDAP server is reachable"
t_nomatch "the FastCGI log never shows the bind password" "$LDAP_USER_PW" "$(<"$T/fcgi.log")"
t_match "the FastCGI log tells ldap went down, with why" "warning: ldap is down: LDAP server is not reachable: connection refused" "$(<"$T/fcgi.log")"
out=$("$RESPONDER" --print-config)
t_match "--print-config masks the bind password" 'ldap.authentication.password +"\*\*\*\*\*\*\*\*"' "$out"

# --check -c ldap, and ldap.enabled false leaves it out.
rc=0; "$RESPONDER" --check -q -c ldap || rc=$?
t_eq "--check -c ldap: exit 0" 0 "$rc"
PORTUS_LDAP_ENABLED=false cgi_req GET /_health
t_eq "ldap.enabled false: no ldap key" "database,registry" "$(json_get 'keys_unsorted | join(",")')"

t_done
