"""A small table of predefined IAM roles and their permissions (wildcards allowed), enough
for the roles unionctl grants and the common administrative ones.
https://cloud.google.com/iam/docs/understanding-roles (role reference)
https://cloud.google.com/iam/docs/permissions-reference
"""

from fnmatch import fnmatchcase

_READ = ["*.get", "*.list", "*.getIamPolicy"]

BUILTIN_ROLES = {
    "roles/owner": ["*"],
    "roles/editor": ["*"],  # minus the IAM-setting ones, see EXCLUDED
    "roles/viewer": _READ,
    "roles/browser": ["resourcemanager.projects.get", "resourcemanager.projects.getIamPolicy"],
    "roles/iam.serviceAccountUser": ["iam.serviceAccounts.actAs", "iam.serviceAccounts.get", "iam.serviceAccounts.list",
                                     "resourcemanager.projects.get", "resourcemanager.projects.list"],
    "roles/iam.workloadIdentityUser": ["iam.serviceAccounts.getAccessToken", "iam.serviceAccounts.getOpenIdToken",
                                       "iam.serviceAccounts.get", "iam.serviceAccounts.list",
                                       "resourcemanager.projects.get", "resourcemanager.projects.list"],
    "roles/iam.serviceAccountTokenCreator": ["iam.serviceAccounts.getAccessToken", "iam.serviceAccounts.getOpenIdToken",
                                             "iam.serviceAccounts.implicitDelegation", "iam.serviceAccounts.signBlob",
                                             "iam.serviceAccounts.signJwt", "iam.serviceAccounts.get", "iam.serviceAccounts.list",
                                             "resourcemanager.projects.get", "resourcemanager.projects.list"],
    "roles/iam.serviceAccountAdmin": ["iam.serviceAccounts.*", "resourcemanager.projects.get", "resourcemanager.projects.list"],
    "roles/iam.roleAdmin": ["iam.roles.*", "resourcemanager.projects.get", "resourcemanager.projects.getIamPolicy"],
    "roles/iam.securityAdmin": ["*.getIamPolicy", "*.setIamPolicy", "iam.roles.*", "iam.serviceAccounts.get", "iam.serviceAccounts.list"],
    "roles/iam.workloadIdentityPoolAdmin": ["iam.workloadIdentityPools.*", "iam.workloadIdentityPoolProviders.*"],
    "roles/iam.workloadIdentityPoolViewer": ["iam.workloadIdentityPools.get", "iam.workloadIdentityPools.list",
                                             "iam.workloadIdentityPoolProviders.get", "iam.workloadIdentityPoolProviders.list"],
    "roles/resourcemanager.projectIamAdmin": ["resourcemanager.projects.getIamPolicy", "resourcemanager.projects.setIamPolicy",
                                              "resourcemanager.projects.get"],
    "roles/cloudkms.viewer": ["cloudkms.keyRings.get", "cloudkms.keyRings.list", "cloudkms.cryptoKeys.get", "cloudkms.cryptoKeys.list",
                              "cloudkms.cryptoKeyVersions.get", "cloudkms.cryptoKeyVersions.list", "cloudkms.locations.get",
                              "cloudkms.locations.list", "cloudkms.importJobs.get", "cloudkms.importJobs.list",
                              "resourcemanager.projects.get"],
    "roles/cloudkms.cryptoKeyEncrypterDecrypter": ["cloudkms.cryptoKeyVersions.useToEncrypt", "cloudkms.cryptoKeyVersions.useToDecrypt",
                                                   "cloudkms.locations.get", "cloudkms.locations.list", "resourcemanager.projects.get"],
    "roles/cloudkms.cryptoKeyEncrypter": ["cloudkms.cryptoKeyVersions.useToEncrypt", "cloudkms.locations.get", "cloudkms.locations.list"],
    "roles/cloudkms.cryptoKeyDecrypter": ["cloudkms.cryptoKeyVersions.useToDecrypt", "cloudkms.locations.get", "cloudkms.locations.list"],
    "roles/cloudkms.admin": ["cloudkms.keyRings.*", "cloudkms.cryptoKeys.*", "cloudkms.cryptoKeyVersions.create",
                             "cloudkms.cryptoKeyVersions.destroy", "cloudkms.cryptoKeyVersions.get", "cloudkms.cryptoKeyVersions.list",
                             "cloudkms.cryptoKeyVersions.restore", "cloudkms.cryptoKeyVersions.update", "cloudkms.locations.*"],
    "roles/storage.admin": ["storage.*"],
    "roles/storage.objectAdmin": ["storage.objects.*", "storage.multipartUploads.*"],
    "roles/storage.objectUser": ["storage.objects.create", "storage.objects.delete", "storage.objects.get", "storage.objects.list",
                                 "storage.objects.restore", "storage.objects.update", "storage.multipartUploads.*"],
    "roles/storage.objectViewer": ["storage.objects.get", "storage.objects.list", "storage.folders.get", "storage.folders.list"],
    "roles/storage.objectCreator": ["storage.objects.create", "storage.multipartUploads.create"],
    "roles/storage.legacyBucketOwner": ["storage.buckets.get", "storage.buckets.update", "storage.buckets.getIamPolicy",
                                        "storage.buckets.setIamPolicy", "storage.objects.create", "storage.objects.delete", "storage.objects.list"],
    "roles/storage.legacyBucketReader": ["storage.buckets.get", "storage.objects.list"],
    "roles/storage.legacyBucketWriter": ["storage.buckets.get", "storage.objects.create", "storage.objects.delete", "storage.objects.list"],
    "roles/storage.legacyObjectOwner": ["storage.objects.get", "storage.objects.update", "storage.objects.getIamPolicy", "storage.objects.setIamPolicy"],
    "roles/storage.legacyObjectReader": ["storage.objects.get"],
    "roles/logging.logWriter": ["logging.logEntries.create", "logging.logEntries.route"],
    "roles/logging.configWriter": ["logging.sinks.*", "logging.exclusions.*", "logging.buckets.*"],
    "roles/logging.admin": ["logging.*"],
    "roles/logging.viewer": ["logging.logEntries.list", "logging.sinks.get", "logging.sinks.list"],
    "roles/monitoring.metricWriter": ["monitoring.metricDescriptors.create", "monitoring.metricDescriptors.get",
                                      "monitoring.metricDescriptors.list", "monitoring.monitoredResourceDescriptors.get",
                                      "monitoring.monitoredResourceDescriptors.list", "monitoring.timeSeries.create"],
    "roles/monitoring.viewer": ["monitoring.*.get", "monitoring.*.list"],
    "roles/artifactregistry.reader": ["artifactregistry.repositories.get", "artifactregistry.repositories.list",
                                      "artifactregistry.repositories.downloadArtifacts", "artifactregistry.files.get",
                                      "artifactregistry.files.list", "artifactregistry.packages.get", "artifactregistry.packages.list",
                                      "artifactregistry.tags.get", "artifactregistry.tags.list", "artifactregistry.versions.get",
                                      "artifactregistry.versions.list", "artifactregistry.dockerimages.get", "artifactregistry.dockerimages.list"],
    "roles/container.admin": ["container.*"],
    "roles/container.clusterAdmin": ["container.clusters.*", "container.operations.*"],
    "roles/container.developer": ["container.clusters.get", "container.clusters.list", "container.clusters.getCredentials", "container.pods.*"],
    "roles/container.viewer": ["container.*.get", "container.*.list"],
    "roles/container.defaultNodeServiceAccount": ["logging.logEntries.create", "monitoring.timeSeries.create",
                                                  "monitoring.metricDescriptors.create", "autoscaling.sites.writeMetrics"],
    "roles/compute.admin": ["compute.*"],
    "roles/compute.networkAdmin": ["compute.networks.*", "compute.subnetworks.*", "compute.routers.*", "compute.forwardingRules.*",
                                   "compute.regionBackendServices.*", "compute.networkEndpointGroups.*", "compute.serviceAttachments.*",
                                   "compute.regionHealthChecks.*", "compute.regionTargetTcpProxies.*", "compute.zoneOperations.get",
                                   "compute.zoneOperations.list", "compute.globalOperations.get", "compute.regionOperations.get", "compute.firewalls.get",
                                   "compute.firewalls.list"],
    "roles/compute.securityAdmin": ["compute.firewalls.*", "compute.networks.updatePolicy"],
    "roles/compute.networkUser": ["compute.networks.use", "compute.subnetworks.use", "compute.networks.get", "compute.subnetworks.get"],
    "roles/compute.viewer": ["compute.*.get", "compute.*.list"],
}

# Basic roles never include these (https://cloud.google.com/iam/docs/understanding-roles#basic)
EDITOR_EXCLUDED = ["*.setIamPolicy", "iam.roles.*", "iam.serviceAccounts.getAccessToken", "iam.serviceAccounts.actAs"]

KNOWN_PERMISSION_SERVICES = {
    "compute", "container", "iam", "resourcemanager", "cloudkms", "storage", "logging", "monitoring", "artifactregistry",
    "serviceusage", "orgpolicy", "secretmanager", "pubsub", "bigquery", "cloudsql", "dns", "autoscaling", "cloudbuild",
    "run", "cloudfunctions", "networkconnectivity", "servicenetworking", "billing", "recommender", "cloudasset",
}


def role_permissions_match(role, permissions, permission):
    """Whether a role with these permission patterns grants `permission`."""
    if role == "roles/editor" and any(fnmatchcase(permission, p) for p in EDITOR_EXCLUDED):
        return False
    return any(fnmatchcase(permission, p) for p in permissions)
