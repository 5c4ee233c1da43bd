#!/usr/bin/env bash
# SPEC 4 through the binary: defaults < config-local.yml < PORTUS_*, and a
# clear error naming file and line, or key and source, for each kind of bad
# configuration, in every mode.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
B=$RESPONDER
cfg=$T/config-local.yml
export PORTUS_LOCAL_CONFIG_PATH=$cfg

# printed KEY: the value --print-config shows for KEY, with its source.
printed() { "$B" --print-config 2>/dev/null | grep -E "^$1 " | sed -E 's/ +/ /g'; }

# run_err: run --print-config, keep stderr and the exit status.
run_err() {
  ERR_RC=0
  ERR=$("$B" --print-config 2>&1 >/dev/null) || ERR_RC=$?
}

# Precedence.
rm -f "$cfg"
t_eq "no file: default" 'security.clair.health_port 6061 # default' "$(printed security.clair.health_port)"
cat >"$cfg" <<'YAML'
# A Portus config-local.yml: keys we do not use pass quietly.
email:
  from: portus@example.com
security:
  clair:
    server: "http://clair.example.com:6060"
    health_port: 7000
health:
  timeout: 3
YAML
t_eq "file overrides the default" "security.clair.health_port 7000 # $cfg:7" "$(printed security.clair.health_port)"
t_eq "file string value" "security.clair.server \"http://clair.example.com:6060\" # $cfg:6" \
  "$(printed security.clair.server)"
PORTUS_SECURITY_CLAIR_HEALTH_PORT=8000 t_eq "environment overrides the file" \
  "security.clair.health_port 8000 # environment PORTUS_SECURITY_CLAIR_HEALTH_PORT" \
  "$(PORTUS_SECURITY_CLAIR_HEALTH_PORT=8000 printed security.clair.health_port)"
t_eq "untouched keys keep their defaults" "registry.timeout.value 2 # default" "$(printed registry.timeout.value)"
t_eq "booleans from the environment, any case" "registry.use_ssl true # environment PORTUS_REGISTRY_USE_SSL" \
  "$(PORTUS_REGISTRY_USE_SSL=TRUE printed registry.use_ssl)"
run_err
t_nomatch "Portus's own keys are not warned about" 'email' "$ERR"

# The file that is read is the one the settings come from: a setting in
# config-local.yml changes what the check does.
rm -f "$cfg"
cd "$T"
mkdir -p config
printf 'health:\n  cache_ttl: 9\n' >config/config-local.yml
t_eq "config/config-local.yml relative to the working directory" \
  "health.cache_ttl 9 # config/config-local.yml:2" "$(env -u PORTUS_LOCAL_CONFIG_PATH "$B" --print-config | grep '^health.cache_ttl' | sed -E 's/ +/ /g')"
cd "$ROOT"

# Errors: file and line, or key and source.  Each in --print-config,
# --check, --check-db (exit 2, saying why) and CGI: /_ping stays 200, every
# other route answers 503 with the error, and the log says why.
check_error() { # NAME REGEX
  run_err
  t_eq "$1: exit status 2" 2 "$ERR_RC"
  t_match "$1: the message" "$2" "$ERR"
  local rc=0 out
  out=$("$B" --check 2>&1) || rc=$?
  t_eq "$1: --check exits 2" 2 "$rc"
  t_match "$1: --check says why" "$2" "$out"
  rc=0
  out=$("$B" --check-db 2>&1) || rc=$?
  t_eq "$1: --check-db exits 2" 2 "$rc"
  cgi_req GET /_ping
  t_eq "$1: CGI /_ping stays 200" 200 "$RESP_STATUS"
  cgi_req GET /_health
  t_eq "$1: CGI /_health answers 503" 503 "$RESP_STATUS"
  t_match "$1: CGI JSON error names it" "^configuration: $2" "$(json_get .error)"
  t_match "$1: CGI logs why" "$2" "$RESP_STDERR"
  cgi_req GET /_metrics
  t_eq "$1: CGI /_metrics answers 503" 503 "$RESP_STATUS"
}

printf 'security:\n  clair:\n    server: [unclosed\n' >"$cfg"
check_error "broken YAML" "$cfg:[0-9]+:[0-9]+: invalid YAML"
printf -- '- a\n- list\n' >"$cfg"
check_error "a list at the top" "$cfg:1: the top level is not a mapping"
printf 'just a string\n' >"$cfg"
check_error "a scalar at the top" "$cfg:1: the top level is not a mapping"
printf 'health:\n  timeout: soon\n' >"$cfg"
check_error "wrong type in the file" "health.timeout: expected an integer \\(from $cfg:2\\)"
printf 'security:\n  clair: "http://x"\n' >"$cfg"
check_error "a string where a mapping belongs" "$cfg:2: security.clair: expected a mapping, got a scalar"
printf 'security:\n  clair:\n    health_port:\n      - 1\n' >"$cfg"
check_error "a list where a number belongs" "$cfg:4: security.clair.health_port: expected an integer, got a list"
printf 'security:\n  clair:\n    health_port: 70000\n' >"$cfg"
check_error "port out of range" "security.clair.health_port: 70000 is out of range 1-65535 \\(from $cfg:3\\)"
printf 'health:\n  timeout: 99999999999999999999999\n' >"$cfg"
check_error "an enormous number" "health.timeout: out of range 1-3600 \\(from $cfg:2\\)"
printf 'registry:\n  use_ssl: maybe\n' >"$cfg"
check_error "not a boolean" "registry.use_ssl: expected a boolean"
rm -f "$cfg"
mkdir "$cfg"
check_error "a directory instead of a file" "$cfg: not a regular file"
rmdir "$cfg"

# The value itself is never echoed: it may be a secret put under the wrong key.
printf 'health:\n  timeout: hunter2-S3cret\n' >"$cfg"
cgi_req GET /_health
t_nomatch "a bad value is not echoed in the body" 'hunter2' "$RESP_BODY"
t_nomatch "a bad value is not echoed in the log" 'hunter2' "$RESP_STDERR"
rm -f "$cfg"

# Environment errors name the variable.
export PORTUS_HEALTH_CACHE_TTL=-1
check_error "negative cache_ttl from the environment" "health.cache_ttl: -1 is out of range 0-86400 \\(from environment PORTUS_HEALTH_CACHE_TTL\\)"
export PORTUS_HEALTH_CACHE_TTL=often
check_error "a word for a number from the environment" "health.cache_ttl: expected an integer \\(from environment PORTUS_HEALTH_CACHE_TTL\\)"
unset PORTUS_HEALTH_CACHE_TTL
export PORTUS_REGISTRY_TIMEOUT_VALUE=true
check_error "a boolean for a number" "registry.timeout.value: expected an integer"
unset PORTUS_REGISTRY_TIMEOUT_VALUE
export PORTUS_DB_PORT=0
check_error "database port out of range" "db.port: 0 is out of range 1-65535 \\(from environment PORTUS_DB_PORT\\)"
unset PORTUS_DB_PORT

# health.allow never fails open while the configuration is broken: a known
# range still applies; an unknown one (the file cannot be read) lets only
# this host see the error.
printf 'health:\n  timeout: soon\n  allow: [10.0.0.0/8]\n' >"$cfg"
cgi_req GET /_health
t_eq "broken, health.allow known: a client outside it gets 403" 403 "$RESP_STATUS"
printf 'health:\n  allow: [10.0.0.0/8\n' >"$cfg"
cgi_req GET /_health
t_eq "broken YAML, health.allow unknown: loopback sees the error" 503 "$RESP_STATUS"
_request_env GET /_health /_health settings
_REQ_ENV+=(REMOTE_ADDR=192.0.2.7)
_run_cgi
t_eq "broken YAML, health.allow unknown: another client gets 403" 403 "$RESP_STATUS"
_request_env GET /_health /_health settings
_REQ_ENV+=(PORTUS_HEALTH_ALLOW=192.0.2.0/24 REMOTE_ADDR=192.0.2.7)
_run_cgi
t_eq "broken YAML, health.allow from the environment: it applies" 503 "$RESP_STATUS"
cgi_req GET /_ping
t_eq "broken YAML: /_ping still 200" 200 "$RESP_STATUS"

# A FastCGI responder never stops on a bad configuration: /_ping stays up,
# the rest says why; it reads the file again when it changes, and on SIGHUP;
# a file that breaks later leaves the last good configuration in use.
printf 'health:\n  timeout: soon\n' >"$cfg"
export PORTUS_HEALTH_CACHE_TTL=0
fcgi_start
fcgi_req GET /_ping
t_eq "FastCGI, broken from the start: /_ping 200" 200 "$RESP_STATUS"
fcgi_req GET /_health
t_eq "FastCGI, broken from the start: /_health 503" 503 "$RESP_STATUS"
t_match "FastCGI, broken from the start: says why" '^configuration: health.timeout: expected an integer' "$(json_get .error)"
t_match "FastCGI: logs why" 'health.timeout: expected an integer' "$(cat "$T/fcgi.log")"
t_eq "FastCGI: still running" yes "$(pid_alive "$FCGI_PID" && echo yes)"
fixed() { fcgi_req GET /_health; [[ $RESP_STATUS != 503 || $(json_get '.error // empty') != configuration:* ]]; }
printf 'health:\n  timeout: 2\n' >"$cfg"
_poll 30 "$FCGI_PID" fixed || true
t_eq "FastCGI: the fixed file is read without a restart" "" "$(json_get '.error // empty')"
t_match "FastCGI: a health answer now" 'database' "$RESP_BODY"
t_match "FastCGI: the log says the configuration is good now" 'configuration: read without error now' "$(cat "$T/fcgi.log")"
printf 'health:\n  timeout: [\n' >"$cfg"
broken_logged() { fcgi_req GET /_health; grep -q 'keeping the last good one' "$T/fcgi.log"; }
_poll 30 "$FCGI_PID" broken_logged || true
t_match "FastCGI: a file broken later is logged" "$cfg:[0-9]+:[0-9]+: invalid YAML.*keeping the last good one" "$(cat "$T/fcgi.log")"
fcgi_req GET /_health
t_match "FastCGI: the last good configuration stays in use" 'database' "$RESP_BODY"
fcgi_req GET /_metrics
t_match "FastCGI: /_metrics says the configuration is not ok" 'portus_health_config_ok 0' "$RESP_BODY"
# SIGHUP reads the file at once, even with no request coming.
printf 'health:\n  timeout: 2\nregistry:\n  timeout:\n    value: 4\n' >"$cfg"
kill -HUP "$FCGI_PID"
hup_read() { grep -q 'registry.timeout.value is now 4' "$T/fcgi.log"; }
_poll 30 "$FCGI_PID" hup_read || true
t_match "SIGHUP: the change is read and logged" 'configuration: registry.timeout.value is now 4 \('"$cfg"':5\)' "$(cat "$T/fcgi.log")"
t_eq "SIGHUP: still running" yes "$(pid_alive "$FCGI_PID" && echo yes)"
stop_pid "$FCGI_PID"
unset PORTUS_HEALTH_CACHE_TTL
rm -f "$cfg"

# cconfig's rules (SPEC 4), through --print-config and the document.
t_eq "enabled is on only for the boolean true (PORTUS_LDAP_ENABLED=1 leaves LDAP off)" \
  'ldap.enabled false # environment PORTUS_LDAP_ENABLED' "$(PORTUS_LDAP_ENABLED=1 printed ldap.enabled)"
PORTUS_LDAP_ENABLED=1 cgi_req GET /_health
t_eq "PORTUS_LDAP_ENABLED=1: no ldap in the document" null "$(json_get .ldap)"
t_eq "enabled from the environment: true in any case" 'ldap.enabled true # environment PORTUS_LDAP_ENABLED' \
  "$(PORTUS_LDAP_ENABLED=True printed ldap.enabled)"
printf 'ldap:\n  enabled: "true"\n' >"$cfg"
t_eq "enabled: a quoted \"true\" is a string, not true" 'ldap.enabled false # '"$cfg"':2' "$(printed ldap.enabled)"
printf 'security:\n  clair:\n    health_port: "6070"\n    timeout: "10"\n' >"$cfg"
t_eq "a number in quotes is that number" "security.clair.health_port 6070 # $cfg:3" "$(printed security.clair.health_port)"
printf 'ldap:\n  hostname:\n  port: ~\n' >"$cfg"
t_eq "a YAML null keeps the default (string)" 'ldap.hostname "ldap_hostname" # default' "$(printed ldap.hostname)"
t_eq "a YAML null keeps the default (number)" 'ldap.port 389 # default' "$(printed ldap.port)"
printf 'security:\n  clair:\n    server: "   "\n' >"$cfg"
t_eq "a blank string is blank" "security.clair.server \"\" # $cfg:3" "$(printed security.clair.server)"
cgi_req GET /_health
t_eq "a blank clair server: no clair check" null "$(json_get .clair)"
rm -f "$cfg"
t_eq "Integer(): a leading 0 is octal" 'health.timeout 8 # environment PORTUS_HEALTH_TIMEOUT' "$(PORTUS_HEALTH_TIMEOUT=010 printed health.timeout)"
t_eq "Integer(): hexadecimal" 'health.timeout 16 # environment PORTUS_HEALTH_TIMEOUT' "$(PORTUS_HEALTH_TIMEOUT=0x10 printed health.timeout)"
t_eq "Integer(): underscores and a sign" 'health.timeout 10 # environment PORTUS_HEALTH_TIMEOUT' "$(PORTUS_HEALTH_TIMEOUT=+1_0 printed health.timeout)"
t_eq "Integer(): 08 is no integer, a decimal string then" 'health.timeout 8 # environment PORTUS_HEALTH_TIMEOUT' "$(PORTUS_HEALTH_TIMEOUT=08 printed health.timeout)"

# CCONFIG_PREFIX renames the variables of the keys and of the local file;
# PORTUS_DB_* keep their names.
printf 'health:\n  cache_ttl: 4\n' >"$T/other.yml"
pfx() { env -u PORTUS_LOCAL_CONFIG_PATH CCONFIG_PREFIX=acme ACME_LOCAL_CONFIG_PATH="$T/other.yml" "$@"; }
t_eq "CCONFIG_PREFIX: its variables" 'health.timeout 3 # environment ACME_HEALTH_TIMEOUT' \
  "$(pfx ACME_HEALTH_TIMEOUT=3 "$B" --print-config | grep '^health.timeout' | sed -E 's/ +/ /g')"
t_eq "CCONFIG_PREFIX: PORTUS_ ones are not read for the keys" 'health.timeout 5 # default' \
  "$(pfx PORTUS_HEALTH_TIMEOUT=3 "$B" --print-config | grep '^health.timeout' | sed -E 's/ +/ /g')"
t_eq "CCONFIG_PREFIX: its LOCAL_CONFIG_PATH" "health.cache_ttl 4 # $T/other.yml:2" \
  "$(pfx "$B" --print-config | grep '^health.cache_ttl' | sed -E 's/ +/ /g')"
t_eq "CCONFIG_PREFIX: PORTUS_DB_* keep their names" 'db.host "db.example" # environment PORTUS_DB_HOST' \
  "$(pfx PORTUS_DB_HOST=db.example "$B" --print-config | grep '^db.host' | sed -E 's/ +/ /g')"
rc=0
out=$(CCONFIG_PREFIX=HTTP "$B" --print-config 2>&1 >/dev/null) || rc=$?
t_eq "CCONFIG_PREFIX=HTTP: refused" 2 "$rc"
t_match "CCONFIG_PREFIX=HTTP: says why" 'CCONFIG_PREFIX: a prefix starting with HTTP would let request headers set settings' "$out"

# Warnings: unknown keys (file and line), database keys in the file.
printf 'health:\n  timeout: 3\n  tiemout: 4\ndb:\n  host: elsewhere\n' >"$cfg"
run_err
t_eq "unknown keys are not fatal" 0 "$ERR_RC"
t_match "unknown key: a warning with file and line" "$cfg:3: unknown key \"health.tiemout\" ignored" "$ERR"
t_match "db.* in the file: environment only" "$cfg:5: db.host is read from the environment only \\(PORTUS_DB_HOST\\)" "$ERR"
t_eq "db.* in the file is not applied" 'db.host "localhost" # default' "$(printed db.host)"

# Anchors and merge keys, a section given twice, a dotted key: read as
# Ruby's Psych reads them (Portus's own loader).
cat >"$cfg" <<'YAML'
x-ldap: &ldap
  hostname: ldap.portus.test
  port: 636
  timeout: 9
ldap:
  <<: *ldap
  enabled: true
  port: 389
health:
  timeout: 3
health:
  cache_ttl: 7
registry.hostname: registry.portus.test
YAML
run_err
t_eq "merge keys: no error" 0 "$ERR_RC"
t_eq "merge key: a merged value, with its line" "ldap.hostname \"ldap.portus.test\" # $cfg:2" "$(printed ldap.hostname)"
t_eq "merge key: the mapping's own value wins" "ldap.port 389 # $cfg:8" "$(printed ldap.port)"
t_eq "merge key: beside the mapping's own keys" "ldap.enabled true # $cfg:7" "$(printed ldap.enabled)"
t_eq "a section given twice: the last one alone" "health.timeout 5 # default" "$(printed health.timeout)"
t_eq "a section given twice: the last one applies" "health.cache_ttl 7 # $cfg:12" "$(printed health.cache_ttl)"
t_match "a section given twice: a warning naming both lines" "$cfg:9: \"health\" is given again on line 11, which counts instead" "$ERR"
t_eq "a dotted key is not a path" 'registry.hostname "" # default' "$(printed registry.hostname)"
t_match "a dotted key: a warning" "$cfg:13: unknown key \"registry.hostname\" ignored" "$ERR"
printf 'health: &h\n  timeout: 3\n  <<: *h\n' >"$cfg"
check_error "a mapping merging itself" "$cfg:3: merge keys nested more than 8 deep"

# Secrets: masked in --print-config, never echoed in an error.
rm -f "$cfg"
out=$(PORTUS_DB_PASSWORD=s3cret-db-pw PORTUS_LDAP_AUTHENTICATION_PASSWORD=s3cret-ldap-pw "$B" --print-config 2>&1)
t_nomatch "--print-config hides the database password" 's3cret-db-pw' "$out"
t_nomatch "--print-config hides the LDAP password" 's3cret-ldap-pw' "$out"
t_match "--print-config shows that a password is set" 'db.password +"\*\*\*\*\*\*\*\*" +# environment PORTUS_DB_PASSWORD' "$out"
t_match "--print-config shows an empty password as empty" 'ldap.authentication.password +"" +# default' \
  "$("$B" --print-config)"

t_done
