#!/usr/bin/env bash
# Apache, from the shipped files: apache-example.conf under mod_fcgid and
# under mod_proxy_fcgi, and cgi-bin/.htaccess under mod_cgi (shared
# hosting).  Only paths and ports are changed.  The shipped files name the
# database portus_production, role portus, password portus: the test's
# PostgreSQL is set up to match them.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

pg_start
pg_clone_db portus_production
pg_sql "ALTER ROLE portus PASSWORD 'portus'"
registry_start

# routes NAME BASE_URL: the routes, HEAD, 404, 405 and the sub-URI.
routes() {
  local n=$1 u=$2
  http_req GET "$u/_ping"
  t_eq "$n /_ping: 200" 200 "$RESP_STATUS"
  t_eq "$n /_ping: Cache-Control" no-cache "$(resp_header Cache-Control)"
  http_req GET "$u/api/v1/_ping"
  t_eq "$n /api/v1/_ping: 200" 200 "$RESP_STATUS"
  http_req GET "$u/api/v1/health"
  t_eq "$n /api/v1/health: the document" "database is up-to-date" "$(json_get .database.msg)"
  http_req HEAD "$u/_health"
  t_match "$n HEAD /_health: status of GET" '^(200|503)$' "$RESP_STATUS"
  t_eq "$n HEAD /_health: no body" "" "$RESP_BODY"
  http_req GET "$u/_health/nosuch"
  t_eq "$n /_health/nosuch: 404" 404 "$RESP_STATUS"
  t_eq "$n /_health/nosuch: JSON error" "unknown component" "$(json_get .error)"
  http_req DELETE "$u/_health"
  t_eq "$n DELETE /_health: 405" 405 "$RESP_STATUS"
  t_eq "$n DELETE /_health: Allow" "GET, HEAD" "$(resp_header Allow)"
}

# --- mod_fcgid: Apache starts the responder; settings from FcgidInitialEnv.
apache_start fcgid apache-example.conf fcgid
routes "mod_fcgid" "$APACHE_URL"
http_req GET "$APACHE_URL/_health"
t_eq "mod_fcgid /_health: FcgidInitialEnv reaches the database" "database is up-to-date" "$(json_get .database.msg)"
t_eq "mod_fcgid /_health: no registry in the table" "no registry configured" "$(json_get .registry.msg)"
t_eq "mod_fcgid /_health: 503" 503 "$RESP_STATUS"
http_req GET "$APACHE_URL/portus/_health"
t_eq "mod_fcgid sub-URI: SetEnv for /portus names the registry" "registry is reachable" "$(json_get .registry.msg)"
t_eq "mod_fcgid sub-URI: 200" 200 "$RESP_STATUS"
http_req GET "$APACHE_URL/portus/api/v1/_ping"
t_eq "mod_fcgid sub-URI /api/v1/_ping" 200 "$RESP_STATUS"
http_req GET "$APACHE_URL/_health" -H "Portus-Registry-Hostname: 127.0.0.1:$REG_PORT"
t_eq "mod_fcgid: a client header cannot set a setting" "no registry configured" "$(json_get .registry.msg)"
t_match "mod_fcgid: the responder logs to Apache's error log" "portus-health\\[[0-9]+\\]: info: FastCGI responder" \
  "$(cat "$T/fcgid/error.log")"
stop_pid "$APACHE_PID"

# --- mod_proxy_fcgi: a responder under spawn-fcgi, Apache forwards to its socket.
export PORTUS_LOCAL_CONFIG_PATH=$T/absent.yml
pg_exports
export PORTUS_DB_PASSWORD=portus PORTUS_DB_DATABASE=portus_production
fcgi_start
apache_start proxy apache-example.conf proxy proxy_fcgi
routes "mod_proxy_fcgi" "$APACHE_URL"
http_req GET "$APACHE_URL/_health"
t_eq "mod_proxy_fcgi /_health: no registry in the table" "no registry configured" "$(json_get .registry.msg)"
http_req GET "$APACHE_URL/portus/_health"
t_eq "mod_proxy_fcgi sub-URI: SetEnv for /portus names the registry" "registry is reachable" "$(json_get .registry.msg)"
t_eq "mod_proxy_fcgi sub-URI: 200" 200 "$RESP_STATUS"
stop_pid "$APACHE_PID"
stop_pid "$FCGI_PID"
unset PORTUS_DB_ADAPTER PORTUS_DB_HOST PORTUS_DB_PORT PORTUS_DB_USERNAME PORTUS_DB_PASSWORD PORTUS_DB_DATABASE

# --- Shared hosting: mod_cgi, the binary and the shipped .htaccess in a cgi-bin
# under the document root, overrides allowed as hosts do.
cat >"$T/hosting.conf" <<CONF
<Directory $T/hosting/www>
  AllowOverride FileInfo Options
</Directory>
CONF
apache_start hosting "$T/hosting.conf" cgi rewrite
mkdir -p "$T/hosting/www/cgi-bin"
install -m 0755 "$RESPONDER" "$T/hosting/www/cgi-bin/portus-health"
sed -e "s#PORTUS_DB_PORT 5432#PORTUS_DB_PORT $PG_PORT#" -e "s#127\\.0\\.0\\.1:5000#127.0.0.1:$REG_PORT#" \
  cgi-bin/.htaccess >"$T/hosting/www/cgi-bin/.htaccess"
routes "CGI .htaccess" "$APACHE_URL/cgi-bin"
http_req GET "$APACHE_URL/cgi-bin/_health"
t_eq "CGI .htaccess /_health: SetEnv settings apply" "database is up-to-date|registry is reachable" \
  "$(json_get '[.database.msg, .registry.msg] | join("|")')"
t_eq "CGI .htaccess /_health: 200" 200 "$RESP_STATUS"
http_req GET "$APACHE_URL/cgi-bin/portus-health/_ping"
t_eq "CGI the binary's own URL with PATH_INFO" 200 "$RESP_STATUS"
http_req GET "$APACHE_URL/cgi-bin/.htaccess"
t_eq "CGI .htaccess (with the password) is not served" 403 "$RESP_STATUS"
t_nomatch "CGI the password does not leak" "PORTUS_DB_PASSWORD" "$RESP_BODY"

t_done
