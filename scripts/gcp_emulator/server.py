#!/usr/bin/env python3
"""A local GCP contract server for unionctl: Compute, GKE, IAM (admin, workload identity
federation, credentials), Resource Manager, Cloud KMS, Cloud Storage (JSON API), Cloud
Logging sinks, OAuth2 and STS token endpoints.

Every client is pointed at http://HOST:PORT/{service} (the googleapis host prefix) and
appends its normal path. It refuses what the real APIs refuse for the fields unionctl relies
on, and answers in the documented REST shapes; each handler cites the reference it follows.

    server.py --host 127.0.0.1 --port 0 [--record FILE] [--polls N] [--project ID=NUMBER ...]

Admin API under /_emulator/ (resources, policies, mutate, faults, aws-identities, reset).
"""

import argparse
import base64
import copy
import hashlib
import ipaddress
import itertools
import json
import os
import random
import re
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import datetime, timedelta, timezone
from fnmatch import fnmatchcase
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gcpcel  # noqa: E402
from iamdata import BUILTIN_ROLES, role_permissions_match, KNOWN_PERMISSION_SERVICES  # noqa: E402

COMPUTE_BASE = "https://www.googleapis.com/compute/v1/"
RFC1035 = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
STATUS_NAMES = {
    400: ("INVALID_ARGUMENT", "badRequest"),
    401: ("UNAUTHENTICATED", "required"),
    403: ("PERMISSION_DENIED", "forbidden"),
    404: ("NOT_FOUND", "notFound"),
    405: ("METHOD_NOT_ALLOWED", "httpMethodNotAllowed"),
    409: ("ALREADY_EXISTS", "alreadyExists"),
    412: ("FAILED_PRECONDITION", "conditionNotMet"),
    429: ("RESOURCE_EXHAUSTED", "rateLimitExceeded"),
    500: ("INTERNAL", "backendError"),
    503: ("UNAVAILABLE", "backendError"),
}


class Media:
    """An answer that is an object's bytes (`alt=media`), with its headers."""

    def __init__(self, data, headers):
        self.data, self.headers = data, headers


class ApiError(Exception):
    def __init__(self, code, message, status=None, reason=None):
        super().__init__(message)
        self.code, self.message = code, message
        s, r = STATUS_NAMES.get(code, ("UNKNOWN", "unknown"))
        self.status, self.reason = status or s, reason or r

    def body(self):
        return {"error": {"code": self.code, "message": self.message, "status": self.status,
                          "errors": [{"message": self.message, "domain": "global", "reason": self.reason}]}}


class OAuthError(Exception):
    """Token endpoints answer in the OAuth 2.0 error shape (RFC 6749 section 5.2)."""

    def __init__(self, code, error, description):
        super().__init__(description)
        self.code, self.error, self.description = code, error, description


def bad(msg, **kw):
    return ApiError(400, msg, **kw)


def not_found(msg):
    return ApiError(404, msg)


def exists(msg):
    return ApiError(409, msg)


def utcnow():
    return datetime.now(timezone.utc)


def rfc3339(t=None):
    t = t or utcnow()
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def nanos_rfc3339(t=None):
    t = t or utcnow()
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond:06d}000Z"


def compute_ts():
    # Compute answers timestamps in Pacific time with an offset, e.g. 2024-05-01T10:00:00.123-07:00
    t = utcnow().astimezone(timezone(timedelta(hours=-7)))
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}-07:00"


def fingerprint():
    # Compute's fingerprints are URL-safe base64 (its clients decode them so; the Rust
    # client refuses '+' and '/').
    return base64.urlsafe_b64encode(os.urandom(8)).decode()


def etag_of(obj):
    return base64.b64encode(hashlib.sha1(json.dumps(obj, sort_keys=True).encode()).digest()[:8]).decode()


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    out = dict(target)
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def parse_duration(s, field):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)s", str(s or ""))
    if not m:
        raise bad(f"Invalid value at '{field}' (type.googleapis.com/google.protobuf.Duration), \"{s}\"")
    return float(m.group(1))


def parse_time(s, field):
    try:
        return datetime.fromisoformat(str(s).replace("Z", "+00:00"))
    except ValueError:
        raise bad(f"Invalid value at '{field}' (type.googleapis.com/google.protobuf.Timestamp), \"{s}\"")


def cidr(value, field):
    try:
        return ipaddress.ip_network(str(value), strict=True)
    except ValueError:
        raise bad(f"Invalid value for field '{field}': '{value}'. Must be a CIDR range, e.g. 10.0.0.0/16.", reason="invalid")


def split_mask(mask):
    if mask is None:
        return None
    if isinstance(mask, list):
        mask = ",".join(mask)
    if isinstance(mask, dict):  # FieldMask as {"paths": [...]}
        mask = ",".join(mask.get("paths", []))
    return [p.strip() for p in str(mask).split(",") if p.strip()]


# Enums: the gRPC-transcoded clients (container, iam, kms, logging, resourcemanager) send
# `$alt=json;enum-encoding=int` and serialize enums as numbers; the real APIs accept both.
# Numbers from google-cloud-*-v1 src/model.rs (the protos).
ENUMS = {
    "kms.purpose": {0: "CRYPTO_KEY_PURPOSE_UNSPECIFIED", 1: "ENCRYPT_DECRYPT", 5: "ASYMMETRIC_SIGN", 6: "ASYMMETRIC_DECRYPT",
                    7: "RAW_ENCRYPT_DECRYPT", 9: "MAC", 10: "KEY_ENCAPSULATION", 11: "AES_WRAPPING"},
    "kms.algorithm": {0: "CRYPTO_KEY_VERSION_ALGORITHM_UNSPECIFIED", 1: "GOOGLE_SYMMETRIC_ENCRYPTION", 41: "AES_128_GCM", 19: "AES_256_GCM",
                      2: "RSA_SIGN_PSS_2048_SHA256", 12: "EC_SIGN_P256_SHA256", 13: "EC_SIGN_P384_SHA384"},
    "kms.protectionLevel": {0: "PROTECTION_LEVEL_UNSPECIFIED", 1: "SOFTWARE", 2: "HSM", 3: "EXTERNAL", 4: "EXTERNAL_VPC", 5: "HSM_SINGLE_TENANT"},
    "gke.channel": {0: "UNSPECIFIED", 1: "RAPID", 2: "REGULAR", 3: "STABLE", 4: "EXTENDED"},
    "gke.dbState": {0: "UNKNOWN", 1: "ENCRYPTED", 2: "DECRYPTED", 3: "ALL_OBJECTS_ENCRYPTION_ENABLED"},
    "gke.component": {0: "COMPONENT_UNSPECIFIED", 1: "SYSTEM_COMPONENTS", 2: "WORKLOADS", 3: "APISERVER", 4: "SCHEDULER",
                      5: "CONTROLLER_MANAGER", 7: "KCP_SSHD", 8: "KCP_CONNECTION", 9: "KCP_HPA", 10: "KCP_VPA"},
    "gke.wlMode": {0: "MODE_UNSPECIFIED", 1: "GCE_METADATA", 2: "GKE_METADATA"},
    "gke.effect": {0: "EFFECT_UNSPECIFIED", 1: "NO_SCHEDULE", 2: "PREFER_NO_SCHEDULE", 3: "NO_EXECUTE"},
    "iam.stage": {0: "ALPHA", 1: "BETA", 2: "GA", 4: "DEPRECATED", 5: "DISABLED", 6: "EAP"},
    "iam.logType": {0: "LOG_TYPE_UNSPECIFIED", 1: "ADMIN_READ", 2: "DATA_WRITE", 3: "DATA_READ"},
    "logging.versionFormat": {0: "VERSION_FORMAT_UNSPECIFIED", 1: "V2", 2: "V1"},
}


def enum(value, table, field, default=None):
    names = ENUMS[table]
    if value is None:
        return default
    if isinstance(value, bool):
        raise bad(f"Invalid value at '{field}': {value}")
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        n = int(value)
        if n not in names:
            raise bad(f"Invalid value at '{field}' ({table.split('.')[1]}), {value}")
        return names[n]
    if value not in names.values():
        raise bad(f"Invalid value at '{field}' ({table.split('.')[1]}), \"{value}\"")
    return value


def validate_labels(labels, field="labels"):
    # https://cloud.google.com/compute/docs/labeling-resources#requirements (same rules for
    # GKE resourceLabels, KMS and Cloud Storage labels)
    if labels is None:
        return
    if not isinstance(labels, dict):
        raise bad(f"Invalid value for field '{field}': must be a map")
    if len(labels) > 64:
        raise bad(f"Invalid value for field '{field}': at most 64 labels")
    for k, v in labels.items():
        if not re.fullmatch(r"[a-z][a-z0-9_-]{0,62}", str(k)):
            raise bad(f"Invalid value for field '{field}': label key '{k}' must start with a lowercase letter and contain only lowercase letters, digits, '_' and '-' (at most 63)")
        if not isinstance(v, str) or not re.fullmatch(r"[a-z0-9_-]{0,63}", v):
            raise bad(f"Invalid value for field '{field}': label value '{v}' of key '{k}' may contain only lowercase letters, digits, '_' and '-' (at most 63)")


MEMBER_RE = re.compile(
    r"^(allUsers|allAuthenticatedUsers"
    r"|(user|group|serviceAccount|deleted:user|deleted:serviceAccount|deleted:group):[^\s@]+@[^\s@]+\.[^\s@]+(\?uid=\d+)?"
    r"|serviceAccount:[a-z][-a-z0-9.]*\.svc\.id\.goog\[[^/\]]+/[^\]]+\]"
    r"|domain:[a-z0-9.-]+\.[a-z]+"
    r"|projectOwner:[a-z0-9-]+|projectEditor:[a-z0-9-]+|projectViewer:[a-z0-9-]+"
    r"|principal://iam\.googleapis\.com/projects/\d+/locations/global/workloadIdentityPools/[a-z0-9-]{4,32}/subject/.+"
    r"|principalSet://iam\.googleapis\.com/projects/\d+/locations/global/workloadIdentityPools/[a-z0-9-]{4,32}/(\*|group/.+|attribute\.[a-z0-9_]+/.+)"
    r")$")


# ---------------------------------------------------------------------------------------
# State
# ---------------------------------------------------------------------------------------

class State:
    def __init__(self, polls, projects):
        self.lock = threading.RLock()
        self.polls = polls
        self.projects = dict(projects)  # id -> number
        # The projects that exist (the ones the server was started with): Resource
        # Manager's projects.get knows these only. The other APIs take any well-formed
        # project id by name and number it on first use (project_id below).
        self.known = dict(projects)
        self.created = rfc3339()
        self.reset()

    def reset(self):
        with self.lock:
            self.resources = {}  # canonical name -> {service, kind, name, body}
            self.policies = {}  # canonical resource name -> IAM policy
            self.ops = {}  # canonical operation name -> record
            self.faults = []
            self.aws = {}  # access key id -> arn
            self.ids = itertools.count(1000000000000000000 + random.randint(0, 10 ** 15))
            self.ip_next = {}  # subnet key -> next host index

    # projects: paths may carry the id or the number
    def project_id(self, p):
        if p in self.projects:
            return p
        for pid, num in self.projects.items():
            if num == p:
                return pid
        if not re.fullmatch(r"[a-z][-a-z0-9]{4,28}[a-z0-9]|\d+", p):
            raise bad(f"Invalid project id or number '{p}'")
        if not p.isdigit():
            self.projects[p] = str(int(hashlib.sha256(p.encode()).hexdigest(), 16) % 10 ** 12).rjust(12, "1")
        return p

    def number(self, pid):
        pid = self.project_id(pid)
        return self.projects.get(pid, pid)

    def new_id(self):
        return str(next(self.ids))

    def get(self, name):
        return self.resources.get(name)

    def put(self, service, kind, name, body):
        self.resources[name] = {"service": service, "kind": kind, "name": name, "body": body}
        return body

    def delete(self, name):
        self.resources.pop(name, None)
        self.policies.pop(name, None)


def canonical_project_path(state, name):
    """`projects/{number}/...` -> `projects/{id}/...`."""
    m = re.match(r"^projects/([^/]+)(/.*)?$", name)
    if m and m.group(1) not in ("-", "_"):
        return f"projects/{state.project_id(m.group(1))}{m.group(2) or ''}"
    return name


# ---------------------------------------------------------------------------------------
# Tokens and authorization
# https://cloud.google.com/iam/docs/overview#how_iam_works (policy evaluation)
# https://cloud.google.com/iam/docs/conditions-overview (conditions evaluated per request)
# ---------------------------------------------------------------------------------------

class Tokens:
    def __init__(self):
        self.lock = threading.Lock()
        self.tokens = {}

    def issue(self, principal, identities, kind, lifetime=3600):
        tok = "ya29.emulator-" + base64.urlsafe_b64encode(os.urandom(24)).decode().rstrip("=")
        with self.lock:
            self.tokens[tok] = {"principal": principal, "identities": list(identities), "kind": kind,
                                "expires": time.time() + lifetime}
        return tok

    def lookup(self, tok):
        with self.lock:
            t = self.tokens.get(tok)
        if t and t["expires"] > time.time():
            return t
        return None


def binding_applies(binding, resource_name, api_attrs):
    cond = binding.get("condition")
    if not cond:
        return True
    try:
        return gcpcel.evaluate(cond.get("expression", ""), {
            "resource": {"name": resource_name, "type": "", "service": ""},
            "request": {"time": rfc3339()},
            "api": api_attrs or {},
        }) is True
    except gcpcel.CelError:
        return False  # an error in a condition denies (https://cloud.google.com/iam/docs/conditions-overview#evaluation)


def role_grants(state, role, permission):
    if role in BUILTIN_ROLES:
        return role_permissions_match(role, BUILTIN_ROLES[role], permission)
    m = re.fullmatch(r"projects/([^/]+)/roles/([^/]+)", role)
    if m:
        r = state.get(canonical_project_path(state, role))
        if r and not r["body"].get("deleted"):
            return permission in r["body"].get("includedPermissions", [])
    return False


def policy_grants(state, policy, identities, permission, resource_name, api_attrs=None):
    for b in (policy or {}).get("bindings", []):
        if not any(m in identities for m in b.get("members", [])):
            continue
        if role_grants(state, b.get("role", ""), permission) and binding_applies(b, resource_name, api_attrs):
            return True
    return False


def project_policy(state, pid):
    key = f"projects/{pid}"
    pol = state.policies.get(key)
    if pol is None:
        pol = {"version": 1, "bindings": [{"role": "roles/owner", "members": ["user:customer@example.com"]}]}
        pol["etag"] = etag_of(pol)
        state.policies[key] = pol
    return pol


def authorize(state, tok, permission, resource_name, project, extra_policies=(), api_attrs=None):
    """Raises 403 unless `tok` holds `permission` on `resource_name` (project policy plus the
    resource's own policies). `user:` principals own every project."""
    if tok["kind"] == "user":
        return
    pid = state.project_id(project) if project else None
    policies = ([project_policy(state, pid)] if pid else []) + [p for p in extra_policies if p]
    for pol in policies:
        if policy_grants(state, pol, tok["identities"], permission, resource_name, api_attrs):
            return
    raise ApiError(403, f"Permission '{permission}' denied on resource '{resource_name}' (or it may not exist).",
                   reason="forbidden")


# ---------------------------------------------------------------------------------------
# Compute Engine
# https://cloud.google.com/compute/docs/reference/rest/v1/globalOperations/get
# https://cloud.google.com/compute/docs/reference/rest/v1/regionOperations/get
# https://cloud.google.com/compute/docs/reference/rest/v1/zoneOperations/get
# https://cloud.google.com/compute/docs/reference/rest/v1/Operation (Operation shape)
# ---------------------------------------------------------------------------------------

# collection -> (scope, permission prefix, kind, has fingerprint, fields patch may change)
COMPUTE_KINDS = {
    # https://cloud.google.com/compute/docs/reference/rest/v1/networks (insert, get, patch, delete)
    "networks": ("global", "compute.networks", "compute#network", False,
                 {"routingConfig", "mtu", "description", "networkFirewallPolicyEnforcementOrder"}),
    # https://cloud.google.com/compute/docs/reference/rest/v1/subnetworks/patch
    # ("You must specify the current fingerprint"; ipCidrRange only via expandIpCidrRange,
    # privateIpGoogleAccess only via setPrivateIpGoogleAccess)
    "subnetworks": ("region", "compute.subnetworks", "compute#subnetwork", True,
                    {"logConfig", "secondaryIpRanges", "description", "stackType",
                     "enableFlowLogs", "ipv6AccessType", "role", "drainTimeoutSeconds"}),
    # https://cloud.google.com/compute/docs/reference/rest/v1/routers (Cloud NAT = Router.nats)
    "routers": ("region", "compute.routers", "compute#router", False,
                {"nats", "bgp", "bgpPeers", "description", "interfaces", "md5AuthenticationKeys"}),
    # https://cloud.google.com/compute/docs/reference/rest/v1/firewalls
    "firewalls": ("global", "compute.firewalls", "compute#firewall", False,
                  {"allowed", "denied", "sourceRanges", "destinationRanges", "sourceTags", "targetTags",
                   "sourceServiceAccounts", "targetServiceAccounts", "priority", "disabled", "logConfig", "description"}),
    # https://cloud.google.com/compute/docs/reference/rest/v1/regionNetworkEndpointGroups (no patch)
    "networkEndpointGroups": ("region", "compute.networkEndpointGroups", "compute#networkEndpointGroup", False, None),
    # https://cloud.google.com/compute/docs/reference/rest/v1/regionBackendServices
    "backendServices": ("region", "compute.regionBackendServices", "compute#backendService", True,
                        {"backends", "healthChecks", "description", "sessionAffinity", "connectionDraining", "protocol",
                         "timeoutSec", "logConfig", "failoverPolicy", "connectionTrackingPolicy", "network"}),
    # https://cloud.google.com/compute/docs/reference/rest/v1/forwardingRules/patch
    # ("Currently, you can only patch the network_tier field" + global access)
    "forwardingRules": ("region", "compute.forwardingRules", "compute#forwardingRule", True,
                        {"networkTier", "allowGlobalAccess", "allowPscGlobalAccess", "sourceIpRanges"}),
    # https://cloud.google.com/compute/docs/reference/rest/v1/serviceAttachments
    "serviceAttachments": ("region", "compute.serviceAttachments", "compute#serviceAttachment", True,
                           {"connectionPreference", "consumerAcceptLists", "consumerRejectLists", "natSubnets",
                            "enableProxyProtocol", "description", "reconcileConnections", "propagatedConnectionLimit"}),
    # https://cloud.google.com/compute/docs/reference/rest/v1/regionHealthChecks (insert, get, patch,
    # update, delete; HealthCheck has no fingerprint)
    "healthChecks": ("region", "compute.regionHealthChecks", "compute#healthCheck", False,
                     {"checkIntervalSec", "timeoutSec", "healthyThreshold", "unhealthyThreshold", "type", "description",
                      "tcpHealthCheck", "sslHealthCheck", "httpHealthCheck", "httpsHealthCheck", "http2HealthCheck",
                      "grpcHealthCheck", "grpcTlsHealthCheck", "logConfig", "sourceRegions"}),
    # https://cloud.google.com/compute/docs/reference/rest/v1/regionTargetTcpProxies (insert, get,
    # list, delete only: no patch)
    "targetTcpProxies": ("region", "compute.regionTargetTcpProxies", "compute#targetTcpProxy", False, None),
}
# Zonal collections (same tuple shape).
ZONAL_KINDS = {
    # https://cloud.google.com/compute/docs/reference/rest/v1/networkEndpointGroups (insert, get,
    # delete, attachNetworkEndpoints, detachNetworkEndpoints, listNetworkEndpoints; no patch)
    "networkEndpointGroups": ("zone", "compute.networkEndpointGroups", "compute#networkEndpointGroup", False, None),
}
REGION_RE = re.compile(r"[a-z]+-[a-z]+\d")
ZONE_RE = re.compile(r"([a-z]+-[a-z]+\d)-[a-f]")
OUTPUT_ONLY = {"kind", "id", "creationTimestamp", "selfLink", "selfLinkWithId", "fingerprint", "gatewayAddress",
               "subnetworks", "labelFingerprint", "pscServiceAttachmentId", "connectedEndpoints", "IPAddress",
               "pscData", "size", "region", "name", "status", "zone"}
COMPUTE_REF_BASES = (COMPUTE_BASE, "https://compute.googleapis.com/compute/v1/", "http://www.googleapis.com/compute/v1/")


def compute_norm(v):
    if not isinstance(v, str):
        return v
    for b in COMPUTE_REF_BASES:
        if v.startswith(b):
            return v[len(b):]
    return v


class ComputeApi:
    def __init__(self, app):
        self.app, self.state = app, app.state

    def ref(self, value, pid, region, coll, field):
        """A reference (full URL, `projects/...`, `global/...`/`regions/...`, or a bare name)
        to an existing resource: its canonical name and record."""
        st = self.state
        scope = COMPUTE_KINDS[coll][0]
        v = compute_norm(str(value or ""))
        if not v:
            raise bad(f"Invalid value for field '{field}': ''. The field is required.", reason="required")
        if v.startswith("projects/"):
            name = canonical_project_path(st, v)
        elif v.startswith("global/") or v.startswith("regions/"):
            name = f"projects/{pid}/{v}"
        elif "/" not in v:
            name = f"projects/{pid}/global/{coll}/{v}" if scope == "global" else f"projects/{pid}/regions/{region}/{coll}/{v}"
        else:
            name = v
        pat = rf"projects/[^/]+/global/{coll}/[^/]+" if scope == "global" else rf"projects/[^/]+/regions/[^/]+/{coll}/[^/]+"
        if not re.fullmatch(pat, name):
            raise bad(f"Invalid value for field '{field}': '{value}'. The URL is malformed.", reason="invalid")
        rec = st.get(name)
        if rec is None:
            raise not_found(f"The resource '{name}' was not found")
        return name, rec["body"]

    def ref_neg(self, value, pid, region, field):
        """A backend's `group`: a regional NEG or a zonal NEG (`zones/{zone}/networkEndpointGroups/x`)."""
        v = compute_norm(str(value or ""))
        zm = re.fullmatch(r"(?:projects/([^/]+)/)?zones/([^/]+)/networkEndpointGroups/([^/]+)", v)
        if not zm:
            return self.ref(value, pid, region, "networkEndpointGroups", field)
        name = f"projects/{self.state.project_id(zm.group(1) or pid)}/zones/{zm.group(2)}/networkEndpointGroups/{zm.group(3)}"
        rec = self.state.get(name)
        if rec is None:
            raise not_found(f"The resource '{name}' was not found")
        return name, rec["body"]

    def new_op(self, pid, region, op_type, target_name, target_id, user, on_done=None, zone=None):
        st = self.state
        opname = f"operation-{int(time.time() * 1000)}-{os.urandom(6).hex()}-{os.urandom(2).hex()}-{os.urandom(2).hex()}"
        scope = f"zones/{zone}" if zone else f"regions/{region}" if region else "global"
        full = f"projects/{pid}/{scope}/operations/{opname}"
        body = {"kind": "compute#operation", "id": st.new_id(), "name": opname, "operationType": op_type,
                "targetLink": COMPUTE_BASE + target_name, "targetId": target_id, "status": "RUNNING", "user": user,
                "progress": 0, "insertTime": compute_ts(), "startTime": compute_ts(), "selfLink": COMPUTE_BASE + full,
                "selfLinkWithId": COMPUTE_BASE + f"projects/{pid}/{scope}/operations/{st.new_id()}"}
        if zone:
            body["zone"] = COMPUTE_BASE + f"projects/{pid}/zones/{zone}"
        elif region:
            body["region"] = COMPUTE_BASE + f"projects/{pid}/regions/{region}"
        st.ops[full] = {"body": body, "left": st.polls, "on_done": on_done}
        return copy.deepcopy(body)

    def poll_op(self, full):
        op = self.state.ops.get(full)
        if op is None:
            raise not_found(f"The resource '{full}' was not found")
        if op["left"] > 0:
            op["left"] -= 1
        elif op["body"]["status"] != "DONE":
            op["body"].update(status="DONE", progress=100, endTime=compute_ts())
            if op["on_done"]:
                op["on_done"]()
        return copy.deepcopy(op["body"])

    def handle(self, ctx, method, rest, query, body):
        st = self.state
        m = re.fullmatch(r"projects/([^/]+)/(global|regions/([^/]+)|zones/([^/]+))/([A-Za-z]+)(?:/([^/]+))?(?:/([A-Za-z]+))?", rest)
        if not m:
            raise not_found(f"The requested URL /compute/v1/{rest} was not found on this server.")
        pid = st.project_id(m.group(1))
        region, zone, coll, name, verb = m.group(3), m.group(4), m.group(5), m.group(6), m.group(7)
        if zone and not ZONE_RE.fullmatch(zone):
            raise bad(f"Invalid value for field 'zone': '{zone}'. Unknown zone.", reason="invalid")
        scope = f"zones/{zone}" if zone else f"regions/{region}" if region else "global"
        if coll == "operations" and name and method == "GET" and verb in (None, "wait"):
            full = f"projects/{pid}/{scope}/operations/{name}"
            perm = "compute.zoneOperations.get" if zone else "compute.regionOperations.get" if region else "compute.globalOperations.get"
            self.app.authz(ctx, perm, full, pid)
            return 200, self.poll_op(full)
        if zone:
            return self.handle_zonal(ctx, method, rest, pid, zone, coll, name, verb, body)
        if coll == "subnetworks" and verb == "setPrivateIpGoogleAccess" and method == "POST" and region and name:
            # https://cloud.google.com/compute/docs/reference/rest/v1/subnetworks/setPrivateIpGoogleAccess
            full = f"projects/{pid}/regions/{region}/subnetworks/{name}"
            with st.lock:
                self.app.authz(ctx, "compute.subnetworks.setPrivateIpGoogleAccess", full, pid)
                rec = st.get(full)
                if rec is None:
                    raise not_found(f"The resource '{full}' was not found")
                flag = (body or {}).get("privateIpGoogleAccess")
                if not isinstance(flag, bool):
                    raise bad("Invalid value for field 'privateIpGoogleAccess': a boolean is required.", reason="invalid")
                rec["body"]["privateIpGoogleAccess"] = flag
                rec["body"]["fingerprint"] = fingerprint()
                return 200, self.new_op(pid, region, "setPrivateIpGoogleAccess", full, rec["body"].get("id"), ctx["principal_email"])
        if coll not in COMPUTE_KINDS or verb:
            raise not_found(f"The requested URL /compute/v1/{rest} was not found on this server.")
        kscope, perm, kind, has_fp, mutable = COMPUTE_KINDS[coll]
        if (kscope == "global") != (region is None):
            raise not_found(f"The requested URL /compute/v1/{rest} was not found on this server.")
        if region and not re.fullmatch(r"[a-z]+-[a-z]+\d", region):
            raise bad(f"Invalid value for field 'region': '{region}'. Unknown region.", reason="invalid")
        with st.lock:
            if name is None:
                if method == "POST":
                    return 200, self.insert(ctx, pid, region, coll, body or {})
                if method == "GET":
                    self.app.authz(ctx, perm + ".list", f"projects/{pid}", pid)
                    items = [copy.deepcopy(r["body"]) for k, r in sorted(st.resources.items())
                             if r["kind"] == kind and k.startswith(f"projects/{pid}/{scope}/{coll}/")]
                    return 200, {"kind": kind + "List", "id": f"projects/{pid}/{scope}/{coll}", "items": items,
                                 "selfLink": COMPUTE_BASE + f"projects/{pid}/{scope}/{coll}"}
                raise ApiError(405, f"Method {method} is not allowed on this collection.")
            full = f"projects/{pid}/{scope}/{coll}/{name}"
            if method == "GET":
                self.app.authz(ctx, perm + ".get", full, pid)
                rec = st.get(full)
                if rec is None:
                    raise not_found(f"The resource '{full}' was not found")
                return 200, copy.deepcopy(rec["body"])
            if method in ("PATCH", "PUT"):
                if mutable is None:
                    raise ApiError(405, f"Method {method} is not supported for {coll}.")
                return 200, self.patch(ctx, pid, region, coll, full, body or {}, method)
            if method == "DELETE":
                return 200, self.delete(ctx, pid, region, coll, full)
        raise ApiError(405, f"Method {method} is not allowed.")

    # -- zonal collections -----------------------------------------------------------------
    def handle_zonal(self, ctx, method, rest, pid, zone, coll, name, verb, body):
        # https://cloud.google.com/compute/docs/reference/rest/v1/networkEndpointGroups
        st = self.state
        if coll not in ZONAL_KINDS:
            raise not_found(f"The requested URL /compute/v1/{rest} was not found on this server.")
        _, perm, kind, _, _ = ZONAL_KINDS[coll]
        with st.lock:
            if name is None:
                if method == "POST":
                    return 200, self.insert(ctx, pid, None, coll, body or {}, zone=zone)
                if method == "GET":
                    self.app.authz(ctx, perm + ".list", f"projects/{pid}", pid)
                    items = [copy.deepcopy(r["body"]) for k, r in sorted(st.resources.items())
                             if r["kind"] == kind and k.startswith(f"projects/{pid}/zones/{zone}/{coll}/")]
                    return 200, {"kind": kind + "List", "id": f"projects/{pid}/zones/{zone}/{coll}", "items": items,
                                 "selfLink": COMPUTE_BASE + f"projects/{pid}/zones/{zone}/{coll}"}
                raise ApiError(405, f"Method {method} is not allowed on this collection.")
            full = f"projects/{pid}/zones/{zone}/{coll}/{name}"
            if verb is None:
                if method == "GET":
                    self.app.authz(ctx, perm + ".get", full, pid)
                    rec = st.get(full)
                    if rec is None:
                        raise not_found(f"The resource '{full}' was not found")
                    return 200, copy.deepcopy(rec["body"])
                if method == "DELETE":
                    return 200, self.delete(ctx, pid, None, coll, full, zone=zone)
                raise ApiError(405, f"Method {method} is not supported for {coll}.")
            if verb in ("attachNetworkEndpoints", "detachNetworkEndpoints", "listNetworkEndpoints") and method == "POST":
                return 200, self.neg_endpoints(ctx, pid, zone, full, verb, body or {})
        raise not_found(f"The requested URL /compute/v1/{rest} was not found on this server.")

    def neg_endpoints(self, ctx, pid, zone, full, verb, body):
        # https://cloud.google.com/compute/docs/reference/rest/v1/networkEndpointGroups/attachNetworkEndpoints
        # https://cloud.google.com/compute/docs/reference/rest/v1/networkEndpointGroups/detachNetworkEndpoints
        # https://cloud.google.com/compute/docs/reference/rest/v1/networkEndpointGroups/listNetworkEndpoints
        # https://cloud.google.com/load-balancing/docs/negs/hybrid-neg-concepts (NON_GCP_PRIVATE_IP_PORT
        # endpoints are IP:port pairs, no instance)
        st = self.state
        perm = {"attachNetworkEndpoints": "compute.networkEndpointGroups.attachNetworkEndpoints",
                "detachNetworkEndpoints": "compute.networkEndpointGroups.detachNetworkEndpoints",
                "listNetworkEndpoints": "compute.networkEndpointGroups.get"}[verb]
        self.app.authz(ctx, perm, full, pid)
        rec = st.get(full)
        if rec is None:
            raise not_found(f"The resource '{full}' was not found")
        neg = rec["body"]
        current = rec.setdefault("endpoints", [])
        if verb == "listNetworkEndpoints":
            hs = body.get("healthStatus", "SKIP")
            if hs not in ("SKIP", "SHOW"):
                raise bad(f"Invalid value for field 'networkEndpointGroupsListEndpointsRequest.healthStatus': '{hs}'.", reason="invalid")
            return {"kind": "compute#networkEndpointGroupsListNetworkEndpoints", "id": neg["id"],
                    "items": [{"networkEndpoint": copy.deepcopy(e)} for e in current]}
        t = neg.get("networkEndpointType")
        eps = body.get("networkEndpoints")
        if not isinstance(eps, list) or not eps:
            raise bad("Invalid value for field 'networkEndpoints': ''. At least one network endpoint is required.", reason="required")
        norm = []
        for i, ep in enumerate(eps):
            f = f"networkEndpoints[{i}]"
            if not isinstance(ep, dict):
                raise bad(f"Invalid value for field '{f}'.", reason="invalid")
            e = {k: v for k, v in ep.items() if v not in (None, {}, "")}
            if t == "NON_GCP_PRIVATE_IP_PORT":
                if e.get("instance"):
                    raise bad(f"Invalid value for field '{f}.instance': '{e['instance']}'. Network endpoints of a NON_GCP_PRIVATE_IP_PORT network endpoint group cannot specify an instance.", reason="invalid")
                if e.get("fqdn"):
                    raise bad(f"Invalid value for field '{f}.fqdn': '{e['fqdn']}'. Network endpoints of a NON_GCP_PRIVATE_IP_PORT network endpoint group cannot specify an fqdn.", reason="invalid")
                if not e.get("ipAddress"):
                    raise bad(f"Invalid value for field '{f}.ipAddress': ''. An IP address is required for NON_GCP_PRIVATE_IP_PORT network endpoints.", reason="required")
                try:
                    ip = ipaddress.ip_address(e["ipAddress"])
                except ValueError:
                    raise bad(f"Invalid value for field '{f}.ipAddress': '{e['ipAddress']}'. Must be an IP address.", reason="invalid")
                e["ipAddress"] = str(ip)
                if "port" not in e:
                    if neg.get("defaultPort") is None:
                        raise bad(f"Invalid value for field '{f}.port': ''. A port is required when the network endpoint group has no defaultPort.", reason="required")
                    e["port"] = neg["defaultPort"]
            else:
                raise bad(f"Invalid value for field 'networkEndpointGroup': network endpoints of type {t} are not supported by this server.", reason="invalid")
            p = e.get("port")
            if not isinstance(p, int) or isinstance(p, bool) or not 1 <= p <= 65535:
                raise bad(f"Invalid value for field '{f}.port': '{p}'. Must be between 1 and 65535.", reason="invalid")
            key = (e["ipAddress"], e["port"])
            if key in [(x["ipAddress"], x["port"]) for x in norm]:
                raise bad(f"Invalid value for field '{f}': duplicate network endpoint {key[0]}:{key[1]} in the request.", reason="invalid")
            norm.append(e)
        have = {(x["ipAddress"], x["port"]) for x in current}
        if verb == "detachNetworkEndpoints":
            for i, e in enumerate(norm):
                if (e["ipAddress"], e["port"]) not in have:
                    raise bad(f"Invalid value for field 'networkEndpoints[{i}]': network endpoint {e['ipAddress']}:{e['port']} is not in network endpoint group '{full}'.", reason="invalid")

        def done():
            r = st.get(full)
            if r is None:
                return
            eps_now = r.setdefault("endpoints", [])
            keys = {(e["ipAddress"], e["port"]) for e in norm}
            if verb == "attachNetworkEndpoints":
                eps_now.extend(e for e in norm if (e["ipAddress"], e["port"]) not in {(x["ipAddress"], x["port"]) for x in eps_now})
            else:
                r["endpoints"] = [x for x in eps_now if (x["ipAddress"], x["port"]) not in keys]
            r["body"]["size"] = len(r["endpoints"])
        return self.new_op(pid, None, verb, full, neg["id"], ctx["principal_email"], on_done=done, zone=zone)

    # -- insert / patch / delete ---------------------------------------------------------
    def insert(self, ctx, pid, region, coll, body, zone=None):
        st = self.state
        kscope, perm, kind, has_fp, _ = (ZONAL_KINDS if zone else COMPUTE_KINDS)[coll]
        name = body.get("name")
        if not isinstance(name, str) or not RFC1035.fullmatch(name):
            raise bad(f"Invalid value for field 'resource.name': '{name}'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{{0,61}}[a-z0-9])?)'",
                      reason="invalid")
        scope = f"zones/{zone}" if zone else f"regions/{region}" if region else "global"
        full = f"projects/{pid}/{scope}/{coll}/{name}"
        self.app.authz(ctx, perm + ".create", full, pid)
        if st.get(full):
            raise exists(f"The resource '{full}' already exists")
        if region and body.get("region") and compute_norm(body["region"]).split("/")[-1] != region:
            raise bad(f"Invalid value for field 'resource.region': '{body['region']}'. Region does not match the request.", reason="invalid")
        if zone and body.get("zone") and compute_norm(body["zone"]).split("/")[-1] != zone:
            raise bad(f"Invalid value for field 'resource.zone': '{body['zone']}'. Zone does not match the request.", reason="invalid")
        res = copy.deepcopy(body)
        uses = getattr(self, "vz_" + coll)(pid, zone, res, None) if zone else getattr(self, "v_" + coll)(pid, region, res, None)
        for p, target in uses:
            self.app.authz(ctx, p, target, pid)
        rid = st.new_id()
        res.update(kind=kind, id=rid, creationTimestamp=compute_ts(), name=name, selfLink=COMPUTE_BASE + full,
                   selfLinkWithId=COMPUTE_BASE + f"projects/{pid}/{scope}/{coll}/{rid}")
        if zone:
            res["zone"] = COMPUTE_BASE + f"projects/{pid}/zones/{zone}"
            res.pop("region", None)
        if region:
            res["region"] = COMPUTE_BASE + f"projects/{pid}/regions/{region}"
        if has_fp:
            res["fingerprint"] = fingerprint()
        st.put("compute", kind, full, res)
        if coll == "subnetworks":
            net = st.get(compute_norm(res["network"]))
            net["body"].setdefault("subnetworks", []).append(res["selfLink"])
        return self.new_op(pid, region, "insert", full, rid, ctx["principal_email"], zone=zone)

    def patch(self, ctx, pid, region, coll, full, body, method):
        st = self.state
        kscope, perm, kind, has_fp, mutable = COMPUTE_KINDS[coll]
        self.app.authz(ctx, perm + ".update", full, pid)
        rec = st.get(full)
        if rec is None:
            raise not_found(f"The resource '{full}' was not found")
        old = rec["body"]
        if has_fp and body.get("fingerprint") != old.get("fingerprint"):
            # "An up-to-date fingerprint must be provided ... otherwise the request will fail
            # with error 412 conditionNotMet" (fingerprint field of Subnetwork, BackendService,
            # ForwardingRule, ServiceAttachment)
            raise ApiError(412, f"Invalid fingerprint: supplied '{body.get('fingerprint', '')}' does not match the current fingerprint of '{full}'. Get the resource and retry with its fingerprint.",
                           reason="conditionNotMet")
        for k, v in body.items():
            if k in mutable or k == "fingerprint":
                continue
            cur = old.get(k)
            if k in OUTPUT_ONLY and (v == cur or compute_norm(v) == compute_norm(cur) or k in ("kind", "id", "creationTimestamp", "selfLink", "selfLinkWithId", "status")):
                if k == "name" and v != cur:
                    raise bad(f"Invalid value for field 'resource.name': '{v}'. The field cannot be modified.", reason="invalid")
                if k == "region" and compute_norm(v).split("/")[-1] != region:
                    raise bad(f"Invalid value for field 'resource.region': '{v}'. The field cannot be modified.", reason="invalid")
                continue
            if compute_norm(v) != compute_norm(cur) and not (isinstance(v, list) and [compute_norm(x) for x in v] == [compute_norm(x) for x in (cur or [])]):
                raise bad(f"Invalid value for field 'resource.{k}': '{json.dumps(v)}'. The field '{k}' of a {coll[:-1]} cannot be modified after creation.",
                          reason="invalid")
        if method == "PATCH":
            new = merge_patch(old, body)  # compute PATCH uses JSON merge patch semantics
        else:
            new = copy.deepcopy(body)
            for k in OUTPUT_ONLY | {"network", "subnetwork", "name"}:
                if k in old and k not in new:
                    new[k] = old[k]
        uses = getattr(self, "v_" + coll)(pid, region, new, old)
        for p, target in uses:
            self.app.authz(ctx, p, target, pid)
        for k in ("kind", "id", "creationTimestamp", "selfLink", "selfLinkWithId", "name", "region"):
            if k in old:
                new[k] = old[k]
        if has_fp:
            new["fingerprint"] = fingerprint()
        rec["body"] = new
        return self.new_op(pid, region, "patch" if method == "PATCH" else "update", full, old["id"], ctx["principal_email"])

    def delete(self, ctx, pid, region, coll, full, zone=None):
        st = self.state
        kscope, perm, kind, _, _ = (ZONAL_KINDS if zone else COMPUTE_KINDS)[coll]
        self.app.authz(ctx, perm + ".delete", full, pid)
        rec = st.get(full)
        if rec is None:
            raise not_found(f"The resource '{full}' was not found")
        user = self.app.users_of(full)
        if user:
            # https://cloud.google.com/compute/docs/reference/rest/v1/networks/delete (a
            # resource in use cannot be deleted: resourceInUseByAnotherResource)
            raise bad(f"The {coll[:-1]} resource '{full}' is already being used by '{user}'", reason="resourceInUseByAnotherResource")
        body = rec["body"]
        if coll == "subnetworks" and body.get("purpose") == "REGIONAL_MANAGED_PROXY" and body.get("role") == "ACTIVE":
            # https://cloud.google.com/load-balancing/docs/proxy-only-subnets (an active proxy-only
            # subnet cannot be deleted while a load balancer in its region and network uses it)
            fr = self.managed_lb_user(body)
            if fr:
                raise bad(f"The subnetwork resource '{full}' is already being used by '{fr}'", reason="resourceInUseByAnotherResource")
        st.delete(full)
        if coll == "subnetworks":
            net = st.get(compute_norm(body["network"]))
            if net:
                net["body"]["subnetworks"] = [s for s in net["body"].get("subnetworks", []) if compute_norm(s) != full]
        return self.new_op(pid, region, "delete", full, body["id"], ctx["principal_email"], zone=zone)

    def active_proxy_subnet(self, network, region):
        """The ACTIVE REGIONAL_MANAGED_PROXY subnetwork of `network` in `region`, if any."""
        for key, r in self.state.resources.items():
            b = r["body"]
            if (r["kind"] == "compute#subnetwork" and key.split("/")[3] == region and b.get("purpose") == "REGIONAL_MANAGED_PROXY"
                    and b.get("role") == "ACTIVE" and compute_norm(b.get("network")) == compute_norm(network)):
                return key
        return None

    def managed_lb_user(self, subnet):
        region = compute_norm(subnet["region"]).split("/")[-1]
        for key, r in self.state.resources.items():
            b = r["body"]
            if (r["kind"] == "compute#forwardingRule" and key.split("/")[3] == region
                    and b.get("loadBalancingScheme") in ("INTERNAL_MANAGED", "EXTERNAL_MANAGED")
                    and compute_norm(b.get("network")) == compute_norm(subnet["network"])):
                return key
        return None

    # -- validators: normalize `res` in place, return [(permission, resource)] to also check --
    def v_networks(self, pid, region, res, old):
        # https://cloud.google.com/compute/docs/reference/rest/v1/networks/insert
        if "IPv4Range" in res and res.get("autoCreateSubnetworks") is not None:
            raise bad("Invalid value for field 'resource.IPv4Range': legacy networks cannot set autoCreateSubnetworks.", reason="invalid")
        if "autoCreateSubnetworks" in res and not isinstance(res["autoCreateSubnetworks"], bool):
            raise bad("Invalid value for field 'resource.autoCreateSubnetworks'.", reason="invalid")
        res.setdefault("autoCreateSubnetworks", True if "IPv4Range" not in res else None)
        rc = res.setdefault("routingConfig", {})
        rc.setdefault("routingMode", "REGIONAL")
        if rc["routingMode"] not in ("REGIONAL", "GLOBAL"):
            raise bad(f"Invalid value for field 'resource.routingConfig.routingMode': '{rc['routingMode']}'.", reason="invalid")
        if "mtu" in res and not (1300 <= int(res["mtu"]) <= 8896):
            raise bad(f"Invalid value for field 'resource.mtu': '{res['mtu']}'. Must be between 1300 and 8896.", reason="invalid")
        res.setdefault("subnetworks", [] if old is None else old.get("subnetworks", []))
        res.setdefault("networkFirewallPolicyEnforcementOrder", "AFTER_CLASSIC_FIREWALL")
        return []

    def v_subnetworks(self, pid, region, res, old):
        # https://cloud.google.com/compute/docs/reference/rest/v1/subnetworks/insert
        st = self.state
        netname, net = self.ref(res.get("network"), pid, region, "networks", "resource.network")
        res["network"] = COMPUTE_BASE + netname
        if "IPv4Range" in net:
            raise bad("Invalid value for field 'resource.network': legacy networks have no subnetworks.", reason="invalid")
        purpose = res.setdefault("purpose", "PRIVATE")
        if purpose not in ("PRIVATE", "PRIVATE_RFC_1918", "PRIVATE_SERVICE_CONNECT", "REGIONAL_MANAGED_PROXY",
                           "GLOBAL_MANAGED_PROXY", "INTERNAL_HTTPS_LOAD_BALANCER", "PRIVATE_NAT", "PEER_MIGRATION"):
            raise bad(f"Invalid value for field 'resource.purpose': '{purpose}'.", reason="invalid")
        # https://cloud.google.com/compute/docs/reference/rest/v1/subnetworks#Subnetwork (role: "only used
        # when purpose is set to GLOBAL_MANAGED_PROXY or REGIONAL_MANAGED_PROXY ... ACTIVE or BACKUP";
        # enableFlowLogs / logConfig.enable: "Flow logging isn't supported if the subnet purpose field is
        # set to REGIONAL_MANAGED_PROXY")
        # https://cloud.google.com/load-balancing/docs/proxy-only-subnets (one ACTIVE proxy-only subnet per
        # region and VPC network; a primary range of at least /26; used for nothing but the proxies)
        proxy_only = purpose in ("REGIONAL_MANAGED_PROXY", "GLOBAL_MANAGED_PROXY", "INTERNAL_HTTPS_LOAD_BALANCER")
        role = res.get("role")
        if proxy_only:
            if role not in ("ACTIVE", "BACKUP"):
                raise bad(f"Invalid value for field 'resource.role': '{role or ''}'. The role (ACTIVE or BACKUP) is required for subnetworks with purpose {purpose}.",
                          reason="required" if not role else "invalid")
            if res.get("secondaryIpRanges"):
                raise bad(f"Invalid value for field 'resource.secondaryIpRanges': a subnetwork with purpose {purpose} cannot have secondary ranges.", reason="invalid")
            if res.get("privateIpGoogleAccess"):
                raise bad(f"Invalid value for field 'resource.privateIpGoogleAccess': Private Google Access is not supported for subnetworks with purpose {purpose}.", reason="invalid")
            if res.get("enableFlowLogs") or (res.get("logConfig") or {}).get("enable"):
                raise bad(f"Invalid value for field 'resource.logConfig.enable': flow logs are not supported for subnetworks with purpose {purpose}.", reason="invalid")
            if role == "ACTIVE":
                for key, r in st.resources.items():
                    b = r["body"]
                    if (r["kind"] == "compute#subnetwork" and key.split("/")[3] == region and b.get("purpose") == purpose and b.get("role") == "ACTIVE"
                            and compute_norm(b.get("network")) == netname and not (old is not None and b.get("selfLink") == old.get("selfLink"))):
                        raise bad(f"Invalid value for field 'resource.role': 'ACTIVE'. The network '{netname}' already has the active {purpose} subnetwork '{b['name']}' in region '{region}'.",
                                  reason="invalid")
        elif role is not None:
            raise bad(f"Invalid value for field 'resource.role': '{role}'. The role can only be set on subnetworks with purpose REGIONAL_MANAGED_PROXY or GLOBAL_MANAGED_PROXY.",
                      reason="invalid")
        if not res.get("ipCidrRange"):
            raise bad("Invalid value for field 'resource.ipCidrRange': ''. The field is required.", reason="required")
        primary = cidr(res["ipCidrRange"], "resource.ipCidrRange")
        if primary.version != 4 or primary.prefixlen > 29:
            raise bad(f"Invalid value for field 'resource.ipCidrRange': '{primary}'. The range must be IPv4 and at least a /29.", reason="invalid")
        if proxy_only and primary.prefixlen > 26:
            raise bad(f"Invalid value for field 'resource.ipCidrRange': '{primary}'. A proxy-only subnetwork needs a primary range of at least /26.", reason="invalid")
        ranges = [("primary", primary)]
        seen = set()
        for i, sr in enumerate(res.get("secondaryIpRanges") or []):
            rn = sr.get("rangeName")
            if not isinstance(rn, str) or not RFC1035.fullmatch(rn) or rn in seen:
                raise bad(f"Invalid value for field 'resource.secondaryIpRanges[{i}].rangeName': '{rn}'.", reason="invalid")
            seen.add(rn)
            ranges.append((rn, cidr(sr.get("ipCidrRange"), f"resource.secondaryIpRanges[{i}].ipCidrRange")))
        if purpose == "PRIVATE_SERVICE_CONNECT" and res.get("secondaryIpRanges"):
            raise bad("Invalid value for field 'resource.secondaryIpRanges': a PRIVATE_SERVICE_CONNECT subnetwork cannot have secondary ranges.", reason="invalid")
        for (a, ra), (b, rb) in itertools.combinations(ranges, 2):
            if ra.overlaps(rb):
                raise bad(f"Invalid IPCidrRange: {rb} conflicts with range '{a}' ({ra}) of the same subnetwork.", reason="invalid")
        me = res.get("selfLink")
        for key, r in st.resources.items():
            b = r["body"]
            if r["kind"] != "compute#subnetwork" or compute_norm(b.get("network")) != netname or (me and b.get("selfLink") == me):
                continue
            if old is not None and b.get("selfLink") == old.get("selfLink"):
                continue
            theirs = [cidr(b["ipCidrRange"], "x")] + [cidr(s["ipCidrRange"], "x") for s in b.get("secondaryIpRanges") or []]
            for _, mine in ranges:
                for t in theirs:
                    if mine.overlaps(t):
                        raise bad(f"Invalid IPCidrRange: {mine} conflicts with existing subnetwork '{b['name']}' in region '{key.split('/')[3]}'.",
                                  reason="invalid")
        lc = res.get("logConfig")
        if lc:
            if lc.get("aggregationInterval", "INTERVAL_5_SEC") not in ("INTERVAL_5_SEC", "INTERVAL_30_SEC", "INTERVAL_1_MIN", "INTERVAL_5_MIN", "INTERVAL_10_MIN", "INTERVAL_15_MIN"):
                raise bad(f"Invalid value for field 'resource.logConfig.aggregationInterval': '{lc['aggregationInterval']}'.", reason="invalid")
            fs = lc.get("flowSampling", 0.5)
            if not isinstance(fs, (int, float)) or not 0 <= fs <= 1:
                raise bad(f"Invalid value for field 'resource.logConfig.flowSampling': '{fs}'. Must be in [0, 1].", reason="invalid")
            md = lc.get("metadata", "INCLUDE_ALL_METADATA")
            if md not in ("INCLUDE_ALL_METADATA", "EXCLUDE_ALL_METADATA", "CUSTOM_METADATA"):
                raise bad(f"Invalid value for field 'resource.logConfig.metadata': '{md}'.", reason="invalid")
            if md == "CUSTOM_METADATA" and not lc.get("metadataFields"):
                raise bad("Invalid value for field 'resource.logConfig.metadataFields': required with CUSTOM_METADATA.", reason="invalid")
            if lc.get("enable") and purpose not in ("PRIVATE", "PRIVATE_RFC_1918"):
                raise bad(f"Invalid value for field 'resource.logConfig.enable': flow logs are not supported for subnetworks with purpose {purpose}.", reason="invalid")
        res.setdefault("privateIpGoogleAccess", False)
        res.setdefault("stackType", "IPV4_ONLY")
        res["gatewayAddress"] = str(primary.network_address + 1)
        return []

    def v_routers(self, pid, region, res, old):
        # https://cloud.google.com/compute/docs/reference/rest/v1/routers/insert (RouterNat)
        netname, _ = self.ref(res.get("network"), pid, region, "networks", "resource.network")
        res["network"] = COMPUTE_BASE + netname
        names = set()
        uses = []
        for i, nat in enumerate(res.get("nats") or []):
            f = f"resource.nats[{i}]"
            n = nat.get("name")
            if not isinstance(n, str) or not RFC1035.fullmatch(n) or n in names:
                raise bad(f"Invalid value for field '{f}.name': '{n}'.", reason="invalid")
            names.add(n)
            alloc = nat.get("natIpAllocateOption")
            if alloc not in ("AUTO_ONLY", "MANUAL_ONLY"):
                raise bad(f"Invalid value for field '{f}.natIpAllocateOption': '{alloc}'.", reason="invalid")
            if alloc == "MANUAL_ONLY" and not nat.get("natIps"):
                raise bad(f"Invalid value for field '{f}.natIps': MANUAL_ONLY requires natIps.", reason="invalid")
            if alloc == "AUTO_ONLY" and nat.get("natIps"):
                raise bad(f"Invalid value for field '{f}.natIps': natIps must be empty with AUTO_ONLY.", reason="invalid")
            src = nat.get("sourceSubnetworkIpRangesToNat")
            if src not in ("ALL_SUBNETWORKS_ALL_IP_RANGES", "ALL_SUBNETWORKS_ALL_PRIMARY_IP_RANGES", "LIST_OF_SUBNETWORKS"):
                raise bad(f"Invalid value for field '{f}.sourceSubnetworkIpRangesToNat': '{src}'.", reason="invalid")
            if src == "LIST_OF_SUBNETWORKS":
                if not nat.get("subnetworks"):
                    raise bad(f"Invalid value for field '{f}.subnetworks': required with LIST_OF_SUBNETWORKS.", reason="invalid")
                for j, s in enumerate(nat["subnetworks"]):
                    sn, _ = self.ref(s.get("name"), pid, region, "subnetworks", f"{f}.subnetworks[{j}].name")
                    s["name"] = COMPUTE_BASE + sn
            elif nat.get("subnetworks"):
                raise bad(f"Invalid value for field '{f}.subnetworks': only with LIST_OF_SUBNETWORKS.", reason="invalid")
            lc = nat.get("logConfig")
            if lc and lc.get("filter", "ALL") not in ("ERRORS_ONLY", "TRANSLATIONS_ONLY", "ALL"):
                raise bad(f"Invalid value for field '{f}.logConfig.filter': '{lc.get('filter')}'.", reason="invalid")
            nat.setdefault("type", "PUBLIC")
            nat.setdefault("enableEndpointIndependentMapping", False)
        return uses

    def v_firewalls(self, pid, region, res, old):
        # https://cloud.google.com/compute/docs/reference/rest/v1/firewalls/insert
        netname, _ = self.ref(res.get("network") or "global/networks/default", pid, None, "networks", "resource.network")
        res["network"] = COMPUTE_BASE + netname
        direction = res.setdefault("direction", "INGRESS")
        if direction not in ("INGRESS", "EGRESS"):
            raise bad(f"Invalid value for field 'resource.direction': '{direction}'.", reason="invalid")
        prio = res.setdefault("priority", 1000)
        if not isinstance(prio, int) or not 0 <= prio <= 65535:
            raise bad(f"Invalid value for field 'resource.priority': '{prio}'. Must be between 0 and 65535.", reason="invalid")
        allowed, denied = res.get("allowed") or [], res.get("denied") or []
        if bool(allowed) == bool(denied):
            raise bad("Invalid value for field 'resource': exactly one of 'allowed' or 'denied' must be specified.", reason="invalid")
        for key, rules in (("allowed", allowed), ("denied", denied)):
            for i, r in enumerate(rules):
                proto = str(r.get("IPProtocol", ""))
                if proto.lower() not in ("tcp", "udp", "icmp", "esp", "ah", "sctp", "ipip", "all") and not (proto.isdigit() and int(proto) < 256):
                    raise bad(f"Invalid value for field 'resource.{key}[{i}].IPProtocol': '{proto}'.", reason="invalid")
                for j, port in enumerate(r.get("ports") or []):
                    if proto.lower() not in ("tcp", "udp", "sctp"):
                        raise bad(f"Invalid value for field 'resource.{key}[{i}].ports[{j}]': '{port}'. Ports may only be specified on rules whose protocol is one of [TCP, UDP, SCTP].",
                                  reason="invalid")
                    pm = re.fullmatch(r"(\d+)(?:-(\d+))?", str(port))
                    if not pm or not (0 < int(pm.group(1)) <= 65535) or (pm.group(2) and not int(pm.group(1)) <= int(pm.group(2)) <= 65535):
                        raise bad(f"Invalid value for field 'resource.{key}[{i}].ports[{j}]': '{port}'. Must be a port or a port range.", reason="invalid")
        for key in ("sourceRanges", "destinationRanges"):
            for i, r in enumerate(res.get(key) or []):
                try:
                    ipaddress.ip_network(r, strict=False)
                except ValueError:
                    raise bad(f"Invalid value for field 'resource.{key}[{i}]': '{r}'. Must be a CIDR range.", reason="invalid")
        if direction == "EGRESS" and (res.get("sourceTags") or res.get("sourceServiceAccounts")):
            raise bad("Invalid value for field 'resource.sourceTags': source tags and source service accounts apply to INGRESS rules only.", reason="invalid")
        if res.get("targetServiceAccounts") and (res.get("targetTags") or res.get("sourceTags")):
            raise bad("Invalid value for field 'resource.targetServiceAccounts': targetServiceAccounts cannot be used at the same time as targetTags or sourceTags.", reason="invalid")
        if res.get("sourceServiceAccounts") and res.get("sourceTags"):
            raise bad("Invalid value for field 'resource.sourceServiceAccounts': sourceServiceAccounts cannot be used at the same time as sourceTags.", reason="invalid")
        for key in ("targetServiceAccounts", "sourceServiceAccounts"):
            for i, email in enumerate(res.get(key) or []):
                if not self.app.iam.sa_exists(email):
                    raise bad(f"Invalid value for field 'resource.{key}[{i}]': '{email}'. The service account does not exist.", reason="invalid")
        if direction == "INGRESS" and not (res.get("sourceRanges") or res.get("sourceTags") or res.get("sourceServiceAccounts")):
            res["sourceRanges"] = ["0.0.0.0/0"]  # documented default for an ingress rule without a source
        res.setdefault("disabled", False)
        res.setdefault("logConfig", {"enable": False})
        return [("compute.networks.updatePolicy", netname)]

    def v_networkEndpointGroups(self, pid, region, res, old):
        # https://cloud.google.com/compute/docs/reference/rest/v1/regionNetworkEndpointGroups/insert
        # https://cloud.google.com/compute/docs/reference/rest/v1/networkEndpointGroups#NetworkEndpointGroup
        # (pscTargetService: "The target service url used to set up private service
        # connection to a Google API or a PSC Producer Service Attachment")
        t = res.get("networkEndpointType")
        if t not in ("PRIVATE_SERVICE_CONNECT", "SERVERLESS", "INTERNET_FQDN_PORT", "INTERNET_IP_PORT", "GCE_VM_IP_PORTMAP"):
            raise bad(f"Invalid value for field 'resource.networkEndpointType': '{t}'. Not supported for regional network endpoint groups.", reason="invalid")
        uses = []
        if res.get("network"):
            nn, _ = self.ref(res["network"], pid, region, "networks", "resource.network")
            res["network"] = COMPUTE_BASE + nn
        if res.get("subnetwork"):
            sn, sb = self.ref(res["subnetwork"], pid, region, "subnetworks", "resource.subnetwork")
            res["subnetwork"] = COMPUTE_BASE + sn
            if res.get("network") and compute_norm(sb["network"]) != compute_norm(res["network"]):
                raise bad("Invalid value for field 'resource.subnetwork': the subnetwork is not in the network.", reason="invalid")
            uses.append(("compute.subnetworks.use", sn))
        if t == "PRIVATE_SERVICE_CONNECT":
            target = res.get("pscTargetService")
            if not isinstance(target, str) or not target:
                raise bad("Invalid value for field 'resource.pscTargetService': ''. Required for PRIVATE_SERVICE_CONNECT.", reason="required")
            tn = compute_norm(target)
            if re.fullmatch(r"projects/[^/]+/regions/[^/]+/serviceAttachments/[^/]+", tn):
                pass  # a producer's service attachment, possibly in another project
            elif not re.fullmatch(r"([a-z0-9-]+\.)+googleapis\.com", target):
                raise bad(f"Invalid value for field 'resource.pscTargetService': '{target}'. Must be a service attachment URL or a Google API (e.g. us-central1-cloudkms.googleapis.com).",
                          reason="invalid")
            if not res.get("subnetwork") and tn.startswith("projects/"):
                raise bad("Invalid value for field 'resource.subnetwork': required for a PSC NEG to a service attachment.", reason="invalid")
            res["pscData"] = {"pscConnectionStatus": "ACCEPTED"}
        elif t == "SERVERLESS" and not (res.get("cloudRun") or res.get("appEngine") or res.get("cloudFunction")):
            raise bad("Invalid value for field 'resource': a SERVERLESS NEG needs cloudRun, appEngine or cloudFunction.", reason="invalid")
        res.setdefault("size", 0)
        return uses

    def vz_networkEndpointGroups(self, pid, zone, res, old):
        # https://cloud.google.com/compute/docs/reference/rest/v1/networkEndpointGroups/insert
        # https://cloud.google.com/compute/docs/reference/rest/v1/networkEndpointGroups#NetworkEndpointGroup
        # (networkEndpointType defaults to GCE_VM_IP_PORT; network: "Uses default project network if
        # unspecified"; defaultPort)
        # https://cloud.google.com/load-balancing/docs/negs/hybrid-neg-concepts (NON_GCP_PRIVATE_IP_PORT
        # is zonal, takes a VPC network and IP:port endpoints, no subnetwork)
        region = ZONE_RE.fullmatch(zone).group(1)
        t = res.setdefault("networkEndpointType", "GCE_VM_IP_PORT")
        if t not in ("GCE_VM_IP_PORT", "GCE_VM_IP", "NON_GCP_PRIVATE_IP_PORT"):
            raise bad(f"Invalid value for field 'resource.networkEndpointType': '{t}'. Not supported for zonal network endpoint groups.", reason="invalid")
        for k in ("pscTargetService", "cloudRun", "appEngine", "cloudFunction"):
            if res.get(k):
                raise bad(f"Invalid value for field 'resource.{k}': only for regional network endpoint groups.", reason="invalid")
        nn, _ = self.ref(res.get("network") or "global/networks/default", pid, region, "networks", "resource.network")
        res["network"] = COMPUTE_BASE + nn
        uses = []
        if t == "NON_GCP_PRIVATE_IP_PORT":
            if res.get("subnetwork"):
                raise bad("Invalid value for field 'resource.subnetwork': a NON_GCP_PRIVATE_IP_PORT network endpoint group cannot specify a subnetwork.", reason="invalid")
        elif res.get("subnetwork"):
            sn, sb = self.ref(res["subnetwork"], pid, region, "subnetworks", "resource.subnetwork")
            res["subnetwork"] = COMPUTE_BASE + sn
            if compute_norm(sb["network"]) != nn:
                raise bad("Invalid value for field 'resource.subnetwork': the subnetwork is not in the network.", reason="invalid")
            uses.append(("compute.subnetworks.use", sn))
        if "defaultPort" in res:
            dp = res["defaultPort"]
            if t == "GCE_VM_IP":
                raise bad("Invalid value for field 'resource.defaultPort': GCE_VM_IP network endpoint groups have no port.", reason="invalid")
            if not isinstance(dp, int) or isinstance(dp, bool) or not 1 <= dp <= 65535:
                raise bad(f"Invalid value for field 'resource.defaultPort': '{dp}'. Must be between 1 and 65535.", reason="invalid")
        res.setdefault("size", 0)
        return uses

    HC_TYPES = {"TCP": "tcpHealthCheck", "SSL": "sslHealthCheck", "HTTP": "httpHealthCheck", "HTTPS": "httpsHealthCheck",
                "HTTP2": "http2HealthCheck", "GRPC": "grpcHealthCheck", "GRPC_WITH_TLS": "grpcTlsHealthCheck"}

    def v_healthChecks(self, pid, region, res, old):
        # https://cloud.google.com/compute/docs/reference/rest/v1/regionHealthChecks/insert
        # https://cloud.google.com/compute/docs/reference/rest/v1/healthChecks#HealthCheck ("type ...
        # Exactly one of the protocol-specific health check fields must be specified, which must match
        # type field"; "It is invalid for timeoutSec to have greater value than checkIntervalSec";
        # port "Valid values are 1 through 65535"; portSpecification; proxyHeader NONE|PROXY_V1)
        t = res.get("type")
        if t not in self.HC_TYPES:
            raise bad(f"Invalid value for field 'resource.type': '{t or ''}'. Must be one of {', '.join(self.HC_TYPES)}.",
                      reason="required" if not t else "invalid")
        present = [k for k in self.HC_TYPES.values() if res.get(k) is not None]
        if present != [self.HC_TYPES[t]]:
            raise bad(f"Invalid value for field 'resource.{self.HC_TYPES[t]}': exactly one of the protocol-specific health check fields must be specified, and it must match type {t} (got {', '.join(present) or 'none'}).",
                      reason="invalid")
        for k, dflt, lo, hi in (("checkIntervalSec", 5, 1, 300), ("timeoutSec", 5, 1, 300), ("healthyThreshold", 2, 1, 10), ("unhealthyThreshold", 2, 1, 10)):
            v = res.setdefault(k, dflt)
            if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
                raise bad(f"Invalid value for field 'resource.{k}': '{v}'. Must be between {lo} and {hi}.", reason="invalid")
        if res["timeoutSec"] > res["checkIntervalSec"]:
            raise bad(f"Invalid value for field 'resource.timeoutSec': '{res['timeoutSec']}'. Timeout sec must be less than or equal to check interval sec ({res['checkIntervalSec']}).",
                      reason="invalid")
        sub = res[self.HC_TYPES[t]]
        f = f"resource.{self.HC_TYPES[t]}"
        if not isinstance(sub, dict):
            raise bad(f"Invalid value for field '{f}'.", reason="invalid")
        spec = sub.get("portSpecification")
        if spec is not None and spec not in ("USE_FIXED_PORT", "USE_NAMED_PORT", "USE_SERVING_PORT"):
            raise bad(f"Invalid value for field '{f}.portSpecification': '{spec}'.", reason="invalid")
        if "port" in sub:
            p = sub["port"]
            if not isinstance(p, int) or isinstance(p, bool) or not 1 <= p <= 65535:
                raise bad(f"Invalid value for field '{f}.port': '{p}'. Must be between 1 and 65535.", reason="invalid")
        if spec == "USE_NAMED_PORT" and not sub.get("portName"):
            raise bad(f"Invalid value for field '{f}.portName': ''. Required with portSpecification USE_NAMED_PORT.", reason="required")
        if spec is None and "port" not in sub and not sub.get("portName") and t != "GRPC":
            sub["port"] = 443 if t in ("HTTPS", "SSL") else 80
        if sub.get("proxyHeader", "NONE") not in ("NONE", "PROXY_V1"):
            raise bad(f"Invalid value for field '{f}.proxyHeader': '{sub['proxyHeader']}'. Must be NONE or PROXY_V1.", reason="invalid")
        return []

    def v_targetTcpProxies(self, pid, region, res, old):
        # https://cloud.google.com/compute/docs/reference/rest/v1/regionTargetTcpProxies/insert
        # https://cloud.google.com/compute/docs/reference/rest/v1/targetTcpProxies#TargetTcpProxy (service:
        # "URL to the BackendService resource"; proxyHeader NONE|PROXY_V1; proxyBind "only applies when
        # the forwarding rule ... has a loadBalancingScheme set to INTERNAL_SELF_MANAGED")
        # https://cloud.google.com/load-balancing/docs/tcp/internal-proxy (regional internal proxy NLB:
        # backend service INTERNAL_MANAGED with protocol TCP)
        sn, sb = self.ref(res.get("service"), pid, region, "backendServices", "resource.service")
        res["service"] = COMPUTE_BASE + sn
        if sb.get("loadBalancingScheme") not in ("INTERNAL_MANAGED", "EXTERNAL_MANAGED"):
            raise bad(f"Invalid value for field 'resource.service': '{res['service']}'. A regional target TCP proxy needs a backend service with loadBalancingScheme INTERNAL_MANAGED or EXTERNAL_MANAGED, not {sb.get('loadBalancingScheme')}.",
                      reason="invalid")
        if sb.get("protocol") != "TCP":
            raise bad(f"Invalid value for field 'resource.service': '{res['service']}'. The backend service of a target TCP proxy must use protocol TCP, not {sb.get('protocol')}.",
                      reason="invalid")
        ph = res.setdefault("proxyHeader", "NONE")
        if ph not in ("NONE", "PROXY_V1"):
            raise bad(f"Invalid value for field 'resource.proxyHeader': '{ph}'. Must be NONE or PROXY_V1.", reason="invalid")
        if res.get("proxyBind"):
            raise bad("Invalid value for field 'resource.proxyBind': proxyBind only applies to INTERNAL_SELF_MANAGED load balancing (global target TCP proxies).", reason="invalid")
        return [("compute.regionBackendServices.use", sn)]

    def v_backendServices(self, pid, region, res, old):
        # https://cloud.google.com/compute/docs/reference/rest/v1/regionBackendServices/insert
        # https://cloud.google.com/vpc/docs/private-service-connect-backends (PSC NEGs back
        # proxy-based load balancers only: INTERNAL_MANAGED / EXTERNAL_MANAGED)
        # https://cloud.google.com/load-balancing/docs/negs/hybrid-neg-concepts (hybrid NEGs back
        # proxy-based load balancers only, and need a health check)
        # https://cloud.google.com/load-balancing/docs/backend-service#balancing-mode (zonal NEGs
        # behind a TCP/SSL proxy: balancingMode CONNECTION with maxConnections or
        # maxConnectionsPerEndpoint; Backend.balancingMode defaults to UTILIZATION)
        # https://cloud.google.com/compute/docs/reference/rest/v1/regionBackendServices#BackendService
        # (healthChecks: "Not all backends support legacy health checks"; at most one; regional
        # managed backend services use regional health checks)
        scheme = res.setdefault("loadBalancingScheme", "EXTERNAL")
        if scheme not in ("INTERNAL", "INTERNAL_MANAGED", "EXTERNAL", "EXTERNAL_MANAGED", "INTERNAL_SELF_MANAGED"):
            raise bad(f"Invalid value for field 'resource.loadBalancingScheme': '{scheme}'.", reason="invalid")
        if old is not None and scheme != old.get("loadBalancingScheme"):
            raise bad("Invalid value for field 'resource.loadBalancingScheme': cannot be modified.", reason="invalid")
        proto = res.setdefault("protocol", "TCP" if scheme == "INTERNAL" else "HTTP")
        if proto not in ("HTTP", "HTTPS", "HTTP2", "TCP", "SSL", "UDP", "GRPC", "UNSPECIFIED", "H2C"):
            raise bad(f"Invalid value for field 'resource.protocol': '{proto}'.", reason="invalid")
        if scheme == "INTERNAL" and proto not in ("TCP", "UDP", "UNSPECIFIED"):
            raise bad(f"Invalid value for field 'resource.protocol': '{proto}'. INTERNAL backend services support TCP, UDP or UNSPECIFIED.", reason="invalid")
        managed = scheme in ("INTERNAL_MANAGED", "EXTERNAL_MANAGED")
        if managed and proto in ("UDP", "UNSPECIFIED"):
            raise bad(f"Invalid value for field 'resource.protocol': '{proto}'. {scheme} backend services are proxy-based and do not support {proto}.", reason="invalid")
        uses = []
        needs_hc = False
        for i, be in enumerate(res.get("backends") or []):
            f = f"resource.backends[{i}]"
            g = compute_norm(str(be.get("group", "")))
            if "/instanceGroups/" in g:
                raise not_found(f"The resource '{g}' was not found")
            gn, gb = self.ref_neg(be.get("group"), pid, region, f"{f}.group")
            be["group"] = COMPUTE_BASE + gn
            t = gb.get("networkEndpointType")
            if "/zones/" in gn and ZONE_RE.fullmatch(gn.split("/")[3]).group(1) != region:
                raise bad(f"Invalid value for field '{f}.group': '{be['group']}'. The network endpoint group must be in a zone of region {region}.", reason="invalid")
            if t == "PRIVATE_SERVICE_CONNECT" and not managed:
                raise bad(f"Invalid value for field '{f}.group': '{be['group']}'. Private Service Connect network endpoint groups can only be backends of INTERNAL_MANAGED or EXTERNAL_MANAGED backend services, not {scheme}.",
                          reason="invalid")
            if t == "NON_GCP_PRIVATE_IP_PORT":
                if not managed:
                    raise bad(f"Invalid value for field '{f}.group': '{be['group']}'. Network endpoint groups of type NON_GCP_PRIVATE_IP_PORT (hybrid connectivity) can only be backends of INTERNAL_MANAGED or EXTERNAL_MANAGED backend services, not {scheme}.",
                              reason="invalid")
                mode = be.setdefault("balancingMode", "UTILIZATION")
                if mode not in ("UTILIZATION", "RATE", "CONNECTION", "CUSTOM_METRICS"):
                    raise bad(f"Invalid value for field '{f}.balancingMode': '{mode}'.", reason="invalid")
                if be.get("maxConnectionsPerInstance") is not None or be.get("maxRatePerInstance") is not None or be.get("maxUtilization") is not None:
                    raise bad(f"Invalid value for field '{f}': per-instance capacity and maxUtilization are not supported for network endpoint group backends.", reason="invalid")
                if proto in ("TCP", "SSL"):
                    if mode != "CONNECTION":
                        raise bad(f"Invalid value for field '{f}.balancingMode': '{mode}'. Network endpoint group backends of a {proto} backend service must use balancing mode CONNECTION.",
                                  reason="invalid")
                    caps = [k for k in ("maxConnections", "maxConnectionsPerEndpoint") if be.get(k) is not None]
                    if len(caps) != 1:
                        raise bad(f"Invalid value for field '{f}': balancing mode CONNECTION on a network endpoint group needs exactly one of maxConnections or maxConnectionsPerEndpoint (got {', '.join(caps) or 'none'}).",
                                  reason="invalid")
                    if not isinstance(be[caps[0]], int) or isinstance(be[caps[0]], bool) or be[caps[0]] < 0:
                        raise bad(f"Invalid value for field '{f}.{caps[0]}': '{be[caps[0]]}'.", reason="invalid")
                elif mode != "RATE":
                    raise bad(f"Invalid value for field '{f}.balancingMode': '{mode}'. Network endpoint group backends of a {proto} backend service must use balancing mode RATE.",
                              reason="invalid")
                be.setdefault("capacityScaler", 1)
                needs_hc = True
            uses.append(("compute.networkEndpointGroups.use", gn))
        hcs = res.get("healthChecks") or []
        if not isinstance(hcs, list) or len(hcs) > 1:
            raise bad("Invalid value for field 'resource.healthChecks': at most one health check may be specified.", reason="invalid")
        out = []
        for i, h in enumerate(hcs):
            if re.fullmatch(r"(projects/[^/]+/)?global/healthChecks/[^/]+", compute_norm(str(h))):
                if managed:
                    raise bad(f"Invalid value for field 'resource.healthChecks[{i}]': '{h}'. A regional {scheme} backend service needs a regional health check.", reason="invalid")
                out.append(h)  # global health checks are not modelled by this server
                continue
            hn, _ = self.ref(h, pid, region, "healthChecks", f"resource.healthChecks[{i}]")
            out.append(COMPUTE_BASE + hn)
            uses.append(("compute.regionHealthChecks.useReadOnly", hn))
        if hcs:
            res["healthChecks"] = out
        elif needs_hc:
            raise bad("Invalid value for field 'resource.healthChecks': ''. A health check is required for a backend service with NON_GCP_PRIVATE_IP_PORT (hybrid connectivity) network endpoint group backends.",
                      reason="required")
        res.setdefault("sessionAffinity", "NONE")
        res.setdefault("connectionDraining", {"drainingTimeoutSec": 0})
        res.setdefault("timeoutSec", 30)
        return uses

    def v_forwardingRules(self, pid, region, res, old):
        # https://cloud.google.com/compute/docs/reference/rest/v1/forwardingRules/insert
        # https://cloud.google.com/compute/docs/reference/rest/v1/forwardingRules#ForwardingRule (ports:
        # "applicable only to ... internal passthrough Network Load Balancers, backend service-based
        # external passthrough Network Load Balancers, and internal protocol forwarding"; portRange:
        # "internal and external proxy Network Load Balancers ...")
        # https://cloud.google.com/load-balancing/docs/forwarding-rule-concepts#port_specifications
        # (proxy Network Load Balancers: a single port)
        # https://cloud.google.com/load-balancing/docs/proxy-only-subnets (INTERNAL_MANAGED and regional
        # EXTERNAL_MANAGED forwarding rules need an ACTIVE REGIONAL_MANAGED_PROXY subnet in the region/VPC)
        st = self.state
        scheme = res.setdefault("loadBalancingScheme", "EXTERNAL")
        if scheme not in ("INTERNAL", "INTERNAL_MANAGED", "EXTERNAL", "EXTERNAL_MANAGED", "INTERNAL_SELF_MANAGED", ""):
            raise bad(f"Invalid value for field 'resource.loadBalancingScheme': '{scheme}'.", reason="invalid")
        proto = res.setdefault("IPProtocol", "TCP")
        if proto not in ("TCP", "UDP", "ESP", "AH", "SCTP", "ICMP", "L3_DEFAULT"):
            raise bad(f"Invalid value for field 'resource.IPProtocol': '{proto}'.", reason="invalid")
        ports = res.get("ports") or []
        if sum(bool(x) for x in (ports, res.get("portRange"), res.get("allPorts"))) > 1:
            raise bad("Invalid value for field 'resource': only one of ports, portRange or allPorts may be specified.", reason="invalid")
        if len(ports) > 5:
            raise bad("Invalid value for field 'resource.ports': at most 5 ports.", reason="invalid")
        for i, p in enumerate(ports):
            if not re.fullmatch(r"\d+", str(p)) or not 0 < int(p) <= 65535:
                raise bad(f"Invalid value for field 'resource.ports[{i}]': '{p}'.", reason="invalid")
        uses = []
        if res.get("network"):
            nn, _ = self.ref(res["network"], pid, region, "networks", "resource.network")
            res["network"] = COMPUTE_BASE + nn
        sub = None
        if res.get("subnetwork"):
            sn, sub = self.ref(res["subnetwork"], pid, region, "subnetworks", "resource.subnetwork")
            res["subnetwork"] = COMPUTE_BASE + sn
            if sub.get("purpose") not in ("PRIVATE", "PRIVATE_RFC_1918"):
                raise bad(f"Invalid value for field 'resource.subnetwork': a {sub.get('purpose')} subnetwork cannot hold forwarding rules.", reason="invalid")
            if res.get("network") and compute_norm(sub["network"]) != compute_norm(res["network"]):
                raise bad("Invalid value for field 'resource.subnetwork': the subnetwork is not in the network.", reason="invalid")
            res.setdefault("network", sub["network"])
            uses.append(("compute.subnetworks.use", sn))
        if scheme in ("INTERNAL", "INTERNAL_MANAGED") and not res.get("subnetwork"):
            raise bad("Invalid value for field 'resource.subnetwork': ''. Internal forwarding rules need a subnetwork.", reason="required")
        if res.get("backendService"):
            bn, bb = self.ref(res["backendService"], pid, region, "backendServices", "resource.backendService")
            res["backendService"] = COMPUTE_BASE + bn
            if bb.get("loadBalancingScheme") != scheme:
                raise bad(f"Invalid value for field 'resource.backendService': the backend service's loadBalancingScheme {bb.get('loadBalancingScheme')} does not match {scheme}.",
                          reason="invalid")
            uses.append(("compute.regionBackendServices.use", bn))
        elif scheme == "INTERNAL" and not res.get("target"):
            raise bad("Invalid value for field 'resource.backendService': ''. An INTERNAL forwarding rule needs a backend service.", reason="required")
        if scheme in ("INTERNAL_MANAGED", "EXTERNAL_MANAGED"):
            uses += self.managed_frontend(pid, region, res, scheme)
        elif res.get("target") and "/targetTcpProxies/" in compute_norm(str(res["target"])):
            raise bad(f"Invalid value for field 'resource.target': '{res['target']}'. A regional target TCP proxy needs a forwarding rule with loadBalancingScheme INTERNAL_MANAGED or EXTERNAL_MANAGED, not {scheme}.",
                      reason="invalid")
        if old is None and sub is not None and not res.get("IPAddress"):
            key = compute_norm(res["subnetwork"])
            n = st.ip_next.get(key, 2)
            st.ip_next[key] = n + 1
            res["IPAddress"] = str(cidr(sub["ipCidrRange"], "x").network_address + n)
        res.setdefault("networkTier", "PREMIUM")
        res.setdefault("allowGlobalAccess", False)
        res.setdefault("labelFingerprint", "42WmSpB8rSM=")
        return uses

    def managed_frontend(self, pid, region, res, scheme):
        """A regional proxy load balancer's forwarding rule: target proxy, single port, proxy-only subnet."""
        if res.get("backendService"):
            raise bad(f"Invalid value for field 'resource.backendService': '{res['backendService']}'. A {scheme} forwarding rule references a target proxy (target), not a backend service.",
                      reason="invalid")
        target = res.get("target")
        if not target:
            raise bad(f"Invalid value for field 'resource.target': ''. A {scheme} forwarding rule needs a regional target proxy.", reason="required")
        if not re.search(r"(^|/)targetTcpProxies/[^/]+$", compute_norm(str(target))):
            raise not_found(f"The resource '{compute_norm(str(target))}' was not found")  # only target TCP proxies are modelled
        tn, tb = self.ref(target, pid, region, "targetTcpProxies", "resource.target")
        res["target"] = COMPUTE_BASE + tn
        brec = self.state.get(compute_norm(tb["service"]))
        bs = brec["body"] if brec else {}
        if bs.get("loadBalancingScheme") != scheme:
            raise bad(f"Invalid value for field 'resource.target': '{res['target']}'. The target proxy's backend service has loadBalancingScheme {bs.get('loadBalancingScheme')}, not {scheme}.",
                      reason="invalid")
        if res.get("IPProtocol") != "TCP":
            raise bad(f"Invalid value for field 'resource.IPProtocol': '{res.get('IPProtocol')}'. A forwarding rule to a target TCP proxy must use TCP.", reason="invalid")
        if res.get("ports") or res.get("allPorts"):
            raise bad("Invalid value for field 'resource.ports': ports and allPorts are only for passthrough load balancers and protocol forwarding; a forwarding rule to a target proxy takes a single-port portRange.",
                      reason="invalid")
        pr = str(res.get("portRange") or "")
        pm = re.fullmatch(r"(\d+)(?:-(\d+))?", pr)
        if not pm or (pm.group(2) and pm.group(2) != pm.group(1)) or not 1 <= int(pm.group(1)) <= 65535:
            raise bad(f"Invalid value for field 'resource.portRange': '{pr}'. A proxy Network Load Balancer forwarding rule needs exactly one port, e.g. '443'.",
                      reason="required" if not pr else "invalid")
        res["portRange"] = f"{pm.group(1)}-{pm.group(1)}"
        if not res.get("network"):
            raise bad(f"Invalid value for field 'resource.network': ''. A {scheme} forwarding rule needs a network.", reason="required")
        if not self.active_proxy_subnet(res["network"], region):
            raise bad("An active proxy-only subnetwork is required in the same region and VPC as the forwarding rule.", reason="invalid")
        for be in bs.get("backends") or []:
            g = self.state.get(compute_norm(be.get("group", "")))
            if g and g["body"].get("networkEndpointType") == "NON_GCP_PRIVATE_IP_PORT" and compute_norm(g["body"].get("network")) != compute_norm(res["network"]):
                raise bad(f"Invalid value for field 'resource.network': the hybrid network endpoint group '{g['name']}' behind the target proxy is in another VPC network.", reason="invalid")
        return [("compute.regionTargetTcpProxies.use", tn)]

    def v_serviceAttachments(self, pid, region, res, old):
        # https://cloud.google.com/compute/docs/reference/rest/v1/serviceAttachments/insert
        # https://cloud.google.com/vpc/docs/configure-private-service-connect-producer
        tn, tb = self.ref(res.get("targetService"), pid, region, "forwardingRules", "resource.targetService")
        res["targetService"] = COMPUTE_BASE + tn
        if tb.get("loadBalancingScheme") not in ("INTERNAL", "INTERNAL_MANAGED"):
            raise bad("Invalid value for field 'resource.targetService': the forwarding rule must be INTERNAL or INTERNAL_MANAGED.", reason="invalid")
        uses = [("compute.forwardingRules.use", tn)]
        pref = res.get("connectionPreference")
        if pref not in ("ACCEPT_AUTOMATIC", "ACCEPT_MANUAL"):
            raise bad(f"Invalid value for field 'resource.connectionPreference': '{pref}'.", reason="invalid")
        subs = res.get("natSubnets") or []
        if not subs:
            raise bad("Invalid value for field 'resource.natSubnets': at least one NAT subnetwork is required.", reason="required")
        out = []
        for i, s in enumerate(subs):
            sn, sb = self.ref(s, pid, region, "subnetworks", f"resource.natSubnets[{i}]")
            if sb.get("purpose") != "PRIVATE_SERVICE_CONNECT":
                raise bad(f"Invalid value for field 'resource.natSubnets[{i}]': '{s}'. The subnetwork must have purpose PRIVATE_SERVICE_CONNECT.", reason="invalid")
            if compute_norm(sb["network"]) != compute_norm(tb.get("network")):
                raise bad(f"Invalid value for field 'resource.natSubnets[{i}]': the NAT subnetwork must be in the forwarding rule's network.", reason="invalid")
            out.append(COMPUTE_BASE + sn)
            uses.append(("compute.subnetworks.use", sn))
        res["natSubnets"] = out
        accept = res.get("consumerAcceptLists") or []
        if accept and pref != "ACCEPT_MANUAL":
            raise bad("Invalid value for field 'resource.consumerAcceptLists': only with connectionPreference ACCEPT_MANUAL.", reason="invalid")
        for i, a in enumerate(accept):
            if not (a.get("projectIdOrNum") or a.get("networkUrl")):
                raise bad(f"Invalid value for field 'resource.consumerAcceptLists[{i}]': projectIdOrNum or networkUrl is required.", reason="invalid")
            if a.get("projectIdOrNum") and not re.fullmatch(r"[a-z][-a-z0-9]{4,28}[a-z0-9]|\d+", str(a["projectIdOrNum"])):
                raise bad(f"Invalid value for field 'resource.consumerAcceptLists[{i}].projectIdOrNum': '{a['projectIdOrNum']}'.", reason="invalid")
            cl = a.get("connectionLimit", 0)
            if not isinstance(cl, int) or cl < 0:
                raise bad(f"Invalid value for field 'resource.consumerAcceptLists[{i}].connectionLimit': '{cl}'.", reason="invalid")
        for i, r in enumerate(res.get("consumerRejectLists") or []):
            if not isinstance(r, str) or not r:
                raise bad(f"Invalid value for field 'resource.consumerRejectLists[{i}]'.", reason="invalid")
        res.setdefault("enableProxyProtocol", False)
        res.setdefault("connectedEndpoints", [])
        if old is None:
            res["pscServiceAttachmentId"] = {"high": str(random.randint(1, 2 ** 63)), "low": str(random.randint(1, 2 ** 63))}
        return uses


# ---------------------------------------------------------------------------------------
# GKE
# https://cloud.google.com/kubernetes-engine/docs/reference/rest/v1/projects.locations.clusters
# https://cloud.google.com/kubernetes-engine/docs/reference/rest/v1/projects.locations.clusters.nodePools
# https://cloud.google.com/kubernetes-engine/docs/reference/rest/v1/projects.locations.operations
# https://cloud.google.com/kubernetes-engine/docs/reference/api-permissions (permissions)
# ---------------------------------------------------------------------------------------

GKE_BASE = "https://container.googleapis.com/v1/"


# How long a GKE operation nobody polls takes to finish (one that is polled finishes after
# --polls polls).
UNWATCHED_GKE_OPERATION_SECONDS = 5


class GkeApi:
    def __init__(self, app):
        self.app, self.state = app, app.state

    def op(self, pid, loc, op_type, target, on_done):
        st = self.state
        name = f"operation-{int(time.time() * 1000)}-{os.urandom(4).hex()}"
        num = st.number(pid)
        body = {"name": name, "zone": loc, "location": loc, "operationType": op_type, "status": "RUNNING",
                "selfLink": GKE_BASE + f"projects/{num}/locations/{loc}/operations/{name}",
                "targetLink": GKE_BASE + f"projects/{num}/locations/{loc}/{target}", "startTime": nanos_rfc3339()}
        st.ops[f"projects/{pid}/locations/{loc}/operations/{name}"] = {"body": body, "left": st.polls, "on_done": on_done,
                                                                     "deadline": time.time() + UNWATCHED_GKE_OPERATION_SECONDS}
        return body

    def settle(self):
        """GKE carries an operation out whether or not anyone polls it: one whose caller
        went away (a killed run) finishes on its own, after a while."""
        now = time.time()
        for full, op in list(self.state.ops.items()):
            if op.get("deadline", now + 1) <= now and op["body"]["status"] != "DONE":
                op["left"] = 0
                self.poll(full)

    def poll(self, full):
        op = self.state.ops.get(full)
        if op is None:
            raise not_found(f"Operation \"{full}\" not found.")
        if op["left"] > 0:
            op["left"] -= 1
        elif op["body"]["status"] != "DONE":
            op["body"].update(status="DONE", endTime=nanos_rfc3339())
            if op["on_done"]:
                op["on_done"]()
        return copy.deepcopy(op["body"])

    def busy(self, cluster):
        opname = cluster.get("_op")
        if not opname:
            return
        op = self.state.ops.get(opname)
        if op and op["body"]["status"] != "DONE":
            verb = {"CREATE_CLUSTER": "creating", "DELETE_CLUSTER": "deleting", "UPDATE_CLUSTER": "updating",
                    "CREATE_NODE_POOL": "creating a node pool in", "DELETE_NODE_POOL": "deleting a node pool of",
                    "SET_LABELS": "setting labels on", "SET_NODE_POOL_MANAGEMENT": "updating"}.get(op["body"]["operationType"], "updating")
            raise ApiError(400, f"Operation {op['body']['name']} is currently {verb} cluster {cluster['name']}. Please wait and try again once it is done.",
                           status="FAILED_PRECONDITION", reason="failedPrecondition")

    def public(self, c):
        return {k: copy.deepcopy(v) for k, v in c.items() if not k.startswith("_")}

    def cluster_rec(self, pid, loc, cname):
        full = f"projects/{pid}/locations/{loc}/clusters/{cname}"
        rec = self.state.get(full)
        if rec is None:
            raise not_found(f"Not found: projects/{pid}/locations/{loc}/clusters/{cname}.")
        return full, rec

    def network_ref(self, value, pid, region, coll, field):
        try:
            v = compute_norm(str(value))
            if "/" not in v:
                v = f"projects/{pid}/global/networks/{v}" if coll == "networks" else f"projects/{pid}/regions/{region}/subnetworks/{v}"
            return self.app.compute.ref(v, pid, region, coll, field)
        except ApiError as e:
            raise bad(f"Invalid value for {field}: {e.message}")

    def handle(self, ctx, method, rest, query, body):
        st = self.state
        m = re.fullmatch(r"projects/([^/]+)/locations/([^/]+)/(clusters|operations)(?:/([^/:]+))?(?::(\w+))?"
                         r"(?:/nodePools(?:/([^/:]+))?(?::(\w+))?)?", rest)
        if not m:
            raise not_found(f"Not found: /v1/{rest}")
        pid, loc = st.project_id(m.group(1)), m.group(2)
        coll, cname, cverb, npname, npverb = m.group(3), m.group(4), m.group(5), m.group(6), m.group(7)
        is_np = "/nodePools" in rest
        if not re.fullmatch(r"[a-z]+-[a-z]+\d(-[a-z])?", loc):
            raise bad(f"Location \"{loc}\" is not a valid GCP zone or region.")
        body = body or {}
        with st.lock:
            self.settle()
            if coll == "operations":
                full = f"projects/{pid}/locations/{loc}/operations/{cname}"
                self.app.authz(ctx, "container.operations.get", full, pid)
                if method != "GET" or not cname:
                    raise ApiError(405, "Method not allowed.")
                return 200, self.poll(full)
            if not cname:
                if method == "POST":
                    return 200, self.create(ctx, pid, loc, body)
                self.app.authz(ctx, "container.clusters.list", f"projects/{pid}/locations/{loc}", pid)
                return 200, {"clusters": [self.public(r["body"]) for k, r in st.resources.items()
                                          if r["kind"] == "container#cluster" and k.startswith(f"projects/{pid}/locations/{loc}/clusters/")]}
            full, rec = None, None
            cfull = f"projects/{pid}/locations/{loc}/clusters/{cname}"
            if is_np:
                if npname is None:
                    if method == "POST":
                        self.app.authz(ctx, "container.clusters.update", cfull, pid)
                        cfull, rec = self.cluster_rec(pid, loc, cname)
                        return 200, self.np_create(ctx, pid, loc, cfull, rec, body)
                    self.app.authz(ctx, "container.clusters.get", cfull, pid)
                    cfull, rec = self.cluster_rec(pid, loc, cname)
                    return 200, {"nodePools": [self.public(st.get(n)["body"]) for n in rec["body"].get("_pools", [])]}
                npfull = f"{cfull}/nodePools/{npname}"
                perm = "container.clusters.get" if method == "GET" else "container.clusters.update"
                self.app.authz(ctx, perm, npfull, pid)
                cfull, rec = self.cluster_rec(pid, loc, cname)
                np = st.get(npfull)
                if np is None:
                    raise not_found(f"Not found: {npfull}.")
                return 200, self.np_op(ctx, method, npverb, pid, loc, rec, np, body)
            perm = {"GET": "container.clusters.get", "DELETE": "container.clusters.delete"}.get(method, "container.clusters.update")
            self.app.authz(ctx, perm, cfull, pid)
            cfull, rec = self.cluster_rec(pid, loc, cname)
            c = rec["body"]
            if method == "GET" and not cverb:
                if c.get("_op") and st.ops.get(c["_op"], {}).get("body", {}).get("status") != "DONE":
                    self.poll(c["_op"])  # polling the cluster also advances its operation
                    c = st.get(cfull)["body"] if st.get(cfull) else c
                return 200, self.public(c)
            self.busy(c)
            if method == "DELETE":
                c["status"] = "STOPPING"

                def done():
                    for n in c.get("_pools", []):
                        st.delete(n)
                    st.delete(cfull)
                o = self.op(pid, loc, "DELETE_CLUSTER", f"clusters/{cname}", done)
                c["_op"] = f"projects/{pid}/locations/{loc}/operations/{o['name']}"
                return 200, o
            if method == "PUT" and not cverb:
                return 200, self.update(ctx, pid, loc, cfull, c, body.get("update") or {})
            if method == "POST" and cverb == "setResourceLabels":
                # https://cloud.google.com/kubernetes-engine/docs/reference/rest/v1/projects.locations.clusters/setResourceLabels
                if not body.get("labelFingerprint"):
                    raise bad("Required field labelFingerprint is missing.")
                if body["labelFingerprint"] != c["labelFingerprint"]:
                    raise ApiError(400, "Labels could not be set due to fingerprint mismatch.", status="FAILED_PRECONDITION", reason="failedPrecondition")
                labels = body.get("resourceLabels") or {}
                validate_labels(labels, "resourceLabels")
                c["resourceLabels"] = labels
                c["labelFingerprint"] = os.urandom(4).hex()
                return 200, self.start(pid, loc, c, "SET_LABELS", f"clusters/{cname}")
            raise not_found(f"Not found: /v1/{rest}")

    def start(self, pid, loc, c, op_type, target, on_done=None):
        c["status"] = "RECONCILING" if op_type != "CREATE_CLUSTER" else "PROVISIONING"

        def done():
            c["status"] = "RUNNING"
            if on_done:
                on_done()
        o = self.op(pid, loc, op_type, target, done)
        c["_op"] = f"projects/{pid}/locations/{loc}/operations/{o['name']}"
        return o

    def create(self, ctx, pid, loc, body):
        st = self.state
        parent = f"projects/{pid}/locations/{loc}"
        self.app.authz(ctx, "container.clusters.create", parent, pid)
        c = copy.deepcopy(body.get("cluster") or {})
        name = c.get("name")
        if not isinstance(name, str) or not re.fullmatch(r"[a-z]([-a-z0-9]{0,38}[a-z0-9])?", name):
            raise bad(f"Invalid cluster name \"{name}\": must be 1-40 characters of lowercase letters, digits and hyphens, start with a letter and end with a letter or digit.")
        full = f"{parent}/clusters/{name}"
        if st.get(full):
            raise ApiError(409, f"Already exists: {full}.")
        region = loc if re.fullmatch(r"[a-z]+-[a-z]+\d", loc) else loc.rsplit("-", 1)[0]
        nn, _ = self.network_ref(c.get("network") or "default", pid, region, "networks", "cluster.network")
        sub = None
        if c.get("subnetwork"):
            sn, sub = self.network_ref(c["subnetwork"], pid, region, "subnetworks", "cluster.subnetwork")
            if compute_norm(sub["network"]) != nn:
                raise bad(f"Subnetwork \"{sn}\" is not in network \"{nn}\".")
        pcc = c.get("privateClusterConfig") or {}
        iap = c.get("ipAllocationPolicy") or {}
        if pcc.get("enablePrivateNodes"):
            if not iap.get("useIpAliases"):
                raise bad("Private clusters must be VPC-native: set ipAllocationPolicy.useIpAliases.")
            block = pcc.get("masterIpv4CidrBlock")
            if not block:
                raise bad("Private clusters need privateClusterConfig.masterIpv4CidrBlock.")
            net = cidr(block, "privateClusterConfig.masterIpv4CidrBlock")
            if net.prefixlen != 28:
                raise bad(f"Invalid master authorized network CIDR \"{block}\": the cluster's master CIDR range must be a /28.")
            if sub:
                for r in [sub["ipCidrRange"]] + [s["ipCidrRange"] for s in sub.get("secondaryIpRanges") or []]:
                    if net.overlaps(cidr(r, "x")):
                        raise bad(f"The master CIDR {block} overlaps with the subnetwork range {r}.")
            pcc["privateEndpoint"] = str(net.network_address + 2)
            pcc["publicEndpoint"] = f"34.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(1, 254)}"
            pcc["peeringName"] = f"gke-n{os.urandom(8).hex()[:14]}-peer"
        elif pcc.get("enablePrivateEndpoint"):
            raise bad("enablePrivateEndpoint requires enablePrivateNodes.")
        if iap.get("useIpAliases") and sub:
            names = {s["rangeName"] for s in sub.get("secondaryIpRanges") or []}
            for key in ("clusterSecondaryRangeName", "servicesSecondaryRangeName"):
                if iap.get(key) and iap[key] not in names:
                    raise bad(f"Retry budget exhausted (1 attempts): Secondary range \"{iap[key]}\" does not exist in network \"{nn.split('/')[-1]}\", subnetwork \"{sub['name']}\".")
        mancfg = c.get("masterAuthorizedNetworksConfig") or {}
        for i, b in enumerate(mancfg.get("cidrBlocks") or []):
            cidr(b.get("cidrBlock"), f"masterAuthorizedNetworksConfig.cidrBlocks[{i}].cidrBlock")
        wic = c.get("workloadIdentityConfig")
        if wic and wic.get("workloadPool") and wic["workloadPool"] != f"{pid}.svc.id.goog":
            raise bad(f"Workload pool \"{wic['workloadPool']}\" is invalid: must be \"{pid}.svc.id.goog\".")
        self.check_db_encryption(c.get("databaseEncryption"), pid, region)
        if c.get("releaseChannel"):
            c["releaseChannel"]["channel"] = enum(c["releaseChannel"].get("channel"), "gke.channel", "cluster.release_channel.channel", "UNSPECIFIED")
        lc = c.get("loggingConfig")
        if lc and lc.get("componentConfig"):
            lc["componentConfig"]["enableComponents"] = [enum(x, "gke.component", "enable_components") for x in lc["componentConfig"].get("enableComponents") or []]
        validate_labels(c.get("resourceLabels"), "resourceLabels")
        if c.get("nodePools") and c.get("initialNodeCount"):
            raise bad("Cannot specify both initial_node_count and node_pools.")
        version = str(c.get("initialClusterVersion") or "1.32")
        vm = re.fullmatch(r"(1\.\d+)(\.\d+)?(-gke\.\d+)?|latest|-", version)
        if not vm:
            raise bad(f"Version \"{version}\" is invalid.")
        full_version = version if vm.group(3) else f"{(vm.group(1) or '1.32')}{vm.group(2) or '.5'}-gke.1200000"
        c.update(network=nn.split("/")[-1], subnetwork=(sub["name"] if sub else "default"), location=loc, zone=loc,
                 privateClusterConfig=pcc, selfLink=GKE_BASE + full, id=os.urandom(16).hex(), status="PROVISIONING",
                 currentMasterVersion=full_version, currentNodeVersion=full_version, initialClusterVersion=version,
                 endpoint=pcc.get("privateEndpoint") if pcc.get("enablePrivateEndpoint") else (pcc.get("publicEndpoint") or f"34.{random.randint(1, 254)}.0.{random.randint(1, 254)}"),
                 labelFingerprint=os.urandom(4).hex(), createTime=rfc3339(),
                 networkConfig={"network": nn, "subnetwork": compute_norm(sub["selfLink"]) if sub else f"projects/{pid}/regions/{region}/subnetworks/default"},
                 masterAuth={"clusterCaCertificate": base64.b64encode(b"-----BEGIN CERTIFICATE-----emulator").decode(),
                             **(c.get("masterAuth") or {})},
                 clusterIpv4Cidr=next((s["ipCidrRange"] for s in (sub or {}).get("secondaryIpRanges") or [] if s["rangeName"] == iap.get("clusterSecondaryRangeName")), "10.4.0.0/14"))
        c.pop("initialNodeCount", None)
        pools = c.pop("nodePools", None) or []
        c["_pools"] = []
        st.put("container", "container#cluster", full, c)
        if not c.get("removeDefaultNodePool"):
            pools = pools or [{"name": "default-pool", "initialNodeCount": 3, "config": {}}]
        for p in pools:
            self.np_store(ctx, pid, loc, full, c, p)
        return self.start(pid, loc, c, "CREATE_CLUSTER", f"clusters/{name}", None)

    def check_db_encryption(self, de, pid, region):
        if not de:
            return
        de["state"] = enum(de.get("state"), "gke.dbState", "database_encryption.state", "UNKNOWN")
        if de["state"] == "ENCRYPTED":
            key = de.get("keyName", "")
            km = re.fullmatch(r"projects/([^/]+)/locations/([^/]+)/keyRings/[^/]+/cryptoKeys/[^/]+", key)
            if not km or self.state.get(canonical_project_path(self.state, key)) is None:
                raise bad(f"Cloud KMS key \"{key}\" does not exist or is not accessible.")
            if km.group(2) != region:
                raise bad(f"Cloud KMS key \"{key}\" must be in the cluster's region {region}.")

    def update(self, ctx, pid, loc, full, c, upd):
        # ClusterUpdate: "Exactly one update can be applied to a cluster with each request, so
        # at most one field can be provided." (google.container.v1.ClusterUpdate)
        desired = {k: v for k, v in upd.items() if k.startswith("desired") and v not in (None, "", {}, [])}
        if "desiredNodePoolId" in desired and len(desired) == 2:
            pass
        elif len(desired) != 1:
            raise bad(f"Exactly one update can be applied to a cluster with each request; got {sorted(desired) or 'none'}.")
        region = loc if re.fullmatch(r"[a-z]+-[a-z]+\d", loc) else loc.rsplit("-", 1)[0]
        new = copy.deepcopy(c)
        for k, v in desired.items():
            v = copy.deepcopy(v)
            if k == "desiredNodePoolId":
                continue
            if k == "desiredEnablePrivateEndpoint":
                if not new.get("privateClusterConfig", {}).get("enablePrivateNodes"):
                    raise bad("enablePrivateEndpoint requires a private cluster.")
                new["privateClusterConfig"]["enablePrivateEndpoint"] = bool(v)
            elif k == "desiredPrivateClusterConfig":
                cur = new.setdefault("privateClusterConfig", {})
                if v.get("masterIpv4CidrBlock") and v["masterIpv4CidrBlock"] != cur.get("masterIpv4CidrBlock"):
                    raise bad("privateClusterConfig.masterIpv4CidrBlock cannot be changed.")
                if "enablePrivateNodes" in v and bool(v["enablePrivateNodes"]) != bool(cur.get("enablePrivateNodes")):
                    raise bad("privateClusterConfig.enablePrivateNodes cannot be changed with desiredPrivateClusterConfig; use desiredDefaultEnablePrivateNodes.")
                cur.update({x: y for x, y in v.items() if x in ("enablePrivateEndpoint", "masterGlobalAccessConfig", "privateEndpointSubnetwork")})
            elif k == "desiredMasterAuthorizedNetworksConfig":
                for i, b in enumerate(v.get("cidrBlocks") or []):
                    cidr(b.get("cidrBlock"), f"desiredMasterAuthorizedNetworksConfig.cidrBlocks[{i}].cidrBlock")
                new["masterAuthorizedNetworksConfig"] = v
            elif k == "desiredLoggingConfig":
                cc = v.get("componentConfig") or {}
                cc["enableComponents"] = [enum(x, "gke.component", "enable_components") for x in cc.get("enableComponents") or []]
                new["loggingConfig"] = v
            elif k == "desiredDatabaseEncryption":
                self.check_db_encryption(v, pid, region)
                new["databaseEncryption"] = v
            elif k == "desiredWorkloadIdentityConfig":
                if v.get("workloadPool") and v["workloadPool"] != f"{pid}.svc.id.goog":
                    raise bad(f"Workload pool \"{v['workloadPool']}\" is invalid: must be \"{pid}.svc.id.goog\".")
                new["workloadIdentityConfig"] = v
            elif k == "desiredReleaseChannel":
                v["channel"] = enum(v.get("channel"), "gke.channel", "desired_release_channel.channel", "UNSPECIFIED")
                new["releaseChannel"] = v
            elif k == "desiredMasterVersion":
                new["currentMasterVersion"] = v if "-gke." in v else f"{v}.5-gke.1200000"
            elif k == "desiredNodePoolAutoscaling":
                npid = upd.get("desiredNodePoolId")
                np = self.state.get(f"{full}/nodePools/{npid}")
                if not npid or np is None:
                    raise bad("desiredNodePoolAutoscaling needs an existing desiredNodePoolId.")
                self.check_autoscaling(v)
                np["body"]["autoscaling"] = v
            else:
                field = k[len("desired")][0].lower() + k[len("desired") + 1:]
                new[field] = v
        for key in list(new):
            c[key] = new[key]
        return self.start(pid, loc, c, "UPDATE_CLUSTER", f"clusters/{c['name']}")

    def check_autoscaling(self, a):
        if a.get("enabled"):
            lo, hi = int(a.get("minNodeCount", 0)), int(a.get("maxNodeCount", 0))
            if lo < 0 or hi < 1 or lo > hi or hi > 1000:
                raise bad(f"Invalid autoscaling: minNodeCount {lo} and maxNodeCount {hi} must satisfy 0 <= min <= max, 1 <= max <= 1000.")

    def np_store(self, ctx, pid, loc, cfull, c, p):
        st = self.state
        p = copy.deepcopy(p)
        name = p.get("name")
        if not isinstance(name, str) or not re.fullmatch(r"[a-z]([-a-z0-9]{0,38}[a-z0-9])?", name):
            raise bad(f"Invalid node pool name \"{name}\".")
        full = f"{cfull}/nodePools/{name}"
        if st.get(full):
            raise ApiError(409, f"Already exists: {full}.")
        cfg = p.setdefault("config", {})
        mt = cfg.setdefault("machineType", "e2-medium")
        if not re.fullmatch(r"[a-z0-9]+-(standard|highmem|highcpu|medium|small|micro|ultramem|megamem|highgpu|ultragpu|custom)(-\d+[a-z]?)?(-\d+)?", mt):
            raise bad(f"Invalid machine type \"{mt}\".")
        ds = cfg.setdefault("diskSizeGb", 100)
        if not isinstance(ds, int) or ds < 10:
            raise bad(f"Invalid disk size {ds}GB: must be at least 10GB.")
        if cfg.setdefault("diskType", "pd-balanced") not in ("pd-standard", "pd-ssd", "pd-balanced", "hyperdisk-balanced", "pd-extreme"):
            raise bad(f"Invalid disk type \"{cfg['diskType']}\".")
        sa = cfg.setdefault("serviceAccount", "default")
        if sa != "default":
            if not self.app.iam.sa_exists(sa):
                raise bad(f"Service account \"{sa}\" does not exist.")
            sapath = f"projects/{sa.split('@')[1].split('.')[0]}/serviceAccounts/{sa}"
            # GKE: iam.serviceAccounts.actAs on the nodes' service account
            self.app.authz(ctx, "iam.serviceAccounts.actAs", canonical_project_path(st, sapath), pid,
                           extra=[st.policies.get(canonical_project_path(st, sapath))])
        if cfg.get("bootDiskKmsKey") and st.get(canonical_project_path(st, cfg["bootDiskKmsKey"])) is None:
            raise bad(f"Cloud KMS key \"{cfg['bootDiskKmsKey']}\" does not exist.")
        wm = cfg.get("workloadMetadataConfig")
        if wm:
            wm["mode"] = enum(wm.get("mode"), "gke.wlMode", "workload_metadata_config.mode", "MODE_UNSPECIFIED")
            if wm["mode"] == "GKE_METADATA" and not (c.get("workloadIdentityConfig") or {}).get("workloadPool"):
                raise bad("Workload Identity must be enabled on the cluster to use GKE_METADATA.")
        for i, t in enumerate(cfg.get("taints") or []):
            t["effect"] = enum(t.get("effect"), "gke.effect", f"taints[{i}].effect")
            if not t.get("key") or t["effect"] == "EFFECT_UNSPECIFIED":
                raise bad(f"Invalid taint {i}: key and effect are required.")
        validate_labels({k: v for k, v in (cfg.get("resourceLabels") or {}).items()}, "config.resourceLabels")
        if p.get("autoscaling"):
            self.check_autoscaling(p["autoscaling"])
        if int(p.get("initialNodeCount", 0)) < 0:
            raise bad("initialNodeCount must be >= 0.")
        p.update(selfLink=GKE_BASE + full, version=c.get("currentNodeVersion"), status="PROVISIONING",
                 instanceGroupUrls=[], etag=os.urandom(8).hex(), podIpv4CidrSize=24)
        p.setdefault("management", {"autoRepair": True, "autoUpgrade": True})
        st.put("container", "container#nodePool", full, p)
        c.setdefault("_pools", []).append(full)
        return full, p

    def np_create(self, ctx, pid, loc, cfull, rec, body):
        c = rec["body"]
        self.busy(c)
        full, p = self.np_store(ctx, pid, loc, cfull, c, body.get("nodePool") or {})

        def done():
            p["status"] = "RUNNING"
        return self.start(pid, loc, c, "CREATE_NODE_POOL", f"clusters/{c['name']}/nodePools/{p['name']}", done)

    def np_op(self, ctx, method, verb, pid, loc, crec, np, body):
        st = self.state
        c, p = crec["body"], np["body"]
        if method == "GET" and not verb:
            return self.public(p)
        self.busy(c)
        target = f"clusters/{c['name']}/nodePools/{p['name']}"
        if method == "DELETE":
            p["status"] = "STOPPING"

            def done():
                st.delete(np["name"])
                c["_pools"] = [x for x in c.get("_pools", []) if x != np["name"]]
            return self.start(pid, loc, c, "DELETE_NODE_POOL", target, done)
        if method == "POST" and verb == "setAutoscaling":
            self.check_autoscaling(body.get("autoscaling") or {})
            p["autoscaling"] = body.get("autoscaling") or {}
            return self.start(pid, loc, c, "UPDATE_CLUSTER", target)
        if method == "POST" and verb == "setManagement":
            p["management"] = body.get("management") or {}
            return self.start(pid, loc, c, "SET_NODE_POOL_MANAGEMENT", target)
        if method == "PUT" and not verb:
            # UpdateNodePoolRequest: flat fields (nodeVersion, imageType, machineType, diskSizeGb,
            # workloadMetadataConfig, labels, taints, ...)
            cfg = p["config"]
            for k, v in body.items():
                if k in ("name", "projectId", "zone", "clusterId", "nodePoolId"):
                    continue
                if k == "nodeVersion":
                    p["version"] = v if "-gke." in str(v) else c["currentMasterVersion"]
                elif k == "workloadMetadataConfig":
                    v["mode"] = enum(v.get("mode"), "gke.wlMode", "workload_metadata_config.mode")
                    cfg[k] = v
                elif k == "taints":
                    for t in v.get("taints", []):
                        t["effect"] = enum(t.get("effect"), "gke.effect", "taints.effect")
                    cfg["taints"] = v.get("taints", [])
                elif k in ("labels", "resourceLabels"):
                    cfg[k] = v.get("labels", v)
                elif k == "locations":
                    p["locations"] = v
                else:
                    cfg[k] = v
            return self.start(pid, loc, c, "UPGRADE_NODES" if "nodeVersion" in body else "UPDATE_CLUSTER", target)
        raise not_found("Not found.")


# ---------------------------------------------------------------------------------------
# IAM policies (shared by projects, service accounts, KMS keys)
# https://cloud.google.com/iam/docs/reference/rest/v1/Policy
# https://cloud.google.com/iam/docs/policies#versions (conditions need version 3)
# https://cloud.google.com/resource-manager/reference/rest/v3/projects/setIamPolicy
# ---------------------------------------------------------------------------------------

def validate_policy(app, policy, pid, etag_current, conflict_code=409, allow_conditions=True):
    st = app.state
    if not isinstance(policy, dict):
        raise bad("Invalid JSON payload: policy must be an object.")
    if policy.get("etag") and etag_current and policy["etag"] != etag_current:
        raise ApiError(conflict_code, "There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.",
                       status="ABORTED" if conflict_code == 409 else "FAILED_PRECONDITION", reason="aborted" if conflict_code == 409 else "conditionNotMet")
    version = int(policy.get("version") or 0)
    if version not in (0, 1, 3):
        raise bad(f"Invalid policy version {version}: must be 1 or 3.")
    seen = set()
    for i, b in enumerate(policy.get("bindings") or []):
        role = b.get("role", "")
        if not role:
            raise bad(f"Policy binding {i} has no role.")
        if role.startswith("roles/"):
            if role not in BUILTIN_ROLES:
                raise bad(f"Role {role} is not supported for this resource.")
        else:
            m = re.fullmatch(r"(projects|organizations)/([^/]+)/roles/([^/]+)", role)
            if not m or (m.group(1) == "projects" and st.get(canonical_project_path(st, role)) is None):
                raise bad(f"Role ({role}) does not exist in the resource's hierarchy.")
        if not b.get("members"):
            raise bad(f"Policy binding {i} ({role}) has no members.")
        for mem in b["members"]:
            if not MEMBER_RE.fullmatch(mem):
                raise bad(f"Invalid member \"{mem}\" in binding of role {role}.")
            if mem.startswith("serviceAccount:"):
                email = mem.split(":", 1)[1]
                wi = re.fullmatch(r"([a-z][-a-z0-9.]*)\.svc\.id\.goog\[.*\]", email)
                if wi:
                    pool = f"{wi.group(1)}.svc.id.goog"
                    if not any(r["kind"] == "container#cluster" and (r["body"].get("workloadIdentityConfig") or {}).get("workloadPool") == pool
                               for r in st.resources.values()):
                        raise bad(f"Identity Pool does not exist ({pool}). Please check that you specified a valid resource name as returned in the `name` attribute in the configuration API.")
                elif not app.iam.sa_exists(email, unknown_ok=True):
                    raise bad(f"Service account {email} does not exist.")
        cond = b.get("condition")
        if cond:
            if not allow_conditions:
                raise bad("Conditions are not supported on this resource.")
            if version != 3:
                raise bad(f"Binding of role {role} has a condition; set the policy version to 3 (conditions require policy version 3).")
            if not cond.get("title"):
                raise bad(f"Condition of binding {role} has no title.")
            try:
                gcpcel.compile_expr(cond.get("expression", ""))
            except gcpcel.CelError as e:
                raise bad(f"Condition \"{cond.get('title')}\" has an invalid expression: {e}")
        key = (role, json.dumps(cond, sort_keys=True))
        if key in seen:
            pass
        seen.add(key)
    for i, ac in enumerate(policy.get("auditConfigs") or []):
        if not ac.get("service"):
            raise bad(f"auditConfigs[{i}].service is required.")
        for j, lc in enumerate(ac.get("auditLogConfigs") or []):
            lc["logType"] = enum(lc.get("logType"), "iam.logType", f"audit_configs[{i}].audit_log_configs[{j}].log_type")
            if lc["logType"] == "LOG_TYPE_UNSPECIFIED":
                raise bad(f"auditConfigs[{i}].auditLogConfigs[{j}].logType is required.")


def set_policy(app, key, new, current, mask=None, conflict_code=409, allow_conditions=True, pid=None):
    new = copy.deepcopy(new or {})
    validate_policy(app, new, pid, (current or {}).get("etag"), conflict_code, allow_conditions)
    fields = split_mask(mask) or ["bindings", "etag"]
    out = copy.deepcopy(current or {"version": 1, "bindings": []})
    for f in fields:
        if f == "etag":
            continue
        if f not in ("bindings", "auditConfigs", "version"):
            raise bad(f"Invalid update mask path \"{f}\".")
        if f in new:
            out[f] = new[f]
        else:
            out.pop(f, None)
    out["version"] = 3 if any(b.get("condition") for b in out.get("bindings", [])) else int(new.get("version") or 1)
    out.pop("etag", None)
    out["etag"] = etag_of([out, time.time()])
    app.state.policies[key] = out
    return copy.deepcopy(out)


def read_policy(policy, requested):
    p = copy.deepcopy(policy or {"version": 1, "bindings": []})
    p.setdefault("etag", "ACAB")
    if int(requested or 1) < 3 and any(b.get("condition") for b in p.get("bindings", [])):
        # https://cloud.google.com/iam/docs/policies#specifying-version-get
        raise bad("The policy has conditional role bindings; request policy version 3 to read it.")
    return p


# ---------------------------------------------------------------------------------------
# IAM admin: service accounts, custom roles, workload identity pools and providers
# https://cloud.google.com/iam/docs/reference/rest/v1/projects.serviceAccounts
# https://cloud.google.com/iam/docs/reference/rest/v1/projects.roles
# https://cloud.google.com/iam/docs/reference/rest/v1/projects.locations.workloadIdentityPools
# https://cloud.google.com/iam/docs/reference/rest/v1/projects.locations.workloadIdentityPools.providers
# ---------------------------------------------------------------------------------------

class IamApi:
    def __init__(self, app):
        self.app, self.state = app, app.state

    def sa_exists(self, email, unknown_ok=False):
        m = re.fullmatch(r"[a-z][-a-z0-9]{4,28}[a-z0-9]@([a-z][-a-z0-9]{4,28}[a-z0-9])\.iam\.gserviceaccount\.com", email or "")
        if not m:
            # Google-managed service agents and other projects' accounts: not modelled
            return unknown_ok or bool(re.fullmatch(r"[^@\s]+@[^@\s]+\.gserviceaccount\.com", email or ""))
        if m.group(1) not in self.state.projects:
            return True  # another project's account: not modelled
        rec = self.state.get(f"projects/{m.group(1)}/serviceAccounts/{email}")
        return rec is not None

    def sa_key(self, pid_raw, ident):
        st = self.state
        if pid_raw == "-":
            m = re.fullmatch(r"[^@]+@([^.]+)\.iam\.gserviceaccount\.com", ident)
            if not m:
                raise not_found(f"Unknown service account {ident}")
            pid = m.group(1)
        else:
            pid = st.project_id(pid_raw)
        if "@" not in ident:  # unique id
            for k, r in st.resources.items():
                if r["kind"] == "iam#serviceAccount" and r["body"].get("uniqueId") == ident:
                    return k, r, pid
            raise not_found(f"Unknown service account {ident}")
        key = f"projects/{st.project_id(ident.split('@')[1].split('.')[0]) if ident.endswith('.iam.gserviceaccount.com') else pid}/serviceAccounts/{ident}"
        rec = st.get(key)
        if rec is None:
            raise not_found(f"Unknown service account {ident}")
        return key, rec, pid

    def lro(self, resource_key, resource_body_fn):
        st = self.state
        opid = os.urandom(12).hex()
        api_name = resource_body_fn()["name"]
        name = f"{api_name}/operations/{opid}"
        key = canonical_project_path(st, name)

        def done():
            st.ops[key]["body"].update(done=True, response={
                "@type": "type.googleapis.com/google.iam.v1." + ("WorkloadIdentityPoolProvider" if "/providers/" in api_name else "WorkloadIdentityPool"),
                **resource_body_fn()})
        st.ops[key] = {"body": {"name": name, "done": False}, "left": st.polls, "on_done": done}
        return {"name": name, "done": False}

    def poll_lro(self, key):
        op = self.state.ops.get(key)
        if op is None:
            raise not_found("Requested entity was not found.")
        if op["left"] > 0:
            op["left"] -= 1
        elif not op["body"].get("done"):
            op["on_done"]()
        return copy.deepcopy(op["body"])

    def handle(self, ctx, method, rest, query, body):
        st = self.state
        body = body or {}
        with st.lock:
            m = re.fullmatch(r"projects/([^/]+)/serviceAccounts(?:/([^/:]+))?(?::(\w+))?", rest)
            if m:
                return self.service_accounts(ctx, method, m.group(1), m.group(2), m.group(3), query, body)
            m = re.fullmatch(r"projects/([^/]+)/roles(?:/([^/:]+))?(?::(\w+))?", rest)
            if m:
                return self.roles(ctx, method, st.project_id(m.group(1)), m.group(2), m.group(3), query, body)
            m = re.fullmatch(r"projects/([^/]+)/locations/global/workloadIdentityPools(?:/([^/:]+))?(?::(\w+))?"
                             r"(?:/providers(?:/([^/:]+))?(?::(\w+))?)?(?:/operations/([^/]+))?", rest)
            if m:
                return self.wif(ctx, method, rest, st.project_id(m.group(1)), m.group(2), m.group(3), "/providers" in rest,
                                m.group(4), m.group(5), m.group(6), query, body)
        raise not_found(f"Not found: /v1/{rest}")

    def service_accounts(self, ctx, method, pid_raw, ident, verb, query, body):
        st = self.state
        if ident is None:
            pid = st.project_id(pid_raw)
            if method == "POST":
                # https://cloud.google.com/iam/docs/reference/rest/v1/projects.serviceAccounts/create
                acc = body.get("accountId")
                self.app.authz(ctx, "iam.serviceAccounts.create", f"projects/{pid}", pid)
                if not isinstance(acc, str) or not re.fullmatch(r"[a-z]([-a-z0-9]*[a-z0-9])", acc) or not 6 <= len(acc) <= 30:
                    raise bad(f"Invalid account ID \"{acc}\": must be 6-30 characters, match ^[a-z]([-a-z0-9]*[a-z0-9])$.")
                sa = body.get("serviceAccount") or {}
                if len(sa.get("displayName", "")) > 100 or len(sa.get("description", "")) > 256:
                    raise bad("displayName must be at most 100 characters and description at most 256.")
                email = f"{acc}@{pid}.iam.gserviceaccount.com"
                key = f"projects/{pid}/serviceAccounts/{email}"
                if st.get(key):
                    raise exists(f"Service account {acc} already exists within project projects/{pid}.")
                uid = str(random.randint(10 ** 20, 10 ** 21 - 1))
                out = {"name": key, "projectId": pid, "uniqueId": uid, "email": email, "displayName": sa.get("displayName", ""),
                       "description": sa.get("description", ""), "etag": "MDEwMjE5MjA=", "oauth2ClientId": uid, "disabled": False}
                out = {k: v for k, v in out.items() if v != ""}
                st.put("iam", "iam#serviceAccount", key, out)
                return 200, copy.deepcopy(out)
            self.app.authz(ctx, "iam.serviceAccounts.list", f"projects/{pid}", pid)
            return 200, {"accounts": [copy.deepcopy(r["body"]) for k, r in st.resources.items()
                                      if r["kind"] == "iam#serviceAccount" and k.startswith(f"projects/{pid}/")]}
        key, rec, pid = self.sa_key(pid_raw, ident)
        pol = st.policies.get(key)
        perm = {("GET", None): "iam.serviceAccounts.get", ("PATCH", None): "iam.serviceAccounts.update",
                ("PUT", None): "iam.serviceAccounts.update", ("DELETE", None): "iam.serviceAccounts.delete",
                ("POST", "getIamPolicy"): "iam.serviceAccounts.getIamPolicy", ("POST", "setIamPolicy"): "iam.serviceAccounts.setIamPolicy",
                ("POST", "disable"): "iam.serviceAccounts.disable", ("POST", "enable"): "iam.serviceAccounts.enable"}.get((method, verb))
        if perm is None:
            raise not_found(f"Not found: {key}:{verb}")
        self.app.authz(ctx, perm, key, pid, extra=[pol])
        b = rec["body"]
        if method == "GET":
            return 200, copy.deepcopy(b)
        if method == "DELETE":
            st.delete(key)
            return 200, {}
        if method in ("PATCH", "PUT"):
            # https://cloud.google.com/iam/docs/reference/rest/v1/projects.serviceAccounts/patch
            sa = body.get("serviceAccount", body) if method == "PATCH" else body
            mask = split_mask(body.get("updateMask")) if method == "PATCH" else ["displayName", "description"]
            if not mask:
                raise bad("updateMask is required.")
            for f in mask:
                if f not in ("displayName", "description"):
                    raise bad(f"Invalid update mask path \"{f}\": only displayName and description can be updated.")
                b[f] = sa.get(f, "")
            b["etag"] = etag_of(b)
            return 200, copy.deepcopy(b)
        if verb == "getIamPolicy":
            return 200, read_policy(pol, query.get("options.requestedPolicyVersion") or (body.get("options") or {}).get("requestedPolicyVersion"))
        if verb == "setIamPolicy":
            return 200, set_policy(self.app, key, body.get("policy"), pol, body.get("updateMask"), pid=pid)
        b["disabled"] = verb == "disable"
        return 200, {}

    def roles(self, ctx, method, pid, rid, verb, query, body):
        st = self.state
        if rid is None:
            if method == "POST":
                # https://cloud.google.com/iam/docs/reference/rest/v1/projects.roles/create
                self.app.authz(ctx, "iam.roles.create", f"projects/{pid}", pid)
                rid = body.get("roleId")
                if not isinstance(rid, str) or not re.fullmatch(r"[a-zA-Z0-9_.]{3,64}", rid):
                    raise bad(f"The role ID \"{rid}\" is invalid: it must match ^[a-zA-Z0-9_.]{{3,64}}$.")
                key = f"projects/{pid}/roles/{rid}"
                cur = st.get(key)
                if cur:
                    if cur["body"].get("deleted"):
                        raise exists(f"A role named {rid} in projects/{pid} was deleted and its ID cannot be reused yet; undelete it instead.")
                    raise exists(f"A role named {rid} in projects/{pid} already exists.")
                role = self.check_role(copy.deepcopy(body.get("role") or {}))
                role.update(name=key, etag=etag_of([role, time.time()]))
                st.put("iam", "iam#role", key, role)
                return 200, copy.deepcopy(role)
            self.app.authz(ctx, "iam.roles.list", f"projects/{pid}", pid)
            return 200, {"roles": [copy.deepcopy(r["body"]) for k, r in st.resources.items()
                                   if r["kind"] == "iam#role" and k.startswith(f"projects/{pid}/") and (not r["body"].get("deleted") or query.get("showDeleted") == "true")]}
        key = f"projects/{pid}/roles/{rid}"
        perm = {"GET": "iam.roles.get", "PATCH": "iam.roles.update", "DELETE": "iam.roles.delete", "POST": "iam.roles.undelete"}[method]
        self.app.authz(ctx, perm, key, pid)
        rec = st.get(key)
        if rec is None:
            raise not_found(f"The role named {rid} was not found in projects/{pid}.")
        r = rec["body"]
        if method == "GET":
            return 200, copy.deepcopy(r)
        if method == "DELETE":
            # https://cloud.google.com/iam/docs/reference/rest/v1/projects.roles/delete (soft)
            if r.get("deleted"):
                raise bad(f"The role {key} is already deleted.", status="FAILED_PRECONDITION")
            r["deleted"] = True
            r["etag"] = etag_of([r, time.time()])
            return 200, copy.deepcopy(r)
        if method == "POST" and verb == "undelete":
            if not r.get("deleted"):
                raise bad(f"The role {key} is not deleted.", status="FAILED_PRECONDITION")
            if body.get("etag") and body["etag"] != r["etag"]:
                raise ApiError(409, "The etag does not match the role's.", status="ABORTED", reason="aborted")
            r.pop("deleted")
            r["etag"] = etag_of([r, time.time()])
            return 200, copy.deepcopy(r)
        if method == "PATCH":
            # https://cloud.google.com/iam/docs/reference/rest/v1/projects.roles/patch
            if r.get("deleted"):
                raise bad(f"You can't update the deleted role {key}; undelete it first.", status="FAILED_PRECONDITION")
            if body.get("etag") and body["etag"] != r["etag"]:
                raise ApiError(409, "There were concurrent changes to the role. Retry the read-modify-write.", status="ABORTED", reason="aborted")
            mask = split_mask(query.get("updateMask")) or ["title", "description", "includedPermissions", "stage"]
            upd = self.check_role(merge_patch(r, {f: body.get(f) for f in mask}))
            for f in mask:
                if f not in ("title", "description", "includedPermissions", "stage"):
                    raise bad(f"Invalid update mask path \"{f}\".")
                if f in upd:
                    r[f] = upd[f]
                else:
                    r.pop(f, None)
            r["etag"] = etag_of([r, time.time()])
            return 200, copy.deepcopy(r)
        raise not_found("Not found.")

    def check_role(self, role):
        if len(role.get("title") or "") > 100 or len(role.get("description") or "") > 300:
            raise bad("The role title must be at most 100 characters and the description at most 300.")
        role["stage"] = enum(role.get("stage"), "iam.stage", "role.stage", "ALPHA")
        perms = role.get("includedPermissions") or []
        if len(perms) > 3000:
            raise bad("A custom role can include at most 3000 permissions.")
        for p in perms:
            m = re.fullmatch(r"([a-z][a-zA-Z0-9]*)\.([a-zA-Z][a-zA-Z0-9]*)\.([a-zA-Z][a-zA-Z0-9]*)", str(p))
            if not m or m.group(1) not in KNOWN_PERMISSION_SERVICES:
                raise bad(f"Permission {p} is not valid.")
            if m.group(1) == "resourcemanager" and m.group(2) in ("organizations", "folders"):
                raise bad(f"Permission {p} is not valid: it cannot be used in project-level custom roles.")
        if len(set(perms)) != len(perms):
            role["includedPermissions"] = sorted(set(perms))
        return role

    def wif(self, ctx, method, rest, pid, pool, pverb, is_prov, prov, prov_verb, opid, query, body):
        st = self.state
        num = st.number(pid)
        base = f"projects/{pid}/locations/global/workloadIdentityPools"
        if opid:
            key = f"projects/{pid}/locations/global/workloadIdentityPools/{pool}" + (f"/providers/{prov}" if is_prov else "") + f"/operations/{opid}"
            self.app.authz(ctx, "iam.workloadIdentityPools.get", key, pid)
            return 200, self.poll_lro(key)
        idre = r"[a-z0-9-]{4,32}"
        if not is_prov:
            if pool is None:
                if method == "POST":
                    self.app.authz(ctx, "iam.workloadIdentityPools.create", f"projects/{pid}/locations/global", pid)
                    pool = query.get("workloadIdentityPoolId")
                    if not pool or not re.fullmatch(idre, pool) or pool.startswith("gcp-") or pool.startswith("-") or pool.endswith("-"):
                        raise bad(f"Invalid workloadIdentityPoolId \"{pool}\": 4-32 characters of lowercase letters, digits and hyphens, not starting with gcp-.")
                    key = f"{base}/{pool}"
                    if st.get(key):
                        raise ApiError(409, "Requested entity already exists")
                    self.check_pool(body)
                    b = {"name": f"projects/{num}/locations/global/workloadIdentityPools/{pool}", "displayName": body.get("displayName", ""),
                         "description": body.get("description", ""), "state": "ACTIVE", "disabled": bool(body.get("disabled", False)),
                         "mode": "FEDERATION_ONLY"}
                    st.put("iam", "iam#workloadIdentityPool", key, b)
                    return 200, self.lro(key, lambda: copy.deepcopy(b))
                self.app.authz(ctx, "iam.workloadIdentityPools.list", f"projects/{pid}/locations/global", pid)
                return 200, {"workloadIdentityPools": [copy.deepcopy(r["body"]) for k, r in st.resources.items()
                                                       if r["kind"] == "iam#workloadIdentityPool" and k.startswith(base + "/")]}
            key = f"{base}/{pool}"
            perm = {"GET": "get", "PATCH": "update", "DELETE": "delete", "POST": "undelete"}[method]
            self.app.authz(ctx, f"iam.workloadIdentityPools.{perm}", key, pid)
            rec = st.get(key)
            if rec is None:
                raise not_found("Requested entity was not found.")
            return self.wif_mutate(method, pverb, key, rec, query, body, ("displayName", "description", "disabled"), self.check_pool)
        pkey = f"{base}/{pool}"
        prec = st.get(pkey)
        if prov is None:
            if method == "POST":
                self.app.authz(ctx, "iam.workloadIdentityPoolProviders.create", pkey, pid)
                if prec is None:
                    raise not_found("Requested entity was not found.")
                if prec["body"]["state"] == "DELETED":
                    raise bad("The workload identity pool is deleted.", status="FAILED_PRECONDITION")
                prov = query.get("workloadIdentityPoolProviderId")
                if not prov or not re.fullmatch(idre, prov) or prov.startswith("gcp-"):
                    raise bad(f"Invalid workloadIdentityPoolProviderId \"{prov}\": 4-32 characters of lowercase letters, digits and hyphens, not starting with gcp-.")
                key = f"{pkey}/providers/{prov}"
                if st.get(key):
                    raise ApiError(409, "Requested entity already exists")
                b = copy.deepcopy(body)
                self.check_provider(b)
                b.update(name=f"projects/{num}/locations/global/workloadIdentityPools/{pool}/providers/{prov}", state="ACTIVE",
                         disabled=bool(b.get("disabled", False)))
                st.put("iam", "iam#workloadIdentityPoolProvider", key, b)
                return 200, self.lro(key, lambda: copy.deepcopy(b))
            self.app.authz(ctx, "iam.workloadIdentityPoolProviders.list", pkey, pid)
            return 200, {"workloadIdentityPoolProviders": [copy.deepcopy(r["body"]) for k, r in st.resources.items()
                                                           if r["kind"] == "iam#workloadIdentityPoolProvider" and k.startswith(pkey + "/providers/")]}
        key = f"{pkey}/providers/{prov}"
        perm = {"GET": "get", "PATCH": "update", "DELETE": "delete", "POST": "undelete"}[method]
        self.app.authz(ctx, f"iam.workloadIdentityPoolProviders.{perm}", key, pid)
        rec = st.get(key)
        if rec is None:
            raise not_found("Requested entity was not found.")
        return self.wif_mutate(method, prov_verb, key, rec, query, body,
                               ("displayName", "description", "disabled", "attributeMapping", "attributeCondition", "aws"), self.check_provider)

    def wif_mutate(self, method, verb, key, rec, query, body, fields, check):
        b = rec["body"]
        if method == "GET":
            return 200, copy.deepcopy(b)
        if method == "DELETE":
            if b["state"] == "DELETED":
                raise bad("The resource is already deleted.", status="FAILED_PRECONDITION")
            b["state"] = "DELETED"
            b["expireTime"] = rfc3339(utcnow() + timedelta(days=30))
            return 200, self.lro(key, lambda: copy.deepcopy(b))
        if method == "POST" and verb == "undelete":
            if b["state"] != "DELETED":
                raise bad("The resource is not deleted.", status="FAILED_PRECONDITION")
            b["state"] = "ACTIVE"
            b.pop("expireTime", None)
            return 200, self.lro(key, lambda: copy.deepcopy(b))
        if method == "PATCH":
            if b["state"] == "DELETED":
                raise bad("Cannot update a deleted resource.", status="FAILED_PRECONDITION")
            mask = split_mask(query.get("updateMask"))
            if not mask:
                raise bad("updateMask is required.")
            new = copy.deepcopy(b)
            for f in mask:
                top = f.split(".")[0]
                if top not in fields:
                    raise bad(f"Invalid update mask path \"{f}\".")
                if top in body:
                    new[top] = copy.deepcopy(body[top])
                else:
                    new.pop(top, None)
            check(new)
            rec["body"] = new
            return 200, self.lro(key, lambda: copy.deepcopy(rec["body"]))
        raise not_found("Not found.")

    def check_pool(self, b):
        if len(b.get("displayName") or "") > 32:
            raise bad("displayName must be at most 32 characters.")
        if len(b.get("description") or "") > 256:
            raise bad("description must be at most 256 characters.")

    def check_provider(self, b):
        # https://cloud.google.com/iam/docs/workload-identity-federation-with-other-clouds#aws
        self.check_pool(b)
        kinds = [k for k in ("aws", "oidc", "saml", "x509") if b.get(k)]
        if len(kinds) != 1:
            raise bad("Exactly one of aws, oidc, saml or x509 must be set.")
        if b.get("aws") and not re.fullmatch(r"\d{12}", str(b["aws"].get("accountId", ""))):
            raise bad(f"aws.accountId \"{b['aws'].get('accountId')}\" must be a 12-digit AWS account ID.")
        mapping = b.get("attributeMapping")
        if mapping is None and b.get("aws"):
            mapping = b["attributeMapping"] = {"google.subject": "assertion.arn",
                                               "attribute.aws_role": "assertion.arn.contains('assumed-role') ? assertion.arn.extract('{account_arn}assumed-role/') + 'assumed-role/' + assertion.arn.extract('assumed-role/{role_name}/') : assertion.arn"}
        if not isinstance(mapping, dict) or "google.subject" not in mapping:
            raise bad("attributeMapping must contain a mapping for google.subject.")
        for k, expr in mapping.items():
            if not re.fullmatch(r"google\.(subject|groups|display_name|profile_photo|posix_username)|attribute\.[a-z_][a-z0-9_]{0,99}", k):
                raise bad(f"Invalid attribute mapping key \"{k}\".")
            try:
                gcpcel.compile_expr(expr)
            except gcpcel.CelError as e:
                raise bad(f"Invalid attribute mapping for \"{k}\": {e}")
        cond = b.get("attributeCondition")
        if cond:
            try:
                gcpcel.compile_expr(cond)
            except gcpcel.CelError as e:
                raise bad(f"The attribute condition must be a valid CEL expression: {e}")
            for a in re.findall(r"attribute\.([a-z_][a-z0-9_]*)", cond):
                if f"attribute.{a}" not in mapping:
                    raise bad(f"The attribute condition references attribute.{a}, which the attribute mapping does not define.")


# ---------------------------------------------------------------------------------------
# Cloud KMS
# https://cloud.google.com/kms/docs/reference/rest/v1/projects.locations.keyRings
# https://cloud.google.com/kms/docs/reference/rest/v1/projects.locations.keyRings.cryptoKeys
# https://cloud.google.com/kms/docs/reference/rest/v1/projects.locations.keyRings.cryptoKeys.cryptoKeyVersions/destroy
# Key rings and keys cannot be deleted (no DELETE method).
# ---------------------------------------------------------------------------------------

KMS_LOCATIONS_RE = re.compile(r"global|us|eu|asia|nam\d+|eur\d+|[a-z]+-[a-z]+\d")


class KmsApi:
    def __init__(self, app):
        self.app, self.state = app, app.state

    def handle(self, ctx, method, rest, query, body):
        st = self.state
        body = body or {}
        m = re.fullmatch(r"projects/([^/]+)/locations/([^/]+)/keyRings(?:/([^/:]+))?(?::(\w+))?"
                         r"(?:/cryptoKeys(?:/([^/:]+))?(?::(\w+))?)?(?:/cryptoKeyVersions(?:/([^/:]+))?(?::(\w+))?)?", rest)
        if not m:
            raise not_found(f"Not found: /v1/{rest}")
        pid, loc = st.project_id(m.group(1)), m.group(2)
        ring, rverb, key, kverb, ver, vverb = m.group(3), m.group(4), m.group(5), m.group(6), m.group(7), m.group(8)
        if not KMS_LOCATIONS_RE.fullmatch(loc):
            raise bad(f"Invalid location \"{loc}\".")
        parent = f"projects/{pid}/locations/{loc}"
        with st.lock:
            if ring is None:
                if method == "POST":
                    self.app.authz(ctx, "cloudkms.keyRings.create", parent, pid)
                    rid = query.get("keyRingId")
                    if not rid or not re.fullmatch(r"[a-zA-Z0-9_-]{1,63}", rid):
                        raise bad(f"Invalid keyRingId \"{rid}\": must match [a-zA-Z0-9_-]{{1,63}}.")
                    name = f"{parent}/keyRings/{rid}"
                    if st.get(name):
                        raise exists(f"KeyRing {name} already exists.")
                    b = {"name": name, "createTime": nanos_rfc3339()}
                    st.put("cloudkms", "kms#keyRing", name, b)
                    return 200, copy.deepcopy(b)
                if method == "GET":
                    self.app.authz(ctx, "cloudkms.keyRings.list", parent, pid)
                    rings = [copy.deepcopy(r["body"]) for k, r in st.resources.items() if r["kind"] == "kms#keyRing" and k.startswith(parent + "/")]
                    return 200, {"keyRings": rings, "totalSize": len(rings)}
                raise ApiError(405, "Method not allowed.")
            rname = f"{parent}/keyRings/{ring}"
            if "/cryptoKeys" not in rest:
                if method != "GET" or rverb:
                    raise ApiError(405 if not rverb else 404, "Key rings cannot be deleted or modified." if not rverb else "Not found.")
                self.app.authz(ctx, "cloudkms.keyRings.get", rname, pid, extra=[st.policies.get(rname)])
                rec = st.get(rname)
                if rec is None:
                    raise not_found(f"KeyRing {rname} not found.")
                return 200, copy.deepcopy(rec["body"])
            if st.get(rname) is None:
                self.app.authz(ctx, "cloudkms.keyRings.get", rname, pid)
                raise not_found(f"KeyRing {rname} not found.")
            if key is None:
                if method == "POST":
                    self.app.authz(ctx, "cloudkms.cryptoKeys.create", rname, pid, extra=[st.policies.get(rname)])
                    return 200, self.create_key(rname, loc, query, body)
                self.app.authz(ctx, "cloudkms.cryptoKeys.list", rname, pid, extra=[st.policies.get(rname)])
                keys = [copy.deepcopy(r["body"]) for k, r in st.resources.items() if r["kind"] == "kms#cryptoKey" and k.startswith(rname + "/cryptoKeys/")]
                return 200, {"cryptoKeys": keys, "totalSize": len(keys)}
            kname = f"{rname}/cryptoKeys/{key}"
            pols = [st.policies.get(rname), st.policies.get(kname)]
            krec = st.get(kname)
            if "/cryptoKeyVersions" in rest:
                # https://cloud.google.com/kms/docs/reference/rest/v1/projects.locations.keyRings.cryptoKeys.cryptoKeyVersions/create
                # A new version is ENABLED and, for a symmetric key, not made primary.
                if ver is None and method == "POST":
                    self.app.authz(ctx, "cloudkms.cryptoKeyVersions.create", kname, pid, extra=pols)
                    if krec is None:
                        raise not_found(f"CryptoKey {kname} not found.")
                    numbers = [int(k.rsplit("/", 1)[1]) for k, r in st.resources.items() if r["kind"] == "kms#cryptoKeyVersion" and k.startswith(kname + "/cryptoKeyVersions/")]
                    vname = f"{kname}/cryptoKeyVersions/{max(numbers, default=0) + 1}"
                    v = {"name": vname, "state": "ENABLED", "createTime": nanos_rfc3339(utcnow()),
                         "protectionLevel": krec["body"].get("versionTemplate", {}).get("protectionLevel", "SOFTWARE"),
                         "algorithm": krec["body"].get("versionTemplate", {}).get("algorithm", "GOOGLE_SYMMETRIC_ENCRYPTION")}
                    st.put("cloudkms", "kms#cryptoKeyVersion", vname, v)
                    return 200, copy.deepcopy(v)
                if ver is None:
                    self.app.authz(ctx, "cloudkms.cryptoKeyVersions.list", kname, pid, extra=pols)
                    if krec is None:
                        raise not_found(f"CryptoKey {kname} not found.")
                    vs = [copy.deepcopy(r["body"]) for k, r in sorted(st.resources.items(), key=lambda x: int(x[0].rsplit("/", 1)[1]) if x[0].rsplit("/", 1)[1].isdigit() else 0)
                          if r["kind"] == "kms#cryptoKeyVersion" and k.startswith(kname + "/cryptoKeyVersions/")]
                    return 200, {"cryptoKeyVersions": vs, "totalSize": len(vs)}
                vname = f"{kname}/cryptoKeyVersions/{ver}"
                perm = {"destroy": "cloudkms.cryptoKeyVersions.destroy", "restore": "cloudkms.cryptoKeyVersions.restore", None: "cloudkms.cryptoKeyVersions.get"}.get(vverb)
                if perm is None or (vverb and method != "POST") or (not vverb and method != "GET"):
                    raise ApiError(405, "Method not allowed.")
                self.app.authz(ctx, perm, vname, pid, extra=pols)
                vrec = st.get(vname)
                if vrec is None:
                    raise not_found(f"CryptoKeyVersion {vname} not found.")
                v = vrec["body"]
                if vverb == "destroy":
                    if v["state"] not in ("ENABLED", "DISABLED"):
                        raise bad(f"CryptoKeyVersion {vname} is not in state ENABLED or DISABLED (it is {v['state']}).", status="FAILED_PRECONDITION")
                    v["state"] = "DESTROY_SCHEDULED"
                    v["destroyTime"] = nanos_rfc3339(utcnow() + timedelta(seconds=parse_duration(krec["body"].get("destroyScheduledDuration", "2592000s"), "x")))
                    if krec["body"].get("primary", {}).get("name") == vname:
                        krec["body"]["primary"] = copy.deepcopy(v)
                elif vverb == "restore":
                    if v["state"] != "DESTROY_SCHEDULED":
                        raise bad(f"CryptoKeyVersion {vname} is not in state DESTROY_SCHEDULED.", status="FAILED_PRECONDITION")
                    v["state"] = "DISABLED"
                    v.pop("destroyTime", None)
                return 200, copy.deepcopy(v)
            perm = {("GET", None): "cloudkms.cryptoKeys.get", ("PATCH", None): "cloudkms.cryptoKeys.update",
                    ("GET", "getIamPolicy"): "cloudkms.cryptoKeys.getIamPolicy", ("POST", "setIamPolicy"): "cloudkms.cryptoKeys.setIamPolicy",
                    ("POST", "updatePrimaryVersion"): "cloudkms.cryptoKeys.update"}.get((method, kverb))
            if perm is None:
                raise ApiError(405, f"Method {method} is not allowed on crypto keys (keys cannot be deleted).", reason="httpMethodNotAllowed")
            self.app.authz(ctx, perm, kname, pid, extra=pols)
            if krec is None:
                raise not_found(f"CryptoKey {kname} not found.")
            if kverb == "getIamPolicy":
                return 200, read_policy(st.policies.get(kname), query.get("options.requestedPolicyVersion"))
            if kverb == "setIamPolicy":
                return 200, set_policy(self.app, kname, body.get("policy"), st.policies.get(kname), body.get("updateMask"), pid=pid)
            if kverb == "updatePrimaryVersion":
                # https://cloud.google.com/kms/docs/reference/rest/v1/projects.locations.keyRings.cryptoKeys/updatePrimaryVersion
                vrec = st.get(f"{kname}/cryptoKeyVersions/{body.get('cryptoKeyVersionId')}")
                if vrec is None:
                    raise not_found(f"CryptoKeyVersion {kname}/cryptoKeyVersions/{body.get('cryptoKeyVersionId')} not found.")
                if vrec["body"]["state"] != "ENABLED":
                    raise bad("The primary version must be ENABLED.", status="FAILED_PRECONDITION")
                krec["body"]["primary"] = copy.deepcopy(vrec["body"])
                return 200, copy.deepcopy(krec["body"])
            if method == "GET":
                return 200, copy.deepcopy(krec["body"])
            return 200, self.patch_key(krec, query, body)

    def check_key(self, k):
        k["purpose"] = enum(k.get("purpose"), "kms.purpose", "crypto_key.purpose", "CRYPTO_KEY_PURPOSE_UNSPECIFIED")
        if k["purpose"] == "CRYPTO_KEY_PURPOSE_UNSPECIFIED":
            raise bad("CryptoKey.purpose is required.")
        vt = k.setdefault("versionTemplate", {})
        vt["algorithm"] = enum(vt.get("algorithm"), "kms.algorithm", "crypto_key.version_template.algorithm",
                               "GOOGLE_SYMMETRIC_ENCRYPTION" if k["purpose"] == "ENCRYPT_DECRYPT" else None)
        vt["protectionLevel"] = enum(vt.get("protectionLevel"), "kms.protectionLevel", "crypto_key.version_template.protection_level", "SOFTWARE")
        if k["purpose"] == "ENCRYPT_DECRYPT" and vt["algorithm"] != "GOOGLE_SYMMETRIC_ENCRYPTION":
            raise bad(f"Algorithm {vt['algorithm']} is not compatible with purpose ENCRYPT_DECRYPT.")
        if k.get("rotationPeriod") is not None:
            if k["purpose"] != "ENCRYPT_DECRYPT":
                raise bad("rotationPeriod may only be set on ENCRYPT_DECRYPT keys.")
            secs = parse_duration(k["rotationPeriod"], "crypto_key.rotation_period")
            if secs < 86400 or secs > 876000 * 3600:
                raise bad("The rotation period must be at least 24 hours and at most 876,000 hours.")
            # "If rotation_period is set, next_rotation_time must also be set." (CryptoKey.rotation_period)
            if not k.get("nextRotationTime"):
                raise bad("next_rotation_time must be set when rotation_period is set.")
        if k.get("nextRotationTime"):
            if parse_time(k["nextRotationTime"], "crypto_key.next_rotation_time") < utcnow():
                raise bad("next_rotation_time must be in the future.")
        validate_labels(k.get("labels"))
        return k

    def create_key(self, rname, loc, query, body):
        st = self.state
        kid = query.get("cryptoKeyId")
        if not kid or not re.fullmatch(r"[a-zA-Z0-9_-]{1,63}", kid):
            raise bad(f"Invalid cryptoKeyId \"{kid}\": must match [a-zA-Z0-9_-]{{1,63}}.")
        kname = f"{rname}/cryptoKeys/{kid}"
        if st.get(kname):
            raise exists(f"CryptoKey {kname} already exists.")
        k = self.check_key(copy.deepcopy(body))
        k.update(name=kname, createTime=nanos_rfc3339())
        k.setdefault("destroyScheduledDuration", "2592000s")
        st.put("cloudkms", "kms#cryptoKey", kname, k)
        if query.get("skipInitialVersionCreation") != "true":
            vname = f"{kname}/cryptoKeyVersions/1"
            v = {"name": vname, "state": "ENABLED", "protectionLevel": k["versionTemplate"]["protectionLevel"],
                 "algorithm": k["versionTemplate"]["algorithm"], "createTime": nanos_rfc3339(), "generateTime": nanos_rfc3339()}
            st.put("cloudkms", "kms#cryptoKeyVersion", vname, v)
            if k["purpose"] == "ENCRYPT_DECRYPT":
                k["primary"] = copy.deepcopy(v)
        return copy.deepcopy(k)

    def patch_key(self, krec, query, body):
        # https://cloud.google.com/kms/docs/reference/rest/v1/projects.locations.keyRings.cryptoKeys/patch
        mask = split_mask(query.get("updateMask"))
        if not mask:
            raise bad("updateMask is required.")
        k = copy.deepcopy(krec["body"])
        for f in mask:
            top = f.split(".")[0]
            if top not in ("labels", "rotationPeriod", "nextRotationTime", "versionTemplate", "primary", "keyAccessJustificationsPolicy"):
                raise bad(f"Invalid update mask path \"{f}\": the field cannot be updated.")
            if f == "versionTemplate.protectionLevel" or (top == "versionTemplate" and "protectionLevel" in (body.get("versionTemplate") or {})
                                                          and enum(body["versionTemplate"]["protectionLevel"], "kms.protectionLevel", "x") != k["versionTemplate"]["protectionLevel"]):
                raise bad("versionTemplate.protectionLevel cannot be changed.")
            if top in body:
                k[top] = merge_patch(k.get(top), body[top]) if top == "versionTemplate" else copy.deepcopy(body[top])
            else:
                k.pop(top, None)
        krec["body"] = self.check_key(k)
        return copy.deepcopy(krec["body"])


# ---------------------------------------------------------------------------------------
# Cloud Storage (JSON API)
# https://cloud.google.com/storage/docs/json_api/v1/buckets (insert, get, patch, delete)
# https://cloud.google.com/storage/docs/json_api/v1/buckets/getIamPolicy, setIamPolicy
# https://cloud.google.com/storage/docs/json_api/v1/objects (list, delete, insert/media)
# https://cloud.google.com/storage/docs/json_api/v1/objects/get (alt=media: the bytes, with
#   x-goog-generation)
# https://cloud.google.com/storage/docs/request-preconditions (ifGenerationMatch: 0 = no live
#   object; a mismatch is 412 conditionNotMet)
# https://cloud.google.com/storage/docs/buckets#naming (bucket names)
# ---------------------------------------------------------------------------------------

GCS_LOCATIONS = {"US", "EU", "ASIA", "NAM4", "EUR4", "ASIA1", "EUR5", "EUR7", "EUR8"}


class StorageApi:
    def __init__(self, app):
        self.app, self.state = app, app.state

    def check_name(self, name):
        ok = isinstance(name, str) and re.fullmatch(r"[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]", name or "")
        if ok and "." not in name and len(name) > 63:
            ok = False
        if ok and (any(len(p) > 63 for p in name.split(".")) or name.startswith("goog") or "google" in name or "g00gle" in name
                   or re.fullmatch(r"\d+\.\d+\.\d+\.\d+", name) or ".." in name or "-." in name or ".-" in name):
            ok = False
        if not ok:
            raise bad(f"Invalid bucket name: '{name}'", reason="invalid")

    def check_bucket(self, b, old=None):
        st = self.state
        loc = str(b.get("location") or "US").upper()
        if loc not in GCS_LOCATIONS and not re.fullmatch(r"[A-Z]+-[A-Z]+\d", loc):
            raise bad(f"Invalid location: '{b.get('location')}'", reason="invalid")
        if old is not None and loc != old["location"]:
            raise bad("The location of a bucket cannot be changed.", reason="invalid")
        b["location"] = loc
        b["locationType"] = "multi-region" if loc in GCS_LOCATIONS else "region"
        sc = b.setdefault("storageClass", "STANDARD")
        if sc not in ("STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE", "MULTI_REGIONAL", "REGIONAL", "DURABLE_REDUCED_AVAILABILITY"):
            raise bad(f"Invalid storage class: '{sc}'", reason="invalid")
        ic = b.setdefault("iamConfiguration", {})
        pap = ic.setdefault("publicAccessPrevention", "inherited")
        if pap not in ("enforced", "inherited"):
            raise bad(f"Invalid value for publicAccessPrevention: '{pap}'. Allowed values: enforced, inherited.", reason="invalid")
        ubla = ic.setdefault("uniformBucketLevelAccess", {"enabled": False})
        if ubla.get("enabled") and "lockedTime" not in ubla:
            ubla["lockedTime"] = rfc3339(utcnow() + timedelta(days=90))
        ic["bucketPolicyOnly"] = copy.deepcopy(ubla)
        validate_labels(b.get("labels"))
        enc = b.get("encryption") or {}
        if enc.get("defaultKmsKeyName"):
            kn = enc["defaultKmsKeyName"]
            km = re.fullmatch(r"projects/([^/]+)/locations/([^/]+)/keyRings/[^/]+/cryptoKeys/[^/]+", kn)
            if not km or st.get(canonical_project_path(st, kn)) is None:
                raise bad(f"The specified Cloud KMS key '{kn}' does not exist.", reason="invalid")
            kloc = km.group(2).upper()
            if kloc != loc and not (kloc == "GLOBAL" and False):
                # https://cloud.google.com/storage/docs/encryption/customer-managed-keys#key-restrictions
                raise bad(f"The Cloud KMS key location '{km.group(2)}' must match the bucket location '{loc}'.", reason="invalid")
        for i, c in enumerate(b.get("cors") or []):
            if not isinstance(c.get("origin", []), list) or not isinstance(c.get("method", []), list):
                raise bad(f"Invalid cors[{i}]: origin and method must be lists.", reason="invalid")
            for mth in c.get("method", []):
                if mth not in ("GET", "PUT", "POST", "DELETE", "HEAD", "PATCH", "OPTIONS", "*"):
                    raise bad(f"Invalid cors[{i}].method: '{mth}'", reason="invalid")
        v = b.get("versioning")
        if v is not None and not isinstance(v.get("enabled", False), bool):
            raise bad("Invalid versioning.enabled.", reason="invalid")
        return b

    def policy_of(self, name, pid):
        key = f"b/{name}"
        pol = self.state.policies.get(key)
        if pol is None:
            pol = {"version": 1, "bindings": [
                {"role": "roles/storage.legacyBucketOwner", "members": [f"projectEditor:{pid}", f"projectOwner:{pid}"]},
                {"role": "roles/storage.legacyBucketReader", "members": [f"projectViewer:{pid}"]}]}
            pol["etag"] = "CAE="
            self.state.policies[key] = pol
        return pol

    def objects(self, bucket):
        pre = f"b/{bucket}/o/"
        return {k: r for k, r in self.state.resources.items() if k.startswith(pre)}

    def handle(self, ctx, method, rest, query, body, raw, upload):
        st = self.state
        with st.lock:
            if upload:
                m = re.fullmatch(r"b/([^/]+)/o", rest)
                if not m or method != "POST":
                    raise not_found("Not Found")
                return self.upload(ctx, m.group(1), query, raw)
            if rest == "b":
                if method == "POST":
                    return self.insert(ctx, query, body or {})
                pid = st.project_id(query.get("project", ""))
                self.app.authz(ctx, "storage.buckets.list", f"projects/{pid}", pid)
                return 200, {"kind": "storage#buckets", "items": [copy.deepcopy(r["body"]) for k, r in st.resources.items()
                                                                  if r["kind"] == "storage#bucket" and r["body"]["projectNumber"] == st.number(pid)]}
            m = re.fullmatch(r"b/([^/]+)(?:/(iam|o)(?:/(.+))?)?", rest)
            if not m:
                raise not_found("Not Found")
            bname, sub, obj = m.group(1), m.group(2), m.group(3)
            rec = st.get(f"b/{bname}")
            pid = st.project_id(rec["body"]["_project"]) if rec else None
            rname = f"projects/_/buckets/{bname}"
            pol = self.state.policies.get(f"b/{bname}")
            if sub is None:
                perm = {"GET": "storage.buckets.get", "PATCH": "storage.buckets.update", "PUT": "storage.buckets.update",
                        "DELETE": "storage.buckets.delete"}.get(method)
                if perm is None:
                    raise ApiError(405, "Method not allowed.")
                if rec is None:
                    raise not_found("The specified bucket does not exist.")
                self.app.authz(ctx, perm, rname, pid, extra=[pol])
                b = rec["body"]
                if "ifMetagenerationMatch" in query and query["ifMetagenerationMatch"] != b["metageneration"]:
                    raise ApiError(412, "Precondition Failed", reason="conditionNotMet")
                if method == "GET":
                    return 200, self.public(b)
                if method == "DELETE":
                    if self.objects(bname):
                        raise ApiError(409, "The bucket you tried to delete is not empty.", status="FAILED_PRECONDITION", reason="conflict")
                    st.delete(f"b/{bname}")
                    return 204, None
                patch = body or {}
                if "name" in patch and patch["name"] != bname:
                    raise bad("The bucket name cannot be changed.", reason="invalid")
                new = merge_patch(b, patch) if method == "PATCH" else {**{k: b[k] for k in b if k.startswith("_") or k in ("name", "location", "projectNumber", "timeCreated", "id")}, **patch}
                new = self.check_bucket(new, old=b)
                new["metageneration"] = str(int(b["metageneration"]) + 1)
                new["updated"] = rfc3339()
                new["etag"] = etag_of([new, time.time()])
                rec["body"] = new
                return 200, self.public(new)
            if rec is None:
                raise not_found("The specified bucket does not exist.")
            if sub == "iam":
                if method == "GET":
                    self.app.authz(ctx, "storage.buckets.getIamPolicy", rname, pid, extra=[pol])
                    p = read_policy(self.policy_of(bname, pid), query.get("optionsRequestedPolicyVersion"))
                    return 200, {"kind": "storage#policy", "resourceId": rname, **p}
                if method == "PUT":
                    self.app.authz(ctx, "storage.buckets.setIamPolicy", rname, pid, extra=[pol])
                    new = body or {}
                    if any(bd.get("condition") for bd in new.get("bindings", [])) and not rec["body"]["iamConfiguration"]["uniformBucketLevelAccess"].get("enabled"):
                        raise bad("IAM conditions require uniform bucket-level access on the bucket.", reason="invalid")
                    p = set_policy(self.app, f"b/{bname}", {k: v for k, v in new.items() if k not in ("kind", "resourceId")},
                                   self.policy_of(bname, pid), "bindings,etag", conflict_code=412, pid=pid)
                    return 200, {"kind": "storage#policy", "resourceId": rname, **p}
                raise ApiError(405, "Method not allowed.")
            if obj is None:
                self.app.authz(ctx, "storage.objects.list", rname, pid, extra=[pol],
                               api={"storage.googleapis.com/objectListPrefix": query.get("prefix", "")})
                items = []
                for k, r in sorted(self.objects(bname).items()):
                    o = r["body"]
                    if not o["name"].startswith(query.get("prefix", "")):
                        continue
                    if query.get("versions") != "true" and o.get("timeDeleted"):
                        continue
                    items.append(self.public(o))
                return 200, {"kind": "storage#objects", "items": items}
            oname = urllib.parse.unquote(obj)
            if method not in ("GET", "DELETE"):
                raise ApiError(405, "Method not allowed.")
            self.precondition(bname, oname, query)
            self.app.authz(ctx, "storage.objects.delete" if method == "DELETE" else "storage.objects.get",
                           f"{rname}/objects/{oname}", pid, extra=[pol])
            versions = {k: r for k, r in self.objects(bname).items() if r["body"]["name"] == oname}
            gen = query.get("generation")
            if gen:
                target = [k for k, r in versions.items() if r["body"]["generation"] == gen]
            else:
                target = [k for k, r in versions.items() if not r["body"].get("timeDeleted")]
            if not target:
                raise not_found(f"No such object: {bname}/{oname}")
            if method == "GET":
                o = st.get(target[0])["body"]
                if query.get("alt") == "media":
                    return 200, Media(base64.b64decode(o.get("_data", "")), {"x-goog-generation": o["generation"], "Content-Type": o["contentType"]})
                return 200, self.public(o)
            k = target[0]
            if not gen and rec["body"].get("versioning", {}).get("enabled"):
                st.get(k)["body"]["timeDeleted"] = rfc3339()  # becomes noncurrent
            else:
                st.delete(k)
            return 204, None

    def public(self, b):
        return {k: copy.deepcopy(v) for k, v in b.items() if not k.startswith("_")}

    def precondition(self, bname, oname, query):
        """`ifGenerationMatch`: the live object's generation must be this one; 0 means no
        live object may exist."""
        want = query.get("ifGenerationMatch")
        if want is None:
            return
        if not re.fullmatch(r"\d+", want):
            raise bad(f"Invalid argument for ifGenerationMatch: '{want}'", reason="invalid")
        live = [r["body"]["generation"] for r in self.objects(bname).values() if r["body"]["name"] == oname and not r["body"].get("timeDeleted")]
        if (live[0] if live else "0") != want:
            raise ApiError(412, "At least one of the pre-conditions you specified did not hold.", reason="conditionNotMet")

    def insert(self, ctx, query, body):
        st = self.state
        if not query.get("project"):
            raise bad("Required parameter: project", reason="required")
        pid = st.project_id(query["project"])
        self.app.authz(ctx, "storage.buckets.create", f"projects/{pid}", pid)
        name = body.get("name")
        self.check_name(name)
        if st.get(f"b/{name}"):
            if st.get(f"b/{name}")["body"]["_project"] == pid:
                raise ApiError(409, "Your previous request to create the named bucket succeeded and you already own it.", reason="conflict")
            raise ApiError(409, "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.", reason="conflict")
        b = self.check_bucket(copy.deepcopy(body))
        t = rfc3339()
        b.update(kind="storage#bucket", id=name, name=name, selfLink=f"https://www.googleapis.com/storage/v1/b/{name}",
                 projectNumber=st.number(pid), metageneration="1", timeCreated=t, updated=t, etag="CAE=", _project=pid,
                 rpo="DEFAULT", softDeletePolicy={"retentionDurationSeconds": "604800", "effectiveTime": t})
        st.put("storage", "storage#bucket", f"b/{name}", b)
        return 200, self.public(b)

    def upload(self, ctx, bname, query, raw):
        st = self.state
        rec = st.get(f"b/{bname}")
        if rec is None:
            raise not_found("The specified bucket does not exist.")
        if query.get("uploadType") != "media" or not query.get("name"):
            raise bad("Upload requests must specify uploadType=media and name.", reason="invalid")
        name = query["name"]
        pid = rec["body"]["_project"]
        self.app.authz(ctx, "storage.objects.create", f"projects/_/buckets/{bname}/objects/{name}", pid, extra=[st.policies.get(f"b/{bname}")])
        self.precondition(bname, name, query)
        # Generations only grow, even for two writes within one microsecond.
        gen = str(max([int(time.time() * 1e6)] + [int(r["body"]["generation"]) + 1 for r in self.objects(bname).values()]))
        versioned = rec["body"].get("versioning", {}).get("enabled")
        for k, r in self.objects(bname).items():
            if r["body"]["name"] == name and not r["body"].get("timeDeleted"):
                if versioned:
                    r["body"]["timeDeleted"] = rfc3339()
                else:
                    st.delete(k)
        o = {"kind": "storage#object", "id": f"{bname}/{name}/{gen}", "name": name, "bucket": bname, "generation": gen,
             "metageneration": "1", "size": str(len(raw or b"")), "contentType": ctx.get("content_type") or "application/octet-stream",
             "_data": base64.b64encode(raw or b"").decode(),
             "md5Hash": base64.b64encode(hashlib.md5(raw or b"").digest()).decode(), "timeCreated": rfc3339(), "updated": rfc3339(),
             "storageClass": rec["body"]["storageClass"],
             "selfLink": f"https://www.googleapis.com/storage/v1/b/{bname}/o/{urllib.parse.quote(name, safe='')}"}
        kms = (rec["body"].get("encryption") or {}).get("defaultKmsKeyName")
        if kms:
            o["kmsKeyName"] = kms + "/cryptoKeyVersions/1"
        st.put("storage", "storage#object", f"b/{bname}/o/{name}#{gen}", o)
        return 200, self.public(o)


# ---------------------------------------------------------------------------------------
# Cloud Logging sinks
# https://cloud.google.com/logging/docs/reference/v2/rest/v2/projects.sinks
# https://cloud.google.com/logging/docs/export/configure_export_v2#dest-auth (writer identity)
# ---------------------------------------------------------------------------------------

class LoggingApi:
    def __init__(self, app):
        self.app, self.state = app, app.state

    def check(self, s):
        dest = s.get("destination", "")
        if not re.fullmatch(r"storage\.googleapis\.com/[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]"
                            r"|bigquery\.googleapis\.com/projects/[^/]+/datasets/[^/]+"
                            r"|pubsub\.googleapis\.com/projects/[^/]+/topics/[^/]+"
                            r"|logging\.googleapis\.com/projects/[^/]+(/locations/[^/]+/buckets/[^/]+)?", dest):
            raise bad(f"Invalid destination \"{dest}\".")
        f = s.get("filter", "")
        if f.count('"') % 2 or f.count("(") != f.count(")"):
            raise bad(f"Invalid filter \"{f}\": unbalanced quotes or parentheses.")
        if "outputVersionFormat" in s:
            s["outputVersionFormat"] = enum(s["outputVersionFormat"], "logging.versionFormat", "sink.output_version_format")

    def handle(self, ctx, method, rest, query, body):
        st = self.state
        m = re.fullmatch(r"projects/([^/]+)/sinks(?:/([^/]+))?", rest)
        if not m:
            raise not_found(f"Not found: /v2/{rest}")
        pid = st.project_id(m.group(1))
        sname = m.group(2)
        body = body or {}
        with st.lock:
            if sname is None:
                if method == "POST":
                    self.app.authz(ctx, "logging.sinks.create", f"projects/{pid}", pid)
                    name = body.get("name")
                    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", name):
                        raise bad(f"Invalid sink name \"{name}\".")
                    key = f"projects/{pid}/sinks/{name}"
                    if st.get(key):
                        raise ApiError(409, f"Sink {name} already exists")
                    s = copy.deepcopy(body)
                    self.check(s)
                    s.update(createTime=nanos_rfc3339(), updateTime=nanos_rfc3339(),
                             writerIdentity=f"serviceAccount:service-{st.number(pid)}@gcp-sa-logging.iam.gserviceaccount.com")
                    s.pop("uniqueWriterIdentity", None)
                    st.put("logging", "logging#sink", key, s)
                    return 200, copy.deepcopy(s)
                self.app.authz(ctx, "logging.sinks.list", f"projects/{pid}", pid)
                return 200, {"sinks": [copy.deepcopy(r["body"]) for k, r in st.resources.items() if r["kind"] == "logging#sink" and k.startswith(f"projects/{pid}/")]}
            key = f"projects/{pid}/sinks/{sname}"
            perm = {"GET": "logging.sinks.get", "PUT": "logging.sinks.update", "PATCH": "logging.sinks.update", "DELETE": "logging.sinks.delete"}.get(method)
            if perm is None:
                raise ApiError(405, "Method not allowed.")
            self.app.authz(ctx, perm, key, pid)
            rec = st.get(key)
            if rec is None:
                raise not_found(f"Sink {sname} does not exist")
            if method == "GET":
                return 200, copy.deepcopy(rec["body"])
            if method == "DELETE":
                st.delete(key)
                return 200, {}
            mask = split_mask(query.get("updateMask")) or ["destination", "filter", "includeChildren"]
            s = copy.deepcopy(rec["body"])
            for f in mask:
                if f not in ("destination", "filter", "description", "disabled", "exclusions", "includeChildren",
                             "bigqueryOptions", "outputVersionFormat", "interceptChildren"):
                    raise bad(f"Invalid update mask path \"{f}\".")
                if f in body:
                    s[f] = copy.deepcopy(body[f])
                else:
                    s.pop(f, None)
            if body.get("name") and body["name"] != sname:
                raise bad("The sink name cannot be changed.")
            self.check(s)
            s["updateTime"] = nanos_rfc3339()
            rec["body"] = s
            return 200, copy.deepcopy(s)


# ---------------------------------------------------------------------------------------
# The application: routing, authentication, tokens, Resource Manager, admin API
# ---------------------------------------------------------------------------------------

SECRET_KEYS = {"subject_token", "refresh_token", "client_secret", "actor_token", "assertion", "password"}


class App:
    def __init__(self, state, record):
        self.state, self.record_path = state, record
        self.tokens = Tokens()
        self.record_lock = threading.Lock()
        self.compute, self.gke, self.iam = ComputeApi(self), GkeApi(self), IamApi(self)
        self.kms, self.storage, self.logging = KmsApi(self), StorageApi(self), LoggingApi(self)

    def authz(self, ctx, perm, resource, pid, extra=None, api=None):
        authorize(self.state, ctx["token"], perm, resource, pid, extra or (), api)

    def users_of(self, target):
        """The first stored resource that references `target` (compute or GKE), if any."""
        for key, r in self.state.resources.items():
            if key == target or r["service"] not in ("compute", "container"):
                continue
            if key.startswith(target + "/"):
                continue

            def walk(v, k=None):
                if isinstance(v, dict):
                    return any(walk(x, kk) for kk, x in v.items() if kk not in ("selfLink", "selfLinkWithId", "subnetworks", "region"))
                if isinstance(v, list):
                    return any(walk(x, k) for x in v)
                return isinstance(v, str) and canonical_project_path(self.state, compute_norm(v)) == target
            if walk(r["body"]):
                return key
        return None

    # -- tokens ------------------------------------------------------------------------------
    def oauth_token(self, form):
        # https://developers.google.com/identity/protocols/oauth2/web-server#offline (refresh)
        if form.get("grant_type") != "refresh_token":
            raise OAuthError(400, "unsupported_grant_type", f"Invalid grant_type: {form.get('grant_type')}")
        rt = form.get("refresh_token") or ""
        if not form.get("client_id") or not form.get("client_secret"):
            raise OAuthError(401, "invalid_client", "The OAuth client was not found.")
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+", rt):
            raise OAuthError(400, "invalid_grant", "Bad Request")
        principal = f"user:{rt}"
        tok = self.tokens.issue(principal, [principal], "user")
        return {"access_token": tok, "expires_in": 3599, "token_type": "Bearer",
                "scope": "https://www.googleapis.com/auth/cloud-platform"}, principal

    def sts_token(self, form):
        # https://cloud.google.com/iam/docs/reference/sts/rest/v1/TopLevel/token
        # https://cloud.google.com/iam/docs/workload-identity-federation-with-other-clouds#aws
        # (the subject token is a serialized, signed GetCallerIdentity request)
        st = self.state
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:token-exchange":
            raise OAuthError(400, "unsupported_grant_type", f"Unsupported grant_type: {form.get('grant_type')}")
        if form.get("requested_token_type") != "urn:ietf:params:oauth:token-type:access_token":
            raise OAuthError(400, "invalid_request", "Invalid requested_token_type.")
        if form.get("subject_token_type") != "urn:ietf:params:aws:token-type:aws4_request":
            raise OAuthError(400, "invalid_request", f"Unsupported subject_token_type: {form.get('subject_token_type')}")
        aud = form.get("audience", "")
        am = re.fullmatch(r"//iam\.googleapis\.com/projects/(\d+)/locations/global/workloadIdentityPools/([^/]+)/providers/([^/]+)", aud)
        if not am:
            raise OAuthError(400, "invalid_request", f"Invalid audience: {aud}")
        raw = form.get("subject_token", "")
        try:
            tokjson = json.loads(raw if raw.lstrip().startswith("{") else urllib.parse.unquote_plus(raw))
            headers = {h["key"].lower(): h["value"] for h in tokjson.get("headers", [])}
        except (ValueError, KeyError, TypeError, AttributeError):
            raise OAuthError(400, "invalid_grant", "The subject token is not a valid serialized AWS GetCallerIdentity request.")
        if tokjson.get("method") != "POST" or not re.match(r"https://sts(\.[a-z0-9-]+)?\.amazonaws\.com", str(tokjson.get("url", ""))):
            raise OAuthError(400, "invalid_grant", "The subject token must be a POST to an AWS STS endpoint.")
        if headers.get("x-goog-cloud-target-resource") != aud:
            raise OAuthError(400, "invalid_grant", "The subject token's x-goog-cloud-target-resource header does not match the audience.")
        cm = re.match(r"AWS4-HMAC-SHA256 Credential=([A-Z0-9]+)/", headers.get("authorization", ""))
        if not cm or not headers.get("x-amz-date"):
            raise OAuthError(400, "invalid_grant", "The subject token is not a signed AWS request.")
        with st.lock:
            arn = st.aws.get(cm.group(1))
            if arn is None:
                raise OAuthError(400, "invalid_grant", "Unable to verify the AWS credential: the security token included in the request is invalid.")
            num, pool, prov = am.groups()
            pid = st.project_id(num)
            pkey = f"projects/{pid}/locations/global/workloadIdentityPools/{pool}"
            poolrec, provrec = st.get(pkey), st.get(f"{pkey}/providers/{prov}")
            if not poolrec or not provrec or poolrec["body"]["state"] != "ACTIVE" or provrec["body"]["state"] != "ACTIVE":
                raise OAuthError(400, "invalid_target", "The target service indicated by the \"audience\" parameters is invalid. This might either be because the pool or provider is disabled or deleted or because it doesn't exist.")
            if poolrec["body"].get("disabled") or provrec["body"].get("disabled"):
                raise OAuthError(400, "invalid_target", "The workload identity pool or provider is disabled.")
            p = copy.deepcopy(provrec["body"])
        if not p.get("aws"):
            raise OAuthError(400, "invalid_request", "The provider is not an AWS provider.")
        acct = arn.split(":")[4] if arn.count(":") >= 5 else ""
        if acct != p["aws"]["accountId"]:
            raise OAuthError(400, "invalid_grant", f"The AWS account {acct} is not the provider's account.")
        assertion = {"arn": arn, "account": acct, "userid": f"AROA{hashlib.sha1(arn.encode()).hexdigest()[:17].upper()}:session",
                     "type": "AssumedRole" if ":assumed-role/" in arn else "User"}
        attrs, google = {}, {}
        for k, expr in p["attributeMapping"].items():
            try:
                v = gcpcel.evaluate(expr, {"assertion": assertion})
            except gcpcel.CelError as e:
                raise OAuthError(400, "invalid_grant", f"The attribute mapping for {k} failed: {e}")
            if k.startswith("attribute."):
                attrs[k.split(".", 1)[1]] = v
            else:
                google[k.split(".", 1)[1]] = v
        subject = google.get("subject")
        if not subject or not isinstance(subject, str) or len(subject) > 127:
            raise OAuthError(400, "invalid_grant", "The mapped google.subject is empty, not a string or longer than 127 bytes.")
        if p.get("attributeCondition"):
            try:
                ok = gcpcel.evaluate(p["attributeCondition"], {"attribute": attrs, "google": google, "assertion": assertion})
            except gcpcel.CelError:
                ok = False
            if ok is not True:
                raise OAuthError(403, "unauthorized_client", "The given credential is rejected by the attribute condition.")
        base = f"//iam.googleapis.com/projects/{num}/locations/global/workloadIdentityPools/{pool}"
        principal = f"principal:{base}/subject/{subject}"
        identities = [principal, f"principalSet:{base}/*"] + [f"principalSet:{base}/attribute.{k}/{v}" for k, v in attrs.items() if isinstance(v, str)]
        tok = self.tokens.issue(principal, identities, "federated")
        return {"access_token": tok, "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
                "token_type": "Bearer", "expires_in": 3600}, principal

    def generate_access_token(self, ctx, email, body):
        # https://cloud.google.com/iam/docs/reference/credentials/rest/v1/projects.serviceAccounts/generateAccessToken
        # https://cloud.google.com/iam/docs/workload-identity-federation#impersonation
        st = self.state
        with st.lock:
            m = re.fullmatch(r"[^@]+@([^.]+)\.iam\.gserviceaccount\.com", email)
            key = canonical_project_path(st, f"projects/{m.group(1)}/serviceAccounts/{email}") if m else None
            rec = st.get(key) if key else None
            resource = f"projects/-/serviceAccounts/{email}"
            if rec is None:
                if ctx["token"]["kind"] != "user":
                    raise ApiError(403, f"Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).")
                raise not_found(f"Requested entity was not found. ({resource})")
            pid = m.group(1)
            authorize(st, ctx["token"], "iam.serviceAccounts.getAccessToken", key, pid, [st.policies.get(key)])
            if rec["body"].get("disabled"):
                raise bad(f"The service account {email} is disabled.", status="FAILED_PRECONDITION")
        scope = body.get("scope") or []
        if not scope:
            raise bad("Scope required.")
        lifetime = parse_duration(body.get("lifetime") or "3600s", "lifetime") if body.get("lifetime") else 3600
        if lifetime > 3600 or lifetime <= 0:
            raise bad("The lifetime must be at most 3600s (longer lifetimes need the constraints/iam.allowServiceAccountCredentialLifetimeExtension organization policy).")
        principal = f"serviceAccount:{email}"
        tok = self.tokens.issue(principal, [principal], "serviceAccount", int(lifetime))
        return {"accessToken": tok, "expireTime": rfc3339(utcnow() + timedelta(seconds=int(lifetime))).replace(".000Z", "Z")}

    # -- Resource Manager ----------------------------------------------------------------------
    def project_get(self, ctx, ref):
        """projects.get, by project id or number
        (https://cloud.google.com/resource-manager/reference/rest/v3/projects/get: "The caller
        must have resourcemanager.projects.get permission for this project"), answering the
        Project resource (https://cloud.google.com/resource-manager/reference/rest/v3/projects#Project;
        no `parent`: a project outside any organization has none).

        A project that does not exist and one the caller may not read answer alike, 403
        PERMISSION_DENIED, so that the answer does not tell whether it exists
        (https://google.aip.dev/211: "If a request can not pass the authorization check for any
        reason, the service must error with PERMISSION_DENIED [...] This avoids leaking resource
        existence"; Resource Manager does so: googleapis/google-cloud-java#440, "The 403 vs 404
        is intended behavior"). The message is Resource Manager's v3 one, e.g. "Permission
        'resourcemanager.projects.get' denied on resource
        '//cloudresourcemanager.googleapis.com/projects/123456789' (or it may not exist)."
        (CrowdStrike/falcon-integration-gateway#98). The caller is authorized as every other call
        is (authorize: the customer's `user:` ADC principal owns the projects; a service account
        needs a role with the permission in the project's policy, e.g. roles/browser, roles/viewer,
        roles/owner, conditions evaluated)."""
        st = self.state
        denied = ApiError(403, f"Permission 'resourcemanager.projects.get' denied on resource '//cloudresourcemanager.googleapis.com/projects/{ref}' "
                               "(or it may not exist).", reason="forbidden")
        pid = ref if ref in st.known else next((i for i, n in st.known.items() if n == ref), None)
        if pid is None:
            raise denied
        try:
            self.authz(ctx, "resourcemanager.projects.get", f"projects/{pid}", pid)
        except ApiError as e:
            if e.code == 403:
                raise denied
            raise
        number = st.known[pid]
        project = {"name": f"projects/{number}", "projectId": pid, "state": "ACTIVE", "displayName": pid,
                   "createTime": st.created, "updateTime": st.created}
        project["etag"] = etag_of(project)  # "A checksum computed by the server", opaque to clients
        return project

    def resourcemanager(self, ctx, method, rest, query, body):
        # https://cloud.google.com/resource-manager/reference/rest/v3/projects/get (project_get)
        # https://cloud.google.com/resource-manager/reference/rest/v3/projects/getIamPolicy
        # https://cloud.google.com/resource-manager/reference/rest/v3/projects/setIamPolicy
        # (no updateMask: "paths: bindings, etag"; auditConfigs only when the mask names it)
        st = self.state
        m = re.fullmatch(r"projects/([^/:]+)(?::(\w+))?", rest)
        if not m or method not in ("POST", "GET"):
            raise not_found(f"Not found: /v3/{rest}")
        if m.group(2) is None and method == "GET":
            with st.lock:
                return 200, self.project_get(ctx, m.group(1))
        pid = st.project_id(m.group(1))
        body = body or {}
        with st.lock:
            if m.group(2) == "getIamPolicy":
                self.authz(ctx, "resourcemanager.projects.getIamPolicy", f"projects/{pid}", pid)
                return 200, read_policy(project_policy(st, pid), (body.get("options") or {}).get("requestedPolicyVersion"))
            if m.group(2) == "setIamPolicy":
                self.authz(ctx, "resourcemanager.projects.setIamPolicy", f"projects/{pid}", pid)
                if not body.get("policy"):
                    raise bad("policy is required.")
                return 200, set_policy(self, f"projects/{pid}", body["policy"], project_policy(st, pid), body.get("updateMask"), pid=pid)
        raise not_found(f"Not found: /v3/{rest}")

    # -- admin -------------------------------------------------------------------------------
    def admin(self, method, path, body):
        st = self.state
        with st.lock:
            if path == "/_emulator/resources" and method == "GET":
                return 200, [{"service": r["service"], "kind": r["kind"], "name": k,
                              "body": {kk: v for kk, v in r["body"].items() if not kk.startswith("_")}} for k, r in sorted(st.resources.items())]
            if path == "/_emulator/policies" and method == "GET":
                return 200, {k: v for k, v in sorted(st.policies.items())}
            if path == "/_emulator/reset" and method == "POST":
                st.reset()
                return 200, {}
            if path == "/_emulator/faults" and method == "POST":
                f = body or {}
                if f.get("status") not in (429, 500, 503) or not f.get("match"):
                    return 400, {"error": "faults need match and status 429|500|503"}
                st.faults.append({"match": f["match"], "status": f["status"], "count": int(f.get("count", 1)),
                                  "retryAfter": f.get("retryAfter", 1)})
                return 200, {}
            if path == "/_emulator/aws-identities" and method == "POST":
                b = body or {}
                if not b.get("accessKeyId") or not re.fullmatch(r"arn:aws:(sts|iam)::\d{12}:.+", b.get("arn", "")):
                    return 400, {"error": "need accessKeyId and an arn like arn:aws:sts::123456789012:assumed-role/R/S"}
                st.aws[b["accessKeyId"]] = b["arn"]
                return 200, {}
            if path == "/_emulator/mutate" and method == "POST":
                b = body or {}
                key = self.resolve_admin_path(b.get("path", ""))
                if key is None:
                    return 404, {"error": f"no stored resource behind {b.get('path')}"}
                rec = st.resources[key]
                rec["body"] = merge_patch(rec["body"], b.get("merge") or {})
                return 200, {"name": key, "body": {k: v for k, v in rec["body"].items() if not k.startswith("_")}}
        return 404, {"error": "unknown admin route"}

    def resolve_admin_path(self, p):
        st = self.state
        p = urllib.parse.urlsplit(p).path.lstrip("/")
        for pre in ("compute/", "container/", "iam/", "cloudkms/", "storage/", "logging/", "cloudresourcemanager/"):
            if p.startswith(pre) and not p.startswith("storage/v1/"):
                p = p[len(pre):]
                break
        for pre in ("compute/v1/", "storage/v1/", "v1/", "v2/", "v3/"):
            if p.startswith(pre):
                p = p[len(pre):]
                break
        p = canonical_project_path(st, p)
        if p in st.resources:
            return p
        m = re.fullmatch(r"projects/[^/]+/serviceAccounts/(.+)", p)
        if m:
            for k in st.resources:
                if k.endswith("/serviceAccounts/" + m.group(1)):
                    return k
        return None


def parse_body(headers, raw):
    if not raw:
        return None
    ct = (headers.get("Content-Type") or "").lower()
    if "application/x-www-form-urlencoded" in ct:
        return {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode(), keep_blank_values=True).items()}
    try:
        return json.loads(raw)
    except ValueError:
        if "json" in ct:
            raise bad("Invalid JSON payload received.")
        return None


def redact(obj):
    if isinstance(obj, dict):
        return {k: ("<redacted>" if k in SECRET_KEYS else redact(v)) for k, v in obj.items()}
    return obj


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    app = None

    def log_message(self, fmt, *args):
        if os.environ.get("GCP_EMULATOR_VERBOSE"):
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def send(self, code, obj, headers=None):
        if isinstance(obj, Media):
            data, headers = obj.data, {**(headers or {}), **obj.headers}
        else:
            data = b"" if obj is None or code == 204 else json.dumps(obj).encode()
        self.send_response(code)
        if "Content-Type" not in (headers or {}):
            self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if data:
            self.wfile.write(data)

    def dispatch(self, method):
        app = self.app
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        query = {k: v[0] for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items() if not k.startswith("$")}
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        if path.startswith("/_emulator/"):
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                return self.send(400, {"error": "invalid JSON"})
            code, out = app.admin(method, path, body)
            return self.send(code, out)
        principal, body, code, out, hdrs = None, None, 500, None, {}
        upload = "/upload/storage/v1/" in path
        try:
            body = None if upload else parse_body(self.headers, raw)
            with app.state.lock:
                for f in app.state.faults:
                    if f["count"] > 0 and f["match"] in f"{method} {path}":
                        f["count"] -= 1
                        if f["status"] == 429:
                            hdrs["Retry-After"] = str(f["retryAfter"])
                        raise ApiError(f["status"], "Quota exceeded (injected by the emulator)." if f["status"] == 429 else "The service is currently unavailable (injected by the emulator).",
                                       reason="rateLimitExceeded" if f["status"] == 429 else "backendError")
            code, out, principal = self.route(method, path, query, body, raw, upload)
        except ApiError as e:
            code, out = e.code, e.body()
        except OAuthError as e:
            code, out = e.code, {"error": e.error, "error_description": e.description}
        except Exception as e:  # a bug here must show, in Google's shape
            import traceback
            traceback.print_exc()
            code, out = 500, ApiError(500, f"Internal error in the emulator: {type(e).__name__}: {e}").body()
        finally:
            if app.record_path:
                rec_body = {"<bytes>": len(raw)} if upload else redact(body if isinstance(body, (dict, list)) else None)
                line = json.dumps({"method": method, "path": path, "query": query, "body": rec_body, "principal": principal, "status": code})
                with app.record_lock, open(app.record_path, "a") as fh:
                    fh.write(line + "\n")
        self.send(code, out, hdrs)

    def route(self, method, path, query, body, raw, upload):
        app = self.app
        if path in ("/oauth2/token", "/token", "/oauth2/v4/token") and method == "POST":
            out, principal = app.oauth_token(body or {})
            return 200, out, principal
        if path in ("/sts/v1/token", "/v1/token") and method == "POST":
            out, principal = app.sts_token(body or {})
            return 200, out, principal
        auth = self.headers.get("Authorization") or ""
        tok = app.tokens.lookup(auth[7:]) if auth.startswith("Bearer ") else None
        if tok is None:
            raise ApiError(401, "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
                           reason="authError")
        principal = tok["principal"]
        email = principal.split(":", 1)[1] if principal.startswith(("user:", "serviceAccount:")) else principal
        ctx = {"token": tok, "principal": principal, "principal_email": email, "content_type": self.headers.get("Content-Type")}
        segs = path.split("?")[0]
        m = re.match(r"^/([a-z]+)(/.*)$", segs)
        if not m:
            raise not_found("Not Found")
        service, rest = m.group(1), m.group(2)
        if service == "upload" and rest.startswith("/storage/v1/"):
            service, rest = "storage", "/upload" + rest
        if service == "storage" and rest.startswith("/storage/v1/"):
            return (*app.storage.handle(ctx, method, rest[len("/storage/v1/"):], query, body, raw, False), principal)
        if service == "storage" and rest.startswith("/upload/storage/v1/"):
            return (*app.storage.handle(ctx, method, rest[len("/upload/storage/v1/"):], query, body, raw, True), principal)
        if service == "storage" and rest.startswith("/v1/"):  # `/storage/v1/...` without the endpoint prefix
            return (*app.storage.handle(ctx, method, rest[len("/v1/"):], query, body, raw, False), principal)
        if service == "compute" and rest.startswith("/compute/v1/"):
            return (*app.compute.handle(ctx, method, rest[len("/compute/v1/"):], query, body), principal)
        if service == "compute" and rest.startswith("/v1/"):
            return (*app.compute.handle(ctx, method, rest[len("/v1/"):], query, body), principal)
        if service == "container" and rest.startswith("/v1/"):
            return (*app.gke.handle(ctx, method, rest[len("/v1/"):], query, body), principal)
        if service == "iam" and rest.startswith("/v1/"):
            return (*app.iam.handle(ctx, method, rest[len("/v1/"):], query, body), principal)
        if service == "iamcredentials":
            gm = re.fullmatch(r"/v1/projects/-/serviceAccounts/([^/:]+):generateAccessToken", rest)
            if gm and method == "POST":
                return 200, app.generate_access_token(ctx, urllib.parse.unquote(gm.group(1)), body or {}), principal
            raise not_found("Not Found")
        if service == "cloudresourcemanager" and rest.startswith("/v3/"):
            return (*app.resourcemanager(ctx, method, rest[len("/v3/"):], query, body), principal)
        if service == "cloudkms" and rest.startswith("/v1/"):
            return (*app.kms.handle(ctx, method, rest[len("/v1/"):], query, body), principal)
        if service == "logging" and rest.startswith("/v2/"):
            return (*app.logging.handle(ctx, method, rest[len("/v2/"):], query, body), principal)
        raise not_found(f"The requested URL {path} was not found on this server.")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--record", help="append every API request as a JSON line to this file")
    ap.add_argument("--polls", type=int, default=2, help="polls an operation stays RUNNING (default 2)")
    ap.add_argument("--project", action="append", default=[], metavar="ID=NUMBER",
                    help="a project id and its number (repeatable); default acme-ml-prod=482916350047")
    ap.add_argument("--project-number-map", action="append", default=[], metavar="ID=NUMBER", help=argparse.SUPPRESS)
    ap.add_argument("--credentials-dir", help="where to write the authorized_user credentials (default: a temp dir)")
    a = ap.parse_args()
    projects = {"acme-ml-prod": "482916350047"}
    for p in a.project + a.project_number_map:
        k, _, v = p.partition("=")
        if v and not v.isdigit() and k.isdigit():
            k, v = v, k
        if not v.isdigit():
            ap.error(f"--project {p}: expected ID=NUMBER")
        projects[k] = v
    state = State(a.polls, projects)
    Handler.app = App(state, a.record)
    server = ThreadingHTTPServer((a.host, a.port), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    d = a.credentials_dir or tempfile.mkdtemp(prefix="gcp-emulator-")
    os.makedirs(d, exist_ok=True)
    cred = os.path.join(d, "application_default_credentials.json")
    with open(cred, "w") as fh:
        json.dump({"type": "authorized_user", "client_id": "emulator-client.apps.googleusercontent.com", "client_secret": "emulator-secret",
                   "refresh_token": "customer@example.com", "token_uri": f"http://{a.host}:{port}/oauth2/token",
                   "quota_project_id": next(iter(projects))}, fh, indent=2)
    print(f"UNIONCTL_GCP_ENDPOINT_TEMPLATE=http://{a.host}:{port}/{{service}}", flush=True)
    print(f"GOOGLE_APPLICATION_CREDENTIALS={cred}", flush=True)
    if len(projects) == 1 or a.project:
        print(f"GOOGLE_CLOUD_PROJECT={(a.project[0].split('=')[0] if a.project and not a.project[0].split('=')[0].isdigit() else next(iter(projects)))}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
