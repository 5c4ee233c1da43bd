# shellcheck shell=bash
# Web servers for the integration tests of portus-health: nginx and Apache
# from the shipped example files (only paths and ports changed), on free
# ports of 127.0.0.1 under lib.sh's spawn, and http_req, the curl driver
# for requests through them. lib.sh sources this file; a test script needs
# nothing more than lib.sh. Do not call the *_start functions inside $(...).

# ---------------------------------------------------------------- nginx

# nginx_start SITE_CONF: run nginx (master as root, workers as www-data) on a
# free port NGINX_PORT with the server block SITE_CONF, as shipped: only its
# listen address, the FastCGI socket path and the examples' registry
# 127.0.0.1:5000 are replaced (by NGINX_PORT, FCGI_SOCK and REG_PORT).
# Logs go to "$T/nginx/"; NGINX_URL is its base URL.
nginx_start() {
  local d=$T/nginx
  NGINX_PORT=$(free_port)
  mkdir -p "$d/tmp"
  chown www-data "$d/tmp"
  cp /etc/nginx/fastcgi_params "$d/"
  sed -e "s#127\.0\.0\.1:8080#127.0.0.1:$NGINX_PORT#" -e "s#\[::1\]:8080#[::1]:$NGINX_PORT#" \
    -e "s#unix:/run/portus-health/portus-health\.sock#unix:$FCGI_SOCK#" \
    -e "s#127\.0\.0\.1:5000#127.0.0.1:${REG_PORT:-5000}#g" "$1" >"$d/site.conf"
  cat >"$d/nginx.conf" <<CONF
user www-data;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log info;
events { worker_connections 1024; }
http {
  access_log $d/access.log;
  client_body_temp_path $d/tmp/body;
  proxy_temp_path $d/tmp/proxy;
  fastcgi_temp_path $d/tmp/fastcgi;
  uwsgi_temp_path $d/tmp/uwsgi;
  scgi_temp_path $d/tmp/scgi;
  include $d/site.conf;
}
CONF
  _start_listener nginx "$NGINX_PORT" nginx -p "$d" -c "$d/nginx.conf" -g 'daemon off;'
  NGINX_PID=$SPAWNED_PID
  NGINX_URL=http://127.0.0.1:$NGINX_PORT
  export NGINX_PORT NGINX_PID NGINX_URL
}

# http_req METHOD URL [CURL_OPTION...]: one request with curl; fills
# RESP_STATUS, RESP_HEADERS (CR removed) and RESP_BODY like the drivers above.
http_req() {
  local m=$1 url=$2
  shift 2
  RESP_RC=0
  if [[ $m == HEAD ]]; then
    curl -s -m "$REQ_TIMEOUT" -I -D "$T/http.head" -o /dev/null "$@" "$url" || RESP_RC=$?
    : >"$T/http.body"
  else
    curl -s -m "$REQ_TIMEOUT" -X "$m" -D "$T/http.head" -o "$T/http.body" "$@" "$url" || RESP_RC=$?
  fi
  RESP_STATUS=$(head -1 "$T/http.head" | awk '{print $2}')
  RESP_HEADERS=$(tail -n +2 "$T/http.head" | tr -d '\r')
  RESP_BODY=$(cat "$T/http.body")
}

# ---------------------------------------------------------------- Apache

# apache_start NAME SITE_CONF MODULE...: run Apache (prefork, workers as
# www-data) on a free port APACHE_PORT with SITE_CONF as shipped but for
# paths and ports: 127.0.0.1:8080 becomes APACHE_PORT, the FastCGI socket
# FCGI_SOCK, /usr/local/lib/portus-health the directory of the binary under
# test, and
# 127.0.0.1:5000 (the registry of the examples) REG_PORT, the database port
# PG_PORT, /srv/Portus/config/ the directory "$T/NAME/".  MODULEs are
# loaded besides the core set.  Logs go to "$T/NAME/"; APACHE_URL is its
# base URL.  DocumentRoot is "$T/NAME/www".
apache_start() {
  local name=$1 site=$2 d=$T/$1 m mods=
  shift 2
  APACHE_PORT=$(free_port)
  mkdir -p "$d/run" "$d/www" "$d/fcgid"
  install -d -m 1777 "$d/tmp"
  chown www-data "$d/run" "$d/fcgid"
  # The binary where www-data can surely read it.
  mkdir -p "$d/lib"
  install -m 0755 "$RESPONDER" "$d/lib/portus-health"
  for m in mpm_prefork authz_core authn_core alias mime dir env setenvif "$@"; do
    mods+="LoadModule ${m}_module /usr/lib/apache2/modules/mod_$m.so"$'\n'
  done
  sed -e "s#127\\.0\\.0\\.1:8080#127.0.0.1:$APACHE_PORT#g" \
    -e "s#/run/portus-health/portus-health\\.sock#${FCGI_SOCK:-/nonexistent}#g" \
    -e "s#/usr/local/lib/portus-health#$d/lib#g" \
    -e "s#127\\.0\\.0\\.1:5000#127.0.0.1:${REG_PORT:-5000}#g" \
    -e "s#PORTUS_DB_PORT 5432#PORTUS_DB_PORT ${PG_PORT:-5432}#" \
    -e "s#/srv/Portus/config/#$d/#" "$site" >"$d/site.conf"
  cat >"$d/httpd.conf" <<CONF
$mods
ServerRoot $d
ServerName 127.0.0.1
Listen 127.0.0.1:$APACHE_PORT
User www-data
Group www-data
PidFile $d/run/httpd.pid
DefaultRuntimeDir $d/run
Mutex file:$d/run default
ErrorLog $d/error.log
LogLevel warn
TypesConfig /etc/mime.types
DocumentRoot $d/www
<Directory />
  AllowOverride None
  Require all denied
</Directory>
<Directory $d/www>
  Require all granted
</Directory>
<FilesMatch "^\\.ht">
  Require all denied
</FilesMatch>
<IfModule fcgid_module>
  FcgidIPCDir $d/fcgid
  FcgidProcessTableFile $d/run/fcgid_shm
  # The responders' cache directories, under this test's own TMPDIR.
  FcgidInitialEnv TMPDIR $d/tmp
</IfModule>
SetEnv TMPDIR $d/tmp
<IfModule cgid_module>
  ScriptSock $d/run/cgid.sock
</IfModule>
Include $d/site.conf
CONF
  _start_listener "$name" "$APACHE_PORT" apache2 -f "$d/httpd.conf" -DFOREGROUND
  APACHE_PID=$SPAWNED_PID
  APACHE_URL=http://127.0.0.1:$APACHE_PORT
  export APACHE_PORT APACHE_PID APACHE_URL
}
