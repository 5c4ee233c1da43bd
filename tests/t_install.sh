#!/usr/bin/env bash
# make install with PREFIX and DESTDIR puts every shipped file in place,
# the installed binary runs, and the man page is clean under mandoc's lint.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

dest=$T/dest
make -s install DESTDIR="$dest" PREFIX=/opt/ph >"$T/install.log" 2>&1
for f in lib/portus-health/portus-health bin/portus-health share/man/man8/portus-health.8 \
  share/doc/portus-health/nginx-example.conf share/doc/portus-health/apache-example.conf \
  share/doc/portus-health/htaccess-example share/doc/portus-health/README.md \
  share/doc/portus-health/systemd/portus-health.socket share/doc/portus-health/systemd/portus-health.service; do
  if [[ -e $dest/opt/ph/$f ]]; then t_pass "installed $f"; else t_fail "installed $f" "missing"; fi
done
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
