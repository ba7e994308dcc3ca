//! Elastic Load Balancing v2: the internal NLB, target group and listener behind the BYOC
//! endpoint service. Names are fixed by the plan; ARNs are read, never parsed.

use anyhow::{anyhow, Result};
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, IpAddressType, LoadBalancerSchemeEnum, LoadBalancerTypeEnum,
    ProtocolEnum, Tag, TargetTypeEnum,
};
use serde_json::{json, Value};

use super::provider::{absent, gone, outputs, s, strings, tag_subset, AwsProvider};
use crate::exec::adoption::Claim;
use crate::exec::Observed;
use crate::plan::Resource;
use crate::state::ResourceState;

const MISSING: &[&str] = &[
    "LoadBalancerNotFound",
    "TargetGroupNotFound",
    "ListenerNotFound",
];

fn tags(p: &AwsProvider, r: &Resource, d: &Value) -> Vec<Tag> {
    p.tags_for(r, d)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

async fn live_tags(p: &AwsProvider, arn: &str) -> Result<Vec<(String, String)>> {
    let out = p
        .call(
            "DescribeTags",
            p.elb.describe_tags().resource_arns(arn).send(),
        )
        .await?;
    Ok(out
        .tag_descriptions()
        .iter()
        .flat_map(|d| d.tags())
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect())
}

pub async fn read(
    p: &AwsProvider,
    r: &Resource,
    d: &Value,
    claim: Claim,
) -> Result<Option<Observed>> {
    match r.type_name() {
        "lb" => {
            let name = s(d, "Name");
            let Some(out) = absent(
                p.call(
                    "DescribeLoadBalancers",
                    p.elb.describe_load_balancers().names(&name).send(),
                )
                .await,
                MISSING,
            )?
            else {
                return Ok(None);
            };
            let Some(lb) = out.load_balancers().first() else {
                return Ok(None);
            };
            let arn = lb.load_balancer_arn().unwrap_or_default().to_string();
            let tags = live_tags(p, &arn).await?;
            p.ensure_ours(&format!("load balancer {name}"), &tags, claim)?;
            let settings = json!({
                "Name": name,
                "Scheme": lb.scheme().map(|x| x.as_str()),
                "Subnets": lb.availability_zones().iter().filter_map(|z| z.subnet_id()).collect::<Vec<_>>(),
                "Tags": tag_subset(tags, d),
            });
            Ok(Some(Observed {
                id: arn.clone(),
                outputs: outputs(&[("arn", json!(arn)), ("dns_name", json!(lb.dns_name()))]),
                settings,
            }))
        }
        "lb_target_group" => {
            let name = s(d, "Name");
            let Some(out) = absent(
                p.call(
                    "DescribeTargetGroups",
                    p.elb.describe_target_groups().names(&name).send(),
                )
                .await,
                MISSING,
            )?
            else {
                return Ok(None);
            };
            let Some(tg) = out.target_groups().first() else {
                return Ok(None);
            };
            let arn = tg.target_group_arn().unwrap_or_default().to_string();
            let tags = live_tags(p, &arn).await?;
            p.ensure_ours(&format!("target group {name}"), &tags, claim)?;
            let settings = json!({
                "Name": name,
                "Protocol": tg.protocol().map(|x| x.as_str()),
                "Port": tg.port(),
                "VpcId": tg.vpc_id(),
                "TargetType": tg.target_type().map(|x| x.as_str()),
                "Tags": tag_subset(tags, d),
            });
            Ok(Some(Observed {
                id: arn.clone(),
                outputs: outputs(&[("arn", json!(arn))]),
                settings,
            }))
        }
        "lb_listener" => {
            let lb = s(d, "LoadBalancerArn");
            let Some(out) = absent(
                p.call(
                    "DescribeListeners",
                    p.elb.describe_listeners().load_balancer_arn(&lb).send(),
                )
                .await,
                MISSING,
            )?
            else {
                return Ok(None);
            };
            let port = d.get("Port").and_then(Value::as_i64).unwrap_or(443) as i32;
            let Some(l) = out.listeners().iter().find(|l| l.port() == Some(port)) else {
                return Ok(None);
            };
            let arn = l.listener_arn().unwrap_or_default().to_string();
            let settings = json!({
                "LoadBalancerArn": lb,
                "Protocol": l.protocol().map(|x| x.as_str()),
                "Port": l.port(),
                "DefaultActions": l.default_actions().iter().map(|a| json!({ "Type": a.r#type().map(|t| t.as_str()), "TargetGroupArn": a.target_group_arn() })).collect::<Vec<_>>(),
            });
            Ok(Some(Observed {
                id: arn.clone(),
                outputs: outputs(&[("arn", json!(arn))]),
                settings,
            }))
        }
        other => Err(anyhow!("elbv2 does not handle {other}")),
    }
}

pub async fn create(p: &AwsProvider, r: &Resource, d: &Value) -> Result<Observed> {
    match r.type_name() {
        "lb" => {
            p.call(
                "CreateLoadBalancer",
                p.elb
                    .create_load_balancer()
                    .name(s(d, "Name"))
                    .r#type(LoadBalancerTypeEnum::Network)
                    .scheme(LoadBalancerSchemeEnum::Internal)
                    .ip_address_type(IpAddressType::Ipv4)
                    .set_subnets(Some(strings(d.get("Subnets"))))
                    .set_tags(Some(tags(p, r, d)))
                    .send(),
            )
            .await?;
        }
        "lb_target_group" => {
            let out = p
                .call(
                    "CreateTargetGroup",
                    p.elb
                        .create_target_group()
                        .name(s(d, "Name"))
                        .protocol(ProtocolEnum::Tcp)
                        .port(d.get("Port").and_then(Value::as_i64).unwrap_or(443) as i32)
                        .vpc_id(s(d, "VpcId"))
                        .target_type(TargetTypeEnum::Ip)
                        .health_check_protocol(ProtocolEnum::Tcp)
                        .set_tags(Some(tags(p, r, d)))
                        .send(),
                )
                .await?;
            let arn = out
                .target_groups()
                .first()
                .and_then(|t| t.target_group_arn())
                .unwrap_or_default()
                .to_string();
            let targets: Vec<_> = strings(d.get("Targets"))
                .into_iter()
                .map(|ip| {
                    aws_sdk_elasticloadbalancingv2::types::TargetDescription::builder()
                        .id(ip)
                        .port(443)
                        .build()
                })
                .collect();
            if !targets.is_empty() {
                p.call(
                    "RegisterTargets",
                    p.elb
                        .register_targets()
                        .target_group_arn(&arn)
                        .set_targets(Some(targets))
                        .send(),
                )
                .await?;
            }
        }
        "lb_listener" => {
            let action = Action::builder()
                .r#type(ActionTypeEnum::Forward)
                .target_group_arn(
                    d.pointer("/DefaultActions/0/TargetGroupArn")
                        .and_then(Value::as_str)
                        .unwrap_or_default(),
                )
                .build();
            p.call(
                "CreateListener",
                p.elb
                    .create_listener()
                    .load_balancer_arn(s(d, "LoadBalancerArn"))
                    .protocol(ProtocolEnum::Tcp)
                    .port(d.get("Port").and_then(Value::as_i64).unwrap_or(443) as i32)
                    .default_actions(action)
                    .set_tags(Some(tags(p, r, d)))
                    .send(),
            )
            .await?;
        }
        other => return Err(anyhow!("elbv2 cannot create {other}")),
    }
    read(p, r, d, Claim::Recorded)
        .await?
        .ok_or_else(|| anyhow!("{} was created but cannot be read", r.address))
}

pub async fn delete(p: &AwsProvider, st: &ResourceState) -> Result<()> {
    let kind = st.kind.split_once('.').map_or(st.kind.as_str(), |(_, t)| t);
    match kind {
        "lb" => gone(
            p.call(
                "DeleteLoadBalancer",
                p.elb
                    .delete_load_balancer()
                    .load_balancer_arn(&st.id)
                    .send(),
            )
            .await,
            MISSING,
        ),
        "lb_target_group" => gone(
            p.call(
                "DeleteTargetGroup",
                p.elb.delete_target_group().target_group_arn(&st.id).send(),
            )
            .await,
            MISSING,
        ),
        "lb_listener" => gone(
            p.call(
                "DeleteListener",
                p.elb.delete_listener().listener_arn(&st.id).send(),
            )
            .await,
            MISSING,
        ),
        other => Err(anyhow!("elbv2 cannot delete {other}")),
    }
}
