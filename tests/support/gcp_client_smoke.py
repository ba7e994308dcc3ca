#!/usr/bin/env python3
"""Smoke test of the GCP contract server (scripts/gcp_emulator/server.py) with plain urllib,
sending what google-cloud-rust and unionctl's GCP plan (src/clouds/gcp/plan.rs) send.

    .venv/bin/python tests/support/gcp_client_smoke.py      # starts its own server

Exits non-zero on the first failed check.
"""

import json
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
P, NUM, R, PREFIX = "acme-ml-prod", "482916350047", "us-central1", "acme-prod"
UNION_ACCOUNT = "479331373192"
UNION_ROLE = f"arn:aws:sts::{UNION_ACCOUNT}:assumed-role/unionai-admin"
CB = "https://www.googleapis.com/compute/v1/"
checks = 0


def check(cond, what, detail=""):
    global checks
    checks += 1
    if not cond:
        print(f"FAIL: {what}\n  {detail}")
        sys.exit(1)
    print(f"ok   {what}")


class Client:
    def __init__(self, base, token=None):
        self.base, self.token = base, token

    def call(self, method, path, body=None, form=None, token=None, query=None, raw=None):
        url = self.base + path + ("?" + urllib.parse.urlencode(query) if query else "")
        headers = {"x-goog-api-client": "smoke"}
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif raw is not None:
            data = raw
            headers["Content-Type"] = "application/octet-stream"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        tok = token if token is not None else self.token
        if tok:
            headers["Authorization"] = f"Bearer {tok}"
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req) as r:
                txt = r.read()
                return r.status, (json.loads(txt) if txt else None)
        except urllib.error.HTTPError as e:
            txt = e.read()
            return e.code, (json.loads(txt) if txt else None)


def main():
    rec = tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False).name
    py = os.path.join(ROOT, ".venv", "bin", "python")
    proc = subprocess.Popen([py if os.path.exists(py) else sys.executable, os.path.join(ROOT, "scripts", "gcp_emulator", "server.py"),
                             "--port", "0", "--record", rec, "--polls", "2", "--project", f"{P}={NUM}"],
                            stdout=subprocess.PIPE, text=True)
    try:
        env = {}
        while "GOOGLE_APPLICATION_CREDENTIALS" not in env:
            line = proc.stdout.readline()
            if not line:
                sys.exit("server exited")
            k, _, v = line.strip().partition("=")
            env[k] = v
        run(env, rec)
    finally:
        proc.terminate()
        proc.wait()
    print(f"\nall {checks} checks passed")


def run(env, rec):
    base = env["UNIONCTL_GCP_ENDPOINT_TEMPLATE"].replace("/{service}", "")
    cred = json.load(open(env["GOOGLE_APPLICATION_CREDENTIALS"]))
    c = Client(base)
    adm = lambda path, body: c.call("POST", "/_emulator/" + path, body)  # noqa: E731

    # -- token (authorized_user refresh: JSON body as google-cloud-auth user_account.rs sends it)
    s, b = c.call("GET", f"/compute/compute/v1/projects/{P}/global/networks/x")
    check(s == 401 and b["error"]["status"] == "UNAUTHENTICATED", "no token -> 401", b)
    s, b = c.call("POST", cred["token_uri"].replace(base, ""), {"grant_type": "refresh_token", "client_id": cred["client_id"],
                                                                "client_secret": cred["client_secret"], "refresh_token": cred["refresh_token"]})
    check(s == 200 and b["token_type"] == "Bearer" and b["expires_in"] > 0, "oauth2 refresh -> token", b)
    c.token = b["access_token"]
    comp = f"/compute/compute/v1/projects/{P}"

    # -- network insert -> operation RUNNING, RUNNING, DONE
    s, op = c.call("POST", f"{comp}/global/networks", {"name": PREFIX, "autoCreateSubnetworks": False, "routingConfig": {"routingMode": "REGIONAL"}},
                   query={"$alt": "json;enum-encoding=int"})
    check(s == 200 and op["kind"] == "compute#operation" and op["status"] == "RUNNING" and op["operationType"] == "insert", "network insert -> RUNNING op", op)
    check(op["targetLink"] == f"{CB}projects/{P}/global/networks/{PREFIX}", "op targetLink is the network selfLink", op["targetLink"])
    statuses = [c.call("GET", f"{comp}/global/operations/{op['name']}")[1]["status"] for _ in range(3)]
    check(statuses == ["RUNNING", "RUNNING", "DONE"], "op stays RUNNING for 2 polls, then DONE", statuses)
    s, b = c.call("POST", f"{comp}/global/networks", {"name": PREFIX, "autoCreateSubnetworks": False})
    check(s == 409 and b["error"]["status"] == "ALREADY_EXISTS" and b["error"]["errors"][0]["reason"] == "alreadyExists", "duplicate network -> 409", b)
    s, b = c.call("GET", f"{comp}/global/networks/nope")
    check(s == 404 and b["error"]["status"] == "NOT_FOUND", "missing network -> 404", b)
    s, b = c.call("POST", f"{comp}/global/networks", {"name": "Bad_Name"})
    check(s == 400, "RFC1035 name check -> 400", b)
    s, net = c.call("GET", f"{comp}/global/networks/{PREFIX}")
    check(net["selfLink"] == f"{CB}projects/{P}/global/networks/{PREFIX}" and net["id"].isdigit(), "network selfLink and id", net)

    # -- subnetworks (as plan.rs), patch needs the fingerprint
    nodes = {"name": f"{PREFIX}-nodes", "network": net["selfLink"], "region": R, "ipCidrRange": "10.0.0.0/17",
             "secondaryIpRanges": [{"rangeName": "pods", "ipCidrRange": "10.64.0.0/14"}, {"rangeName": "services", "ipCidrRange": "10.68.0.0/20"}],
             "privateIpGoogleAccess": True,
             "logConfig": {"enable": True, "aggregationInterval": "INTERVAL_5_SEC", "flowSampling": 0.5, "metadata": "INCLUDE_ALL_METADATA"}}
    s, b = c.call("POST", f"{comp}/regions/{R}/subnetworks", nodes)
    check(s == 200, "nodes subnetwork insert", b)
    s, b = c.call("POST", f"{comp}/regions/{R}/subnetworks", {**nodes, "name": "overlap", "secondaryIpRanges": []})
    check(s == 400 and "conflicts" in b["error"]["message"], "overlapping subnetwork -> 400", b)
    s, b = c.call("POST", f"{comp}/regions/{R}/subnetworks", {"name": f"{PREFIX}-psc-nat", "network": f"projects/{P}/global/networks/{PREFIX}",
                                                              "region": R, "ipCidrRange": "10.0.128.0/21", "purpose": "PRIVATE_SERVICE_CONNECT"})
    check(s == 200, "PSC NAT subnetwork insert (partial network URL)", b)
    s, b = c.call("PATCH", f"{comp}/regions/{R}/subnetworks/{PREFIX}-nodes", {"privateIpGoogleAccess": False})
    check(s == 412 and b["error"]["errors"][0]["reason"] == "conditionNotMet", "subnet patch without fingerprint -> 412", b)
    sub = c.call("GET", f"{comp}/regions/{R}/subnetworks/{PREFIX}-nodes")[1]
    s, b = c.call("PATCH", f"{comp}/regions/{R}/subnetworks/{PREFIX}-nodes", {"ipCidrRange": "10.0.0.0/18", "fingerprint": sub["fingerprint"]})
    check(s == 400, "subnet patch of ipCidrRange -> 400", b)
    s, b = c.call("PATCH", f"{comp}/regions/{R}/subnetworks/{PREFIX}-nodes", {"privateIpGoogleAccess": False, "fingerprint": sub["fingerprint"]})
    check(s == 400, "subnet patch of privateIpGoogleAccess -> 400 (only setPrivateIpGoogleAccess changes it)", b)
    s, b = c.call("POST", f"{comp}/regions/{R}/subnetworks/{PREFIX}-nodes/setPrivateIpGoogleAccess", {"privateIpGoogleAccess": False})
    check(s == 200 and b["operationType"] == "setPrivateIpGoogleAccess", "subnet setPrivateIpGoogleAccess", b)
    sub = c.call("GET", f"{comp}/regions/{R}/subnetworks/{PREFIX}-nodes")[1]
    check(sub.get("privateIpGoogleAccess") is False, "Private Google Access off", sub)
    s, b = c.call("PATCH", f"{comp}/regions/{R}/subnetworks/{PREFIX}-nodes", {"logConfig": {"enable": True, "aggregationInterval": "INTERVAL_5_SEC", "flowSampling": 0.5, "metadata": "INCLUDE_ALL_METADATA"}, "fingerprint": sub["fingerprint"]})
    check(s == 200 and b["operationType"] == "patch", "subnet patch with fingerprint", b)
    s, b = c.call("DELETE", f"{comp}/global/networks/{PREFIX}")
    check(s == 400 and b["error"]["errors"][0]["reason"] == "resourceInUseByAnotherResource", "network in use -> 400", b)

    # -- IAM: nodes SA, firewall naming it
    iam = f"/iam/v1/projects/{P}"
    s, b = c.call("POST", f"{iam}/serviceAccounts", {"accountId": "short", "serviceAccount": {}})
    check(s == 400, "accountId too short -> 400", b)
    s, nodes_sa = c.call("POST", f"{iam}/serviceAccounts", {"accountId": f"{PREFIX}-nodes", "serviceAccount": {"displayName": "GKE nodes"}})
    check(s == 200 and nodes_sa["email"] == f"{PREFIX}-nodes@{P}.iam.gserviceaccount.com", "SA create", nodes_sa)
    fw = {"name": f"{PREFIX}-egress-allow", "network": net["selfLink"], "targetServiceAccounts": [nodes_sa["email"]], "direction": "EGRESS",
          "priority": 1000, "allowed": [{"IPProtocol": "tcp", "ports": ["443", "7844"]}, {"IPProtocol": "udp", "ports": ["7844"]}],
          "destinationRanges": ["0.0.0.0/0"]}
    s, b = c.call("POST", f"{comp}/global/firewalls", fw)
    check(s == 200, "firewall insert", b)
    s, b = c.call("POST", f"{comp}/global/firewalls", {**fw, "name": "bad-ports", "allowed": [{"IPProtocol": "all", "ports": ["443"]}]})
    check(s == 400, "ports on protocol all -> 400", b)

    # -- KMS (rotationPeriod needs nextRotationTime), bucket with CMEK
    kms = f"/cloudkms/v1/projects/{P}/locations/{R}"
    s, ring = c.call("POST", f"{kms}/keyRings", {}, query={"keyRingId": PREFIX})
    check(s == 200 and ring["name"] == f"projects/{P}/locations/{R}/keyRings/{PREFIX}", "key ring create", ring)
    keybody = {"purpose": 1, "rotationPeriod": "7776000s", "versionTemplate": {"algorithm": 1, "protectionLevel": 1}, "labels": {"unionctl-owner": "customer"}}
    s, b = c.call("POST", f"{kms}/keyRings/{PREFIX}/cryptoKeys", keybody, query={"cryptoKeyId": f"{PREFIX}-cmek"})
    check(s == 400 and "next_rotation_time" in b["error"]["message"], "rotationPeriod without nextRotationTime -> 400", b)
    s, key = c.call("POST", f"{kms}/keyRings/{PREFIX}/cryptoKeys", {**keybody, "nextRotationTime": "2099-01-01T00:00:00Z"}, query={"cryptoKeyId": f"{PREFIX}-cmek"})
    check(s == 200 and key["purpose"] == "ENCRYPT_DECRYPT" and key["primary"]["state"] == "ENABLED", "crypto key create (int enums accepted)", key)
    s, b = c.call("DELETE", f"{kms}/keyRings/{PREFIX}/cryptoKeys/{PREFIX}-cmek")
    check(s == 405, "crypto keys cannot be deleted", b)
    bucket = {"name": f"{PREFIX}-metadata", "location": "US-CENTRAL1", "storageClass": "STANDARD",
              "iamConfiguration": {"uniformBucketLevelAccess": {"enabled": True}, "publicAccessPrevention": "enforced"},
              "versioning": {"enabled": True}, "labels": {"unionctl-owner": "customer"}, "encryption": {"defaultKmsKeyName": key["name"]}}
    s, b = c.call("POST", "/storage/storage/v1/b", bucket, query={"project": P})
    check(s == 200 and b["metageneration"] == "1" and b["encryption"]["defaultKmsKeyName"] == key["name"], "bucket with CMEK", b)
    s, b = c.call("POST", "/storage/storage/v1/b", {**bucket, "name": "other-bucket", "encryption": {"defaultKmsKeyName": key["name"] + "x"}}, query={"project": P})
    check(s == 400, "bucket with a missing key -> 400", b)
    s, b = c.call("POST", "/storage/upload/storage/v1/b/" + f"{PREFIX}-metadata/o", raw=b"hello", query={"uploadType": "media", "name": "a/b.txt"})
    check(s == 200 and b["kmsKeyName"].startswith(key["name"]), "object upload", b)
    # Preconditions, as the remote state's lock uses them (request-preconditions).
    up = "/storage/upload/storage/v1/b/" + f"{PREFIX}-metadata/o"
    s, b = c.call("POST", up, raw=b'{"n": 1}', query={"uploadType": "media", "name": "s.lock", "ifGenerationMatch": "0"})
    check(s == 200 and b["generation"].isdigit() and "_data" not in b, "create-if-absent (ifGenerationMatch=0) of a new object", b)
    gen = b["generation"]
    s, b = c.call("POST", up, raw=b'{"n": 2}', query={"uploadType": "media", "name": "s.lock", "ifGenerationMatch": "0"})
    check(s == 412 and b["error"]["errors"][0]["reason"] == "conditionNotMet", "create-if-absent of an existing object -> 412", b)
    obj = f"/storage/storage/v1/b/{PREFIX}-metadata/o/s.lock"
    s, b = c.call("GET", obj, query={"alt": "media"})
    check(s == 200 and b == {"n": 1}, "alt=media gives the bytes", b)
    s, b = c.call("DELETE", obj, query={"ifGenerationMatch": str(int(gen) + 1)})
    check(s == 412, "delete at another generation -> 412", b)
    s, b = c.call("DELETE", obj, query={"ifGenerationMatch": gen})
    check(s == 204, "delete at its generation", b)
    s, b = c.call("GET", obj, query={"alt": "media"})
    check(s == 404, "deleted (noncurrent in a versioned bucket) -> 404", b)
    s, b = c.call("DELETE", f"/storage/storage/v1/b/{PREFIX}-metadata")
    check(s == 409 and "not empty" in b["error"]["message"], "non-empty bucket delete -> 409", b)

    # -- GKE cluster create / get / update (bodies as plan.rs)
    gke = f"/container/v1/projects/{P}/locations/{R}"
    cluster = {"name": PREFIX, "location": R, "initialClusterVersion": "1.31", "network": net["selfLink"], "subnetwork": sub["selfLink"],
               "releaseChannel": {"channel": 0}, "privateClusterConfig": {"enablePrivateNodes": True, "enablePrivateEndpoint": True, "masterIpv4CidrBlock": "172.16.0.0/28"},
               "masterAuthorizedNetworksConfig": {"enabled": True, "cidrBlocks": [{"cidrBlock": "10.0.0.0/16", "displayName": "net"}]},
               "ipAllocationPolicy": {"useIpAliases": True, "clusterSecondaryRangeName": "pods", "servicesSecondaryRangeName": "services"},
               "workloadIdentityConfig": {"workloadPool": f"{P}.svc.id.goog"}, "databaseEncryption": {"state": 1, "keyName": key["name"]},
               "loggingConfig": {"componentConfig": {"enableComponents": [1, 3]}}, "legacyAbac": {"enabled": False},
               "shieldedNodes": {"enabled": True}, "removeDefaultNodePool": True, "initialNodeCount": 1, "resourceLabels": {"unionctl-owner": "unionai"}}
    s, b = c.call("POST", f"{gke}/clusters", {"cluster": {**cluster, "privateClusterConfig": {**cluster["privateClusterConfig"], "masterIpv4CidrBlock": "172.16.0.0/24"}}})
    check(s == 400 and "/28" in b["error"]["message"], "master CIDR not a /28 -> 400", b)
    s, op = c.call("POST", f"{gke}/clusters", {"cluster": cluster, "parent": f"projects/{P}/locations/{R}"})
    check(s == 200 and op["operationType"] == "CREATE_CLUSTER" and op["status"] == "RUNNING", "cluster create -> op", op)
    s, cl = c.call("GET", f"{gke}/clusters/{PREFIX}")
    check(cl["status"] == "PROVISIONING" and cl["privateClusterConfig"]["privateEndpoint"] == "172.16.0.2", "cluster PROVISIONING with private endpoint", cl)
    s, b = c.call("PUT", f"{gke}/clusters/{PREFIX}", {"update": {"desiredEnablePrivateEndpoint": False}})
    check(s == 400 and b["error"]["status"] == "FAILED_PRECONDITION", "second operation while one runs -> FAILED_PRECONDITION", b)
    while c.call("GET", f"{gke}/operations/{op['name']}")[1]["status"] != "DONE":
        pass
    check(c.call("GET", f"{gke}/clusters/{PREFIX}")[1]["status"] == "RUNNING", "cluster RUNNING after its op is DONE")
    s, b = c.call("PUT", f"{gke}/clusters/{PREFIX}", {"update": {"desiredEnablePrivateEndpoint": True, "desiredShieldedNodes": {"enabled": True}}})
    check(s == 400, "two desired* fields in one update -> 400", b)
    s, op2 = c.call("PUT", f"{gke}/clusters/{PREFIX}", {"update": {"desiredLoggingConfig": {"componentConfig": {"enableComponents": [1]}}}})
    check(s == 200 and op2["operationType"] == "UPDATE_CLUSTER", "cluster update", op2)
    while c.call("GET", f"{gke}/operations/{op2['name']}")[1]["status"] != "DONE":
        pass

    # -- Union.ai's identity (plan.rs): pool, provider, admin SA, custom roles, conditional bindings
    wif = f"{iam}/locations/global/workloadIdentityPools"
    s, lro = c.call("POST", wif, {"displayName": "Union.ai", "description": "Union.ai's AWS identity", "disabled": False}, query={"workloadIdentityPoolId": "unionai"})
    check(s == 200 and lro["done"] is False and "/operations/" in lro["name"], "pool create -> LRO", lro)
    mapping = {"google.subject": "assertion.arn",
               "attribute.aws_role": "assertion.arn.contains('assumed-role') ? assertion.arn.extract('{account_arn}assumed-role/') + 'assumed-role/' + assertion.arn.extract('assumed-role/{role_name}/') : assertion.arn"}
    s, b = c.call("POST", f"{wif}/unionai/providers", {"aws": {"accountId": UNION_ACCOUNT}, "attributeMapping": mapping, "attributeCondition": "attribute.aws_role =="},
                  query={"workloadIdentityPoolProviderId": "unionai-aws"})
    check(s == 400, "unparsable attributeCondition -> 400", b)
    s, lro = c.call("POST", f"{wif}/unionai/providers", {"aws": {"accountId": UNION_ACCOUNT}, "attributeMapping": mapping,
                                                         "attributeCondition": f"attribute.aws_role == '{UNION_ROLE}'"},
                    query={"workloadIdentityPoolProviderId": "unionai-aws"})
    check(s == 200, "provider create", lro)
    done = [c.call("GET", "/iam/v1/" + lro["name"])[1] for _ in range(3)][-1]
    check(done["done"] is True and done["response"]["name"].endswith("/providers/unionai-aws"), "provider LRO done with response", done)
    admin_email = f"unionai-administrator@{P}.iam.gserviceaccount.com"
    s, b = c.call("POST", f"{iam}/serviceAccounts", {"accountId": "unionai-administrator", "serviceAccount": {"displayName": "Union.ai administrator"}})
    check(s == 200, "admin SA create", b)
    pset = f"principalSet://iam.googleapis.com/projects/{NUM}/locations/global/workloadIdentityPools/unionai/attribute.aws_role/{UNION_ROLE}"
    s, b = c.call("POST", f"{iam}/serviceAccounts/{admin_email}:setIamPolicy", {"policy": {"bindings": [
        {"role": "roles/iam.workloadIdentityUser", "members": [pset.replace(NUM, P)]}]}})
    check(s == 400, "principalSet with a project ID (not number) -> 400", b)
    s, b = c.call("POST", f"{iam}/serviceAccounts/{admin_email}:setIamPolicy", {"policy": {"bindings": [{"role": "roles/iam.workloadIdentityUser", "members": [pset]}]}})
    check(s == 200 and b["etag"], "admin SA workloadIdentityUser binding", b)
    member = f"serviceAccount:{admin_email}"
    s, b = c.call("POST", f"{iam}/serviceAccounts/{nodes_sa['email']}:setIamPolicy", {"policy": {"bindings": [{"role": "roles/iam.serviceAccountUser", "members": [member]}]}})
    check(s == 200, "admin may act as the nodes SA", b)
    cluster_perms = ["container.clusters.create", "container.clusters.get", "container.clusters.update", "container.clusters.delete", "container.clusters.list",
                     "container.clusters.getCredentials", "container.operations.get", "container.operations.list", "container.nodes.list", "container.pods.list"]
    network_perms = ["compute.serviceAttachments.create", "compute.serviceAttachments.get", "compute.serviceAttachments.update", "compute.serviceAttachments.delete",
                     "compute.forwardingRules.create", "compute.forwardingRules.get", "compute.forwardingRules.delete", "compute.forwardingRules.use",
                     "compute.regionBackendServices.create", "compute.regionBackendServices.get", "compute.regionBackendServices.delete", "compute.regionBackendServices.use",
                     "compute.networkEndpointGroups.create", "compute.networkEndpointGroups.get", "compute.networkEndpointGroups.delete", "compute.networkEndpointGroups.use",
                     "compute.regionOperations.get", "compute.subnetworks.use", "compute.subnetworks.get", "compute.networks.get"]
    s, b = c.call("POST", f"{iam}/roles", {"roleId": "Bad-Id!", "role": {"title": "x"}})
    check(s == 400, "invalid roleId -> 400", b)
    s, b = c.call("POST", f"{iam}/roles", {"roleId": "X1x", "role": {"title": "x", "includedPermissions": ["not a permission"]}})
    check(s == 400, "malformed permission -> 400", b)
    for rid, perms in (("UnionaiClusterAdministrator", cluster_perms), ("UnionaiNetworkAdministrator", network_perms)):
        s, b = c.call("POST", f"{iam}/roles", {"roleId": rid, "role": {"title": rid, "stage": 2, "includedPermissions": perms}})
        check(s == 200 and b["stage"] == "GA", f"custom role {rid}", b)
    regional = f"projects/{P}/regions/{R}"
    psc = " || ".join(f"resource.name.startsWith('{regional}/{k}/{PREFIX}-')" for k in ["serviceAttachments", "forwardingRules", "backendServices", "networkEndpointGroups"])
    net_cond = f"{psc} || resource.name.startsWith('{regional}/operations/') || resource.name.startsWith('{regional}/subnetworks/') || resource.name.startsWith('projects/{P}/global/networks/')"
    cl_cond = f"!resource.name.contains('/clusters/') || resource.name.endsWith('/clusters/{PREFIX}') || resource.name.contains('/clusters/{PREFIX}/')"
    s, pol = c.call("POST", f"/cloudresourcemanager/v3/projects/{P}:getIamPolicy", {"options": {"requestedPolicyVersion": 3}})
    check(s == 200 and pol["etag"], "project getIamPolicy", pol)
    bindings = pol["bindings"] + [
        {"role": f"projects/{P}/roles/UnionaiClusterAdministrator", "members": [member], "condition": {"title": f"{PREFIX} only", "expression": cl_cond}},
        {"role": f"projects/{P}/roles/UnionaiNetworkAdministrator", "members": [member], "condition": {"title": f"{PREFIX} only", "expression": net_cond}}]
    s, b = c.call("POST", f"/cloudresourcemanager/v3/projects/{P}:setIamPolicy", {"policy": {"version": 1, "etag": pol["etag"], "bindings": bindings}})
    check(s == 400 and "version" in b["error"]["message"], "conditions with version 1 -> 400", b)
    s, b = c.call("POST", f"/cloudresourcemanager/v3/projects/{P}:setIamPolicy", {"policy": {"version": 3, "etag": "BwXXXXXX", "bindings": bindings}})
    check(s == 409 and b["error"]["status"] == "ABORTED", "stale etag -> 409 ABORTED", b)
    bad_b = bindings[:-1] + [{**bindings[-1], "condition": {"title": "t", "expression": "resource.name.startsWith("}}]
    s, b = c.call("POST", f"/cloudresourcemanager/v3/projects/{P}:setIamPolicy", {"policy": {"version": 3, "etag": pol["etag"], "bindings": bad_b}})
    check(s == 400, "unparsable condition -> 400", b)
    s, b = c.call("POST", f"/cloudresourcemanager/v3/projects/{P}:setIamPolicy", {"policy": {"version": 3, "etag": pol["etag"], "bindings": bindings}})
    check(s == 200 and b["version"] == 3, "project setIamPolicy with conditional custom-role bindings", b)

    # -- STS exchange (AWS subject token as aws_sourced.rs builds it) and impersonation
    aud = f"//iam.googleapis.com/projects/{NUM}/locations/global/workloadIdentityPools/unionai/providers/unionai-aws"
    adm("aws-identities", {"accessKeyId": "AKIAUNIONADMIN", "arn": f"{UNION_ROLE}/session-1"})
    adm("aws-identities", {"accessKeyId": "AKIAOTHERROLE", "arn": f"arn:aws:sts::{UNION_ACCOUNT}:assumed-role/some-other-role/session-1"})

    def subject(akid):
        t = {"url": "https://sts.us-east-1.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15", "method": "POST", "body": "",
             "headers": [{"key": "host", "value": "sts.us-east-1.amazonaws.com"}, {"key": "x-amz-date", "value": "20250101T000000Z"},
                         {"key": "x-goog-cloud-target-resource", "value": aud},
                         {"key": "Authorization", "value": f"AWS4-HMAC-SHA256 Credential={akid}/20250101/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date;x-goog-cloud-target-resource, Signature=abc"}]}
        return urllib.parse.quote_plus(json.dumps(t))

    def sts(akid):
        return c.call("POST", "/sts/v1/token", form={"grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
                                                     "requested_token_type": "urn:ietf:params:oauth:token-type:access_token",
                                                     "subject_token": subject(akid), "subject_token_type": "urn:ietf:params:aws:token-type:aws4_request",
                                                     "audience": aud, "scope": "https://www.googleapis.com/auth/cloud-platform"}, token="")
    s, b = sts("AKIAUNKNOWN")
    check(s == 400 and b["error"] == "invalid_grant", "STS: unknown AWS key -> invalid_grant", b)
    s, b = sts("AKIAOTHERROLE")
    check(s == 403 and b["error"] == "unauthorized_client", "STS: another role fails the attribute condition -> 403", b)
    s, fed = sts("AKIAUNIONADMIN")
    check(s == 200 and fed["access_token"], "STS: Union.ai's role -> federated token", fed)
    gat = f"/iamcredentials/v1/projects/-/serviceAccounts/{admin_email}:generateAccessToken"
    s, b = c.call("POST", gat, {"scope": ["https://www.googleapis.com/auth/cloud-platform"], "lifetime": "3600s"}, token=fed["access_token"])
    check(s == 200 and b["accessToken"] and b["expireTime"], "generateAccessToken allowed for the federated role", b)
    sa_tok = b["accessToken"]
    s, b = c.call("POST", f"/iamcredentials/v1/projects/-/serviceAccounts/{nodes_sa['email']}:generateAccessToken",
                  {"scope": ["https://www.googleapis.com/auth/cloud-platform"]}, token=fed["access_token"])
    check(s == 403 and b["error"]["status"] == "PERMISSION_DENIED", "generateAccessToken refused on an SA without the binding", b)

    # -- as the admin SA: firewall patch denied; PSC pieces for {prefix}-api allowed (customer builds the backend first)
    sa = Client(base, sa_tok)
    s, b = sa.call("PATCH", f"{comp}/global/firewalls/{PREFIX}-egress-allow", {"sourceRanges": ["0.0.0.0/0"]})
    check(s == 403 and "compute.firewalls.update" in b["error"]["message"], "union SA denied firewall patch", b)
    s, b = c.call("POST", f"{comp}/regions/{R}/backendServices", {"name": f"{PREFIX}-api", "region": R, "loadBalancingScheme": "INTERNAL", "protocol": "TCP", "backends": []})
    check(s == 200, "backend service insert", b)
    s, b = c.call("POST", f"{comp}/regions/{R}/networkEndpointGroups", {"name": "neg-ip", "region": R, "networkEndpointType": "PRIVATE_SERVICE_CONNECT",
                                                                        "network": net["selfLink"], "subnetwork": sub["selfLink"], "pscTargetService": "172.16.0.2"})
    check(s == 400, "PSC NEG with an IP as pscTargetService -> 400", b)
    s, b = c.call("POST", f"{comp}/regions/{R}/forwardingRules", {"name": f"{PREFIX}-api", "region": R, "loadBalancingScheme": "INTERNAL", "IPProtocol": "TCP",
                                                                  "ports": ["443"], "network": net["selfLink"], "subnetwork": sub["selfLink"],
                                                                  "backendService": f"{CB}projects/{P}/regions/{R}/backendServices/{PREFIX}-api"})
    check(s == 200, "forwarding rule insert", b)
    fr = c.call("GET", f"{comp}/regions/{R}/forwardingRules/{PREFIX}-api")[1]
    att = {"name": f"{PREFIX}-api", "region": R, "targetService": fr["selfLink"], "connectionPreference": "ACCEPT_MANUAL",
           "natSubnets": [f"{CB}projects/{P}/regions/{R}/subnetworks/{PREFIX}-psc-nat"], "enableProxyProtocol": False,
           "consumerAcceptLists": [{"projectIdOrNum": "unionai-dataplanes", "connectionLimit": 4}], "consumerRejectLists": []}
    s, b = sa.call("POST", f"{comp}/regions/{R}/serviceAttachments", {**att, "name": "other-api"})
    check(s == 403, "union SA denied a service attachment outside its prefix", b)
    s, b = sa.call("POST", f"{comp}/regions/{R}/serviceAttachments", {**att, "natSubnets": [sub["selfLink"]]})
    check(s == 400 and "PRIVATE_SERVICE_CONNECT" in b["error"]["message"], "NAT subnet without PSC purpose -> 400", b)
    s, op = sa.call("POST", f"{comp}/regions/{R}/serviceAttachments", att)
    check(s == 200 and op["status"] == "RUNNING", "union SA inserts the {prefix}-api service attachment", op)
    s, b = sa.call("GET", f"{comp}/regions/{R}/operations/{op['name']}")
    check(s == 200, "union SA polls its regional operation", b)
    s, b = sa.call("POST", f"/container/v1/projects/{P}/locations/{R}/clusters/{PREFIX}/nodePools",
                   {"nodePool": {"name": "services", "config": {"machineType": "n2-standard-4", "diskSizeGb": 100, "serviceAccount": nodes_sa["email"],
                                                                "workloadMetadataConfig": {"mode": 2}, "bootDiskKmsKey": key["name"]},
                                 "autoscaling": {"enabled": True, "minNodeCount": 2, "maxNodeCount": 4}, "initialNodeCount": 2}})
    check(s == 200 and b["operationType"] == "CREATE_NODE_POOL", "union SA creates a node pool acting as the nodes SA", b)

    # -- PSC publication of the GKE private endpoint: regional internal proxy NLB with a hybrid NEG
    #    (https://cloud.google.com/load-balancing/docs/tcp/set-up-int-tcp-proxy-hybrid)
    Z = f"{R}-a"
    zonal, kube = f"projects/{P}/zones/{Z}", f"{PREFIX}-kube"
    hybrid_perms = ["compute.networkEndpointGroups.create", "compute.networkEndpointGroups.get", "compute.networkEndpointGroups.delete",
                    "compute.networkEndpointGroups.attachNetworkEndpoints", "compute.networkEndpointGroups.detachNetworkEndpoints",
                    "compute.networkEndpointGroups.use", "compute.regionHealthChecks.create", "compute.regionHealthChecks.get",
                    "compute.regionHealthChecks.update", "compute.regionHealthChecks.delete", "compute.regionHealthChecks.useReadOnly",
                    "compute.regionTargetTcpProxies.create", "compute.regionTargetTcpProxies.get", "compute.regionTargetTcpProxies.delete",
                    "compute.regionTargetTcpProxies.use", "compute.zoneOperations.get"]
    s, b = c.call("POST", f"{iam}/roles", {"roleId": "UnionaiHybridLbAdministrator", "role": {"title": "hybrid LB", "stage": 2, "includedPermissions": hybrid_perms}})
    check(s == 200, "custom role with the hybrid NEG / health check / target TCP proxy permissions", b)
    hy_cond = (f"resource.name.startsWith('{zonal}/networkEndpointGroups/{PREFIX}-') || resource.name.startsWith('{regional}/healthChecks/{PREFIX}-')"
               f" || resource.name.startsWith('{regional}/targetTcpProxies/{PREFIX}-') || resource.name.startsWith('{zonal}/operations/')")
    pol = c.call("POST", f"/cloudresourcemanager/v3/projects/{P}:getIamPolicy", {"options": {"requestedPolicyVersion": 3}})[1]
    pol["bindings"].append({"role": f"projects/{P}/roles/UnionaiHybridLbAdministrator", "members": [member],
                            "condition": {"title": f"{PREFIX} hybrid LB", "expression": hy_cond}})
    s, b = c.call("POST", f"/cloudresourcemanager/v3/projects/{P}:setIamPolicy", {"policy": pol})
    check(s == 200, "conditional binding of the hybrid LB role", b)

    def wait(path, who=sa):
        seen = []
        while True:
            s, o = who.call("GET", path)
            if s != 200:
                return s, o, seen
            seen.append(o["status"])
            if o["status"] == "DONE":
                return s, o, seen

    negs = f"{comp}/zones/{Z}/networkEndpointGroups"
    neg = {"name": kube, "networkEndpointType": "NON_GCP_PRIVATE_IP_PORT", "network": net["selfLink"], "defaultPort": 443}
    s, b = sa.call("POST", f"{comp}/zones/{R}-z/networkEndpointGroups", neg)
    check(s == 400 and "zone" in b["error"]["message"], "hybrid NEG in a malformed zone -> 400", b)
    s, b = sa.call("POST", negs, {**neg, "subnetwork": sub["selfLink"]})
    check(s == 400 and "subnetwork" in b["error"]["message"], "hybrid NEG with a subnetwork -> 400", b)
    s, b = sa.call("POST", negs, {**neg, "network": f"projects/{P}/global/networks/nope"})
    check(s == 404, "hybrid NEG in a missing network -> 404", b)
    s, b = sa.call("POST", negs, {**neg, "name": "other-kube"})
    check(s == 403 and "compute.networkEndpointGroups.create" in b["error"]["message"], "union SA denied a NEG outside its prefix", b)
    s, op = sa.call("POST", negs, neg)
    check(s == 200 and op["status"] == "RUNNING" and op["zone"].endswith(f"/zones/{Z}") and "/zones/" in op["selfLink"], "union SA inserts the hybrid NEG -> zonal op", op)
    s, done, seen = wait(f"{comp}/zones/{Z}/operations/{op['name']}")
    check(s == 200 and seen == ["RUNNING", "RUNNING", "DONE"], "union SA polls the zonal operation until DONE", (s, done, seen))
    s, b = sa.call("GET", f"{negs}/{kube}")
    check(s == 200 and b["zone"] == f"{CB}{zonal}" and b["size"] == 0 and "region" not in b, "hybrid NEG get: zone URL, size 0", b)
    s, b = sa.call("POST", f"{negs}/{kube}/attachNetworkEndpoints", {"networkEndpoints": [{"instance": "vm-1", "ipAddress": "172.16.0.2", "port": 443}]})
    check(s == 400 and "instance" in b["error"]["message"], "attach an endpoint with an instance to a hybrid NEG -> 400", b)
    s, b = sa.call("POST", f"{negs}/{kube}/attachNetworkEndpoints", {"networkEndpoints": [{"port": 443}]})
    check(s == 400 and "ipAddress" in b["error"]["message"], "attach an endpoint without ipAddress -> 400", b)
    s, op = sa.call("POST", f"{negs}/{kube}/attachNetworkEndpoints", {"networkEndpoints": [{"ipAddress": "172.16.0.2", "port": 443}]})
    check(s == 200 and op["operationType"] == "attachNetworkEndpoints", "union SA attaches 172.16.0.2:443", op)
    wait(f"{comp}/zones/{Z}/operations/{op['name']}")
    s, b = sa.call("POST", f"{negs}/{kube}/listNetworkEndpoints", {})
    check(s == 200 and b["items"] == [{"networkEndpoint": {"ipAddress": "172.16.0.2", "port": 443}}], "listNetworkEndpoints shows the endpoint", b)
    check(sa.call("GET", f"{negs}/{kube}")[1]["size"] == 1, "NEG size 1 after the attach is DONE")

    hcs = f"{comp}/regions/{R}/healthChecks"
    hc = {"name": kube, "region": R, "type": "TCP", "tcpHealthCheck": {"port": 443}, "checkIntervalSec": 5, "timeoutSec": 5}
    s, b = sa.call("POST", hcs, {**hc, "type": "HTTP"})
    check(s == 400 and "type" in b["error"]["message"], "health check whose type does not match its sub-object -> 400", b)
    s, b = sa.call("POST", hcs, {**hc, "timeoutSec": 10})
    check(s == 400 and "timeoutSec" in b["error"]["message"], "health check timeoutSec > checkIntervalSec -> 400", b)
    s, b = sa.call("POST", hcs, {**hc, "name": "other-hc"})
    check(s == 403 and "compute.regionHealthChecks.create" in b["error"]["message"], "union SA denied a health check outside its prefix", b)
    s, op = sa.call("POST", hcs, hc)
    check(s == 200, "union SA inserts the regional TCP health check", op)
    s, b = sa.call("PATCH", f"{hcs}/{kube}", {"tcpHealthCheck": {"port": 443, "proxyHeader": "NONE"}, "healthyThreshold": 3})
    check(s == 200 and b["operationType"] == "patch", "union SA patches the health check", b)
    check(sa.call("GET", f"{hcs}/{kube}")[1]["healthyThreshold"] == 3, "health check patch visible")

    bss = f"{comp}/regions/{R}/backendServices"
    neg_url = f"{CB}{zonal}/networkEndpointGroups/{kube}"
    backend = {"group": neg_url, "balancingMode": "CONNECTION", "maxConnectionsPerEndpoint": 100}
    bs = {"name": kube, "region": R, "loadBalancingScheme": "INTERNAL_MANAGED", "protocol": "TCP", "backends": [backend],
          "healthChecks": [f"{CB}{regional}/healthChecks/{kube}"]}
    s, b = sa.call("POST", bss, {**bs, "loadBalancingScheme": "INTERNAL", "name": f"{PREFIX}-kube-l4"})
    check(s == 400 and "NON_GCP_PRIVATE_IP_PORT" in b["error"]["message"], "hybrid NEG behind an INTERNAL (passthrough) backend service -> 400", b)
    s, b = sa.call("POST", bss, {**bs, "healthChecks": []})
    check(s == 400 and "health check" in b["error"]["message"], "hybrid NEG backend service without a health check -> 400", b)
    s, b = sa.call("POST", bss, {**bs, "backends": [{"group": neg_url}]})
    check(s == 400 and "CONNECTION" in b["error"]["message"], "hybrid NEG backend with the default UTILIZATION mode -> 400", b)
    s, b = sa.call("POST", bss, {**bs, "backends": [{**backend, "maxConnections": 10}]})
    check(s == 400 and "exactly one" in b["error"]["message"], "both maxConnections and maxConnectionsPerEndpoint -> 400", b)
    s, b = sa.call("POST", bss, {**bs, "healthChecks": [f"{CB}{regional}/healthChecks/{PREFIX}-missing"]})
    check(s == 404, "backend service with a missing health check -> 404", b)
    s, op = sa.call("POST", bss, bs)
    check(s == 200, "union SA inserts the INTERNAL_MANAGED TCP backend service", op)

    tps = f"{comp}/regions/{R}/targetTcpProxies"
    s, b = sa.call("POST", tps, {"name": kube, "region": R, "service": f"{CB}{regional}/backendServices/{PREFIX}-api"})
    check(s == 400 and "INTERNAL_MANAGED" in b["error"]["message"], "target TCP proxy to an INTERNAL backend service -> 400", b)
    s, b = sa.call("POST", tps, {"name": kube, "region": R, "service": f"{CB}{regional}/backendServices/{kube}", "proxyHeader": "PROXY_V2"})
    check(s == 400, "target TCP proxy with an invalid proxyHeader -> 400", b)
    s, b = sa.call("POST", tps, {"name": "other-proxy", "region": R, "service": f"{CB}{regional}/backendServices/{kube}"})
    check(s == 403, "union SA denied a target TCP proxy outside its prefix", b)
    s, op = sa.call("POST", tps, {"name": kube, "region": R, "service": f"{CB}{regional}/backendServices/{kube}", "proxyHeader": "NONE"})
    check(s == 200, "union SA inserts the regional target TCP proxy", op)

    frs = f"{comp}/regions/{R}/forwardingRules"
    frule = {"name": kube, "region": R, "loadBalancingScheme": "INTERNAL_MANAGED", "IPProtocol": "TCP", "portRange": "443",
             "network": net["selfLink"], "subnetwork": sub["selfLink"], "target": f"{CB}{regional}/targetTcpProxies/{kube}"}
    s, b = sa.call("POST", frs, frule)
    check(s == 400 and b["error"]["message"] == "An active proxy-only subnetwork is required in the same region and VPC as the forwarding rule.",
          "INTERNAL_MANAGED forwarding rule without a proxy-only subnet -> 400", b)
    proxy_sub = {"name": f"{PREFIX}-proxy-only", "network": net["selfLink"], "region": R, "ipCidrRange": "10.0.136.0/23",
                 "purpose": "REGIONAL_MANAGED_PROXY", "role": "ACTIVE"}
    s, b = c.call("POST", f"{comp}/regions/{R}/subnetworks", {k: v for k, v in proxy_sub.items() if k != "role"})
    check(s == 400 and "role" in b["error"]["message"], "proxy-only subnet without a role -> 400", b)
    s, b = c.call("POST", f"{comp}/regions/{R}/subnetworks", {**proxy_sub, "logConfig": {"enable": True}})
    check(s == 400 and "flow logs" in b["error"]["message"], "proxy-only subnet with flow logs -> 400", b)
    s, b = c.call("POST", f"{comp}/regions/{R}/subnetworks", {**proxy_sub, "ipCidrRange": "10.0.136.0/27"})
    check(s == 400 and "/26" in b["error"]["message"], "proxy-only subnet smaller than /26 -> 400", b)
    s, b = c.call("POST", f"{comp}/regions/{R}/subnetworks", proxy_sub)
    check(s == 200, "customer creates the ACTIVE REGIONAL_MANAGED_PROXY subnet", b)
    s, b = c.call("POST", f"{comp}/regions/{R}/subnetworks", {**proxy_sub, "name": f"{PREFIX}-proxy-only-2", "ipCidrRange": "10.0.140.0/23"})
    check(s == 400 and "already has the active" in b["error"]["message"], "second ACTIVE proxy-only subnet in the region -> 400", b)
    s, b = sa.call("POST", frs, {**frule, "portRange": None, "ports": ["443"]})
    check(s == 400 and "ports" in b["error"]["message"], "ports (passthrough only) on a target-proxy forwarding rule -> 400", b)
    s, b = sa.call("POST", frs, {**frule, "backendService": f"{CB}{regional}/backendServices/{kube}"})
    check(s == 400 and "backendService" in b["error"]["message"], "INTERNAL_MANAGED forwarding rule with a backendService -> 400", b)
    s, op = sa.call("POST", frs, frule)
    check(s == 200, "union SA inserts the INTERNAL_MANAGED forwarding rule", op)
    kfr = sa.call("GET", f"{frs}/{kube}")[1]
    check(kfr["portRange"] == "443-443" and kfr["IPAddress"] and kfr["target"].endswith(f"/targetTcpProxies/{kube}"), "forwarding rule: portRange 443-443, internal IP", kfr)
    s, op = sa.call("POST", f"{comp}/regions/{R}/serviceAttachments", {**att, "name": kube, "targetService": kfr["selfLink"]})
    check(s == 200, "union SA publishes the INTERNAL_MANAGED forwarding rule through a service attachment", op)
    s, b = sa.call("DELETE", f"{negs}/{kube}")
    check(s == 400 and b["error"]["errors"][0]["reason"] == "resourceInUseByAnotherResource", "NEG in use by the backend service -> 400", b)
    s, b = c.call("DELETE", f"{comp}/regions/{R}/subnetworks/{PREFIX}-proxy-only")
    check(s == 400 and b["error"]["errors"][0]["reason"] == "resourceInUseByAnotherResource", "active proxy-only subnet in use -> 400", b)
    s, b = sa.call("POST", f"{negs}/{kube}/detachNetworkEndpoints", {"networkEndpoints": [{"ipAddress": "172.16.0.3", "port": 443}]})
    check(s == 400, "detach an endpoint that is not attached -> 400", b)
    s, op = sa.call("POST", f"{negs}/{kube}/detachNetworkEndpoints", {"networkEndpoints": [{"ipAddress": "172.16.0.2"}]})
    check(s == 200 and op["operationType"] == "detachNetworkEndpoints", "detach 172.16.0.2 (port from defaultPort)", op)
    wait(f"{comp}/zones/{Z}/operations/{op['name']}")
    check(sa.call("GET", f"{negs}/{kube}")[1]["size"] == 0, "NEG size 0 after the detach is DONE")

    # -- Resource Manager projects.get (https://cloud.google.com/resource-manager/reference/rest/v3/projects/get),
    #    by id or number; a project that does not exist and one the caller may not read both
    #    answer 403 PERMISSION_DENIED (https://google.aip.dev/211)
    rm = "/cloudresourcemanager/v3/projects"
    s, proj = c.call("GET", f"{rm}/{P}", query={"$alt": "json;enum-encoding=int"})
    check(s == 200 and proj["name"] == f"projects/{NUM}" and proj["projectId"] == P and proj["state"] == "ACTIVE"
          and proj["displayName"] and proj["createTime"].endswith("Z") and proj["etag"], "projects.get by id: name is projects/NUMBER", proj)
    s, b = c.call("GET", f"{rm}/{NUM}")
    check(s == 200 and b == proj, "projects.get by number: the same project", b)
    denied = lambda ref: (f"Permission 'resourcemanager.projects.get' denied on resource "  # noqa: E731
                          f"'//cloudresourcemanager.googleapis.com/projects/{ref}' (or it may not exist).")
    for ref in ("acme-ml-missing", "123456789012", "Not_A_Project"):
        s, b = c.call("GET", f"{rm}/{ref}")
        check(s == 403 and b["error"]["status"] == "PERMISSION_DENIED" and b["error"]["message"] == denied(ref),
              f"projects.get of a project that does not exist ({ref}) -> 403, not 404", b)
    s, b = sa.call("GET", f"{rm}/{P}")
    check(s == 403 and b["error"]["status"] == "PERMISSION_DENIED" and b["error"]["message"] == denied(P),
          "union SA without resourcemanager.projects.get -> the same 403 as a missing project", b)
    pol = c.call("POST", f"{rm}/{P}:getIamPolicy", {"options": {"requestedPolicyVersion": 3}})[1]
    pol["bindings"].append({"role": "roles/browser", "members": [member]})
    check(c.call("POST", f"{rm}/{P}:setIamPolicy", {"policy": pol})[0] == 200, "roles/browser for the union SA")
    s, b = sa.call("GET", f"{rm}/{NUM}")
    check(s == 200 and b["projectId"] == P and b["name"] == f"projects/{NUM}", "union SA with roles/browser reads the project", b)
    s, b = sa.call("GET", f"{rm}/acme-ml-missing")
    check(s == 403 and b["error"]["message"] == denied("acme-ml-missing"), "union SA: a missing project is still 403", b)

    # -- admin API: drift, faults, resources
    s, b = adm("mutate", {"path": f"/compute/compute/v1/projects/{P}/global/firewalls/{PREFIX}-egress-allow", "merge": {"destinationRanges": ["10.0.0.0/8"]}})
    check(s == 200, "admin mutate", b)
    check(c.call("GET", f"{comp}/global/firewalls/{PREFIX}-egress-allow")[1]["destinationRanges"] == ["10.0.0.0/8"], "drift visible to clients")
    adm("faults", {"match": "GET /compute/", "status": 429, "count": 1, "retryAfter": 1})
    s, b = c.call("GET", f"{comp}/global/networks/{PREFIX}")
    check(s == 429 and b["error"]["status"] == "RESOURCE_EXHAUSTED", "injected 429", b)
    check(c.call("GET", f"{comp}/global/networks/{PREFIX}")[0] == 200, "fault consumed")
    s, res = c.call("GET", "/_emulator/resources")
    kinds = {r["kind"] for r in res}
    check({"compute#network", "container#cluster", "kms#cryptoKey", "storage#bucket", "iam#role"} <= kinds, "admin resources list", kinds)

    # -- record file
    lines = [json.loads(x) for x in open(rec)]
    check(all({"method", "path", "query", "body", "principal"} <= set(x) for x in lines), "record lines have method/path/query/body/principal")
    check(not any("customer@example.com" == (x["body"] or {}).get("refresh_token") for x in lines), "refresh token redacted")
    check(any(x["path"] == "/sts/v1/token" and x["body"]["subject_token"] == "<redacted>" for x in lines), "STS recorded, subject token redacted")
    check(any(x["principal"] == f"serviceAccount:{admin_email}" for x in lines), "principal recorded")


if __name__ == "__main__":
    main()
