#!/usr/bin/env bash
# The shipped monitoring snippets against the real tools, through nginx
# from the shipped server block: monit's program check (portus-health
# --check -q) and HTTP check, the blackbox exporter's module and the
# Prometheus job that runs it, and the Zabbix agent's items.  Each says
# "up" with every component up, "down" while the registry is stopped, and
# "up" again when it returns.  Each tool starts once.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-frontends.sh"
plain_pass_only
m=$ROOT/contrib/monitoring

deps_start
fcgi_start_user www-data
nginx_start "$ROOT/nginx-example.conf"

# The settings file monit's check reads, as the systemd unit's would be.
env | grep '^PORTUS_' | sort >"$T/portus-health.env"
chgrp www-data "$T/portus-health.env"
chmod 640 "$T/portus-health.env"
# monit, from an empty environment; its program check runs as www-data in
# place of the package's user.
monit_start "$m/monit-portus-health" "s#/etc/default/portus-health#$T/portus-health.env#" \
  's#uid "portus-health" and gid "portus-health"#uid "www-data" and gid "www-data"#' \
  "s#port 8080 protocol#port $NGINX_PORT protocol#"
blackbox_start "$m/blackbox-portus-health.yml"
example_in "$m/prometheus-blackbox.yml" "$T/scrape.yml" "$NGINX_PORT" "s#127\\.0\\.0\\.1:9115#127.0.0.1:$BLACKBOX_PORT#"
prometheus_start "$T/scrape.yml"
target=http://127.0.0.1:$NGINX_PORT/api/v1/health

# metric NAME TEXT: a metric's value in an exposition TEXT.
metric() { awk -v n="$1" '$1 == n { print $2 }' <<<"$2"; }

# state: what each tool says now, on one line.
state() {
  local zbx
  zbx=$(zabbix_item "$m/zabbix-portus-health.conf" portus.health.status)
  printf 'monit program %s; monit http %s; blackbox %s; prometheus %s; zabbix %s' \
    "$(monit_status portus-health)" "$(monit_status portus-health-http)" \
    "$(metric probe_success "$(blackbox_probe portus_health "$target")")" \
    "$(prom_value 'probe_success{job="portus-health-blackbox"}')" "${zbx##*|}"
}
up="monit program OK; monit http OK; blackbox 1; prometheus 1; zabbix 200]"
down="monit program Status failed; monit http Connection failed; blackbox 0; prometheus 0; zabbix 503]"
is() { [[ $(state) == "$1" ]]; }

_poll 60 "" is "$up" || true
t_eq "all up: every tool says so" "$up" "$(state)"
t_eq "monit: portus-health --check -q exits 0" 0 "$(monit_detail portus-health "last exit value")"
probe=$(blackbox_probe portus_health "$target")
t_eq "blackbox: status 200" 200 "$(metric probe_http_status_code "$probe")"
t_eq "blackbox: the body matches" 0 "$(metric probe_failed_due_to_regex "$probe")"
# A 200 whose body is not the document fails the module on its body alone.
for path in /api/v1/_ping "/_health?exclude=database"; do
  probe=$(blackbox_probe portus_health "http://127.0.0.1:$NGINX_PORT$path")
  t_eq "blackbox $path: 200, but the body does not match: fails" "200 1 0" \
    "$(metric probe_http_status_code "$probe") $(metric probe_failed_due_to_regex "$probe") $(metric probe_success "$probe")"
done
out=$(zabbix_item "$m/zabbix-portus-health.conf" portus.health)
t_match "zabbix_agentd -t portus.health: the status line" '\[t\|HTTP/1\.1 200 OK' "$out"
t_match "zabbix_agentd -t portus.health: the document" '"database":\{"msg":"database is up-to-date","success":true\}' "$out"

registry_stop
_poll 60 "" is "$down" || true
t_eq "registry down: every tool says so" "$down" "$(state)"
t_eq "monit: portus-health --check -q exits 1" 1 "$(monit_detail portus-health "last exit value")"
t_match "monit logs the failure" "'portus-health' status failed \\(1\\)" "$(cat "$T/monit/monit.log")"
probe=$(blackbox_probe portus_health "$target")
t_eq "blackbox: status 503" 503 "$(metric probe_http_status_code "$probe")"
out=$(zabbix_item "$m/zabbix-portus-health.conf" portus.health)
t_match "zabbix_agentd -t portus.health: the document says why" \
  '"registry":\{"msg":"registry is not reachable: connection refused","success":false\}' "$out"

registry_start again
_poll 60 "" is "$up" || true
t_eq "registry back: every tool says so" "$up" "$(state)"

# The README shows each snippet as shipped.
for f in "$m"/*; do
  missing=$(grep -v -e '^#' -e '^$' "$f" | while IFS= read -r line; do
    grep -qxF -- "$line" "$ROOT/README.md" || echo "$line"
  done)
  t_eq "README shows ${f#"$ROOT"/}" "" "$missing"
done

t_done
