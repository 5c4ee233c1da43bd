#!/usr/bin/env bash
# The Debian package and the RPM, each built from the files of a clean
# checkout: dpkg-buildpackage -us -uc -b and lintian with no error or
# warning (binary and source); the .deb installed with dpkg -i on this
# machine: its --version, --check against the test's PostgreSQL and
# registry as its system user, the units installed and not enabled; then
# purged.  rpmbuild -bb --nodeps and rpmlint with no error.  make install,
# the .deb and the .rpm install the same files, each at its distribution's
# paths.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-frontends.sh"
plain_pass_only
[[ $(id -u) == 0 ]] || die "t_package installs a package: run it as root (CI does)"
[[ -d $ROOT/.git || -f $ROOT/.git ]] || die "t_package builds from the files git knows: run it in a checkout"
if [[ $(dpkg-query -W -f '${Status}' portus-health 2>/dev/null || true) == *" installed" ]]; then
  t_fail "portus-health is not installed on this machine" "it is: this test would replace and purge it"
  t_done
fi

version=$(sed -n 's/^#define PH_VERSION[[:space:]]*"\(.*\)"$/\1/p' "$ROOT/src/extern.h")
arch=$(dpkg --print-architecture)

# src_tree DIR: the files of a clean checkout of this tree (what git
# tracks, and the new files it does not ignore) in DIR.
src_tree() {
  mkdir -p "$1"
  (cd "$ROOT" && git ls-files -z -co --exclude-standard |
    while IFS= read -r -d '' f; do if [[ -e $f ]]; then printf '%s\0' "$f"; fi; done |
    tar --null -T - -cf -) | tar -xf - -C "$1"
}

# files_of: the files and links of a listing "MODE PATH" (directories left
# out), one path a line, sorted.
files_of() { awk '$1 !~ /^d/ { print $2 }' | sort; }

# normalize SED_EXPRESSION...: a file list with each distribution's paths
# put back to common names, compression suffixes dropped.
normalize() {
  local -a e=()
  local x
  for x; do e+=(-e "$x"); done
  sed "${e[@]}" -e 's#\.gz$##' | sort
}

deps_start

# ---------------------------------------------------------------- Debian

deb_top=$T/deb
src_tree "$deb_top/portus-health-$version"
t_eq "debian/changelog's version is the program's" "$version" \
  "$(dpkg-parsechangelog -l "$deb_top/portus-health-$version/debian/changelog" -S Version)"
(cd "$deb_top/portus-health-$version" && dpkg-buildpackage -us -uc -b) >"$T/deb-build.log" 2>&1 && rc=0 || rc=$?
t_eq "dpkg-buildpackage -us -uc -b" "0" "$rc$( ((rc == 0)) || tail -n 15 "$T/deb-build.log")"
deb=$deb_top/portus-health_${version}_$arch.deb
t_nomatch "the package build runs no test (dh_auto_test is overridden)" "dh_auto_test|make.* check" \
  "$(cat "$T/deb-build.log")"

# The source package too, from another clean tree: lintian checks both.
src_tree "$T/dsc/portus-health-$version"
(cd "$T/dsc/portus-health-$version" && dpkg-source -b .) >"$T/dsc-build.log" 2>&1 && rc=0 || rc=$?
t_eq "dpkg-source -b" 0 "$rc"
lint=$(lintian --fail-on error,warning "$deb_top/portus-health_${version}_$arch.changes" \
  "$T/dsc/portus-health_$version.dsc" 2>&1) && rc=0 || rc=$?
t_eq "lintian: no error, no warning" "0:" "$rc:$(grep -E '^[EW]: ' <<<"$lint" || true)"

depends=$(dpkg-deb -f "$deb" Depends)
t_eq "the .deb depends on the runtime libraries (and adduser) only" "" \
  "$(tr ',' '\n' <<<"$depends" | sed 's/^ *//; s/ .*//' | grep -Ev '^(lib[a-z0-9.+-]+|adduser)$' || true)"

# ---------------------------------------------------------------- RPM

rpm_top=$T/rpm
mkdir -p "$rpm_top/SOURCES" "$rpm_top/tmp" "$T/rpmsrc"
src_tree "$T/rpmsrc/portus-health-$version"
tar -C "$T/rpmsrc" -czf "$rpm_top/SOURCES/portus-health-$version.tar.gz" "portus-health-$version"
spec=$ROOT/contrib/rpm/portus-health.spec
t_eq "the spec's version is the program's" "$version" "$(sed -n 's/^Version:[[:space:]]*//p' "$spec")"
rpmbuild -bb --nodeps --define "_topdir $rpm_top" --define "_tmppath $rpm_top/tmp" "$spec" \
  >"$T/rpm-build.log" 2>&1 && rc=0 || rc=$?
t_eq "rpmbuild -bb --nodeps" "0" "$rc$( ((rc == 0)) || tail -n 15 "$T/rpm-build.log")"
rpmfile=$(find "$rpm_top/RPMS" -name "portus-health-$version-*.rpm" | head -1)
lint=$(rpmlint -r "$ROOT/contrib/rpm/portus-health-rpmlintrc" "$spec" "$rpmfile" 2>&1) || true
t_match "rpmlint: no error" " 0 errors, [0-9]+ warnings" "$lint"
grep -E ': [EW]: ' <<<"$lint" | sed 's/^/# rpmlint: /' || true
t_eq "the .rpm requires libraries (and what makes its user) only" "" \
  "$(rpm -qp --requires "$rpmfile" | grep -Ev '^(lib[^ ]+\.so|rtld\(|rpmlib\(|/bin/sh|/usr/sbin/(groupadd|useradd))' || true)"

# ---------------------------------------------------------------- the same files

make -s -C "$deb_top/portus-health-$version" install DESTDIR="$T/mk" PREFIX=/usr >"$T/mk.log" 2>&1
mk=$(cd "$T/mk" && find . ! -type d | sed 's#^\.##' |
  normalize 's#^/usr/share/doc/portus-health/systemd/#UNITS/#' 's#^/usr/lib/portus-health/#LIBEXEC/#')
debs=$(dpkg-deb -c "$deb" | awk '{ print $1, $6 }' | sed 's# \./# /#' | files_of |
  grep -Ev '^/usr/share/doc/portus-health/(copyright|changelog\.gz)$' |
  normalize 's#^/lib/systemd/system/#UNITS/#' 's#^/usr/lib/portus-health/#LIBEXEC/#')
rpms=$(rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$rpmfile" | files_of | grep -v '^/usr/lib/\.build-id/' |
  normalize 's#^/usr/lib/systemd/system/#UNITS/#' 's#^/usr/libexec/portus-health/#LIBEXEC/#')
t_match "make install PREFIX=/usr installs the binary, link, man page, examples, snippets and units" \
  "^/usr/bin/portus-health .*monitoring/zabbix-portus-health.conf .*varnish-example.vcl /usr/share/man/man8/portus-health.8 LIBEXEC/portus-health UNITS/portus-health.service UNITS/portus-health.socket \$" \
  "$(tr '\n' ' ' <<<"$mk")"
t_eq "the .deb installs the same files as make install" "$mk" "$debs"
t_eq "the .rpm installs the same files as make install" "$mk" "$rpms"

# ---------------------------------------------------------------- install, use, purge

user_before=$(getent passwd portus-health || true)
at_exit 'dpkg --purge portus-health >/dev/null 2>&1 || true'
if [[ -z $user_before ]]; then at_exit 'deluser --system portus-health >/dev/null 2>&1 || true'; fi
# CI has the dependencies already; elsewhere apt-get fetches them.
dpkg -i "$deb" >"$T/dpkg-i.log" 2>&1 || apt-get -f install -y -qq >>"$T/dpkg-i.log" 2>&1 || true
t_eq "dpkg -i" "install ok installed" "$(dpkg-query -W -f '${Status}' portus-health 2>/dev/null || true)"
mapfile -t installed < <(dpkg -L portus-health | while read -r f; do if [[ ! -d $f ]]; then echo "$f"; fi; done)
t_eq "portus-health --version" "portus-health $version" "$(portus-health --version 2>&1)"
t_eq "it is /usr/bin/portus-health" /usr/bin/portus-health "$(command -v portus-health)"
IFS=: read -r _ _ uid _ _ home shell < <(getent passwd portus-health) || true
t_match "a system user portus-health, no login, no home" "^[1-9][0-9]{0,2} /nonexistent /usr/sbin/nologin$" \
  "${uid:-none} ${home:-} ${shell:-}"
t_eq "... with its group" portus-health "$(id -gn portus-health 2>&1)"
out=$(setpriv --reuid=portus-health --regid=portus-health --init-groups /usr/bin/portus-health --check 2>&1) && rc=0 || rc=$?
t_eq "portus-health --check, as portus-health, against the test's servers: exit 0" 0 "$rc"
t_eq "... the document" "database is up-to-date|registry is reachable" \
  "$(jq -r '[.database.msg, .registry.msg] | join("|")' <<<"$out" 2>/dev/null || echo "$out")"
for u in socket service; do
  t_eq "unit portus-health.$u installed" yes "$([[ -f /lib/systemd/system/portus-health.$u ]] && echo yes || echo no)"
done
t_eq "the service runs /usr/bin/portus-health as portus-health" "ExecStart=/usr/bin/portus-health User=portus-health" \
  "$(grep -E '^(ExecStart|User)=' /lib/systemd/system/portus-health.service | xargs)"
t_eq "the units are not enabled" "" "$(find /etc/systemd/system -lname '*portus-health*' 2>/dev/null)"
t_eq "systemctl: disabled" "disabled disabled" \
  "$(systemctl is-enabled portus-health.socket portus-health.service 2>&1 | xargs)"
out=$(systemd-analyze verify --man=no /lib/systemd/system/portus-health.socket /lib/systemd/system/portus-health.service 2>&1) &&
  rc=0 || rc=$?
t_eq "systemd-analyze verify: the installed units are sound" "0:" "$rc:$out"
t_eq "the examples name the package's binary" '"bin-path" => "/usr/lib/portus-health/portus-health",' \
  "$(grep -o '"bin-path".*' /usr/share/doc/portus-health/lighttpd-example.conf)"

dpkg --purge portus-health >"$T/purge.log" 2>&1 && rc=0 || rc=$?
t_eq "dpkg --purge" "0 not-installed" "$rc $(dpkg-query -W -f '${db:Status-Status}' portus-health 2>/dev/null || echo not-installed)"
left=$(for f in "${installed[@]}"; do if [[ -e $f || -L $f ]]; then echo "$f"; fi; done)
t_eq "purge removes every file it installed" "" "$left"
t_eq "purge leaves the system user (files it made may remain)" portus-health \
  "$(getent passwd portus-health | cut -d: -f1)"

t_done
