#!/usr/bin/env python3
"""A loopback HTTP proxy in front of the AWS emulator (moto) that makes it behave more
like AWS under stress: lost answers, killed clients, seeded random faults, throttling,
idempotency tokens honoured as AWS honours them, added latency, and resources that stay
"in progress" for a while after their create.

    fault_proxy.py UPSTREAM [--lose ACTION[,ACTION...]] [--lose-times N]
                            [--seed S] [--fault-rate R] [--faults KIND[,KIND...]]
                            [--latency-ms MS] [--creating-seconds S] [--record FILE]
    fault_proxy.py UPSTREAM [ACTION[,ACTION...] [TIMES]]     # short for --lose

It prints `PORT=<port>` and serves on 127.0.0.1 until killed.

- `--lose`: the named actions are carried out upstream and their first N answers are
  never delivered (the connection is closed), as when a response is lost on the way back.
- `POST /_proxy/kill {"pid": P, "after": K}`: once the K-th mutating request from then on
  has been carried out upstream, P gets SIGKILL before it hears the answer.

Random faults (`--fault-rate`, kinds latency, 500, 503, throttle, reset, lost) are drawn
from sha256(seed, request identity, times that identity was seen before), so a seed gives
the same faults for the same requests whatever the interleaving of concurrent clients,
and a retry gets a fresh draw. Admin API: `GET /_proxy/stats`, `POST /_proxy/reset-stats`,
`POST /_proxy/kill`, and `GET /_proxy/lost` (the --lose counts). `/_proxy` and `/moto-api` are
never faulted, recorded or counted. Standard library only.
"""

import argparse
import hashlib
import http.client
import json
import os
import re
import signal
import socket
import struct
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KINDS = ("latency", "500", "503", "throttle", "reset", "lost")
# Creates that AWS documents as idempotent without a token: the same parameters again
# succeed and return what the first call made (moto makes another). ELBv2 API reference,
# CreateLoadBalancer / CreateTargetGroup / CreateListener: "This operation is idempotent,
# which means that it completes at most one time. If you attempt to create multiple ...
# with the same settings, each call succeeds."
IDEMPOTENT_BY_PARAMETERS = {
    ("elasticloadbalancing", "CreateLoadBalancer"),
    ("elasticloadbalancing", "CreateTargetGroup"),
    ("elasticloadbalancing", "CreateListener"),
}
READ_ONLY = ("Describe", "Get", "List", "Head")
# Query parameters that sign a request (SigV4/SigV2 in the query string): they change on
# every attempt, so they are no part of what the request asks for.
VOLATILE = {"Signature", "SignatureMethod", "SignatureVersion", "Timestamp", "Expires", "AWSAccessKeyId"}
# S3 sub-resources (https://docs.aws.amazon.com/AmazonS3/latest/API/RESTCommonRequestHeaders.html
# and the operation pages): the query keys that select the operation on a bucket or object.
S3_SUBRESOURCES = {
    "accelerate", "acl", "analytics", "attributes", "cors", "delete", "encryption", "intelligent-tiering",
    "inventory", "legal-hold", "lifecycle", "list-type", "location", "logging", "metadataTable", "metrics",
    "notification", "object-lock", "ownershipControls", "partNumber", "policy", "policyStatus",
    "publicAccessBlock", "replication", "requestPayment", "restore", "retention", "select", "session",
    "tagging", "torrent", "uploadId", "uploads", "versionId", "versioning", "versions", "website",
}
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
              "te", "trailer", "transfer-encoding", "upgrade", "content-length", "expect"}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("upstream", help="the emulator's endpoint, e.g. http://127.0.0.1:5000")
    # lossy_proxy.py's positional form, so the proxy can stand in for it unchanged.
    p.add_argument("legacy_lose", nargs="?", default="", help=argparse.SUPPRESS)
    p.add_argument("legacy_times", nargs="?", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--lose", default="", help="actions whose first answers are lost (comma-separated)")
    p.add_argument("--lose-times", type=int, default=None, help="answers lost per named action (default 1)")
    p.add_argument("--seed", default="0", help="seed of the random faults")
    p.add_argument("--fault-rate", type=float, default=0.0, help="probability that a request is faulted")
    p.add_argument("--faults", default=",".join(KINDS), help=f"fault kinds drawn from: {','.join(KINDS)}")
    p.add_argument("--latency-ms", type=float, default=0.0, help="sleep before forwarding every call")
    p.add_argument("--creating-seconds", type=float, default=0.0,
                   help="EKS clusters/node groups and NAT gateways look in progress this long after their create")
    p.add_argument("--record", help="JSON lines file, one line per request")
    a = p.parse_args(argv)
    a.lose_set = {x for x in (a.lose + "," + a.legacy_lose).split(",") if x}
    a.lose_times = a.lose_times if a.lose_times is not None else (a.legacy_times if a.legacy_times is not None else 1)
    a.kinds = [k for k in a.faults.split(",") if k]
    bad = [k for k in a.kinds if k not in KINDS]
    if bad or not a.kinds:
        p.error(f"unknown fault kinds {bad}; choose among {','.join(KINDS)}")
    return a


ARGS = parse_args(sys.argv[1:])
UPSTREAM = urllib.parse.urlsplit(ARGS.upstream)
lock = threading.Lock()
record_file = open(ARGS.record, "w", buffering=1) if ARGS.record else None


def fresh_stats():
    return {"requests": 0, "lost": {}, "killed": 0, "faults": {}, "by_action": {}, "token_replays": 0, "token_mismatches": 0}


stats = fresh_stats()
lose_used = {}          # --lose budget per action; kept apart from stats so reset-stats does not re-arm it
seen = {}               # identity -> times seen, the n of the fault draw; never reset (determinism)
kill = {"pid": None, "left": 0}
tokens = {}             # (service, action, token) -> (fingerprint, (status, headers, body))
token_locks = {}        # (service, action, token) -> Lock: a concurrent retry waits for the first try
created = {}            # ("cluster", name) | ("nodegroup", cluster, name) | ("nat", id) -> time of create


# --- Who is asking for what -------------------------------------------------------------

class Call:
    """One AWS request: service, action, protocol, parameters."""

    def __init__(self, method, target, headers, body):
        self.method = method
        split = urllib.parse.urlsplit(target)
        self.path = split.path
        self.query = urllib.parse.parse_qsl(split.query, keep_blank_values=True)
        self.body = body
        # SigV4's credential scope names the signing service: AKID/date/region/SERVICE/aws4_request.
        auth = headers.get("Authorization") or ""
        m = re.search(r"Credential=[^/,\s]+/\d+/[^/]+/([^/]+)/aws4_request", auth)
        if not m:  # presigned: the scope is in X-Amz-Credential
            cred = dict(self.query).get("X-Amz-Credential", "")
            m = re.match(r"[^/]+/\d+/[^/]+/([^/]+)/aws4_request", cred)
        self.service = m.group(1) if m else ""
        self.token = None
        tname = None  # the parameter that carries the idempotency token
        target_header = headers.get("X-Amz-Target")
        ctype = (headers.get("Content-Type") or "").lower()
        form = []
        if ctype.startswith("application/x-www-form-urlencoded"):
            form = urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        params = [(k, v) for k, v in self.query + form if k not in VOLATILE and not k.startswith("X-Amz-")]
        # The identity leaves out the idempotency token: SDKs fill in a random one per call
        # (the same on each retry), which would make two runs of a benchmark draw different
        # faults for the same calls.
        action = dict(params).get("Action")
        if target_header:
            # awsJson1_0/1_1 (KMS, CloudTrail, …): X-Amz-Target is Service_Version.Operation.
            self.protocol = "json"
            self.json_type = ctype if ctype.startswith("application/x-amz-json") else "application/x-amz-json-1.1"
            self.action = target_header.rsplit(".", 1)[-1]
            doc = self._json()
            if isinstance(doc, dict):
                for key in ("ClientToken", "ClientRequestToken"):
                    if isinstance(doc.get(key), str):
                        tname, self.token = key, doc.pop(key)
                        break
                fp = json.dumps(doc, sort_keys=True)
            else:
                fp = body.decode("utf-8", "replace")
            self.identity_fp = self.token_fp = fp
            self.mutating = not self.action.startswith(READ_ONLY)
        elif action:
            # awsQuery and ec2Query (EC2, IAM, STS, ELBv2): Action= in the form (or query).
            self.protocol = "ec2" if self.service == "ec2" else "query"
            self.action = action
            self.version = dict(params).get("Version", "")
            if self.protocol == "ec2":
                self.token = dict(params).get("ClientToken")
                tname = "ClientToken" if self.token is not None else None
            fp = json.dumps(sorted((k, v) for k, v in params if k != tname))
            if (self.service, action) in IDEMPOTENT_BY_PARAMETERS:
                # The request itself is its token: the same settings get the first answer.
                self.token = fp
            self.identity_fp = self.token_fp = fp
            self.mutating = not self.action.startswith(READ_ONLY)
        else:
            # REST protocols: the operation is the method and the path.
            if self.service == "s3":
                self.protocol = "s3"
            elif self.service in ("route53", "cloudfront"):
                self.protocol = "restxml"
            else:
                self.protocol = "restjson"
            self.action = f"{method} {self.path}"
            if self.protocol == "s3":
                subs = sorted({k for k, _ in self.query if k in S3_SUBRESOURCES})
                if subs:
                    self.action += "?" + "&".join(subs)
            query = sorted((k, v) for k, v in self.query if not k.startswith("X-Amz-"))
            self.identity_fp = json.dumps([method, self.path, query])
            self.mutating = method not in ("GET", "HEAD")
            doc = self._json() if self.protocol == "restjson" else None
            if isinstance(doc, dict) and isinstance(doc.get("clientRequestToken"), str):
                self.token = doc.pop("clientRequestToken")
            rest = json.dumps(doc, sort_keys=True) if isinstance(doc, dict) else body.decode("utf-8", "replace")
            self.token_fp = json.dumps([method, self.path, query, rest])
        if self.token is not None and self.mutating:
            self.token_key = (self.service, self.action, self.token)
        else:
            self.token_key = None
        self.identity = "\n".join((self.service, self.action, self.identity_fp))

    def _json(self):
        try:
            return json.loads(self.body) if self.body else {}
        except ValueError:
            return None


def draw(identity, n, what):
    """A number in [0, 1) from sha256 of the seed, the request's identity, how many times
    it was seen before, and what the number is for."""
    h = hashlib.sha256(f"{ARGS.seed}\0{identity}\0{n}\0{what}".encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64


# --- Answers in each protocol's error shape -----------------------------------------------

def error(call, status, code, message, fault_type="Receiver"):
    """(status, headers, body) of an AWS error in the shape the caller's SDK parses."""
    rid = str(uuid.uuid4())
    p = call.protocol
    if p == "ec2":
        # https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{code}</Code>'
                f"<Message>{message}</Message></Error></Errors><RequestID>{rid}</RequestID></Response>")
        headers = [("Content-Type", "text/xml;charset=UTF-8")]
    elif p in ("query", "restxml"):
        # The Query-protocol ErrorResponse:
        # https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html,
        # https://smithy.io/2.0/aws/protocols/aws-query-protocol.html#operation-error-serialization
        xmlns = f"https://{call.service}.amazonaws.com/doc/{getattr(call, 'version', '')}/"
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="{xmlns}"><Error><Type>{fault_type}</Type>'
                f"<Code>{code}</Code><Message>{message}</Message></Error><RequestId>{rid}</RequestId></ErrorResponse>")
        headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", rid)]
    elif p == "s3":
        # https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
                f"<RequestId>{rid}</RequestId><HostId>{rid}</HostId></Error>")
        headers = [("Content-Type", "application/xml"), ("x-amz-request-id", rid)]
    elif p == "json":
        # awsJson1_1 (and 1_0): the code in the body's `__type`:
        # https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html#operation-error-serialization
        body = json.dumps({"__type": code, "message": message})
        headers = [("Content-Type", call.json_type), ("x-amzn-RequestId", rid)]
    else:
        # restJson1 (EKS, …): the code in the x-amzn-ErrorType header:
        # https://smithy.io/2.0/aws/protocols/aws-restjson1-protocol.html#operation-error-serialization
        body = json.dumps({"message": message})
        headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", code), ("x-amzn-RequestId", rid)]
    return status, headers, body.encode()


def fault_answer(call, kind):
    """The answer a 500, 503 or throttle fault gives instead of forwarding."""
    p, eks = call.protocol, call.service == "eks"
    if kind == "throttle":
        if p == "ec2":
            # https://docs.aws.amazon.com/AWSEC2/latest/devguide/ec2-api-throttling.html
            return error(call, 503, "RequestLimitExceeded", "Request limit exceeded.", "Sender")
        if p == "s3":
            # https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html (SlowDown, 503)
            return error(call, 503, "SlowDown", "Please reduce your request rate.", "Sender")
        if p in ("query", "restxml"):
            # https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html (Throttling, 400)
            return error(call, 400, "Throttling", "Rate exceeded", "Sender")
        if p == "json":
            # https://docs.aws.amazon.com/kms/latest/APIReference/CommonErrors.html (ThrottlingException, 400)
            return error(call, 400, "ThrottlingException", "Rate exceeded", "Sender")
        # https://docs.aws.amazon.com/eks/latest/APIReference/API_ThrottlingException.html (429)
        return error(call, 429, "ThrottlingException", "Rate exceeded", "Sender")
    status = int(kind)
    if p in ("ec2", "s3"):
        # EC2 and S3 name them InternalError / ServiceUnavailable (pages cited in error()).
        code = "InternalError" if status == 500 else "ServiceUnavailable"
    elif p == "restjson" and eks:
        # EKS's modelled server errors:
        # https://docs.aws.amazon.com/eks/latest/APIReference/API_ServerException.html,
        # https://docs.aws.amazon.com/eks/latest/APIReference/API_ServiceUnavailableException.html
        code = "ServerException" if status == 500 else "ServiceUnavailableException"
    else:
        # The common errors of the Query and JSON services (IAM, STS, KMS, CloudTrail, …):
        # https://docs.aws.amazon.com/kms/latest/APIReference/CommonErrors.html
        code = "InternalFailure" if status == 500 else "ServiceUnavailable"
    message = "An internal error has occurred." if status == 500 else "The service is unavailable. Please try again later."
    return error(call, status, code, message)


def mismatch_answer(call):
    """A token reused with other parameters: refused without being carried out."""
    if call.protocol == "ec2":
        # https://docs.aws.amazon.com/AWSEC2/latest/devguide/ec2-api-idempotency.html
        return error(call, 400, "IdempotentParameterMismatch",
                     "The client token was already used with different parameters.", "Sender")
    if call.protocol == "restjson":
        # Assumed: EKS documents clientRequestToken
        # (https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateCluster.html) but not
        # the error for a token reused with other parameters; InvalidRequestException (400)
        # is its error for a request that is invalid in the service's current state.
        return error(call, 400, "InvalidRequestException",
                     "clientRequestToken was used with different parameters", "Sender")
    # Assumed: the name most JSON services model for this (e.g. ECS, RAM, Image Builder).
    return error(call, 400, "IdempotentParameterMismatchException",
                 "The client token was already used with different parameters.", "Sender")


# --- Upstream ----------------------------------------------------------------------------

def forward(method, target, headers, body):
    """Sends the request on; returns (status, headers, body) of the upstream's answer."""
    cls = http.client.HTTPSConnection if UPSTREAM.scheme == "https" else http.client.HTTPConnection
    conn = cls(UPSTREAM.hostname, UPSTREAM.port, timeout=300)
    try:
        out = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
        conn.request(method, target, body=body, headers=out)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, resp.getheaders(), data
    finally:
        conn.close()


def ok(status):
    return 200 <= status < 300


def note_creates(call, answer):
    """Remembers when a cluster, node group or NAT gateway was made (for --creating-seconds)."""
    if not ARGS.creating_seconds or not ok(answer[0]):
        return
    now = time.monotonic()
    if call.service == "eks" and call.method == "POST":
        doc = call._json() or {}
        parts = [urllib.parse.unquote(p) for p in call.path.strip("/").split("/")]
        if parts == ["clusters"] and doc.get("name"):
            with lock:
                created[("cluster", doc["name"])] = now
        elif len(parts) == 3 and parts[0] == "clusters" and parts[2] == "node-groups" and doc.get("nodegroupName"):
            with lock:
                created[("nodegroup", parts[1], doc["nodegroupName"])] = now
    elif call.service == "ec2" and call.action == "CreateNatGateway":
        for nat in re.findall(rb"<natGatewayId>([^<]+)</natGatewayId>", answer[2]):
            with lock:
                created[("nat", nat.decode())] = now


def creating(key):
    with lock:
        t = created.get(key)
    return t is not None and time.monotonic() - t < ARGS.creating_seconds


def rewrite(call, answer):
    """Within --creating-seconds of a create, the resource is still being made."""
    status, headers, body = answer
    if not ARGS.creating_seconds or not ok(status) or not created:
        return answer
    if call.service == "eks" and call.method == "GET":
        parts = [urllib.parse.unquote(p) for p in call.path.strip("/").split("/")]
        if len(parts) == 2 and parts[0] == "clusters":
            key, field = ("cluster", parts[1]), "cluster"
        elif len(parts) == 4 and parts[0] == "clusters" and parts[2] == "node-groups":
            key, field = ("nodegroup", parts[1], parts[3]), "nodegroup"
        else:
            return answer
        if not creating(key):
            return answer
        try:
            doc = json.loads(body)
        except ValueError:
            return answer
        if doc.get(field, {}).get("status") == "ACTIVE":
            doc[field]["status"] = "CREATING"
            body = json.dumps(doc).encode()
    elif call.service == "ec2" and call.action == "DescribeNatGateways":
        # Each top-level <item> of natGatewaySet is one gateway; its nested items (addresses,
        # tags) hold no <state>.
        out, depth, start, pos = [], 0, 0, 0
        for m in re.finditer(rb"<item>|</item>", body):
            if m.group() == b"<item>":
                if depth == 0:
                    start = m.start()
                depth += 1
            else:
                depth -= 1
                if depth == 0:
                    item = body[start:m.end()]
                    ids = re.findall(rb"<natGatewayId>([^<]+)</natGatewayId>", item)
                    if ids and creating(("nat", ids[0].decode())):
                        item = item.replace(b"<state>available</state>", b"<state>pending</state>")
                    out += [body[pos:start], item]
                    pos = m.end()
        body = b"".join(out) + body[pos:]
    else:
        return answer
    return status, headers, body


# --- The proxy ---------------------------------------------------------------------------

def count(kind, action):
    stats["faults"][kind] = stats["faults"].get(kind, 0) + 1
    per = stats["by_action"].setdefault(action, {})
    per[kind] = per.get(kind, 0) + 1


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def shutdown_request(self, request):
        # A socket set to linger 0 (the reset fault) is closed at once, so the client gets
        # a RST; shutting down its write side first would send a FIN before it.
        try:
            linger = struct.unpack("ii", request.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8))
        except OSError:
            linger = (0, 0)
        if linger == (1, 0):
            self.close_request(request)
        else:
            super().shutdown_request(request)


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _send(self, answer, upstream=True):
        status, headers, body = answer
        if upstream:
            self.send_response_only(status)
        else:
            self.send_response(status)
        for k, v in headers:
            if k.lower() not in HOP_BY_HOP:
                self.send_header(k, v)
        if self.command == "HEAD":
            # A HEAD answer has no body; its Content-Length is that of the GET.
            self.send_header("Content-Length", next((v for k, v in headers if k.lower() == "content-length"), "0"))
            body = b""
        else:
            self.send_header("Content-Length", str(len(body)))
        # Head and body in one write: two small writes meet the client's delayed ACK and
        # stall 40 ms each (benchmarks go through here).
        self._headers_buffer.append(b"\r\n" + body)
        self.flush_headers()

    def _json_answer(self, doc, status=200):
        self._send((status, [("Content-Type", "application/json")], json.dumps(doc).encode()), upstream=False)

    def _drop(self, reset=False):
        """Closes the connection without an answer: a FIN (answer lost), or a RST (reset)."""
        self.close_connection = True
        if reset:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _admin(self, body):
        path = self.path.split("?", 1)[0]
        if path == "/_proxy/kill" and self.command == "POST":
            order = json.loads(body)
            with lock:
                kill.update(pid=int(order["pid"]), left=int(order["after"]))
            self._send((200, [], b""), upstream=False)
        elif path == "/_proxy/stats":
            with lock:
                data = json.loads(json.dumps(stats))
            self._json_answer(data)
        elif path == "/_proxy/reset-stats" and self.command == "POST":
            with lock:
                stats.clear()
                stats.update(fresh_stats())
            self._json_answer({})
        elif path == "/_proxy/lost":
            # lossy_proxy.py's shape: losses per action, and "killed" once a client was killed.
            with lock:
                data = dict(stats["lost"])
                if stats["killed"]:
                    data["killed"] = stats["killed"]
            self._send((200, [], json.dumps(data).encode()), upstream=False)
        else:
            self._json_answer({"message": f"no such proxy endpoint: {self.command} {path}"}, 404)

    def _serve(self):
        body = self._read_body()
        if self.path.startswith("/_proxy/"):
            return self._admin(body)
        if self.path.startswith("/moto-api"):
            answer = forward(self.command, self.path, self.headers, body)
            if self.path.startswith("/moto-api/reset") and ok(answer[0]):
                # The emulator forgot everything: the stored answers and creates refer to nothing.
                with lock:
                    tokens.clear()
                    created.clear()
            return self._send(answer)
        call = Call(self.command, self.path, self.headers, body)
        t0 = time.time()
        with lock:
            stats["requests"] += 1
        status, fault = self._call(call, body)
        if record_file:
            line = json.dumps({"t0": t0, "t1": time.time(), "service": call.service, "action": call.action,
                               "status": status, "fault": fault})
            with lock:
                record_file.write(line + "\n")

    def _call(self, call, body):
        """Answers one AWS call; returns (status sent or None, what happened to it)."""
        if call.token_key is None:
            return self._faulted(call, body)
        with lock:
            token_lock = token_locks.setdefault(call.token_key, threading.Lock())
        # Idempotency tokens are honoured before any fault is drawn, as AWS checks them
        # before doing anything (https://docs.aws.amazon.com/AWSEC2/latest/devguide/ec2-api-idempotency.html).
        with token_lock:
            with lock:
                stored = tokens.get(call.token_key)
            if stored and stored[0] == call.token_fp:
                with lock:
                    stats["token_replays"] += 1
                self._send(stored[1])
                return stored[1][0], "token_replay"
            if stored:
                with lock:
                    stats["token_mismatches"] += 1
                answer = mismatch_answer(call)
                self._send(answer, upstream=False)
                return answer[0], "token_mismatch"
            return self._faulted(call, body)

    def _faulted(self, call, body):
        kind = None
        if ARGS.fault_rate > 0:
            with lock:
                n = seen.get(call.identity, 0)
                seen[call.identity] = n + 1
            if draw(call.identity, n, "fault") < ARGS.fault_rate:
                kind = ARGS.kinds[int(draw(call.identity, n, "kind") * len(ARGS.kinds))]
                with lock:
                    count(kind, call.action)
                if kind in ("500", "503", "throttle"):
                    answer = fault_answer(call, kind)
                    self._send(answer, upstream=False)
                    return answer[0], kind
                if kind == "reset":
                    self._drop(reset=True)
                    return None, kind
                if kind == "latency":
                    time.sleep(0.2 + 1.3 * draw(call.identity, n, "latency"))
        if ARGS.latency_ms:
            time.sleep(ARGS.latency_ms / 1000)
        try:
            answer = forward(self.command, self.path, self.headers, body)
        except OSError as e:
            answer = error(call, 502, "BadGateway", f"fault_proxy: upstream unreachable: {e}")
            self._send(answer, upstream=False)
            return answer[0], kind
        note_creates(call, answer)
        if call.token_key is not None and ok(answer[0]):
            # Stored even if the answer is lost below: upstream did the work.
            with lock:
                tokens[call.token_key] = (call.token_fp, answer)
        victim = None
        with lock:
            lose = call.action in ARGS.lose_set and lose_used.get(call.action, 0) < ARGS.lose_times
            if lose:
                lose_used[call.action] = lose_used.get(call.action, 0) + 1
                stats["lost"][call.action] = stats["lost"].get(call.action, 0) + 1
            if kill["pid"] and call.mutating:
                kill["left"] -= 1
                if kill["left"] <= 0:
                    victim, kill["pid"] = kill["pid"], None
                    stats["killed"] += 1
        what = [x for x in (kind, "lose" if lose else None, "kill" if victim else None) if x]
        what = "+".join(what) or None
        if victim:
            # The worst moment for a client: its change is made, its record of it is not.
            try:
                os.kill(victim, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if lose or victim or kind == "lost":
            # Upstream did the work; the caller never hears of it.
            self._drop()
            return None, what
        answer = rewrite(call, answer)
        self._send(answer)
        return answer[0], what

    def _quiet(self):
        # A client killed mid-request (the crash matrix does that) is not an error here.
        try:
            self._serve()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _quiet


def main():
    server = Server(("127.0.0.1", 0), Proxy)
    print(f"PORT={server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
