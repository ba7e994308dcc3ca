//! EKS: the cluster (private endpoint, secrets encryption, all control-plane logs), managed
//! node groups, and access entries. Cluster and node-group operations take minutes on AWS:
//! each create and delete waits with backoff.

use std::collections::HashMap;

use anyhow::{anyhow, Result};
use aws_sdk_eks::types::{
    AccessScope, AccessScopeType, EncryptionConfig, KubernetesNetworkConfigRequest,
    LaunchTemplateSpecification, LogSetup, LogType, Logging, NodegroupScalingConfig, Taint,
    TaintEffect, UpdateLabelsPayload, UpdateTaintsPayload, VpcConfigRequest,
};
use serde_json::{json, Value};

use super::provider::{absent, gone, outputs, s, strings, tag_subset, AwsProvider};
use crate::exec::adoption::Claim;
use crate::exec::{wait_until, Observed};
use crate::plan::Resource;
use crate::state::ResourceState;

const MISSING: &[&str] = &["ResourceNotFoundException"];

fn tag_map(p: &AwsProvider, r: &Resource, d: &Value) -> HashMap<String, String> {
    p.tags_for(r, d).into_iter().collect()
}

fn taint_effect_json(e: Option<&TaintEffect>) -> &'static str {
    match e {
        Some(TaintEffect::NoSchedule) => "NO_SCHEDULE",
        Some(TaintEffect::NoExecute) => "NO_EXECUTE",
        Some(TaintEffect::PreferNoSchedule) => "PREFER_NO_SCHEDULE",
        _ => "NO_SCHEDULE",
    }
}

pub async fn read(
    p: &AwsProvider,
    r: &Resource,
    d: &Value,
    claim: Claim,
) -> Result<Option<Observed>> {
    match r.type_name() {
        "eks_cluster" => read_eks_cluster(p, d, claim).await,
        "eks_node_group" => read_eks_node_group(p, d, claim).await,
        "eks_access_entry" => read_eks_access_entry(p, d, claim).await,
        "eks_addon" => read_eks_addon(p, d, claim).await,
        "eks_pod_identity_association" => read_eks_pod_identity_association(p, d, claim).await,
        other => Err(anyhow!("eks does not handle {other}")),
    }
}

/// Read of `eks_cluster`.
// `EncryptionConfig.resources` is deprecated (EKS now encrypts all API data with the key
// given); the plan still says `secrets`, which the API accepts.
#[allow(deprecated)]
async fn read_eks_cluster(p: &AwsProvider, d: &Value, claim: Claim) -> Result<Option<Observed>> {
    let name = s(d, "name");
    let Some(out) = absent(
        p.call(
            "DescribeCluster",
            p.eks.describe_cluster().name(&name).send(),
        )
        .await,
        MISSING,
    )?
    else {
        return Ok(None);
    };
    let Some(c) = out.cluster() else {
        return Ok(None);
    };
    if c.status().map(|s| s.as_str()) == Some("DELETING") {
        return Ok(None);
    }
    let tags: Vec<(String, String)> = c
        .tags()
        .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    p.ensure_ours(&format!("EKS cluster {name}"), &tags, claim)?;
    let vpc = c.resources_vpc_config();
    let mut enabled: Vec<&str> = Vec::new();
    for setup in c.logging().map(|l| l.cluster_logging()).unwrap_or_default() {
        if setup.enabled() == Some(true) {
            enabled.extend(setup.types().iter().map(|t| t.as_str()));
        }
    }
    let settings = json!({
        "name": name,
        "version": c.version(),
        "roleArn": c.role_arn(),
        "resourcesVpcConfig": {
            "subnetIds": vpc.map(|v| v.subnet_ids()).unwrap_or_default(),
            "securityGroupIds": vpc.map(|v| v.security_group_ids()).unwrap_or_default(),
            "endpointPrivateAccess": vpc.map(|v| v.endpoint_private_access()).unwrap_or(false),
            "endpointPublicAccess": vpc.map(|v| v.endpoint_public_access()).unwrap_or(true),
        },
        "encryptionConfig": c.encryption_config().iter().map(|e| json!({
            "resources": e.resources(),
            "provider": { "keyArn": e.provider().and_then(|p| p.key_arn()) }
        })).collect::<Vec<_>>(),
        "logging": { "clusterLogging": [{ "types": enabled, "enabled": true }] },
        "tags": tag_subset(tags, d),
    });
    let issuer = c
        .identity()
        .and_then(|i| i.oidc())
        .and_then(|o| o.issuer())
        .unwrap_or_default()
        .to_string();
    Ok(Some(Observed {
        id: c.arn().unwrap_or_default().to_string(),
        outputs: outputs(&[
            ("name", json!(name)),
            ("arn", json!(c.arn())),
            ("endpoint", json!(c.endpoint())),
            ("oidc_issuer", json!(issuer)),
            // The private endpoint's addresses are registered in the API target group
            // by Union.ai's operator once the cluster runs; none at creation.
            ("endpoint_ips", json!([])),
        ]),
        settings,
    }))
}

/// Read of `eks_node_group`.
async fn read_eks_node_group(p: &AwsProvider, d: &Value, claim: Claim) -> Result<Option<Observed>> {
    let cluster = s(d, "clusterName");
    let name = s(d, "nodegroupName");
    let Some(out) = absent(
        p.call(
            "DescribeNodegroup",
            p.eks
                .describe_nodegroup()
                .cluster_name(&cluster)
                .nodegroup_name(&name)
                .send(),
        )
        .await,
        MISSING,
    )?
    else {
        return Ok(None);
    };
    let Some(g) = out.nodegroup() else {
        return Ok(None);
    };
    if g.status().map(|s| s.as_str()) == Some("DELETING") {
        return Ok(None);
    }
    let tags: Vec<(String, String)> = g
        .tags()
        .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    p.ensure_ours(&format!("node group {name}"), &tags, claim)?;
    let sc = g.scaling_config();
    let settings = json!({
        "clusterName": cluster,
        "nodegroupName": name,
        "nodeRole": g.node_role(),
        "subnets": g.subnets(),
        "scalingConfig": { "minSize": sc.and_then(|s| s.min_size()), "maxSize": sc.and_then(|s| s.max_size()), "desiredSize": sc.and_then(|s| s.desired_size()) },
        "instanceTypes": g.instance_types(),
        "version": g.version(),
        "launchTemplate": g.launch_template().map(|lt| json!({ "name": lt.name(), "version": lt.version() })),
        "amiType": g.ami_type().map(|a| a.as_str()),
        "labels": g.labels().cloned().unwrap_or_default(),
        "taints": g.taints().iter().map(|t| json!({ "key": t.key(), "value": t.value(), "effect": taint_effect_json(t.effect()) })).collect::<Vec<_>>(),
        "tags": tag_subset(tags, d),
    });
    Ok(Some(Observed {
        id: g.nodegroup_arn().unwrap_or_default().to_string(),
        outputs: outputs(&[("arn", json!(g.nodegroup_arn()))]),
        settings,
    }))
}

/// Read of `eks_access_entry`.
async fn read_eks_access_entry(
    p: &AwsProvider,
    d: &Value,
    claim: Claim,
) -> Result<Option<Observed>> {
    let cluster = s(d, "clusterName");
    let principal = s(d, "principalArn");
    let Some(out) = absent(
        p.call(
            "DescribeAccessEntry",
            p.eks
                .describe_access_entry()
                .cluster_name(&cluster)
                .principal_arn(&principal)
                .send(),
        )
        .await,
        MISSING,
    )?
    else {
        return Ok(None);
    };
    let Some(e) = out.access_entry() else {
        return Ok(None);
    };
    let tags: Vec<(String, String)> = e
        .tags()
        .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    p.ensure_ours(&format!("access entry of {principal}"), &tags, claim)?;
    let policies = p
        .call(
            "ListAssociatedAccessPolicies",
            p.eks
                .list_associated_access_policies()
                .cluster_name(&cluster)
                .principal_arn(&principal)
                .send(),
        )
        .await?;
    let settings = json!({
        "clusterName": cluster,
        "principalArn": principal,
        "type": e.r#type(),
        "accessPolicies": policies.associated_access_policies().iter().map(|a| json!({
            "policyArn": a.policy_arn(),
            "accessScope": { "type": a.access_scope().and_then(|s| s.r#type()).map(|t| t.as_str()) }
        })).collect::<Vec<_>>(),
    });
    Ok(Some(Observed {
        id: e.access_entry_arn().unwrap_or_default().to_string(),
        outputs: outputs(&[("arn", json!(e.access_entry_arn()))]),
        settings,
    }))
}

/// Read of `eks_addon`.
async fn read_eks_addon(p: &AwsProvider, d: &Value, claim: Claim) -> Result<Option<Observed>> {
    let cluster = s(d, "clusterName");
    let name = s(d, "addonName");
    let Some(out) = absent(
        p.call(
            "DescribeAddon",
            p.eks
                .describe_addon()
                .cluster_name(&cluster)
                .addon_name(&name)
                .send(),
        )
        .await,
        MISSING,
    )?
    else {
        return Ok(None);
    };
    let Some(a) = out.addon() else {
        return Ok(None);
    };
    let tags: Vec<(String, String)> = a
        .tags()
        .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    p.ensure_ours(&format!("add-on {name}"), &tags, claim)?;
    let settings =
        json!({ "clusterName": cluster, "addonName": name, "tags": tag_subset(tags, d) });
    Ok(Some(Observed {
        id: a.addon_arn().unwrap_or_default().to_string(),
        outputs: outputs(&[("arn", json!(a.addon_arn()))]),
        settings,
    }))
}

/// Read of `eks_pod_identity_association`.
async fn read_eks_pod_identity_association(
    p: &AwsProvider,
    d: &Value,
    claim: Claim,
) -> Result<Option<Observed>> {
    // Found by namespace and service account (one association each), not by id.
    let cluster = s(d, "clusterName");
    let list = p
        .eks
        .list_pod_identity_associations()
        .cluster_name(&cluster)
        .namespace(s(d, "namespace"))
        .service_account(s(d, "serviceAccount"));
    let Some(out) = absent(
        p.call("ListPodIdentityAssociations", list.send()).await,
        MISSING,
    )?
    else {
        return Ok(None);
    };
    let Some(id) = out
        .associations()
        .first()
        .and_then(|a| a.association_id())
        .map(String::from)
    else {
        return Ok(None);
    };
    let got = p
        .call(
            "DescribePodIdentityAssociation",
            p.eks
                .describe_pod_identity_association()
                .cluster_name(&cluster)
                .association_id(&id)
                .send(),
        )
        .await?;
    let Some(a) = got.association() else {
        return Ok(None);
    };
    let tags: Vec<(String, String)> = a
        .tags()
        .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    p.ensure_ours(&format!("pod identity association {id}"), &tags, claim)?;
    let settings = json!({
        "clusterName": cluster,
        "namespace": a.namespace(),
        "serviceAccount": a.service_account(),
        "roleArn": a.role_arn(),
        "tags": tag_subset(tags, d),
    });
    Ok(Some(Observed {
        id,
        outputs: outputs(&[("arn", json!(a.association_arn()))]),
        settings,
    }))
}

fn vpc_config(d: &Value) -> VpcConfigRequest {
    let v = d.get("resourcesVpcConfig").cloned().unwrap_or(Value::Null);
    VpcConfigRequest::builder()
        .set_subnet_ids(Some(strings(v.get("subnetIds"))))
        .set_security_group_ids(Some(strings(v.get("securityGroupIds"))))
        .endpoint_private_access(
            v.get("endpointPrivateAccess")
                .and_then(Value::as_bool)
                .unwrap_or(true),
        )
        .endpoint_public_access(
            v.get("endpointPublicAccess")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        )
        .set_public_access_cidrs(v.get("publicAccessCidrs").map(|c| strings(Some(c))))
        .build()
}

fn logging(d: &Value) -> Logging {
    let types: Vec<LogType> = d
        .pointer("/logging/clusterLogging/0/types")
        .map(|t| strings(Some(t)))
        .unwrap_or_default()
        .iter()
        .map(|t| LogType::from(t.as_str()))
        .collect();
    Logging::builder()
        .cluster_logging(
            LogSetup::builder()
                .set_types(Some(types))
                .enabled(true)
                .build(),
        )
        .build()
}

async fn wait_cluster(p: &AwsProvider, name: &str) -> Result<()> {
    wait_until(
        &format!("EKS cluster {name} to be ACTIVE"),
        p.wait_timeout,
        || async {
            let o = p
                .call(
                    "DescribeCluster",
                    p.eks.describe_cluster().name(name).send(),
                )
                .await?;
            match o.cluster().and_then(|c| c.status()).map(|s| s.as_str()) {
                Some("ACTIVE") => Ok(true),
                Some("FAILED") => Err(anyhow!("EKS cluster {name} failed")),
                _ => Ok(false),
            }
        },
    )
    .await
}

async fn wait_nodegroup(p: &AwsProvider, cluster: &str, name: &str) -> Result<()> {
    wait_until(
        &format!("node group {name} to be ACTIVE"),
        p.wait_timeout,
        || async {
            let o = p
                .call(
                    "DescribeNodegroup",
                    p.eks
                        .describe_nodegroup()
                        .cluster_name(cluster)
                        .nodegroup_name(name)
                        .send(),
                )
                .await?;
            match o.nodegroup().and_then(|g| g.status()).map(|s| s.as_str()) {
                Some("ACTIVE") => Ok(true),
                Some("CREATE_FAILED") | Some("DEGRADED") => {
                    Err(anyhow!("node group {name} failed"))
                }
                _ => Ok(false),
            }
        },
    )
    .await
}

fn taints(d: &Value) -> Vec<Taint> {
    d.get("taints")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|t| {
            Taint::builder()
                .key(s(t, "key"))
                .value(s(t, "value"))
                .effect(TaintEffect::from(s(t, "effect").as_str()))
                .build()
        })
        .collect()
}

fn labels(d: &Value) -> HashMap<String, String> {
    d.get("labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

#[allow(deprecated)]
pub async fn create(p: &AwsProvider, r: &Resource, d: &Value, token: &str) -> Result<Observed> {
    match r.type_name() {
        "eks_cluster" => {
            let name = s(d, "name");
            let mut req = p
                .eks
                .create_cluster()
                .name(&name)
                .version(s(d, "version"))
                .role_arn(s(d, "roleArn"))
                .resources_vpc_config(vpc_config(d))
                .kubernetes_network_config(
                    KubernetesNetworkConfigRequest::builder()
                        .service_ipv4_cidr(
                            d.pointer("/kubernetesNetworkConfig/serviceIpv4Cidr")
                                .and_then(Value::as_str)
                                .unwrap_or_default(),
                        )
                        .build(),
                )
                .logging(logging(d))
                .set_tags(Some(tag_map(p, r, d)));
            for e in d
                .get("encryptionConfig")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                req = req.encryption_config(
                    EncryptionConfig::builder()
                        .set_resources(Some(strings(e.get("resources"))))
                        .provider(
                            aws_sdk_eks::types::Provider::builder()
                                .key_arn(
                                    e.pointer("/provider/keyArn")
                                        .and_then(Value::as_str)
                                        .unwrap_or_default(),
                                )
                                .build(),
                        )
                        .build(),
                );
            }
            match p.call("CreateCluster", req.send()).await {
                Ok(_) => {}
                Err(e) if e.is(&["ResourceInUseException"]) => {}
                Err(e) => return Err(e.into()),
            }
            wait_cluster(p, &name).await?;
        }
        "eks_node_group" => {
            let cluster = s(d, "clusterName");
            let name = s(d, "nodegroupName");
            let sc = d.get("scalingConfig").cloned().unwrap_or(Value::Null);
            let int = |k: &str| sc.get(k).and_then(Value::as_i64).map(|v| v as i32);
            let mut req = p
                .eks
                .create_nodegroup()
                .cluster_name(&cluster)
                .nodegroup_name(&name)
                .node_role(s(d, "nodeRole"))
                .set_subnets(Some(strings(d.get("subnets"))))
                .scaling_config(
                    NodegroupScalingConfig::builder()
                        .set_min_size(int("minSize"))
                        .set_max_size(int("maxSize"))
                        .set_desired_size(int("desiredSize"))
                        .build(),
                )
                .set_instance_types(Some(strings(d.get("instanceTypes"))))
                .set_version(d.get("version").and_then(Value::as_str).map(String::from))
                .ami_type(aws_sdk_eks::types::AmiTypes::from(s(d, "amiType").as_str()))
                .capacity_type(aws_sdk_eks::types::CapacityTypes::from(
                    s(d, "capacityType").as_str(),
                ))
                .set_labels(Some(labels(d)))
                .set_taints(Some(taints(d)))
                .set_tags(Some(tag_map(p, r, d)));
            if let Some(lt) = d.get("launchTemplate") {
                req = req.launch_template(
                    LaunchTemplateSpecification::builder()
                        .name(s(lt, "name"))
                        .version(s(lt, "version"))
                        .build(),
                );
            }
            match p.call("CreateNodegroup", req.send()).await {
                Ok(_) => {}
                Err(e) if e.is(&["ResourceInUseException"]) => {}
                Err(e) => return Err(e.into()),
            }
            wait_nodegroup(p, &cluster, &name).await?;
        }
        "eks_access_entry" => {
            let cluster = s(d, "clusterName");
            let principal = s(d, "principalArn");
            p.call(
                "CreateAccessEntry",
                p.eks
                    .create_access_entry()
                    .cluster_name(&cluster)
                    .principal_arn(&principal)
                    .r#type(s(d, "type"))
                    .set_tags(Some(tag_map(p, r, d)))
                    .send(),
            )
            .await?;
            associate_policies(p, &cluster, &principal, d).await?;
        }
        "eks_addon" => {
            let cluster = s(d, "clusterName");
            let name = s(d, "addonName");
            let req = p
                .eks
                .create_addon()
                .cluster_name(&cluster)
                .addon_name(&name)
                .client_request_token(token)
                .set_tags(Some(tag_map(p, r, d)));
            match p.call("CreateAddon", req.send()).await {
                Ok(_) => {}
                Err(e) if e.is(&["ResourceInUseException"]) => {}
                Err(e) => return Err(e.into()),
            }
            wait_until(
                &format!("add-on {name} to be ACTIVE"),
                p.wait_timeout,
                || async {
                    let o = p
                        .call(
                            "DescribeAddon",
                            p.eks
                                .describe_addon()
                                .cluster_name(&cluster)
                                .addon_name(&name)
                                .send(),
                        )
                        .await?;
                    match o.addon().and_then(|a| a.status()).map(|s| s.as_str()) {
                        Some("ACTIVE") => Ok(true),
                        Some(bad @ ("CREATE_FAILED" | "DEGRADED")) => {
                            Err(anyhow!("add-on {name} is {bad}"))
                        }
                        _ => Ok(false),
                    }
                },
            )
            .await?;
        }
        "eks_pod_identity_association" => {
            let req = p
                .eks
                .create_pod_identity_association()
                .cluster_name(s(d, "clusterName"))
                .namespace(s(d, "namespace"))
                .service_account(s(d, "serviceAccount"))
                .role_arn(s(d, "roleArn"))
                .client_request_token(token)
                .set_tags(Some(tag_map(p, r, d)));
            p.call("CreatePodIdentityAssociation", req.send()).await?;
        }
        other => return Err(anyhow!("eks cannot create {other}")),
    }
    read(p, r, d, Claim::Recorded)
        .await?
        .ok_or_else(|| anyhow!("{} was created but cannot be read", r.address))
}

async fn associate_policies(
    p: &AwsProvider,
    cluster: &str,
    principal: &str,
    d: &Value,
) -> Result<()> {
    for a in d
        .get("accessPolicies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let scope = AccessScope::builder()
            .r#type(AccessScopeType::from(
                a.pointer("/accessScope/type")
                    .and_then(Value::as_str)
                    .unwrap_or("cluster"),
            ))
            .build();
        p.call(
            "AssociateAccessPolicy",
            p.eks
                .associate_access_policy()
                .cluster_name(cluster)
                .principal_arn(principal)
                .policy_arn(s(a, "policyArn"))
                .access_scope(scope)
                .send(),
        )
        .await?;
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
    let touched = |prefix: &str| changed.iter().any(|c| c.starts_with(prefix));
    let only = |prefixes: &[&str]| {
        changed
            .iter()
            .all(|c| prefixes.iter().any(|p| c.starts_with(p)))
    };
    match r.type_name() {
        "eks_cluster" => {
            let name = s(d, "name");
            if !only(&[
                "/resourcesVpcConfig/endpoint",
                "/logging",
                "/tags",
                "/version",
            ]) {
                return Err(super::provider::unsupported(r, changed));
            }
            if touched("/version") {
                // One minor version up (the plan refuses anything else); the node groups follow.
                p.call(
                    "UpdateClusterVersion",
                    p.eks
                        .update_cluster_version()
                        .name(&name)
                        .version(s(d, "version"))
                        .send(),
                )
                .await?;
                wait_cluster(p, &name).await?;
            }
            if touched("/resourcesVpcConfig") {
                let v = d.get("resourcesVpcConfig").cloned().unwrap_or(Value::Null);
                let access = VpcConfigRequest::builder()
                    .endpoint_private_access(
                        v.get("endpointPrivateAccess")
                            .and_then(Value::as_bool)
                            .unwrap_or(true),
                    )
                    .endpoint_public_access(
                        v.get("endpointPublicAccess")
                            .and_then(Value::as_bool)
                            .unwrap_or(false),
                    )
                    .build();
                p.call(
                    "UpdateClusterConfig",
                    p.eks
                        .update_cluster_config()
                        .name(&name)
                        .resources_vpc_config(access)
                        .send(),
                )
                .await?;
                wait_cluster(p, &name).await?;
            }
            if touched("/logging") {
                p.call(
                    "UpdateClusterConfig",
                    p.eks
                        .update_cluster_config()
                        .name(&name)
                        .logging(logging(d))
                        .send(),
                )
                .await?;
                wait_cluster(p, &name).await?;
            }
            if touched("/tags") {
                let arn = format!("arn:aws:eks:{}:{}:cluster/{name}", p.region, p.account);
                p.call(
                    "TagResource",
                    p.eks
                        .tag_resource()
                        .resource_arn(arn)
                        .set_tags(Some(tag_map(p, r, d)))
                        .send(),
                )
                .await?;
            }
        }
        "eks_node_group" => {
            if !only(&[
                "/scalingConfig",
                "/labels",
                "/taints",
                "/tags",
                "/version",
                "/launchTemplate",
            ]) {
                return Err(super::provider::unsupported(r, changed));
            }
            let cluster = s(d, "clusterName");
            let name = s(d, "nodegroupName");
            // A new launch template version, or the cluster's new Kubernetes version: EKS
            // replaces the nodes a few at a time (UpdateNodegroupVersion).
            if touched("/version") || touched("/launchTemplate") {
                let mut req = p
                    .eks
                    .update_nodegroup_version()
                    .cluster_name(&cluster)
                    .nodegroup_name(&name);
                if touched("/launchTemplate") {
                    let lt = d.get("launchTemplate").cloned().unwrap_or(Value::Null);
                    req = req.launch_template(
                        LaunchTemplateSpecification::builder()
                            .name(s(&lt, "name"))
                            .version(s(&lt, "version"))
                            .build(),
                    );
                }
                if touched("/version") {
                    req = req.version(s(d, "version"));
                }
                p.call("UpdateNodegroupVersion", req.send()).await?;
                wait_nodegroup(p, &cluster, &name).await?;
            }
            let sc = d.get("scalingConfig").cloned().unwrap_or(Value::Null);
            let int = |k: &str| sc.get(k).and_then(Value::as_i64).map(|v| v as i32);
            let mut req = p
                .eks
                .update_nodegroup_config()
                .cluster_name(&cluster)
                .nodegroup_name(&name);
            if touched("/scalingConfig") {
                req = req.scaling_config(
                    NodegroupScalingConfig::builder()
                        .set_min_size(int("minSize"))
                        .set_max_size(int("maxSize"))
                        .set_desired_size(int("desiredSize"))
                        .build(),
                );
            }
            if touched("/labels") {
                req = req.labels(
                    UpdateLabelsPayload::builder()
                        .set_add_or_update_labels(Some(labels(d)))
                        .build(),
                );
            }
            if touched("/taints") {
                req = req.taints(
                    UpdateTaintsPayload::builder()
                        .set_add_or_update_taints(Some(taints(d)))
                        .build(),
                );
            }
            if touched("/scalingConfig") || touched("/labels") || touched("/taints") {
                p.call("UpdateNodegroupConfig", req.send()).await?;
                wait_nodegroup(p, &cluster, &name).await?;
            }
        }
        "eks_access_entry" => {
            if !only(&["/accessPolicies"]) {
                return Err(super::provider::unsupported(r, changed));
            }
            associate_policies(p, &s(d, "clusterName"), &s(d, "principalArn"), d).await?;
        }
        "eks_pod_identity_association" => {
            if !only(&["/roleArn"]) {
                return Err(super::provider::unsupported(r, changed));
            }
            let req = p
                .eks
                .update_pod_identity_association()
                .cluster_name(s(d, "clusterName"))
                .association_id(&live.id)
                .role_arn(s(d, "roleArn"));
            p.call("UpdatePodIdentityAssociation", req.send()).await?;
        }
        other => return Err(anyhow!("eks cannot update {other}")),
    }
    read(p, r, d, Claim::Recorded)
        .await?
        .ok_or_else(|| anyhow!("{} disappeared while being updated", r.address))
}

pub async fn delete(p: &AwsProvider, st: &ResourceState) -> Result<()> {
    let kind = st.kind.split_once('.').map_or(st.kind.as_str(), |(_, t)| t);
    let d = &st.settings;
    match kind {
        "eks_cluster" => {
            let name = s(d, "name");
            gone(
                p.call("DeleteCluster", p.eks.delete_cluster().name(&name).send())
                    .await,
                MISSING,
            )?;
            wait_until(
                &format!("EKS cluster {name} to be deleted"),
                p.wait_timeout,
                || async {
                    Ok(absent(
                        p.call(
                            "DescribeCluster",
                            p.eks.describe_cluster().name(&name).send(),
                        )
                        .await,
                        MISSING,
                    )?
                    .is_none())
                },
            )
            .await
        }
        "eks_node_group" => {
            let cluster = s(d, "clusterName");
            let name = s(d, "nodegroupName");
            gone(
                p.call(
                    "DeleteNodegroup",
                    p.eks
                        .delete_nodegroup()
                        .cluster_name(&cluster)
                        .nodegroup_name(&name)
                        .send(),
                )
                .await,
                MISSING,
            )?;
            wait_until(
                &format!("node group {name} to be deleted"),
                p.wait_timeout,
                || async {
                    Ok(absent(
                        p.call(
                            "DescribeNodegroup",
                            p.eks
                                .describe_nodegroup()
                                .cluster_name(&cluster)
                                .nodegroup_name(&name)
                                .send(),
                        )
                        .await,
                        MISSING,
                    )?
                    .is_none())
                },
            )
            .await
        }
        "eks_access_entry" => gone(
            p.call(
                "DeleteAccessEntry",
                p.eks
                    .delete_access_entry()
                    .cluster_name(s(d, "clusterName"))
                    .principal_arn(s(d, "principalArn"))
                    .send(),
            )
            .await,
            MISSING,
        ),
        "eks_addon" => gone(
            p.call(
                "DeleteAddon",
                p.eks
                    .delete_addon()
                    .cluster_name(s(d, "clusterName"))
                    .addon_name(s(d, "addonName"))
                    .send(),
            )
            .await,
            MISSING,
        ),
        "eks_pod_identity_association" => gone(
            p.call(
                "DeletePodIdentityAssociation",
                p.eks
                    .delete_pod_identity_association()
                    .cluster_name(s(d, "clusterName"))
                    .association_id(&st.id)
                    .send(),
            )
            .await,
            MISSING,
        ),
        other => Err(anyhow!("eks cannot delete {other}")),
    }
}
