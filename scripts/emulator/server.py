"""moto in server mode, with what moto 5.2.5 lacks or gets wrong for unionctl's calls.

- EKS access entries (CreateAccessEntry, DescribeAccessEntry, ListAccessEntries,
  DeleteAccessEntry, AssociateAccessPolicy, ListAssociatedAccessPolicies), Pod Identity
  associations (Create/Describe/List/Update/DeletePodIdentityAssociation) and add-ons
  (Create/Describe/List/DeleteAddon): moto has no routes for them, so this launcher
  registers them, with state kept per cluster and the shapes of the EKS API reference
  (https://docs.aws.amazon.com/eks/latest/APIReference/). Like EKS, a second association
  for the same namespace and service account is refused (ResourceInUseException), an
  add-on is ACTIVE at once, and a cluster that does not exist is ResourceNotFoundException.
- EKS UpdateClusterConfig: moto replaces the whole VPC config with the (partial) one in
  the request, dropping subnets and security groups, and answers with a cluster instead of
  the documented `update` object. Here the request is merged into the VPC config, as EKS
  does, and the answer is an `update`.
- S3 bucket policies on object operations: moto treats a statement whose condition it
  cannot evaluate as a denial, so the data plane's "deny without TLS" statement denies
  every object read, write and delete. Here a statement applies only when its condition
  holds (IAM's rule), evaluated for Bool, NumericLessThan and StringEquals against the
  request context of AWS's endpoints, which are TLS 1.2+ only: `aws:SecureTransport`
  true, `s3:TlsVersion` 1.3. (The emulator listens on plain HTTP on loopback; it stands
  in for those endpoints.)
- EKS UpdateClusterVersion and UpdateNodegroupVersion, which moto lacks: a cluster moves
  one minor version at a time and never back (InvalidParameterException otherwise, as EKS
  answers: "Updating a cluster's Kubernetes version",
  https://docs.aws.amazon.com/eks/latest/userguide/update-cluster.html); a node group takes
  a new launch template version or the cluster's version, never one newer than the
  cluster's. Both answer the documented `update` object and finish at once.
- EKS TagResource, UntagResource and ListTagsForResource: moto's tag only clusters; EKS
  tags every resource with an ARN (clusters, managed node groups, add-ons, access entries,
  Pod Identity associations: "Tagging your Amazon EKS resources",
  https://docs.aws.amazon.com/eks/latest/userguide/eks-using-tags.html). Here each of those
  is found by its ARN, and an ARN of none of them is ResourceNotFoundException, as EKS answers.
- EC2 launch templates: moto copies a template's tags once, at create, so CreateTags on it
  never shows in DescribeLaunchTemplates; EC2 shows a resource's current tags wherever it
  is described. Here the template's tags are read from EC2's tag store each time.
- S3 GetBucketVersioning on a bucket that was never versioned: moto answers
  `<GetBucketVersioningResponse/>`, which is not the documented `<VersioningConfiguration/>`
  and which the AWS SDK for Rust rightly refuses to parse.

Everything else is the ordinary moto server. Nothing in the unionctl binary knows it talks
to an emulator.

    python server.py --host 127.0.0.1 --port 5123
"""

import datetime
import json
import random
import re
import sys
import time
from urllib.parse import unquote

from moto.core.responses import ActionResult, EmptyResult
from moto.eks import urls as eks_urls
from moto.eks.exceptions import ResourceInUseException, ResourceNotFoundException
from moto.eks.models import EKSBackend
from moto.eks.responses import EKSResponse


def _entries(backend: EKSBackend, cluster_name: str) -> dict:
    if cluster_name not in backend.clusters:
        raise ResourceNotFoundException(
            clusterName=cluster_name, nodegroupName=None, fargateProfileName=None, addonName=None,
            message=f"No cluster found for name: {cluster_name}.",
        )
    store = backend.__dict__.setdefault("_unionctl_access_entries", {})
    return store.setdefault(cluster_name, {})


def _principal(self: EKSResponse) -> str:
    return unquote(self.uri.split("/access-entries/", 1)[1].split("/access-policies", 1)[0])


def create_access_entry(self: EKSResponse) -> ActionResult:
    cluster = self._get_param("name")
    principal = self._get_param("principalArn")
    entries = _entries(self.eks_backend, cluster)
    if principal in entries:
        raise ResourceInUseException(
            clusterName=cluster, nodegroupName=None, addonName=None,
            message=f"The specified access entry resource is already in use on this cluster.",
        )
    now = datetime.datetime.now(datetime.timezone.utc).isoformat()
    entry = {
        "clusterName": cluster,
        "principalArn": principal,
        "kubernetesGroups": self._get_param("kubernetesGroups") or [],
        "accessEntryArn": f"arn:aws:eks:{self.region}:{self.current_account}:access-entry/{cluster}/role/{principal.rsplit('/', 1)[-1]}",
        "createdAt": now,
        "modifiedAt": now,
        "tags": self._get_param("tags") or {},
        "username": principal,
        "type": self._get_param("type") or "STANDARD",
        "_policies": [],
    }
    entries[principal] = entry
    return ActionResult({"accessEntry": {k: v for k, v in entry.items() if not k.startswith("_")}})


def _get_entry(self: EKSResponse) -> dict:
    cluster = self._get_param("name")
    principal = _principal(self)
    entries = _entries(self.eks_backend, cluster)
    if principal not in entries:
        raise ResourceNotFoundException(
            clusterName=cluster, nodegroupName=None, fargateProfileName=None, addonName=None,
            message=f"The specified principalArn could not be found.",
        )
    return entries[principal]


def describe_access_entry(self: EKSResponse) -> ActionResult:
    entry = _get_entry(self)
    return ActionResult({"accessEntry": {k: v for k, v in entry.items() if not k.startswith("_")}})


def delete_access_entry(self: EKSResponse) -> EmptyResult:
    entry = _get_entry(self)
    del _entries(self.eks_backend, entry["clusterName"])[entry["principalArn"]]
    return EmptyResult()


def list_access_entries(self: EKSResponse) -> ActionResult:
    entries = _entries(self.eks_backend, self._get_param("name"))
    return ActionResult({"accessEntries": sorted(entries)})


def associate_access_policy(self: EKSResponse) -> ActionResult:
    entry = _get_entry(self)
    now = datetime.datetime.now(datetime.timezone.utc).isoformat()
    policy = {
        "policyArn": self._get_param("policyArn"),
        "accessScope": self._get_param("accessScope") or {"type": "cluster"},
        "associatedAt": now,
        "modifiedAt": now,
    }
    entry["_policies"] = [p for p in entry["_policies"] if p["policyArn"] != policy["policyArn"]] + [policy]
    return ActionResult({"clusterName": entry["clusterName"], "principalArn": entry["principalArn"], "associatedAccessPolicy": policy})


def list_associated_access_policies(self: EKSResponse) -> ActionResult:
    entry = _get_entry(self)
    return ActionResult({"clusterName": entry["clusterName"], "principalArn": entry["principalArn"], "associatedAccessPolicies": entry["_policies"]})


def _store(backend: EKSBackend, kind: str, cluster_name: str) -> dict:
    if cluster_name not in backend.clusters:
        raise ResourceNotFoundException(
            clusterName=cluster_name, nodegroupName=None, fargateProfileName=None, addonName=None,
            message=f"No cluster found for name: {cluster_name}.",
        )
    return backend.__dict__.setdefault(f"_unionctl_{kind}", {}).setdefault(cluster_name, {})


def _not_found(cluster: str, what: str):
    return ResourceNotFoundException(clusterName=cluster, nodegroupName=None, fargateProfileName=None, addonName=None, message=f"{what} not found")


def create_pod_identity_association(self: EKSResponse) -> ActionResult:
    cluster = self._get_param("name")
    store = _store(self.eks_backend, "pod_identity", cluster)
    namespace, sa = self._get_param("namespace"), self._get_param("serviceAccount")
    if any(a["namespace"] == namespace and a["serviceAccount"] == sa for a in store.values()):
        raise ResourceInUseException(clusterName=cluster, nodegroupName=None, addonName=None,
                                     message="Association already exists for this namespace and service account")
    if not self._get_param("roleArn"):
        raise ResourceNotFoundException(clusterName=cluster, nodegroupName=None, fargateProfileName=None, addonName=None, message="roleArn is required")
    assoc_id = "a-" + "".join(random.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(17))
    now = time.time()
    store[assoc_id] = {
        "clusterName": cluster, "namespace": namespace, "serviceAccount": sa, "roleArn": self._get_param("roleArn"),
        "associationArn": f"arn:aws:eks:{self.region}:{self.current_account}:podidentityassociation/{cluster}/{assoc_id}",
        "associationId": assoc_id, "tags": self._get_param("tags") or {}, "createdAt": now, "modifiedAt": now,
        "disableSessionTags": False,
    }
    return ActionResult({"association": store[assoc_id]})


def _association(self: EKSResponse) -> dict:
    cluster = self._get_param("name")
    assoc_id = unquote(self.uri.split("/pod-identity-associations/", 1)[1].split("?", 1)[0])
    store = _store(self.eks_backend, "pod_identity", cluster)
    if assoc_id not in store:
        raise _not_found(cluster, f"Association {assoc_id}")
    return store[assoc_id]


def describe_pod_identity_association(self: EKSResponse) -> ActionResult:
    return ActionResult({"association": _association(self)})


def update_pod_identity_association(self: EKSResponse) -> ActionResult:
    a = _association(self)
    if self._get_param("roleArn"):
        a["roleArn"] = self._get_param("roleArn")
        a["modifiedAt"] = time.time()
    return ActionResult({"association": a})


def delete_pod_identity_association(self: EKSResponse) -> ActionResult:
    a = _association(self)
    del _store(self.eks_backend, "pod_identity", a["clusterName"])[a["associationId"]]
    return ActionResult({"association": a})


def list_pod_identity_associations(self: EKSResponse) -> ActionResult:
    store = _store(self.eks_backend, "pod_identity", self._get_param("name"))
    namespace, sa = self._get_param("namespace"), self._get_param("serviceAccount")
    found = [a for a in store.values() if (not namespace or a["namespace"] == namespace) and (not sa or a["serviceAccount"] == sa)]
    keys = ("clusterName", "namespace", "serviceAccount", "associationArn", "associationId")
    return ActionResult({"associations": [{k: a[k] for k in keys} for a in found]})


def create_addon(self: EKSResponse) -> ActionResult:
    cluster = self._get_param("name")
    store = _store(self.eks_backend, "addons", cluster)
    name = self._get_param("addonName")
    if name in store:
        raise ResourceInUseException(clusterName=cluster, nodegroupName=None, addonName=name, message=f"Addon {name} already exists")
    now = time.time()
    store[name] = {
        "addonName": name, "clusterName": cluster, "status": "ACTIVE", "addonVersion": self._get_param("addonVersion") or "v1.3.4-eksbuild.1",
        "health": {"issues": []}, "addonArn": f"arn:aws:eks:{self.region}:{self.current_account}:addon/{cluster}/{name}/0",
        "createdAt": now, "modifiedAt": now, "tags": self._get_param("tags") or {},
    }
    return ActionResult({"addon": store[name]})


def _addon(self: EKSResponse) -> dict:
    cluster = self._get_param("name")
    name = unquote(self.uri.split("/addons/", 1)[1].split("?", 1)[0])
    store = _store(self.eks_backend, "addons", cluster)
    if name not in store:
        raise _not_found(cluster, f"Addon {name}")
    return store[name]


def describe_addon(self: EKSResponse) -> ActionResult:
    return ActionResult({"addon": _addon(self)})


def delete_addon(self: EKSResponse) -> ActionResult:
    a = _addon(self)
    del _store(self.eks_backend, "addons", a["clusterName"])[a["addonName"]]
    return ActionResult({"addon": a})


def list_addons(self: EKSResponse) -> ActionResult:
    return ActionResult({"addons": sorted(_store(self.eks_backend, "addons", self._get_param("name")))})


def _tags_of(backend: EKSBackend, arn: str) -> dict:
    """The tags of the EKS resource whose ARN is `arn`."""
    for cluster in backend.clusters.values():
        if cluster.arn == arn:
            return cluster.tags
        for group in cluster.nodegroups.values():
            if group.arn == arn:
                return group.tags
    for kind, key in (("addons", "addonArn"), ("pod_identity", "associationArn")):
        for store in backend.__dict__.get(f"_unionctl_{kind}", {}).values():
            for item in store.values():
                if item[key] == arn:
                    return item["tags"]
    for entries in backend.__dict__.get("_unionctl_access_entries", {}).values():
        for entry in entries.values():
            if entry["accessEntryArn"] == arn:
                return entry["tags"]
    raise ResourceNotFoundException(clusterName=None, nodegroupName=None, fargateProfileName=None, addonName=None, message="Resource was not found")


def tag_resource(self: EKSResponse) -> EmptyResult:
    _tags_of(self.eks_backend, self._extract_arn_from_path()).update(self._get_param("tags") or {})
    return EmptyResult()


def untag_resource(self: EKSResponse) -> EmptyResult:
    tags = _tags_of(self.eks_backend, self._extract_arn_from_path())
    keys = self._get_param("tagKeys") or []
    for key in keys if isinstance(keys, list) else [keys]:
        tags.pop(key, None)
    return EmptyResult()


def list_tags_for_resource(self: EKSResponse) -> ActionResult:
    return ActionResult({"tags": dict(_tags_of(self.eks_backend, self._extract_arn_from_path()))})


def _fix_bucket_versioning() -> None:
    from moto.s3.responses import S3Response

    original = S3Response.get_bucket_versioning

    def get_bucket_versioning(self):  # type: ignore[no-untyped-def]
        status, headers, body = original(self)
        if isinstance(body, bytes):
            body = body.replace(b"GetBucketVersioningResponse", b"VersioningConfiguration")
        elif isinstance(body, str):
            body = body.replace("GetBucketVersioningResponse", "VersioningConfiguration")
        return status, headers, body

    S3Response.get_bucket_versioning = get_bucket_versioning


def update_cluster_config(self: EKSResponse) -> ActionResult:
    import uuid

    name = self._get_param("name")
    cluster = self.eks_backend.describe_cluster(name=name)
    vpc = self._get_param("resourcesVpcConfig")
    logging = self._get_param("logging")
    if vpc:
        merged = dict(cluster.resources_vpc_config or {})
        merged.update(vpc)
        cluster.resources_vpc_config = merged
    if logging:
        cluster.logging = logging
    now = datetime.datetime.now(datetime.timezone.utc).isoformat()
    update = {
        "id": str(uuid.uuid4()),
        "status": "Successful",
        "type": "EndpointAccessUpdate" if vpc else "LoggingUpdate",
        "params": [],
        "createdAt": now,
        "errors": [],
    }
    return ActionResult({"update": update})


def _update(kind: str, params: list) -> dict:
    import uuid

    now = datetime.datetime.now(datetime.timezone.utc).isoformat()
    return {"id": str(uuid.uuid4()), "status": "Successful", "type": kind, "params": params, "createdAt": now, "errors": []}


def _minor(version: str) -> int:
    try:
        return int(str(version).split(".")[1])
    except (IndexError, ValueError):
        return -1


def update_cluster_version(self: EKSResponse) -> ActionResult:
    from moto.eks.exceptions import InvalidParameterException

    cluster = self.eks_backend.describe_cluster(name=self._get_param("name"))
    wanted = str(self._get_param("version") or "")
    if _minor(wanted) != _minor(cluster.version) + 1:
        raise InvalidParameterException(message=f"Unsupported Kubernetes minor version update from {cluster.version} to {wanted}")
    cluster.version = wanted
    return ActionResult({"update": _update("VersionUpdate", [{"type": "Version", "value": wanted}])})


def update_nodegroup_version(self: EKSResponse) -> ActionResult:
    from moto.eks.exceptions import InvalidParameterException

    cluster = self.eks_backend.describe_cluster(name=self._get_param("name"))
    name = unquote(self.uri.split("/node-groups/", 1)[1].split("/", 1)[0])
    group = cluster.nodegroups.get(name)
    if group is None:
        raise ResourceNotFoundException(clusterName=cluster.name, nodegroupName=name, fargateProfileName=None, addonName=None, message=f"No node group found for name: {name}.")
    params = []
    version = self._get_param("version")
    if version:
        if _minor(version) > _minor(cluster.version):
            raise InvalidParameterException(message=f"Requested Nodegroup release version {version} is newer than the cluster's {cluster.version}")
        group.version = str(version)
        params.append({"type": "Version", "value": str(version)})
    template = self._get_param("launchTemplate")
    if template:
        if not group.launch_template:
            raise InvalidParameterException(message="The node group was not created with a launch template")
        group.launch_template = {**group.launch_template, **template}
        params.append({"type": "LaunchTemplateVersion", "value": str(template.get("version", ""))})
    return ActionResult({"update": _update("VersionUpdate", params)})


# The request context of an AWS endpoint: https only, TLS 1.2 or later.
_TLS_ENDPOINT = {"aws:securetransport": "true", "s3:tlsversion": "1.3"}


def _as_list(v):
    return v if isinstance(v, list) else [v]


def _condition_holds(condition: dict) -> bool:
    """IAM: every operator and key must hold; a key absent from the context does not."""
    for operator, keys in condition.items():
        for key, expected in keys.items():
            actual = _TLS_ENDPOINT.get(key.lower())
            if actual is None:
                return False
            wanted = [str(e) for e in _as_list(expected)]
            if operator == "Bool":
                ok = actual.lower() in [w.lower() for w in wanted]
            elif operator == "NumericLessThan":
                ok = any(float(actual) < float(w) for w in wanted)
            elif operator == "StringEquals":
                ok = actual in wanted
            else:
                return False
            if not ok:
                return False
    return True


def _matches(patterns, value: str) -> bool:
    return any(re.fullmatch(re.escape(p).replace(r"\*", ".*").replace(r"\?", "."), value) for p in _as_list(patterns or []))


def _fix_bucket_policy_conditions() -> None:
    from moto.iam.access_control import PermissionResult
    from moto.s3.models import FakeBucket

    def get_permission(self, action: str, resource: str):
        if self.policy is None:
            return PermissionResult.NEUTRAL
        doc = json.loads(self.policy.decode() if isinstance(self.policy, bytes) else self.policy)
        permitted = False
        for st in _as_list(doc.get("Statement", [])):
            if not (_matches(st.get("Action"), action) and _matches(st.get("Resource"), resource)):
                continue
            if st.get("Condition") and not _condition_holds(st["Condition"]):
                continue
            if st.get("Effect") == "Deny":
                return PermissionResult.DENIED
            permitted = True
        return PermissionResult.PERMITTED if permitted else PermissionResult.NEUTRAL

    FakeBucket.get_permission = get_permission


def _fix_launch_template_tags() -> None:
    from moto.ec2.models.launch_templates import LaunchTemplate

    LaunchTemplate.tags = property(lambda self: self.get_tags(), lambda self, _value: None)


def install() -> None:
    _fix_launch_template_tags()
    _fix_bucket_versioning()
    _fix_bucket_policy_conditions()
    EKSResponse.update_cluster_config = update_cluster_config
    EKSResponse.update_cluster_version = update_cluster_version
    EKSResponse.update_nodegroup_version = update_nodegroup_version
    for fn in (create_access_entry, describe_access_entry, delete_access_entry, list_access_entries,
               associate_access_policy, list_associated_access_policies,
               create_pod_identity_association, describe_pod_identity_association, update_pod_identity_association,
               delete_pod_identity_association, list_pod_identity_associations,
               create_addon, describe_addon, delete_addon, list_addons,
               tag_resource, untag_resource, list_tags_for_resource):
        setattr(EKSResponse, fn.__name__, fn)
    response = eks_urls.response
    eks_urls.url_paths.update({
        "{0}/clusters/(?P<name>[^/]+)/access-entries$": response.dispatch,
        "{0}/clusters/(?P<name>[^/]+)/access-entries/(?P<principalArn>.+)/access-policies$": response.dispatch,
        "{0}/clusters/(?P<name>[^/]+)/access-entries/(?P<principalArn>.+)$": response.dispatch,
        "{0}/clusters/(?P<name>[^/]+)/pod-identity-associations$": response.dispatch,
        "{0}/clusters/(?P<name>[^/]+)/pod-identity-associations/(?P<associationId>[^/]+)$": response.dispatch,
        "{0}/clusters/(?P<name>[^/]+)/updates$": response.dispatch,
        "{0}/clusters/(?P<name>[^/]+)/node-groups/(?P<nodegroupName>[^/]+)/update-version$": response.dispatch,
        "{0}/clusters/(?P<name>[^/]+)/addons$": response.dispatch,
        "{0}/clusters/(?P<name>[^/]+)/addons/(?P<addonName>[^/]+)$": response.dispatch,
    })


if __name__ == "__main__":
    install()
    from moto.server import main

    main(sys.argv[1:])
