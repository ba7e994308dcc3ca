"""Shared pieces of the Azure contract server: errors in each API's shape, ids, time, JSON."""

import base64
import copy
import hashlib
import hmac
import ipaddress
import json
import os
import re
import time
import uuid
from datetime import datetime, timezone

GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

# Regions a location may name (https://learn.microsoft.com/azure/reliability/regions-list);
# ARM normalizes display names ("East US 2") to these.
REGIONS = {
    "eastus", "eastus2", "westus", "westus2", "westus3", "centralus", "northcentralus", "southcentralus",
    "westcentralus", "canadacentral", "canadaeast", "brazilsouth", "brazilsoutheast", "mexicocentral",
    "northeurope", "westeurope", "uksouth", "ukwest", "francecentral", "francesouth", "germanywestcentral",
    "germanynorth", "norwayeast", "norwaywest", "swedencentral", "switzerlandnorth", "switzerlandwest",
    "polandcentral", "italynorth", "spaincentral", "uaenorth", "uaecentral", "southafricanorth",
    "southafricawest", "qatarcentral", "israelcentral", "centralindia", "southindia", "westindia",
    "eastasia", "southeastasia", "japaneast", "japanwest", "koreacentral", "koreasouth", "australiaeast",
    "australiasoutheast", "australiacentral", "australiacentral2", "newzealandnorth",
}


class ApiError(Exception):
    """An error answered in the shape of the API that raised it:
    flavor "arm"   -> {"error": {"code", "message"[, "target", "details"]}}
                      (https://learn.microsoft.com/azure/azure-resource-manager/management/common-deployment-errors;
                       https://github.com/microsoft/api-guidelines/blob/vNext/azure/Guidelines.md#handling-errors)
    flavor "graph" -> {"error": {"code", "message", "innerError": {...}}}
                      (https://learn.microsoft.com/graph/errors)
    flavor "oauth" -> {"error", "error_description", "error_codes", ...}
                      (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow#error-response)
    flavor "blob"  -> <Error><Code/><Message/></Error>
                      (https://learn.microsoft.com/rest/api/storageservices/status-and-error-codes2)"""

    def __init__(self, status, code, message, flavor="arm", target=None, headers=None, extra=None):
        super().__init__(message)
        self.status, self.code, self.message, self.flavor = status, code, message, flavor
        self.target, self.headers, self.extra = target, dict(headers or {}), extra or {}

    def body(self):
        if self.flavor == "oauth":
            codes = [int(c) for c in re.findall(r"AADSTS(\d+)", self.message)[:1]]
            return {"error": self.code, "error_description": self.message + f"\r\nTrace ID: {uuid.uuid4()}\r\nCorrelation ID: {uuid.uuid4()}\r\nTimestamp: {iso_now()}",
                    "error_codes": codes, "timestamp": iso_now(), "trace_id": str(uuid.uuid4()),
                    "correlation_id": str(uuid.uuid4()), "error_uri": "https://login.microsoftonline.com/error?code=" + (str(codes[0]) if codes else "0")}
        if self.flavor == "graph":
            return {"error": {"code": self.code, "message": self.message,
                              "innerError": {"date": iso_now(), "request-id": str(uuid.uuid4()), "client-request-id": str(uuid.uuid4())}}}
        if self.flavor == "blob":
            return None  # rendered as XML by the handler
        e = {"code": self.code, "message": self.message}
        if self.target:
            e["target"] = self.target
        e.update(self.extra)
        return {"error": e}


def arm_error(status, code, message, **kw):
    return ApiError(status, code, message, "arm", **kw)


def bad(code, message, target=None):
    return ApiError(400, code, message, "arm", target=target)


def iso_now(t=None):
    t = t or datetime.now(timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond:06d}0Z"


def guid():
    return str(uuid.uuid4())


def hex32():
    return uuid.uuid4().hex


def is_guid(s):
    return isinstance(s, str) and GUID_RE.match(s) is not None


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def norm_location(loc):
    return re.sub(r"\s+", "", str(loc)).lower() if loc is not None else None


def deep(d, *path, default=None):
    for p in path:
        if isinstance(d, dict):
            d = d.get(p)
        elif isinstance(d, list) and isinstance(p, int) and -len(d) <= p < len(d):
            d = d[p]
        else:
            return default
        if d is None:
            return default
    return d


def cidr(value):
    try:
        return ipaddress.ip_network(str(value), strict=True)
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------
# JWT (HS256): the access tokens this server issues and the federated assertions it mints
# for the external issuer. https://datatracker.ietf.org/doc/html/rfc7519
# ---------------------------------------------------------------------------------------

def _b64(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def _unb64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jwt_encode(claims, key, kid=None):
    header = {"alg": "HS256", "typ": "JWT"}
    if kid:
        header["kid"] = kid
    signing = _b64(json.dumps(header, separators=(",", ":")).encode()) + "." + _b64(json.dumps(claims, separators=(",", ":")).encode())
    sig = hmac.new(key, signing.encode(), hashlib.sha256).digest()
    return signing + "." + _b64(sig)


def jwt_decode(token, key=None):
    """(header, claims, signature_ok). Raises ValueError when it is not a JWT at all."""
    parts = str(token).split(".")
    if len(parts) != 3:
        raise ValueError("not a JWT")
    header = json.loads(_unb64(parts[0]))
    claims = json.loads(_unb64(parts[1]))
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise ValueError("not a JWT")
    ok = False
    if key is not None and header.get("alg") == "HS256":
        want = hmac.new(key, (parts[0] + "." + parts[1]).encode(), hashlib.sha256).digest()
        try:
            ok = hmac.compare_digest(want, _unb64(parts[2]))
        except ValueError:
            ok = False
    return header, claims, ok


def random_secret():
    # Entra client secrets look like "abc8Q~" + 34 characters.
    raw = base64.urlsafe_b64encode(os.urandom(30)).decode().rstrip("=")
    return raw[:3] + "8Q~" + raw[3:37]


def now():
    return time.time()
