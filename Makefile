# portus-health: see README.md.  `make` builds cgi-bin/portus-health;
# `make check` runs every test; SANITIZE=1 builds with ASan+UBSan.

PREFIX	?= /usr/local
CC	?= cc
PKGS	 = libcurl libpq json-c yaml-0.1

CFLAGS	?= -O2 -g
CFLAGS	+= -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
	   -Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes \
	   -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE -pthread \
	   $(shell pkg-config --cflags $(PKGS))
LDFLAGS	+= -pie -Wl,-z,relro,-z,now -pthread
LIBS	 = -lfcgi $(shell pkg-config --libs $(PKGS))

ifeq ($(SANITIZE),1)
CFLAGS	+= -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=all -U_FORTIFY_SOURCE -O1
LDFLAGS	+= -fsanitize=address,undefined
endif

OBJS	 = src/config.o src/request.o src/health.o src/check_db.o \
	   src/check_http.o src/report.o src/log.o
BIN	 = cgi-bin/portus-health
UNIT	 = tests/unit/unit

all: $(BIN)

$(BIN): src/main.o $(OBJS)
	@mkdir -p cgi-bin
	$(CC) $(LDFLAGS) -o $@ src/main.o $(OBJS) $(LIBS)

src/%.o: src/%.c src/extern.h
	$(CC) $(CFLAGS) -c -o $@ $<

$(UNIT): tests/unit/unit.c $(OBJS) src/extern.h
	$(CC) $(CFLAGS) -Isrc $(shell pkg-config --cflags check) -o $@ \
	    tests/unit/unit.c $(OBJS) $(LDFLAGS) $(LIBS) \
	    $(shell pkg-config --libs check)

check: $(BIN) $(UNIT)
	tests/run

demo: $(BIN)
	demo/run

clean:
	rm -f src/*.o $(BIN) $(UNIT)

.PHONY: all check clean demo
