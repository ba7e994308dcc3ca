#!/usr/bin/env python3
"""A loopback proxy in front of the AWS emulator that loses answers and kills clients.

- Lost answers: for the actions named, the request is passed on (the emulator carries it
  out) and the answer is never delivered — the connection is closed instead, as when a
  response is lost on the way back. Each named action loses its first TIMES answers.
- Crashes: `POST /_proxy/kill {"pid": P, "after": K}` arms a kill: once the K-th mutating
  request from then on has been carried out by the emulator, process P gets SIGKILL
  before it hears the answer (the worst moment for a client: its change is made, its
  record of it is not).

    lossy_proxy.py UPSTREAM [ACTION[,ACTION...] [TIMES]]   # prints PORT=<port>, then serves

`GET /_proxy/lost` answers how many answers were lost, per action, and how many clients
were killed.
"""

import http.client
import json
import os
import signal
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

upstream = urllib.parse.urlsplit(sys.argv[1])
actions = set(a for a in (sys.argv[2] if len(sys.argv) > 2 else "").split(",") if a)
times = int(sys.argv[3]) if len(sys.argv) > 3 else 1
lost = {}
lock = threading.Lock()
kill = {"pid": None, "left": 0}
READ_ONLY = ("Describe", "Get", "List", "Head")


def mutating(method, path, action):
    """A request that changes something: any Query-protocol action but reads, and any
    REST call but GET/HEAD."""
    if action:
        return not action.startswith(READ_ONLY)
    return method not in ("GET", "HEAD") and not path.startswith("/moto-api")


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _serve(self):
        if self.path == "/_proxy/kill":
            order = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            with lock:
                kill.update(pid=int(order["pid"]), left=int(order["after"]))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path == "/_proxy/lost":
            data = json.dumps(lost).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        # Query protocol (EC2, IAM, …): Action= in the form; JSON protocol (KMS, …): X-Amz-Target.
        target = self.headers.get("X-Amz-Target") or ""
        action = target.rsplit(".", 1)[-1] if target else urllib.parse.parse_qs(body.decode(errors="replace")).get("Action", [""])[0]
        conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=120)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length", "connection")}
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        victim = None
        with lock:
            lose = action in actions and lost.get(action, 0) < times
            if lose:
                lost[action] = lost.get(action, 0) + 1
            if kill["pid"] and mutating(self.command, self.path, action):
                kill["left"] -= 1
                if kill["left"] <= 0:
                    victim, kill["pid"] = kill["pid"], None
                    lost["killed"] = lost.get("killed", 0) + 1
        if victim:
            try:
                os.kill(victim, signal.SIGKILL)
            except ProcessLookupError:
                pass
            lose = True
        if lose:
            # The emulator did the work; the caller never hears of it.
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _quiet(self):
        # A client killed mid-request (the crash matrix does that) is not an error here.
        try:
            self._serve()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _quiet


server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
print(f"PORT={server.server_address[1]}", flush=True)
server.serve_forever()
