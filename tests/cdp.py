#!/usr/bin/env python3
"""Opens a page in headless Chromium with a viewport of a given size and
prints what a JavaScript expression evaluates to there, through the
DevTools protocol over a pipe (no package beyond Python's own).  The page
itself runs no script: the expression is the test's.

Usage: cdp.py URL WIDTH HEIGHT EXPRESSION [USER_DATA_DIR]
"""
import json
import os
import subprocess
import sys
import time


class Browser:
    def __init__(self, datadir):
        # Chromium reads commands on fd 3 and writes answers on fd 4.
        to_r, self.to_w = os.pipe()
        self.from_r, from_w = os.pipe()

        def child():
            r, w = os.dup(to_r), os.dup(from_w)
            os.dup2(r, 3)
            os.dup2(w, 4)
            for fd in (r, w, to_r, from_w, self.to_w, self.from_r):
                if fd > 4:
                    os.close(fd)

        self.proc = subprocess.Popen(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--user-data-dir=" + datadir,
             "--remote-debugging-pipe", "about:blank"],
            preexec_fn=child, close_fds=False, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        os.close(to_r)
        os.close(from_w)
        self.buf = b""
        self.next_id = 0

    def send(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_w, json.dumps(msg).encode() + b"\0")
        return self.wait(lambda m: m.get("id") == self.next_id)

    def wait(self, want, deadline=30):
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            while b"\0" in self.buf:
                raw, self.buf = self.buf.split(b"\0", 1)
                msg = json.loads(raw)
                if want(msg):
                    if "error" in msg:
                        raise RuntimeError(msg["error"])
                    return msg
            chunk = os.read(self.from_r, 65536)
            if not chunk:
                raise RuntimeError("Chromium closed the pipe")
            self.buf += chunk
        raise RuntimeError("no answer from Chromium")

    def close(self):
        try:
            self.send("Browser.close")
        except (RuntimeError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def main():
    url, width, height, expr = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    datadir = sys.argv[5] if len(sys.argv) > 5 else "/tmp/cdp-profile"
    b = Browser(datadir)
    try:
        target = b.send("Target.createTarget", {"url": "about:blank"})["result"]["targetId"]
        s = b.send("Target.attachToTarget", {"targetId": target, "flatten": True})["result"]["sessionId"]
        b.send("Emulation.setDeviceMetricsOverride",
               {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600}, s)
        b.send("Page.enable", {}, s)
        b.send("Page.navigate", {"url": url}, s)
        b.wait(lambda m: m.get("method") == "Page.loadEventFired" and m.get("sessionId") == s)
        r = b.send("Runtime.evaluate", {"expression": expr, "returnByValue": True}, s)
        print(json.dumps(r["result"]["result"].get("value")))
    finally:
        b.close()


if __name__ == "__main__":
    main()
