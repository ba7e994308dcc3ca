//! The AWS plan: field names as the AWS APIs spell them (EC2/IAM/S3 PascalCase,
//! EKS camelCase).

use ipnet::Ipv4Net;
use serde_json::{json, Value};

use crate::plan::builder::{address_name, r, Builder, GPU_TAINT, TAG_DATA_PLANE, TAG_OWNER};
use crate::plan::invariants::Invariant::{self, *};
use crate::plan::ownership::Component::*;
use crate::profile::catalog::zone_names;
use crate::profile::names;
use crate::profile::schema::{EndpointAccess, Protocol, UNION_AWS_ACCOUNT_ID};

/// Interface endpoints a private EKS cluster needs so that nodes never leave the VPC for
/// AWS APIs.
pub const INTERFACE_ENDPOINTS: &[&str] = &[
    "sts",
    "ecr.api",
    "ecr.dkr",
    "logs",
    "ec2",
    "eks",
    "eks-auth",
    "elasticloadbalancing",
    "autoscaling",
];
/// Control-plane log types; all five are required (invariant 8).
pub const CLUSTER_LOG_TYPES: &[&str] = &[
    "api",
    "audit",
    "authenticator",
    "controllerManager",
    "scheduler",
];
/// Egress the data plane needs to the internet: HTTPS (gRPC to the control plane, image
/// pulls) and the tunnel port, TCP and UDP.
pub const EGRESS_PORTS: &[(&str, u16)] = &[("tcp", 443), ("tcp", 7844), ("udp", 7844)];

/// The admin identity's role and the external ID its trust requires: the union stage
/// reads them from state to assume the role.
pub const ADMIN_ROLE: &str = "aws.iam_role.union_admin";
pub const EXTERNAL_ID: &str = "local.external_id.union";

/// Where the resources that everything else refers to ended up.
struct Network {
    vpc_id: Value,
    private_subnets: Vec<Value>,
    private_route_tables: Value,
    cidr: String,
}

/// Where this data plane is: its account, region and name prefix.
struct Place {
    account: String,
    region: String,
    prefix: String,
}

/// The AWS plan, area by area (eksctl's resource sets): each builder only describes its
/// resources and returns the addresses the next ones refer to.
pub fn build(b: &mut Builder<'_>) {
    let p = b.profile;
    let place = Place {
        account: p
            .spec
            .cloud
            .aws
            .as_ref()
            .map(|a| a.account_id.clone())
            .unwrap_or_default(),
        region: p.spec.cloud.region.clone(),
        prefix: b.prefix().to_string(),
    };
    let key_arn = key(b, &place);
    let net = network(b, &place.region);
    audit(b, key_arn.as_ref(), &net, &place.account);
    let bucket_arns = buckets(b, key_arn.as_ref());
    let (cluster_role, node_role) = cluster_roles(b, &place.prefix);
    let workload_roles = workload_identities(b, &place, &bucket_arns, key_arn.as_ref());
    let admin_role = b.byoc().then(|| {
        admin_identity(
            b,
            &place,
            &cluster_role,
            &node_role,
            &workload_roles,
            key_arn.as_ref(),
        )
    });
    let cluster_addr = cluster(b, &place.prefix, &cluster_role, &net, key_arn.as_ref());
    if let Some(role) = &admin_role {
        admin_access_entry(b, &place.prefix, &cluster_addr, role);
    }
    node_pools(
        b,
        &place.prefix,
        &cluster_addr,
        &node_role,
        &net,
        key_arn.as_ref(),
    );
    pod_identity(b, &cluster_addr, &workload_roles);
    if b.byoc() {
        private_connection(b, &place.prefix, &cluster_addr, &net);
    }
}

/// The customer's encryption key: one made with rotation, an existing one read, or none.
fn key(b: &mut Builder<'_>, place: &Place) -> Option<Value> {
    let p = b.profile;
    let (account, region, prefix) = (&place.account, &place.region, &place.prefix);
    match p.spec.storage.encryption.key.as_str() {
        "none" => None,
        "create" => {
            let key = b.managed(
                "aws.kms_key",
                "main",
                format!("alias/{prefix}"),
                Storage,
                &[EncryptionAtRest],
                json!({
                    "Description": format!("unionctl data plane {prefix}: buckets, cluster secrets, disks, audit trail"),
                    "KeySpec": "SYMMETRIC_DEFAULT",
                    "KeyUsage": "ENCRYPT_DECRYPT",
                    "EnableKeyRotation": true,
                    "RotationPeriodInDays": 365,
                    "AliasName": format!("alias/{prefix}"),
                    "Policy": key_policy(account, region, prefix),
                    "Tags": b.tags(Storage),
                }),
            );
            Some(r(&key, "arn"))
        }
        existing => {
            let key = b.data(
                "aws.kms_key",
                "existing",
                existing,
                Storage,
                json!({ "KeyId": existing }),
            );
            Some(r(&key, "arn"))
        }
    }
}

/// The data plane's buckets (the customer's); returns their ARNs.
fn buckets(b: &mut Builder<'_>, key_arn: Option<&Value>) -> Vec<String> {
    let p = b.profile;
    let mut bucket_arns = Vec::new();
    for logical in &p.spec.storage.buckets {
        let name = names::bucket(p, logical);
        let settings = bucket_settings(b, &name, key_arn, true, None);
        b.managed(
            "aws.s3_bucket",
            logical,
            name.clone(),
            Storage,
            BUCKET_CONTROLS,
            settings,
        );
        bucket_arns.push(format!("arn:aws:s3:::{name}"));
    }
    bucket_arns
}

/// The roles the cluster and its nodes run as (the customer's: IAM policies are the
/// account's).
fn cluster_roles(b: &mut Builder<'_>, prefix: &str) -> (String, String) {
    let cluster_role = b.managed(
        "aws.iam_role",
        "cluster",
        format!("{prefix}-cluster"),
        Account,
        &[LeastPrivilege],
        json!({
            "RoleName": format!("{prefix}-cluster"),
            "Description": "EKS control plane of the unionctl data plane",
            "AssumeRolePolicyDocument": service_trust("eks.amazonaws.com", &["sts:AssumeRole", "sts:TagSession"]),
            "ManagedPolicyArns": ["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"],
            "Tags": b.tags(Account),
        }),
    );
    let node_role = b.managed(
        "aws.iam_role",
        "node",
        format!("{prefix}-node"),
        Account,
        &[LeastPrivilege],
        json!({
            "RoleName": format!("{prefix}-node"),
            "Description": "EKS worker nodes of the unionctl data plane",
            "AssumeRolePolicyDocument": service_trust("ec2.amazonaws.com", &["sts:AssumeRole"]),
            "ManagedPolicyArns": [
                "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
                "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
                "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"
            ],
            "Tags": b.tags(Account),
        }),
    );
    (cluster_role, node_role)
}

/// A workload role's address, namespace and service accounts.
type WorkloadRole = (String, String, Vec<String>);

/// Workload identities (the customer's in both models): one role for the platform's
/// service accounts and one per tenant namespace. Their trust is EKS Pod Identity's
/// service principal, limited by the session tags EKS sets to this cluster, one namespace
/// and its service accounts. The customer authors every trust policy; in BYOC Union.ai
/// only associates these roles with service accounts of its cluster.
fn workload_identities(
    b: &mut Builder<'_>,
    place: &Place,
    bucket_arns: &[String],
    key_arn: Option<&Value>,
) -> Vec<WorkloadRole> {
    let p = b.profile;
    let (account, region, prefix) = (&place.account, &place.region, &place.prefix);
    let cluster_arn = format!("arn:aws:eks:{region}:{account}:cluster/{prefix}");
    let mut workload_roles: Vec<WorkloadRole> = Vec::new();
    for identity in
        crate::plan::builder::workload_identities(p, format!("{prefix}-workload-backend"))
    {
        let crate::plan::builder::WorkloadIdentity {
            key: name,
            name: role_name,
            namespace: ns,
            service_accounts: sas,
            tenant,
        } = identity;
        // The platform reaches every object of the data plane's buckets; a tenant, its prefix.
        let objects: Vec<String> = bucket_arns
            .iter()
            .map(|a| {
                if tenant {
                    format!("{a}/{ns}/*")
                } else {
                    format!("{a}/*")
                }
            })
            .collect();
        let address = b.managed(
            "aws.iam_role",
            &format!("workload_{name}"),
            role_name.clone(),
            WorkloadIdentity,
            &[LeastPrivilege, TenantIsolation],
            json!({
                "RoleName": role_name,
                "Description": format!("Pods of namespace {ns} on the data plane's cluster (EKS Pod Identity)"),
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Sid": "EksPodIdentityForOneNamespace",
                        "Effect": "Allow",
                        "Principal": { "Service": "pods.eks.amazonaws.com" },
                        "Action": ["sts:AssumeRole", "sts:TagSession"],
                        "Condition": { "StringEquals": {
                            "aws:SourceAccount": account,
                            "aws:RequestTag/eks-cluster-arn": cluster_arn,
                            "aws:RequestTag/kubernetes-namespace": ns,
                            "aws:RequestTag/kubernetes-service-account": sas
                        }}
                    }]
                },
                "Policies": { format!("{role_name}-data"): bucket_access_policy(bucket_arns, &objects, (ns != names::PLATFORM_NAMESPACE).then_some(ns.as_str()), key_arn) },
                "Tags": b.tags(WorkloadIdentity),
            }),
        );
        workload_roles.push((address, ns, sas));
    }
    workload_roles
}

/// BYOC: the admin identity Union.ai assumes, with the external ID, limited to this data
/// plane's resources.
fn admin_identity(
    b: &mut Builder<'_>,
    place: &Place,
    cluster_role: &str,
    node_role: &str,
    workload_roles: &[WorkloadRole],
    key_arn: Option<&Value>,
) -> String {
    let p = b.profile;
    let (account, region, prefix) = (&place.account, &place.region, &place.prefix);
    let union = p.spec.union.clone().unwrap_or_default();
    let external_id = match &union.external_id {
        Some(id) => json!(id),
        None => {
            let id = b.managed(
                "local.external_id",
                "union",
                "external-id",
                AdminIdentity,
                &[AdminTrust],
                json!({ "length": 24 }),
            );
            r(&id, "value")
        }
    };
    let workload_role_arns: Vec<Value> =
        workload_roles.iter().map(|(a, _, _)| r(a, "arn")).collect();
    b.managed(
        "aws.iam_role",
        "union_admin",
        format!("{prefix}-union-ai-admin"),
        AdminIdentity,
        &[AdminTrust, LeastPrivilege, AuditLogging],
        json!({
            "RoleName": format!("{prefix}-union-ai-admin"),
            "Description": "Union.ai's narrowly scoped admin identity for this BYOC data plane",
            "MaxSessionDuration": 3600,
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "UnionAiAssumesWithExternalId",
                    "Effect": "Allow",
                    "Principal": { "AWS": format!("arn:aws:iam::{}:root", union.aws_account_id) },
                    "Action": "sts:AssumeRole",
                    "Condition": { "StringEquals": { "sts:ExternalId": external_id } }
                }]
            },
            "Policies": {
                format!("{prefix}-union-ai-admin"): admin_policy(account, region, prefix, cluster_role, node_role, &workload_role_arns, key_arn)
            },
            "Tags": b.tags(AdminIdentity),
        }),
    )
}

/// The cluster (Union.ai's in BYOC): private endpoint, secrets encrypted, all logs on.
fn cluster(
    b: &mut Builder<'_>,
    prefix: &str,
    cluster_role: &str,
    net: &Network,
    key_arn: Option<&Value>,
) -> String {
    let p = b.profile;
    let public = p.spec.cluster.endpoint_access == EndpointAccess::PrivateAndPublic;
    let log_types: Vec<&str> = if p.spec.audit.cluster_logs {
        CLUSTER_LOG_TYPES.to_vec()
    } else {
        vec![]
    };
    let cluster_sg = r("aws.security_group.cluster", "id");
    let mut cluster = json!({
        "name": prefix,
        "version": p.spec.cluster.kubernetes_version,
        "roleArn": r(cluster_role, "arn"),
        "resourcesVpcConfig": {
            "subnetIds": net.private_subnets,
            "securityGroupIds": [cluster_sg],
            "endpointPrivateAccess": true,
            "endpointPublicAccess": public,
        },
        "kubernetesNetworkConfig": { "serviceIpv4Cidr": p.spec.network.services_cidr, "ipFamily": "ipv4" },
        "encryptionConfig": key_arn.map_or(json!([]), |k| json!([{ "resources": ["secrets"], "provider": { "keyArn": k } }])),
        "logging": { "clusterLogging": [
            { "types": log_types, "enabled": true }
        ]},
        "accessConfig": { "authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": true },
        "tags": b.tags(Cluster),
    });
    if public {
        cluster["resourcesVpcConfig"]["publicAccessCidrs"] = json!(["0.0.0.0/0"]);
    }
    let cluster_addr = b.managed(
        "aws.eks_cluster",
        "main",
        prefix.to_string(),
        Cluster,
        &[PrivateEndpoint, EncryptionAtRest, AuditLogging],
        cluster,
    );
    b.order_after(&cluster_addr, "aws.security_group.cluster");
    cluster_addr
}

/// BYOC: the admin identity is the cluster's administrator through an access entry.
fn admin_access_entry(b: &mut Builder<'_>, prefix: &str, cluster_addr: &str, role: &str) {
    b.managed(
        "aws.eks_access_entry",
        "union_admin",
        format!("{prefix}-union-ai-admin"),
        Cluster,
        &[AdminTrust],
        json!({
            "clusterName": r(cluster_addr, "name"),
            "principalArn": r(role, "arn"),
            "type": "STANDARD",
            "accessPolicies": [{
                "policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
                "accessScope": { "type": "cluster" }
            }],
            "tags": b.tags(Cluster),
        }),
    );
}

/// Node pools: a launch template per pool for encrypted gp3 disks and IMDSv2, then the
/// managed node group; GPU pools are tainted.
fn node_pools(
    b: &mut Builder<'_>,
    prefix: &str,
    cluster_addr: &str,
    node_role: &str,
    net: &Network,
    key_arn: Option<&Value>,
) {
    let p = b.profile;
    for pool in &p.spec.cluster.node_pools {
        let ebs = match key_arn {
            Some(k) => {
                json!({ "VolumeSize": pool.disk_size_gib, "VolumeType": "gp3", "Encrypted": true, "KmsKeyId": k, "DeleteOnTermination": true })
            }
            None => {
                json!({ "VolumeSize": pool.disk_size_gib, "VolumeType": "gp3", "Encrypted": false, "DeleteOnTermination": true })
            }
        };
        let lt = b.managed(
            "aws.launch_template",
            &pool.name,
            format!("{prefix}-{}", pool.name),
            NodePools,
            &[EncryptionAtRest],
            json!({
                "LaunchTemplateName": format!("{prefix}-{}", pool.name),
                "LaunchTemplateData": {
                    // Nodes get the restricted group (egress 443 and 7844 only), not the
                    // cluster security group EKS creates, which allows all egress.
                    "SecurityGroupIds": [r("aws.security_group.cluster", "id")],
                    "BlockDeviceMappings": [{ "DeviceName": "/dev/xvda", "Ebs": ebs }],
                    "MetadataOptions": { "HttpTokens": "required", "HttpPutResponseHopLimit": 2, "HttpEndpoint": "enabled" },
                },
                "Tags": b.tags(NodePools),
            }),
        );
        let mut group = json!({
            "clusterName": r(cluster_addr, "name"),
            "nodegroupName": pool.name,
            "nodeRole": r(node_role, "arn"),
            "subnets": net.private_subnets,
            "scalingConfig": { "minSize": pool.min, "maxSize": pool.max, "desiredSize": pool.min },
            "instanceTypes": [pool.instance_type],
            "amiType": if pool.gpu { "AL2023_x86_64_NVIDIA" } else { "AL2023_x86_64_STANDARD" },
            "capacityType": "ON_DEMAND",
            // The nodes follow the cluster's version (EKS upgrades a node group after its
            // cluster, never beyond it).
            "version": p.spec.cluster.kubernetes_version,
            "launchTemplate": { "name": format!("{prefix}-{}", pool.name), "version": r(&lt, "latest_version") },
            "labels": { "union.ai/node-pool": pool.name },
            "taints": [],
            "tags": b.tags(NodePools),
        });
        if pool.gpu {
            group["taints"] =
                json!([{ "key": GPU_TAINT.0, "value": GPU_TAINT.1, "effect": "NO_SCHEDULE" }]);
        }
        b.managed(
            "aws.eks_node_group",
            &pool.name,
            pool.name.clone(),
            NodePools,
            &[EncryptionAtRest],
            group,
        );
    }
}

/// The cluster side of the workload identities: the Pod Identity agent, and one
/// association per service account (Union.ai's in BYOC: it binds, it never trusts).
fn pod_identity(b: &mut Builder<'_>, cluster_addr: &str, workload_roles: &[WorkloadRole]) {
    let agent = b.managed(
        "aws.eks_addon",
        "pod_identity_agent",
        "eks-pod-identity-agent",
        Cluster,
        &[TenantIsolation],
        json!({ "clusterName": r(cluster_addr, "name"), "addonName": "eks-pod-identity-agent", "tags": b.tags(Cluster) }),
    );
    for (role, ns, sas) in workload_roles {
        for sa in sas {
            let name = format!(
                "{}_{}",
                role.rsplit('.')
                    .next()
                    .unwrap_or("role")
                    .trim_start_matches("workload_"),
                address_name(sa)
            );
            let association = b.managed(
                "aws.eks_pod_identity_association",
                &name,
                format!("{ns}/{sa}"),
                Cluster,
                &[TenantIsolation],
                json!({
                    "clusterName": r(cluster_addr, "name"),
                    "namespace": ns,
                    "serviceAccount": sa,
                    "roleArn": r(role, "arn"),
                    "tags": b.tags(Cluster),
                }),
            );
            b.order_after(&association, &agent);
        }
    }
}

/// BYOC: the private path for the cluster API: internal NLB → target group → endpoint
/// service that only Union.ai's account may connect to, each connection accepted by hand.
fn private_connection(b: &mut Builder<'_>, prefix: &str, cluster_addr: &str, net: &Network) {
    let p = b.profile;
    let union_account = p
        .spec
        .union
        .as_ref()
        .map_or(UNION_AWS_ACCOUNT_ID.to_string(), |u| {
            u.aws_account_id.clone()
        });
    let lb_name = elb_name(prefix, "api");
    let lb = b.managed(
        "aws.lb",
        "api",
        lb_name.clone(),
        PrivateConnection,
        &[OutboundOnly, PrivateEndpoint],
        json!({
            "Name": lb_name,
            "Type": "network",
            "Scheme": "internal",
            "IpAddressType": "ipv4",
            "Subnets": net.private_subnets,
            "Tags": b.tags(PrivateConnection),
        }),
    );
    let tg = b.managed(
        "aws.lb_target_group",
        "api",
        lb_name.clone(),
        PrivateConnection,
        &[OutboundOnly],
        json!({
            "Name": lb_name,
            "Protocol": "TCP",
            "Port": 443,
            "VpcId": net.vpc_id,
            "TargetType": "ip",
            "HealthCheckProtocol": "TCP",
            "Targets": r(cluster_addr, "endpoint_ips"),
            "Tags": b.tags(PrivateConnection),
        }),
    );
    b.managed(
        "aws.lb_listener",
        "api",
        format!("{lb_name}:443"),
        PrivateConnection,
        &[OutboundOnly],
        json!({
            "LoadBalancerArn": r(&lb, "arn"),
            "Protocol": "TCP",
            "Port": 443,
            "DefaultActions": [{ "Type": "forward", "TargetGroupArn": r(&tg, "arn") }],
            "Tags": b.tags(PrivateConnection),
        }),
    );
    b.managed(
        "aws.vpc_endpoint_service",
        "api",
        format!("{prefix}-api"),
        PrivateConnection,
        &[OutboundOnly, PrivateEndpoint],
        json!({
            "NetworkLoadBalancerArns": [r(&lb, "arn")],
            "AcceptanceRequired": true,
            "AllowedPrincipals": [format!("arn:aws:iam::{union_account}:root")],
            "Tags": b.tags(PrivateConnection),
        }),
    );
}

const BUCKET_CONTROLS: &[Invariant] = &[EncryptionAtRest, EncryptionInTransit, NoPublicBuckets];

/// ELB names are at most 32 characters.
fn elb_name(prefix: &str, suffix: &str) -> String {
    let keep = 32 - suffix.len() - 1;
    let mut head: String = prefix.chars().take(keep).collect();
    while head.ends_with('-') {
        head.pop();
    }
    format!("{head}-{suffix}")
}

fn network(b: &mut Builder<'_>, region: &str) -> Network {
    let p = b.profile;
    let prefix = b.prefix().to_string();
    if let Some(existing) = &p.spec.network.existing {
        let vpc = b.data(
            "aws.vpc",
            "existing",
            existing.network_id.clone(),
            Network,
            json!({ "VpcId": existing.network_id }),
        );
        let subnets: Vec<Value> = existing
            .subnet_ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let s = b.data(
                    "aws.subnet",
                    &format!("existing_{i}"),
                    id.clone(),
                    Network,
                    json!({ "SubnetId": id }),
                );
                r(&s, "id")
            })
            .collect();
        let tables = b.data(
            "aws.route_tables",
            "existing",
            existing.network_id.clone(),
            Network,
            json!({ "Filters": [{ "Name": "association.subnet-id", "Values": existing.subnet_ids }] }),
        );
        let net = Network {
            vpc_id: r(&vpc, "id"),
            private_subnets: subnets,
            private_route_tables: r(&tables, "ids"),
            cidr: r(&vpc, "cidr_block")
                .as_str()
                .unwrap_or_default()
                .to_string(),
        };
        endpoints_and_security(b, region, &net);
        return net;
    }

    let cidr: Ipv4Net = p
        .spec
        .network
        .cidr
        .parse()
        .unwrap_or_else(|_| "10.0.0.0/16".parse().expect("literal"));
    let zones = zone_names(p.spec.cloud.provider, region, p.spec.network.zones);
    // Private subnets: the first three quarters of the range, one quarter each; public
    // subnets (NAT only): sixteenths of the last quarter.
    let quarters: Vec<Ipv4Net> = cidr
        .subnets(cidr.prefix_len() + 2)
        .map(|s| s.collect())
        .unwrap_or_default();
    let publics: Vec<Ipv4Net> = quarters
        .last()
        .and_then(|q| q.subnets(cidr.prefix_len() + 4).ok())
        .map(|s| s.collect())
        .unwrap_or_default();

    let vpc = b.managed(
        "aws.vpc",
        "main",
        prefix.clone(),
        Network,
        &[OutboundOnly],
        json!({ "CidrBlock": cidr.to_string(), "EnableDnsSupport": true, "EnableDnsHostnames": true, "Tags": b.tags(Network) }),
    );
    let mut private_subnets = Vec::new();
    let mut public_subnets = Vec::new();
    for (i, zone) in zones.iter().enumerate() {
        let letter = zone.chars().last().unwrap_or('a');
        let mut tags = b.tags(Network);
        tags["kubernetes.io/role/internal-elb"] = json!("1");
        let s = b.managed(
            "aws.subnet",
            &format!("private_{letter}"),
            format!("{prefix}-private-{letter}"),
            Network,
            &[OutboundOnly],
            json!({
                "VpcId": r(&vpc, "id"),
                "CidrBlock": quarters.get(i).map(|c| c.to_string()),
                "AvailabilityZone": zone,
                "MapPublicIpOnLaunch": false,
                "Tags": tags,
            }),
        );
        private_subnets.push(r(&s, "id"));
        let s = b.managed(
            "aws.subnet",
            &format!("public_{letter}"),
            format!("{prefix}-public-{letter}"),
            Network,
            &[OutboundOnly],
            json!({
                "VpcId": r(&vpc, "id"),
                "CidrBlock": publics.get(i).map(|c| c.to_string()),
                "AvailabilityZone": zone,
                "MapPublicIpOnLaunch": false,
                "Tags": b.tags(Network),
            }),
        );
        public_subnets.push(r(&s, "id"));
    }
    let igw = b.managed(
        "aws.internet_gateway",
        "main",
        prefix.clone(),
        Network,
        &[],
        json!({ "VpcId": r(&vpc, "id"), "Tags": b.tags(Network) }),
    );
    let eip = b.managed(
        "aws.eip",
        "nat",
        format!("{prefix}-nat"),
        Network,
        &[],
        json!({ "Domain": "vpc", "Tags": b.tags(Network) }),
    );
    let nat = b.managed(
        "aws.nat_gateway",
        "main",
        prefix.clone(),
        Network,
        &[OutboundOnly],
        json!({
            "SubnetId": public_subnets[0],
            "AllocationId": r(&eip, "id"),
            "ConnectivityType": "public",
            "Tags": b.tags(Network),
        }),
    );
    b.order_after(&nat, &igw);
    b.managed(
        "aws.route_table",
        "public",
        format!("{prefix}-public"),
        Network,
        &[],
        json!({
            "VpcId": r(&vpc, "id"),
            "Routes": [{ "DestinationCidrBlock": "0.0.0.0/0", "GatewayId": r(&igw, "id") }],
            "SubnetIds": public_subnets,
            "Tags": b.tags(Network),
        }),
    );
    let private_rt = b.managed(
        "aws.route_table",
        "private",
        format!("{prefix}-private"),
        Network,
        &[OutboundOnly],
        json!({
            "VpcId": r(&vpc, "id"),
            "Routes": [{ "DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": r(&nat, "id") }],
            "SubnetIds": private_subnets,
            "Tags": b.tags(Network),
        }),
    );
    let net = Network {
        vpc_id: r(&vpc, "id"),
        private_subnets,
        private_route_tables: json!([r(&private_rt, "id")]),
        cidr: cidr.to_string(),
    };
    endpoints_and_security(b, region, &net);
    net
}

/// Security groups and VPC endpoints: created in a new or an existing VPC alike.
fn endpoints_and_security(b: &mut Builder<'_>, region: &str, net: &Network) {
    let p = b.profile;
    let prefix = b.prefix().to_string();
    let vpc_cidr = net.cidr.clone();
    let mut egress: Vec<Value> = EGRESS_PORTS
        .iter()
        .map(|(proto, port)| json!({ "IpProtocol": proto, "FromPort": port, "ToPort": port, "IpRanges": [{ "CidrIp": "0.0.0.0/0", "Description": "egress to the control plane and tunnel" }] }))
        .collect();
    egress.push(json!({ "IpProtocol": "-1", "IpRanges": [{ "CidrIp": vpc_cidr, "Description": "inside the VPC" }] }));
    let mut ingress = vec![
        json!({ "IpProtocol": "-1", "UserIdGroupPairs": [{ "GroupId": "self", "Description": "node to node" }] }),
    ];
    for rule in &p.spec.network.ingress {
        let proto = match rule.protocol {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        };
        ingress.push(json!({ "IpProtocol": proto, "FromPort": rule.port, "ToPort": rule.port, "IpRanges": [{ "CidrIp": rule.cidr, "Description": "from the profile's network.ingress" }] }));
    }
    b.managed(
        "aws.security_group",
        "cluster",
        format!("{prefix}-cluster"),
        Network,
        &[OutboundOnly],
        json!({
            "GroupName": format!("{prefix}-cluster"),
            "Description": "unionctl data plane: no ingress from the internet; egress 443 and 7844 only",
            "VpcId": net.vpc_id,
            "IpPermissions": ingress,
            "IpPermissionsEgress": egress,
            "Tags": b.tags(Network),
        }),
    );
    let endpoint_sg = b.managed(
        "aws.security_group",
        "endpoints",
        format!("{prefix}-endpoints"),
        Network,
        &[OutboundOnly],
        json!({
            "GroupName": format!("{prefix}-endpoints"),
            "Description": "unionctl data plane: VPC interface endpoints, HTTPS from the VPC only",
            "VpcId": net.vpc_id,
            "IpPermissions": [{ "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{ "CidrIp": vpc_cidr, "Description": "HTTPS from the VPC" }] }],
            "IpPermissionsEgress": [],
            "Tags": b.tags(Network),
        }),
    );
    b.managed(
        "aws.vpc_endpoint",
        "s3",
        format!("{prefix}-s3"),
        Network,
        &[OutboundOnly],
        json!({
            "VpcEndpointType": "Gateway",
            "ServiceName": format!("com.amazonaws.{region}.s3"),
            "VpcId": net.vpc_id,
            "RouteTableIds": net.private_route_tables,
            "Tags": b.tags(Network),
        }),
    );
    for service in INTERFACE_ENDPOINTS {
        b.managed(
            "aws.vpc_endpoint",
            service,
            format!("{prefix}-{service}"),
            Network,
            &[OutboundOnly],
            json!({
                "VpcEndpointType": "Interface",
                "ServiceName": format!("com.amazonaws.{region}.{service}"),
                "VpcId": net.vpc_id,
                "SubnetIds": net.private_subnets,
                "SecurityGroupIds": [r(&endpoint_sg, "id")],
                "PrivateDnsEnabled": true,
                "Tags": b.tags(Network),
            }),
        );
    }
}

/// The audit bucket, CloudTrail trail and VPC flow logs (invariant 8).
fn audit(b: &mut Builder<'_>, key_arn: Option<&Value>, net: &Network, account: &str) {
    let p = b.profile;
    let prefix = b.prefix().to_string();
    let need_bucket = p.spec.audit.trail == "create" || p.spec.audit.flow_logs;
    if !need_bucket {
        return;
    }
    let name = names::audit_bucket(p);
    let bucket_arn = format!("arn:aws:s3:::{name}");
    let delivery = json!([
        {
            "Sid": "CloudTrailAclCheck",
            "Effect": "Allow",
            "Principal": { "Service": "cloudtrail.amazonaws.com" },
            "Action": "s3:GetBucketAcl",
            "Resource": bucket_arn,
        },
        {
            "Sid": "CloudTrailWrite",
            "Effect": "Allow",
            "Principal": { "Service": "cloudtrail.amazonaws.com" },
            "Action": "s3:PutObject",
            "Resource": format!("{bucket_arn}/AWSLogs/{account}/*"),
            "Condition": { "StringEquals": { "aws:SourceAccount": account } },
        },
        {
            "Sid": "FlowLogsWrite",
            "Effect": "Allow",
            "Principal": { "Service": "delivery.logs.amazonaws.com" },
            "Action": "s3:PutObject",
            "Resource": format!("{bucket_arn}/AWSLogs/{account}/vpcflowlogs/*"),
            "Condition": { "StringEquals": { "aws:SourceAccount": account } },
        }
    ]);
    let settings = bucket_settings(b, &name, key_arn, false, Some(delivery));
    let bucket = b.managed(
        "aws.s3_bucket",
        "audit_logs",
        name.clone(),
        Account,
        &[
            EncryptionAtRest,
            EncryptionInTransit,
            NoPublicBuckets,
            AuditLogging,
        ],
        settings,
    );

    match p.spec.audit.trail.as_str() {
        "create" => {
            let mut trail = json!({
                "Name": format!("{prefix}-trail"),
                "S3BucketName": r(&bucket, "name"),
                "IsMultiRegionTrail": true,
                "IncludeGlobalServiceEvents": true,
                "EnableLogFileValidation": true,
                "IsLogging": true,
                "Tags": b.tags(Account),
            });
            if let Some(k) = key_arn {
                trail["KmsKeyId"] = k.clone();
            }
            b.managed(
                "aws.cloudtrail",
                "main",
                format!("{prefix}-trail"),
                Account,
                &[AuditLogging, EncryptionAtRest],
                trail,
            );
        }
        existing => {
            b.data(
                "aws.cloudtrail",
                "existing",
                existing,
                Account,
                json!({ "Name": existing }),
            );
        }
    }
    if p.spec.audit.flow_logs {
        b.managed(
            "aws.flow_log",
            "vpc",
            format!("{prefix}-vpc"),
            Network,
            &[AuditLogging],
            json!({
                "ResourceType": "VPC",
                "ResourceIds": [net.vpc_id],
                "TrafficType": "ALL",
                "LogDestinationType": "s3",
                // Flow logs land under AWSLogs/<account>/vpcflowlogs/, beside the trail's files.
                "LogDestination": r(&bucket, "arn"),
                "MaxAggregationInterval": 600,
                "Tags": b.tags(Network),
            }),
        );
    }
}

/// Every setting a bucket needs for invariants 2-4 (encryption, TLS, no public access).
fn bucket_settings(
    b: &Builder<'_>,
    name: &str,
    key_arn: Option<&Value>,
    cors: bool,
    extra_statements: Option<Value>,
) -> Value {
    let p = b.profile;
    let arn = format!("arn:aws:s3:::{name}");
    let block = p.spec.storage.block_public_access;
    let mut statements = vec![
        json!({
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [arn, format!("{arn}/*")],
            "Condition": { "Bool": { "aws:SecureTransport": "false" } }
        }),
        json!({
            "Sid": "DenyOutdatedTls",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [arn, format!("{arn}/*")],
            "Condition": { "NumericLessThan": { "s3:TlsVersion": p.spec.storage.minimum_tls_version } }
        }),
    ];
    if let Some(Value::Array(extra)) = extra_statements {
        statements.extend(extra);
    }
    let mut s = json!({
        "Bucket": name,
        "ObjectOwnership": "BucketOwnerEnforced",
        "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": block, "IgnorePublicAcls": block, "BlockPublicPolicy": block, "RestrictPublicBuckets": block
        },
        "VersioningConfiguration": { "Status": "Enabled" },
        "ServerSideEncryptionConfiguration": key_arn.map_or(Value::Null, |k| json!({
            "Rules": [{ "ApplyServerSideEncryptionByDefault": { "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": k }, "BucketKeyEnabled": true }]
        })),
        "Policy": { "Version": "2012-10-17", "Statement": statements },
        "Tags": b.tags(Storage),
    });
    if p.spec.cloud.region != "us-east-1" {
        s["CreateBucketConfiguration"] = json!({ "LocationConstraint": p.spec.cloud.region });
    }
    if cors {
        s["CORSConfiguration"] = json!({ "CORSRules": [{
            "AllowedOrigins": ["https://*.unionai.cloud"],
            "AllowedMethods": ["GET", "PUT", "HEAD"],
            "AllowedHeaders": ["*"],
            "ExposeHeaders": ["ETag"],
            "MaxAgeSeconds": 3000
        }]});
    }
    s
}

fn service_trust(service: &str, actions: &[&str]) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{ "Effect": "Allow", "Principal": { "Service": service }, "Action": actions }]
    })
}

/// Read/write on this data plane's buckets only (invariant 7); a tenant's identity only
/// under its namespace's prefix in each bucket (invariant 9).
fn bucket_access_policy(
    bucket_arns: &[String],
    objects: &[String],
    namespace: Option<&str>,
    key_arn: Option<&Value>,
) -> Value {
    let mut list = json!({ "Sid": "ListOwnBuckets", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket_arns });
    if let Some(ns) = namespace {
        list["Sid"] = json!("ListOwnPrefix");
        list["Condition"] = json!({ "StringLike": { "s3:prefix": [format!("{ns}/*"), ns] } });
    }
    let mut statements = vec![
        list,
        json!({ "Sid": "LocateOwnBuckets", "Effect": "Allow", "Action": "s3:GetBucketLocation", "Resource": bucket_arns }),
        json!({ "Sid": "ReadWriteOwnObjects", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"], "Resource": objects }),
    ];
    if let Some(k) = key_arn {
        // Only for S3's own use of the key (SSE-KMS on these buckets).
        statements.push(json!({
            "Sid": "UseDataPlaneKeyThroughS3",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": k,
            "Condition": { "StringLike": { "kms:ViaService": "s3.*.amazonaws.com" } }
        }));
    }
    json!({ "Version": "2012-10-17", "Statement": statements })
}

fn key_policy(account: &str, region: &str, prefix: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministers",
                "Effect": "Allow",
                "Principal": { "AWS": format!("arn:aws:iam::{account}:root") },
                "Action": "kms:*",
                "Resource": "*"
            },
            {
                "Sid": "CloudTrailEncrypts",
                "Effect": "Allow",
                "Principal": { "Service": "cloudtrail.amazonaws.com" },
                "Action": "kms:GenerateDataKey*",
                "Resource": "*",
                "Condition": { "StringLike": { "kms:EncryptionContext:aws:cloudtrail:arn": format!("arn:aws:cloudtrail:*:{account}:trail/{prefix}-trail") } }
            },
            {
                // DescribeKey carries no encryption context: it is bound to the trail instead.
                "Sid": "CloudTrailDescribesKey",
                "Effect": "Allow",
                "Principal": { "Service": "cloudtrail.amazonaws.com" },
                "Action": "kms:DescribeKey",
                "Resource": "*",
                "Condition": { "StringEquals": { "aws:SourceArn": format!("arn:aws:cloudtrail:{region}:{account}:trail/{prefix}-trail") } }
            },
            {
                "Sid": "FlowLogsEncrypt",
                "Effect": "Allow",
                "Principal": { "Service": "delivery.logs.amazonaws.com" },
                "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
                "Resource": "*",
                "Condition": { "StringEquals": { "aws:SourceAccount": account, "kms:ViaService": format!("s3.{region}.amazonaws.com") } }
            }
        ]
    })
}

/// What Union.ai's admin identity may do (docs/security.md): run this data plane's
/// cluster, node groups, add-ons, Pod Identity associations and private connection, and
/// read what it needs of the rest. It creates only resources that carry this data plane's
/// tags with owner `union`, tags only while creating, changes only what carries those
/// tags, passes only this data plane's roles, and can author no trust policy.
fn admin_policy(
    account: &str,
    region: &str,
    prefix: &str,
    cluster_role: &str,
    node_role: &str,
    workload_roles: &[Value],
    key_arn: Option<&Value>,
) -> Value {
    let ours = |key: &str| {
        json!({
            format!("{key}/{TAG_DATA_PLANE}"): prefix,
            format!("{key}/{TAG_OWNER}"): "union",
        })
    };
    let eks = |kind: &str| format!("arn:aws:eks:{region}:{account}:{kind}");
    let lb = elb_name(prefix, "api");
    let elb = |kind: &str| format!("arn:aws:elasticloadbalancing:{region}:{account}:{kind}");
    let network_pieces = json!([
        format!("arn:aws:ec2:{region}:{account}:launch-template/*"),
        format!("arn:aws:ec2:{region}:{account}:vpc-endpoint-service/*"),
        elb(&format!("loadbalancer/net/{lb}/*")),
        elb(&format!("targetgroup/{lb}/*")),
        elb(&format!("listener/net/{lb}/*/*")),
    ]);
    let mut statements = vec![
        json!({
            "Sid": "DescribeWhatHasNoResourceLevel",
            "Effect": "Allow",
            "Action": ["ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeRouteTables", "ec2:DescribeVpcEndpoints",
                       "ec2:DescribeVpcEndpointServiceConfigurations", "ec2:DescribeVpcEndpointServicePermissions", "ec2:DescribeVpcEndpointConnections",
                       "ec2:DescribeLaunchTemplates", "ec2:DescribeLaunchTemplateVersions", "ec2:DescribeNetworkInterfaces", "ec2:DescribeAvailabilityZones",
                       "elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeListeners",
                       "elasticloadbalancing:DescribeTargetHealth", "elasticloadbalancing:DescribeTags", "eks:ListClusters", "eks:DescribeAddonVersions", "kms:ListAliases"],
            "Resource": "*"
        }),
        json!({
            "Sid": "ReadOwnRolesAndKey",
            "Effect": "Allow",
            "Action": ["iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:ListRoleTags"],
            "Resource": format!("arn:aws:iam::{account}:role/{prefix}-*")
        }),
        json!({
            "Sid": "CreateOwnCluster",
            "Effect": "Allow",
            "Action": "eks:CreateCluster",
            "Resource": "*",
            "Condition": { "StringEquals": ours("aws:RequestTag") }
        }),
        json!({
            "Sid": "RunOwnCluster",
            "Effect": "Allow",
            "Action": ["eks:DescribeCluster", "eks:UpdateClusterConfig", "eks:UpdateClusterVersion", "eks:DeleteCluster", "eks:DescribeUpdate", "eks:ListUpdates",
                       "eks:CreateNodegroup", "eks:ListNodegroups", "eks:CreateAccessEntry", "eks:ListAccessEntries", "eks:CreateAddon", "eks:ListAddons",
                       "eks:CreatePodIdentityAssociation", "eks:ListPodIdentityAssociations"],
            "Resource": eks(&format!("cluster/{prefix}"))
        }),
        json!({
            "Sid": "RunOwnClusterParts",
            "Effect": "Allow",
            "Action": ["eks:DescribeNodegroup", "eks:UpdateNodegroupConfig", "eks:UpdateNodegroupVersion", "eks:DeleteNodegroup",
                       "eks:DescribeAccessEntry", "eks:UpdateAccessEntry", "eks:DeleteAccessEntry", "eks:AssociateAccessPolicy", "eks:DisassociateAccessPolicy", "eks:ListAssociatedAccessPolicies",
                       "eks:DescribeAddon", "eks:UpdateAddon", "eks:DeleteAddon",
                       "eks:DescribePodIdentityAssociation", "eks:UpdatePodIdentityAssociation", "eks:DeletePodIdentityAssociation"],
            "Resource": [eks(&format!("nodegroup/{prefix}/*")), eks(&format!("access-entry/{prefix}/*")), eks(&format!("addon/{prefix}/*")), eks(&format!("podidentityassociation/{prefix}/*"))]
        }),
        json!({
            // Tags on its own EKS resources only with this data plane's ownership values:
            // they can be restated, never changed or removed.
            "Sid": "TagOwnClusterResourcesAsOurs",
            "Effect": "Allow",
            "Action": "eks:TagResource",
            "Resource": [eks(&format!("cluster/{prefix}")), eks(&format!("nodegroup/{prefix}/*")), eks(&format!("addon/{prefix}/*")), eks(&format!("podidentityassociation/{prefix}/*")), eks(&format!("access-entry/{prefix}/*"))],
            "Condition": { "StringEquals": ours("aws:RequestTag") }
        }),
        json!({
            "Sid": "ServiceLinkedRolesOfEksAndElb",
            "Effect": "Allow",
            "Action": "iam:CreateServiceLinkedRole",
            "Resource": "*",
            "Condition": { "StringEquals": { "iam:AWSServiceName": ["eks.amazonaws.com", "eks-nodegroup.amazonaws.com", "elasticloadbalancing.amazonaws.com"] } }
        }),
        json!({
            "Sid": "PassClusterAndNodeRolesToEks",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": [r(cluster_role, "arn"), r(node_role, "arn")],
            "Condition": { "StringEquals": { "iam:PassedToService": "eks.amazonaws.com" } }
        }),
        json!({
            "Sid": "PassWorkloadRolesToPodIdentity",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": workload_roles,
            "Condition": { "StringEquals": { "iam:PassedToService": "pods.eks.amazonaws.com" } }
        }),
        json!({
            "Sid": "CreateOwnNetworkPieces",
            "Effect": "Allow",
            "Action": ["ec2:CreateLaunchTemplate", "ec2:CreateVpcEndpointServiceConfiguration", "elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup", "elasticloadbalancing:CreateListener"],
            "Resource": network_pieces,
            "Condition": { "StringEquals": ours("aws:RequestTag") }
        }),
        json!({
            // Tagging only as part of those creates: an existing resource can never be tagged
            // into Union.ai's reach, and no unionctl tag can be changed afterwards.
            "Sid": "TagOnlyWhileCreatingEc2",
            "Effect": "Allow",
            "Action": "ec2:CreateTags",
            "Resource": [format!("arn:aws:ec2:{region}:{account}:launch-template/*"), format!("arn:aws:ec2:{region}:{account}:vpc-endpoint-service/*")],
            "Condition": { "StringEquals": { "ec2:CreateAction": ["CreateLaunchTemplate", "CreateVpcEndpointServiceConfiguration"] } }
        }),
        json!({
            "Sid": "TagOnlyWhileCreatingElb",
            "Effect": "Allow",
            "Action": "elasticloadbalancing:AddTags",
            "Resource": [elb(&format!("loadbalancer/net/{lb}/*")), elb(&format!("targetgroup/{lb}/*")), elb(&format!("listener/net/{lb}/*/*"))],
            "Condition": { "StringEquals": { "elasticloadbalancing:CreateAction": ["CreateLoadBalancer", "CreateTargetGroup", "CreateListener"] } }
        }),
        json!({
            // A later edit of the profile's tags reaches its own launch templates, endpoint
            // service and load balancer pieces: only what already carries Union.ai's
            // ownership, restating it unchanged.
            "Sid": "RetagOwnNetworkPiecesAsOurs",
            "Effect": "Allow",
            "Action": ["ec2:CreateTags", "elasticloadbalancing:AddTags"],
            "Resource": network_pieces,
            "Condition": { "StringEquals": {
                format!("aws:ResourceTag/{TAG_DATA_PLANE}"): prefix,
                format!("aws:ResourceTag/{TAG_OWNER}"): "union",
                format!("aws:RequestTag/{TAG_DATA_PLANE}"): prefix,
                format!("aws:RequestTag/{TAG_OWNER}"): "union",
            } }
        }),
        json!({
            "Sid": "ChangeOnlyWhatUnionAiOwns",
            "Effect": "Allow",
            "Action": ["ec2:DeleteLaunchTemplate", "ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate",
                       "ec2:ModifyVpcEndpointServicePermissions", "ec2:ModifyVpcEndpointServiceConfiguration", "ec2:AcceptVpcEndpointConnections",
                       "ec2:RejectVpcEndpointConnections", "ec2:DeleteVpcEndpointServiceConfigurations",
                       "elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:DeleteTargetGroup",
                       "elasticloadbalancing:ModifyTargetGroup", "elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:RegisterTargets",
                       "elasticloadbalancing:DeregisterTargets", "elasticloadbalancing:DeleteListener", "elasticloadbalancing:ModifyListener"],
            "Resource": network_pieces,
            "Condition": { "StringEquals": ours("aws:ResourceTag") }
        }),
    ];
    if let Some(k) = key_arn {
        statements.push(json!({
            "Sid": "ReadDataPlaneKey",
            "Effect": "Allow",
            "Action": ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"],
            "Resource": k
        }));
        statements.push(json!({
            // Grants only for an AWS service acting for the cluster (EKS envelope encryption,
            // EBS volumes of the nodes), never to a principal of Union.ai's choice.
            "Sid": "GrantDataPlaneKeyToAwsServices",
            "Effect": "Allow",
            "Action": "kms:CreateGrant",
            "Resource": k,
            "Condition": { "Bool": { "kms:GrantIsForAWSResource": "true" } }
        }));
    }
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// Settings whose change the AWS APIs cannot make in place: the resource is replaced.
pub const REPLACE: &[(&str, &str)] = &[
    ("aws.vpc", "/CidrBlock"),
    ("aws.subnet", "/CidrBlock"),
    ("aws.subnet", "/AvailabilityZone"),
    ("aws.subnet", "/VpcId"),
    ("aws.security_group", "/GroupName"),
    ("aws.security_group", "/Description"),
    ("aws.security_group", "/VpcId"),
    ("aws.vpc_endpoint", "/ServiceName"),
    ("aws.vpc_endpoint", "/VpcId"),
    ("aws.vpc_endpoint", "/VpcEndpointType"),
    ("aws.nat_gateway", "/SubnetId"),
    ("aws.nat_gateway", "/AllocationId"),
    ("aws.eks_cluster", "/name"),
    ("aws.eks_cluster", "/encryptionConfig"),
    ("aws.eks_cluster", "/kubernetesNetworkConfig"),
    ("aws.eks_cluster", "/resourcesVpcConfig/subnetIds"),
    ("aws.eks_node_group", "/instanceTypes"),
    ("aws.eks_node_group", "/amiType"),
    ("aws.eks_node_group", "/subnets"),
    ("aws.eks_node_group", "/nodeRole"),
    ("aws.eks_node_group", "/capacityType"),
    ("aws.s3_bucket", "/Bucket"),
    ("aws.kms_key", "/KeySpec"),
    ("aws.kms_key", "/KeyUsage"),
    ("aws.iam_role", "/RoleName"),
    ("aws.lb", "/Name"),
    ("aws.lb", "/Scheme"),
    ("aws.lb", "/Type"),
    ("aws.lb", "/Subnets"),
    ("aws.lb_target_group", "/Name"),
    ("aws.lb_target_group", "/Port"),
    ("aws.lb_target_group", "/Protocol"),
    ("aws.lb_target_group", "/VpcId"),
    ("aws.lb_target_group", "/TargetType"),
];

/// Why apply never deletes or replaces a kind.
pub fn retains(kind: &str) -> Option<&'static str> {
    match kind {
        "aws.s3_bucket" => Some("it holds the data plane's objects"),
        "aws.kms_key" => Some("data encrypted with it would become unreadable"),
        "aws.eks_cluster" => Some("it runs every workload of the data plane"),
        _ => None,
    }
}

/// What an update in place renews (`CloudPlan::renewed_by_update`): a launch template's
/// update is a new version, which its node group then takes.
pub fn renewed_by_update(kind: &str) -> &'static [&'static str] {
    match kind {
        "aws.launch_template" => &["latest_version"],
        _ => &[],
    }
}

/// Changes EKS refuses outright (`CloudPlan::refuses_change`).
pub fn refuses_change(kind: &str, path: &str, before: &Value, after: &Value) -> Option<String> {
    crate::plan::kubernetes_version_step(
        kind,
        path,
        before,
        after,
        &[("aws.eks_cluster", "/version")],
    )
}
