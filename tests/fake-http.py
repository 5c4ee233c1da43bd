#!/usr/bin/env python3
# Misbehaving or foreign servers for the tests, on 127.0.0.1 only.
#
#   fake-http.py --hang PORT
#       Accepts TCP connections and never answers them; a connection is only
#       closed once the client closes it (i.e. a peer that hangs).
#   fake-http.py --banner PORT TEXT
#       Greets every connection with TEXT and a CRLF, as SMTP or FTP servers
#       do, then reads and discards until the client closes (a server that
#       speaks another protocol).
#   fake-http.py PORT STATUS [HEADERLINE]
#       An HTTP/1.1 server answering every GET (and HEAD) with STATUS, the
#       optional extra header HEADERLINE ("Name: value") and a small body,
#       e.g. a web server that is not a registry (200) or one that claims to be
#       one ("Docker-Distribution-Api-Version: registry/2.0").
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def hang(port):
    listener = socket.create_server(("127.0.0.1", port))
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=drain, args=(conn,), daemon=True).start()


def banner(port, text):
    listener = socket.create_server(("127.0.0.1", port))
    while True:
        conn, _ = listener.accept()
        conn.sendall(text.encode() + b"\r\n")
        threading.Thread(target=drain, args=(conn,), daemon=True).start()


def drain(conn):
    # Read and discard whatever the client sends until it hangs up.
    with conn:
        while conn.recv(4096):
            pass


def serve(port, status, headerline):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, so Content-Length is always set

        def do_GET(self):
            body = f"fake-http answers {status}\n".encode()
            self.send_response(status)
            if headerline:
                name, value = headerline.split(":", 1)
                self.send_header(name.strip(), value.strip())
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_HEAD = do_GET

        def log_message(self, fmt, *args):
            sys.stderr.write("fake-http: " + (fmt % args) + "\n")

    # ThreadingHTTPServer serves each connection in a daemon thread.
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.serve_forever()


def main(argv):
    if len(argv) == 2 and argv[0] == "--hang":
        hang(int(argv[1]))
    elif len(argv) == 3 and argv[0] == "--banner":
        banner(int(argv[1]), argv[2])
    elif len(argv) in (2, 3):
        serve(int(argv[0]), int(argv[1]), argv[2] if len(argv) == 3 else None)
    else:
        sys.exit("usage: fake-http.py --hang PORT | --banner PORT TEXT | PORT STATUS [HEADERLINE]")


main(sys.argv[1:])
