#!/usr/bin/env python3
"""The Azure contract server (scripts/azure_emulator/server.py) refuses what Azure refuses
and answers in Azure's shapes: checked here independently of unionctl, with plain HTTPS
requests written from the REST references (each check names what it follows).

Starts its own server on a free port; prints "N checks passed" or every failure (exit 1).
"""

import base64
import json
import os
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SUB = "00000000-1111-4222-8333-444444444444"
TENANT = "55555555-6666-4777-8888-999999999999"
RG = f"/subscriptions/{SUB}/resourceGroups/smoke"
failures, checks = [], 0


def check(ok, what):
    global checks
    checks += 1
    if not ok:
        failures.append(what)


class Client:
    def __init__(self, env):
        self.env = env
        self.base = env["UNIONCTL_AZURE_ARM_ENDPOINT"]
        self.ctx = ssl.create_default_context(cafile=env["UNIONCTL_AZURE_CA_FILE"])
        self.tokens = {}

    def raw(self, method, url, body=None, headers=None, form=None):
        data, h = None, dict(headers or {})
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            h["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        req = urllib.request.Request(url if url.startswith("https://") else self.base + url, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, context=self.ctx) as r:
                text = r.read().decode()
                return r.status, dict(r.headers), (json.loads(text) if text and text.lstrip()[:1] in "{[" else text)
        except urllib.error.HTTPError as e:
            text = e.read().decode()
            return e.code, dict(e.headers), (json.loads(text) if text and text.lstrip()[:1] in "{[" else text)

    def token(self, scope, client=None, secret=None, assertion=None):
        form = {"grant_type": "client_credentials", "client_id": client or self.env["AZURE_CLIENT_ID"], "scope": scope}
        if assertion:
            form.update(client_assertion_type="urn:ietf:params:oauth:client-assertion-type:jwt-bearer", client_assertion=assertion)
        else:
            form["client_secret"] = secret or self.env["AZURE_CLIENT_SECRET"]
        return self.raw("POST", f"/{TENANT}/oauth2/v2.0/token", form=form)

    def arm(self, method, path, body=None, api="2024-05-01", token=None, headers=None):
        if token is None:
            token = self.tokens.get("arm") or self.token("https://management.azure.com/.default")[2]["access_token"]
            self.tokens["arm"] = token
        sep = "&" if "?" in path else "?"
        url = path + (f"{sep}api-version={api}" if api else "")
        return self.raw(method, url, body, dict({"Authorization": f"Bearer {token}"}, **(headers or {})))

    def graph(self, method, path, body=None, headers=None, token=None):
        if token is None:
            token = self.tokens.get("graph") or self.token("https://graph.microsoft.com/.default")[2]["access_token"]
            self.tokens["graph"] = token
        return self.raw(method, "/graph/v1.0/" + path, body, dict({"Authorization": f"Bearer {token}"}, **(headers or {})))

    def admin(self, path, body=None, method="POST"):
        return self.raw(method, "/_emulator/" + path, body)[2]

    def wait(self, headers):
        """Follows Azure-AsyncOperation (or Location) to the end; returns the statuses seen."""
        seen = []
        url = headers.get("Azure-AsyncOperation") or headers.get("Location")
        for _ in range(30):
            time.sleep(float(headers.get("Retry-After", 1)) / 4)
            s, h, b = self.arm("GET", url, api=None)
            seen.append(b.get("status") if isinstance(b, dict) and "status" in b else s)
            if seen[-1] in ("Succeeded", "Failed", 200, 204):
                return seen
        return seen


def code(b):
    return (b or {}).get("error", {}).get("code") if isinstance(b, dict) else None


def main():
    state = tempfile.mkdtemp()
    record = os.path.join(state, "record.jsonl")
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "scripts/azure_emulator/server.py"), "--port", "0", "--polls", "1",
                             "--state-dir", os.path.join(state, "tls"), "--record", record], stdout=subprocess.PIPE, text=True)
    env = {}
    try:
        while "AZURE_CLIENT_SECRET" not in env:
            line = proc.stdout.readline()
            if not line:
                raise SystemExit("the server did not start")
            k, _, v = line.strip().partition("=")
            env[k] = v
        run(Client(env), record)
    finally:
        proc.kill()
        proc.wait()
    if failures:
        for f in failures:
            print("FAIL", f)
        sys.exit(1)
    print(f"{checks} checks passed")


def run(c, record):
    # Tokens (Microsoft identity platform, client credentials flow).
    s, _, b = c.token("https://management.azure.com/.default")
    check(s == 200 and b.get("token_type") == "Bearer" and b.get("expires_in"), "client secret sign-in")
    s, _, b = c.token("https://management.azure.com/.default", secret="wrong")
    check(s == 401 and b.get("error") == "invalid_client" and 7000215 in b.get("error_codes", []), f"a wrong secret is invalid_client AADSTS7000215: {s} {b}")
    s, _, b = c.token("https://management.azure.com/.default", client="00000000-0000-0000-0000-000000000000")
    check(s == 400 and b.get("error") == "unauthorized_client", f"an unknown client: {s} {b}")
    s, _, b = c.token("https://example.com/.default")
    check(s == 400 and b.get("error") == "invalid_scope", "an unknown scope")
    graph_token = c.token("https://graph.microsoft.com/.default")[2]["access_token"]
    s, _, b = c.arm("GET", RG, api="2022-09-01", token=graph_token)
    check(s == 401 and code(b) == "InvalidAuthenticationTokenAudience", f"a Graph token on ARM: {s} {b}")
    s, _, b = c.raw("GET", RG + "?api-version=2022-09-01")
    check(s == 401, "no token")

    # ARM basics (https://learn.microsoft.com/rest/api/azure/).
    s, _, b = c.arm("PUT", RG, {"location": "eastus2"}, api=None)
    check(s == 400 and code(b) == "MissingApiVersionParameter", "api-version is required")
    s, _, b = c.arm("PUT", RG, {"location": "eastus2"}, api="1999-01-01")
    check(s == 400 and code(b) == "NoRegisteredProviderFound", "an unknown api-version")
    s, _, b = c.arm("PUT", RG, {}, api="2022-09-01")
    check(s == 400 and code(b) == "LocationRequired", "a resource group needs a location")
    s, _, b = c.arm("PUT", RG, {"location": "East US 2", "tags": {"a": "b"}}, api="2022-09-01")
    check(s == 201 and b["location"] == "eastus2" and b["id"] == RG, f"resource group created, location normalized: {s} {b}")
    s, _, b = c.arm("PUT", RG, {"location": "eastus2"}, api="2022-09-01")
    check(s == 200, "PUT again updates (200)")
    s, _, b = c.arm("GET", RG + "/providers/Microsoft.Network/virtualNetworks/nope")
    check(s == 404 and code(b) == "ResourceNotFound", "GET of a missing resource")
    s, _, b = c.arm("GET", f"/subscriptions/{SUB}/resourceGroups/none/providers/Microsoft.Network/virtualNetworks/v")
    check(s == 404 and code(b) == "ResourceGroupNotFound", "a missing resource group")
    s, _, b = c.arm("DELETE", RG + "/providers/Microsoft.Network/virtualNetworks/nope")
    check(s == 204, "DELETE of a missing resource is 204")
    s, _, b = c.arm("PUT", RG + "/providers/Microsoft.Network/virtualNetworks/v/subnets/s", {"properties": {"addressPrefix": "10.0.0.0/24"}})
    check(s == 404 and code(b) == "ParentResourceNotFound", "a subnet needs its network")

    # Long-running operations: 201 + Azure-AsyncOperation, InProgress then Succeeded.
    vnet = RG + "/providers/Microsoft.Network/virtualNetworks/v"
    s, h, b = c.arm("PUT", vnet, {"location": "eastus2", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}})
    check(s == 201 and "Azure-AsyncOperation" in h and h.get("Retry-After") == "1" and b["properties"]["provisioningState"] == "Creating", f"async create: {s} {h}")
    seen = c.wait(h)
    check(seen[0] == "InProgress" and seen[-1] == "Succeeded", f"operation went InProgress -> Succeeded: {seen}")
    check(c.arm("GET", vnet)[2]["properties"]["provisioningState"] == "Succeeded", "the network is provisioned")
    s, _, b = c.arm("GET", f"/subscriptions/{SUB}/resourceGroups/NetworkWatcherRG/providers/Microsoft.Network/networkWatchers/NetworkWatcher_eastus2")
    check(s == 200, f"Network Watcher made with the region's first network: {s} {b}")
    sub = vnet + "/subnets/nodes"
    s, h, b = c.arm("PUT", sub, {"properties": {"addressPrefix": "10.1.0.0/24"}})
    check(s == 400 and code(b) == "NetcfgSubnetRangeOutsideVnet", "a subnet outside the network")
    s, h, _ = c.arm("PUT", sub, {"properties": {"addressPrefix": "10.0.0.0/24", "privateLinkServiceNetworkPolicies": "Enabled"}})
    c.wait(h)
    s, _, b = c.arm("PUT", vnet + "/subnets/other", {"properties": {"addressPrefix": "10.0.0.128/25"}})
    check(s == 400 and code(b) == "NetcfgInvalidSubnet", "overlapping subnets")
    s, _, b = c.arm("PUT", RG + "/providers/Microsoft.Network/networkSecurityGroups/n", {"location": "eastus2", "properties": {"securityRules": [
        {"name": "a", "properties": {"priority": 100, "direction": "Inbound", "access": "Deny"}},
        {"name": "b", "properties": {"priority": 100, "direction": "Inbound", "access": "Allow"}}]}})
    check(s == 400 and code(b) == "SecurityRuleConflict", "two rules with one priority and direction")
    s, _, b = c.arm("PUT", RG + "/providers/Microsoft.Network/networkSecurityGroups/n", {"location": "eastus2", "properties": {"securityRules": [
        {"name": "a", "properties": {"priority": 5000, "direction": "Inbound", "access": "Deny"}}]}})
    check(s == 400 and code(b) == "SecurityRuleInvalidPriority", "priority above 4096")

    # Storage (Storage Accounts - Create): 202 + Location, no body; names; TLS values.
    acct = RG + "/providers/Microsoft.Storage/storageAccounts/smokedata"
    good = {"location": "eastus2", "kind": "StorageV2", "sku": {"name": "Standard_ZRS"}, "properties": {"isHnsEnabled": True, "allowBlobPublicAccess": False, "minimumTlsVersion": "TLS1_2"}}
    s, _, b = c.arm("PUT", RG + "/providers/Microsoft.Storage/storageAccounts/Bad_Name", good, api="2023-05-01")
    check(s == 400 and code(b) == "AccountNameInvalid", "storage account names are lowercase letters and digits")
    s, _, b = c.arm("PUT", acct, dict(good, properties=dict(good["properties"], minimumTlsVersion="TLS9")), api="2023-05-01")
    check(s == 400, "an unknown TLS version")
    s, h, b = c.arm("PUT", acct, good, api="2023-05-01")
    check(s == 202 and "Location" in h and not b, f"storage create is 202 + Location: {s} {h}")
    seen = c.wait(h)
    check(seen[-1] == 200 and 202 in seen, f"Location polled 202 then 200: {seen}")
    s, _, b = c.arm("PUT", acct, dict(good, properties=dict(good["properties"], isHnsEnabled=False)), api="2023-05-01")
    check(s == 400 and code(b) == "HnsPropertyImmutable", "hierarchical namespace cannot be switched off")
    s, _, b = c.arm("PUT", acct + "/blobServices/default/containers/data", {"properties": {"publicAccess": "Blob"}}, api="2023-05-01")
    check(s == 409 and code(b) == "PublicAccessNotPermitted", f"public containers on an account that forbids them: {s} {b}")
    s, _, b = c.arm("PUT", acct + "/blobServices/default/containers/data", {"properties": {"publicAccess": "None"}}, api="2023-05-01")
    check(s == 201, "a private container")

    # Blob listing (List Blobs): a storage token and a data role.
    storage_token = c.token("https://storage.azure.com/.default")[2]["access_token"]
    c.admin("blobs", {"account": "smokedata", "container": "data", "name": "a/b"})
    s, _, b = c.raw("GET", "/blob/smokedata/data?restype=container&comp=list", headers={"Authorization": f"Bearer {storage_token}", "x-ms-version": "2023-11-03"})
    check(s == 200 and b.count("<Blob>") == 1, f"List Blobs: {s} {b}")
    s, _, b = c.raw("GET", "/blob/smokedata/data?restype=container&comp=list", headers={"Authorization": f"Bearer {storage_token}"})
    check(s == 400 and "MissingRequiredHeader" in b, "x-ms-version is required")
    s, _, b = c.raw("GET", "/blob/smokedata/nope?restype=container&comp=list", headers={"Authorization": f"Bearer {storage_token}", "x-ms-version": "2023-11-03"})
    check(s == 404 and "ContainerNotFound" in b, "a missing container")

    # Put / Get / Delete Blob under conditional headers, as the remote state's lock uses them
    # (put-blob, delete-blob, specifying-conditional-headers-for-blob-service-operations).
    blob = "/blob/smokedata/data/state.json.lock"
    h = {"Authorization": f"Bearer {storage_token}", "x-ms-version": "2023-11-03"}
    s, _, b = c.raw("PUT", blob, {"n": 1}, headers=dict(h, **{"x-ms-blob-type": "BlockBlob"}))
    check(s == 403 and "AuthorizationPermissionMismatch" in b, f"writing a blob needs a data role that writes: {s} {b}")
    oid = json.loads(base64.urlsafe_b64decode(storage_token.split(".")[1] + "=="))["oid"]
    contributor = "/subscriptions/00000000-1111-4222-8333-444444444444/providers/Microsoft.Authorization/roleDefinitions/ba92f5b4-2d11-453d-a403-e96b0029c9fe"
    s, _, b = c.arm("PUT", acct + "/providers/Microsoft.Authorization/roleAssignments/3c1f2e4d-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
                    {"properties": {"roleDefinitionId": contributor, "principalId": oid}}, api="2022-04-01")
    check(s == 201, f"Storage Blob Data Contributor on the account: {s} {b}")
    s, _, b = c.raw("PUT", blob, {"n": 1}, headers=h)
    check(s == 400 and "MissingRequiredHeader" in b, "Put Blob needs x-ms-blob-type")
    put = dict(h, **{"x-ms-blob-type": "BlockBlob", "If-None-Match": "*"})
    s, hd, b = c.raw("PUT", blob, {"n": 1}, headers=put)
    check(s == 201 and hd.get("ETag") and "x-ms-version-id" not in hd, f"create-if-absent of a new blob, no version without versioning: {s} {hd}")
    etag = hd["ETag"]
    s, hd, b = c.raw("PUT", blob, {"n": 2}, headers=put)
    check(s == 409 and hd.get("x-ms-error-code") == "BlobAlreadyExists", f"create-if-absent of an existing blob -> 409 BlobAlreadyExists: {s} {hd}")
    s, hd, b = c.raw("GET", blob, headers=h)
    check(s == 200 and b == {"n": 1} and hd.get("ETag") == etag, f"Get Blob: the bytes and the ETag: {s} {b}")
    s, hd, b = c.raw("DELETE", blob, headers=dict(h, **{"If-Match": '"0xOTHER"'}))
    check(s == 412 and hd.get("x-ms-error-code") == "ConditionNotMet", f"delete at another ETag -> 412 ConditionNotMet: {s} {hd}")
    s, _, b = c.raw("DELETE", blob, headers=dict(h, **{"If-Match": etag}))
    check(s == 202, f"delete at its ETag -> 202: {s}")
    s, hd, b = c.raw("GET", blob, headers=h)
    check(s == 404 and hd.get("x-ms-error-code") == "BlobNotFound", f"deleted -> 404 BlobNotFound: {s} {hd}")
    s, _, b = c.arm("PUT", acct + "/blobServices/default", {"properties": {"isVersioningEnabled": True}}, api="2023-05-01")
    check(s in (200, 201), f"blob versioning on: {s} {b}")
    s, hd, b = c.raw("PUT", blob, {"n": 3}, headers=put)
    check(s == 201 and hd.get("x-ms-version-id"), f"a write to an account with versioning names its version: {s} {hd}")

    # Key Vault: names, tenant, purge protection, soft delete; keys have no ARM delete.
    kv = RG + "/providers/Microsoft.KeyVault/vaults/smoke-kv"
    vault = {"location": "eastus2", "properties": {"tenantId": TENANT, "sku": {"family": "A", "name": "premium"}, "enablePurgeProtection": True}}
    s, _, b = c.arm("PUT", RG + "/providers/Microsoft.KeyVault/vaults/x", vault, api="2023-07-01")
    check(s == 400 and code(b) == "VaultNameNotValid", "vault names are 3-24 characters")
    s, _, b = c.arm("PUT", kv, {"location": "eastus2", "properties": {"sku": {"family": "A", "name": "premium"}}}, api="2023-07-01")
    check(s == 400, "a vault needs its tenant")
    s, h, b = c.arm("PUT", kv, vault, api="2023-07-01")
    c.wait(h)
    s, _, b = c.arm("PUT", kv, dict(vault, properties=dict(vault["properties"], enablePurgeProtection=False)), api="2023-07-01")
    check(s == 400, "purge protection cannot be switched off")
    s, _, b = c.arm("PUT", kv + "/keys/k", {"properties": {"kty": "RSA", "keySize": 1024}}, api="2023-07-01")
    check(s == 400, "RSA 1024 is refused")
    s, _, b = c.arm("PUT", kv + "/keys/k", {"properties": {"kty": "RSA", "keySize": 3072}}, api="2023-07-01")
    check(s == 201 and b["properties"]["keyUriWithVersion"].startswith("https://smoke-kv.vault.azure.net/keys/k/"), "key created with its versioned URI")
    s2, _, b2 = c.arm("PUT", kv + "/keys/k", {"properties": {"kty": "RSA", "keySize": 4096}}, api="2023-07-01")
    check(s2 == 200 and b2["properties"]["keyUriWithVersion"] == b["properties"]["keyUriWithVersion"], "Create If Not Exist returns the key unchanged")
    s, _, b = c.arm("DELETE", kv + "/keys/k", api="2023-07-01")
    check(s == 405, "ARM has no delete for keys")
    c.arm("DELETE", kv, api="2023-07-01")
    s, _, b = c.arm("PUT", kv, vault, api="2023-07-01")
    check(s == 409 and code(b) == "ConflictError", "a soft-deleted vault's name is taken")
    s, h, b = c.arm("PUT", kv, dict(vault, properties=dict(vault["properties"], createMode="recover")), api="2023-07-01")
    check(s in (200, 201), "createMode recover brings it back")
    c.wait(h)

    # Identities, federated credentials, role assignments and definitions.
    ident = RG + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ui"
    s, _, b = c.arm("PUT", ident, {"location": "eastus2"}, api="2023-01-31")
    check(s == 201 and b["properties"]["principalId"] and b["properties"]["clientId"], "identity with principal and client ids")
    principal = b["properties"]["principalId"]
    fic = {"properties": {"issuer": "https://issuer.example", "subject": "system:serviceaccount:a:b", "audiences": ["api://AzureADTokenExchange"]}}
    s, _, b = c.arm("PUT", ident + "/federatedIdentityCredentials/f1", {"properties": dict(fic["properties"], audiences=["a", "b"])}, api="2023-01-31")
    check(s == 400, "a federated credential has one audience")
    s, _, b = c.arm("PUT", ident + "/federatedIdentityCredentials/f1", {"properties": dict(fic["properties"], issuer="http://plain")}, api="2023-01-31")
    check(s == 400, "the issuer is https")
    import threading
    results = []
    threads = [threading.Thread(target=lambda n=n: results.append(c.arm("PUT", ident + f"/federatedIdentityCredentials/fic{n}",
                                                                       {"properties": dict(fic["properties"], subject=f"system:serviceaccount:a:p{n}")}, api="2023-01-31")))
               for n in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    check(sorted(r[0] for r in results) == [201, 409] and any(code(r[2]) == "ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity" for r in results),
          f"concurrent credential writes on one identity: {[r[:3:2] for r in results]}")
    ra = lambda g: f"{RG}/providers/Microsoft.Authorization/roleAssignments/{g}"  # noqa: E731
    reader = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"
    s, _, b = c.arm("PUT", ra("not-a-guid"), {"properties": {"roleDefinitionId": reader, "principalId": principal}}, api="2022-04-01")
    check(s == 400 and code(b) == "InvalidRoleAssignmentId", "role assignment names are GUIDs")
    s, _, b = c.arm("PUT", ra("11111111-1111-4111-8111-111111111111"), {"properties": {"roleDefinitionId": reader, "principalId": "22222222-2222-4222-8222-222222222222"}}, api="2022-04-01")
    check(s == 400 and code(b) == "PrincipalNotFound", "an unknown principal")
    s, _, b = c.arm("PUT", ra("11111111-1111-4111-8111-111111111111"), {"properties": {"roleDefinitionId": reader[:-4] + "0000", "principalId": principal}}, api="2022-04-01")
    check(s == 400 and code(b) == "RoleDefinitionDoesNotExist", "an unknown role")
    s, _, b = c.arm("PUT", ra("11111111-1111-4111-8111-111111111111"), {"properties": {"roleDefinitionId": reader, "principalId": principal, "condition": "@Resource[x] StringEquals 'y'"}}, api="2022-04-01")
    check(s == 400, "a condition needs conditionVersion 2.0")
    s, _, b = c.arm("PUT", ra("11111111-1111-4111-8111-111111111111"), {"properties": {"roleDefinitionId": reader, "principalId": principal}}, api="2022-04-01")
    check(s == 201 and b["properties"]["scope"] == RG, "role assignment created at its scope")
    s, _, b = c.arm("PUT", ra("33333333-3333-4333-8333-333333333333"), {"properties": {"roleDefinitionId": reader, "principalId": principal}}, api="2022-04-01")
    check(s == 409 and code(b) == "RoleAssignmentExists", "the same grant under another name")
    role = f"{RG}/providers/Microsoft.Authorization/roleDefinitions/44444444-4444-4444-8444-444444444444"
    s, _, b = c.arm("PUT", role, {"properties": {"roleName": "r", "permissions": [{"actions": ["Microsoft.Network/virtualNetworks/read"]}]}}, api="2022-04-01")
    check(s == 400 and code(b) == "InvalidAssignableScopes", "a custom role needs assignable scopes")
    s, _, b = c.arm("PUT", role, {"properties": {"roleName": "r", "assignableScopes": [RG], "permissions": [{"actions": ["Microsoft.Network/virtualNetworks/read", "Microsoft.Network/virtualNetworks/subnets/read"]}]}}, api="2022-04-01")
    check(s == 201 and b["id"].startswith(f"/subscriptions/{SUB}/providers/"), f"custom roles are named at the subscription: {b.get('id')}")
    s, _, b = c.arm("PUT", role.replace("44444444-4444-4444-8444-444444444444", "55555555-5555-4555-8555-555555555555"), {"properties": {"roleName": "r", "assignableScopes": [RG], "permissions": []}}, api="2022-04-01")
    check(s == 409 and code(b) == "RoleDefinitionWithSameNameExists", "custom role names are unique")

    # RBAC: a second principal (a federated application) holding the custom role on the group only.
    s, _, app = c.graph("PATCH", "applications(uniqueName='smoke-app')", {"displayName": "smoke"})
    check(s == 404, "no upsert without Prefer: create-if-missing")
    s, _, app = c.graph("PATCH", "applications(uniqueName='smoke-app')", {"displayName": "smoke", "signInAudience": "AzureADMyOrg"}, {"Prefer": "create-if-missing"})
    check(s == 201 and app["appId"] and app["uniqueName"] == "smoke-app", "application created by upsert")
    s, _, _ = c.graph("PATCH", "applications(uniqueName='smoke-app')", {"displayName": "smoke2"}, {"Prefer": "create-if-missing"})
    check(s == 204, "upsert of an existing application is 204")
    s, _, b = c.graph("PATCH", "applications(uniqueName='smoke-app')", {"bogus": 1}, {"Prefer": "create-if-missing"})
    check(s == 400, "unknown application properties are refused")
    s, _, sp = c.graph("PATCH", f"servicePrincipals(appId='{app['appId']}')", {}, {"Prefer": "create-if-missing"})
    check(s == 201 and sp["appId"] == app["appId"], "service principal by upsert")
    s, _, _ = c.graph("PATCH", "servicePrincipals(appId='99999999-9999-4999-8999-999999999999')", {}, {"Prefer": "create-if-missing"})
    check(s == 400, "a service principal needs its application")
    cred = {"name": "union", "issuer": "https://cognito-identity.amazonaws.com", "subject": "us-east-2:abc", "audiences": ["us-east-2:pool"]}
    s, _, _ = c.graph("POST", f"applications/{app['id']}/federatedIdentityCredentials", dict(cred, audiences=["a", "b"]))
    check(s == 400, "an application credential has one audience")
    s, _, _ = c.graph("POST", f"applications/{app['id']}/federatedIdentityCredentials", cred)
    check(s == 201, "application credential created")
    s, _, b = c.graph("POST", f"applications/{app['id']}/federatedIdentityCredentials", cred)
    check(s == 409, "the same credential twice")
    ok = c.admin("federated-token", {"issuer": cred["issuer"], "subject": cred["subject"], "audience": "us-east-2:pool"})["token"]
    for what, claims in [("another subject", {"subject": "us-east-2:other", "audience": "us-east-2:pool"}), ("another audience", {"subject": cred["subject"], "audience": "x"})]:
        t = c.admin("federated-token", dict(claims, issuer=cred["issuer"]))["token"]
        s, _, b = c.token("https://management.azure.com/.default", client=app["appId"], assertion=t)
        check(s == 400 and 70021 in b.get("error_codes", []), f"federated sign-in with {what} is refused AADSTS70021: {s} {b}")
    s, _, b = c.token("https://management.azure.com/.default", client=app["appId"], assertion=ok[:-4] + "AAAA")
    check(s == 400 and b.get("error") == "invalid_client", "a forged assertion")
    s, _, b = c.token("https://management.azure.com/.default", client=app["appId"], assertion=ok)
    check(s == 200, "federated sign-in with the exact issuer, subject and audience")
    union = b["access_token"]
    s, _, b = c.arm("GET", vnet, token=union)
    check(s == 403 and code(b) == "AuthorizationFailed", "no role, no read")

    # Subscriptions - Get (https://learn.microsoft.com/rest/api/resources/subscriptions/get?view=rest-resources-2022-12-01):
    # the Subscription shape; ARM's own api-versions; a subscription the caller holds no role in,
    # anywhere in it, answers as one that does not exist (404 SubscriptionNotFound).
    want = {"id": f"/subscriptions/{SUB}", "subscriptionId": SUB, "tenantId": TENANT, "state": "Enabled", "authorizationSource": "RoleBased"}
    s, _, b = c.arm("GET", f"/subscriptions/{SUB}", api="2022-12-01")
    check(s == 200 and isinstance(b, dict) and all(b.get(k) == v for k, v in want.items()) and b.get("displayName")
          and set(b.get("subscriptionPolicies") or {}) == {"locationPlacementId", "quotaId", "spendingLimit"}, f"Subscriptions - Get as the customer (Owner): {s} {b}")
    s, _, b = c.arm("GET", f"/subscriptions/{SUB.upper()}", api="2022-12-01")
    check(s == 200 and b.get("subscriptionId") == SUB, f"subscription ids are case-insensitive: {s} {b}")
    s, _, b = c.arm("GET", f"/subscriptions/{SUB}", api="2024-05-01")
    check(s == 400 and code(b) == "InvalidApiVersionParameter" and "2022-12-01" in b["error"]["message"], f"Subscriptions - Get at an api-version ARM does not serve: {s} {b}")
    s, _, b = c.arm("GET", f"/subscriptions/{SUB}", api=None)
    check(s == 400 and code(b) == "MissingApiVersionParameter", f"Subscriptions - Get without api-version: {s} {b}")
    other = "99999999-8888-4777-8666-555555555555"
    s, _, b = c.arm("GET", f"/subscriptions/{other}", api="2022-12-01")
    check(s == 404 and code(b) == "SubscriptionNotFound" and b["error"]["message"] == f"The subscription '{other}' could not be found.", f"a subscription that does not exist: {s} {b}")
    s, _, b = c.arm("GET", f"/subscriptions/{SUB}", api="2022-12-01", token=union)
    check(s == 404 and code(b) == "SubscriptionNotFound" and b["error"]["message"] == f"The subscription '{SUB}' could not be found.", f"no role in the subscription: it is not found: {s} {b}")
    c.arm("PUT", ra("66666666-6666-4666-8666-666666666666"), {"properties": {"roleDefinitionId": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/44444444-4444-4444-8444-444444444444", "principalId": sp["id"]}}, api="2022-04-01")
    s, _, b = c.arm("GET", vnet, token=union)
    check(s == 200, "the custom role reads networks in its group")
    s, _, b = c.arm("GET", f"/subscriptions/{SUB}", api="2022-12-01", token=union)
    check(s == 200 and b.get("id") == f"/subscriptions/{SUB}" and b.get("tenantId") == TENANT, f"a role on one of its groups shows the subscription: {s} {b}")
    s, _, b = c.arm("PUT", vnet, {"location": "eastus2", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}}, token=union)
    check(s == 403 and code(b) == "AuthorizationFailed", "the custom role cannot write them")
    s, _, b = c.arm("GET", f"/subscriptions/{SUB}/resourceGroups/NetworkWatcherRG/providers/Microsoft.Network/networkWatchers/NetworkWatcher_eastus2", token=union)
    check(s == 403, f"nor read outside its group: {s} {b}")
    s, _, b = c.graph("GET", "applications(uniqueName='smoke-app')", token=c.token("https://graph.microsoft.com/.default", client=app["appId"], assertion=ok)[2]["access_token"])
    check(s == 403 and code(b) == "Authorization_RequestDenied", "the application cannot use Graph")

    # AKS: linked access checks, required fields, immutable settings, one operation at a time.
    cluster = RG + "/providers/Microsoft.ContainerService/managedClusters/aks"
    body = {"location": "eastus2", "identity": {"type": "UserAssigned", "userAssignedIdentities": {ident: {}}},
            "properties": {"dnsPrefix": "aks", "apiServerAccessProfile": {"enablePrivateCluster": True}, "aadProfile": {"managed": True}, "disableLocalAccounts": True,
                           "agentPoolProfiles": [{"name": "system", "mode": "System", "count": 1, "vmSize": "Standard_D4s_v5", "vnetSubnetID": sub}]}}
    c.arm("PUT", f"{RG}/providers/Microsoft.Authorization/roleDefinitions/77777777-7777-4777-8777-777777777777",
          {"properties": {"roleName": "aks", "assignableScopes": [RG], "permissions": [{"actions": ["Microsoft.ContainerService/managedClusters/*"]}]}}, api="2022-04-01")
    c.arm("PUT", ra("88888888-8888-4888-8888-888888888888"), {"properties": {"roleDefinitionId": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/77777777-7777-4777-8777-777777777777", "principalId": sp["id"]}}, api="2022-04-01")
    s, _, b = c.arm("PUT", cluster, body, api="2024-09-01", token=union)
    check(s == 403 and code(b) == "LinkedAuthorizationFailed", f"creating a cluster with an identity it may not assign: {s} {code(b)}")
    s, _, b = c.arm("PUT", cluster, dict(body, properties=dict(body["properties"], agentPoolProfiles=[])), api="2024-09-01")
    check(s == 400, "a new cluster needs agent pools")
    s, h, b = c.arm("PUT", cluster, body, api="2024-09-01")
    check(s == 201 and "Azure-AsyncOperation" in h, "cluster create is asynchronous")
    s2, _, b2 = c.arm("PUT", cluster + "/agentPools/pool1", {"properties": {"vmSize": "Standard_D4s_v5", "count": 1}}, api="2024-09-01")
    check(s2 == 409 and code(b2) == "OperationNotAllowed", "one operation at a time on a cluster")
    c.wait(h)
    got = c.arm("GET", cluster, api="2024-09-01")[2]["properties"]
    check(got["privateFQDN"] and got["oidcIssuerProfile"]["issuerURL"].startswith("https://") and got["nodeResourceGroup"] == "MC_smoke_aks_eastus2", "AKS read-only fields")
    pe = c.arm("GET", f"/subscriptions/{SUB}/resourceGroups/MC_smoke_aks_eastus2/providers/Microsoft.Network/privateEndpoints/kube-apiserver")
    check(pe[0] == 200 and pe[2]["properties"]["customDnsConfigs"][0]["ipAddresses"][0].startswith("10.0.0."), "the API server's private endpoint in the nodes' group")
    s, _, b = c.arm("PUT", cluster, dict(body, properties=dict(body["properties"], apiServerAccessProfile={"enablePrivateCluster": False})), api="2024-09-01")
    check(s == 400 and code(b) == "PropertyChangeNotAllowed", "a private cluster stays private")
    s, _, b = c.arm("PUT", cluster + "/agentPools/Bad_Pool", {"properties": {"vmSize": "Standard_D4s_v5", "count": 1}}, api="2024-09-01")
    check(s == 400, "agent pool names are lowercase, at most 12")

    # Diagnostic settings: categories of the scope's type.
    ws = RG + "/providers/Microsoft.OperationalInsights/workspaces/w"
    s, _, b = c.arm("PUT", ws, {"location": "eastus2", "properties": {"sku": {"name": "PerGB2018"}}}, api="2022-10-01")
    check(s == 201 and b["properties"]["provisioningState"] == "Creating", "workspace answered while still provisioning")
    d = f"{cluster}/providers/Microsoft.Insights/diagnosticSettings/audit"
    s, _, b = c.arm("PUT", d, {"properties": {"workspaceId": ws, "logs": [{"category": "Administrative", "enabled": True}]}}, api="2021-05-01-preview")
    check(s == 400, "a subscription category on a cluster")
    s, _, b = c.arm("PUT", d, {"properties": {"workspaceId": ws, "logs": [{"category": "kube-audit", "enabled": True}]}}, api="2021-05-01-preview")
    check(s == 201, "kube-audit on a cluster")

    # Faults: 429 with Retry-After in ARM's error shape.
    c.admin("faults", [{"method": "GET", "path_regex": "/virtualNetworks/v$", "status": 429, "count": 1, "retry_after": 2}])
    s, h, b = c.arm("GET", vnet)
    check(s == 429 and h.get("Retry-After") == "2" and code(b) == "TooManyRequests", "an injected 429")
    check(c.arm("GET", vnet)[0] == 200, "then served again")

    # The record: one line per API request with method, path, query, body; no secrets.
    lines = [json.loads(x) for x in open(record)]
    check(all({"method", "path", "query", "body"} <= set(x) for x in lines) and len(lines) > 50, "record lines")
    text = open(record).read()
    check(c.env["AZURE_CLIENT_SECRET"] not in text and ok not in text and union not in text, "no secret or token in the record")


if __name__ == "__main__":
    main()
