#!/usr/bin/env bash
# make install with PREFIX and DESTDIR puts every shipped file in place and
# nothing else, the examples name the binary under PREFIX, the installed
# binary runs, and the man page is clean under mandoc's lint.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

dest=$T/dest
make -s install DESTDIR="$dest" PREFIX=/opt/ph >"$T/install.log" 2>&1
doc=share/doc/portus-health
files=(lib/portus-health/portus-health bin/portus-health share/man/man8/portus-health.8 \
  $doc/nginx-example.conf $doc/apache-example.conf $doc/htaccess-example $doc/README.md \
  $doc/lighttpd-example.conf $doc/Caddyfile.example $doc/h2o-example.conf $doc/haproxy-example.cfg \
  $doc/varnish-example.vcl $doc/monitoring/monit-portus-health $doc/monitoring/blackbox-portus-health.yml \
  $doc/monitoring/prometheus-blackbox.yml $doc/monitoring/zabbix-portus-health.conf \
  $doc/systemd/portus-health.socket $doc/systemd/portus-health.service)
for f in "${files[@]}"; do
  if [[ -e $dest/opt/ph/$f ]]; then t_pass "installed $f"; else t_fail "installed $f" "missing"; fi
done
t_eq "nothing else is installed" "${#files[@]}" "$(find "$dest" -type f -o -type l | wc -l)"
t_eq "the examples name the binary under PREFIX" "ExecStart=/opt/ph/bin/portus-health" \
  "$(grep ^ExecStart= "$dest/opt/ph/$doc/systemd/portus-health.service")"
t_eq "... and nothing under /usr/local" "" "$(grep -rl /usr/local "$dest/opt/ph/$doc" | grep -v README.md || true)"
t_eq "bin/ links to the binary" "../lib/portus-health/portus-health" "$(readlink "$dest/opt/ph/bin/portus-health")"
t_eq "the installed binary runs" "portus-health 0.1.0" "$("$dest/opt/ph/bin/portus-health" --version)"
t_eq "the binary is executable by all" 755 "$(stat -c %a "$dest/opt/ph/lib/portus-health/portus-health")"
out=$(mandoc -T lint -W warning "$dest/opt/ph/share/man/man8/portus-health.8" 2>&1) && rc=0 || rc=$?
t_eq "mandoc -T lint: clean" "0:" "$rc:$out"
t_match "the man page documents the modes, routes, settings and exit codes" \
  "FastCGI.*ROUTES.*health.cache_ttl.*EXIT STATUS" "$(mandoc -T ascii portus-health.8 | sed 's/.\x08//g' | tr '\n' ' ')"
make -s uninstall DESTDIR="$dest" PREFIX=/opt/ph >/dev/null
t_eq "make uninstall removes it all" "" "$(find "$dest" -type f -o -type l)"

# The binary is hardened as built: PIE, full RELRO, stack protector.
hdr=$(readelf -h -d "$RESPONDER")
t_match "PIE" 'Type: +DYN' "$hdr"
t_match "full RELRO (BIND_NOW)" 'FLAGS.*BIND_NOW|NOW' "$hdr"
t_match "stack protector" '__stack_chk_fail' "$(readelf -s --wide "$RESPONDER")"

t_done
