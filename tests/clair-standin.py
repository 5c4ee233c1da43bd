#!/usr/bin/env python3
# Stand-in for Clair's health port. Clair is not packaged for Debian, so the
# tests cannot run the real thing; this server answers `GET /health` the way
# Clair v2's health port does: 200 with an empty body when healthy, an error
# status (503/500) when not. Here "not healthy" is 500.
#
# Usage: clair-standin.py PORT MODEFILE COUNTFILE
#
# MODEFILE is read on every request and holds one word:
#   ok    GET /health -> 200, empty body
#   fail  GET /health -> 500, empty body
#   hang  the connection is accepted and never answered (nor closed)
# A missing or empty MODEFILE means "ok". Any other path -> 404.
# COUNTFILE always holds the number of requests received so far (of any
# method or path), rewritten atomically so a reader never sees a partial value;
# COUNTFILE.conns the number of TCP connections (keep-alive reuses one).
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1])
MODEFILE = sys.argv[2]
COUNTFILE = sys.argv[3]

count = 0
conns = 0
count_lock = threading.Lock()


def write_file(path, value):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{value}\n")
    os.replace(tmp, path)


def write_count():
    write_file(COUNTFILE, count)
    write_file(COUNTFILE + ".conns", conns)


def bump_count():
    global count
    with count_lock:
        count += 1
        write_count()


def bump_conns():
    global conns
    with count_lock:
        conns += 1
        write_count()


def read_mode():
    try:
        with open(MODEFILE) as f:
            return f.read().strip() or "ok"
    except FileNotFoundError:
        return "ok"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so every reply sets Content-Length

    def setup(self):
        # Once per TCP connection.
        bump_conns()
        super().setup()

    def parse_request(self):
        # Runs once per well-formed request whatever its method, so this is
        # the one place that sees (and counts) every request.
        ok = super().parse_request()
        if ok:
            bump_count()
        return ok

    def do_GET(self):
        mode = read_mode()
        if self.path.split("?", 1)[0] != "/health":
            self.reply(404, b"404 page not found\n")
        elif mode == "hang":
            # Hold the connection open without answering; this thread is a
            # daemon thread, so it neither blocks other requests nor shutdown.
            while True:
                time.sleep(3600)
        elif mode == "ok":
            self.reply(200)
        else:
            self.reply(500)

    def reply(self, status, body=b""):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        sys.stderr.write("clair-standin: " + (fmt % args) + "\n")


write_count()
# ThreadingHTTPServer serves each connection in a daemon thread.
server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
server.serve_forever()
