#!/usr/bin/env bash
# The LDAP component against a real slapd on loopback: anonymous and
# authenticated binds, the server's reason on failure, simple_tls (ldaps)
# and start_tls with and without the CA (and refused by the server), a
# server that never answers or speaks another protocol, and the bind
# password kept out of every answer and log line. Durations are held to
# bounds derived from this machine's calibration (lib.sh).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-slapd.sh"

deps_start
slapd_start
calibrate
PORTUS_HEALTH_TIMEOUT=$(health_timeout 3)
export PORTUS_HEALTH_CACHE_TTL=0 PORTUS_HEALTH_TIMEOUT
export PORTUS_LDAP_ENABLED=true PORTUS_LDAP_HOSTNAME=127.0.0.1 PORTUS_LDAP_PORT=$LDAP_PORT
export PORTUS_LDAP_TIMEOUT=$PORTUS_HEALTH_TIMEOUT # ldap.timeout, 5 s by default, must not cut a slow TLS bind

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
t_eq "wrong password: the server's reason" "Invalid Credentials (code 49)" \
  "$(json_get .ldap.msg)"
t_eq "wrong password: 503" 503 "$RESP_STATUS"
t_nomatch "wrong password: not in the body" "$LDAP_USER_PW" "$RESP_BODY"
t_nomatch "wrong password: not in the log" "$LDAP_USER_PW" "$RESP_STDERR"
PORTUS_LDAP_AUTHENTICATION_BIND_DN=uid=nobody,ou=people,$LDAP_BASE cgi_req GET /_health/ldap
t_eq "a DN that does not exist" "Invalid Credentials (code 49)" "$(json_get .ldap.msg)"
PORTUS_LDAP_PORT=$(free_port) cgi_req GET /_health/ldap
t_eq "nothing listening" "LDAP server is not reachable: connection refused" "$(json_get .ldap.msg)"
PORTUS_LDAP_HOSTNAME=ldap.invalid cgi_req GET /_health/ldap
t_eq "a name that does not resolve" "LDAP server is not reachable: host not found" "$(json_get .ldap.msg)"
# A server that never answers costs ldap.timeout; health.timeout is 20 s
# there, so that an ldap.timeout ignored would show.
hang_start
start=$(now_ms)
PORTUS_LDAP_PORT=$HANG_PORT PORTUS_LDAP_TIMEOUT=1 PORTUS_HEALTH_TIMEOUT=20 cgi_req GET /_health/ldap
took=$(ms_since "$start")
t_eq "a server that never answers" "LDAP server is not reachable: connection timed out" "$(json_get .ldap.msg)"
t_duration "ldap.timeout 1 is honoured" "$took" 1000 1000 20000
# An unknown method means no encryption, as Portus falls back, with a warning.
PORTUS_LDAP_ENCRYPTION_METHOD=rot13 cgi_req GET /_health/ldap
t_eq "an unknown encryption method: plain, as in Portus" "LDAP server is reachable" "$(json_get .ldap.msg)"
t_match "an unknown encryption method: a warning" 'ldap.encryption.method is none of start_tls, simple_tls' "$RESP_STDERR"

# TLS: ldaps (simple_tls) and STARTTLS, with the CA and without.
PORTUS_LDAP_ENCRYPTION_METHOD=simple_tls PORTUS_LDAP_PORT=$LDAPS_PORT cgi_req GET /_health/ldap
t_eq "simple_tls, unknown CA" "LDAP server is not reachable: SSL error" "$(json_get .ldap.msg)"
PORTUS_HEALTH_CA_FILE=$LDAP_CA PORTUS_LDAP_ENCRYPTION_METHOD=simple_tls PORTUS_LDAP_PORT=$LDAPS_PORT cgi_req GET /_health/ldap
t_eq "simple_tls with health.ca_file" "LDAP server is reachable" "$(json_get .ldap.msg)"
# Portus's own key for the CA, which wins over health.ca_file.
PORTUS_LDAP_ENCRYPTION_OPTIONS_CA_FILE=$LDAP_CA PORTUS_LDAP_ENCRYPTION_METHOD=simple_tls PORTUS_LDAP_PORT=$LDAPS_PORT \
  cgi_req GET /_health/ldap
t_eq "simple_tls with ldap.encryption.options.ca_file" "LDAP server is reachable" "$(json_get .ldap.msg)"
PORTUS_LDAP_ENCRYPTION_OPTIONS_CA_FILE=/etc/ssl/certs/ca-certificates.crt PORTUS_HEALTH_CA_FILE=$LDAP_CA \
  PORTUS_LDAP_ENCRYPTION_METHOD=simple_tls PORTUS_LDAP_PORT=$LDAPS_PORT cgi_req GET /_health/ldap
t_eq "ldap.encryption.options.ca_file wins over health.ca_file" "LDAP server is not reachable: SSL error" "$(json_get .ldap.msg)"
PORTUS_HEALTH_CA_FILE=$LDAP_CA PORTUS_LDAP_ENCRYPTION_METHOD=simple_tls PORTUS_LDAP_PORT=$LDAPS_PORT \
  PORTUS_LDAP_AUTHENTICATION_PASSWORD=wrong cgi_req GET /_health/ldap
t_eq "simple_tls, wrong password" "Invalid Credentials (code 49)" "$(json_get .ldap.msg)"
# start_tls: the extended operation on ldap://, then TLS and the bind.
export PORTUS_LDAP_ENCRYPTION_METHOD=start_tls
PORTUS_HEALTH_CA_FILE=$LDAP_CA cgi_req GET /_health/ldap
t_eq "start_tls with health.ca_file" "LDAP server is reachable" "$(json_get .ldap.msg)"
# slapd's log: STARTTLS, TLS established, then the bind on that connection
# with a security strength above 0 (the password crossed inside TLS).
conn=$(sed -n 's/.* conn=\([0-9]*\) op=0 STARTTLS$/\1/p' "$T/slapd.log" | tail -n 1)
t_match "slapd saw STARTTLS" '^[0-9]+$' "$conn"
t_match "slapd: TLS established on that connection" "conn=$conn fd=[0-9]+ TLS established" "$(<"$T/slapd.log")"
t_match "slapd: the bind came inside TLS" \
  "conn=$conn op=1 BIND dn=\"$LDAP_USER_DN\" mech=SIMPLE bind_ssf=0 ssf=[1-9][0-9]*" "$(<"$T/slapd.log")"
PORTUS_HEALTH_CA_FILE=$LDAP_CA PORTUS_LDAP_HOSTNAME=localhost cgi_req GET /_health/ldap
t_eq "start_tls by host name" "LDAP server is reachable" "$(json_get .ldap.msg)"
cgi_req GET /_health/ldap
t_eq "start_tls, unknown CA" "LDAP server is not reachable: SSL error" "$(json_get .ldap.msg)"
# The certificate names 127.0.0.1 and localhost, not ::ffff:127.0.0.1 (the
# same server, by its IPv4-mapped address): the name is still checked.
PORTUS_HEALTH_CA_FILE=$LDAP_CA PORTUS_LDAP_HOSTNAME=::ffff:127.0.0.1 cgi_req GET /_health/ldap
t_eq "start_tls, a name the certificate does not carry" "LDAP server is not reachable: SSL error" "$(json_get .ldap.msg)"
PORTUS_LDAP_ENCRYPTION_METHOD= PORTUS_LDAP_HOSTNAME=::ffff:127.0.0.1 cgi_req GET /_health/ldap
t_eq "plain LDAP to an IPv6 address" "LDAP server is reachable" "$(json_get .ldap.msg)"
PORTUS_HEALTH_CA_FILE=$LDAP_CA PORTUS_LDAP_AUTHENTICATION_PASSWORD=wrong cgi_req GET /_health/ldap
t_eq "start_tls, wrong password" "Invalid Credentials (code 49)" "$(json_get .ldap.msg)"
PORTUS_HEALTH_CA_FILE=$LDAP_CA PORTUS_LDAP_PORT=$(free_port) cgi_req GET /_health/ldap
t_eq "start_tls, nothing listening" "LDAP server is not reachable: connection refused" "$(json_get .ldap.msg)"
PORTUS_HEALTH_CA_FILE=$LDAP_CA PORTUS_LDAP_PORT=$LDAPS_PORT cgi_req GET /_health/ldap
t_eq "start_tls to an ldaps port" "LDAP server is not reachable: connection reset" "$(json_get .ldap.msg)"
banner_start "220 smtp.portus.test ESMTP"
PORTUS_HEALTH_CA_FILE=$LDAP_CA PORTUS_LDAP_PORT=$BANNER_PORT cgi_req GET /_health/ldap
t_eq "start_tls to a mail server" "LDAP server is not reachable: not an LDAP server" "$(json_get .ldap.msg)"
start=$(now_ms)
PORTUS_HEALTH_CA_FILE=$LDAP_CA PORTUS_LDAP_PORT=$HANG_PORT PORTUS_LDAP_TIMEOUT=1 PORTUS_HEALTH_TIMEOUT=20 cgi_req GET /_health/ldap
took=$(ms_since "$start")
t_eq "start_tls, a server that never answers" "LDAP server is not reachable: connection timed out" "$(json_get .ldap.msg)"
t_duration "start_tls: ldap.timeout 1 is honoured" "$took" 1000 1000 20000

# One FastCGI responder, many start_tls runs: no socket or thread is left.
PORTUS_HEALTH_CA_FILE=$LDAP_CA fcgi_start
fcgi_req GET /_health/ldap
t_eq "fcgi start_tls" "LDAP server is reachable" "$(json_get .ldap.msg)"
fds=$(ls "/proc/$FCGI_PID/fd" | wc -l)
threads=$(ls "/proc/$FCGI_PID/task" | wc -l)
for _ in 1 2 3 4 5; do fcgi_req GET /_health/ldap; done
t_eq "fcgi start_tls, fifth run" "LDAP server is reachable" "$(json_get .ldap.msg)"
t_eq "five start_tls runs leave no descriptor open" "$fds" "$(ls "/proc/$FCGI_PID/fd" | wc -l)"
t_eq "five start_tls runs leave no thread" "$threads" "$(ls "/proc/$FCGI_PID/task" | wc -l)"
stop_pid "$FCGI_PID"

# A server without a certificate refuses STARTTLS, with its reason.
slapd_stop
SLAPD_TLS=0 slapd_start again
PORTUS_HEALTH_CA_FILE=$LDAP_CA cgi_req GET /_health/ldap
t_eq "start_tls refused by the server" "LDAP server is not reachable: start_tls refused: Protocol Error (code 2)" \
  "$(json_get .ldap.msg)"
t_eq "start_tls refused: 503" 503 "$RESP_STATUS"
tail=$(tail -n 5 "$T/slapd.log")
t_match "start_tls refused: slapd's log ends with that request" ' op=0 EXT oid=1\.3\.6\.1\.4\.1\.1466\.20037' "$tail"
t_nomatch "start_tls refused: no bind followed (the password was never sent)" " BIND " "$tail"
slapd_stop
slapd_start again
unset PORTUS_LDAP_ENCRYPTION_METHOD
fcgi_start

# The server offers STARTTLS to OpenLDAP's own client as well.
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
