#!/usr/bin/env python3
"""Checks the requests unionctl sent to the Azure contract server (its --record file)
against the ARM REST reference and the data plane's security invariants, field by field.

Independent of unionctl's own code: the api-versions, field names and values below are
read from the Azure REST API reference (learn.microsoft.com/rest/api/...), not from the
plan builder.

    azure_requests.py RECORD.jsonl byoc|self-managed

Prints {"checks": N} and exits 0, or prints every failure and exits 1.
"""

import json
import re
import sys

# Stable api-versions per resource type (ARM REST reference, "api-version" of each
# operation group); diagnostic settings have no stable version that addresses a
# subscription, so the preview the Azure CLI uses.
API_VERSIONS = {
    "microsoft.resources/subscriptions": "2022-12-01",
    "microsoft.resources/resourcegroups": "2022-09-01",
    "microsoft.keyvault/vaults": "2023-07-01",
    "microsoft.keyvault/vaults/keys": "2023-07-01",
    "microsoft.managedidentity/userassignedidentities": "2023-01-31",
    "microsoft.managedidentity/userassignedidentities/federatedidentitycredentials": "2023-01-31",
    "microsoft.authorization/roleassignments": "2022-04-01",
    "microsoft.authorization/roledefinitions": "2022-04-01",
    "microsoft.compute/diskencryptionsets": "2023-04-02",
    "microsoft.network/virtualnetworks": "2024-05-01",
    "microsoft.network/virtualnetworks/subnets": "2024-05-01",
    "microsoft.network/publicipaddresses": "2024-05-01",
    "microsoft.network/natgateways": "2024-05-01",
    "microsoft.network/networksecuritygroups": "2024-05-01",
    "microsoft.network/loadbalancers": "2024-05-01",
    "microsoft.network/privatelinkservices": "2024-05-01",
    "microsoft.network/privateendpoints": "2024-05-01",
    "microsoft.network/networkwatchers/flowlogs": "2024-05-01",
    "microsoft.storage/storageaccounts": "2023-05-01",
    "microsoft.storage/storageaccounts/blobservices/containers": "2023-05-01",
    "microsoft.operationalinsights/workspaces": "2022-10-01",
    "microsoft.insights/diagnosticsettings": "2021-05-01-preview",
    "microsoft.containerservice/managedclusters": "2024-09-01",
    "microsoft.containerservice/managedclusters/agentpools": "2024-09-01",
}
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# Built-in roles that grant everything, or the right to grant (never assigned by a data plane).
BROAD_ROLES = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
    "f58310d9-a9f6-439a-9e8d-f62e7b41a168": "Role Based Access Control Administrator",
}
MANAGED_IDENTITY_OPERATOR = "f1a07417-d97a-45cb-824c-7a7467783830"
# Actions that grant access or author trust: no custom role of Union.ai's may hold them.
TRUST_WRITING = [
    "microsoft.authorization/roleassignments/write",
    "microsoft.authorization/roledefinitions/write",
    "microsoft.managedidentity/userassignedidentities/write",
    "microsoft.managedidentity/userassignedidentities/federatedidentitycredentials/write",
    "microsoft.insights/diagnosticsettings/write",
    "microsoft.insights/diagnosticsettings/delete",
    "microsoft.resources/deployments/write",
]
COGNITO = "https://cognito-identity.amazonaws.com"
TOKEN_EXCHANGE = "api://AzureADTokenExchange"

failures = []
checks = 0


def check(ok, what):
    global checks
    checks += 1
    if not ok:
        failures.append(what)


def arm_type(path):
    """`microsoft.network/virtualnetworks/subnets` for a subnet's path."""
    p = path.lower()
    if re.fullmatch(r"/subscriptions/[^/]+/?", p):
        return "microsoft.resources/subscriptions"
    if "/providers/" not in p:
        return "microsoft.resources/resourcegroups" if "/resourcegroups/" in p else ""
    tail = p.rsplit("/providers/", 1)[1].split("/")
    return "/".join([tail[0]] + tail[1::2])


def main():
    record, model = sys.argv[1], sys.argv[2]
    requests = [json.loads(line) for line in open(record) if line.strip()]
    check(len(requests) > 0, "no request recorded")
    text = open(record).read()
    # Secrets never reach the record in clear (the server redacts them; a leak means it
    # saw one where it did not expect it).
    check("client_secret=" not in text and '"access_token": "ey' not in text, "a secret in the record")

    puts = [r for r in requests if r["method"] == "PUT" and r["path"].startswith("/subscriptions/")]
    by_type = {}
    for r in puts:
        by_type.setdefault(arm_type(r["path"]), []).append(r)

    # Every ARM call names the api-version its resource type is pinned to.
    for r in requests:
        path = r["path"]
        if not path.startswith("/subscriptions/") or re.search(r"/(operations|asyncoperations|operationresults)/", path, re.I):
            continue
        t = arm_type(path)
        want = API_VERSIONS.get(t)
        got = (r.get("query") or {}).get("api-version")
        got = got[0] if isinstance(got, list) else got
        check(want is not None, f"{r['method']} {path}: a resource type unionctl does not manage ({t})")
        check(got == want, f"{r['method']} {path}: api-version {got}, the pinned one is {want}")

    def props(r):
        return (r.get("body") or {}).get("properties") or {}

    # Storage: no public blobs, TLS 1.2+, HTTPS only, no shared keys, the customer's key,
    # hierarchical namespace, public networks denied (Storage Accounts - Create).
    for r in by_type.get("microsoft.storage/storageaccounts", []):
        p = props(r)
        check(p.get("allowBlobPublicAccess") is False, f"{r['path']}: allowBlobPublicAccess")
        check(p.get("minimumTlsVersion") in ("TLS1_2", "TLS1_3"), f"{r['path']}: minimumTlsVersion {p.get('minimumTlsVersion')}")
        check(p.get("supportsHttpsTrafficOnly") is True, f"{r['path']}: supportsHttpsTrafficOnly")
        check(p.get("allowSharedKeyAccess") is False, f"{r['path']}: allowSharedKeyAccess")
        check(p.get("isHnsEnabled") is True, f"{r['path']}: isHnsEnabled")
        enc = p.get("encryption") or {}
        check(enc.get("keySource") == "Microsoft.Keyvault" and (enc.get("keyvaultproperties") or {}).get("keyname"), f"{r['path']}: customer-managed key")
        check(enc.get("requireInfrastructureEncryption") is True, f"{r['path']}: infrastructure encryption")
        check((p.get("networkAcls") or {}).get("defaultAction") == "Deny", f"{r['path']}: networkAcls.defaultAction")
    for r in by_type.get("microsoft.storage/storageaccounts/blobservices/containers", []):
        check(props(r).get("publicAccess") == "None", f"{r['path']}: publicAccess")

    # Key Vault: purge protection, RBAC, no public network by default (Vaults - Create Or Update).
    for r in by_type.get("microsoft.keyvault/vaults", []):
        p = props(r)
        check(p.get("enablePurgeProtection") is True, f"{r['path']}: enablePurgeProtection")
        check(p.get("enableRbacAuthorization") is True, f"{r['path']}: enableRbacAuthorization")
        check((p.get("networkAcls") or {}).get("defaultAction") == "Deny", f"{r['path']}: networkAcls")
    for r in by_type.get("microsoft.keyvault/vaults/keys", []):
        p = props(r)
        check(p.get("kty", "").startswith("RSA") and p.get("keySize", 0) >= 3072, f"{r['path']}: key type/size")
        check(bool((p.get("rotationPolicy") or {}).get("lifetimeActions")), f"{r['path']}: rotation policy")
    check(not any(r["method"] == "DELETE" and arm_type(r["path"]) == "microsoft.keyvault/vaults/keys" for r in requests), "a key DELETE (ARM has none)")

    # AKS (Managed Clusters - Create Or Update): private, no local accounts, Entra RBAC,
    # workload identity, KMS with the customer's key, disks with the customer's key.
    clusters = by_type.get("microsoft.containerservice/managedclusters", [])
    if model == "byoc" or clusters:
        check(len(clusters) >= 1, "no cluster written")
    for r in clusters:
        p = props(r)
        api = p.get("apiServerAccessProfile") or {}
        check(api.get("enablePrivateCluster") is True, f"{r['path']}: enablePrivateCluster")
        check(api.get("enablePrivateClusterPublicFQDN") is False, f"{r['path']}: enablePrivateClusterPublicFQDN")
        check(p.get("disableLocalAccounts") is True, f"{r['path']}: disableLocalAccounts")
        aad = p.get("aadProfile") or {}
        check(aad.get("managed") is True and aad.get("enableAzureRBAC") is True, f"{r['path']}: aadProfile")
        check((p.get("oidcIssuerProfile") or {}).get("enabled") is True, f"{r['path']}: OIDC issuer")
        sec = p.get("securityProfile") or {}
        check((sec.get("workloadIdentity") or {}).get("enabled") is True, f"{r['path']}: workload identity")
        check((sec.get("azureKeyVaultKms") or {}).get("enabled") is True, f"{r['path']}: KMS")
        check(str(p.get("diskEncryptionSetID", "")).startswith("/subscriptions/"), f"{r['path']}: diskEncryptionSetID")
        ids = ((r.get("body") or {}).get("identity") or {}).get("userAssignedIdentities")
        check(isinstance(ids, dict) and len(ids) == 1 and all(k.startswith("/subscriptions/") for k in ids), f"{r['path']}: identity.userAssignedIdentities is a map of one identity id")
        for pool in p.get("agentPoolProfiles") or []:
            check(str(pool.get("vnetSubnetID", "")).startswith("/subscriptions/"), f"{r['path']}: system pool subnet")
    for r in by_type.get("microsoft.containerservice/managedclusters/agentpools", []):
        p = props(r)
        check(p.get("enableEncryptionAtHost") is True, f"{r['path']}: enableEncryptionAtHost")
        if "NC" in str(p.get("vmSize", "")) or "ND" in str(p.get("vmSize", "")):
            check("nvidia.com/gpu=present:NoSchedule" in (p.get("nodeTaints") or []), f"{r['path']}: GPU taint")

    # Network: nothing comes in from the internet; subnets have no default outbound
    # access; the nodes' subnet is behind the NSG and the NAT gateway.
    for r in by_type.get("microsoft.network/networksecuritygroups", []):
        rules = props(r).get("securityRules") or []
        deny_in = [x for x in rules if (x.get("properties") or {}).get("direction") == "Inbound" and x["properties"].get("access") == "Deny" and x["properties"].get("sourceAddressPrefix") in ("Internet", "*")]
        check(bool(deny_in), f"{r['path']}: no inbound deny from the internet")
        for x in rules:
            xp = x.get("properties") or {}
            check(not (xp.get("direction") == "Inbound" and xp.get("access") == "Allow" and xp.get("sourceAddressPrefix") in ("*", "Internet", "0.0.0.0/0")), f"{r['path']}: rule {x.get('name')} admits the internet")
            check(100 <= int(xp.get("priority", 0)) <= 4096, f"{r['path']}: rule {x.get('name')} priority")
    for r in by_type.get("microsoft.network/virtualnetworks/subnets", []):
        p = props(r)
        check(p.get("defaultOutboundAccess") is False, f"{r['path']}: defaultOutboundAccess")
        check(bool((p.get("networkSecurityGroup") or {}).get("id")), f"{r['path']}: no NSG")
        if r["path"].endswith("/subnets/nodes"):
            check(bool((p.get("natGateway") or {}).get("id")), f"{r['path']}: no NAT gateway")

    # Private Link (BYOC only): visible to and approved for Union.ai's subscription only.
    pls = by_type.get("microsoft.network/privatelinkservices", [])
    check((model == "byoc") == bool(pls), f"private link services in {model}: {len(pls)}")
    for r in pls:
        p = props(r)
        vis = (p.get("visibility") or {}).get("subscriptions") or []
        auto = (p.get("autoApproval") or {}).get("subscriptions") or []
        check(len(vis) == 1 and vis == auto and GUID.match(vis[0] or ""), f"{r['path']}: visibility {vis} / autoApproval {auto}")
    for r in by_type.get("microsoft.network/loadbalancers", []):
        p = props(r)
        fe = p.get("frontendIPConfigurations") or []
        check(all("publicIPAddress" not in (f.get("properties") or {}) for f in fe), f"{r['path']}: a public frontend")
        addrs = [a for pool in p.get("backendAddressPools") or [] for a in (pool.get("properties") or {}).get("loadBalancerBackendAddresses") or []]
        check(all((a.get("properties") or {}).get("ipAddress") for a in addrs) and addrs, f"{r['path']}: backend without the API server's address")

    # Audit: the cluster's audit logs and the subscription's Activity Log go to the
    # customer's workspace; VNet flow logs on.
    diag = by_type.get("microsoft.insights/diagnosticsettings", [])
    categories = {c.get("category") for r in diag for c in props(r).get("logs") or [] if c.get("enabled")}
    check({"Administrative", "Security"} <= categories, f"activity log categories {categories}")
    if clusters:
        check({"kube-audit", "kube-audit-admin"} <= categories, f"AKS audit categories {categories}")
    for r in by_type.get("microsoft.network/networkwatchers/flowlogs", []):
        check(props(r).get("enabled") is True and (props(r).get("retentionPolicy") or {}).get("enabled") is True, f"{r['path']}: flow log")

    # Role assignments (Role Assignments - Create): GUID names, never a role that grants
    # everything or the right to grant; a tenant's storage access only under a condition.
    for r in by_type.get("microsoft.authorization/roleassignments", []):
        p = props(r)
        name = r["path"].rsplit("/", 1)[1]
        check(bool(GUID.match(name)), f"{r['path']}: name is not a GUID")
        role = str(p.get("roleDefinitionId", "")).rsplit("/", 1)[-1]
        check(role not in BROAD_ROLES, f"{r['path']}: assigns {BROAD_ROLES.get(role)}")
        check(p.get("principalType") == "ServicePrincipal", f"{r['path']}: principalType")
        if p.get("condition"):
            check(p.get("conditionVersion") == "2.0", f"{r['path']}: conditionVersion")
        if role == MANAGED_IDENTITY_OPERATOR:
            check("/userassignedidentities/" in r["path"].lower(), f"{r['path']}: Managed Identity Operator beyond one identity")
    tenant_grants = [r for r in by_type.get("microsoft.authorization/roleassignments", []) if "ba92f5b4-2d11-453d-a403-e96b0029c9fe" in str(props(r).get("roleDefinitionId"))]
    conditioned = [r for r in tenant_grants if "StringStartsWith" in str(props(r).get("condition", ""))]
    check(len(conditioned) >= 2, f"tenant storage grants with a path condition: {len(conditioned)}")

    # Union.ai's custom role: its resource group only, nothing that writes trust.
    roles = by_type.get("microsoft.authorization/roledefinitions", [])
    check((model == "byoc") == bool(roles), f"custom roles in {model}: {len(roles)}")
    for r in roles:
        p = props(r)
        scopes = p.get("assignableScopes") or []
        check(len(scopes) == 1 and "/resourcegroups/" in scopes[0].lower(), f"{r['path']}: assignableScopes {scopes}")
        actions = [a.lower() for perm in p.get("permissions") or [] for a in perm.get("actions") or []]
        check(not any(a == "*" or a.endswith("/*") and a.count("/") < 2 for a in actions), f"{r['path']}: a wildcard over a provider")
        # A pattern matches as Azure matches it: `*` stands for any characters.
        matches = lambda pattern, action: re.fullmatch(re.escape(pattern).replace(r"\*", ".*"), action) is not None
        for bad in TRUST_WRITING:
            check(not any(matches(a, bad) for a in actions), f"{r['path']}: may {bad}")
        check(not any(a.startswith("microsoft.authorization/") for a in actions), f"{r['path']}: an Authorization permission")
        # The private connection is the customer's: no load balancer or Private Link write.
        for bad in ("microsoft.network/loadbalancers/write", "microsoft.network/privatelinkservices/write", "microsoft.network/virtualnetworks/subnets/write"):
            check(not any(matches(a, bad) for a in actions), f"{r['path']}: may {bad}")

    # Workload identities' federated credentials: one exact service account, the token
    # exchange audience, and every credential of an identity in one namespace.
    namespaces = {}
    for r in by_type.get("microsoft.managedidentity/userassignedidentities/federatedidentitycredentials", []):
        p = props(r)
        subject = p.get("subject", "")
        check(re.fullmatch(r"system:serviceaccount:[a-z0-9-]+:[a-z0-9-]+", subject) is not None, f"{r['path']}: subject {subject}")
        check(p.get("audiences") == [TOKEN_EXCHANGE], f"{r['path']}: audiences {p.get('audiences')}")
        identity = r["path"].lower().split("/federatedidentitycredentials/")[0]
        namespaces.setdefault(identity, set()).add(subject.split(":")[2] if subject.count(":") >= 3 else subject)
    for identity, ns in namespaces.items():
        check(len(ns) == 1, f"{identity}: trusted by namespaces {sorted(ns)}")

    # Microsoft Graph: only in BYOC; Union.ai's only credential is federated, with the
    # exact subject and one audience.
    graph = [r for r in requests if r["path"].startswith("/graph/")]
    check((model == "byoc") == bool(graph), f"Graph requests in {model}: {len(graph)}")
    for r in graph:
        if r["method"] in ("POST", "PATCH") and "/federatedIdentityCredentials" in r["path"]:
            b = r.get("body") or {}
            check(b.get("issuer") == COGNITO, f"{r['path']}: issuer {b.get('issuer')}")
            check("*" not in str(b.get("subject")) and b.get("subject"), f"{r['path']}: subject {b.get('subject')}")
            check(isinstance(b.get("audiences"), list) and len(b["audiences"]) == 1, f"{r['path']}: audiences")
        if r["method"] == "POST" and r["path"].rstrip("/").endswith(("/passwordCredentials", "/addPassword", "/keyCredentials", "/addKey")):
            check(False, f"{r['path']}: a secret for Union.ai's application")

    # Union.ai's principal (the one that wrote the cluster) wrote nothing else.
    union = {r.get("principal") for r in clusters}
    customer = {r.get("principal") for r in by_type.get("microsoft.resources/resourcegroups", [])}
    if model == "byoc":
        check(union.isdisjoint(customer), "the cluster was written by the customer's principal")
        for r in requests:
            if r.get("principal") in union and r["method"] != "GET":
                check("/managedclusters/" in r["path"].lower(), f"Union.ai wrote {r['path']}")

    if failures:
        for f in failures:
            print("FAIL", f)
        sys.exit(1)
    print(json.dumps({"checks": checks}))


if __name__ == "__main__":
    main()
