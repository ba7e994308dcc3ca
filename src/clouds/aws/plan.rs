//! The AWS plan: field names as the AWS APIs spell them (EC2/IAM/S3 PascalCase,
//! EKS camelCase).

use ipnet::Ipv4Net;
use serde_json::{json, Value};

use crate::plan::builder::{r, Builder, GPU_TAINT, TAG_DATA_PLANE};
use crate::plan::invariants::Invariant::{self, *};
use crate::plan::ownership::Component::*;
use crate::profile::catalog::zone_names;
use crate::profile::names;
use crate::profile::schema::{EndpointAccess, Protocol, UNION_AWS_ACCOUNT_ID};

/// Interface endpoints a private EKS cluster needs so that nodes never leave the VPC for
/// AWS APIs.
pub const INTERFACE_ENDPOINTS: &[&str] =
    &["sts", "ecr.api", "ecr.dkr", "logs", "ec2", "eks", "eks-auth", "elasticloadbalancing", "autoscaling"];
/// Control-plane log types; all five are required (invariant 8).
pub const CLUSTER_LOG_TYPES: &[&str] = &["api", "audit", "authenticator", "controllerManager", "scheduler"];
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

pub fn build(b: &mut Builder<'_>) {
    let p = b.profile;
    let account = p.spec.cloud.aws.as_ref().map(|a| a.account_id.clone()).unwrap_or_default();
    let region = p.spec.cloud.region.clone();
    let prefix = b.prefix().to_string();

    // Encryption key (customer): create one with rotation, read an existing one, or none.
    let key_arn: Option<Value> = match p.spec.storage.encryption.key.as_str() {
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
                    "Policy": key_policy(&account, &region, &prefix),
                    "Tags": b.tags(Storage),
                }),
            );
            Some(r(&key, "arn"))
        }
        existing => {
            let key = b.data("aws.kms_key", "existing", existing, Storage, json!({ "KeyId": existing }));
            Some(r(&key, "arn"))
        }
    };

    let net = network(b, &region);
    audit(b, key_arn.as_ref(), &net, &account);

    // Buckets (customer).
    let mut bucket_arns = Vec::new();
    for logical in &p.spec.storage.buckets {
        let name = names::bucket(p, logical);
        let settings = bucket_settings(b, &name, key_arn.as_ref(), true, None);
        b.managed("aws.s3_bucket", logical, name.clone(), Storage, BUCKET_CONTROLS, settings);
        bucket_arns.push(format!("arn:aws:s3:::{name}"));
    }

    // Roles the cluster and nodes run as (customer: IAM policies are the account's).
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

    // BYOC: the admin identity Union.ai assumes, with the external ID, limited to this data
    // plane's resources; and the permissions boundary every workload role it creates carries.
    let mut boundary: Option<Value> = None;
    let mut admin_role: Option<String> = None;
    if b.byoc() {
        let union = p.spec.union.clone().unwrap_or_default();
        let external_id = match &union.external_id {
            Some(id) => json!(id),
            None => {
                let id = b.managed("local.external_id", "union", "external-id", AdminIdentity, &[AdminTrust], json!({ "length": 24 }));
                r(&id, "value")
            }
        };
        let boundary_addr = b.managed(
            "aws.iam_policy",
            "workload_boundary",
            format!("{prefix}-workload-boundary"),
            AdminIdentity,
            &[LeastPrivilege, TenantIsolation],
            json!({
                "PolicyName": format!("{prefix}-workload-boundary"),
                "Description": "Permissions boundary of every workload role the admin identity creates",
                "PolicyDocument": bucket_access_policy(&bucket_arns, key_arn.as_ref()),
                "Tags": b.tags(AdminIdentity),
            }),
        );
        boundary = Some(r(&boundary_addr, "arn"));
        let role = b.managed(
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
                    format!("{prefix}-union-ai-admin"): admin_policy(&account, &region, &prefix, &cluster_role, &node_role, &boundary_addr, key_arn.as_ref())
                },
                "Tags": b.tags(AdminIdentity),
            }),
        );
        admin_role = Some(role);
    }

    // The cluster (Union.ai in BYOC): private endpoint, secrets encrypted, all logs on.
    let public = p.spec.cluster.endpoint_access == EndpointAccess::PrivateAndPublic;
    let log_types: Vec<&str> = if p.spec.audit.cluster_logs { CLUSTER_LOG_TYPES.to_vec() } else { vec![] };
    let cluster_sg = r("aws.security_group.cluster", "id");
    let mut cluster = json!({
        "name": prefix,
        "version": p.spec.cluster.kubernetes_version,
        "roleArn": r(&cluster_role, "arn"),
        "resourcesVpcConfig": {
            "subnetIds": net.private_subnets,
            "securityGroupIds": [cluster_sg],
            "endpointPrivateAccess": true,
            "endpointPublicAccess": public,
        },
        "kubernetesNetworkConfig": { "serviceIpv4Cidr": p.spec.network.services_cidr, "ipFamily": "ipv4" },
        "encryptionConfig": key_arn.as_ref().map_or(json!([]), |k| json!([{ "resources": ["secrets"], "provider": { "keyArn": k } }])),
        "logging": { "clusterLogging": [
            { "types": log_types, "enabled": true }
        ]},
        "accessConfig": { "authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": true },
        "tags": b.tags(Cluster),
    });
    if public {
        cluster["resourcesVpcConfig"]["publicAccessCidrs"] = json!(["0.0.0.0/0"]);
    }
    let cluster_addr = b.managed("aws.eks_cluster", "main", prefix.clone(), Cluster, &[PrivateEndpoint, EncryptionAtRest, AuditLogging], cluster);
    b.order_after(&cluster_addr, "aws.security_group.cluster");

    if let Some(role) = &admin_role {
        b.managed(
            "aws.eks_access_entry",
            "union_admin",
            format!("{prefix}-union-ai-admin"),
            Cluster,
            &[AdminTrust],
            json!({
                "clusterName": r(&cluster_addr, "name"),
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

    // Node pools: a launch template per pool for encrypted gp3 disks and IMDSv2, then the
    // managed node group; GPU pools are tainted.
    for pool in &p.spec.cluster.node_pools {
        let ebs = match &key_arn {
            Some(k) => json!({ "VolumeSize": pool.disk_size_gib, "VolumeType": "gp3", "Encrypted": true, "KmsKeyId": k, "DeleteOnTermination": true }),
            None => json!({ "VolumeSize": pool.disk_size_gib, "VolumeType": "gp3", "Encrypted": false, "DeleteOnTermination": true }),
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
                    "BlockDeviceMappings": [{ "DeviceName": "/dev/xvda", "Ebs": ebs }],
                    "MetadataOptions": { "HttpTokens": "required", "HttpPutResponseHopLimit": 2, "HttpEndpoint": "enabled" },
                },
                "Tags": b.tags(NodePools),
            }),
        );
        let mut group = json!({
            "clusterName": r(&cluster_addr, "name"),
            "nodegroupName": pool.name,
            "nodeRole": r(&node_role, "arn"),
            "subnets": net.private_subnets,
            "scalingConfig": { "minSize": pool.min, "maxSize": pool.max, "desiredSize": pool.min },
            "instanceTypes": [pool.instance_type],
            "amiType": if pool.gpu { "AL2023_x86_64_NVIDIA" } else { "AL2023_x86_64_STANDARD" },
            "capacityType": "ON_DEMAND",
            "launchTemplate": { "name": format!("{prefix}-{}", pool.name), "version": r(&lt, "latest_version") },
            "labels": { "union.ai/node-pool": pool.name },
            "taints": [],
            "tags": b.tags(NodePools),
        });
        if pool.gpu {
            group["taints"] = json!([{ "key": GPU_TAINT.0, "value": GPU_TAINT.1, "effect": "NO_SCHEDULE" }]);
        }
        b.managed("aws.eks_node_group", &pool.name, pool.name.clone(), NodePools, &[EncryptionAtRest], group);
    }

    // Workload identities: IRSA roles whose trust names exact service accounts.
    let oidc = b.managed(
        "aws.iam_openid_connect_provider",
        "main",
        format!("{prefix}-oidc"),
        WorkloadIdentity,
        &[LeastPrivilege],
        json!({
            "Url": r(&cluster_addr, "oidc_issuer"),
            "ClientIDList": ["sts.amazonaws.com"],
            "Tags": b.tags(WorkloadIdentity),
        }),
    );
    let platform_subjects: Vec<String> =
        names::PLATFORM_SERVICE_ACCOUNTS.iter().map(|sa| format!("system:serviceaccount:{}:{sa}", names::PLATFORM_NAMESPACE)).collect();
    let task_subjects: Vec<String> = p
        .spec
        .tenancy
        .namespaces
        .iter()
        .map(|ns| format!("system:serviceaccount:{ns}:{}", names::TASK_SERVICE_ACCOUNT))
        .collect();
    for (name, subjects, description) in [
        ("backend", platform_subjects, "Union.ai platform components (namespace union)"),
        ("worker", task_subjects, "Task pods of the tenant namespaces"),
    ] {
        let mut role = json!({
            "RoleName": format!("{prefix}-workload-{name}"),
            "Description": description,
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": { "Federated": r(&oidc, "arn") },
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": { "StringEquals": {
                        format!("${{{oidc}.issuer_host}}:sub"): subjects,
                        format!("${{{oidc}.issuer_host}}:aud"): "sts.amazonaws.com"
                    }}
                }]
            },
            "Policies": { format!("{prefix}-workload-{name}-buckets"): bucket_access_policy(&bucket_arns, key_arn.as_ref()) },
            "Tags": b.tags(WorkloadIdentity),
        });
        if let Some(boundary) = &boundary {
            role["PermissionsBoundary"] = boundary.clone();
        }
        b.managed("aws.iam_role", &format!("workload_{name}"), format!("{prefix}-workload-{name}"), WorkloadIdentity, &[LeastPrivilege, TenantIsolation], role);
    }

    // BYOC: the private path for the cluster API: internal NLB → target group → endpoint
    // service that only Union.ai's account may connect to, each connection accepted by hand.
    if b.byoc() {
        let union_account = p.spec.union.as_ref().map_or(UNION_AWS_ACCOUNT_ID.to_string(), |u| u.aws_account_id.clone());
        let lb_name = elb_name(&prefix, "api");
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
                "Targets": r(&cluster_addr, "endpoint_ips"),
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
        let vpc = b.data("aws.vpc", "existing", existing.network_id.clone(), Network, json!({ "VpcId": existing.network_id }));
        let subnets: Vec<Value> = existing
            .subnet_ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let s = b.data("aws.subnet", &format!("existing_{i}"), id.clone(), Network, json!({ "SubnetId": id }));
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
        let net = Network { vpc_id: r(&vpc, "id"), private_subnets: subnets, private_route_tables: r(&tables, "ids"), cidr: r(&vpc, "cidr_block").as_str().unwrap_or_default().to_string() };
        endpoints_and_security(b, region, &net);
        return net;
    }

    let cidr: Ipv4Net = p.spec.network.cidr.parse().unwrap_or_else(|_| "10.0.0.0/16".parse().expect("literal"));
    let zones = zone_names(p.spec.cloud.provider, region, p.spec.network.zones);
    // Private subnets: the first three quarters of the range, one quarter each; public
    // subnets (NAT only): sixteenths of the last quarter.
    let quarters: Vec<Ipv4Net> = cidr.subnets(cidr.prefix_len() + 2).map(|s| s.collect()).unwrap_or_default();
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
    let igw = b.managed("aws.internet_gateway", "main", prefix.clone(), Network, &[], json!({ "VpcId": r(&vpc, "id"), "Tags": b.tags(Network) }));
    let eip = b.managed("aws.eip", "nat", format!("{prefix}-nat"), Network, &[], json!({ "Domain": "vpc", "Tags": b.tags(Network) }));
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
    let net = Network { vpc_id: r(&vpc, "id"), private_subnets, private_route_tables: json!([r(&private_rt, "id")]), cidr: cidr.to_string() };
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
    let mut ingress = vec![json!({ "IpProtocol": "-1", "UserIdGroupPairs": [{ "GroupId": "self", "Description": "node to node" }] })];
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
    let bucket = b.managed("aws.s3_bucket", "audit_logs", name.clone(), Account, &[EncryptionAtRest, EncryptionInTransit, NoPublicBuckets, AuditLogging], settings);

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
            b.managed("aws.cloudtrail", "main", format!("{prefix}-trail"), Account, &[AuditLogging, EncryptionAtRest], trail);
        }
        existing => {
            b.data("aws.cloudtrail", "existing", existing, Account, json!({ "Name": existing }));
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
fn bucket_settings(b: &Builder<'_>, name: &str, key_arn: Option<&Value>, cors: bool, extra_statements: Option<Value>) -> Value {
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

/// Read/write on this data plane's buckets only (invariants 7 and 9).
fn bucket_access_policy(bucket_arns: &[String], key_arn: Option<&Value>) -> Value {
    let objects: Vec<String> = bucket_arns.iter().map(|a| format!("{a}/*")).collect();
    let mut statements = vec![
        json!({ "Sid": "ListOwnBuckets", "Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetBucketLocation"], "Resource": bucket_arns }),
        json!({ "Sid": "ReadWriteOwnObjects", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"], "Resource": objects }),
    ];
    if let Some(k) = key_arn {
        statements.push(json!({ "Sid": "UseDataPlaneKey", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": k }));
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
                "Action": ["kms:GenerateDataKey*", "kms:DescribeKey"],
                "Resource": "*",
                "Condition": { "StringLike": { "kms:EncryptionContext:aws:cloudtrail:arn": format!("arn:aws:cloudtrail:*:{account}:trail/{prefix}-trail") } }
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

/// What Union.ai's admin identity may do: manage this data plane's cluster, node groups,
/// private connection and workload roles, identified by name prefix or tag, and nothing
/// of the account beyond reading it.
fn admin_policy(account: &str, region: &str, prefix: &str, cluster_role: &str, node_role: &str, boundary: &str, key_arn: Option<&Value>) -> Value {
    let tag_condition = |key: &str| json!({ "StringEquals": { format!("{key}/{TAG_DATA_PLANE}"): prefix } });
    let mut statements = vec![
        json!({
            "Sid": "ReadAccount",
            "Effect": "Allow",
            "Action": ["ec2:Describe*", "eks:Describe*", "eks:List*", "elasticloadbalancing:Describe*", "iam:GetRole", "iam:ListAttachedRolePolicies", "kms:DescribeKey", "s3:GetBucket*", "s3:GetEncryptionConfiguration"],
            "Resource": "*"
        }),
        json!({
            "Sid": "ManageOwnCluster",
            "Effect": "Allow",
            "Action": "eks:*",
            "Resource": [
                format!("arn:aws:eks:{region}:{account}:cluster/{prefix}"),
                format!("arn:aws:eks:{region}:{account}:nodegroup/{prefix}/*"),
                format!("arn:aws:eks:{region}:{account}:access-entry/{prefix}/*"),
                format!("arn:aws:eks:{region}:{account}:addon/{prefix}/*")
            ]
        }),
        json!({
            "Sid": "PassOnlyDataPlaneRoles",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": [r(cluster_role, "arn"), r(node_role, "arn"), format!("arn:aws:iam::{account}:role/{prefix}-workload-*")],
            "Condition": { "StringEquals": { "iam:PassedToService": ["eks.amazonaws.com", "ec2.amazonaws.com"] } }
        }),
        json!({
            "Sid": "CreateWorkloadRolesWithinBoundary",
            "Effect": "Allow",
            "Action": ["iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:DeleteRole", "iam:TagRole", "iam:UpdateAssumeRolePolicy"],
            "Resource": format!("arn:aws:iam::{account}:role/{prefix}-workload-*"),
            "Condition": { "StringEquals": { "iam:PermissionsBoundary": r(boundary, "arn") } }
        }),
        json!({
            "Sid": "ManageClusterOidcProvider",
            "Effect": "Allow",
            "Action": ["iam:CreateOpenIDConnectProvider", "iam:DeleteOpenIDConnectProvider", "iam:TagOpenIDConnectProvider", "iam:GetOpenIDConnectProvider"],
            "Resource": format!("arn:aws:iam::{account}:oidc-provider/oidc.eks.{region}.amazonaws.com/id/*")
        }),
        json!({
            "Sid": "CreateTaggedNetworkPieces",
            "Effect": "Allow",
            "Action": ["ec2:CreateLaunchTemplate", "ec2:CreateVpcEndpointServiceConfiguration", "elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup", "ec2:CreateTags", "elasticloadbalancing:AddTags"],
            "Resource": "*",
            "Condition": tag_condition("aws:RequestTag")
        }),
        json!({
            "Sid": "ChangeOnlyTaggedPieces",
            "Effect": "Allow",
            "Action": ["ec2:RunInstances", "ec2:DeleteLaunchTemplate", "ec2:CreateLaunchTemplateVersion", "ec2:ModifyVpcEndpointServicePermissions", "ec2:ModifyVpcEndpointServiceConfiguration", "ec2:AcceptVpcEndpointConnections", "ec2:RejectVpcEndpointConnections", "ec2:DeleteVpcEndpointServiceConfigurations", "elasticloadbalancing:*"],
            "Resource": "*",
            "Condition": tag_condition("aws:ResourceTag")
        }),
    ];
    if let Some(k) = key_arn {
        statements.push(json!({
            "Sid": "UseDataPlaneKeyForClusterAndDisks",
            "Effect": "Allow",
            "Action": ["kms:CreateGrant", "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey", "kms:ReEncrypt*"],
            "Resource": k
        }));
    }
    json!({ "Version": "2012-10-17", "Statement": statements })
}
