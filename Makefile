# portus-health: see README.md.  `make` builds cgi-bin/portus-health;
# `make check` runs every test; SANITIZE=1 builds with ASan+UBSan.

PREFIX	?= /usr/local
BINDIR	 = $(PREFIX)/bin
LIBEXEC	 = $(PREFIX)/lib/portus-health
MANDIR	 = $(PREFIX)/share/man
DOCDIR	 = $(PREFIX)/share/doc/portus-health
CC	?= cc
PKGS	 = libcurl libpq libmariadb json-c yaml-0.1 libseccomp libcrypto

CFLAGS	?= -O2 -g
CFLAGS	+= -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
	   -Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes \
	   -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE -pthread \
	   $(shell pkg-config --cflags $(PKGS))
LDFLAGS	+= -pie -Wl,-z,relro,-z,now -pthread
LIBS	 = $(shell pkg-config --libs $(PKGS))

ifeq ($(SANITIZE),1)
CFLAGS	+= -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=all -U_FORTIFY_SOURCE -O1
LDFLAGS	+= -fsanitize=address,undefined
endif

OBJS	 = src/config.o src/request.o src/fcgi.o src/serve.o src/server.o \
	   src/component.o src/health.o src/cache.o src/sha256.o src/site.o \
	   src/sandbox.o src/check_db.o src/check_pg.o src/check_mysql.o \
	   src/curl.o src/check_registry.o src/check_clair.o \
	   src/check_ldap.o src/check_portus.o src/token.o src/starttls.o \
	   src/report.o src/log.o
BIN	 = cgi-bin/portus-health
UNIT	 = tests/unit/unit
# The same program with the sandbox's test hooks (tests/t_sandbox.sh):
# never installed.
HOOKS	 = tests/portus-health-hooks

all: $(BIN)

$(BIN): src/main.o $(OBJS)
	@mkdir -p cgi-bin
	$(CC) $(LDFLAGS) -o $@ src/main.o $(OBJS) $(LIBS)

src/%.o: src/%.c src/extern.h
	$(CC) $(CFLAGS) -c -o $@ $<

$(HOOKS): src/main.o $(OBJS) src/sandbox.c
	$(CC) $(CFLAGS) -DPH_TEST_HOOKS -c -o tests/sandbox-hooks.o src/sandbox.c
	$(CC) $(LDFLAGS) -o $@ src/main.o $(filter-out src/sandbox.o,$(OBJS)) \
	    tests/sandbox-hooks.o $(LIBS)

# One file per module of src/ and the runner (main.c): one program, so
# that Check prints one summary line for tests/run.
UNITSRCS = $(wildcard tests/unit/*.c)

$(UNIT): $(UNITSRCS) tests/unit/unit.h $(OBJS) src/extern.h
	$(CC) $(CFLAGS) -Isrc $(shell pkg-config --cflags check) -o $@ \
	    $(UNITSRCS) $(OBJS) $(LDFLAGS) $(LIBS) \
	    $(shell pkg-config --libs check)

check: $(BIN) $(UNIT) $(HOOKS)
	SANITIZE=$(SANITIZE) tests/run

# Every CGI run of these integration tests under valgrind's memcheck: any
# error or leak fails.
VGTESTS	 = t_routes t_database t_mysql t_registry t_clair t_config t_secrets t_hostile t_ldap \
	   t_token t_optional
valgrind: $(BIN)
	VALGRIND=1 tests/run $(VGTESTS)

demo: $(BIN)
	demo/run

# libFuzzer drivers for the YAML loader, environment typing, routing, the
# LDAP STARTTLS answer, the FastCGI record reader, and the shared result
# file and the registry's answers (fuzz_remote):
# FUZZ_SECONDS each (default 60); see fuzz/Makefile.
fuzz:
	$(MAKE) -f fuzz/Makefile fuzz

# Throughput, latency, load on the dependencies and memory, against a
# reference responder and nginx itself: see bench/README.md.
bench: $(BIN)
	bench/run

# What `make install`, the Debian package and the RPM ship besides the
# binary and the man page: the examples and the monitoring snippets go to
# DOCDIR (contrib/'s under their own directory), the units too (the
# packages move them to the system's unit directory).
EXAMPLES = nginx-example.conf apache-example.conf lighttpd-example.conf \
	   Caddyfile.example h2o-example.conf haproxy-example.cfg \
	   varnish-example.vcl \
	   contrib/monitoring/monit-portus-health \
	   contrib/monitoring/blackbox-portus-health.yml \
	   contrib/monitoring/prometheus-blackbox.yml \
	   contrib/monitoring/zabbix-portus-health.conf \
	   contrib/systemd/portus-health.socket \
	   contrib/systemd/portus-health.service

# The binary lives in its own directory (Apache's mod_fcgid example maps
# URLs onto it); bin/ gets a link for the command line and systemd.  The
# examples name /usr/local paths: installed, they name LIBEXEC and PREFIX.
install: $(BIN)
	install -d $(DESTDIR)$(LIBEXEC) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR)/systemd \
	    $(DESTDIR)$(DOCDIR)/monitoring
	install -m 0755 $(BIN) $(DESTDIR)$(LIBEXEC)/portus-health
	ln -sfr $(DESTDIR)$(LIBEXEC)/portus-health $(DESTDIR)$(BINDIR)/portus-health
	install -m 0644 portus-health.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/
	install -m 0644 cgi-bin/.htaccess $(DESTDIR)$(DOCDIR)/htaccess-example
	for f in $(EXAMPLES); do \
	    sed -e 's#/usr/local/lib/portus-health#$(LIBEXEC)#g' \
		-e 's#/usr/local/#$(PREFIX)/#g' $$f >$(DESTDIR)$(DOCDIR)/$${f#contrib/} && \
	    chmod 0644 $(DESTDIR)$(DOCDIR)/$${f#contrib/} || exit 1; \
	done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/portus-health \
	    $(DESTDIR)$(MANDIR)/man8/portus-health.8
	rm -rf $(DESTDIR)$(LIBEXEC) $(DESTDIR)$(DOCDIR)

lint:
	mandoc -T lint -W warning portus-health.8

clean:
	rm -f src/*.o tests/*.o $(BIN) $(UNIT) $(HOOKS) bench/ref bench/cgi-bare \
	    bench/cgi-bare-libs

.PHONY: all bench check clean demo fuzz install uninstall lint valgrind
