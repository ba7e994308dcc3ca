#!/usr/bin/env python3
"""Checks the requests an apply sent to GCP (a `--record` file of the contract server)
against the security invariants, field by field, as the REST references name the fields.
Independent of unionctl: it reads only the recorded requests.

    gcp_requests.py RECORD.jsonl MODEL PROJECT PREFIX UNION_PROJECT

Prints the number of checks; exits 1 with the failed ones.
"""

import json
import re
import sys

record, model, project, prefix, union_project = sys.argv[1:6]
requests = [json.loads(line) for line in open(record)]
failures, checks = [], 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        failures.append(what)


def enum(value, name, number):
    # The Rust clients send enums by number (`$alt=json;enum-encoding=int`).
    return value in (name, number)


def sent(method, pattern):
    return [r for r in requests if r["method"] == method and re.search(pattern, r["path"]) and (r.get("status") or 200) < 300]


# GKE: private nodes and endpoint, authorized networks, CMEK secrets, Workload Identity,
# API-server logs, no legacy ABAC, no client certificate
# (https://cloud.google.com/kubernetes-engine/docs/reference/rest/v1/projects.locations.clusters#Cluster).
clusters = sent("POST", r"/container/v1/projects/[^/]+/locations/[^/]+/clusters$")
check(len(clusters) == 1, f"one cluster create, got {len(clusters)}")
for r in clusters:
    c = r["body"]["cluster"]
    pcc = c.get("privateClusterConfig", {})
    check(pcc.get("enablePrivateNodes") is True, "cluster: private nodes")
    check(pcc.get("enablePrivateEndpoint") is True, "cluster: private endpoint")
    check(c.get("masterAuthorizedNetworksConfig", {}).get("enabled") is True, "cluster: authorized networks on")
    db = c.get("databaseEncryption", {})
    check(enum(db.get("state"), "ENCRYPTED", 1) and db.get("keyName", "").startswith(f"projects/{project}/locations/"), f"cluster: secrets encrypted with the customer key: {db}")
    check(c.get("workloadIdentityConfig", {}).get("workloadPool") == f"{project}.svc.id.goog", "cluster: Workload Identity")
    components = c.get("loggingConfig", {}).get("componentConfig", {}).get("enableComponents", [])
    check(any(enum(x, "APISERVER", 3) for x in components), f"cluster: API-server logs: {components}")
    check(not c.get("legacyAbac", {}).get("enabled"), "cluster: no legacy ABAC")
    check(not c.get("masterAuth", {}).get("clientCertificateConfig", {}).get("issueClientCertificate"), "cluster: no client certificate")

pools = sent("POST", r"/nodePools$")
check(len(pools) >= 1, "node pools created")
for r in pools:
    np = r["body"]["nodePool"]
    cfg = np.get("config", {})
    check(cfg.get("shieldedInstanceConfig", {}).get("enableSecureBoot") is True, f"node pool {np['name']}: secure boot")
    check(enum(cfg.get("workloadMetadataConfig", {}).get("mode"), "GKE_METADATA", 2), f"node pool {np['name']}: GKE metadata server")
    check(cfg.get("bootDiskKmsKey", "").startswith(f"projects/{project}/"), f"node pool {np['name']}: CMEK boot disk")
    check(cfg.get("serviceAccount") == f"{prefix}-nodes@{project}.iam.gserviceaccount.com", f"node pool {np['name']}: the nodes' own service account")
    if np["name"] == "gpu":
        check(any(t.get("key") == "nvidia.com/gpu" for t in cfg.get("taints", [])), "gpu pool: tainted")

# Cloud Storage: public access prevention enforced, uniform access, CMEK, versioning
# (https://cloud.google.com/storage/docs/json_api/v1/buckets/insert).
buckets = sent("POST", r"/storage/v1/b$")
check(len(buckets) >= 2, "buckets created")
for r in buckets:
    b = r["body"]
    ic = b.get("iamConfiguration", {})
    check(ic.get("publicAccessPrevention") == "enforced", f"bucket {b['name']}: public access prevention enforced")
    check(ic.get("uniformBucketLevelAccess", {}).get("enabled") is True, f"bucket {b['name']}: uniform access")
    check(b.get("encryption", {}).get("defaultKmsKeyName", "").startswith(f"projects/{project}/"), f"bucket {b['name']}: CMEK")
    check(b.get("versioning", {}).get("enabled") is True, f"bucket {b['name']}: versioning")

# Firewall rules apply to the nodes only, never to the whole network
# (https://cloud.google.com/compute/docs/reference/rest/v1/firewalls/insert).
for r in sent("POST", r"/global/firewalls$"):
    f = r["body"]
    check(f.get("targetServiceAccounts") == [f"{prefix}-nodes@{project}.iam.gserviceaccount.com"], f"firewall {f['name']}: targets the nodes")
    if f.get("direction") == "INGRESS":
        check("0.0.0.0/0" not in f.get("sourceRanges", []), f"firewall {f['name']}: no ingress from anywhere")

# IAM: every project-level grant to Union.ai carries a condition; none is a basic role
# (https://cloud.google.com/resource-manager/reference/rest/v3/projects/setIamPolicy).
admin = f"serviceAccount:unionai-administrator@{project}.iam.gserviceaccount.com"
for r in sent("POST", r"/v3/projects/[^/:]+:setIamPolicy$"):
    policy = r["body"]["policy"]
    for b in policy.get("bindings", []):
        if admin in b.get("members", []):
            check(bool(b.get("condition", {}).get("expression")), f"project grant of {b['role']} to Union.ai without a condition")
            check(b["role"] not in ("roles/owner", "roles/editor", "roles/viewer") and b["role"].startswith(f"projects/{project}/roles/"), f"Union.ai holds {b['role']} on the project")

# Workload identities: each binding names exact Kubernetes subjects of one namespace
# (https://cloud.google.com/iam/docs/reference/rest/v1/projects.serviceAccounts/setIamPolicy).
for r in sent("POST", r"/serviceAccounts/[^/]+:setIamPolicy$"):
    account = re.search(r"/serviceAccounts/([^/:]+)", r["path"]).group(1)
    for b in r["body"]["policy"].get("bindings", []):
        if b["role"] != "roles/iam.workloadIdentityUser" or account.startswith("unionai-administrator@"):
            continue
        namespaces = {re.fullmatch(rf"serviceAccount:{re.escape(project)}\.svc\.id\.goog\[([^/\]]+)/[^\]]+\]", m).group(1) if re.fullmatch(rf"serviceAccount:{re.escape(project)}\.svc\.id\.goog\[([^/\]]+)/[^\]]+\]", m) else None for m in b["members"]}
        check(None not in namespaces and len(namespaces) == 1, f"{account}: workload identity subjects {b['members']}")

# Union.ai's principals: its administrator, its project, any federated principal (its
# control plane's domain, in a bucket's CORS origins, names no principal).
union_names = ("unionai-administrator", union_project, "principalSet://", "workloadIdentityPools")
union_writes = [r for r in requests if r["method"] != "GET" and any(n in json.dumps(r.get("body")) + r["path"] for n in union_names)]
if model == "byoc":
    # Private Service Connect accepts Union.ai's project only, connection by connection
    # (https://cloud.google.com/compute/docs/reference/rest/v1/serviceAttachments/insert).
    attachments = sent("POST", r"/serviceAttachments$")
    check(len(attachments) == 1, "one service attachment")
    for r in attachments:
        a = r["body"]
        check(a.get("connectionPreference") == "ACCEPT_MANUAL", "attachment: manual acceptance")
        check([x.get("projectIdOrNum") for x in a.get("consumerAcceptLists", [])] == [union_project], f"attachment accepts {a.get('consumerAcceptLists')}")
    rules = sent("POST", r"/forwardingRules$")
    check(all(r["body"].get("loadBalancingScheme") in ("INTERNAL", "INTERNAL_MANAGED") for r in rules), "forwarding rules are internal")
    providers = sent("POST", r"/workloadIdentityPools/[^/]+/providers$")
    check(len(providers) == 1 and re.fullmatch(r"attribute\.aws_role == 'arn:aws:sts::\d{12}:assumed-role/[\w+=,.@-]+'", providers[0]["body"].get("attributeCondition", "")), "the pool provider admits one role")
else:
    check(not union_writes, f"self-managed requests name Union.ai: {[r['path'] for r in union_writes][:3]}")
    check(not sent("POST", r"/serviceAttachments$"), "self-managed: no service attachment")

print(json.dumps({"checks": checks, "failures": failures}))
sys.exit(1 if failures else 0)
