//! EC2: VPC, subnets, internet and NAT gateways, Elastic IPs, route tables, security
//! groups, VPC endpoints, flow logs, launch templates, endpoint services.
//!
//! EC2 ids are assigned by AWS, so a resource is found by the id recorded in state, else by
//! its `unionctl.union.ai/address` tag (set at create, in the same call): that is how a
//! re-run adopts what a killed run created.

use anyhow::{anyhow, Result};
use aws_sdk_ec2::types::{
    AttributeBooleanValue, DomainType, Filter, IpPermission, IpRange,
    LaunchTemplateBlockDeviceMappingRequest, LaunchTemplateEbsBlockDeviceRequest,
    LaunchTemplateHttpTokensState, LaunchTemplateInstanceMetadataEndpointState,
    LaunchTemplateInstanceMetadataOptionsRequest, RequestLaunchTemplateData, ResourceType, Tag,
    TagSpecification, UserIdGroupPair, VolumeType, VpcEndpointType,
};
use serde_json::{json, Value};

use super::provider::{
    absent, already_done, gone, outputs, s, send_once_then_look_up, strings, tag_subset,
    unsupported, ApiError, AwsProvider, TAG_ADDRESS,
};
use crate::exec::adoption::{Claim, TAG_LINEAGE};
use crate::exec::{wait_until, Observed};
use crate::plan::builder::TAG_DATA_PLANE;
use crate::plan::Resource;
use crate::state::ResourceState;

fn filter(name: &str, values: &[&str]) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.iter().map(|v| v.to_string()).collect()))
        .build()
}

fn ours(p: &AwsProvider, r: &Resource) -> Vec<Filter> {
    vec![
        filter(&format!("tag:{TAG_ADDRESS}"), &[&r.address]),
        filter(&format!("tag:{TAG_DATA_PLANE}"), &[&p.data_plane]),
    ]
}

/// Describes one of this data plane's EC2 resources: by the id that state recorded (or that
/// the profile names, for an existing network), else by the address tag set at create, in
/// which case what is found must be this state's (`claim`; `AwsProvider::ensure_ours`).
/// `extra` filters narrow both lookups (to live states, say); `pick` chooses among the
/// matches, this state's first (the first, by default). `None` when nothing matches.
macro_rules! describe_ours {
    ($p:expr, $r:expr, $id:expr, $claim:expr, $api:literal, $op:ident, $by_id:ident, $set_filters:ident, $list:ident, [$($extra:expr),*]) => {
        describe_ours!($p, $r, $id, $claim, $api, $op, $by_id, $set_filters, $list, [$($extra),*], |items: &[_]| items.first().cloned())
    };
    ($p:expr, $r:expr, $id:expr, $claim:expr, $api:literal, $op:ident, $by_id:ident, $set_filters:ident, $list:ident, [$($extra:expr),*], $pick:expr) => {{
        let extra: Vec<Filter> = vec![$($extra),*];
        let req = match $id {
            Some(id) => $p.ec2.$op().$by_id(id).$set_filters((!extra.is_empty()).then(|| extra.clone())),
            None => $p.ec2.$op().$set_filters(Some(ours($p, $r).into_iter().chain(extra).collect())),
        };
        let by_id = $id.is_some();
        let found = not_found($p.call($api, req.send()).await)?.and_then(|out| {
            // Looked up by tag: the filter is checked here too (an API or emulator that
            // ignores a tag filter must not hand over another data plane's resource), and
            // among several (two states of one data plane name), this state's comes first.
            let mut items: Vec<_> = out.$list().iter().filter(|i| by_id || carries_ours($p, $r, i.tags())).cloned().collect();
            items.sort_by_key(|i| !has_tag(i.tags(), TAG_LINEAGE, &$p.lineage));
            ($pick)(&items[..])
        });
        if let (Some(item), false) = (&found, by_id) {
            $p.ensure_ours(&format!("`{}` (found by its tags)", $r.address), &pairs(item.tags()), $claim)?;
        }
        found
    }};
}

fn has_tag(tags: &[Tag], key: &str, value: &str) -> bool {
    tags.iter()
        .any(|t| t.key() == Some(key) && t.value() == Some(value))
}

/// Whether tags name this data plane and this address.
fn carries_ours(p: &AwsProvider, r: &Resource, tags: &[Tag]) -> bool {
    has_tag(tags, TAG_ADDRESS, &r.address) && has_tag(tags, TAG_DATA_PLANE, &p.data_plane)
}

fn tag_spec(
    p: &AwsProvider,
    r: &Resource,
    desired: &Value,
    kind: ResourceType,
) -> TagSpecification {
    let tags = p
        .tags_for(r, desired)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    TagSpecification::builder()
        .resource_type(kind)
        .set_tags(Some(tags))
        .build()
}

fn pairs(tags: &[Tag]) -> Vec<(String, String)> {
    tags.iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

async fn retag(p: &AwsProvider, r: &Resource, id: &str, desired: &Value) -> Result<()> {
    let tags: Vec<Tag> = p
        .tags_for(r, desired)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    p.call(
        "CreateTags",
        p.ec2
            .create_tags()
            .resources(id)
            .set_tags(Some(tags))
            .send(),
    )
    .await?;
    Ok(())
}

fn not_found<T>(r: Result<T, ApiError>) -> Result<Option<T>> {
    absent(
        r,
        &[
            "InvalidVpcID.NotFound",
            "InvalidSubnetID.NotFound",
            "InvalidInternetGatewayID.NotFound",
            "InvalidAllocationID.NotFound",
            "NatGatewayNotFound",
            "InvalidRouteTableID.NotFound",
            "InvalidGroup.NotFound",
            "InvalidVpcEndpointId.NotFound",
            "InvalidLaunchTemplateId.NotFound",
            "InvalidLaunchTemplateName.NotFoundException",
            "InvalidVpcEndpointServiceId.NotFound",
            "InvalidFlowLogId.NotFound",
        ],
    )
}

pub async fn read(
    p: &AwsProvider,
    r: &Resource,
    desired: &Value,
    id: Option<&str>,
    claim: Claim,
) -> Result<Option<Observed>> {
    match r.type_name() {
        "vpc" => read_vpc(p, r, desired, id, claim).await,
        "subnet" => read_subnet(p, r, desired, id, claim).await,
        "route_tables" => read_route_tables(p, desired).await,
        "internet_gateway" => read_internet_gateway(p, r, desired, id, claim).await,
        "eip" => read_eip(p, r, desired, id, claim).await,
        "nat_gateway" => read_nat_gateway(p, r, desired, id, claim).await,
        "route_table" => read_route_table(p, r, desired, id, claim).await,
        "security_group" => read_security_group(p, r, desired, id, claim).await,
        "vpc_endpoint" => read_vpc_endpoint(p, r, desired, id, claim).await,
        "flow_log" => read_flow_log(p, desired, id).await,
        "launch_template" => read_launch_template(p, desired, claim).await,
        "vpc_endpoint_service" => read_vpc_endpoint_service(p, r, desired, id, claim).await,
        other => Err(anyhow!("ec2 does not handle {other}")),
    }
}

/// Read of `vpc`.
async fn read_vpc(
    p: &AwsProvider,
    r: &Resource,
    desired: &Value,
    id: Option<&str>,
    claim: Claim,
) -> Result<Option<Observed>> {
    let named = (r.mode == crate::plan::Mode::Data).then(|| s(desired, "VpcId"));
    let Some(vpc) = describe_ours!(
        p,
        r,
        named.as_deref().or(id),
        claim,
        "DescribeVpcs",
        describe_vpcs,
        vpc_ids,
        set_filters,
        vpcs,
        []
    ) else {
        return Ok(None);
    };
    let vid = vpc.vpc_id().unwrap_or_default().to_string();
    let mut settings =
        json!({ "CidrBlock": vpc.cidr_block(), "Tags": tag_subset(pairs(vpc.tags()), desired) });
    if r.mode == crate::plan::Mode::Managed {
        let dns = |attr| {
            p.ec2
                .describe_vpc_attribute()
                .vpc_id(&vid)
                .attribute(attr)
                .send()
        };
        let support = p
            .call(
                "DescribeVpcAttribute",
                dns(aws_sdk_ec2::types::VpcAttributeName::EnableDnsSupport),
            )
            .await?;
        let hostnames = p
            .call(
                "DescribeVpcAttribute",
                dns(aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames),
            )
            .await?;
        settings["EnableDnsSupport"] = json!(support
            .enable_dns_support()
            .and_then(|a| a.value())
            .unwrap_or(false));
        settings["EnableDnsHostnames"] = json!(hostnames
            .enable_dns_hostnames()
            .and_then(|a| a.value())
            .unwrap_or(false));
    } else {
        settings = json!({ "VpcId": vid });
    }
    Ok(Some(Observed {
        id: vid.clone(),
        outputs: outputs(&[("id", json!(vid)), ("cidr_block", json!(vpc.cidr_block()))]),
        settings,
    }))
}

/// Read of `subnet`.
async fn read_subnet(
    p: &AwsProvider,
    r: &Resource,
    desired: &Value,
    id: Option<&str>,
    claim: Claim,
) -> Result<Option<Observed>> {
    let named = (r.mode == crate::plan::Mode::Data).then(|| s(desired, "SubnetId"));
    let Some(sn) = describe_ours!(
        p,
        r,
        named.as_deref().or(id),
        claim,
        "DescribeSubnets",
        describe_subnets,
        subnet_ids,
        set_filters,
        subnets,
        []
    ) else {
        return Ok(None);
    };
    let sid = sn.subnet_id().unwrap_or_default().to_string();
    let settings = if r.mode == crate::plan::Mode::Data {
        json!({ "SubnetId": sid })
    } else {
        json!({
            "VpcId": sn.vpc_id(),
            "CidrBlock": sn.cidr_block(),
            "AvailabilityZone": sn.availability_zone(),
            "MapPublicIpOnLaunch": sn.map_public_ip_on_launch().unwrap_or(false),
            "Tags": tag_subset(pairs(sn.tags()), desired),
        })
    };
    Ok(Some(Observed {
        id: sid.clone(),
        outputs: outputs(&[("id", json!(sid))]),
        settings,
    }))
}

/// Read of `route_tables`.
async fn read_route_tables(p: &AwsProvider, desired: &Value) -> Result<Option<Observed>> {
    let filters = desired
        .get("Filters")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let filters = filters
        .iter()
        .map(|f| {
            filter(
                &s(f, "Name"),
                &strings(f.get("Values"))
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    let out = p
        .call(
            "DescribeRouteTables",
            p.ec2
                .describe_route_tables()
                .set_filters(Some(filters))
                .send(),
        )
        .await?;
    let ids: Vec<String> = out
        .route_tables()
        .iter()
        .filter_map(|t| t.route_table_id().map(String::from))
        .collect();
    Ok(Some(Observed {
        id: ids.join(","),
        outputs: outputs(&[("ids", json!(ids))]),
        settings: desired.clone(),
    }))
}

/// Read of `internet_gateway`.
async fn read_internet_gateway(
    p: &AwsProvider,
    r: &Resource,
    desired: &Value,
    id: Option<&str>,
    claim: Claim,
) -> Result<Option<Observed>> {
    let Some(g) = describe_ours!(
        p,
        r,
        id,
        claim,
        "DescribeInternetGateways",
        describe_internet_gateways,
        internet_gateway_ids,
        set_filters,
        internet_gateways,
        []
    ) else {
        return Ok(None);
    };
    let gid = g.internet_gateway_id().unwrap_or_default().to_string();
    let vpc = g
        .attachments()
        .first()
        .and_then(|a| a.vpc_id())
        .unwrap_or_default();
    let settings = json!({ "VpcId": vpc, "Tags": tag_subset(pairs(g.tags()), desired) });
    Ok(Some(Observed {
        id: gid.clone(),
        outputs: outputs(&[("id", json!(gid))]),
        settings,
    }))
}

/// Read of `eip`.
async fn read_eip(
    p: &AwsProvider,
    r: &Resource,
    desired: &Value,
    id: Option<&str>,
    claim: Claim,
) -> Result<Option<Observed>> {
    let Some(a) = describe_ours!(
        p,
        r,
        id,
        claim,
        "DescribeAddresses",
        describe_addresses,
        allocation_ids,
        set_filters,
        addresses,
        []
    ) else {
        return Ok(None);
    };
    let aid = a.allocation_id().unwrap_or_default().to_string();
    let settings = json!({ "Domain": a.domain().map(|d| d.as_str()), "Tags": tag_subset(pairs(a.tags()), desired) });
    Ok(Some(Observed {
        id: aid.clone(),
        outputs: outputs(&[("id", json!(aid)), ("public_ip", json!(a.public_ip()))]),
        settings,
    }))
}

/// Read of `nat_gateway`.
async fn read_nat_gateway(
    p: &AwsProvider,
    r: &Resource,
    desired: &Value,
    id: Option<&str>,
    claim: Claim,
) -> Result<Option<Observed>> {
    let live = filter("state", &["pending", "available"]);
    let Some(n) = describe_ours!(
        p,
        r,
        id,
        claim,
        "DescribeNatGateways",
        describe_nat_gateways,
        nat_gateway_ids,
        set_filter,
        nat_gateways,
        [live]
    ) else {
        return Ok(None);
    };
    let nid = n.nat_gateway_id().unwrap_or_default().to_string();
    let settings = json!({
        "SubnetId": n.subnet_id(),
        "AllocationId": n.nat_gateway_addresses().first().and_then(|a| a.allocation_id()),
        "ConnectivityType": n.connectivity_type().map(|c| c.as_str()).unwrap_or("public"),
        "Tags": tag_subset(pairs(n.tags()), desired),
    });
    Ok(Some(Observed {
        id: nid.clone(),
        outputs: outputs(&[("id", json!(nid))]),
        settings,
    }))
}

/// Read of `route_table`.
async fn read_route_table(
    p: &AwsProvider,
    r: &Resource,
    desired: &Value,
    id: Option<&str>,
    claim: Claim,
) -> Result<Option<Observed>> {
    let Some(t) = describe_ours!(
        p,
        r,
        id,
        claim,
        "DescribeRouteTables",
        describe_route_tables,
        route_table_ids,
        set_filters,
        route_tables,
        []
    ) else {
        return Ok(None);
    };
    let tid = t.route_table_id().unwrap_or_default().to_string();
    let routes: Vec<Value> = t
        .routes()
        .iter()
        .filter(|rt| rt.destination_cidr_block() == Some("0.0.0.0/0"))
        .map(|rt| match (rt.gateway_id(), rt.nat_gateway_id()) {
            (_, Some(nat)) => {
                json!({ "DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": nat })
            }
            (Some(g), _) => json!({ "DestinationCidrBlock": "0.0.0.0/0", "GatewayId": g }),
            _ => json!({ "DestinationCidrBlock": "0.0.0.0/0" }),
        })
        .collect();
    let subnets: Vec<&str> = t
        .associations()
        .iter()
        .filter_map(|a| a.subnet_id())
        .collect();
    let settings = json!({ "VpcId": t.vpc_id(), "Routes": routes, "SubnetIds": subnets, "Tags": tag_subset(pairs(t.tags()), desired) });
    Ok(Some(Observed {
        id: tid.clone(),
        outputs: outputs(&[("id", json!(tid))]),
        settings,
    }))
}

/// Read of `security_group`.
async fn read_security_group(
    p: &AwsProvider,
    r: &Resource,
    desired: &Value,
    id: Option<&str>,
    claim: Claim,
) -> Result<Option<Observed>> {
    let Some(g) = describe_ours!(
        p,
        r,
        id,
        claim,
        "DescribeSecurityGroups",
        describe_security_groups,
        group_ids,
        set_filters,
        security_groups,
        []
    ) else {
        return Ok(None);
    };
    let gid = g.group_id().unwrap_or_default().to_string();
    let settings = json!({
        "GroupName": g.group_name(),
        "Description": g.description(),
        "VpcId": g.vpc_id(),
        "IpPermissions": g.ip_permissions().iter().map(|x| permission_json(x, &gid)).collect::<Vec<_>>(),
        "IpPermissionsEgress": g.ip_permissions_egress().iter().map(|x| permission_json(x, &gid)).collect::<Vec<_>>(),
        "Tags": tag_subset(pairs(g.tags()), desired),
    });
    Ok(Some(Observed {
        id: gid.clone(),
        outputs: outputs(&[("id", json!(gid))]),
        settings,
    }))
}

/// Read of `vpc_endpoint`.
async fn read_vpc_endpoint(
    p: &AwsProvider,
    r: &Resource,
    desired: &Value,
    id: Option<&str>,
    claim: Claim,
) -> Result<Option<Observed>> {
    let live = filter(
        "vpc-endpoint-state",
        &["pendingAcceptance", "pending", "available"],
    );
    let Some(e) = describe_ours!(
        p,
        r,
        id,
        claim,
        "DescribeVpcEndpoints",
        describe_vpc_endpoints,
        vpc_endpoint_ids,
        set_filters,
        vpc_endpoints,
        [live]
    ) else {
        return Ok(None);
    };
    let eid = e.vpc_endpoint_id().unwrap_or_default().to_string();
    let gateway = e.vpc_endpoint_type() == Some(&VpcEndpointType::Gateway);
    let mut settings = json!({
        "VpcEndpointType": e.vpc_endpoint_type().map(|t| t.as_str()),
        "ServiceName": e.service_name(),
        "VpcId": e.vpc_id(),
        "Tags": tag_subset(pairs(e.tags()), desired),
    });
    if gateway {
        settings["RouteTableIds"] = json!(e.route_table_ids());
    } else {
        settings["SubnetIds"] = json!(e.subnet_ids());
        settings["SecurityGroupIds"] = json!(e
            .groups()
            .iter()
            .filter_map(|g| g.group_id())
            .collect::<Vec<_>>());
        settings["PrivateDnsEnabled"] = json!(e.private_dns_enabled().unwrap_or(false));
    }
    Ok(Some(Observed {
        id: eid.clone(),
        outputs: outputs(&[("id", json!(eid))]),
        settings,
    }))
}

/// Read of `flow_log`.
async fn read_flow_log(
    p: &AwsProvider,
    desired: &Value,
    id: Option<&str>,
) -> Result<Option<Observed>> {
    // A flow log is identified by what it watches and where it writes.
    let watched = strings(desired.get("ResourceIds"));
    let req = match id {
        Some(id) => p.ec2.describe_flow_logs().flow_log_ids(id),
        None => p.ec2.describe_flow_logs().filter(filter(
            "resource-id",
            &watched.iter().map(String::as_str).collect::<Vec<_>>(),
        )),
    };
    let Some(out) = not_found(p.call("DescribeFlowLogs", req.send()).await)? else {
        return Ok(None);
    };
    let destination = s(desired, "LogDestination");
    let Some(f) = out
        .flow_logs()
        .iter()
        .find(|f| id.is_some() || f.log_destination() == Some(destination.as_str()))
    else {
        return Ok(None);
    };
    let fid = f.flow_log_id().unwrap_or_default().to_string();
    let settings = json!({
        "ResourceIds": [f.resource_id()],
        "TrafficType": f.traffic_type().map(|t| t.as_str()),
        "LogDestinationType": f.log_destination_type().map(|t| t.as_str()),
        "LogDestination": f.log_destination(),
        "Tags": tag_subset(pairs(f.tags()), desired),
    });
    Ok(Some(Observed {
        id: fid.clone(),
        outputs: outputs(&[("id", json!(fid))]),
        settings,
    }))
}

/// Read of `launch_template`.
async fn read_launch_template(
    p: &AwsProvider,
    desired: &Value,
    claim: Claim,
) -> Result<Option<Observed>> {
    let name = s(desired, "LaunchTemplateName");
    let Some(out) = not_found(
        p.call(
            "DescribeLaunchTemplates",
            p.ec2
                .describe_launch_templates()
                .launch_template_names(&name)
                .send(),
        )
        .await,
    )?
    else {
        return Ok(None);
    };
    let Some(t) = out.launch_templates().first() else {
        return Ok(None);
    };
    p.ensure_ours(&format!("launch template {name}"), &pairs(t.tags()), claim)?;
    let tid = t.launch_template_id().unwrap_or_default().to_string();
    let latest = t.latest_version_number().unwrap_or(1);
    let versions = p
        .call(
            "DescribeLaunchTemplateVersions",
            p.ec2
                .describe_launch_template_versions()
                .launch_template_id(&tid)
                .versions(latest.to_string())
                .send(),
        )
        .await?;
    let data = versions
        .launch_template_versions()
        .first()
        .and_then(|v| v.launch_template_data());
    let ebs = data
        .and_then(|d| d.block_device_mappings().first())
        .and_then(|b| b.ebs());
    let mut ebs_json = json!({
        "VolumeSize": ebs.and_then(|e| e.volume_size()),
        "VolumeType": ebs.and_then(|e| e.volume_type()).map(|t| t.as_str()),
        "Encrypted": ebs.and_then(|e| e.encrypted()).unwrap_or(false),
        "DeleteOnTermination": ebs.and_then(|e| e.delete_on_termination()).unwrap_or(false),
    });
    if let Some(k) = ebs.and_then(|e| e.kms_key_id()) {
        ebs_json["KmsKeyId"] = json!(k);
    }
    let md = data.and_then(|d| d.metadata_options());
    let settings = json!({
        "LaunchTemplateName": name,
        "LaunchTemplateData": {
            "SecurityGroupIds": data.map(|d| d.security_group_ids()).unwrap_or_default(),
            "BlockDeviceMappings": [{ "DeviceName": data.and_then(|d| d.block_device_mappings().first()).and_then(|b| b.device_name()), "Ebs": ebs_json }],
            "MetadataOptions": {
                "HttpTokens": md.and_then(|m| m.http_tokens()).map(|t| t.as_str()),
                "HttpPutResponseHopLimit": md.and_then(|m| m.http_put_response_hop_limit()),
                "HttpEndpoint": md.and_then(|m| m.http_endpoint()).map(|t| t.as_str()),
            }
        },
        "Tags": tag_subset(pairs(t.tags()), desired),
    });
    Ok(Some(Observed {
        id: tid.clone(),
        outputs: outputs(&[
            ("id", json!(tid)),
            ("latest_version", json!(latest.to_string())),
        ]),
        settings,
    }))
}

/// Read of `vpc_endpoint_service`.
async fn read_vpc_endpoint_service(
    p: &AwsProvider,
    r: &Resource,
    desired: &Value,
    id: Option<&str>,
    claim: Claim,
) -> Result<Option<Observed>> {
    // Deleted configurations stay listed for a while.
    let alive = |items: &[aws_sdk_ec2::types::ServiceConfiguration]| {
        items
            .iter()
            .find(|c| {
                !matches!(
                    c.service_state().map(|s| s.as_str()),
                    Some("Deleted" | "Deleting")
                )
            })
            .cloned()
    };
    let Some(c) = describe_ours!(
        p,
        r,
        id,
        claim,
        "DescribeVpcEndpointServiceConfigurations",
        describe_vpc_endpoint_service_configurations,
        service_ids,
        set_filters,
        service_configurations,
        [],
        alive
    ) else {
        return Ok(None);
    };
    let sid = c.service_id().unwrap_or_default().to_string();
    let perms = p
        .call(
            "DescribeVpcEndpointServicePermissions",
            p.ec2
                .describe_vpc_endpoint_service_permissions()
                .service_id(&sid)
                .send(),
        )
        .await?;
    let principals: Vec<&str> = perms
        .allowed_principals()
        .iter()
        .filter_map(|a| a.principal())
        .collect();
    let settings = json!({
        "NetworkLoadBalancerArns": c.network_load_balancer_arns(),
        "AcceptanceRequired": c.acceptance_required().unwrap_or(false),
        "AllowedPrincipals": principals,
        "Tags": tag_subset(pairs(c.tags()), desired),
    });
    Ok(Some(Observed {
        id: sid.clone(),
        outputs: outputs(&[
            ("id", json!(sid)),
            ("service_name", json!(c.service_name())),
        ]),
        settings,
    }))
}

/// An EC2 permission as the plan writes it (a rule naming its own group says "self").
fn permission_json(x: &IpPermission, own_group: &str) -> Value {
    let mut v = json!({ "IpProtocol": x.ip_protocol() });
    if x.ip_protocol() != Some("-1") {
        v["FromPort"] = json!(x.from_port());
        v["ToPort"] = json!(x.to_port());
    }
    if !x.ip_ranges().is_empty() {
        v["IpRanges"] = json!(x
            .ip_ranges()
            .iter()
            .map(|r| {
                let mut o = json!({ "CidrIp": r.cidr_ip() });
                if let Some(d) = r.description() {
                    o["Description"] = json!(d);
                }
                o
            })
            .collect::<Vec<_>>());
    }
    if !x.user_id_group_pairs().is_empty() {
        v["UserIdGroupPairs"] = json!(x
            .user_id_group_pairs()
            .iter()
            .map(|g| {
                let id = g.group_id().unwrap_or_default();
                let mut o = json!({ "GroupId": if id == own_group { "self" } else { id } });
                if let Some(d) = g.description() {
                    o["Description"] = json!(d);
                }
                o
            })
            .collect::<Vec<_>>());
    }
    v
}

fn permission_sdk(v: &Value, own_group: &str) -> IpPermission {
    let mut b = IpPermission::builder().ip_protocol(s(v, "IpProtocol"));
    if let (Some(from), Some(to)) = (
        v.get("FromPort").and_then(Value::as_i64),
        v.get("ToPort").and_then(Value::as_i64),
    ) {
        b = b.from_port(from as i32).to_port(to as i32);
    }
    for r in v
        .get("IpRanges")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let mut ip = IpRange::builder().cidr_ip(s(r, "CidrIp"));
        if let Some(d) = r.get("Description").and_then(Value::as_str) {
            ip = ip.description(d);
        }
        b = b.ip_ranges(ip.build());
    }
    for g in v
        .get("UserIdGroupPairs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let id = s(g, "GroupId");
        let mut pair = UserIdGroupPair::builder().group_id(if id == "self" {
            own_group.to_string()
        } else {
            id
        });
        if let Some(d) = g.get("Description").and_then(Value::as_str) {
            pair = pair.description(d);
        }
        b = b.user_id_group_pairs(pair.build());
    }
    b.build()
}

/// The SDK sends the request once: its own retry would send a create again after an answer
/// was lost, and EC2 would make a second resource.
fn once() -> aws_sdk_ec2::config::Builder {
    aws_sdk_ec2::config::Builder::default()
        .retry_config(aws_smithy_types::retry::RetryConfig::disabled())
}

/// Creates what EC2 makes without an idempotency token (VPCs, subnets, internet gateways,
/// Elastic IPs, route tables): tagged with the plan address at creation, sent once, and
/// looked up by that tag before any retry. Returns the resource's id.
async fn create_untokened<T, E, F, Fut>(
    p: &AwsProvider,
    r: &Resource,
    d: &Value,
    api: &'static str,
    send: F,
    id_of: impl Fn(&T) -> String,
) -> Result<String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<
        Output = Result<
            T,
            aws_smithy_runtime_api::client::result::SdkError<
                E,
                aws_smithy_runtime_api::client::orchestrator::HttpResponse,
            >,
        >,
    >,
    E: std::error::Error + aws_sdk_ec2::error::ProvideErrorMetadata + Send + Sync + 'static,
{
    send_once_then_look_up(p, api, send, id_of, || async {
        Ok(read(p, r, d, None, Claim::Intent).await?.map(|o| o.id))
    })
    .await
}

pub async fn create(p: &AwsProvider, r: &Resource, d: &Value, token: &str) -> Result<Observed> {
    match r.type_name() {
        "vpc" => create_vpc(p, r, d).await?,
        "subnet" => create_subnet(p, r, d).await?,
        "internet_gateway" => create_internet_gateway(p, r, d).await?,
        "eip" => create_eip(p, r, d).await?,
        "nat_gateway" => create_nat_gateway(p, r, d, token).await?,
        "route_table" => create_route_table(p, r, d).await?,
        "security_group" => create_security_group(p, r, d).await?,
        "vpc_endpoint" => create_vpc_endpoint(p, r, d, token).await?,
        "flow_log" => create_flow_log(p, r, d, token).await?,
        "launch_template" => create_launch_template(p, r, d, token).await?,
        "vpc_endpoint_service" => create_vpc_endpoint_service(p, r, d, token).await?,
        other => return Err(anyhow!("the AWS provider cannot create `{other}`")),
    }
    // Read back through the tag: the same path a resumed run takes.
    read(p, r, d, None, Claim::Recorded)
        .await?
        .ok_or_else(|| anyhow!("{} was created but cannot be found by its tag", r.address))
}

/// Create of `vpc`.
async fn create_vpc(p: &AwsProvider, r: &Resource, d: &Value) -> Result<()> {
    let send = || {
        p.ec2
            .create_vpc()
            .cidr_block(s(d, "CidrBlock"))
            .tag_specifications(tag_spec(p, r, d, ResourceType::Vpc))
            .customize()
            .config_override(once())
            .send()
    };
    let id = create_untokened(p, r, d, "CreateVpc", send, |out| {
        out.vpc()
            .and_then(|v| v.vpc_id())
            .unwrap_or_default()
            .to_string()
    })
    .await?;
    wait_until("the VPC to be available", p.wait_timeout, || async {
        let o = p
            .call("DescribeVpcs", p.ec2.describe_vpcs().vpc_ids(&id).send())
            .await?;
        Ok(o.vpcs().first().and_then(|v| v.state()).map(|s| s.as_str()) == Some("available"))
    })
    .await?;
    set_vpc_dns(p, &id, d).await?;
    Ok(())
}

/// Create of `subnet`.
async fn create_subnet(p: &AwsProvider, r: &Resource, d: &Value) -> Result<()> {
    let send = || {
        p.ec2
            .create_subnet()
            .vpc_id(s(d, "VpcId"))
            .cidr_block(s(d, "CidrBlock"))
            .availability_zone(s(d, "AvailabilityZone"))
            .tag_specifications(tag_spec(p, r, d, ResourceType::Subnet))
            .customize()
            .config_override(once())
            .send()
    };
    create_untokened(p, r, d, "CreateSubnet", send, |out| {
        out.subnet()
            .and_then(|s| s.subnet_id())
            .unwrap_or_default()
            .to_string()
    })
    .await?;
    Ok(())
}

/// Create of `internet_gateway`.
async fn create_internet_gateway(p: &AwsProvider, r: &Resource, d: &Value) -> Result<()> {
    let send = || {
        p.ec2
            .create_internet_gateway()
            .tag_specifications(tag_spec(p, r, d, ResourceType::InternetGateway))
            .customize()
            .config_override(once())
            .send()
    };
    let id = create_untokened(p, r, d, "CreateInternetGateway", send, |out| {
        out.internet_gateway()
            .and_then(|g| g.internet_gateway_id())
            .unwrap_or_default()
            .to_string()
    })
    .await?;
    already_done(
        p.call(
            "AttachInternetGateway",
            p.ec2
                .attach_internet_gateway()
                .internet_gateway_id(&id)
                .vpc_id(s(d, "VpcId"))
                .send(),
        )
        .await,
        &["Resource.AlreadyAssociated"],
    )?;
    Ok(())
}

/// Create of `eip`.
async fn create_eip(p: &AwsProvider, r: &Resource, d: &Value) -> Result<()> {
    let send = || {
        p.ec2
            .allocate_address()
            .domain(DomainType::Vpc)
            .tag_specifications(tag_spec(p, r, d, ResourceType::ElasticIp))
            .customize()
            .config_override(once())
            .send()
    };
    create_untokened(p, r, d, "AllocateAddress", send, |out| {
        out.allocation_id().unwrap_or_default().to_string()
    })
    .await?;
    Ok(())
}

/// Create of `nat_gateway`.
async fn create_nat_gateway(p: &AwsProvider, r: &Resource, d: &Value, token: &str) -> Result<()> {
    let out = p
        .call(
            "CreateNatGateway",
            p.ec2
                .create_nat_gateway()
                .subnet_id(s(d, "SubnetId"))
                .allocation_id(s(d, "AllocationId"))
                .client_token(token)
                .tag_specifications(tag_spec(p, r, d, ResourceType::Natgateway))
                .send(),
        )
        .await?;
    let id = out
        .nat_gateway()
        .and_then(|n| n.nat_gateway_id())
        .unwrap_or_default()
        .to_string();
    wait_until(
        "the NAT gateway to be available",
        p.wait_timeout,
        || async {
            let o = p
                .call(
                    "DescribeNatGateways",
                    p.ec2.describe_nat_gateways().nat_gateway_ids(&id).send(),
                )
                .await?;
            match o
                .nat_gateways()
                .first()
                .and_then(|n| n.state())
                .map(|s| s.as_str())
            {
                Some("available") => Ok(true),
                Some("failed") => Err(anyhow!("NAT gateway {id} failed")),
                _ => Ok(false),
            }
        },
    )
    .await?;
    Ok(())
}

/// Create of `route_table`.
async fn create_route_table(p: &AwsProvider, r: &Resource, d: &Value) -> Result<()> {
    let send = || {
        p.ec2
            .create_route_table()
            .vpc_id(s(d, "VpcId"))
            .tag_specifications(tag_spec(p, r, d, ResourceType::RouteTable))
            .customize()
            .config_override(once())
            .send()
    };
    let id = create_untokened(p, r, d, "CreateRouteTable", send, |out| {
        out.route_table()
            .and_then(|t| t.route_table_id())
            .unwrap_or_default()
            .to_string()
    })
    .await?;
    put_routes(p, &id, d, &Value::Null).await?;
    Ok(())
}

/// Create of `security_group`.
async fn create_security_group(p: &AwsProvider, r: &Resource, d: &Value) -> Result<()> {
    let out = p
        .call(
            "CreateSecurityGroup",
            p.ec2
                .create_security_group()
                .group_name(s(d, "GroupName"))
                .description(s(d, "Description"))
                .vpc_id(s(d, "VpcId"))
                .tag_specifications(tag_spec(p, r, d, ResourceType::SecurityGroup))
                .send(),
        )
        .await?;
    let id = out.group_id().unwrap_or_default().to_string();
    // A new group allows all egress; the plan's rules replace that.
    let default_egress = IpPermission::builder()
        .ip_protocol("-1")
        .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
        .build();
    already_done(
        p.call(
            "RevokeSecurityGroupEgress",
            p.ec2
                .revoke_security_group_egress()
                .group_id(&id)
                .ip_permissions(default_egress)
                .send(),
        )
        .await,
        &["InvalidPermission.NotFound"],
    )?;
    sync_rules(
        p,
        &id,
        d,
        &json!({ "IpPermissions": [], "IpPermissionsEgress": [] }),
    )
    .await?;
    Ok(())
}

/// Create of `vpc_endpoint`.
async fn create_vpc_endpoint(p: &AwsProvider, r: &Resource, d: &Value, token: &str) -> Result<()> {
    let gateway = s(d, "VpcEndpointType") == "Gateway";
    let mut req = p
        .ec2
        .create_vpc_endpoint()
        .vpc_id(s(d, "VpcId"))
        .service_name(s(d, "ServiceName"))
        .vpc_endpoint_type(if gateway {
            VpcEndpointType::Gateway
        } else {
            VpcEndpointType::Interface
        })
        .client_token(token)
        .tag_specifications(tag_spec(p, r, d, ResourceType::VpcEndpoint));
    if gateway {
        req = req.set_route_table_ids(Some(strings(d.get("RouteTableIds"))));
    } else {
        req = req
            .set_subnet_ids(Some(strings(d.get("SubnetIds"))))
            .set_security_group_ids(Some(strings(d.get("SecurityGroupIds"))))
            .private_dns_enabled(
                d.get("PrivateDnsEnabled")
                    .and_then(Value::as_bool)
                    .unwrap_or(true),
            );
    }
    p.call("CreateVpcEndpoint", req.send()).await?;
    Ok(())
}

/// Create of `flow_log`.
async fn create_flow_log(p: &AwsProvider, r: &Resource, d: &Value, token: &str) -> Result<()> {
    let out = p
        .call(
            "CreateFlowLogs",
            p.ec2
                .create_flow_logs()
                .set_resource_ids(Some(strings(d.get("ResourceIds"))))
                .resource_type(aws_sdk_ec2::types::FlowLogsResourceType::Vpc)
                .traffic_type(aws_sdk_ec2::types::TrafficType::All)
                .log_destination_type(aws_sdk_ec2::types::LogDestinationType::S3)
                .log_destination(s(d, "LogDestination"))
                .max_aggregation_interval(
                    d.get("MaxAggregationInterval")
                        .and_then(Value::as_i64)
                        .unwrap_or(600) as i32,
                )
                .client_token(token)
                .tag_specifications(tag_spec(p, r, d, ResourceType::VpcFlowLog))
                .send(),
        )
        .await?;
    // CreateFlowLogs reports per-resource failures in the response, not as an error.
    if let Some(failed) = out.unsuccessful().first() {
        let e = failed.error();
        return Err(anyhow!(
            "CreateFlowLogs: {}: {}",
            e.and_then(|e| e.code()).unwrap_or("failed"),
            e.and_then(|e| e.message()).unwrap_or("no message")
        ));
    }
    Ok(())
}

/// Create of `launch_template`.
async fn create_launch_template(
    p: &AwsProvider,
    r: &Resource,
    d: &Value,
    token: &str,
) -> Result<()> {
    p.call(
        "CreateLaunchTemplate",
        p.ec2
            .create_launch_template()
            .launch_template_name(s(d, "LaunchTemplateName"))
            .launch_template_data(template_data(d))
            .client_token(token)
            .tag_specifications(tag_spec(p, r, d, ResourceType::LaunchTemplate))
            .send(),
    )
    .await?;
    Ok(())
}

/// Create of `vpc_endpoint_service`.
async fn create_vpc_endpoint_service(
    p: &AwsProvider,
    r: &Resource,
    d: &Value,
    token: &str,
) -> Result<()> {
    let out = p
        .call(
            "CreateVpcEndpointServiceConfiguration",
            p.ec2
                .create_vpc_endpoint_service_configuration()
                .set_network_load_balancer_arns(Some(strings(d.get("NetworkLoadBalancerArns"))))
                .acceptance_required(
                    d.get("AcceptanceRequired")
                        .and_then(Value::as_bool)
                        .unwrap_or(true),
                )
                .client_token(token)
                .tag_specifications(tag_spec(p, r, d, ResourceType::VpcEndpointService))
                .send(),
        )
        .await?;
    let id = out
        .service_configuration()
        .and_then(|c| c.service_id())
        .unwrap_or_default()
        .to_string();
    p.call(
        "ModifyVpcEndpointServicePermissions",
        p.ec2
            .modify_vpc_endpoint_service_permissions()
            .service_id(&id)
            .set_add_allowed_principals(Some(strings(d.get("AllowedPrincipals"))))
            .send(),
    )
    .await?;
    Ok(())
}

fn template_data(d: &Value) -> RequestLaunchTemplateData {
    let data = d.get("LaunchTemplateData").cloned().unwrap_or(Value::Null);
    let mapping = data
        .pointer("/BlockDeviceMappings/0")
        .cloned()
        .unwrap_or(Value::Null);
    let ebs = mapping.get("Ebs").cloned().unwrap_or(Value::Null);
    let mut e = LaunchTemplateEbsBlockDeviceRequest::builder()
        .volume_size(ebs.get("VolumeSize").and_then(Value::as_i64).unwrap_or(100) as i32)
        .volume_type(VolumeType::from(s(&ebs, "VolumeType").as_str()))
        .encrypted(
            ebs.get("Encrypted")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        )
        .delete_on_termination(
            ebs.get("DeleteOnTermination")
                .and_then(Value::as_bool)
                .unwrap_or(true),
        );
    if let Some(k) = ebs.get("KmsKeyId").and_then(Value::as_str) {
        e = e.kms_key_id(k);
    }
    let md = data.get("MetadataOptions").cloned().unwrap_or(Value::Null);
    RequestLaunchTemplateData::builder()
        .block_device_mappings(
            LaunchTemplateBlockDeviceMappingRequest::builder()
                .device_name(s(&mapping, "DeviceName"))
                .ebs(e.build())
                .build(),
        )
        .metadata_options(
            LaunchTemplateInstanceMetadataOptionsRequest::builder()
                .http_tokens(LaunchTemplateHttpTokensState::from(
                    s(&md, "HttpTokens").as_str(),
                ))
                .http_put_response_hop_limit(
                    md.get("HttpPutResponseHopLimit")
                        .and_then(Value::as_i64)
                        .unwrap_or(2) as i32,
                )
                .http_endpoint(LaunchTemplateInstanceMetadataEndpointState::from(
                    s(&md, "HttpEndpoint").as_str(),
                ))
                .build(),
        )
        .set_security_group_ids(
            Some(strings(data.get("SecurityGroupIds"))).filter(|g| !g.is_empty()),
        )
        .build()
}

async fn set_vpc_dns(p: &AwsProvider, id: &str, d: &Value) -> Result<()> {
    let flag = |k| {
        AttributeBooleanValue::builder()
            .value(d.get(k).and_then(Value::as_bool).unwrap_or(true))
            .build()
    };
    p.call(
        "ModifyVpcAttribute",
        p.ec2
            .modify_vpc_attribute()
            .vpc_id(id)
            .enable_dns_support(flag("EnableDnsSupport"))
            .send(),
    )
    .await?;
    p.call(
        "ModifyVpcAttribute",
        p.ec2
            .modify_vpc_attribute()
            .vpc_id(id)
            .enable_dns_hostnames(flag("EnableDnsHostnames"))
            .send(),
    )
    .await?;
    Ok(())
}

/// Makes the default route and subnet associations of a route table what the plan says.
async fn put_routes(p: &AwsProvider, id: &str, d: &Value, live: &Value) -> Result<()> {
    let live_routes = live.get("Routes").cloned().unwrap_or(json!([]));
    if d.get("Routes") != Some(&live_routes) {
        for route in d
            .get("Routes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let mut req = p
                .ec2
                .create_route()
                .route_table_id(id)
                .destination_cidr_block(s(route, "DestinationCidrBlock"));
            if let Some(g) = route.get("GatewayId").and_then(Value::as_str) {
                req = req.gateway_id(g);
            }
            if let Some(n) = route.get("NatGatewayId").and_then(Value::as_str) {
                req = req.nat_gateway_id(n);
            }
            let replace = || {
                let mut rep = p
                    .ec2
                    .replace_route()
                    .route_table_id(id)
                    .destination_cidr_block(s(route, "DestinationCidrBlock"));
                if let Some(g) = route.get("GatewayId").and_then(Value::as_str) {
                    rep = rep.gateway_id(g);
                }
                if let Some(n) = route.get("NatGatewayId").and_then(Value::as_str) {
                    rep = rep.nat_gateway_id(n);
                }
                rep
            };
            if live_routes.as_array().is_some_and(|a| !a.is_empty()) {
                p.call("ReplaceRoute", replace().send()).await?;
            } else {
                match p.call("CreateRoute", req.send()).await {
                    // The SDK sent it again after the first answer was lost: the route
                    // exists; ReplaceRoute makes sure it points where the plan says.
                    Err(e) if e.is(&["RouteAlreadyExists"]) => {
                        p.call("ReplaceRoute", replace().send()).await?;
                    }
                    other => {
                        other?;
                    }
                }
            }
        }
    }
    let have = strings(live.get("SubnetIds"));
    for subnet in strings(d.get("SubnetIds"))
        .into_iter()
        .filter(|s| !have.contains(s))
    {
        already_done(
            p.call(
                "AssociateRouteTable",
                p.ec2
                    .associate_route_table()
                    .route_table_id(id)
                    .subnet_id(subnet)
                    .send(),
            )
            .await,
            &["Resource.AlreadyAssociated"],
        )?;
    }
    Ok(())
}

/// Makes a security group's rules exactly the plan's: revokes extra, authorizes missing.
async fn sync_rules(p: &AwsProvider, id: &str, d: &Value, live: &Value) -> Result<()> {
    for (key, ingress) in [("IpPermissions", true), ("IpPermissionsEgress", false)] {
        let want: Vec<Value> = d
            .get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let have: Vec<Value> = live
            .get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let extra: Vec<IpPermission> = have
            .iter()
            .filter(|h| !want.contains(h))
            .map(|h| permission_sdk(h, id))
            .collect();
        let missing: Vec<IpPermission> = want
            .iter()
            .filter(|w| !have.contains(w))
            .map(|w| permission_sdk(w, id))
            .collect();
        if !extra.is_empty() {
            if ingress {
                already_done(
                    p.call(
                        "RevokeSecurityGroupIngress",
                        p.ec2
                            .revoke_security_group_ingress()
                            .group_id(id)
                            .set_ip_permissions(Some(extra))
                            .send(),
                    )
                    .await,
                    &["InvalidPermission.NotFound"],
                )?;
            } else {
                already_done(
                    p.call(
                        "RevokeSecurityGroupEgress",
                        p.ec2
                            .revoke_security_group_egress()
                            .group_id(id)
                            .set_ip_permissions(Some(extra))
                            .send(),
                    )
                    .await,
                    &["InvalidPermission.NotFound"],
                )?;
            }
        }
        if !missing.is_empty() {
            if ingress {
                already_done(
                    p.call(
                        "AuthorizeSecurityGroupIngress",
                        p.ec2
                            .authorize_security_group_ingress()
                            .group_id(id)
                            .set_ip_permissions(Some(missing))
                            .send(),
                    )
                    .await,
                    &["InvalidPermission.Duplicate"],
                )?;
            } else {
                already_done(
                    p.call(
                        "AuthorizeSecurityGroupEgress",
                        p.ec2
                            .authorize_security_group_egress()
                            .group_id(id)
                            .set_ip_permissions(Some(missing))
                            .send(),
                    )
                    .await,
                    &["InvalidPermission.Duplicate"],
                )?;
            }
        }
    }
    Ok(())
}

pub async fn update(
    p: &AwsProvider,
    r: &Resource,
    d: &Value,
    live: &Observed,
    changed: &[String],
) -> Result<Observed> {
    let id = live.id.as_str();
    let only = |prefixes: &[&str]| {
        changed
            .iter()
            .all(|c| prefixes.iter().any(|p| c.starts_with(p)))
    };
    if changed.iter().all(|c| c.starts_with("/Tags")) {
        retag(p, r, id, d).await?;
    } else {
        match r.type_name() {
            "vpc" if only(&["/Tags", "/EnableDns"]) => {
                set_vpc_dns(p, id, d).await?;
                retag(p, r, id, d).await?;
            }
            "route_table" if only(&["/Tags", "/Routes", "/SubnetIds"]) => {
                put_routes(p, id, d, &live.settings).await?;
                retag(p, r, id, d).await?;
            }
            "security_group" if only(&["/Tags", "/IpPermissions"]) => {
                sync_rules(p, id, d, &live.settings).await?;
                retag(p, r, id, d).await?;
            }
            // A run killed between CreateInternetGateway and AttachInternetGateway.
            "internet_gateway" if only(&["/Tags", "/VpcId"]) => {
                let old = s(&live.settings, "VpcId");
                if !old.is_empty() {
                    already_done(
                        p.call(
                            "DetachInternetGateway",
                            p.ec2
                                .detach_internet_gateway()
                                .internet_gateway_id(id)
                                .vpc_id(old)
                                .send(),
                        )
                        .await,
                        &["Gateway.NotAttached"],
                    )?;
                }
                already_done(
                    p.call(
                        "AttachInternetGateway",
                        p.ec2
                            .attach_internet_gateway()
                            .internet_gateway_id(id)
                            .vpc_id(s(d, "VpcId"))
                            .send(),
                    )
                    .await,
                    &["Resource.AlreadyAssociated"],
                )?;
                retag(p, r, id, d).await?;
            }
            "subnet" if only(&["/Tags", "/MapPublicIpOnLaunch"]) => {
                let flag = AttributeBooleanValue::builder()
                    .value(
                        d.get("MapPublicIpOnLaunch")
                            .and_then(Value::as_bool)
                            .unwrap_or(false),
                    )
                    .build();
                p.call(
                    "ModifySubnetAttribute",
                    p.ec2
                        .modify_subnet_attribute()
                        .subnet_id(id)
                        .map_public_ip_on_launch(flag)
                        .send(),
                )
                .await?;
                retag(p, r, id, d).await?;
            }
            "vpc_endpoint_service"
                if only(&["/Tags", "/AcceptanceRequired", "/AllowedPrincipals"]) =>
            {
                p.call(
                    "ModifyVpcEndpointServiceConfiguration",
                    p.ec2
                        .modify_vpc_endpoint_service_configuration()
                        .service_id(id)
                        .acceptance_required(
                            d.get("AcceptanceRequired")
                                .and_then(Value::as_bool)
                                .unwrap_or(true),
                        )
                        .send(),
                )
                .await?;
                let want = strings(d.get("AllowedPrincipals"));
                let have = strings(live.settings.get("AllowedPrincipals"));
                let remove: Vec<String> =
                    have.iter().filter(|h| !want.contains(h)).cloned().collect();
                let add: Vec<String> = want.iter().filter(|w| !have.contains(w)).cloned().collect();
                p.call(
                    "ModifyVpcEndpointServicePermissions",
                    p.ec2
                        .modify_vpc_endpoint_service_permissions()
                        .service_id(id)
                        .set_add_allowed_principals(Some(add).filter(|v| !v.is_empty()))
                        .set_remove_allowed_principals(Some(remove).filter(|v| !v.is_empty()))
                        .send(),
                )
                .await?;
                retag(p, r, id, d).await?;
            }
            "launch_template" if only(&["/Tags", "/LaunchTemplateData"]) => {
                let out = p
                    .call(
                        "CreateLaunchTemplateVersion",
                        p.ec2
                            .create_launch_template_version()
                            .launch_template_id(id)
                            .launch_template_data(template_data(d))
                            .send(),
                    )
                    .await?;
                let version = out
                    .launch_template_version()
                    .and_then(|v| v.version_number())
                    .unwrap_or(1);
                p.call(
                    "ModifyLaunchTemplate",
                    p.ec2
                        .modify_launch_template()
                        .launch_template_id(id)
                        .default_version(version.to_string())
                        .send(),
                )
                .await?;
            }
            _ => return Err(unsupported(r, changed)),
        }
    }
    read(p, r, d, Some(id), Claim::Recorded)
        .await?
        .ok_or_else(|| anyhow!("{} disappeared while being updated", r.address))
}

pub async fn delete(p: &AwsProvider, st: &ResourceState) -> Result<()> {
    let id = st.id.as_str();
    let kind = st.kind.split_once('.').map_or(st.kind.as_str(), |(_, t)| t);
    let codes: &[&str] = &[
        "InvalidVpcID.NotFound",
        "InvalidSubnetID.NotFound",
        "InvalidInternetGatewayID.NotFound",
        "InvalidAllocationID.NotFound",
        "NatGatewayNotFound",
        "InvalidRouteTableID.NotFound",
        "InvalidGroup.NotFound",
        "InvalidVpcEndpointId.NotFound",
        "InvalidLaunchTemplateId.NotFound",
        "InvalidVpcEndpointServiceId.NotFound",
        "InvalidFlowLogId.NotFound",
        "Gateway.NotAttached",
        "InvalidAssociationID.NotFound",
        "InvalidLaunchTemplateName.NotFoundException",
    ];
    match kind {
        "vpc" => gone(
            p.call("DeleteVpc", p.ec2.delete_vpc().vpc_id(id).send())
                .await,
            codes,
        ),
        "subnet" => gone(
            p.call("DeleteSubnet", p.ec2.delete_subnet().subnet_id(id).send())
                .await,
            codes,
        ),
        "internet_gateway" => {
            if let Some(vpc) = st.settings.get("VpcId").and_then(Value::as_str) {
                gone(
                    p.call(
                        "DetachInternetGateway",
                        p.ec2
                            .detach_internet_gateway()
                            .internet_gateway_id(id)
                            .vpc_id(vpc)
                            .send(),
                    )
                    .await,
                    codes,
                )?;
            }
            gone(
                p.call(
                    "DeleteInternetGateway",
                    p.ec2
                        .delete_internet_gateway()
                        .internet_gateway_id(id)
                        .send(),
                )
                .await,
                codes,
            )
        }
        "eip" => gone(
            p.call(
                "ReleaseAddress",
                p.ec2.release_address().allocation_id(id).send(),
            )
            .await,
            codes,
        ),
        "nat_gateway" => {
            gone(
                p.call(
                    "DeleteNatGateway",
                    p.ec2.delete_nat_gateway().nat_gateway_id(id).send(),
                )
                .await,
                codes,
            )?;
            // Its address and subnet are released only once it is gone.
            wait_until("the NAT gateway to be deleted", p.wait_timeout, || async {
                let o = not_found(
                    p.call(
                        "DescribeNatGateways",
                        p.ec2.describe_nat_gateways().nat_gateway_ids(id).send(),
                    )
                    .await,
                )?;
                Ok(o.and_then(|o| {
                    o.nat_gateways()
                        .first()
                        .and_then(|n| n.state())
                        .map(|s| s.as_str().to_string())
                })
                .is_none_or(|s| s == "deleted"))
            })
            .await
        }
        "route_table" => {
            if let Some(out) = not_found(
                p.call(
                    "DescribeRouteTables",
                    p.ec2.describe_route_tables().route_table_ids(id).send(),
                )
                .await,
            )? {
                for a in out.route_tables().iter().flat_map(|t| t.associations()) {
                    if a.main() != Some(true) {
                        if let Some(aid) = a.route_table_association_id() {
                            gone(
                                p.call(
                                    "DisassociateRouteTable",
                                    p.ec2.disassociate_route_table().association_id(aid).send(),
                                )
                                .await,
                                codes,
                            )?;
                        }
                    }
                }
            }
            gone(
                p.call(
                    "DeleteRouteTable",
                    p.ec2.delete_route_table().route_table_id(id).send(),
                )
                .await,
                codes,
            )
        }
        "security_group" => gone(
            p.call(
                "DeleteSecurityGroup",
                p.ec2.delete_security_group().group_id(id).send(),
            )
            .await,
            codes,
        ),
        "vpc_endpoint" => {
            // A deleted endpoint stays listed for a while, as `deleted`: it is gone, and a
            // second delete of a gateway endpoint would look for routes it already removed.
            let state = not_found(
                p.call(
                    "DescribeVpcEndpoints",
                    p.ec2.describe_vpc_endpoints().vpc_endpoint_ids(id).send(),
                )
                .await,
            )?
            .and_then(|o| {
                o.vpc_endpoints()
                    .first()
                    .and_then(|e| e.state())
                    .map(|s| s.as_str().to_lowercase())
            });
            if state
                .as_deref()
                .is_none_or(|s| matches!(s, "deleted" | "deleting"))
            {
                return Ok(());
            }
            let out = not_found(
                p.call(
                    "DeleteVpcEndpoints",
                    p.ec2.delete_vpc_endpoints().vpc_endpoint_ids(id).send(),
                )
                .await,
            )?;
            // EC2 answers 200 and lists what it could not delete.
            unsuccessful(
                out.as_ref().map(|o| o.unsuccessful()).unwrap_or_default(),
                "DeleteVpcEndpoints",
                codes,
            )
        }
        "flow_log" => gone(
            p.call(
                "DeleteFlowLogs",
                p.ec2.delete_flow_logs().flow_log_ids(id).send(),
            )
            .await,
            codes,
        ),
        "launch_template" => gone(
            p.call(
                "DeleteLaunchTemplate",
                p.ec2.delete_launch_template().launch_template_id(id).send(),
            )
            .await,
            codes,
        ),
        "vpc_endpoint_service" => {
            let out = not_found(
                p.call(
                    "DeleteVpcEndpointServiceConfigurations",
                    p.ec2
                        .delete_vpc_endpoint_service_configurations()
                        .service_ids(id)
                        .send(),
                )
                .await,
            )?;
            unsuccessful(
                out.as_ref().map(|o| o.unsuccessful()).unwrap_or_default(),
                "DeleteVpcEndpointServiceConfigurations",
                codes,
            )
        }
        other => Err(anyhow!("the AWS provider cannot delete `{other}`")),
    }
}

/// The `Unsuccessful` items of a batch delete (answered 200): an item whose error says it is
/// already gone is done; any other is a failure.
fn unsuccessful(
    items: &[aws_sdk_ec2::types::UnsuccessfulItem],
    api: &str,
    gone_codes: &[&str],
) -> Result<()> {
    for item in items {
        let code = item.error().and_then(|e| e.code()).unwrap_or_default();
        if !gone_codes.contains(&code) && !code.ends_with(".NotFound") {
            let message = item
                .error()
                .and_then(|e| e.message())
                .unwrap_or("no message");
            return Err(anyhow!(
                "{api}: {} was not deleted: {code}: {message}",
                item.resource_id().unwrap_or("?")
            ));
        }
    }
    Ok(())
}
