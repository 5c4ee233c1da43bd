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

# Errors: file and line, or key and source.  Each in --print-config, --check,
# CGI (a 500 with a JSON error) and FastCGI (exit with the message).
check_error() { # NAME REGEX
  run_err
  t_eq "$1: exit status 2" 2 "$ERR_RC"
  t_match "$1: the message" "$2" "$ERR"
  local rc=0 out
  out=$("$B" --check 2>&1) || rc=$?
  t_eq "$1: --check exits 2" 2 "$rc"
  t_match "$1: --check says why" "$2" "$out"
  cgi_req GET /_health
  t_eq "$1: CGI answers 500" 500 "$RESP_STATUS"
  t_eq "$1: CGI JSON error" "configuration error" "$(json_get .error)"
  t_match "$1: CGI logs why" "$2" "$RESP_STDERR"
}

printf 'security:\n  clair:\n    server: [unclosed\n' >"$cfg"
check_error "broken YAML" "$cfg:[0-9]+:[0-9]+: invalid YAML"
printf -- '- a\n- list\n' >"$cfg"
check_error "a list at the top" "$cfg:1: the top level is not a mapping"
printf 'just a string\n' >"$cfg"
check_error "a scalar at the top" "$cfg:1: the top level is not a mapping"
printf 'health:\n  timeout: soon\n' >"$cfg"
check_error "wrong type in the file" "health.timeout: expected an integer, got \"soon\" \\(from $cfg:2\\)"
printf 'security:\n  clair: "http://x"\n' >"$cfg"
check_error "a string where a mapping belongs" "$cfg:2: security.clair: expected a mapping, got a scalar"
printf 'security:\n  clair:\n    health_port:\n      - 1\n' >"$cfg"
check_error "a list where a number belongs" "$cfg:4: security.clair.health_port: expected an integer, got a list"
printf 'security:\n  clair:\n    health_port: 70000\n' >"$cfg"
check_error "port out of range" "security.clair.health_port: 70000 is out of range 1-65535 \\(from $cfg:3\\)"
printf 'health:\n  timeout: 99999999999999999999999\n' >"$cfg"
check_error "an enormous number" "health.timeout: expected an integer"
printf 'registry:\n  use_ssl: maybe\n' >"$cfg"
check_error "not a boolean" "registry.use_ssl: expected a boolean"
rm -f "$cfg"
mkdir "$cfg"
check_error "a directory instead of a file" "$cfg: not a regular file"
rmdir "$cfg"

# Environment errors name the variable.
export PORTUS_HEALTH_CACHE_TTL=-1
check_error "negative cache_ttl from the environment" "health.cache_ttl: -1 is out of range 0-86400 \\(from environment PORTUS_HEALTH_CACHE_TTL\\)"
export PORTUS_HEALTH_CACHE_TTL=often
check_error "a word for a number from the environment" "health.cache_ttl: expected an integer, got \"often\" \\(from environment PORTUS_HEALTH_CACHE_TTL\\)"
export PORTUS_REGISTRY_TIMEOUT_VALUE=true
check_error "a boolean for a number" "registry.timeout.value: expected an integer"
unset PORTUS_HEALTH_CACHE_TTL PORTUS_REGISTRY_TIMEOUT_VALUE
export PORTUS_DB_PORT=0
check_error "database port out of range" "db.port: 0 is out of range 1-65535 \\(from environment PORTUS_DB_PORT\\)"
unset PORTUS_DB_PORT

# FastCGI refuses to start on a bad configuration, saying why.
printf 'health:\n  timeout: soon\n' >"$cfg"
rc=0
out=$(timeout 10 "$B" --listen "unix:$T/bad.sock" 2>&1) || rc=$?
t_eq "FastCGI: exit status 2 on a bad configuration" 2 "$rc"
t_match "FastCGI: says why" "health.timeout: expected an integer" "$out"

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
