#!/usr/bin/env bash
# SPEC 3, registry, usable and not only reachable: with Portus's key
# (PORTUS_KEY_PATH), a token made as Portus's JwtToken makes them is
# presented to the real docker-registry's /v2/_catalog.  The registry's
# rootcertbundle is the certificate of that key, its issuer Portus's
# machine_fqdn, its service its hostname: as a working Portus deployment
# has them.  Then each way they can disagree, each of which breaks
# docker login while Portus's own check stays green.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

pg_start
pg_exports
_make_cert
REG_PORT=$(free_port)
REG_SERVICE=127.0.0.1:$REG_PORT _registry_config "$REG_PORT" "$T/registry-data" >"$T/registry.yml"
_registry_launch registry "http://127.0.0.1:$REG_PORT/v2/"
calibrate
PORTUS_HEALTH_TIMEOUT=$(health_timeout 5)
export PORTUS_LOCAL_CONFIG_PATH=$T/absent.yml PORTUS_HEALTH_CACHE_TTL=0 PORTUS_HEALTH_TIMEOUT
export PORTUS_REGISTRY_HOSTNAME=127.0.0.1:$REG_PORT
export PORTUS_KEY_PATH=$T/registry.key PORTUS_MACHINE_FQDN_VALUE=portus.test
catalogs() { grep -c '"GET /v2/_catalog?n=1 HTTP/1.1" 200' "$T/registry.log" || true; }
key_lines() { grep -v -- '-----' "$T/registry.key"; }

c0=$(catalogs)
cgi_req GET /_health/registry
t_eq "the matching key and issuer: reachable" "registry is reachable" "$(json_get .registry.msg)"
t_eq "the matching key and issuer: 200" 200 "$RESP_STATUS"
t_eq "the registry let the token see its catalog" $((c0 + 1)) "$(catalogs)"
t_match "the registry checked the token (its log)" 'authorized request' "$(cat "$T/registry.log")"

# A key the registry does not trust.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/other.key" 2>/dev/null
PORTUS_KEY_PATH=$T/other.key cgi_req GET /_health/registry
t_eq "a key the registry does not trust: fails" "registry rejects Portus's tokens: UNAUTHORIZED" "$(json_get .registry.msg)"
t_eq "a key the registry does not trust: 503" 503 "$RESP_STATUS"
t_match "a key the registry does not trust: the registry's words in the log" 'the catalog with Portus.s token: HTTP 401, UNAUTHORIZED' "$RESP_STDERR"

# Portus's machine_fqdn is not the registry's issuer.
PORTUS_MACHINE_FQDN_VALUE=portus.example.com cgi_req GET /_health/registry
t_eq "a wrong machine_fqdn: fails" "registry rejects Portus's tokens: UNAUTHORIZED" "$(json_get .registry.msg)"

# No key: Portus's own check, and nothing more asked.
c0=$(catalogs)
PORTUS_KEY_PATH= cgi_req GET /_health/registry
t_eq "no key: Portus's check" "registry is reachable" "$(json_get .registry.msg)"
t_eq "no key: the catalog is not asked" "$c0" "$(catalogs)"

# A key that cannot be read.
PORTUS_KEY_PATH=$T/no.key cgi_req GET /_health/registry
t_eq "a key file that is not there: not usable" \
  "registry is not usable: cannot read PORTUS_KEY_PATH: No such file or directory" "$(json_get .registry.msg)"
printf 'not a key\n' >"$T/junk.key"
PORTUS_KEY_PATH=$T/junk.key cgi_req GET /_health/registry
t_eq "a file that holds no key: not usable" "registry is not usable: PORTUS_KEY_PATH holds no RSA private key in PEM" \
  "$(json_get .registry.msg)"

# A registry whose service is not its hostname in Portus's terms: Portus
# would find no registry for its tokens.
port2=$(free_port)
_registry_config "$port2" "$T/registry2-data" >"$T/registry2.yml"
_registry_launch registry2 "http://127.0.0.1:$port2/v2/"
PORTUS_REGISTRY_HOSTNAME=127.0.0.1:$port2 cgi_req GET /_health/registry
t_eq "its service is not its hostname: fails" "registry rejects Portus's tokens: service registry.test is not its hostname" \
  "$(json_get .registry.msg)"

# The key is read once per configuration: a FastCGI responder keeps it.
install -m 0644 "$T/registry.key" "$T/kept.key"
PORTUS_KEY_PATH=$T/kept.key fcgi_start
fcgi_req GET /_health/registry
t_eq "FastCGI: reachable with the key" "registry is reachable" "$(json_get .registry.msg)"
rm "$T/kept.key"
fcgi_req GET /_health/registry
t_eq "FastCGI: the key was read once, and kept" "registry is reachable" "$(json_get .registry.msg)"
stop_pid "$FCGI_PID"

# Neither the key nor a token ever shows.
all="$(cat "$T"/*.log 2>/dev/null) $RESP_BODY $RESP_STDERR"
for k in other.key registry.key; do
  PORTUS_KEY_PATH=$T/$k cgi_req GET /_health
  all+=" $RESP_BODY $RESP_STDERR $RESP_HEADERS"
  PORTUS_KEY_PATH=$T/$k "$RESPONDER" --print-config >"$T/printed" 2>&1 || true
  all+=" $(cat "$T/printed")"
done
leaked=0
while IFS= read -r line; do
  [[ $all == *"$line"* ]] && leaked=$((leaked + 1))
done < <(grep -hv -- '-----' "$T/registry.key" "$T/other.key")
t_eq "no line of either key in any answer, log or --print-config" 0 "$leaked"
t_nomatch "no token in any answer or log (no JWT header)" 'eyJ0eXAiOiJKV1Qi|eyJhbGciOi' "$all"

t_done
