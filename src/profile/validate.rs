//! Semantic validation of a structurally valid profile: every problem at once, each with the
//! field path (the source map adds `line:col`) and, where the fix is known, a hint.
//!
//! Settings that are well-formed but insecure (public endpoint under BYOC, encryption off,
//! wildcard namespaces, …) are not refused here: the plan is built with them and the
//! security invariants (`plan::invariants`) refuse it, naming the invariant. One check, in
//! one place, for plans and for live resources alike.

use std::collections::HashSet;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::catalog::{self, Gpu, InstanceTypeCheck, KUBERNETES_MINOR_MAX, KUBERNETES_MINOR_MIN};
use super::diagnostic::{did_you_mean, Report};
use super::names;
use super::schema::{EndpointAccess, Model, Profile, Provider, API_VERSION, KIND};

pub fn validate(p: &Profile, r: &mut Report<'_>) {
    if p.api_version != API_VERSION {
        r.error(
            "apiVersion",
            format!("`{}` is not a supported apiVersion", p.api_version),
        )
        .set_hint(format!("use `{API_VERSION}`"));
    }
    if p.kind != KIND {
        r.error("kind", format!("`{}` is not a supported kind", p.kind))
            .set_hint(format!("use `{KIND}`"));
    }
    metadata(p, r);
    control_plane(p, r);
    union(p, r);
    cloud(p, r);
    network(p, r);
    cluster(p, r);
    storage(p, r);
    tenancy(p, r);
    audit(p, r);
    tags(p, r);
    if let Some(state) = &p.spec.state {
        if let Err(problem) = super::state_url::Location::parse(&state.url) {
            r.error("spec.state.url", problem);
        }
    }
}

pub fn is_dns_label(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && !s.ends_with('-')
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn all_digits(s: &str, len: Option<usize>) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && len.is_none_or(|l| s.len() == l)
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn metadata(p: &Profile, r: &mut Report<'_>) {
    // 32 leaves room for the longest suffix ("-fast-registration-…") under the 63 limits.
    if !is_dns_label(&p.metadata.name, 32) {
        r.error(
            "metadata.name",
            format!("`{}` is not a valid name", p.metadata.name),
        )
        .set_hint(
            "1-32 lowercase letters, digits and hyphens, starting with a letter (e.g. `acme-prod`)",
        );
    }
    if !is_dns_label(&p.metadata.org, 63) {
        r.error(
            "metadata.org",
            format!("`{}` is not a valid org name", p.metadata.org),
        )
        .set_hint("lowercase letters, digits and hyphens, as in your Union.ai URL");
    }
}

fn is_hostname(s: &str) -> bool {
    s.len() <= 253
        && s.contains('.')
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

fn control_plane(p: &Profile, r: &mut Report<'_>) {
    let host = &p.spec.control_plane.host;
    if !is_hostname(host) {
        let hint = if host.contains("://") || host.contains(':') || host.contains('/') {
            "give the host name only, without scheme, port or path (e.g. `acme.hosted.unionai.cloud`)"
        } else {
            "a host name such as `acme.hosted.unionai.cloud`"
        };
        r.error(
            "spec.controlPlane.host",
            format!("`{host}` is not a host name"),
        )
        .set_hint(hint);
    }
}

fn union(p: &Profile, r: &mut Report<'_>) {
    let Some(u) = &p.spec.union else { return };
    if p.spec.model == Model::SelfManaged {
        r.error(
            "spec.union",
            "`union` is for BYOC only: in self-managed, Union.ai has no access to the account",
        )
        .set_hint("remove `spec.union`, or set `spec.model: byoc`");
        return;
    }
    if !all_digits(&u.aws_account_id, Some(12)) {
        r.error(
            "spec.union.awsAccountId",
            format!("`{}` is not an AWS account id", u.aws_account_id),
        )
        .set_hint("12 digits, quoted");
    }
    if let Some(id) = &u.external_id {
        let ok = (16..=1224).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+=,.@:/-_".contains(&b));
        if !ok {
            r.error("spec.union.externalId", "the external ID must be 16-1224 characters of letters, digits and +=,.@:/-_")
                .set_hint("remove it to have unionctl generate a random one (24 characters) and keep it in state");
        } else if is_weak_secret(id) {
            r.error("spec.union.externalId", "the external ID is easy to guess (too few distinct characters, or one kind of character only)")
                .set_hint("remove it to have unionctl generate a random one (24 characters) and keep it in state");
        }
    }
    let role_ok = !u.role_name.is_empty()
        && u.role_name.len() <= 64
        && u.role_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@-_".contains(&b));
    if !role_ok {
        r.error(
            "spec.union.roleName",
            format!("`{}` is not an IAM role name", u.role_name),
        );
    }
    match p.spec.cloud.provider {
        Provider::Gcp => match &u.gcp_project_id {
            None => {
                r.error("spec.union.gcpProjectId", "BYOC on GCP needs Union.ai's project, the only consumer the Private Service Connect attachment accepts")
                    .set_hint("Union.ai onboarding gives you this project id");
            }
            Some(id) if !is_gcp_project_id(id) => {
                r.error(
                    "spec.union.gcpProjectId",
                    format!("`{id}` is not a GCP project id"),
                );
            }
            _ => {}
        },
        Provider::Azure => match &u.azure_subscription_id {
            None => {
                r.error("spec.union.azureSubscriptionId", "BYOC on Azure needs Union.ai's subscription, the only one the Private Link service is visible to")
                    .set_hint("Union.ai onboarding gives you this subscription id");
            }
            Some(id) if !is_uuid(id) => {
                r.error(
                    "spec.union.azureSubscriptionId",
                    format!("`{id}` is not a subscription id (a UUID)"),
                );
            }
            _ => {
                let subject_ok = |s: &str| {
                    s.split_once(':')
                        .is_some_and(|(region, id)| !region.is_empty() && is_uuid(id))
                };
                match &u.azure_federated_subject {
                    None => {
                        r.error("spec.union.azureFederatedSubject", "BYOC on Azure needs the exact subject of Union.ai's federated credential")
                            .set_hint("Union.ai onboarding gives you this subject (`REGION:UUID`)");
                    }
                    Some(s) if !subject_ok(s) => {
                        r.error(
                            "spec.union.azureFederatedSubject",
                            format!("`{s}` is not a federated subject (`REGION:UUID`)"),
                        )
                        .set_hint("the exact subject is required: no wildcards");
                    }
                    _ => {}
                }
                match &u.azure_federated_audience {
                    None => {
                        r.error("spec.union.azureFederatedAudience", "BYOC on Azure needs the audience of Union.ai's federated credential: its Cognito identity pool id")
                            .set_hint("Union.ai onboarding gives you this id (`REGION:UUID`); it is the `aud` claim of the token Union.ai presents");
                    }
                    Some(a) if !subject_ok(a) => {
                        r.error(
                            "spec.union.azureFederatedAudience",
                            format!("`{a}` is not a Cognito identity pool id (`REGION:UUID`)"),
                        );
                    }
                    Some(a) if Some(a) == u.azure_federated_subject.as_ref() => {
                        r.error("spec.union.azureFederatedAudience", "the audience (the identity pool) and the subject (one identity in it) cannot be the same");
                    }
                    _ => {}
                }
            }
        },
        Provider::Aws => {}
    }
}

/// Low entropy: fewer than 10 distinct characters, or only one of lowercase, uppercase and
/// digits. An external ID guards against the confused deputy only if it cannot be guessed.
fn is_weak_secret(s: &str) -> bool {
    let distinct: HashSet<char> = s.chars().collect();
    let classes = [
        s.bytes().any(|b| b.is_ascii_lowercase()),
        s.bytes().any(|b| b.is_ascii_uppercase()),
        s.bytes().any(|b| b.is_ascii_digit()),
    ];
    distinct.len() < 10 || classes.iter().filter(|c| **c).count() < 2
}

fn is_gcp_project_id(s: &str) -> bool {
    (6..=30).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && !s.ends_with('-')
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn cloud(p: &Profile, r: &mut Report<'_>) {
    let c = &p.spec.cloud;
    let regions = catalog::regions(c.provider);
    if !regions.contains(&c.region.as_str()) {
        let d = r.error(
            "spec.cloud.region",
            format!("`{}` is not a region of {}", c.region, c.provider.title()),
        );
        match did_you_mean(&c.region, regions.iter().copied()) {
            Some(s) => d.set_hint(format!("did you mean `{s}`?")),
            None => d.set_hint(format!("{} regions look like `{}`", c.provider, regions[1])),
        }
    }
    let blocks = [
        (Provider::Aws, c.aws.is_some()),
        (Provider::Gcp, c.gcp.is_some()),
        (Provider::Azure, c.azure.is_some()),
    ];
    for (provider, present) in blocks {
        if provider == c.provider && !present {
            r.error(
                format!("spec.cloud.{provider}"),
                format!(
                    "`spec.cloud.provider` is {provider}, so `spec.cloud.{provider}` is required"
                ),
            );
        } else if provider != c.provider && present {
            r.error(
                format!("spec.cloud.{provider}"),
                format!(
                    "`spec.cloud.{provider}` does not apply: `spec.cloud.provider` is {}",
                    c.provider
                ),
            )
            .set_hint(format!(
                "remove it, or set `spec.cloud.provider: {provider}`"
            ));
        }
    }
    if let Some(aws) = &c.aws {
        if !all_digits(&aws.account_id, Some(12)) {
            r.error(
                "spec.cloud.aws.accountId",
                format!("`{}` is not an AWS account id", aws.account_id),
            )
            .set_hint("12 digits, quoted");
        }
    }
    if let Some(gcp) = &c.gcp {
        if !is_gcp_project_id(&gcp.project_id) {
            r.error(
                "spec.cloud.gcp.projectId",
                format!("`{}` is not a GCP project id", gcp.project_id),
            )
            .set_hint("6-30 lowercase letters, digits and hyphens, starting with a letter");
        }
        if !all_digits(&gcp.project_number, None) || gcp.project_number.len() > 20 {
            r.error(
                "spec.cloud.gcp.projectNumber",
                format!("`{}` is not a project number", gcp.project_number),
            )
            .set_hint("digits, quoted");
        }
    }
    if let Some(az) = &c.azure {
        if !is_uuid(&az.subscription_id) {
            r.error(
                "spec.cloud.azure.subscriptionId",
                format!("`{}` is not a subscription id (a UUID)", az.subscription_id),
            );
        }
        if !is_uuid(&az.tenant_id) {
            r.error(
                "spec.cloud.azure.tenantId",
                format!("`{}` is not a tenant id (a UUID)", az.tenant_id),
            );
        }
        let rg = &az.resource_group;
        let ok = !rg.is_empty()
            && rg.len() <= 90
            && !rg.ends_with('.')
            && rg
                .chars()
                .all(|ch| ch.is_alphanumeric() || "-_.()".contains(ch));
        if !ok {
            r.error(
                "spec.cloud.azure.resourceGroup",
                format!("`{rg}` is not a resource group name"),
            )
            .set_hint("1-90 letters, digits, and -_.() not ending in a period");
        }
    }
}

fn parse_cidr(r: &mut Report<'_>, path: &str, value: &str) -> Option<Ipv4Net> {
    match value.parse::<Ipv4Net>() {
        Ok(net) if net.network() == net.addr() => Some(net),
        Ok(net) => {
            r.error(path, format!("`{value}` has host bits set"))
                .set_hint(format!("did you mean `{}`?", net.trunc()));
            None
        }
        Err(_) => {
            r.error(path, format!("`{value}` is not an IPv4 CIDR block"))
                .set_hint("write it as address/prefix, e.g. `10.0.0.0/16`");
            None
        }
    }
}

fn network(p: &Profile, r: &mut Report<'_>) {
    let n = &p.spec.network;
    let provider = p.spec.cloud.provider;
    let zones_max = catalog::MAX_ZONES;
    let zones_min = if provider == Provider::Aws { 2 } else { 1 };
    if n.zones < zones_min || n.zones > zones_max {
        r.error(
            "spec.network.zones",
            format!("{} zones: expected {zones_min} to {zones_max}", n.zones),
        )
        .set_hint(if provider == Provider::Aws {
            "EKS needs subnets in at least two zones"
        } else {
            "every supported region has three zones"
        });
    }
    let mut ranges: Vec<(&str, Ipv4Net)> = Vec::new();
    if n.existing.is_none() {
        if let Some(net) = parse_cidr(r, "spec.network.cidr", &n.cidr) {
            if !(16..=24).contains(&net.prefix_len()) {
                r.error(
                    "spec.network.cidr",
                    format!(
                        "`{}` is a /{}: expected /16 to /24",
                        n.cidr,
                        net.prefix_len()
                    ),
                )
                .set_hint("the network is split into a private and a public subnet per zone");
            } else if !is_private(net) {
                r.error(
                    "spec.network.cidr",
                    format!("`{}` is not a private (RFC 1918) range", n.cidr),
                )
                .set_hint("use a range inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16");
            }
            ranges.push(("spec.network.cidr", net));
        }
    }
    if provider != Provider::Aws {
        // EKS takes pod addresses from the VPC; GKE and AKS need separate ranges.
        if let Some(net) = parse_cidr(r, "spec.network.podsCidr", &n.pods_cidr) {
            ranges.push(("spec.network.podsCidr", net));
        }
    }
    if let Some(net) = parse_cidr(r, "spec.network.servicesCidr", &n.services_cidr) {
        ranges.push(("spec.network.servicesCidr", net));
    }
    if provider == Provider::Gcp {
        if let Some(net) = parse_cidr(r, "spec.network.masterCidr", &n.master_cidr) {
            if net.prefix_len() != 28 {
                r.error(
                    "spec.network.masterCidr",
                    format!("`{}` must be a /28", n.master_cidr),
                )
                .set_hint(
                    "GKE's control-plane range is exactly 16 addresses, e.g. `172.16.0.0/28`",
                );
            }
            ranges.push(("spec.network.masterCidr", net));
        }
    }
    for (i, (pa, a)) in ranges.iter().enumerate() {
        for (pb, b) in &ranges[i + 1..] {
            if a.contains(b) || b.contains(a) {
                r.error(*pb, format!("`{b}` overlaps `{pa}` ({a})"))
                    .set_hint("pick ranges that do not overlap");
            }
        }
    }
    for (i, rule) in n.ingress.iter().enumerate() {
        let path = format!("spec.network.ingress[{i}].cidr");
        parse_cidr(r, &path, &rule.cidr);
        if rule.port == 0 {
            r.error(
                format!("spec.network.ingress[{i}].port"),
                "port 0 is not a port",
            );
        }
    }
    if let Some(existing) = &n.existing {
        let (net_ok, net_hint, sub_ok, sub_hint): (bool, &str, fn(&str) -> bool, &str) = match provider {
            Provider::Aws => (is_aws_id(&existing.network_id, "vpc-"), "an id such as `vpc-0a1b2c3d4e5f60718`", |s| is_aws_id(s, "subnet-"), "ids such as `subnet-0a1b2c3d`"),
            Provider::Gcp => (is_dns_label(&existing.network_id, 63), "the network's name", |s| is_dns_label(s, 63), "subnetwork names"),
            Provider::Azure => (
                existing.network_id.starts_with("/subscriptions/") && existing.network_id.contains("/providers/Microsoft.Network/virtualNetworks/"),
                "the virtual network's resource id (/subscriptions/…/providers/Microsoft.Network/virtualNetworks/NAME)",
                |s| !s.is_empty() && s.len() <= 80,
                "subnet names",
            ),
        };
        if !net_ok {
            r.error(
                "spec.network.existing.networkId",
                format!(
                    "`{}` is not a {} network id",
                    existing.network_id,
                    provider.title()
                ),
            )
            .set_hint(net_hint);
        }
        let needed = if provider == Provider::Aws { 2 } else { 1 };
        if existing.subnet_ids.len() < needed {
            r.error(
                "spec.network.existing.subnetIds",
                format!(
                    "{} subnet(s) given; at least {needed} needed",
                    existing.subnet_ids.len()
                ),
            );
        }
        let mut seen = HashSet::new();
        for (i, s) in existing.subnet_ids.iter().enumerate() {
            if !sub_ok(s) {
                r.error(
                    format!("spec.network.existing.subnetIds[{i}]"),
                    format!("`{s}` is not a subnet id"),
                )
                .set_hint(sub_hint);
            } else if !seen.insert(s) {
                r.error(
                    format!("spec.network.existing.subnetIds[{i}]"),
                    format!("`{s}` is listed twice"),
                );
            }
        }
    }
}

fn is_aws_id(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix).is_some_and(|h| {
        (8..=17).contains(&h.len())
            && h.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    })
}

/// RFC 1918 private ranges (and the shared CGNAT range that clouds accept for pods).
pub fn is_private(net: Ipv4Net) -> bool {
    const PRIVATE: [(Ipv4Addr, u8); 4] = [
        (Ipv4Addr::new(10, 0, 0, 0), 8),
        (Ipv4Addr::new(172, 16, 0, 0), 12),
        (Ipv4Addr::new(192, 168, 0, 0), 16),
        (Ipv4Addr::new(100, 64, 0, 0), 10),
    ];
    PRIVATE
        .iter()
        .any(|(a, len)| Ipv4Net::new(*a, *len).is_ok_and(|p| p.contains(&net)))
}

fn cluster(p: &Profile, r: &mut Report<'_>) {
    let c = &p.spec.cluster;
    let provider = p.spec.cloud.provider;
    // Canonical only: `1.31`, not `1.031` or `1.31.0` (the clouds compare versions as text).
    let minor = c
        .kubernetes_version
        .strip_prefix("1.")
        .and_then(|m| m.parse::<u32>().ok().filter(|n| n.to_string() == m));
    match minor {
        Some(m) if (KUBERNETES_MINOR_MIN..=KUBERNETES_MINOR_MAX).contains(&m) => {}
        Some(_) => {
            r.error("spec.cluster.kubernetesVersion", format!("Kubernetes {} is outside the supported window 1.{KUBERNETES_MINOR_MIN}-1.{KUBERNETES_MINOR_MAX}", c.kubernetes_version))
                .set_hint(format!("use a version from 1.{KUBERNETES_MINOR_MIN} to 1.{KUBERNETES_MINOR_MAX}"));
        }
        None => {
            r.error(
                "spec.cluster.kubernetesVersion",
                format!(
                    "`{}` is not a Kubernetes minor version",
                    c.kubernetes_version
                ),
            )
            .set_hint(format!(
                "write it as a quoted `1.N`, e.g. \"1.{KUBERNETES_MINOR_MIN}\""
            ));
        }
    }
    if c.endpoint_access == EndpointAccess::PrivateAndPublic && p.spec.model == Model::SelfManaged {
        r.warning(
            "spec.cluster.endpointAccess",
            "the Kubernetes API will also listen on the internet",
        )
        .set_hint("keep `private` unless operators have no path into the network");
    }
    if c.node_pools.is_empty() {
        r.error("spec.cluster.nodePools", "at least one node pool is needed");
    }
    let mut names: std::collections::HashMap<String, &str> = std::collections::HashMap::new();
    for (i, pool) in c.node_pools.iter().enumerate() {
        let at = |f: &str| format!("spec.cluster.nodePools[{i}].{f}");
        if !is_dns_label(&pool.name, 20) {
            r.error(
                at("name"),
                format!("`{}` is not a valid pool name", pool.name),
            )
            .set_hint("1-20 lowercase letters, digits and hyphens, starting with a letter");
        } else if let Some(first) =
            names.insert(names::node_pool(p, &pool.name), pool.name.as_str())
        {
            let native = names::node_pool(p, &pool.name);
            if first == pool.name {
                r.error(
                    at("name"),
                    format!("pool name `{}` is used twice", pool.name),
                );
            } else {
                r.error(
                    at("name"),
                    format!(
                        "pools `{first}` and `{}` both become `{native}` on {}",
                        pool.name,
                        provider.title()
                    ),
                )
                .set_hint(format!(
                    "{} pool names keep only letters and digits (at most 12); rename one",
                    provider.title()
                ));
            }
        }
        if !catalog::instance_type_shape_ok(provider, &pool.instance_type) {
            r.error(
                at("instanceType"),
                format!(
                    "`{}` is not {} instance type",
                    pool.instance_type,
                    a_cloud(provider)
                ),
            )
            .set_hint(format!(
                "{provider} instance types look like `{}`",
                catalog::example_instance_type(provider)
            ));
        } else {
            match catalog::check_instance_type(provider, &pool.instance_type) {
                InstanceTypeCheck::Known => {}
                InstanceTypeCheck::Typo(known) => {
                    r.error(
                        at("instanceType"),
                        format!(
                            "`{}` is not {} instance type",
                            pool.instance_type,
                            a_cloud(provider)
                        ),
                    )
                    .set_hint(format!("did you mean `{known}`?"));
                }
                // Perhaps newer than this release: the cloud has the last word.
                InstanceTypeCheck::Unknown => {
                    r.warning(at("instanceType"), format!("`{}` is not an instance type unionctl knows; it is checked by the cloud at apply", pool.instance_type))
                        .set_hint(instance_type_lookup(provider, &pool.instance_type, &p.spec.cloud.region));
                }
            }
            match (catalog::gpu(provider, &pool.instance_type), pool.gpu) {
                (Gpu::None, true) => {
                    r.error(
                        at("gpu"),
                        format!(
                            "`{}` has no GPU, but the pool says `gpu: true`",
                            pool.instance_type
                        ),
                    )
                    .set_hint("pick a GPU instance type, or drop `gpu: true`");
                }
                (Gpu::Other, true) => {
                    r.error(at("gpu"), format!("`{}` has no NVIDIA GPU, but the pool says `gpu: true`", pool.instance_type))
                        .set_hint("GPU pools run NVIDIA's node image and device plugin: pick an NVIDIA GPU instance type");
                }
                (Gpu::Nvidia, false) => {
                    r.warning(at("gpu"), format!("`{}` has GPUs but the pool is not marked `gpu: true`: its nodes will not be tainted", pool.instance_type))
                        .set_hint("add `gpu: true` so that only GPU workloads are scheduled there");
                }
                _ => {}
            }
        }
        if pool.min > pool.max {
            r.error(
                at("min"),
                format!("min ({}) is greater than max ({})", pool.min, pool.max),
            );
        }
        if pool.max == 0 {
            r.error(at("max"), "max must be at least 1");
        } else if pool.max > 1000 {
            r.error(
                at("max"),
                format!("max {} is above the per-pool limit of 1000", pool.max),
            );
        }
        if !(20..=16384).contains(&pool.disk_size_gib) {
            r.error(
                at("diskSizeGib"),
                format!("{} GiB: expected 20 to 16384", pool.disk_size_gib),
            );
        }
    }
}

/// "an AWS", "a GCP", "an Azure".
fn a_cloud(provider: Provider) -> String {
    let title = provider.title();
    if title.starts_with('A') {
        format!("an {title}")
    } else {
        format!("a {title}")
    }
}

/// How to ask the cloud about an instance type unionctl does not know.
fn instance_type_lookup(provider: Provider, instance_type: &str, region: &str) -> String {
    match provider {
        Provider::Aws => format!("`aws ec2 describe-instance-type-offerings --region {region} --filters Name=instance-type,Values={instance_type}` lists it if {region} offers it"),
        Provider::Gcp => format!("`gcloud compute machine-types list --filter=\"name={instance_type} AND zone~^{region}-\"` lists it if {region} offers it"),
        Provider::Azure => format!("`az vm list-skus --location {region} --size {instance_type} --output table` lists it if {region} offers it"),
    }
}

fn storage(p: &Profile, r: &mut Report<'_>) {
    let s = &p.spec.storage;
    let provider = p.spec.cloud.provider;
    if s.buckets.is_empty() {
        r.error("spec.storage.buckets", "at least one bucket is needed")
            .set_hint("the data plane uses `metadata` and `fast-registration`");
    }
    let mut seen = HashSet::new();
    for (i, b) in s.buckets.iter().enumerate() {
        let path = format!("spec.storage.buckets[{i}]");
        let native = names::bucket(p, b);
        if !is_dns_label(b, 63) {
            r.error(&path, format!("`{b}` is not a valid bucket name"))
                .set_hint("lowercase letters, digits and hyphens, starting with a letter");
        } else if !seen.insert(b.as_str()) {
            r.error(&path, format!("bucket `{b}` is listed twice"));
        } else if b == "audit-logs"
            || b.starts_with("insights-")
            || b.starts_with("bootdiagnostics-")
        {
            r.error(
                &path,
                format!("`{b}` is reserved for audit and diagnostic logs"),
            );
        } else if let Some(suffix) = ["-metadata", "-fast-registration", "-audit-logs"]
            .iter()
            .find(|s| b.ends_with(*s))
        {
            // `<prefix>-<bucket>` would be another data plane's bucket: data plane
            // `acme` with bucket `prod-metadata` is `acme-prod-metadata`, the metadata bucket
            // of data plane `acme-prod`.
            r.error(&path, format!("`{b}` ends like a data plane's own bucket (`…{suffix}`): `{native}` could be another data plane's"))
                .set_hint("choose a name that does not end in -metadata, -fast-registration or -audit-logs");
        }
        if is_dns_label(b, 63) && (native.len() > 63 || native.len() < 3) {
            r.error(
                &path,
                format!(
                    "the bucket name `{native}` would be {} characters; the limit is 63",
                    native.len()
                ),
            )
            .set_hint("shorten the bucket or `metadata.name`");
        }
    }
    let key = &s.encryption.key;
    let key_ok = match (key.as_str(), provider) {
        ("create" | "none", _) => true,
        (k, Provider::Aws) => {
            k.starts_with("arn:aws:kms:") || is_uuid(k) || k.starts_with("alias/")
        }
        (k, Provider::Gcp) => {
            k.starts_with("projects/") && k.contains("/keyRings/") && k.contains("/cryptoKeys/")
        }
        (k, Provider::Azure) => k.starts_with("https://") && k.contains(".vault.azure.net/keys/"),
    };
    if !key_ok {
        let example = match provider {
            Provider::Aws => "arn:aws:kms:REGION:ACCOUNT:key/ID",
            Provider::Gcp => "projects/P/locations/L/keyRings/R/cryptoKeys/K",
            Provider::Azure => "https://VAULT.vault.azure.net/keys/NAME",
        };
        r.error(
            "spec.storage.encryption.key",
            format!(
                "`{key}` is neither `create` nor a {} key id",
                provider.title()
            ),
        )
        .set_hint(format!("use `create`, or an existing key: `{example}`"));
    }
    if !["1.0", "1.1", "1.2", "1.3"].contains(&s.minimum_tls_version.as_str()) {
        r.error(
            "spec.storage.minimumTlsVersion",
            format!("`{}` is not a TLS version", s.minimum_tls_version),
        )
        .set_hint("use \"1.2\" or \"1.3\"");
    } else if provider == Provider::Gcp && s.minimum_tls_version != "1.2" {
        // Cloud Storage has no per-bucket TLS setting: anything but its own 1.2 floor would
        // be silently ignored.
        r.error(
            "spec.storage.minimumTlsVersion",
            format!(
                "Cloud Storage cannot enforce TLS {} per bucket; it accepts TLS 1.2 and later",
                s.minimum_tls_version
            ),
        )
        .set_hint("use \"1.2\" (the floor Google's front ends enforce), or remove the field");
    }
}

fn tenancy(p: &Profile, r: &mut Report<'_>) {
    let ns = &p.spec.tenancy.namespaces;
    if ns.is_empty() {
        r.error(
            "spec.tenancy.namespaces",
            "at least one namespace is needed",
        );
    }
    let mut seen = HashSet::new();
    for (i, n) in ns.iter().enumerate() {
        let path = format!("spec.tenancy.namespaces[{i}]");
        // Wildcards are well-formed but break least privilege: the invariants refuse them.
        if n.contains('*') {
            continue;
        }
        if !is_dns_label(n, 63) {
            r.error(&path, format!("`{n}` is not a namespace name"))
                .set_hint("a DNS label: lowercase letters, digits and hyphens");
        } else if names::RESERVED_NAMESPACES.contains(&n.as_str())
            || names::RESERVED_NAMESPACE_PREFIXES
                .iter()
                .any(|p| n.starts_with(p))
        {
            r.error(&path, format!("`{n}` is reserved: Kubernetes, the cloud or the data plane's own components use it"))
                .set_hint("tenant namespaces hold task pods only; pick a name of your own, e.g. `team-a`");
        } else if !seen.insert(n.as_str()) {
            r.error(&path, format!("namespace `{n}` is listed twice"));
        }
    }
}

fn audit(p: &Profile, r: &mut Report<'_>) {
    let t = &p.spec.audit.trail;
    let ok = t == "create"
        || (!t.is_empty()
            && t.len() <= 128
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.:/".contains(c)));
    if !ok {
        r.error(
            "spec.audit.trail",
            format!("`{t}` is neither `create` nor a trail name"),
        );
    }
}

fn tags(p: &Profile, r: &mut Report<'_>) {
    if p.spec.tags.len() > 40 {
        r.error(
            "spec.tags",
            format!(
                "{} tags; at most 40 (the cloud limit is 50 and unionctl adds its own)",
                p.spec.tags.len()
            ),
        );
    }
    for (k, v) in &p.spec.tags {
        let path = format!("spec.tags.{k}");
        if k.is_empty() || k.len() > 63 {
            r.error(&path, "tag keys are 1-63 characters");
        } else if k.starts_with("unionctl.union.ai/") || k.starts_with("aws:") {
            r.error(&path, format!("`{k}` uses a reserved prefix"));
        } else if p.spec.cloud.provider == Provider::Gcp
            && !k
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            r.error(&path, format!("`{k}` is not a GCP label key"))
                .set_hint("lowercase letters, digits, - and _");
        }
        if v.len() > 63 {
            r.error(&path, "tag values are at most 63 characters");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::profile::schema::Provider;
    use crate::profile::{load_bytes, Diagnostic, ProfileError, Severity};

    /// The example BYOC profile of `cloud` (`profiles/`) with `from` replaced by `to`:
    /// whether it loads, and its diagnostics (its errors if not, its warnings if it does).
    fn diagnostics(cloud: Provider, from: &str, to: &str) -> (bool, Vec<Diagnostic>) {
        let example =
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("profiles/{cloud}-byoc.yaml"));
        let text = std::fs::read_to_string(&example).unwrap();
        assert!(text.contains(from), "{} lacks {from:?}", example.display());
        match load_bytes(
            text.replacen(from, to, 1).as_bytes(),
            Path::new("profile.yaml"),
        ) {
            Ok(loaded) => (true, loaded.warnings),
            Err(ProfileError::Invalid { diagnostics, .. }) => (false, diagnostics),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn instance_type_typos_are_errors_with_the_known_type() {
        let cases = [
            (
                Provider::Aws,
                "instanceType: m6i.xlarge,",
                "instanceType: m6i.xlargee,",
                "spec.cluster.nodePools[0].instanceType",
                "`m6i.xlargee` is not an AWS instance type",
                "did you mean `m6i.xlarge`?",
            ),
            (
                Provider::Gcp,
                "instanceType: n2-standard-8,",
                "instanceType: n2-standrd-8,",
                "spec.cluster.nodePools[1].instanceType",
                "`n2-standrd-8` is not a GCP instance type",
                "did you mean `n2-standard-8`?",
            ),
            (
                Provider::Azure,
                "instanceType: Standard_D4s_v5,",
                "instanceType: Standard_D4s_v55,",
                "spec.cluster.nodePools[0].instanceType",
                "`Standard_D4s_v55` is not an Azure instance type",
                "did you mean `Standard_D4s_v5`?",
            ),
        ];
        for (cloud, from, to, path, message, hint) in cases {
            let (loaded, ds) = diagnostics(cloud, from, to);
            assert!(!loaded, "{cloud}: a typo must not load: {ds:?}");
            assert_eq!(ds.len(), 1, "{cloud}: {ds:?}");
            let d = &ds[0];
            assert_eq!(
                (
                    d.severity,
                    d.path.as_str(),
                    d.message.as_str(),
                    d.hint.as_deref()
                ),
                (Severity::Error, path, message, Some(hint)),
                "{cloud}"
            );
            assert!(d.mark.is_some(), "{cloud}: the error points at the line");
        }
    }

    #[test]
    fn unknown_instance_types_far_from_known_ones_are_warnings() {
        let cases = [
            (
                Provider::Aws,
                "instanceType: m6i.2xlarge,",
                "instanceType: x9z.large,",
                "spec.cluster.nodePools[1].instanceType",
                "x9z.large",
                "us-east-2",
            ),
            // A newer generation than the catalog knows.
            (
                Provider::Aws,
                "instanceType: m6i.2xlarge,",
                "instanceType: m9i.2xlarge,",
                "spec.cluster.nodePools[1].instanceType",
                "m9i.2xlarge",
                "us-east-2",
            ),
            (
                Provider::Gcp,
                "instanceType: n2-standard-8,",
                "instanceType: n5-standard-8,",
                "spec.cluster.nodePools[1].instanceType",
                "n5-standard-8",
                "us-central1",
            ),
            (
                Provider::Azure,
                "instanceType: Standard_D8s_v5,",
                "instanceType: Standard_D8s_v9,",
                "spec.cluster.nodePools[1].instanceType",
                "Standard_D8s_v9",
                "eastus2",
            ),
        ];
        for (cloud, from, to, path, name, region) in cases {
            let (loaded, ds) = diagnostics(cloud, from, to);
            assert!(loaded, "{cloud}: an unknown type must not block: {ds:?}");
            assert_eq!(ds.len(), 1, "{cloud}: {ds:?}");
            let d = &ds[0];
            assert_eq!(
                (d.severity, d.path.as_str()),
                (Severity::Warning, path),
                "{cloud}"
            );
            assert_eq!(d.message, format!("`{name}` is not an instance type unionctl knows; it is checked by the cloud at apply"));
            let hint = d.hint.as_deref().unwrap_or_default();
            assert!(
                hint.contains(name) && hint.contains(region),
                "{cloud}: {hint}"
            );
        }
    }

    #[test]
    fn gpu_pools_and_gpu_types_agree() {
        let cases = [
            // `gpu: true` on a type without GPUs: an error, as before.
            (Provider::Aws, "instanceType: g5.xlarge,", "instanceType: m6i.xlarge,", Some((Severity::Error, "spec.cluster.nodePools[2].gpu", "`m6i.xlarge` has no GPU, but the pool says `gpu: true`"))),
            (Provider::Gcp, "instanceType: g2-standard-8,", "instanceType: n2-standard-8,", Some((Severity::Error, "spec.cluster.nodePools[2].gpu", "`n2-standard-8` has no GPU, but the pool says `gpu: true`"))),
            (Provider::Azure, "instanceType: Standard_NC8as_T4_v3,", "instanceType: Standard_D8s_v5,", Some((Severity::Error, "spec.cluster.nodePools[2].gpu", "`Standard_D8s_v5` has no GPU, but the pool says `gpu: true`"))),
            // AMD GPUs are not what GPU pools are built for.
            (Provider::Aws, "instanceType: g5.xlarge,", "instanceType: g4ad.xlarge,", Some((Severity::Error, "spec.cluster.nodePools[2].gpu", "`g4ad.xlarge` has no NVIDIA GPU, but the pool says `gpu: true`"))),
            (Provider::Azure, "instanceType: Standard_NC8as_T4_v3,", "instanceType: Standard_ND96isr_MI300X_v5,", Some((Severity::Error, "spec.cluster.nodePools[2].gpu", "`Standard_ND96isr_MI300X_v5` has no NVIDIA GPU, but the pool says `gpu: true`"))),
            // A GPU type in a pool not marked `gpu: true`: a warning, as before.
            (Provider::Aws, "instanceType: m6i.2xlarge,", "instanceType: g6.2xlarge,", Some((Severity::Warning, "spec.cluster.nodePools[1].gpu", "`g6.2xlarge` has GPUs but the pool is not marked `gpu: true`: its nodes will not be tainted"))),
            (Provider::Gcp, "instanceType: n2-standard-8,", "instanceType: a2-highgpu-1g,", Some((Severity::Warning, "spec.cluster.nodePools[1].gpu", "`a2-highgpu-1g` has GPUs but the pool is not marked `gpu: true`: its nodes will not be tainted"))),
            (Provider::Azure, "instanceType: Standard_D8s_v5,", "instanceType: Standard_NC24ads_A100_v4,", Some((Severity::Warning, "spec.cluster.nodePools[1].gpu", "`Standard_NC24ads_A100_v4` has GPUs but the pool is not marked `gpu: true`: its nodes will not be tainted"))),
            // GPU types in GPU pools.
            (Provider::Aws, "instanceType: g5.xlarge,", "instanceType: p5.48xlarge,", None),
            (Provider::Gcp, "instanceType: g2-standard-8,", "instanceType: a4x-highgpu-4g,", None),
            (Provider::Gcp, "instanceType: g2-standard-8,", "instanceType: g4-standard-48,", None),
            (Provider::Azure, "instanceType: Standard_NC8as_T4_v3,", "instanceType: Standard_NC24ads_A100_v4,", None),
        ];
        for (cloud, from, to, expected) in cases {
            let (loaded, ds) = diagnostics(cloud, from, to);
            let got: Vec<(Severity, &str, &str)> = ds
                .iter()
                .map(|d| (d.severity, d.path.as_str(), d.message.as_str()))
                .collect();
            assert_eq!(
                got,
                expected.into_iter().collect::<Vec<_>>(),
                "{cloud} {to}"
            );
            assert_eq!(
                loaded,
                expected.is_none_or(|(s, _, _)| s == Severity::Warning),
                "{cloud} {to}"
            );
        }
    }

    #[test]
    fn constrained_vcpu_azure_sizes_are_instance_types() {
        let (loaded, ds) = diagnostics(
            Provider::Azure,
            "instanceType: Standard_D8s_v5,",
            "instanceType: Standard_E16-4s_v5,",
        );
        assert!(loaded && ds.is_empty(), "{ds:?}");
    }
}
