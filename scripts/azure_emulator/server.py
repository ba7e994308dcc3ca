#!/usr/bin/env python3
"""A local Azure contract server for unionctl: Azure Resource Manager (the resource kinds
of a data plane), Microsoft Entra ID's token endpoint, Microsoft Graph (applications,
service principals, federated identity credentials) and Blob listing.

HTTPS only (azure_identity refuses a non-https authority host): the certificate is a leaf
signed by a throwaway CA made with the openssl CLI in --state-dir; clients trust the CA
(UNIONCTL_AZURE_CA_FILE). It refuses what the real APIs refuse for the fields unionctl
relies on, answers in the documented shapes, follows ARM's long-running operation
protocol, and authorizes every ARM call against the role assignments and definitions it
holds (Azure RBAC, including the linked access checks AKS makes). Each handler cites the
reference it follows.

    server.py --host 127.0.0.1 --port 0 --state-dir DIR [--record FILE] [--polls N]

Prints NAME=value settings once listening. Admin API (no authentication) under /_emulator/:
resources, mutate, faults, federated-token, blobs, reset.
"""

import argparse
import copy
import ipaddress
import json
import os
import re
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import roles  # noqa: E402
from common import (ApiError, arm_error, bad, cidr, deep, guid, hex32, is_guid, iso_now, jwt_decode,  # noqa: E402
                    jwt_encode, merge_patch, norm_location, random_secret, REGIONS)

TENANT = "55555555-6666-4777-8888-999999999999"
SUBSCRIPTION = "00000000-1111-4222-8333-444444444444"
ARM_AUDIENCE = "https://management.azure.com"
GRAPH_AUDIENCE = "https://graph.microsoft.com"
STORAGE_AUDIENCE = "https://storage.azure.com"
SCOPES = {ARM_AUDIENCE + "/.default": ARM_AUDIENCE, GRAPH_AUDIENCE + "/.default": GRAPH_AUDIENCE, STORAGE_AUDIENCE + "/.default": STORAGE_AUDIENCE}
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
STORAGE_BLOB_DATA_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"


class Kind:
    """One ARM resource type: the api-versions its provider registers, whether it is a
    tracked resource (location, tags), how its writes run (sync, async with
    Azure-AsyncOperation, or 202 + Location), and its checks."""

    def __init__(self, type_, versions, tracked=True, put="async", delete="async", validate=None, fill=None):
        self.type, self.versions, self.tracked = type_, set(versions), tracked
        self.put, self.delete, self.validate, self.fill = put, delete, validate, fill


KINDS = {}


def kind(type_, versions, **kw):
    def register(validate):
        KINDS[type_.lower()] = Kind(type_, versions, validate=validate, **kw)
        return validate
    return register


def arm_type(path):
    """`Microsoft.Network/virtualNetworks/subnets` for a subnet's id."""
    if "/providers/" not in path.lower():
        if re.match(r"^/subscriptions/[^/]+/resourcegroups/[^/]+$", path, re.I):
            return "Microsoft.Resources/resourceGroups"
        return ""
    i = path.lower().rindex("/providers/")
    tail = path[i + len("/providers/"):].split("/")
    return "/".join([tail[0]] + tail[1::2])


def is_collection(path):
    """A list URL (`…/providers/Microsoft.KeyVault/vaults`) rather than one resource's."""
    i = path.lower().rfind("/providers/")
    return i >= 0 and len(path[i + len("/providers/"):].split("/")) % 2 == 0


def parent_of(rid):
    """The id a resource lives in: its parent resource, the scope of an extension resource,
    the resource group of a top-level one."""
    if re.match(r"^/subscriptions/[^/]+/resourcegroups/[^/]+$", rid, re.I):
        return rid.rsplit("/", 2)[0]
    i = rid.lower().rindex("/providers/")
    scope, tail = rid[:i], rid[i + len("/providers/"):].split("/")
    if len(tail) > 3:  # a child: drop the last type/name pair
        return rid.rsplit("/", 2)[0]
    return scope


def subscription_of(rid):
    m = re.match(r"^/subscriptions/([^/]+)", rid, re.I)
    return m.group(1) if m else None


def rg_of(rid):
    m = re.match(r"^(/subscriptions/[^/]+/resourcegroups/[^/]+)", rid, re.I)
    return m.group(1) if m else None


# ---------------------------------------------------------------------------------------
# State
# ---------------------------------------------------------------------------------------

class State:
    def __init__(self, polls):
        self.lock = threading.RLock()
        self.polls = polls
        self.key = os.urandom(32)         # signs the access tokens this server issues
        self.issuer_key = os.urandom(32)  # signs the external issuer's tokens (the admin API mints them)
        self.reset()

    def reset(self):
        with self.lock:
            self.arm = {}            # lower id -> {"id", "body"}
            self.ops = {}            # op id -> operation
            self.deleted_vaults = {}  # lower name -> body (soft-deleted)
            self.apps = {}           # object id -> application
            self.sps = {}            # object id -> service principal
            self.fics = {}           # app object id -> {lower name: credential}
            self.principals = {}     # object id -> {"name", "graph": bool, "secret", "appId"}
            self.blobs = {}          # (account, container) -> {name: {"data", "etag", "modified", "version"}}
            self.blob_versions = {}  # (account, container, name) -> [earlier versions' ids], where versioning is on
            self.faults = []
            self.fic_writes = set()  # identity ids with a federated-credential write under way
            self.customer_client = guid()
            self.customer_secret = random_secret()
            customer = guid()
            self.principals[customer] = {"name": "customer-automation", "graph": True, "appId": self.customer_client, "secret": self.customer_secret}
            self.customer = customer
            # The customer's automation: Owner of the subscription, and Storage Blob Data
            # Reader (Owner holds no data actions: listing blobs with an Entra token needs
            # a data role, https://learn.microsoft.com/azure/storage/blobs/authorize-access-azure-active-directory).
            for role in (OWNER, STORAGE_BLOB_DATA_READER):
                rid = f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleAssignments/{guid()}"
                self.arm[rid.lower()] = {"id": rid, "body": {
                    "id": rid, "name": rid.rsplit("/", 1)[1], "type": "Microsoft.Authorization/roleAssignments",
                    "properties": {"roleDefinitionId": f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{role}",
                                   "principalId": customer, "principalType": "ServicePrincipal", "scope": f"/subscriptions/{SUBSCRIPTION}",
                                   "createdOn": iso_now()}}}

    # -- resources --------------------------------------------------------------------
    def get(self, rid):
        e = self.arm.get(rid.lower())
        return e["body"] if e else None

    def put(self, rid, body):
        e = self.arm.get(rid.lower())
        if e:
            e["body"] = body
        else:
            self.arm[rid.lower()] = {"id": rid, "body": body}

    def remove_tree(self, rid):
        prefix = rid.lower() + "/"
        for k in [k for k in self.arm if k == rid.lower() or k.startswith(prefix)]:
            del self.arm[k]

    def of_type(self, type_):
        return [e["body"] for e in self.arm.values() if arm_type(e["id"]).lower() == type_.lower()]

    def exists(self, rid):
        if re.match(r"^/subscriptions/[^/]+$", rid, re.I):
            return subscription_of(rid) == SUBSCRIPTION
        if rid.lower().endswith("/blobservices/default"):
            # An account's blob service exists with the account
            # (https://learn.microsoft.com/rest/api/storagerp/blob-services).
            return self.get(rid[: -len("/blobServices/default")]) is not None
        return self.get(rid) is not None

    # -- operations -------------------------------------------------------------------
    def start_op(self, rid, location, namespace, on_done, failure=None):
        op = guid()
        self.ops[op] = {"rid": rid, "polls": 0, "deadline": time.time() + self.polls + 1, "on_done": on_done, "done": False,
                        "failure": failure, "namespace": namespace, "location": location or "eastus2"}
        return op

    def settle(self, op_id=None, poll=False):
        """Completes operations whose time has come (a poll counts; so does time, so that a
        client that stops polling still finds the resource finished)."""
        for oid, op in list(self.ops.items()):
            if op["done"]:
                continue
            if oid == op_id and poll:
                op["polls"] += 1
            if op["polls"] > self.polls or time.time() >= op["deadline"]:
                op["done"] = True
                if op["failure"] is None and op["on_done"]:
                    op["on_done"]()

    def busy(self, rid):
        """An operation still running on this resource or one inside it (a cluster's pools)."""
        self.settle()
        low = rid.lower()
        return any(not op["done"] and (op["rid"].lower() == low or op["rid"].lower().startswith(low + "/") or low.startswith(op["rid"].lower() + "/agentpools"))
                   for op in self.ops.values())


# ---------------------------------------------------------------------------------------
# Validation and read-only fields, per kind. Each cites the REST reference it follows.
# ---------------------------------------------------------------------------------------

def props(body):
    p = body.get("properties")
    return p if isinstance(p, dict) else {}


def need(cond, code, message, target=None):
    if not cond:
        raise bad(code, message, target)


def identity_fill(st, body):
    """`identity.userAssignedIdentities` is a map of identity ids to {principalId, clientId}
    (https://learn.microsoft.com/rest/api/managedidentity/user-assigned-identities)."""
    ident = body.get("identity")
    if not isinstance(ident, dict):
        return
    ids = ident.get("userAssignedIdentities")
    if ident.get("type", "").lower().find("userassigned") >= 0:
        need(isinstance(ids, dict) and ids, "InvalidIdentityValues", "identity.userAssignedIdentities must be a map of resource ids to objects", "identity")
    for k in list((ids or {}).keys()):
        ui = st.get(k)
        need(ui is not None, "InvalidIdentityValues", f"The user assigned identity {k} does not exist", "identity.userAssignedIdentities")
        ids[k] = {"principalId": props(ui)["principalId"], "clientId": props(ui)["clientId"]}


# https://learn.microsoft.com/rest/api/resources/resource-groups/create-or-update
@kind("Microsoft.Resources/resourceGroups", ["2021-04-01", "2022-09-01", "2024-03-01"], put="sync", delete="location")
def v_rg(st, rid, body, old):
    name = rid.rsplit("/", 1)[1]
    need(re.fullmatch(r"[-\w._()]{1,90}", name) and not name.endswith("."), "InvalidResourceGroup", f"The resource group name '{name}' is invalid")


# https://learn.microsoft.com/rest/api/keyvault/keyvault/vaults/create-or-update
@kind("Microsoft.KeyVault/vaults", ["2022-07-01", "2023-07-01"], delete="sync")
def v_vault(st, rid, body, old):
    name = rid.rsplit("/", 1)[1]
    p = props(body)
    need(re.fullmatch(r"[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]", name) and "--" not in name, "VaultNameNotValid", f"The vault name '{name}' is invalid")
    need(is_guid(p.get("tenantId")), "BadRequest", "properties.tenantId is required", "properties.tenantId")
    need(isinstance(p.get("sku"), dict) and p["sku"].get("name") in ("standard", "premium"), "BadRequest", "properties.sku is required", "properties.sku")
    if old and props(old).get("enablePurgeProtection") is True:
        need(p.get("enablePurgeProtection") is not False, "BadRequest", "Purge protection cannot be disabled once enabled", "properties.enablePurgeProtection")
    if not old and name.lower() in st.deleted_vaults and p.get("createMode") != "recover":
        raise arm_error(409, "ConflictError", f"A vault with the same name already exists in deleted state. You need to either recover or purge existing key vault. Vault name: {name}")
    if p.get("createMode") == "recover":
        st.deleted_vaults.pop(name.lower(), None)
        p.pop("createMode", None)
    p["vaultUri"] = f"https://{name}.vault.azure.net/"


# https://learn.microsoft.com/rest/api/keyvault/keyvault/keys/create-if-not-exist
@kind("Microsoft.KeyVault/vaults/keys", ["2022-07-01", "2023-07-01"], tracked=False, put="sync", delete="none")
def v_key(st, rid, body, old):
    p = props(body)
    need(p.get("kty") in ("RSA", "RSA-HSM", "EC", "EC-HSM"), "BadParameter", f"kty {p.get('kty')!r} is not one of RSA, RSA-HSM, EC, EC-HSM", "properties.kty")
    if p["kty"].startswith("RSA"):
        need(p.get("keySize") in (2048, 3072, 4096), "BadParameter", "keySize must be 2048, 3072 or 4096", "properties.keySize")
    vault, name = rid.split("/vaults/")[1].split("/keys/")
    version = hex32()
    p["keyUri"] = f"https://{vault}.vault.azure.net/keys/{name}"
    p["keyUriWithVersion"] = f"https://{vault}.vault.azure.net/keys/{name}/{version}"
    p.setdefault("attributes", {}).update({"enabled": True, "created": int(time.time())})


# https://learn.microsoft.com/rest/api/managedidentity/user-assigned-identities/create-or-update
@kind("Microsoft.ManagedIdentity/userAssignedIdentities", ["2023-01-31", "2024-11-30"], put="sync", delete="sync")
def v_identity(st, rid, body, old):
    p = body.setdefault("properties", {})
    if old:
        p.update({k: props(old)[k] for k in ("principalId", "clientId", "tenantId")})
    else:
        p.update({"principalId": guid(), "clientId": guid(), "tenantId": TENANT})
    st.principals[p["principalId"]] = {"name": rid.rsplit("/", 1)[1], "graph": False}


# https://learn.microsoft.com/rest/api/managedidentity/federated-identity-credentials/create-or-update
@kind("Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials", ["2023-01-31", "2024-11-30"], tracked=False, put="sync", delete="sync")
def v_fic(st, rid, body, old):
    p = props(body)
    name = rid.rsplit("/", 1)[1]
    need(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{2,119}", name), "BadRequest", f"Invalid federated identity credential name '{name}'")
    need(str(p.get("issuer", "")).startswith("https://"), "BadRequest", "issuer must be an https URL", "properties.issuer")
    need(bool(p.get("subject")), "BadRequest", "subject is required", "properties.subject")
    need(isinstance(p.get("audiences"), list) and len(p["audiences"]) == 1, "BadRequest", "audiences must hold exactly one value", "properties.audiences")
    siblings = [b for b in st.of_type("Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials")
                if b["id"].lower().startswith(parent_of(rid).lower() + "/") and b["id"].lower() != rid.lower()]
    need(len(siblings) < 20, "BadRequest", "An identity can have at most 20 federated identity credentials")
    for s in siblings:
        if props(s).get("issuer") == p["issuer"] and props(s).get("subject") == p["subject"]:
            raise arm_error(409, "Conflict", f"A federated identity credential with issuer {p['issuer']} and subject {p['subject']} already exists")


def role_definition(st, role_id):
    """A role definition by its id (any scope form) or GUID: built-in, or custom."""
    g = str(role_id).rstrip("/").rsplit("/", 1)[-1].lower()
    b = roles.builtin_role(g)
    if b:
        return b
    for d in st.of_type("Microsoft.Authorization/roleDefinitions"):
        if d["name"].lower() == g:
            return props(d)
    return None


# https://learn.microsoft.com/rest/api/authorization/role-assignments/create
@kind("Microsoft.Authorization/roleAssignments", ["2022-04-01"], tracked=False, put="sync", delete="sync")
def v_assignment(st, rid, body, old):
    name = rid.rsplit("/", 1)[1]
    need(is_guid(name), "InvalidRoleAssignmentId", f"The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID.")
    p = props(body)
    need(role_definition(st, p.get("roleDefinitionId", "")) is not None, "RoleDefinitionDoesNotExist", f"The specified role definition with ID '{p.get('roleDefinitionId')}' does not exist.")
    need(p.get("principalId") in st.principals or p.get("principalId") in st.sps, "PrincipalNotFound",
         f"Principal {p.get('principalId')} does not exist in the directory {TENANT}.")
    if p.get("condition"):
        need(p.get("conditionVersion") == "2.0", "InvalidConditionVersion", "conditionVersion must be 2.0")
        try:
            roles.parse_condition(p["condition"])
        except roles.ConditionError as e:
            raise bad("InvalidCondition", f"The condition is not valid: {e}")
    scope = parent_of(rid)
    need(st.exists(scope), "InvalidResourceScope" if "/providers/" in scope else "ResourceGroupNotFound", f"The scope '{scope}' does not exist.")
    for a in st.of_type("Microsoft.Authorization/roleAssignments"):
        q = props(a)
        if a["id"].lower() != rid.lower() and q.get("scope", "").lower() == scope.lower() and q.get("principalId") == p.get("principalId") \
                and q.get("roleDefinitionId", "").rsplit("/", 1)[-1].lower() == p["roleDefinitionId"].rsplit("/", 1)[-1].lower():
            raise arm_error(409, "RoleAssignmentExists", "The role assignment already exists.")
    if old:
        q = props(old)
        for k in ("roleDefinitionId", "principalId"):
            need(q.get(k, "").lower() == str(p.get(k, "")).lower(), "RoleAssignmentUpdateNotPermitted",
                 "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.")
    p["scope"] = scope
    p.setdefault("createdOn", iso_now())


# https://learn.microsoft.com/rest/api/authorization/role-definitions/create-or-update
@kind("Microsoft.Authorization/roleDefinitions", ["2022-04-01"], tracked=False, put="sync", delete="sync")
def v_role(st, rid, body, old):
    name = rid.rsplit("/", 1)[1]
    need(is_guid(name), "RoleDefinitionIdNotValid", f"The role definition ID '{name}' is not valid; it must be a GUID.")
    p = props(body)
    scope = parent_of(rid)
    scopes = p.get("assignableScopes") or []
    need(scopes, "InvalidAssignableScopes", "assignableScopes is required")
    need(any(s.lower() == scope.lower() for s in scopes), "InvalidAssignableScopes", f"The scope '{scope}' must be one of the assignable scopes.")
    need(p.get("roleName"), "RoleDefinitionNameNull", "roleName is required")
    for d in st.of_type("Microsoft.Authorization/roleDefinitions"):
        if d["name"].lower() != name.lower() and props(d).get("roleName", "").lower() == p["roleName"].lower():
            raise arm_error(409, "RoleDefinitionWithSameNameExists", f"A custom role with the same name '{p['roleName']}' already exists in this directory.")
    p["type"] = "CustomRole"
    # ARM names custom roles by their subscription-level id, whatever scope they were written at.
    body["id"] = f"/subscriptions/{subscription_of(rid)}/providers/Microsoft.Authorization/roleDefinitions/{name}"


# https://learn.microsoft.com/rest/api/compute/disk-encryption-sets/create-or-update
@kind("Microsoft.Compute/diskEncryptionSets", ["2023-04-02", "2024-03-02"])
def v_des(st, rid, body, old):
    p = props(body)
    need(deep(p, "activeKey", "keyUrl"), "InvalidParameter", "activeKey.keyUrl is required", "properties.activeKey.keyUrl")
    identity_fill(st, body)


# https://learn.microsoft.com/rest/api/virtualnetwork/virtual-networks/create-or-update
@kind("Microsoft.Network/virtualNetworks", ["2023-09-01", "2024-05-01"])
def v_vnet(st, rid, body, old):
    prefixes = deep(body, "properties", "addressSpace", "addressPrefixes", default=[])
    need(prefixes and all(cidr(x) for x in prefixes), "InvalidAddressPrefixFormat", f"addressPrefixes {prefixes} are not valid CIDRs", "properties.addressSpace")
    # Network Watcher is enabled automatically in a region when a virtual network is
    # created there (https://learn.microsoft.com/azure/network-watcher/network-watcher-create).
    loc = norm_location(body.get("location"))
    rg = f"/subscriptions/{subscription_of(rid)}/resourceGroups/NetworkWatcherRG"
    if not st.exists(rg):
        st.put(rg, {"id": rg, "name": "NetworkWatcherRG", "type": "Microsoft.Resources/resourceGroups", "location": loc, "properties": {"provisioningState": "Succeeded"}})
    nw = f"{rg}/providers/Microsoft.Network/networkWatchers/NetworkWatcher_{loc}"
    if not st.exists(nw):
        st.put(nw, {"id": nw, "name": f"NetworkWatcher_{loc}", "type": "Microsoft.Network/networkWatchers", "location": loc, "properties": {"provisioningState": "Succeeded"}})


def referenced(st, ref, what, target):
    rid = (ref or {}).get("id") if isinstance(ref, dict) else ref
    if rid:
        need(st.exists(rid), "InvalidResourceReference", f"Resource {rid} referenced by {what} was not found.", target)


# https://learn.microsoft.com/rest/api/virtualnetwork/subnets/create-or-update
@kind("Microsoft.Network/virtualNetworks/subnets", ["2023-09-01", "2024-05-01"], tracked=False)
def v_subnet(st, rid, body, old):
    p = props(body)
    net = cidr(p.get("addressPrefix"))
    need(net is not None, "InvalidAddressPrefixFormat", f"addressPrefix {p.get('addressPrefix')!r} is not a valid CIDR", "properties.addressPrefix")
    vnet = st.get(parent_of(rid))
    space = [cidr(x) for x in deep(vnet, "properties", "addressSpace", "addressPrefixes", default=[])]
    need(any(s and net.subnet_of(s) for s in space), "NetcfgSubnetRangeOutsideVnet", f"Subnet {rid} is not in the virtual network's address space {space}")
    for s in st.of_type("Microsoft.Network/virtualNetworks/subnets"):
        if s["id"].lower().startswith(parent_of(rid).lower() + "/") and s["id"].lower() != rid.lower():
            other = cidr(props(s).get("addressPrefix"))
            need(not (other and net.overlaps(other)), "NetcfgInvalidSubnet", f"Subnet {rid} overlaps {s['id']}")
    if old:
        need(props(old).get("addressPrefix") == p["addressPrefix"] or not st_in_use(st, rid), "InUseSubnetCannotBeUpdated", f"Subnet {rid} is in use and cannot be updated.")
    referenced(st, p.get("networkSecurityGroup"), "the subnet", "properties.networkSecurityGroup")
    referenced(st, p.get("natGateway"), "the subnet", "properties.natGateway")


def st_in_use(st, subnet_id):
    text = json.dumps([e["body"] for e in st.arm.values() if "/subnets/" not in e["id"].lower()]).lower()
    return subnet_id.lower() in text


# https://learn.microsoft.com/rest/api/virtualnetwork/public-ip-addresses/create-or-update
@kind("Microsoft.Network/publicIPAddresses", ["2023-09-01", "2024-05-01"])
def v_pip(st, rid, body, old):
    props(body).setdefault("ipAddress", f"20.{len(st.arm) % 250}.{int(time.time()) % 250}.10")


# https://learn.microsoft.com/rest/api/virtualnetwork/nat-gateways/create-or-update
@kind("Microsoft.Network/natGateways", ["2023-09-01", "2024-05-01"])
def v_nat(st, rid, body, old):
    for ip in props(body).get("publicIpAddresses") or []:
        referenced(st, ip, "the NAT gateway", "properties.publicIpAddresses")


# https://learn.microsoft.com/rest/api/virtualnetwork/network-security-groups/create-or-update
@kind("Microsoft.Network/networkSecurityGroups", ["2023-09-01", "2024-05-01"])
def v_nsg(st, rid, body, old):
    seen = {}
    for rule in props(body).get("securityRules") or []:
        rp = rule.get("properties") or {}
        prio = rp.get("priority")
        need(isinstance(prio, int) and 100 <= prio <= 4096, "SecurityRuleInvalidPriority", f"Security rule {rule.get('name')} has invalid priority {prio}. Value provided: {prio} Allowed range 100-4096.")
        need(rp.get("direction") in ("Inbound", "Outbound") and rp.get("access") in ("Allow", "Deny"), "SecurityRuleParameterInvalid", f"Security rule {rule.get('name')}: direction and access are required")
        key = (rp["direction"], prio)
        need(key not in seen, "SecurityRuleConflict", f"Security rule {rule.get('name')} conflicts with rule {seen.get(key)}. Rules cannot have the same Priority and Direction.")
        seen[key] = rule.get("name")
        rule["id"] = f"{rid}/securityRules/{rule.get('name')}"


def child_ids(rid, p, key, segment):
    for item in p.get(key) or []:
        item["id"] = f"{rid}/{segment}/{item.get('name')}"


# https://learn.microsoft.com/rest/api/load-balancer/load-balancers/create-or-update
@kind("Microsoft.Network/loadBalancers", ["2023-09-01", "2024-05-01"])
def v_lb(st, rid, body, old):
    p = props(body)
    for key, seg in (("frontendIPConfigurations", "frontendIPConfigurations"), ("backendAddressPools", "backendAddressPools"),
                     ("probes", "probes"), ("loadBalancingRules", "loadBalancingRules")):
        child_ids(rid, p, key, seg)
    frontends = {f["id"].lower() for f in p.get("frontendIPConfigurations") or []}
    pools = {f["id"].lower() for f in p.get("backendAddressPools") or []}
    probes = {f["id"].lower() for f in p.get("probes") or []}
    for f in p.get("frontendIPConfigurations") or []:
        referenced(st, deep(f, "properties", "subnet"), "a frontend IP configuration", "properties.frontendIPConfigurations")
    for pool in p.get("backendAddressPools") or []:
        for a in deep(pool, "properties", "loadBalancerBackendAddresses", default=[]):
            need(deep(a, "properties", "ipAddress"), "InvalidRequestFormat", f"Backend address {a.get('name')} needs an ipAddress", "properties.backendAddressPools")
    for rule in p.get("loadBalancingRules") or []:
        rp = rule.get("properties") or {}
        need(str(deep(rp, "frontendIPConfiguration", "id", default="")).lower() in frontends, "InvalidResourceReference",
             f"Load balancing rule {rule.get('name')} must reference a frontend IP configuration of {rid}")
        if rp.get("backendAddressPool"):
            need(rp["backendAddressPool"].get("id", "").lower() in pools, "InvalidResourceReference", f"Rule {rule.get('name')}: unknown backend pool")
        if rp.get("probe"):
            need(rp["probe"].get("id", "").lower() in probes, "InvalidResourceReference", f"Rule {rule.get('name')}: unknown probe")


# https://learn.microsoft.com/rest/api/virtualnetwork/private-link-services/create-or-update
@kind("Microsoft.Network/privateLinkServices", ["2023-09-01", "2024-05-01"])
def v_pls(st, rid, body, old):
    p = props(body)
    fes = p.get("loadBalancerFrontendIpConfigurations") or []
    need(fes, "PrivateLinkServiceWithoutLoadBalancerFrontendIpConfigurations", "A private link service needs a load balancer frontend IP configuration")
    for fe in fes:
        lb_id, _, name = fe.get("id", "").rpartition("/frontendIPConfigurations/")
        lb = st.get(lb_id) if lb_id else None
        need(lb and any(f.get("name", "").lower() == name.lower() for f in props(lb).get("frontendIPConfigurations") or []),
             "InvalidResourceReference", f"Frontend IP configuration {fe.get('id')} does not exist")
    for ipc in p.get("ipConfigurations") or []:
        sid = deep(ipc, "properties", "subnet", "id")
        subnet = st.get(sid) if sid else None
        need(subnet is not None, "InvalidResourceReference", f"Subnet {sid} does not exist")
        need(props(subnet).get("privateLinkServiceNetworkPolicies") == "Disabled", "PrivateLinkServiceCannotBeCreatedInSubnetThatHasNetworkPoliciesEnabled",
             f"Private link service cannot be created in subnet {sid} since it has private link service network policies enabled.")
    p["alias"] = f"{rid.rsplit('/', 1)[1]}.{guid()}.{norm_location(body.get('location'))}.azure.privatelinkservice"


# Read only here: AKS creates it (https://learn.microsoft.com/rest/api/virtualnetwork/private-endpoints/get).
@kind("Microsoft.Network/privateEndpoints", ["2023-09-01", "2024-05-01"])
def v_pe(st, rid, body, old):
    raise arm_error(403, "AuthorizationFailed", "private endpoints are not written by unionctl")


# Made by Azure, read only here (https://learn.microsoft.com/rest/api/network-watcher/network-watchers/get).
@kind("Microsoft.Network/networkWatchers", ["2023-09-01", "2024-05-01"])
def v_watcher(st, rid, body, old):
    raise arm_error(403, "AuthorizationFailed", "Network Watcher is made by Azure with the region's first virtual network")


# https://learn.microsoft.com/rest/api/network-watcher/flow-logs/create-or-update
@kind("Microsoft.Network/networkWatchers/flowLogs", ["2023-09-01", "2024-05-01"])
def v_flow(st, rid, body, old):
    watcher = st.get(parent_of(rid))
    need(watcher is not None, "NetworkWatcherNotFound", f"Network watcher {parent_of(rid)} does not exist")
    p = props(body)
    need(p.get("targetResourceId") and st.exists(p["targetResourceId"]), "InvalidTargetResourceId", f"targetResourceId {p.get('targetResourceId')} does not exist")
    storage = st.get(p.get("storageId") or "")
    need(storage is not None, "InvalidStorageId", f"storageId {p.get('storageId')} does not exist")
    need(norm_location(storage.get("location")) == norm_location(watcher.get("location")), "FlowLogStorageAccountLocationMismatch",
         "The storage account must be in the same region as the network watcher")


# https://learn.microsoft.com/rest/api/storagerp/storage-accounts/create
@kind("Microsoft.Storage/storageAccounts", ["2023-01-01", "2023-05-01"], put="location", delete="sync")
def v_storage(st, rid, body, old):
    name = rid.rsplit("/", 1)[1]
    need(re.fullmatch(r"[a-z0-9]{3,24}", name), "AccountNameInvalid", f"{name} is not a valid storage account name. Storage account name must be between 3 and 24 characters in length and use numbers and lower-case letters only.")
    for a in st.of_type("Microsoft.Storage/storageAccounts"):
        if a["name"] == name and a["id"].lower() != rid.lower():
            raise arm_error(409, "StorageAccountAlreadyTaken", f"The storage account named {name} is already taken.")
    need(body.get("kind") and deep(body, "sku", "name"), "InvalidRequestContent", "kind and sku.name are required")
    p = props(body)
    if "minimumTlsVersion" in p:
        need(p["minimumTlsVersion"] in ("TLS1_0", "TLS1_1", "TLS1_2", "TLS1_3"), "InvalidValuesForRequestParameters", f"minimumTlsVersion {p['minimumTlsVersion']!r} is not valid")
    if old:
        need(bool(props(old).get("isHnsEnabled")) == bool(p.get("isHnsEnabled")), "HnsPropertyImmutable", "isHnsEnabled cannot be changed after the account is created")
    for rule in deep(p, "networkAcls", "virtualNetworkRules", default=[]):
        subnet = st.get(rule.get("id", ""))
        need(subnet is not None, "InvalidValuesForRequestParameters", f"virtual network rule {rule.get('id')}: no such subnet")
        # https://learn.microsoft.com/azure/storage/common/storage-network-security#grant-access-from-a-virtual-network
        need(any(e.get("service") == "Microsoft.Storage" for e in props(subnet).get("serviceEndpoints") or []), "NetworkAclsValidationFailure",
             f"Validation of network acls failure: SubnetsHaveNoServiceEndpointsConfigured:{rule.get('id')}.")
    identity_fill(st, body)
    p["primaryEndpoints"] = {"blob": f"https://{name}.blob.core.windows.net/", "dfs": f"https://{name}.dfs.core.windows.net/"}
    p.setdefault("publicNetworkAccess", "Enabled")


# https://learn.microsoft.com/rest/api/storagerp/blob-services/set-service-properties
# (blob versioning: https://learn.microsoft.com/azure/storage/blobs/versioning-enable)
@kind("Microsoft.Storage/storageAccounts/blobServices", ["2023-01-01", "2023-05-01"], tracked=False, put="sync", delete="none")
def v_blob_service(st, rid, body, old):
    need(rid.rsplit("/", 1)[1] == "default", "InvalidResourceName", "The blob service of an account is named 'default'")
    need(isinstance(props(body).get("isVersioningEnabled", False), bool), "InvalidRequestPropertyValue", "isVersioningEnabled must be a boolean")


# https://learn.microsoft.com/rest/api/storagerp/blob-containers/create
@kind("Microsoft.Storage/storageAccounts/blobServices/containers", ["2023-01-01", "2023-05-01"], tracked=False, put="sync", delete="sync")
def v_container(st, rid, body, old):
    name = rid.rsplit("/", 1)[1]
    need(re.fullmatch(r"[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]", name), "ContainerNameInvalid", f"The container name {name} is invalid")
    account = st.get(rid.split("/blobServices/")[0])
    access = props(body).get("publicAccess", "None")
    need(access in ("None", "Blob", "Container"), "InvalidValuesForRequestParameters", f"publicAccess {access!r}")
    if access != "None" and props(account).get("allowBlobPublicAccess") is False:
        raise arm_error(409, "PublicAccessNotPermitted", "Public access is not permitted on this storage account.")


# https://learn.microsoft.com/rest/api/loganalytics/workspaces/create-or-update
@kind("Microsoft.OperationalInsights/workspaces", ["2022-10-01", "2023-09-01"], put="state", delete="sync")
def v_workspace(st, rid, body, old):
    p = props(body)
    p["customerId"] = props(old).get("customerId") if old else guid()


AUDIT_CATEGORIES = {
    # https://learn.microsoft.com/azure/azure-monitor/essentials/activity-log-schema
    "subscription": {"Administrative", "Security", "ServiceHealth", "Alert", "Recommendation", "Policy", "Autoscale", "ResourceHealth"},
    # https://learn.microsoft.com/azure/aks/monitor-aks-reference#resource-logs
    "microsoft.containerservice/managedclusters": {"kube-apiserver", "kube-audit", "kube-audit-admin", "kube-controller-manager", "kube-scheduler",
                                                   "cluster-autoscaler", "guard", "cloud-controller-manager", "csi-azuredisk-controller",
                                                   "csi-azurefile-controller", "csi-snapshot-controller"},
}


# https://learn.microsoft.com/rest/api/monitor/diagnostic-settings/create-or-update (2021-05-01-preview)
@kind("Microsoft.Insights/diagnosticSettings", ["2021-05-01-preview"], tracked=False, put="sync", delete="sync")
def v_diag(st, rid, body, old):
    scope = parent_of(rid)
    need(st.exists(scope), "ResourceNotFound", f"The resource {scope} was not found.")
    p = props(body)
    need(p.get("workspaceId") and st.exists(p["workspaceId"]), "LinkedInvalidPropertyId", f"workspaceId {p.get('workspaceId')} does not exist")
    scope_type = "subscription" if re.fullmatch(r"/subscriptions/[^/]+", scope, re.I) else arm_type(scope).lower()
    allowed = AUDIT_CATEGORIES.get(scope_type)
    for log in p.get("logs") or []:
        if allowed is not None:
            need(log.get("category") in allowed, "BadRequest", f"Category '{log.get('category')}' is not supported.")


def check_linked(st, principal, action, rid):
    if not authorized(st, principal, action, rid):
        raise arm_error(403, "LinkedAuthorizationFailed",
                        f"The client '{principal}' with object id '{principal}' has permission to perform action on scope; however, it does not have permission "
                        f"to perform action(s) '{action}' on the linked scope(s) '{rid}' or the linked scope(s) are invalid.")


AKS_IMMUTABLE = [("dnsPrefix",), ("apiServerAccessProfile", "enablePrivateCluster"), ("networkProfile", "podCidr"),
                 ("networkProfile", "serviceCidr"), ("networkProfile", "networkPlugin")]


# https://learn.microsoft.com/rest/api/aks/managed-clusters/create-or-update
@kind("Microsoft.ContainerService/managedClusters", ["2024-09-01", "2024-10-01"])
def v_aks(st, rid, body, old, principal=None):
    p = props(body)
    need(isinstance(body.get("identity"), dict), "InvalidParameter", "identity is required", "identity")
    if not old:
        need(p.get("agentPoolProfiles"), "InvalidParameter", "agentPoolProfiles is required when creating a cluster", "properties.agentPoolProfiles")
    for path in AKS_IMMUTABLE if old else []:
        need(deep(props(old), *path) == deep(p, *path), "PropertyChangeNotAllowed", f"Changing property '{'.'.join(path)}' is not allowed.", "properties." + ".".join(path))
    if p.get("disableLocalAccounts"):
        need(deep(p, "aadProfile", "managed") is True, "BadRequest", "disableLocalAccounts requires an AAD-enabled cluster (aadProfile.managed)")
    for k in (body.get("identity") or {}).get("userAssignedIdentities") or {}:
        check_linked(st, principal, "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action", k)
    for pool in p.get("agentPoolProfiles") or []:
        if pool.get("vnetSubnetID"):
            need(st.exists(pool["vnetSubnetID"]), "InvalidParameter", f"subnet {pool['vnetSubnetID']} does not exist")
            check_linked(st, principal, "Microsoft.Network/virtualNetworks/subnets/join/action", pool["vnetSubnetID"])
    if p.get("diskEncryptionSetID"):
        need(st.exists(p["diskEncryptionSetID"]), "InvalidParameter", f"diskEncryptionSetID {p['diskEncryptionSetID']} does not exist")
    identity_fill(st, body)
    name, loc = rid.rsplit("/", 1)[1], norm_location(body.get("location"))
    rg_name = rg_of(rid).rsplit("/", 1)[1]
    old_p = props(old) if old else {}
    p["nodeResourceGroup"] = old_p.get("nodeResourceGroup") or f"MC_{rg_name}_{name}_{loc}"
    p["oidcIssuerProfile"] = dict(p.get("oidcIssuerProfile") or {}, issuerURL=deep(old_p, "oidcIssuerProfile", "issuerURL") or f"https://{loc}.oic.prod-aks.azure.com/{TENANT}/{guid()}/")
    p["currentKubernetesVersion"] = f"{p.get('kubernetesVersion', '1.31')}.2"
    if deep(p, "apiServerAccessProfile", "enablePrivateCluster"):
        p["privateFQDN"] = f"{p.get('dnsPrefix', name)}-{hex32()[:8]}.{hex32()[:32]}.privatelink.{loc}.azmk8s.io"
        p.pop("fqdn", None)
    else:
        p["fqdn"] = f"{p.get('dnsPrefix', name)}-{hex32()[:8]}.hcp.{loc}.azmk8s.io"


def aks_created(st, rid):
    """What AKS makes besides the cluster: the nodes' resource group, the private endpoint of
    the API server in it (https://learn.microsoft.com/azure/aks/private-clusters), and the
    agent pools of agentPoolProfiles."""
    body = st.get(rid)
    if body is None:
        return
    p = props(body)
    node_rg = f"/subscriptions/{subscription_of(rid)}/resourceGroups/{p['nodeResourceGroup']}"
    if not st.exists(node_rg):
        st.put(node_rg, {"id": node_rg, "name": p["nodeResourceGroup"], "type": "Microsoft.Resources/resourceGroups", "location": body.get("location"),
                         "managedBy": rid, "properties": {"provisioningState": "Succeeded"}})
    first = (p.get("agentPoolProfiles") or [{}])[0]
    subnet = st.get(first.get("vnetSubnetID") or "")
    if p.get("privateFQDN") and subnet:
        ip = str(next(cidr(props(subnet)["addressPrefix"]).hosts()) + 3)
        pe = f"{node_rg}/providers/Microsoft.Network/privateEndpoints/kube-apiserver"
        st.put(pe, {"id": pe, "name": "kube-apiserver", "type": "Microsoft.Network/privateEndpoints", "location": body.get("location"),
                    "properties": {"provisioningState": "Succeeded", "subnet": {"id": subnet["id"]},
                                   "customDnsConfigs": [{"fqdn": p["privateFQDN"], "ipAddresses": [ip]}]}})
    for pool in p.get("agentPoolProfiles") or []:
        pid = f"{rid}/agentPools/{pool.get('name')}"
        if not st.exists(pid):
            st.put(pid, {"id": pid, "name": pool.get("name"), "type": "Microsoft.ContainerService/managedClusters/agentPools",
                         "properties": dict({k: v for k, v in pool.items() if k != "name"}, provisioningState="Succeeded")})


# https://learn.microsoft.com/rest/api/aks/agent-pools/create-or-update
@kind("Microsoft.ContainerService/managedClusters/agentPools", ["2024-09-01", "2024-10-01"], tracked=False)
def v_pool(st, rid, body, old, principal=None):
    name = rid.rsplit("/", 1)[1]
    need(re.fullmatch(r"[a-z][a-z0-9]{0,11}", name), "InvalidParameter", f"The agent pool name '{name}' is invalid: 1-12 lowercase letters and digits, starting with a letter.")
    p = props(body)
    if old:
        for k in ("vmSize", "osDiskSizeGB"):
            need(props(old).get(k) == p.get(k), "PropertyChangeNotAllowed", f"Changing property '{k}' is not allowed.", "properties." + k)
    if p.get("enableAutoScaling"):
        need(p.get("minCount", 0) <= p.get("count", p.get("minCount", 0)) <= p.get("maxCount", 0), "InvalidParameter", "count must be between minCount and maxCount")
    if p.get("vnetSubnetID"):
        check_linked(st, principal, "Microsoft.Network/virtualNetworks/subnets/join/action", p["vnetSubnetID"])


# ---------------------------------------------------------------------------------------
# Azure RBAC (https://learn.microsoft.com/azure/role-based-access-control/overview#how-azure-rbac-determines-if-a-user-has-access-to-a-resource)
# ---------------------------------------------------------------------------------------

def action_of(method, rid):
    t = arm_type(rid)
    if t == "Microsoft.Resources/resourceGroups":
        t = "Microsoft.Resources/subscriptions/resourceGroups"
    return f"{t}/" + {"GET": "read", "PUT": "write", "PATCH": "write", "DELETE": "delete"}[method]


def authorized(st, principal, action, rid, data=False):
    for a in st.of_type("Microsoft.Authorization/roleAssignments"):
        p = props(a)
        if p.get("principalId") != principal or not roles.scope_covers(p.get("scope", ""), rid):
            continue
        d = role_definition(st, p.get("roleDefinitionId", ""))
        if d and roles.permissions_grant(d.get("permissions"), action, data=data):
            return True
    return False


def holds_role_within(st, principal, scope):
    """Whether `principal` holds any role assignment at `scope`, above it, or anywhere under
    it, whatever the role. That is what makes a subscription visible to a caller (Subscriptions -
    Get / List): a role on one resource group shows the subscription, while its other resources
    stay denied, since a role granted at a scope is inherited by the scopes under it only
    (https://learn.microsoft.com/azure/role-based-access-control/scope-overview). `authorized`
    answers for one action at one scope and its ancestors, so it cannot say this."""
    for a in st.of_type("Microsoft.Authorization/roleAssignments"):
        p = props(a)
        if p.get("principalId") == principal and (roles.scope_covers(p.get("scope", ""), scope) or roles.scope_covers(scope, p.get("scope", ""))):
            return True
    return False


# ---------------------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------------------

class Reply:
    def __init__(self, status, body=None, headers=None, raw=None, ctype="application/json; charset=utf-8"):
        self.status, self.body, self.headers, self.raw, self.ctype = status, body, dict(headers or {}), raw, ctype


def redact(obj):
    if isinstance(obj, dict):
        return {k: ("<redacted>" if k in ("client_secret", "client_assertion", "access_token", "token", "secretText") else redact(v)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [redact(v) for v in obj]
    return obj


class App:
    def __init__(self, state, record, base):
        self.st, self.record, self.base = state, record, base
        self.record_lock = threading.Lock()

    # -- authentication ---------------------------------------------------------------
    def caller(self, headers, audience, flavor="arm"):
        auth = headers.get("Authorization") or ""
        if not auth.startswith("Bearer "):
            raise ApiError(401, "AuthenticationFailed" if flavor == "arm" else "InvalidAuthenticationToken", "Authentication failed. The 'Authorization' header is missing.", flavor)
        try:
            _, claims, ok = jwt_decode(auth[7:], self.st.key)
        except ValueError:
            ok, claims = False, {}
        if not ok or claims.get("exp", 0) < time.time():
            raise ApiError(401, "InvalidAuthenticationToken", "The access token is invalid.", flavor)
        if claims.get("aud") != audience:
            raise ApiError(401, "InvalidAuthenticationTokenAudience", f"The access token has been obtained for wrong audience or resource '{claims.get('aud')}'. It should exactly match with one of the allowed audiences '{audience}'.", flavor)
        return claims["oid"]

    # https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow
    def token(self, tenant, form):
        def oauth(code, msg, status=400):
            return ApiError(status, code, msg, "oauth")
        if tenant != TENANT:
            raise oauth("invalid_request", f"AADSTS90002: Tenant '{tenant}' not found.")
        if form.get("grant_type") != "client_credentials":
            raise oauth("unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type.")
        audience = SCOPES.get(form.get("scope", ""))
        if audience is None:
            raise oauth("invalid_scope", f"AADSTS70011: The provided value for the input parameter 'scope' is not valid: {form.get('scope')}")
        client = form.get("client_id", "")
        st = self.st
        if "client_secret" in form:
            oid = next((o for o, p in st.principals.items() if p.get("appId") == client), None)
            if oid is None:
                raise oauth("unauthorized_client", f"AADSTS700016: Application with identifier '{client}' was not found in the directory.")
            if st.principals[oid].get("secret") != form["client_secret"]:
                raise oauth("invalid_client", "AADSTS7000215: Invalid client secret provided.", 401)
        elif form.get("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            # Workload identity federation: the assertion is the external issuer's token;
            # Entra admits it when a federated credential of the application matches its
            # issuer, subject and audience exactly
            # (https://learn.microsoft.com/entra/workload-id/workload-identity-federation).
            try:
                _, claims, ok = jwt_decode(form.get("client_assertion", ""), st.issuer_key)
            except ValueError:
                raise oauth("invalid_client", "AADSTS50027: JWT token is invalid or malformed.")
            if not ok or claims.get("exp", 0) < time.time():
                raise oauth("invalid_client", "AADSTS700024: Client assertion is not within its valid time range or its signature is invalid.")
            app = next((a for a in st.apps.values() if a["appId"] == client), None)
            if app is None:
                raise oauth("unauthorized_client", f"AADSTS700016: Application with identifier '{client}' was not found in the directory.")
            match = any(f["issuer"] == claims.get("iss") and f["subject"] == claims.get("sub") and claims.get("aud") in f["audiences"]
                        for f in st.fics.get(app["id"], {}).values())
            if not match:
                raise oauth("invalid_client", f"AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: '{claims.get('iss')}'. "
                                              f"Assertion Subject: '{claims.get('sub')}'. Assertion Audience: '{claims.get('aud')}'.")
            oid = next((o for o, s in st.sps.items() if s["appId"] == client), None)
            if oid is None:
                raise oauth("invalid_client", f"AADSTS7000229: The client application {client} is missing service principal in the tenant {TENANT}.")
        else:
            raise oauth("invalid_request", "AADSTS900144: The request body must contain the following parameter: 'client_secret or client_assertion'.")
        token = jwt_encode({"aud": audience, "oid": oid, "tid": TENANT, "appid": client, "exp": int(time.time()) + 3600, "iss": f"https://sts.windows.net/{TENANT}/"}, st.key)
        return Reply(200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token})

    # -- ARM --------------------------------------------------------------------------
    def arm(self, method, path, query, body, headers):
        st = self.st
        principal = self.caller(headers, ARM_AUDIENCE)
        low = path.lower()
        if "/operations/" in low or "/asyncoperations/" in low or "/operationresults/" in low:
            return self.operation(path, method)
        api = query.get("api-version")
        if not api:
            raise bad("MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.")
        if method == "GET" and re.fullmatch(r"/subscriptions/[^/]+/resourceGroups/[^/]+/resources", path, re.I):
            return self.group_resources(path.rsplit("/", 1)[0], principal)
        m = re.fullmatch(r"/subscriptions/([^/]+)/?", path)
        if m and method == "GET":
            return self.subscription_get(m.group(1), api, principal)
        t = arm_type(path)
        if t.endswith("/federatedIdentityCredentials") and method in ("PUT", "DELETE"):
            return self.fic_write(path, lambda: self.arm_locked(method, path, api, principal, body))
        return self.arm_locked(method, path, api, principal, body)

    def arm_locked(self, method, path, api, principal, body):
        st = self.st
        t = arm_type(path)
        k = KINDS.get(t.lower())
        if k is None:
            raise arm_error(400, "NoRegisteredProviderFound", f"No registered resource provider found for location and API version '{api}' for type '{t}'.")
        if api not in k.versions:
            raise arm_error(400, "NoRegisteredProviderFound", f"No registered resource provider found for API version '{api}' and type '{t}'. The supported api-versions are '{', '.join(sorted(k.versions))}'.")
        with st.lock:
            st.settle()
            if t == "Microsoft.Authorization/roleDefinitions" and method == "GET":
                d = self.role_definition_get(path)
                if d is not None:
                    return Reply(200, d)
            if not authorized(st, principal, action_of(method, path), path):
                raise arm_error(403, "AuthorizationFailed", f"The client '{principal}' with object id '{principal}' does not have authorization to perform action "
                                                            f"'{action_of(method, path)}' over scope '{path}' or the scope is invalid. If access was recently granted, please refresh your credentials.")
            rg = rg_of(path)
            if rg and t != "Microsoft.Resources/resourceGroups" and not st.exists(rg):
                raise arm_error(404, "ResourceGroupNotFound", f"Resource group '{rg.rsplit('/', 1)[1]}' could not be found.")
            if method == "GET" and is_collection(path):
                # List (e.g. Vaults - List By Subscription): every resource of the type under the scope.
                scope = path[: path.lower().rindex("/providers/")].lower()
                return Reply(200, {"value": [e["body"] for e in st.arm.values()
                                             if arm_type(e["id"]).lower() == t.lower() and e["id"].lower().startswith(scope + "/")]})
            if method == "GET":
                b = st.get(path)
                if b is None:
                    raise arm_error(404, "ResourceNotFound", f"The Resource '{t}/{path.rsplit('/', 1)[1]}' under resource group '{(rg or '').rsplit('/', 1)[-1]}' was not found.")
                if t == "Microsoft.ContainerService/managedClusters":
                    # A cluster lists every agent pool it has, however it was made
                    # (https://learn.microsoft.com/rest/api/aks/managed-clusters/get).
                    b = copy.deepcopy(b)
                    b["properties"]["agentPoolProfiles"] = [dict(props(e["body"]), name=e["body"]["name"]) for e in st.arm.values()
                                                            if e["id"].lower().startswith(path.lower() + "/agentpools/")] or b["properties"].get("agentPoolProfiles", [])
                return Reply(200, b)
            if method == "PUT":
                return self.arm_put(k, path, body, principal)
            if method == "DELETE":
                return self.arm_delete(k, path)
        raise arm_error(405, "MethodNotAllowed", f"{method} is not supported")

    # https://learn.microsoft.com/rest/api/resources/subscriptions/get?view=rest-resources-2022-12-01
    # The Subscription shape of its GetASingleSubscription example. ARM's own routes
    # (Microsoft.Resources) refuse an api-version they do not serve with 400
    # InvalidApiVersionParameter "The api-version 'X' is invalid. The supported versions are
    # '...'." (Azure/azure-cli#28038, Azure/azure-sdk-for-net#3160), not with the resource
    # providers' NoRegisteredProviderFound. A subscription the caller holds no role in, at it or
    # under it, is as one that does not exist: 404 SubscriptionNotFound "The subscription 'X'
    # could not be found." (https://learn.microsoft.com/azure/azure-resource-manager/troubleshooting/common-deployment-errors,
    # SubscriptionNotFound: a wrong id or one the caller may not access). The server holds one
    # subscription, SUBSCRIPTION, in TENANT.
    SUBSCRIPTION_VERSIONS = ("2016-06-01", "2018-06-01", "2019-06-01", "2019-11-01", "2020-01-01", "2021-01-01", "2022-12-01")

    def subscription_get(self, sub, api, principal):
        st = self.st
        if api not in self.SUBSCRIPTION_VERSIONS:
            raise bad("InvalidApiVersionParameter", f"The api-version '{api}' is invalid. The supported versions are '{','.join(sorted(self.SUBSCRIPTION_VERSIONS, reverse=True))}'.")
        with st.lock:
            if sub.lower() != SUBSCRIPTION or not holds_role_within(st, principal, f"/subscriptions/{SUBSCRIPTION}"):
                raise arm_error(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")
            return Reply(200, {"id": f"/subscriptions/{SUBSCRIPTION}", "subscriptionId": SUBSCRIPTION, "tenantId": TENANT,
                               "displayName": "Azure subscription 1", "state": "Enabled",
                               "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01", "spendingLimit": "Off"},
                               "authorizationSource": "RoleBased", "managedByTenants": []})

    # https://learn.microsoft.com/rest/api/resources/resources/list-by-resource-group
    def group_resources(self, rg, principal):
        st = self.st
        with st.lock:
            st.settle()
            if not st.exists(rg):
                raise arm_error(404, "ResourceGroupNotFound", f"Resource group '{rg.rsplit('/', 1)[1]}' could not be found.")
            if not authorized(st, principal, "Microsoft.Resources/subscriptions/resourceGroups/resources/read", rg) and not authorized(st, principal, "Microsoft.Resources/subscriptions/resourceGroups/read", rg):
                raise arm_error(403, "AuthorizationFailed", f"The client '{principal}' does not have authorization to list the resources of '{rg}'.")
            prefix = rg.lower() + "/providers/"
            top = [e["body"] for e in st.arm.values() if e["id"].lower().startswith(prefix) and len(e["id"][len(prefix):].split("/")) == 3
                   and arm_type(e["id"]) not in ("Microsoft.Authorization/roleAssignments", "Microsoft.Authorization/roleDefinitions", "Microsoft.Insights/diagnosticSettings")]
            return Reply(200, {"value": [{k: b.get(k) for k in ("id", "name", "type", "location", "tags")} for b in top]})

    def role_definition_get(self, path):
        g = path.rsplit("/", 1)[1]
        b = roles.builtin_role(g)
        if b:
            rid = f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{g}"
            return {"id": rid, "name": g, "type": "Microsoft.Authorization/roleDefinitions", "properties": b}
        for d in self.st.of_type("Microsoft.Authorization/roleDefinitions"):
            if d["name"].lower() == g.lower():
                return d
        return None

    def async_headers(self, op, namespace, location, rid, kind_):
        url = f"{self.base}/subscriptions/{subscription_of(rid)}/providers/{namespace}/locations/{location}/operations/{op}?api-version={sorted(kind_.versions)[-1]}"
        return {"Azure-AsyncOperation": url, "Retry-After": "1"}

    def arm_put(self, k, rid, body, principal):
        st = self.st
        if not isinstance(body, dict):
            raise bad("InvalidRequestContent", "The request content was invalid and could not be deserialized.")
        parent = parent_of(rid)
        if k.type != "Microsoft.Resources/resourceGroups" and not st.exists(parent):
            raise arm_error(404, "ParentResourceNotFound", f"Can not perform requested operation on nested resource. Parent resource '{parent}' not found.")
        if k.type.startswith("Microsoft.ContainerService/") and st.busy(rid if k.type.endswith("managedClusters") else parent):
            raise arm_error(409, "OperationNotAllowed", "Operation is not allowed because there's an in progress operation on the managed cluster.")
        old = st.get(rid)
        body = copy.deepcopy(body)
        if k.tracked:
            loc = norm_location(body.get("location"))
            need(loc, "LocationRequired", "The location property is required for this definition.")
            need(loc in REGIONS, "NoRegisteredProviderFound", f"The provided location '{body.get('location')}' is not available for resource type '{k.type}'.")
            body["location"] = loc
            if old:
                need(norm_location(old.get("location")) == loc, "InvalidResourceLocation", f"The resource '{rid.rsplit('/', 1)[1]}' already exists in location '{old.get('location')}'. A resource with the same name cannot be created in location '{loc}'.")
        if k.type == "Microsoft.KeyVault/vaults/keys" and old:
            return Reply(200, old)  # Keys - Create If Not Exist: an existing key is returned unchanged
        body.setdefault("properties", {})
        if k.type in ("Microsoft.ContainerService/managedClusters", "Microsoft.ContainerService/managedClusters/agentPools"):
            k.validate(st, rid, body, old, principal=principal)
        else:
            k.validate(st, rid, body, old)
        name = rid.rsplit("/", 1)[1]
        body["id"] = body.get("id") if k.type == "Microsoft.Authorization/roleDefinitions" else rid
        body["name"], body["type"] = name, k.type
        status = 200 if old else 201
        if k.put == "sync":
            body["properties"]["provisioningState"] = "Succeeded"
            st.put(rid, body)
            return Reply(status, body)
        body["properties"]["provisioningState"] = "Updating" if old else "Creating"
        st.put(rid, body)
        namespace = k.type.split("/")[0]

        def done():
            b = st.get(rid)
            if b is not None:
                b["properties"]["provisioningState"] = "Succeeded"
                if k.type == "Microsoft.ContainerService/managedClusters":
                    aks_created(st, rid)
        op = st.start_op(rid, body.get("location"), namespace, done)
        if k.put == "state":
            # Answered at once, still provisioning: the client reads until Succeeded.
            return Reply(status, body)
        if k.put == "location":
            # Storage accounts: 202 and a Location to poll, no body
            # (https://learn.microsoft.com/rest/api/storagerp/storage-accounts/create).
            loc_url = f"{self.base}/subscriptions/{subscription_of(rid)}/providers/{namespace}/locations/{body.get('location')}/asyncoperations/{op}?monitor=true&api-version={sorted(k.versions)[-1]}"
            return Reply(202, None, {"Location": loc_url, "Retry-After": "1"})
        return Reply(status, body, self.async_headers(op, namespace, body.get("location") or "eastus2", rid, k))

    def fic_write(self, rid, then):
        """Managed identities refuse concurrent writes of their federated credentials
        (https://learn.microsoft.com/entra/workload-id/workload-identity-federation-considerations#concurrent-updates-arent-supported-user-assigned-managed-identities):
        a write is in flight for 150 ms, and another one on the same identity meanwhile is refused."""
        identity = parent_of(rid).lower()
        with self.st.lock:
            if identity in self.st.fic_writes:
                raise arm_error(409, "ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity",
                                "Too many Federated Identity Credentials are written concurrently for the managed identity. Write them one at a time.")
            self.st.fic_writes.add(identity)
        try:
            time.sleep(0.15)
            return then()
        finally:
            with self.st.lock:
                self.st.fic_writes.discard(identity)

    def arm_delete(self, k, rid):
        st = self.st
        if k.delete == "none":
            raise arm_error(405, "MethodNotAllowed", f"The resource type '{k.type}' does not support DELETE in Azure Resource Manager.")
        b = st.get(rid)
        if b is None:
            return Reply(204)
        if k.type.startswith("Microsoft.ContainerService/") and st.busy(rid):
            raise arm_error(409, "OperationNotAllowed", "Operation is not allowed because there's an in progress operation on the managed cluster.")
        if k.type == "Microsoft.Authorization/roleDefinitions":
            for a in st.of_type("Microsoft.Authorization/roleAssignments"):
                if props(a).get("roleDefinitionId", "").rsplit("/", 1)[-1].lower() == rid.rsplit("/", 1)[1].lower():
                    raise bad("RoleDefinitionHasAssignments", "There are existing role assignments referencing role.")

        def remove():
            if k.type == "Microsoft.KeyVault/vaults":
                st.deleted_vaults[rid.rsplit("/", 1)[1].lower()] = b  # soft delete (purge protection keeps it)
            if k.type == "Microsoft.ContainerService/managedClusters":
                st.remove_tree(f"/subscriptions/{subscription_of(rid)}/resourceGroups/{props(b).get('nodeResourceGroup')}")
            st.remove_tree(rid)
            # Extension resources on it (role assignments, diagnostic settings) go with it.
            for key in [key for key, e in st.arm.items() if key.startswith(rid.lower() + "/providers/")]:
                st.arm.pop(key, None)
        if k.delete == "sync":
            remove()
            return Reply(200)
        b.setdefault("properties", {})["provisioningState"] = "Deleting"
        namespace = k.type.split("/")[0]
        op = st.start_op(rid, b.get("location"), namespace, remove)
        if k.delete == "location":
            return Reply(202, None, {"Location": f"{self.base}/subscriptions/{subscription_of(rid)}/operationresults/{op}?api-version=2022-09-01", "Retry-After": "1"})
        return Reply(202, None, self.async_headers(op, namespace, b.get("location") or "eastus2", rid, k))

    def operation(self, path, method):
        st = self.st
        op_id = path.rstrip("/").rsplit("/", 1)[1]
        with st.lock:
            op = st.ops.get(op_id)
            if op is None:
                raise arm_error(404, "OperationNotFound", f"Operation {op_id} was not found.")
            st.settle(op_id, poll=True)
            monitor = "/asyncoperations/" in path.lower() or "/operationresults/" in path.lower()
            if not op["done"]:
                return Reply(202, None, {"Retry-After": "1"}) if monitor else Reply(200, {"id": path, "name": op_id, "status": "InProgress", "startTime": iso_now()}, {"Retry-After": "1"})
            if op["failure"]:
                return Reply(200, {"id": path, "name": op_id, "status": "Failed", "error": op["failure"]})
            if monitor:
                b = st.get(op["rid"])
                return Reply(200, b) if b is not None else Reply(204)
            return Reply(200, {"id": path, "name": op_id, "status": "Succeeded", "startTime": iso_now(), "endTime": iso_now()})

    # -- Graph ------------------------------------------------------------------------
    def graph(self, method, path, body, headers):
        """Microsoft Graph v1.0 (https://learn.microsoft.com/graph/api/resources/application)."""
        st = self.st
        principal = self.caller(headers, GRAPH_AUDIENCE, "graph")
        if not st.principals.get(principal, {}).get("graph"):
            raise ApiError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.", "graph")
        rest = path[len("/graph/v1.0/"):]
        upsert = (headers.get("Prefer") or "").lower() == "create-if-missing"
        with st.lock:
            m = re.fullmatch(r"applications\(uniqueName='((?:[^']|'')*)'\)", rest)
            if m:
                return self.app_by_unique_name(method, m.group(1).replace("''", "'"), body, upsert)
            m = re.fullmatch(r"applications/([0-9a-f-]{36})", rest)
            if m:
                app = st.apps.get(m.group(1))
                if app is None:
                    raise ApiError(404, "Request_ResourceNotFound", f"Resource '{m.group(1)}' does not exist or one of its queried reference-property objects are not present.", "graph")
                if method == "GET":
                    return Reply(200, app)
                if method == "DELETE":
                    # Deleted applications go to deletedItems with their service principals.
                    st.apps.pop(app["id"])
                    st.fics.pop(app["id"], None)
                    for sid in [s for s, sp in st.sps.items() if sp["appId"] == app["appId"]]:
                        st.sps.pop(sid)
                    return Reply(204)
            # https://learn.microsoft.com/graph/api/application-addpassword, -removepassword
            m = re.fullmatch(r"applications/([0-9a-f-]{36})/(addPassword|removePassword)", rest)
            if m and method == "POST":
                app = st.apps.get(m.group(1))
                if app is None:
                    raise ApiError(404, "Request_ResourceNotFound", f"Resource '{m.group(1)}' does not exist.", "graph")
                if m.group(2) == "addPassword":
                    cred = {"keyId": guid(), "displayName": (body or {}).get("passwordCredential", {}).get("displayName"), "hint": "abc"}
                    app["passwordCredentials"].append(cred)
                    return Reply(200, dict(cred, secretText=random_secret()))
                before = len(app["passwordCredentials"])
                app["passwordCredentials"] = [c for c in app["passwordCredentials"] if c["keyId"] != (body or {}).get("keyId")]
                if len(app["passwordCredentials"]) == before:
                    raise ApiError(400, "Request_BadRequest", "No password credential found with keyId.", "graph")
                return Reply(204)
            m = re.fullmatch(r"applications/([0-9a-f-]{36})/federatedIdentityCredentials(?:/([^/]+))?", rest)
            if m:
                return self.fic(method, m.group(1), m.group(2), body)
            m = re.fullmatch(r"servicePrincipals\(appId='([^']*)'\)", rest)
            if m:
                return self.sp_by_app_id(method, m.group(1), body, upsert)
            m = re.fullmatch(r"servicePrincipals/([0-9a-f-]{36})", rest)
            if m and method in ("GET", "DELETE"):
                sp = st.sps.get(m.group(1))
                if sp is None:
                    raise ApiError(404, "Request_ResourceNotFound", f"Resource '{m.group(1)}' does not exist.", "graph")
                if method == "DELETE":
                    st.sps.pop(sp["id"])
                    return Reply(204)
                return Reply(200, sp)
        raise ApiError(400, "BadRequest", f"Resource not found for the segment '{rest.split('/')[0]}'.", "graph")

    # https://learn.microsoft.com/graph/api/application-upsert
    def app_by_unique_name(self, method, unique, body, upsert):
        st = self.st
        app = next((a for a in st.apps.values() if a["uniqueName"] == unique), None)
        if method == "GET":
            if app is None:
                raise ApiError(404, "Request_ResourceNotFound", f"Resource with uniqueName '{unique}' does not exist.", "graph")
            return Reply(200, app)
        if method != "PATCH":
            raise ApiError(405, "Request_BadRequest", f"{method} is not supported here", "graph")
        body = body if isinstance(body, dict) else {}
        allowed = {"displayName", "signInAudience", "tags", "notes", "description", "keyCredentials"}
        unknown = set(body) - allowed
        if unknown:
            raise ApiError(400, "Request_BadRequest", f"Property '{sorted(unknown)[0]}' does not exist on type 'microsoft.graph.application'.", "graph")
        if body.get("signInAudience", "AzureADMyOrg") not in ("AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount"):
            raise ApiError(400, "Request_BadRequest", "Invalid value specified for property 'signInAudience'.", "graph")
        if app is not None:
            app.update(body)
            return Reply(204)
        if not upsert:
            raise ApiError(404, "Request_ResourceNotFound", f"Resource with uniqueName '{unique}' does not exist.", "graph")
        if not body.get("displayName"):
            raise ApiError(400, "Request_BadRequest", "Property 'displayName' is required.", "graph")
        app = {"id": guid(), "appId": guid(), "uniqueName": unique, "displayName": body["displayName"], "signInAudience": body.get("signInAudience", "AzureADMyOrg"),
               "tags": body.get("tags", []), "passwordCredentials": [], "keyCredentials": [], "createdDateTime": iso_now()}
        st.apps[app["id"]] = app
        return Reply(201, app)

    # https://learn.microsoft.com/graph/api/serviceprincipal-upsert
    def sp_by_app_id(self, method, app_id, body, upsert):
        st = self.st
        sp = next((s for s in st.sps.values() if s["appId"] == app_id), None)
        if method == "GET":
            if sp is None:
                raise ApiError(404, "Request_ResourceNotFound", f"Resource with appId '{app_id}' does not exist.", "graph")
            return Reply(200, sp)
        if method != "PATCH":
            raise ApiError(405, "Request_BadRequest", f"{method} is not supported here", "graph")
        app = next((a for a in st.apps.values() if a["appId"] == app_id), None)
        if app is None:
            raise ApiError(400, "Request_BadRequest", f"The appId '{app_id}' of the service principal does not reference a valid application object.", "graph")
        body = body if isinstance(body, dict) else {}
        if sp is not None:
            sp.update({k: v for k, v in body.items() if k in ("tags", "notes")})
            return Reply(204)
        if not upsert:
            raise ApiError(404, "Request_ResourceNotFound", f"Resource with appId '{app_id}' does not exist.", "graph")
        sp = {"id": guid(), "appId": app_id, "displayName": app["displayName"], "servicePrincipalType": "Application", "tags": body.get("tags", [])}
        st.sps[sp["id"]] = sp
        st.principals[sp["id"]] = {"name": app["displayName"], "graph": False, "appId": app_id}
        return Reply(201, sp)

    # https://learn.microsoft.com/graph/api/resources/federatedidentitycredentials-overview
    def fic(self, method, app_id, name, body):
        st = self.st
        if app_id not in st.apps:
            raise ApiError(404, "Request_ResourceNotFound", f"Resource '{app_id}' does not exist.", "graph")
        creds = st.fics.setdefault(app_id, {})

        def validate(c):
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{2,119}", str(c.get("name", ""))):
                raise ApiError(400, "Request_BadRequest", "Invalid value specified for property 'name' of resource 'FederatedIdentityCredential'.", "graph")
            if not str(c.get("issuer", "")).startswith("https://"):
                raise ApiError(400, "Request_BadRequest", "Invalid value specified for property 'issuer' of resource 'FederatedIdentityCredential'.", "graph")
            if not c.get("subject"):
                raise ApiError(400, "Request_BadRequest", "Property 'subject' is required.", "graph")
            if not (isinstance(c.get("audiences"), list) and len(c["audiences"]) == 1):
                raise ApiError(400, "Request_BadRequest", "Invalid value specified for property 'audiences': exactly one audience is required.", "graph")
        if name is None:
            if method != "POST":
                return Reply(200, {"value": list(creds.values())})
            c = {k: v for k, v in (body or {}).items() if k in ("name", "issuer", "subject", "audiences", "description")}
            validate(c)
            if c["name"].lower() in creds or any(x["issuer"] == c["issuer"] and x["subject"] == c["subject"] for x in creds.values()):
                raise ApiError(409, "Request_MultipleObjectsWithSameKeyValue", "FederatedIdentityCredential with name or issuer and subject already exists.", "graph")
            if len(creds) >= 20:
                raise ApiError(400, "Request_BadRequest", "An application can have at most 20 federated identity credentials.", "graph")
            c["id"] = guid()
            creds[c["name"].lower()] = c
            return Reply(201, c)
        c = creds.get(name.lower())
        if c is None:
            raise ApiError(404, "Request_ResourceNotFound", f"Resource '{name}' does not exist.", "graph")
        if method == "GET":
            return Reply(200, c)
        if method == "DELETE":
            creds.pop(name.lower())
            return Reply(204)
        if method == "PATCH":
            new = dict(c, **{k: v for k, v in (body or {}).items() if k in ("issuer", "subject", "audiences", "description")})
            if (body or {}).get("name", c["name"]) != c["name"]:
                raise ApiError(400, "Request_BadRequest", "Property 'name' is read-only and cannot be set.", "graph")
            validate(new)
            creds[name.lower()] = new
            return Reply(204)
        raise ApiError(405, "Request_BadRequest", f"{method} is not supported here", "graph")

    # -- Blob -------------------------------------------------------------------------
    # https://learn.microsoft.com/rest/api/storageservices/list-blobs
    # https://learn.microsoft.com/rest/api/storageservices/put-blob (BlockBlob; x-ms-version-id
    #   only where the account keeps versions)
    # https://learn.microsoft.com/rest/api/storageservices/get-blob
    # https://learn.microsoft.com/rest/api/storageservices/delete-blob (202)
    # https://learn.microsoft.com/rest/api/storageservices/specifying-conditional-headers-for-blob-service-operations
    #   (If-None-Match: * on a write to an existing blob: 409 BlobAlreadyExists; an If-Match
    #   that does not hold: 412 ConditionNotMet)
    # https://learn.microsoft.com/rest/api/storageservices/blob-service-error-codes
    def blob(self, method, path, query, headers, raw):
        st = self.st
        principal = self.caller(headers, STORAGE_AUDIENCE, "blob")
        parts = path.split("/", 4)  # ['', 'blob', account, container, name?]
        if len(parts) < 4:
            raise ApiError(400, "InvalidUri", "The requested URI does not represent any resource on the server.", "blob")
        if not headers.get("x-ms-version"):
            raise ApiError(400, "MissingRequiredHeader", "An HTTP header that's mandatory for this request is not specified: x-ms-version", "blob")
        account, container = parts[2], parts[3]
        name = parts[4] if len(parts) == 5 else None
        if name is None and (method != "GET" or query.get("restype") != "container" or query.get("comp") != "list"):
            raise ApiError(400, "UnsupportedQueryParameter", "Only List Blobs is served on a container", "blob")
        action = {"GET": "read", "PUT": "write", "DELETE": "delete"}.get(method)
        if action is None:
            raise ApiError(405, "UnsupportedHttpVerb", f"The resource doesn't support the specified HTTP verb {method}.", "blob")
        with st.lock:
            acct = next((a for a in st.of_type("Microsoft.Storage/storageAccounts") if a["name"] == account), None)
            if acct is None:
                raise ApiError(404, "ResourceNotFound", "The specified resource does not exist.", "blob")
            cid = f"{acct['id']}/blobServices/default/containers/{container}"
            if st.get(cid) is None:
                raise ApiError(404, "ContainerNotFound", "The specified container does not exist.", "blob")
            if not authorized(st, principal, f"Microsoft.Storage/storageAccounts/blobServices/containers/blobs/{action}", cid, data=True):
                raise ApiError(403, "AuthorizationPermissionMismatch", "This request is not authorized to perform this operation using this permission.", "blob")
            blobs = st.blobs.setdefault((account, container), {})
            if name is None:
                names = sorted(blobs)
            else:
                return self.blob_op(method, acct, account, container, name, headers, raw)
        start = int(query.get("marker") or 0)
        size = min(int(query.get("maxresults") or 5000), 5000)
        page = names[start:start + size]
        nxt = str(start + size) if start + size < len(names) else ""
        xml = (f'<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="https://{account}.blob.core.windows.net/" ContainerName="{container}">'
               f"<MaxResults>{size}</MaxResults><Blobs>" + "".join(f"<Blob><Name>{n}</Name><Properties/></Blob>" for n in page) + f"</Blobs><NextMarker>{nxt}</NextMarker></EnumerationResults>")
        return Reply(200, raw=xml.encode(), ctype="application/xml")

    def blob_op(self, method, acct, account, container, name, headers, raw):
        """Put, Get or Delete Blob, under the conditional headers; the caller holds the lock."""
        st = self.st
        blobs = st.blobs[(account, container)]
        cur = blobs.get(name)
        if_match, if_none = headers.get("If-Match"), headers.get("If-None-Match")
        if if_match is not None and (cur is None or if_match not in ("*", cur["etag"])):
            if cur is None and method != "PUT":
                raise ApiError(404, "BlobNotFound", "The specified blob does not exist.", "blob")
            raise ApiError(412, "ConditionNotMet", "The condition specified using HTTP conditional header(s) is not met.", "blob")
        if if_none is not None and cur is not None and if_none in ("*", cur["etag"]):
            if method == "PUT" and if_none == "*":
                raise ApiError(409, "BlobAlreadyExists", "The specified blob already exists.", "blob")
            raise ApiError(412 if method != "GET" else 304, "ConditionNotMet", "The condition specified using HTTP conditional header(s) is not met.", "blob")
        versioned = bool(props(st.get(f"{acct['id']}/blobServices/default") or {}).get("isVersioningEnabled"))
        if method == "GET":
            if cur is None:
                raise ApiError(404, "BlobNotFound", "The specified blob does not exist.", "blob")
            hdrs = {"ETag": cur["etag"], "Last-Modified": cur["modified"], "x-ms-blob-type": "BlockBlob"}
            if cur.get("version"):
                hdrs["x-ms-version-id"] = cur["version"]
            return Reply(200, raw=cur["data"], headers=hdrs, ctype=cur["ctype"])
        if method == "DELETE":
            if cur is None:
                raise ApiError(404, "BlobNotFound", "The specified blob does not exist.", "blob")
            if versioned:
                st.blob_versions.setdefault((account, container, name), []).append(cur["version"])
            del blobs[name]
            return Reply(202, raw=b"", headers={"x-ms-delete-type-permanent": "false" if versioned else "true"})
        if (headers.get("x-ms-blob-type") or "") != "BlockBlob":
            raise ApiError(400, "MissingRequiredHeader", "An HTTP header that's mandatory for this request is not specified: x-ms-blob-type", "blob")
        if cur is not None and versioned:
            st.blob_versions.setdefault((account, container, name), []).append(cur["version"])
        now = datetime.now(timezone.utc)
        new = {"data": raw or b"", "etag": f'"0x{uuid.uuid4().hex[:15].upper()}"', "modified": now.strftime("%a, %d %b %Y %H:%M:%S GMT"),
               "version": now.strftime("%Y-%m-%dT%H:%M:%S.%f0Z") if versioned else None, "ctype": headers.get("Content-Type") or "application/octet-stream"}
        blobs[name] = new
        hdrs = {"ETag": new["etag"], "Last-Modified": new["modified"], "x-ms-request-server-encrypted": "true"}
        if versioned:
            hdrs["x-ms-version-id"] = new["version"]
        return Reply(201, raw=b"", headers=hdrs)

    # -- admin ------------------------------------------------------------------------
    def admin(self, method, path, body):
        st = self.st
        with st.lock:
            st.settle()
            if path == "/_emulator/resources" and method == "GET":
                return Reply(200, {"arm": {e["id"]: e["body"] for e in st.arm.values()},
                                   "graph": {"applications": list(st.apps.values()), "servicePrincipals": list(st.sps.values()),
                                             "federatedIdentityCredentials": {a: list(c.values()) for a, c in st.fics.items()}},
                                   "deletedVaults": list(st.deleted_vaults)})
            if path == "/_emulator/mutate" and method == "POST":
                e = st.arm.get(str(body.get("id", "")).lower())
                if e is None:
                    return Reply(404, {"error": f"no resource {body.get('id')}"})
                e["body"] = merge_patch(e["body"], body.get("merge") or {})
                return Reply(200, e["body"])
            if path == "/_emulator/faults" and method == "POST":
                for f in body if isinstance(body, list) else [body]:
                    if int(f.get("status", 0)) not in (429, 500, 503):
                        return Reply(400, {"error": "faults need status 429|500|503"})
                    st.faults.append({"method": f.get("method"), "rx": re.compile(f.get("path_regex", ".*")), "status": int(f["status"]),
                                      "count": int(f.get("count", 1)), "retry_after": f.get("retry_after")})
                return Reply(200, {"faults": len(st.faults)})
            if path == "/_emulator/federated-token" and method == "POST":
                claims = {"iss": body["issuer"], "sub": body["subject"], "aud": body["audience"], "iat": int(time.time()), "exp": int(time.time()) + 3600}
                return Reply(200, {"token": jwt_encode(claims, st.issuer_key)})
            if path == "/_emulator/blobs" and method == "POST":
                st.blobs.setdefault((body["account"], body["container"]), {})[body["name"]] = {
                    "data": b"", "etag": f'"0x{uuid.uuid4().hex[:15].upper()}"', "modified": "", "version": None, "ctype": "application/octet-stream"}
                return Reply(200, {})
            if path == "/_emulator/blobs" and method == "GET":
                # Each blob that exists or did: its live content (or null) and its earlier versions.
                out = {}
                for (account, container), blobs in st.blobs.items():
                    for name, b in blobs.items():
                        out[f"{account}/{container}/{name}"] = {"content": b["data"].decode(errors="replace"), "versions": 0}
                for (account, container, name), versions in st.blob_versions.items():
                    out.setdefault(f"{account}/{container}/{name}", {"content": None})["versions"] = len(versions)
                return Reply(200, out)
            if path == "/_emulator/reset" and method == "POST":
                secret, client = st.customer_secret, st.customer_client
                st.reset()
                st.customer_secret, st.customer_client = secret, client
                st.principals[st.customer].update(secret=secret, appId=client)
                return Reply(200, {})
        return Reply(404, {"error": f"no admin route {method} {path}"})

    def fault(self, method, path):
        with self.st.lock:
            for f in self.st.faults:
                if f["count"] > 0 and (not f["method"] or f["method"] == method) and f["rx"].search(path):
                    f["count"] -= 1
                    headers = {"Retry-After": str(f["retry_after"])} if f.get("retry_after") is not None else {}
                    if f["status"] == 429:
                        headers.setdefault("Retry-After", "1")
                        return ApiError(429, "TooManyRequests", "The request is being throttled.", headers=headers)
                    return ApiError(f["status"], "ServerBusy" if f["status"] == 503 else "InternalServerError", "Injected fault.", headers=headers)
        return None

    def handle(self, method, raw_path, headers, raw_body):
        url = urllib.parse.urlsplit(raw_path)
        path = urllib.parse.unquote(url.path)
        query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        body = parse_body(headers, raw_body)
        principal = None
        flavor = "graph" if path.startswith("/graph/") else "blob" if path.startswith("/blob/") else "oauth" if "/oauth2/" in path else "arm"
        try:
            if path.startswith("/_emulator/"):
                return self.admin(method, path, body or {}), None, False
            m = re.fullmatch(r"/([^/]+)/oauth2/v2\.0/token", path)
            if m and method == "POST":
                reply = self.token(m.group(1), body if isinstance(body, dict) else {})
                return reply, None, True
            f = self.fault(method, path)
            if f:
                raise f
            if path.startswith("/graph/v1.0/"):
                principal = self.principal_of(headers)
                return self.graph(method, path, body, headers), principal, True
            if path.startswith("/blob/"):
                principal = self.principal_of(headers)
                return self.blob(method, path, query, headers, raw_body), principal, True
            if path.startswith("/subscriptions/"):
                principal = self.principal_of(headers)
                return self.arm(method, path, query, body, headers), principal, True
            raise arm_error(404, "NotFound", f"No route for {method} {path}")
        except ApiError as e:
            e.flavor = flavor if e.flavor == "arm" else e.flavor
            if e.flavor == "blob":
                xml = f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{e.code}</Code><Message>{e.message}</Message></Error>'
                return Reply(e.status, raw=xml.encode(), headers={**e.headers, "x-ms-error-code": e.code}, ctype="application/xml"), principal, True
            return Reply(e.status, e.body(), e.headers), principal, True

    def principal_of(self, headers):
        try:
            _, claims, ok = jwt_decode((headers.get("Authorization") or "")[7:], self.st.key)
            return claims.get("oid") if ok else None
        except ValueError:
            return None

    def log(self, method, raw_path, body, principal, status):
        if not self.record:
            return
        url = urllib.parse.urlsplit(raw_path)
        line = {"method": method, "path": urllib.parse.unquote(url.path), "query": dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True)),
                "body": redact(body), "principal": principal, "status": status}
        with self.record_lock, open(self.record, "a") as fh:
            fh.write(json.dumps(line) + "\n")


def parse_body(headers, raw):
    if not raw:
        return None
    if "x-www-form-urlencoded" in (headers.get("Content-Type") or "").lower():
        return dict(urllib.parse.parse_qsl(raw.decode()))
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    app = None

    def log_message(self, *args):
        pass

    def _serve(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        reply, principal, recorded = self.app.handle(self.command, self.path, self.headers, raw)
        if recorded:
            self.app.log(self.command, self.path, parse_body(self.headers, raw), principal, reply.status)
        data = reply.raw if reply.raw is not None else (json.dumps(reply.body).encode() if reply.body is not None else b"")
        self.send_response(reply.status)
        for k, v in reply.headers.items():
            self.send_header(k, v)
        self.send_header("x-ms-request-id", guid())
        if data:
            self.send_header("Content-Type", reply.ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = _serve


def make_certs(directory):
    """A throwaway CA and a leaf for 127.0.0.1/localhost signed by it (rustls refuses a
    self-signed leaf used as its own root)."""
    os.makedirs(directory, exist_ok=True)
    ca, cert, key = (os.path.join(directory, n) for n in ("ca.pem", "cert.pem", "key.pem"))
    if all(os.path.exists(p) for p in (ca, cert, key)):
        return ca, cert, key
    run = lambda *a: subprocess.run(a, check=True, capture_output=True)  # noqa: E731
    ca_key = os.path.join(directory, "ca.key")
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=unionctl test CA",
        "-keyout", ca_key, "-out", ca, "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    csr = os.path.join(directory, "leaf.csr")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", csr)
    ext = os.path.join(directory, "leaf.ext")
    with open(ext, "w") as fh:
        fh.write("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-days", "30", "-out", cert, "-extfile", ext)
    return ca, cert, key


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--state-dir", required=True, help="where the test CA and certificate are kept")
    ap.add_argument("--record", help="append every API request as a JSON line to this file")
    ap.add_argument("--polls", type=int, default=2, help="polls a long-running operation stays InProgress")
    a = ap.parse_args()
    ca, cert, key = make_certs(os.path.abspath(a.state_dir))
    state = State(a.polls)
    server = ThreadingHTTPServer((a.host, a.port), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    port = server.server_address[1]
    base = f"https://127.0.0.1:{port}"
    Handler.app = App(state, a.record, base)
    for k, v in [("AZURE_AUTHORITY_HOST", base), ("UNIONCTL_AZURE_ARM_ENDPOINT", base), ("UNIONCTL_AZURE_GRAPH_ENDPOINT", base + "/graph"),
                 ("UNIONCTL_AZURE_BLOB_ENDPOINT_TEMPLATE", base + "/blob/{account}"), ("UNIONCTL_AZURE_CA_FILE", ca),
                 ("AZURE_TENANT_ID", TENANT), ("AZURE_CLIENT_ID", state.customer_client), ("AZURE_CLIENT_SECRET", state.customer_secret)]:
        print(f"{k}={v}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
