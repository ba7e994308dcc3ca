//! The GCP plan: field names as the Compute, Container, Cloud KMS, Cloud
//! Storage and IAM REST APIs spell them.

use ipnet::Ipv4Net;
use serde_json::{json, Value};

use crate::plan::builder::{r, Builder, GPU_TAINT};
use crate::plan::invariants::Invariant::*;
use crate::plan::ownership::Component::*;
use crate::profile::names;
use crate::profile::schema::{EndpointAccess, Protocol};

/// Union.ai's cluster permissions: GKE only, none of which can change IAM. Bound at project
/// level (a cluster is created in a location, before it has a name to condition on), with
/// a condition that leaves every other cluster of the project out of reach.
pub const CLUSTER_PERMISSIONS: &[&str] = &[
    "container.clusters.create",
    "container.clusters.get",
    "container.clusters.update",
    "container.clusters.delete",
    "container.clusters.list",
    "container.clusters.getCredentials",
    "container.operations.get",
    "container.operations.list",
    "container.nodes.list",
    "container.pods.list",
];

/// Union.ai's private-connection permissions: the Private Service Connect pieces it owns,
/// and use of the data plane's subnetworks; none can change IAM or the network itself.
pub const NETWORK_PERMISSIONS: &[&str] = &[
    "compute.serviceAttachments.create",
    "compute.serviceAttachments.get",
    "compute.serviceAttachments.update",
    "compute.serviceAttachments.delete",
    "compute.forwardingRules.create",
    "compute.forwardingRules.get",
    "compute.forwardingRules.delete",
    "compute.forwardingRules.use",
    "compute.regionBackendServices.create",
    "compute.regionBackendServices.get",
    "compute.regionBackendServices.update",
    "compute.regionBackendServices.delete",
    "compute.regionBackendServices.use",
    "compute.networkEndpointGroups.create",
    "compute.networkEndpointGroups.get",
    "compute.networkEndpointGroups.delete",
    "compute.networkEndpointGroups.use",
    "compute.networkEndpointGroups.attachNetworkEndpoints",
    "compute.networkEndpointGroups.detachNetworkEndpoints",
    "compute.regionHealthChecks.create",
    "compute.regionHealthChecks.get",
    "compute.regionHealthChecks.update",
    "compute.regionHealthChecks.delete",
    "compute.regionHealthChecks.useReadOnly",
    "compute.regionTargetTcpProxies.create",
    "compute.regionTargetTcpProxies.get",
    "compute.regionTargetTcpProxies.delete",
    "compute.regionTargetTcpProxies.use",
    "compute.regionOperations.get",
    "compute.zoneOperations.get",
    "compute.subnetworks.use",
    "compute.subnetworks.get",
    "compute.networks.get",
    "compute.networks.use",
    "compute.firewalls.get",
];

/// Permissions no role of Union.ai's may hold: they change who may do what.
pub const IAM_SETTING_PERMISSIONS: &[&str] = &[
    "resourcemanager.projects.setIamPolicy",
    "iam.serviceAccounts.setIamPolicy",
    "iam.serviceAccounts.create",
    "iam.serviceAccounts.delete",
    "iam.serviceAccounts.update",
    "iam.serviceAccountKeys.create",
    "iam.serviceAccounts.getAccessToken",
    "iam.serviceAccounts.implicitDelegation",
    "iam.roles.create",
    "iam.roles.update",
    "iam.workloadIdentityPools.create",
    "iam.workloadIdentityPoolProviders.create",
    "iam.workloadIdentityPoolProviders.update",
    "storage.buckets.setIamPolicy",
    "storage.objects.setIamPolicy",
    "cloudkms.cryptoKeys.setIamPolicy",
    "compute.firewalls.create",
    "compute.firewalls.update",
    "compute.networks.updatePolicy",
];

/// The attribute mapping GCP documents for AWS providers: `attribute.aws_role` is the
/// assumed role's ARN without the session name (`arn:aws:sts::ACCOUNT:assumed-role/ROLE`),
/// and the caller's own ARN for anything that is not an assumed role.
pub const AWS_ROLE_MAPPING: &str = "assertion.arn.contains('assumed-role') ? assertion.arn.extract('{account_arn}assumed-role/') + 'assumed-role/' + assertion.arn.extract('assumed-role/{role_name}/') : assertion.arn";

/// Settings whose change GKE, Compute, Cloud KMS or Cloud Storage cannot make in place
/// (immutable after insert in their REST references).
pub const REPLACE: &[(&str, &str)] = &[
    ("gcp.compute_network", "/name"),
    ("gcp.compute_network", "/autoCreateSubnetworks"),
    ("gcp.compute_subnetwork", "/name"),
    ("gcp.compute_subnetwork", "/network"),
    ("gcp.compute_subnetwork", "/ipCidrRange"),
    ("gcp.container_cluster", "/name"),
    ("gcp.container_cluster", "/location"),
    ("gcp.container_cluster", "/network"),
    ("gcp.container_cluster", "/subnetwork"),
    (
        "gcp.container_cluster",
        "/privateClusterConfig/masterIpv4CidrBlock",
    ),
    ("gcp.container_cluster", "/ipAllocationPolicy"),
    ("gcp.container_node_pool", "/name"),
    ("gcp.container_node_pool", "/config/machineType"),
    ("gcp.container_node_pool", "/config/diskSizeGb"),
    ("gcp.container_node_pool", "/config/bootDiskKmsKey"),
    ("gcp.compute_network_endpoint_group", "/name"),
    ("gcp.compute_network_endpoint_group", "/zone"),
    ("gcp.compute_network_endpoint_group", "/networkEndpointType"),
    ("gcp.compute_network_endpoint_group", "/network"),
    ("gcp.compute_network_endpoint_group", "/defaultPort"),
    ("gcp.compute_region_health_check", "/name"),
    ("gcp.compute_region_health_check", "/type"),
    ("gcp.compute_region_backend_service", "/name"),
    ("gcp.compute_region_backend_service", "/loadBalancingScheme"),
    ("gcp.compute_region_target_tcp_proxy", "/name"),
    ("gcp.compute_region_target_tcp_proxy", "/service"),
    ("gcp.compute_region_target_tcp_proxy", "/proxyHeader"),
    ("gcp.compute_forwarding_rule", "/name"),
    ("gcp.compute_forwarding_rule", "/loadBalancingScheme"),
    ("gcp.compute_forwarding_rule", "/IPProtocol"),
    ("gcp.compute_forwarding_rule", "/portRange"),
    ("gcp.compute_forwarding_rule", "/network"),
    ("gcp.compute_forwarding_rule", "/subnetwork"),
    ("gcp.compute_forwarding_rule", "/target"),
    ("gcp.compute_service_attachment", "/name"),
    ("gcp.compute_service_attachment", "/targetService"),
    ("gcp.compute_service_attachment", "/natSubnets"),
    ("gcp.kms_key_ring", "/name"),
    ("gcp.kms_crypto_key", "/cryptoKeyId"),
    ("gcp.kms_crypto_key", "/purpose"),
    ("gcp.storage_bucket", "/name"),
    ("gcp.storage_bucket", "/location"),
    ("gcp.service_account", "/accountId"),
];

/// The zone of the data plane's one zonal piece (the hybrid connectivity endpoint group):
/// every GCP region has a zone `b` (some, like us-east1 and europe-west1, have no `a`).
pub fn zone_of(region: &str) -> String {
    format!("{region}-b")
}

/// Why apply never deletes or replaces a kind.
pub fn retains(kind: &str) -> Option<&'static str> {
    match kind {
        "gcp.storage_bucket" => Some("it holds the data plane's objects"),
        "gcp.kms_key_ring" | "gcp.kms_crypto_key" => {
            Some("data encrypted with it would become unreadable")
        }
        "gcp.container_cluster" => Some("it runs every workload of the data plane"),
        "gcp.iam_workload_identity_pool" | "gcp.iam_workload_identity_pool_provider" => {
            Some("Union.ai's access to the data plane depends on it")
        }
        _ => None,
    }
}

/// GCP labels: unionctl's ownership labels (keys and values in GCP's label alphabet:
/// lowercase letters, digits, `-` and `_`) and the profile's tags, cleaned the same way.
pub fn labels(b: &Builder<'_>, component: crate::plan::ownership::Component) -> Value {
    let clean = label_value;
    let mut m = serde_json::Map::new();
    for (k, v) in &b.profile.spec.tags {
        m.insert(clean(k), json!(clean(v)));
    }
    let owner = crate::plan::ownership::responsibility(b.model, component)
        .map_or("customer", |r| r.owner.as_str());
    m.insert(LABEL_DATA_PLANE.into(), json!(clean(b.prefix())));
    m.insert(LABEL_OWNER.into(), json!(owner));
    Value::Object(m)
}

/// A string in GCP's label alphabet (lowercase letters, digits, `-`, `_`; at most 63).
pub fn label_value(s: &str) -> String {
    s.chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(63)
        .collect()
}

/// The workload identity pool provider Union.ai signs in through (the union stage's way in).
pub const UNION_PROVIDER: &str = "gcp.iam_workload_identity_pool_provider.unionai_aws";

/// The ownership labels: `unionctl.union.ai/…` tag keys are not valid GCP label keys.
pub const LABEL_DATA_PLANE: &str = "unionctl-data-plane";
pub const LABEL_OWNER: &str = "unionctl-owner";

/// Where this data plane is: its project (id and number), region and name prefix.
struct Place {
    project: String,
    number: String,
    region: String,
    prefix: String,
}

/// The GCP plan, area by area (eksctl's resource sets): each builder only describes its
/// resources and returns the addresses the next ones refer to.
pub fn build(b: &mut Builder<'_>) {
    let p = b.profile;
    let gcp = p
        .spec
        .cloud
        .gcp
        .clone()
        .unwrap_or_else(|| crate::profile::schema::GcpProject {
            project_id: String::new(),
            project_number: String::new(),
        });
    let g = Place {
        project: gcp.project_id.clone(),
        number: gcp.project_number.clone(),
        region: p.spec.cloud.region.clone(),
        prefix: b.prefix().to_string(),
    };
    let key = key(b, &g);
    let (network, subnet) = network(b, &g);
    firewalls(b, &g, &network);
    let bucket_names = buckets_and_audit(b, &g, key.as_ref());
    let nodes_sa = node_identity(b, &g);
    if b.byoc() {
        admin_identity(b, &g, &nodes_sa, key.as_ref());
    }
    let cluster = cluster_and_pools(b, &g, &network, &subnet, &nodes_sa, key.as_ref());
    workload_identities(b, &g, &cluster, &bucket_names);
    if b.byoc() {
        private_connection(b, &g, &network, &subnet, &cluster);
    }
}

/// The customer's key: ring + key rotated every 90 days, usable by the storage, GKE and
/// compute service agents; or an existing key read; or none.
fn key(b: &mut Builder<'_>, g: &Place) -> Option<Value> {
    let p = b.profile;
    let (project, number, region, prefix) = (&g.project, &g.number, &g.region, &g.prefix);
    // Key (customer): ring + key rotated every 90 days, usable by the storage, GKE and
    // compute service agents.
    match p.spec.storage.encryption.key.as_str() {
        "none" => None,
        "create" => {
            let ring = b.managed(
                "gcp.kms_key_ring",
                "main",
                prefix.clone(),
                Storage,
                &[EncryptionAtRest],
                json!({
                    "name": format!("projects/{project}/locations/{region}/keyRings/{prefix}"),
                    "keyRingId": prefix,
                }),
            );
            let key = b.managed("gcp.kms_crypto_key", "main", format!("{prefix}-cmek"), Storage, &[EncryptionAtRest], json!({
                "parent": r(&ring, "name"),
                "cryptoKeyId": format!("{prefix}-cmek"),
                "purpose": "ENCRYPT_DECRYPT",
                "rotationPeriod": "7776000s",
                "versionTemplate": { "algorithm": "GOOGLE_SYMMETRIC_ENCRYPTION", "protectionLevel": "SOFTWARE" },
                "labels": labels(b, Storage),
            }));
            b.managed("gcp.kms_crypto_key_iam_binding", "service_agents", format!("{prefix}-cmek"), Storage, &[EncryptionAtRest], json!({
                "resource": r(&key, "name"),
                "role": "roles/cloudkms.cryptoKeyEncrypterDecrypter",
                "members": [
                    format!("serviceAccount:service-{number}@gs-project-accounts.iam.gserviceaccount.com"),
                    format!("serviceAccount:service-{number}@container-engine-robot.iam.gserviceaccount.com"),
                    format!("serviceAccount:service-{number}@compute-system.iam.gserviceaccount.com")
                ],
            }));
            Some(r(&key, "name"))
        }
        existing => {
            let k = b.data(
                "gcp.kms_crypto_key",
                "existing",
                existing,
                Storage,
                json!({ "name": existing }),
            );
            Some(r(&k, "name"))
        }
    }
}

/// The network (the customer's): a new one with its subnet, router and NAT, or an existing
/// one read; in BYOC also the ranges of the private connection. Returns the network's and
/// the nodes' subnet's self links.
fn network(b: &mut Builder<'_>, g: &Place) -> (Value, Value) {
    let p = b.profile;
    let (project, region, prefix) = (&g.project, &g.region, &g.prefix);
    let net_cfg = &p.spec.network;
    // Network (customer).
    let (network, subnet) = match &net_cfg.existing {
        Some(e) => {
            let n = b.data(
                "gcp.compute_network",
                "existing",
                e.network_id.clone(),
                Network,
                json!({ "name": e.network_id, "project": project }),
            );
            let first = e.subnet_ids.first().cloned().unwrap_or_default();
            let s = b.data(
                "gcp.compute_subnetwork",
                "existing",
                first.clone(),
                Network,
                json!({ "name": first, "region": region }),
            );
            (r(&n, "selfLink"), r(&s, "selfLink"))
        }
        None => {
            let cidr: Ipv4Net = net_cfg
                .cidr
                .parse()
                .unwrap_or_else(|_| "10.0.0.0/16".parse().expect("literal"));
            let halves: Vec<Ipv4Net> = cidr
                .subnets(cidr.prefix_len() + 1)
                .map(|s| s.collect())
                .unwrap_or_default();
            let n = b.managed(
                "gcp.compute_network",
                "main",
                prefix.clone(),
                Network,
                &[OutboundOnly],
                json!({
                    "name": prefix,
                    "autoCreateSubnetworks": false,
                    "routingConfig": { "routingMode": "REGIONAL" },
                }),
            );
            let s = b.managed(
                "gcp.compute_subnetwork",
                "nodes",
                format!("{prefix}-nodes"),
                Network,
                &[OutboundOnly, AuditLogging],
                json!({
                    "name": format!("{prefix}-nodes"),
                    "network": r(&n, "selfLink"),
                    "region": region,
                    "ipCidrRange": halves.first().map(|h| h.to_string()),
                    "secondaryIpRanges": [
                        { "rangeName": "pods", "ipCidrRange": net_cfg.pods_cidr },
                        { "rangeName": "services", "ipCidrRange": net_cfg.services_cidr }
                    ],
                    "privateIpGoogleAccess": true,
                    "logConfig": {
                        "enable": p.spec.audit.flow_logs,
                        "aggregationInterval": "INTERVAL_5_SEC",
                        "flowSampling": 0.5,
                        "metadata": "INCLUDE_ALL_METADATA"
                    },
                }),
            );
            let router = b.managed(
                "gcp.compute_router",
                "main",
                prefix.clone(),
                Network,
                &[],
                json!({
                    "name": prefix,
                    "network": r(&n, "selfLink"),
                    "region": region,
                }),
            );
            b.managed(
                "gcp.compute_router_nat",
                "main",
                prefix.clone(),
                Network,
                &[OutboundOnly],
                json!({
                    "router": r(&router, "name"),
                    "name": prefix,
                    "natIpAllocateOption": "AUTO_ONLY",
                    "sourceSubnetworkIpRangesToNat": "ALL_SUBNETWORKS_ALL_IP_RANGES",
                    "logConfig": { "enable": true, "filter": "ERRORS_ONLY" },
                }),
            );
            (r(&n, "selfLink"), r(&s, "selfLink"))
        }
    };
    if b.byoc() {
        // The PSC NAT range: the first sixteenth of the upper half of `network.cidr` (for an
        // existing network, `network.cidr` names a free range of it).
        let cidr: Ipv4Net = net_cfg
            .cidr
            .parse()
            .unwrap_or_else(|_| "10.0.0.0/16".parse().expect("literal"));
        let upper = cidr
            .subnets(cidr.prefix_len() + 1)
            .ok()
            .and_then(|s| s.last());
        b.managed("gcp.compute_subnetwork", "psc_nat", format!("{prefix}-psc-nat"), Network, &[OutboundOnly], json!({
            "name": format!("{prefix}-psc-nat"),
            "network": network,
            "region": region,
            "ipCidrRange": upper.and_then(|h| h.subnets(h.prefix_len() + 4).ok()).and_then(|mut s| s.next()).map(|s| s.to_string()),
            "purpose": "PRIVATE_SERVICE_CONNECT",
        }));
        // The proxies of the internal load balancer in front of the cluster's endpoint:
        // the second sixteenth of the upper half.
        b.managed("gcp.compute_subnetwork", "proxy_only", format!("{prefix}-proxy-only"), Network, &[OutboundOnly], json!({
            "name": format!("{prefix}-proxy-only"),
            "network": network,
            "region": region,
            "ipCidrRange": upper.and_then(|h| h.subnets(h.prefix_len() + 4).ok()).and_then(|mut s| s.nth(1)).map(|s| s.to_string()),
            "purpose": "REGIONAL_MANAGED_PROXY",
            "role": "ACTIVE",
        }));
    }
    (network, subnet)
}

/// The firewall: every rule applies to the data plane's nodes only.
fn firewalls(b: &mut Builder<'_>, g: &Place, network: &Value) {
    let p = b.profile;
    let (project, prefix) = (&g.project, &g.prefix);
    let net_cfg = &p.spec.network;
    // Every rule applies to the data plane's nodes only (their service account), never to
    // the whole network: an existing network's other machines keep their own rules.
    let nodes_email = format!("{prefix}-nodes@{project}.iam.gserviceaccount.com");
    let internal_ranges = vec![
        net_cfg.cidr.clone(),
        net_cfg.pods_cidr.clone(),
        net_cfg.master_cidr.clone(),
    ];
    b.managed("gcp.compute_firewall", "egress_allow", format!("{prefix}-egress-allow"), Network, &[OutboundOnly], json!({
        "name": format!("{prefix}-egress-allow"),
        "network": network,
        "targetServiceAccounts": [nodes_email.clone()],
        "direction": "EGRESS",
        "priority": 1000,
        "allowed": [{ "IPProtocol": "tcp", "ports": ["443", "7844"] }, { "IPProtocol": "udp", "ports": ["7844"] }],
        "destinationRanges": ["0.0.0.0/0"],
    }));
    b.managed(
        "gcp.compute_firewall",
        "egress_internal",
        format!("{prefix}-egress-internal"),
        Network,
        &[OutboundOnly],
        json!({
            "name": format!("{prefix}-egress-internal"),
            "network": network,
            "targetServiceAccounts": [nodes_email.clone()],
            "direction": "EGRESS",
            "priority": 1000,
            "allowed": [{ "IPProtocol": "all" }],
            "destinationRanges": internal_ranges,
        }),
    );
    b.managed(
        "gcp.compute_firewall",
        "egress_deny",
        format!("{prefix}-egress-deny"),
        Network,
        &[OutboundOnly],
        json!({
            "name": format!("{prefix}-egress-deny"),
            "network": network,
            "targetServiceAccounts": [nodes_email.clone()],
            "direction": "EGRESS",
            "priority": 65000,
            "denied": [{ "IPProtocol": "all" }],
            "destinationRanges": ["0.0.0.0/0"],
        }),
    );
    let mut ingress_sources = internal_ranges.clone();
    ingress_sources.dedup();
    b.managed(
        "gcp.compute_firewall",
        "ingress_internal",
        format!("{prefix}-ingress-internal"),
        Network,
        &[OutboundOnly],
        json!({
            "name": format!("{prefix}-ingress-internal"),
            "network": network,
            "targetServiceAccounts": [nodes_email.clone()],
            "direction": "INGRESS",
            "priority": 1000,
            "allowed": [{ "IPProtocol": "all" }],
            "sourceRanges": ingress_sources,
        }),
    );
    for (i, rule) in p.spec.network.ingress.iter().enumerate() {
        let proto = match rule.protocol {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        };
        b.managed(
            "gcp.compute_firewall",
            &format!("ingress_{i}"),
            format!("{prefix}-ingress-{i}"),
            Network,
            &[OutboundOnly],
            json!({
                "name": format!("{prefix}-ingress-{i}"),
                "network": network,
                "targetServiceAccounts": [nodes_email.clone()],
                "direction": "INGRESS",
                "priority": 1000,
                "allowed": [{ "IPProtocol": proto, "ports": [rule.port.to_string()] }],
                "sourceRanges": [rule.cidr],
            }),
        );
    }
}

/// The buckets (the customer's) and the audit trail; returns each bucket's name and
/// address.
fn buckets_and_audit(b: &mut Builder<'_>, g: &Place, key: Option<&Value>) -> Vec<(String, String)> {
    let p = b.profile;
    let (project, region, prefix) = (&g.project, &g.region, &g.prefix);
    // Buckets (customer) and the audit trail.
    let mut bucket_names = Vec::new();
    for logical in &p.spec.storage.buckets {
        let name = names::bucket(p, logical);
        let settings = bucket(b, &name, region, key, true);
        let address = b.managed(
            "gcp.storage_bucket",
            logical,
            name.clone(),
            Storage,
            &[EncryptionAtRest, NoPublicBuckets, EncryptionInTransit],
            settings,
        );
        key_user(b, &address);
        bucket_names.push((name, address));
    }
    b.managed("gcp.project_iam_audit_config", "all_services", format!("{project}/allServices"), Account, &[AuditLogging], json!({
        "service": "allServices",
        "auditLogConfigs": [{ "logType": "ADMIN_READ" }, { "logType": "DATA_WRITE" }, { "logType": "DATA_READ" }],
    }));
    match p.spec.audit.trail.as_str() {
        "create" => {
            let name = names::audit_bucket(p);
            let settings = bucket(b, &name, region, key, false);
            let audit_bucket = b.managed(
                "gcp.storage_bucket",
                "audit_logs",
                name.clone(),
                Account,
                &[EncryptionAtRest, NoPublicBuckets, AuditLogging],
                settings,
            );
            key_user(b, &audit_bucket);
            let sink = b.managed("gcp.logging_project_sink", "audit", format!("{prefix}-audit"), Account, &[AuditLogging], json!({
                "name": format!("{prefix}-audit"),
                "destination": format!("storage.googleapis.com/{}", r(&audit_bucket, "name").as_str().unwrap_or_default()),
                "filter": "logName:\"cloudaudit.googleapis.com\"",
                "uniqueWriterIdentity": true,
            }));
            // The sink writes as its own identity, which may only create objects there.
            b.managed(
                "gcp.storage_bucket_iam_member",
                "audit_sink_writer",
                format!("{name} sink writer"),
                Account,
                &[AuditLogging],
                json!({
                    "bucket": r(&audit_bucket, "name"),
                    "role": "roles/storage.objectCreator",
                    "member": r(&sink, "writerIdentity"),
                }),
            );
        }
        existing => {
            b.data(
                "gcp.logging_project_sink",
                "existing",
                existing,
                Account,
                json!({ "name": existing }),
            );
        }
    }
    bucket_names
}

/// The nodes' service account (the customer's: IAM is the account's) and its roles.
fn node_identity(b: &mut Builder<'_>, g: &Place) -> String {
    let (project, prefix) = (&g.project, &g.prefix);
    // Node service account (customer: IAM is the account's).
    let nodes_sa = b.managed(
        "gcp.service_account",
        "nodes",
        format!("{prefix}-nodes"),
        Account,
        &[LeastPrivilege],
        json!({
            "accountId": format!("{prefix}-nodes"),
            "displayName": "GKE nodes of the unionctl data plane",
        }),
    );
    // Firewall rules name the nodes' service account as their target.
    let firewalls: Vec<String> = b
        .resources
        .iter()
        .filter(|r| r.kind == "gcp.compute_firewall")
        .map(|r| r.address.clone())
        .collect();
    for fw in firewalls {
        b.order_after(&fw, &nodes_sa);
    }
    for role in [
        "roles/logging.logWriter",
        "roles/monitoring.metricWriter",
        "roles/artifactregistry.reader",
    ] {
        let short = role.rsplit('/').next().unwrap_or(role).replace('.', "_");
        let m = b.managed("gcp.project_iam_member", &format!("nodes_{short}"), format!("{prefix}-nodes {role}"), Account, &[LeastPrivilege], json!({
            "role": role,
            "member": format!("serviceAccount:{prefix}-nodes@{project}.iam.gserviceaccount.com"),
        }));
        b.order_after(&m, &nodes_sa);
    }
    nodes_sa
}

/// BYOC: the admin identity.
fn admin_identity(b: &mut Builder<'_>, g: &Place, nodes_sa: &str, key: Option<&Value>) {
    let p = b.profile;
    let (project, number, region, prefix) = (&g.project, &g.number, &g.region, &g.prefix);
    let net_cfg = &p.spec.network;
    // BYOC admin identity: a pool federating Union.ai's AWS role, under an attribute
    // condition; a service account it impersonates; roles that reach only this data
    // plane's cluster and private connection, and nothing that can change IAM.
    let union = p.spec.union.clone().unwrap_or_default();
    let union_role = format!(
        "arn:aws:sts::{}:assumed-role/{}",
        union.aws_account_id, union.role_name
    );
    let pool = b.managed(
        "gcp.iam_workload_identity_pool",
        "unionai",
        "unionai",
        AdminIdentity,
        &[AdminTrust],
        json!({
            "workloadIdentityPoolId": "unionai",
            "displayName": "Union.ai",
            "description": format!("Union.ai's AWS identity, for the BYOC data plane {prefix}"),
            "disabled": false,
        }),
    );
    b.managed(
        "gcp.iam_workload_identity_pool_provider",
        "unionai_aws",
        "unionai-aws",
        AdminIdentity,
        &[AdminTrust],
        json!({
            "parent": r(&pool, "name"),
            "workloadIdentityPoolProviderId": "unionai-aws",
            "displayName": "Union.ai AWS role",
            "description": format!("Union.ai's AWS role, for the BYOC data plane {prefix}"),
            "aws": { "accountId": union.aws_account_id },
            "attributeMapping": {
                "google.subject": "assertion.arn",
                "attribute.aws_role": AWS_ROLE_MAPPING
            },
            "attributeCondition": format!("attribute.aws_role == '{union_role}'"),
        }),
    );
    let admin_email = format!("unionai-administrator@{project}.iam.gserviceaccount.com");
    let admin = b.managed(
        "gcp.service_account",
        "unionai_administrator",
        "unionai-administrator",
        AdminIdentity,
        &[AdminTrust],
        json!({
            "accountId": "unionai-administrator",
            "displayName": "Union.ai administrator (BYOC)",
        }),
    );
    b.managed("gcp.service_account_iam_binding", "unionai_administrator", "unionai-administrator workloadIdentityUser", AdminIdentity, &[AdminTrust], json!({
        "resource": r(&admin, "name"),
        "role": "roles/iam.workloadIdentityUser",
        "members": [format!("principalSet://iam.googleapis.com/projects/{number}/locations/global/workloadIdentityPools/unionai/attribute.aws_role/{union_role}")],
    }));
    let member = format!("serviceAccount:{admin_email}");
    let cluster_condition = format!(
        "!resource.name.contains('/clusters/') || resource.name.endsWith('/clusters/{prefix}') || resource.name.contains('/clusters/{prefix}/')"
    );
    let regional = format!("projects/{project}/regions/{region}");
    // This data plane's network only (an existing one by its name).
    let network_name = net_cfg.existing.as_ref().map_or(prefix.clone(), |e| {
        e.network_id
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string()
    });
    let zonal = format!("projects/{project}/zones/{}", zone_of(region));
    let psc_names: Vec<String> = [
        "serviceAttachments",
        "forwardingRules",
        "backendServices",
        "healthChecks",
        "targetTcpProxies",
    ]
    .iter()
    .map(|c| format!("resource.name.startsWith('{regional}/{c}/{prefix}-')"))
    .chain([format!(
        "resource.name.startsWith('{zonal}/networkEndpointGroups/{prefix}-')"
    )])
    .collect();
    let network_condition = format!(
        "{} || resource.name.startsWith('{regional}/operations/') || resource.name.startsWith('{zonal}/operations/') || resource.name.startsWith('{regional}/subnetworks/') || resource.name == 'projects/{project}/global/networks/{network_name}' || resource.name.startsWith('projects/{project}/global/firewalls/{prefix}-')",
        psc_names.join(" || ")
    );
    for (name, role_id, title, permissions, condition) in [
        (
            "unionai_cluster",
            "UnionaiClusterAdministrator",
            "Union.ai: this data plane's GKE cluster",
            CLUSTER_PERMISSIONS,
            cluster_condition,
        ),
        (
            "unionai_network",
            "UnionaiNetworkAdministrator",
            "Union.ai: this data plane's Private Service Connect",
            NETWORK_PERMISSIONS,
            network_condition,
        ),
    ] {
        let role = b.managed("gcp.project_iam_custom_role", name, role_id, AdminIdentity, &[LeastPrivilege], json!({
            "roleId": role_id,
            "role": { "title": title, "description": format!("What Union.ai needs to operate the BYOC data plane {prefix}"), "stage": "GA", "includedPermissions": permissions },
        }));
        let grant = b.managed(
            "gcp.project_iam_member",
            name,
            format!("unionai-administrator {role_id}"),
            AdminIdentity,
            &[LeastPrivilege],
            json!({
                "role": r(&role, "name"),
                "member": member,
                "condition": { "title": format!("{prefix} only"), "expression": condition },
            }),
        );
        b.order_after(&grant, &admin);
    }
    // The nodes' identity only, to run node pools as it; the key only, to name it.
    let acts_as = b.managed(
        "gcp.service_account_iam_member",
        "unionai_acts_as_nodes",
        format!("{prefix}-nodes serviceAccountUser"),
        AdminIdentity,
        &[LeastPrivilege],
        json!({
            "resource": r(nodes_sa, "name"),
            "role": "roles/iam.serviceAccountUser",
            "member": member,
        }),
    );
    b.order_after(&acts_as, &admin);
    if let Some(k) = &key {
        let viewer = b.managed(
            "gcp.kms_crypto_key_iam_member",
            "unionai_views_key",
            format!("{prefix} key viewer"),
            AdminIdentity,
            &[LeastPrivilege],
            json!({
                "resource": k,
                "role": "roles/cloudkms.viewer",
                "member": member,
            }),
        );
        b.order_after(&viewer, &admin);
    }
}

/// The cluster (Union.ai's in BYOC) and its node pools.
fn cluster_and_pools(
    b: &mut Builder<'_>,
    g: &Place,
    network: &Value,
    subnet: &Value,
    nodes_sa: &str,
    key: Option<&Value>,
) -> String {
    let p = b.profile;
    let (project, region, prefix) = (&g.project, &g.region, &g.prefix);
    let net_cfg = &p.spec.network;
    // Cluster (Union.ai in BYOC): private nodes and endpoint, Workload Identity, secrets
    // encrypted with the key, API-server logs.
    let public = p.spec.cluster.endpoint_access == EndpointAccess::PrivateAndPublic;
    let mut components = vec!["SYSTEM_COMPONENTS"];
    if p.spec.audit.cluster_logs {
        components.push("APISERVER");
    }
    let cluster = b.managed("gcp.container_cluster", "main", prefix.clone(), Cluster, &[PrivateEndpoint, EncryptionAtRest, AuditLogging], json!({
        "name": prefix,
        "location": region,
        "initialClusterVersion": p.spec.cluster.kubernetes_version,
        "network": network,
        "subnetwork": subnet,
        "releaseChannel": { "channel": "UNSPECIFIED" },
        "privateClusterConfig": {
            "enablePrivateNodes": true,
            "enablePrivateEndpoint": !public,
            "masterIpv4CidrBlock": net_cfg.master_cidr,
        },
        "masterAuthorizedNetworksConfig": { "enabled": true, "cidrBlocks": [{ "cidrBlock": net_cfg.cidr, "displayName": "data plane network" }] },
        "ipAllocationPolicy": { "useIpAliases": true, "clusterSecondaryRangeName": "pods", "servicesSecondaryRangeName": "services" },
        "workloadIdentityConfig": { "workloadPool": format!("{project}.svc.id.goog") },
        "databaseEncryption": match &key {
            Some(k) => json!({ "state": "ENCRYPTED", "keyName": k }),
            None => json!({ "state": "DECRYPTED" }),
        },
        "loggingConfig": { "componentConfig": { "enableComponents": components } },
        "masterAuth": { "clientCertificateConfig": { "issueClientCertificate": false } },
        "legacyAbac": { "enabled": false },
        "shieldedNodes": { "enabled": true },
        // GKE creates a cluster with a default node pool, which unionctl removes once the
        // cluster exists (the data plane's pools are resources of their own); until then
        // it runs as the nodes' service account, shielded, its disk under the key.
        "removeDefaultNodePool": true,
        "initialNodeCount": 1,
        "nodeConfig": default_pool_config(prefix, project, key),
        "resourceLabels": labels(b, Cluster),
    }));
    b.order_after(&cluster, "gcp.compute_firewall.egress_allow");
    b.order_after(&cluster, nodes_sa);
    // In BYOC the cluster and its pools come in the union stage, after the whole customer
    // stage: the order matters (and Union.ai reads no IAM policy) only when self-managed.
    if !b.byoc() {
        key_user(b, &cluster);
    }
    for pool in &p.spec.cluster.node_pools {
        let mut config = json!({
            "machineType": pool.instance_type,
            "diskSizeGb": pool.disk_size_gib,
            "diskType": "pd-balanced",
            "serviceAccount": format!("{prefix}-nodes@{project}.iam.gserviceaccount.com"),
            "oauthScopes": ["https://www.googleapis.com/auth/cloud-platform"],
            "workloadMetadataConfig": { "mode": "GKE_METADATA" },
            "shieldedInstanceConfig": { "enableSecureBoot": true, "enableIntegrityMonitoring": true },
            "labels": { "union.ai/node-pool": pool.name },
            "taints": [],
        });
        if let Some(k) = &key {
            config["bootDiskKmsKey"] = (*k).clone();
        }
        if pool.gpu {
            config["taints"] =
                json!([{ "key": GPU_TAINT.0, "value": GPU_TAINT.1, "effect": "NO_SCHEDULE" }]);
        }
        b.managed("gcp.container_node_pool", &pool.name, pool.name.clone(), NodePools, &[EncryptionAtRest], json!({
            "cluster": r(&cluster, "name"),
            "name": pool.name,
            "config": config,
            "autoscaling": { "enabled": true, "minNodeCount": pool.min, "maxNodeCount": pool.max },
            "management": { "autoRepair": true, "autoUpgrade": true },
            "initialNodeCount": pool.min,
        }));
        let pool_address = format!(
            "gcp.container_node_pool.{}",
            crate::plan::builder::address_name(&pool.name)
        );
        b.order_after(&pool_address, nodes_sa);
        if !b.byoc() {
            key_user(b, &pool_address);
        }
    }
    cluster
}

/// Workload identities (the customer's).
fn workload_identities(
    b: &mut Builder<'_>,
    g: &Place,
    cluster: &str,
    bucket_names: &[(String, String)],
) {
    let p = b.profile;
    let (project, prefix) = (&g.project, &g.prefix);
    // Workload identities (the customer's): one service account for the platform and one
    // per tenant namespace, each usable only by its namespace's service accounts, with
    // object access to this data plane's buckets, a tenant only under its own prefix. The
    // Workload Identity bindings need the project's identity pool, which the first cluster
    // creates: they come after the cluster.
    for identity in crate::plan::builder::workload_identities(p, format!("{prefix}-backend")) {
        let crate::plan::builder::WorkloadIdentity {
            key: name,
            name: account_id,
            namespace: ns,
            service_accounts,
            tenant,
        } = identity;
        let sa = b.managed(
            "gcp.service_account",
            &format!("workload_{name}"),
            account_id.clone(),
            WorkloadIdentity,
            &[TenantIsolation],
            json!({
                "accountId": account_id,
                "displayName": format!("unionctl workload identity of namespace {ns}"),
            }),
        );
        let binding = b.managed("gcp.service_account_iam_binding", &format!("workload_{name}"), format!("{account_id} workloadIdentityUser"), WorkloadIdentity, &[LeastPrivilege, TenantIsolation], json!({
            "resource": r(&sa, "name"),
            "role": "roles/iam.workloadIdentityUser",
            "members": service_accounts.iter().map(|k| format!("serviceAccount:{project}.svc.id.goog[{ns}/{k}]")).collect::<Vec<_>>(),
        }));
        b.order_after(&binding, cluster);
        for (bucket, bucket_address) in bucket_names {
            let mut grant = json!({
                "bucket": bucket,
                "role": "roles/storage.objectUser",
                "member": format!("serviceAccount:{account_id}@{project}.iam.gserviceaccount.com"),
            });
            if tenant {
                // Objects under `<namespace>/`, and listing only with that prefix.
                grant["condition"] = json!({
                    "title": format!("namespace {ns} only"),
                    "expression": format!(
                        "resource.name.startsWith('projects/_/buckets/{bucket}/objects/{ns}/') || (resource.name == 'projects/_/buckets/{bucket}' && api.getAttribute('storage.googleapis.com/objectListPrefix', '').startsWith('{ns}/'))"
                    ),
                });
            }
            let g = b.managed(
                "gcp.storage_bucket_iam_member",
                &format!("{name}_{}", crate::plan::builder::address_name(bucket)),
                format!("{bucket} {account_id}"),
                WorkloadIdentity,
                &[TenantIsolation],
                grant,
            );
            // The grant names both by name: it comes after them.
            b.order_after(&g, bucket_address);
            b.order_after(&g, &sa);
        }
    }
}

/// BYOC: the private connection to the cluster's endpoint.
fn private_connection(
    b: &mut Builder<'_>,
    g: &Place,
    network: &Value,
    subnet: &Value,
    cluster: &str,
) {
    let p = b.profile;
    let (region, prefix) = (&g.region, &g.prefix);
    // BYOC: the cluster's private endpoint behind a regional internal proxy load balancer
    // (a hybrid connectivity endpoint group holding the endpoint's address), published
    // through a Private Service Connect attachment that accepts only Union.ai's project,
    // connection by connection: the documented way to publish a private address through
    // PSC ("Set up a regional internal proxy Network Load Balancer with hybrid
    // connectivity"; "Publish services by using Private Service Connect").
    let union_project = p
        .spec
        .union
        .as_ref()
        .and_then(|u| u.gcp_project_id.clone())
        .unwrap_or_default();
    let zone = zone_of(region);
    let neg = b.managed("gcp.compute_network_endpoint_group", "api", format!("{prefix}-api"), PrivateConnection, &[PrivateEndpoint], json!({
        "name": format!("{prefix}-api"),
        "zone": zone,
        "networkEndpointType": "NON_GCP_PRIVATE_IP_PORT",
        "network": network,
        "defaultPort": 443,
        "networkEndpoints": [{ "ipAddress": r(cluster, "privateClusterConfig.privateEndpoint"), "port": 443 }],
    }));
    let health = b.managed(
        "gcp.compute_region_health_check",
        "api",
        format!("{prefix}-api"),
        PrivateConnection,
        &[PrivateEndpoint],
        json!({
            "name": format!("{prefix}-api"),
            "region": region,
            "type": "TCP",
            "tcpHealthCheck": { "port": 443 },
            "checkIntervalSec": 10,
            "timeoutSec": 5,
        }),
    );
    let backend = b.managed("gcp.compute_region_backend_service", "api", format!("{prefix}-api"), PrivateConnection, &[PrivateEndpoint], json!({
        "name": format!("{prefix}-api"),
        "region": region,
        "loadBalancingScheme": "INTERNAL_MANAGED",
        "protocol": "TCP",
        "backends": [{ "group": r(&neg, "selfLink"), "balancingMode": "CONNECTION", "maxConnectionsPerEndpoint": 100 }],
        "healthChecks": [r(&health, "selfLink")],
    }));
    let proxy = b.managed(
        "gcp.compute_region_target_tcp_proxy",
        "api",
        format!("{prefix}-api"),
        PrivateConnection,
        &[PrivateEndpoint],
        json!({
            "name": format!("{prefix}-api"),
            "region": region,
            "service": r(&backend, "selfLink"),
            "proxyHeader": "NONE",
        }),
    );
    let rule = b.managed(
        "gcp.compute_forwarding_rule",
        "api",
        format!("{prefix}-api"),
        PrivateConnection,
        &[PrivateEndpoint, OutboundOnly],
        json!({
            "name": format!("{prefix}-api"),
            "region": region,
            "loadBalancingScheme": "INTERNAL_MANAGED",
            "IPProtocol": "TCP",
            "portRange": "443-443",
            "network": network,
            "subnetwork": subnet,
            "target": r(&proxy, "selfLink"),
        }),
    );
    // Internal proxy load balancers need the region's proxy-only subnetwork.
    b.order_after(&rule, "gcp.compute_subnetwork.proxy_only");
    b.managed(
        "gcp.compute_service_attachment",
        "api",
        format!("{prefix}-api"),
        PrivateConnection,
        &[OutboundOnly, PrivateEndpoint],
        json!({
            "name": format!("{prefix}-api"),
            "region": region,
            "targetService": r(&rule, "selfLink"),
            "connectionPreference": "ACCEPT_MANUAL",
            "natSubnets": [r("gcp.compute_subnetwork.psc_nat", "selfLink")],
            "enableProxyProtocol": false,
            "consumerAcceptLists": [{ "projectIdOrNum": union_project, "connectionLimit": 4 }],
            "consumerRejectLists": [],
        }),
    );
}

/// A resource encrypted with the key the plan creates comes after the grant that lets the
/// service agents use it (Cloud Storage and GKE refuse a key their agent cannot use).
fn key_user(b: &mut Builder<'_>, address: &str) {
    if b.resources
        .iter()
        .any(|r| r.address == "gcp.kms_crypto_key_iam_binding.service_agents")
    {
        b.order_after(address, "gcp.kms_crypto_key_iam_binding.service_agents");
    }
}

/// The default node pool's nodes, for the minutes they exist: the pools' own identity and
/// protections, the smallest machine.
fn default_pool_config(prefix: &str, project: &str, key: Option<&Value>) -> Value {
    let mut config = json!({
        "machineType": "e2-small",
        "diskSizeGb": 30,
        "serviceAccount": format!("{prefix}-nodes@{project}.iam.gserviceaccount.com"),
        "oauthScopes": ["https://www.googleapis.com/auth/cloud-platform"],
        "workloadMetadataConfig": { "mode": "GKE_METADATA" },
        "shieldedInstanceConfig": { "enableSecureBoot": true, "enableIntegrityMonitoring": true },
    });
    if let Some(k) = key {
        config["bootDiskKmsKey"] = (*k).clone();
    }
    config
}

fn bucket(b: &Builder<'_>, name: &str, region: &str, key: Option<&Value>, cors: bool) -> Value {
    let p = b.profile;
    let mut s = json!({
        "name": name,
        "location": region.to_uppercase(),
        "storageClass": "STANDARD",
        "iamConfiguration": {
            "uniformBucketLevelAccess": { "enabled": true },
            "publicAccessPrevention": if p.spec.storage.block_public_access { "enforced" } else { "inherited" },
        },
        "versioning": { "enabled": true },
        "labels": labels(b, Storage),
    });
    if let Some(k) = key {
        s["encryption"] = json!({ "defaultKmsKeyName": k });
    }
    if cors {
        s["cors"] = json!([{ "origin": ["https://*.unionai.cloud"], "method": ["GET", "PUT", "HEAD"], "responseHeader": ["Content-Type", "ETag"], "maxAgeSeconds": 3000 }]);
    }
    s
}

/// What an update in place renews (`CloudPlan::renewed_by_update`): nothing here.
pub fn renewed_by_update(_kind: &str) -> &'static [&'static str] {
    &[]
}

/// Changes the cloud refuses outright (`CloudPlan::refuses_change`).
pub fn refuses_change(
    kind: &str,
    path: &str,
    before: &serde_json::Value,
    after: &serde_json::Value,
) -> Option<String> {
    crate::plan::kubernetes_version_step(
        kind,
        path,
        before,
        after,
        &[("gcp.container_cluster", "/initialClusterVersion")],
    )
}
