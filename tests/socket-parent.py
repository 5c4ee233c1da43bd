#!/usr/bin/env python3
"""Hands a listening socket to a program on standard input, as systemd's
socket activation (StandardInput=socket) and mod_fcgid do, and starts the
program again whenever it exits (systemd's Restart=, mod_fcgid's respawn),
keeping the socket open across restarts.

Usage: socket-parent.py unix:PATH|tcp:PORT LOGFILE -- PROGRAM [ARG...]
Each start and exit is one line in LOGFILE: "start PID" / "exit PID STATUS".
SIGTERM stops the program and then this parent.
"""
import os
import signal
import socket
import subprocess
import sys


def main():
    where, logfile = sys.argv[1], sys.argv[2]
    argv = sys.argv[sys.argv.index("--") + 1:]
    if where.startswith("unix:"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(where[5:])
        os.chmod(where[5:], 0o666)
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", int(where[4:])))
    sock.listen(128)
    stopping = False
    child = None

    def on_term(signum, frame):
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.terminate()

    signal.signal(signal.SIGTERM, on_term)
    with open(logfile, "a", buffering=1) as log:
        while not stopping:
            child = subprocess.Popen(argv, stdin=sock.fileno())
            log.write(f"start {child.pid}\n")
            status = child.wait()
            log.write(f"exit {child.pid} {status}\n")
    sock.close()


if __name__ == "__main__":
    main()
