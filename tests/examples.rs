//! Every example profile: it is exactly what `init` writes, it plans, its plan matches the
//! golden files, and it has the settings SPEC §4 asks for.

use std::path::Path;

use serde_json::Value;
use unionctl::plan::{self, render, Party, Plan};
use unionctl::profile::{self, schema::UNION_AWS_ACCOUNT_ID, template, Model, Provider};

fn examples() -> Vec<(Provider, Model, String)> {
    let mut out = Vec::new();
    for cloud in Provider::ALL {
        for model in Model::ALL {
            out.push((cloud, model, format!("profiles/{}-{}.yaml", cloud, model)));
        }
    }
    out
}

fn plan_of(path: &str) -> Plan {
    let loaded = profile::load_file(Path::new(path)).unwrap_or_else(|e| panic!("{path}: {e:?}"));
    unionctl::clouds::plan(&loaded.profile, &loaded.digest)
        .unwrap_or_else(|e| panic!("{path}: {e:?}"))
}

#[test]
fn examples_are_the_starter_profiles_filled_in() {
    for (cloud, model, path) in examples() {
        let on_disk = std::fs::read_to_string(&path).unwrap();
        assert_eq!(on_disk, template::example(cloud, model), "{path} differs from `unionctl init --cloud {cloud} --model {model}` with the example values");
    }
}

#[test]
fn golden_plans() {
    for (_, _, path) in examples() {
        let plan = plan_of(&path);
        let name = Path::new(&path)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .to_string();
        insta::assert_snapshot!(format!("{name}.table"), render::table(&plan));
        // One golden file per area (eksctl's resource sets): the resources each area's
        // builder describes, so a change to one area shows in that area's file alone.
        let mut areas: std::collections::BTreeMap<String, Vec<&plan::Resource>> =
            Default::default();
        for r in &plan.resources {
            let area = serde_json::to_value(r.component).unwrap();
            areas
                .entry(area.as_str().unwrap().to_string())
                .or_default()
                .push(r);
        }
        for (area, resources) in &areas {
            insta::assert_json_snapshot!(format!("{name}.{area}"), resources);
        }
        // And the plan around them: its header and one line per change.
        let mut header = serde_json::to_value(&plan).unwrap();
        let changes: Vec<String> = plan
            .resource_changes
            .iter()
            .map(|c| {
                format!(
                    "{} {} ({}, stage {})",
                    c.action.as_str(),
                    c.address,
                    c.owner,
                    c.stage
                )
            })
            .collect();
        // The resources' order: their settings are in the area files.
        header["resources"] = serde_json::json!(plan
            .resources
            .iter()
            .map(|r| &r.address)
            .collect::<Vec<_>>());
        header["resource_changes"] = serde_json::json!(changes);
        insta::assert_json_snapshot!(format!("{name}.json"), header);
    }
}

#[test]
fn every_format_renders() {
    for (_, _, path) in examples() {
        let plan = plan_of(&path);
        let json: Value = serde_json::from_str(&render::json(&plan)).unwrap();
        assert_eq!(json["format_version"], plan::FORMAT_VERSION);
        let yaml = render::yaml(&plan).unwrap();
        assert!(yaml.contains("format_version"), "{path}");
        let md = render::markdown(&plan);
        assert!(md.contains("| action | address |"), "{path}");
        let dot = render::dot(&plan);
        assert!(dot.starts_with("digraph") && dot.contains("->"), "{path}");
        // A saved plan reads back to the same plan.
        let back: Plan = serde_json::from_value(json).unwrap();
        assert_eq!(back, plan);
    }
}

fn find<'a>(plan: &'a Plan, address: &str) -> &'a plan::Resource {
    plan.resource(address).unwrap_or_else(|| {
        panic!(
            "{address} missing from the {} {} plan",
            plan.cloud, plan.model
        )
    })
}

fn ptr<'a>(r: &'a plan::Resource, p: &str) -> &'a Value {
    r.setting(p)
        .unwrap_or_else(|| panic!("{} has no {p}", r.address))
}

#[test]
fn self_managed_plans_name_no_union_principal() {
    for (cloud, model, path) in examples() {
        if model != Model::SelfManaged {
            continue;
        }
        let plan = plan_of(&path);
        let text = serde_json::to_string(&plan.resources).unwrap();
        assert!(
            !text.contains(UNION_AWS_ACCOUNT_ID),
            "{path} names Union.ai's account"
        );
        assert!(
            !text.to_lowercase().contains("unionai-admin")
                && !text.contains("union-ai-admin")
                && !text.contains("unionai-administrator"),
            "{path}"
        );
        assert!(
            plan.resources
                .iter()
                .all(|r| r.owner == Party::Customer && r.stage == Party::Customer),
            "{path}"
        );
        let private_connection = match cloud {
            Provider::Aws => "aws.vpc_endpoint_service",
            Provider::Gcp => "gcp.compute_service_attachment",
            Provider::Azure => "azure.private_link_service",
        };
        assert!(
            plan.resources.iter().all(|r| r.kind != private_connection),
            "{path}: private connection in self-managed"
        );
    }
}

#[test]
fn aws_plans_match_spec() {
    for model in Model::ALL {
        let plan = plan_of(&format!("profiles/aws-{model}.yaml"));
        let eks = find(&plan, "aws.eks_cluster.main");
        assert_eq!(ptr(eks, "/resourcesVpcConfig/endpointPrivateAccess"), true);
        assert_eq!(ptr(eks, "/resourcesVpcConfig/endpointPublicAccess"), false);
        assert_eq!(
            ptr(eks, "/encryptionConfig/0/provider/keyArn"),
            "${aws.kms_key.main.arn}"
        );
        assert_eq!(
            ptr(eks, "/logging/clusterLogging/0/types")
                .as_array()
                .unwrap()
                .len(),
            5
        );
        let bucket = find(&plan, "aws.s3_bucket.metadata");
        assert_eq!(ptr(bucket, "/ServerSideEncryptionConfiguration/Rules/0/ApplyServerSideEncryptionByDefault/SSEAlgorithm"), "aws:kms");
        assert_eq!(
            ptr(
                bucket,
                "/ServerSideEncryptionConfiguration/Rules/0/BucketKeyEnabled"
            ),
            true
        );
        assert_eq!(ptr(bucket, "/ObjectOwnership"), "BucketOwnerEnforced");
        assert_eq!(
            ptr(
                bucket,
                "/Policy/Statement/0/Condition/Bool/aws:SecureTransport"
            ),
            "false"
        );
        assert_eq!(
            ptr(
                bucket,
                "/Policy/Statement/1/Condition/NumericLessThan/s3:TlsVersion"
            ),
            "1.2"
        );
        assert_eq!(
            ptr(bucket, "/CORSConfiguration/CORSRules/0/AllowedOrigins/0"),
            "https://*.unionai.cloud"
        );
        for flag in [
            "BlockPublicAcls",
            "IgnorePublicAcls",
            "BlockPublicPolicy",
            "RestrictPublicBuckets",
        ] {
            assert_eq!(
                ptr(bucket, &format!("/PublicAccessBlockConfiguration/{flag}")),
                true
            );
        }
        assert_eq!(
            ptr(find(&plan, "aws.kms_key.main"), "/EnableKeyRotation"),
            true
        );
        let trail = find(&plan, "aws.cloudtrail.main");
        assert_eq!(ptr(trail, "/IsMultiRegionTrail"), true);
        assert_eq!(ptr(trail, "/EnableLogFileValidation"), true);
        assert!(trail.setting("/KmsKeyId").is_some());
        let gpu = find(&plan, "aws.eks_node_group.gpu");
        assert_eq!(ptr(gpu, "/taints/0/key"), "nvidia.com/gpu");
        assert_eq!(ptr(gpu, "/taints/0/effect"), "NO_SCHEDULE");
        // One identity per namespace, trusted through EKS Pod Identity by that namespace
        // on this cluster only, reaching that namespace's prefix only; the customer's.
        for ns in ["development", "staging", "production"] {
            let worker = find(&plan, &format!("aws.iam_role.workload_worker_{ns}"));
            assert_eq!(
                (worker.owner, worker.stage),
                (Party::Customer, Party::Customer)
            );
            let trust = ptr(worker, "/AssumeRolePolicyDocument/Statement/0");
            assert_eq!(trust["Principal"]["Service"], "pods.eks.amazonaws.com");
            assert_eq!(
                trust["Condition"]["StringEquals"]["aws:RequestTag/kubernetes-namespace"],
                ns
            );
            assert_eq!(
                trust["Condition"]["StringEquals"]["aws:RequestTag/kubernetes-service-account"],
                serde_json::json!(["default"])
            );
            assert_eq!(
                trust["Condition"]["StringEquals"]["aws:RequestTag/eks-cluster-arn"],
                "arn:aws:eks:us-east-2:482916350047:cluster/acme-prod"
            );
            let objects = ptr(
                worker,
                &format!("/Policies/acme-prod-w-{ns}-data/Statement/2/Resource"),
            );
            assert_eq!(
                objects,
                &serde_json::json!([
                    format!("arn:aws:s3:::acme-prod-metadata/{ns}/*"),
                    format!("arn:aws:s3:::acme-prod-fast-registration/{ns}/*")
                ])
            );
            let binding = find(
                &plan,
                &format!("aws.eks_pod_identity_association.worker_{ns}_default"),
            );
            assert_eq!(
                ptr(binding, "/roleArn"),
                &format!("${{aws.iam_role.workload_worker_{ns}.arn}}")
            );
            assert_eq!(
                binding.owner,
                if model == Model::Byoc {
                    Party::Union
                } else {
                    Party::Customer
                }
            );
        }
        assert!(
            plan.resources
                .iter()
                .all(|r| r.kind != "aws.iam_openid_connect_provider" && r.kind != "aws.iam_policy"),
            "no IRSA provider, no boundary"
        );
        for pool in ["services", "workers", "gpu"] {
            assert_eq!(
                ptr(
                    find(&plan, &format!("aws.launch_template.{pool}")),
                    "/LaunchTemplateData/SecurityGroupIds"
                ),
                &serde_json::json!(["${aws.security_group.cluster.id}"])
            );
        }
        let sg = find(&plan, "aws.security_group.cluster");
        let egress_ports: Vec<u64> = ptr(sg, "/IpPermissionsEgress")
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p.get("FromPort").and_then(Value::as_u64))
            .collect();
        assert_eq!(egress_ports, vec![443, 7844, 7844]);
        for service in unionctl::clouds::aws::plan::INTERFACE_ENDPOINTS {
            let address = format!("aws.vpc_endpoint.{}", service.replace(['-', '.'], "_"));
            assert_eq!(ptr(find(&plan, &address), "/VpcEndpointType"), "Interface");
        }
        assert_eq!(
            ptr(find(&plan, "aws.vpc_endpoint.s3"), "/VpcEndpointType"),
            "Gateway"
        );

        let byoc = model == Model::Byoc;
        assert_eq!(plan.resource("aws.iam_role.union_admin").is_some(), byoc);
        assert_eq!(
            plan.resource("aws.vpc_endpoint_service.api").is_some(),
            byoc
        );
        assert_eq!(
            plan.resource("aws.eks_access_entry.union_admin").is_some(),
            byoc
        );
        if byoc {
            let admin = find(&plan, "aws.iam_role.union_admin");
            assert_eq!(
                ptr(admin, "/AssumeRolePolicyDocument/Statement/0/Principal/AWS"),
                "arn:aws:iam::479331373192:root"
            );
            assert_eq!(
                ptr(
                    admin,
                    "/AssumeRolePolicyDocument/Statement/0/Condition/StringEquals/sts:ExternalId"
                ),
                "${local.external_id.union.value}"
            );
            assert_eq!(admin.owner, Party::Customer);
            let service = find(&plan, "aws.vpc_endpoint_service.api");
            assert_eq!(ptr(service, "/AcceptanceRequired"), true);
            assert_eq!(
                ptr(service, "/AllowedPrincipals"),
                &serde_json::json!(["arn:aws:iam::479331373192:root"])
            );
            assert_eq!(ptr(find(&plan, "aws.lb.api"), "/Scheme"), "internal");
            assert_eq!(eks.owner, Party::Union);
            assert_eq!(eks.stage, Party::Union);
            assert_eq!(find(&plan, "aws.vpc.main").owner, Party::Customer);
        }
    }
}

#[test]
fn gcp_plans_match_spec() {
    for model in Model::ALL {
        let plan = plan_of(&format!("profiles/gcp-{model}.yaml"));
        let gke = find(&plan, "gcp.container_cluster.main");
        assert_eq!(ptr(gke, "/privateClusterConfig/enablePrivateNodes"), true);
        assert_eq!(
            ptr(gke, "/privateClusterConfig/enablePrivateEndpoint"),
            true
        );
        assert_eq!(
            ptr(gke, "/privateClusterConfig/masterIpv4CidrBlock"),
            "172.16.0.0/28"
        );
        assert_eq!(
            ptr(gke, "/workloadIdentityConfig/workloadPool"),
            "acme-ml-prod.svc.id.goog"
        );
        assert_eq!(ptr(gke, "/databaseEncryption/state"), "ENCRYPTED");
        let bucket = find(&plan, "gcp.storage_bucket.metadata");
        assert_eq!(
            ptr(bucket, "/iamConfiguration/uniformBucketLevelAccess/enabled"),
            true
        );
        assert_eq!(
            ptr(bucket, "/iamConfiguration/publicAccessPrevention"),
            "enforced"
        );
        assert!(bucket.setting("/encryption/defaultKmsKeyName").is_some());
        assert_eq!(ptr(bucket, "/versioning/enabled"), true);
        assert_eq!(
            ptr(find(&plan, "gcp.kms_crypto_key.main"), "/rotationPeriod"),
            "7776000s"
        );
        let subnet = find(&plan, "gcp.compute_subnetwork.nodes");
        assert_eq!(ptr(subnet, "/secondaryIpRanges/0/rangeName"), "pods");
        assert!(plan.resource("gcp.compute_router_nat.main").is_some());
        assert_eq!(
            ptr(
                find(&plan, "gcp.container_node_pool.gpu"),
                "/config/taints/0/key"
            ),
            "nvidia.com/gpu"
        );
        let byoc = model == Model::Byoc;
        assert_eq!(
            plan.resource("gcp.iam_workload_identity_pool.unionai")
                .is_some(),
            byoc
        );
        assert_eq!(
            plan.resource("gcp.compute_service_attachment.api")
                .is_some(),
            byoc
        );
        if byoc {
            let provider = find(&plan, "gcp.iam_workload_identity_pool_provider.unionai_aws");
            assert_eq!(ptr(provider, "/aws/accountId"), "479331373192");
            assert!(ptr(provider, "/attributeCondition")
                .as_str()
                .unwrap()
                .contains("arn:aws:sts::479331373192:assumed-role/"));
            for (role, id) in [
                ("unionai_cluster", "UnionaiClusterAdministrator"),
                ("unionai_network", "UnionaiNetworkAdministrator"),
            ] {
                assert_eq!(
                    ptr(
                        find(&plan, &format!("gcp.project_iam_custom_role.{role}")),
                        "/roleId"
                    ),
                    id
                );
                let grant = ptr(
                    find(&plan, &format!("gcp.project_iam_member.{role}")),
                    "/condition/expression",
                )
                .as_str()
                .unwrap();
                assert!(grant.contains("acme-prod"), "{grant}");
            }
            assert_eq!(
                find(&plan, "gcp.service_account.unionai_administrator").name,
                "unionai-administrator"
            );
            let psc = find(&plan, "gcp.compute_service_attachment.api");
            assert_eq!(ptr(psc, "/connectionPreference"), "ACCEPT_MANUAL");
            assert_eq!(
                ptr(psc, "/consumerAcceptLists/0/projectIdOrNum"),
                "unionai-dataplanes"
            );
        }
    }
}

#[test]
fn azure_plans_match_spec() {
    for model in Model::ALL {
        let plan = plan_of(&format!("profiles/azure-{model}.yaml"));
        let aks = find(&plan, "azure.kubernetes_cluster.main");
        assert_eq!(
            ptr(
                aks,
                "/properties/apiServerAccessProfile/enablePrivateCluster"
            ),
            true
        );
        assert_eq!(ptr(aks, "/properties/oidcIssuerProfile/enabled"), true);
        assert_eq!(
            ptr(aks, "/properties/securityProfile/workloadIdentity/enabled"),
            true
        );
        assert_eq!(
            ptr(aks, "/properties/securityProfile/azureKeyVaultKms/enabled"),
            true
        );
        let account = find(&plan, "azure.storage_account.main");
        assert_eq!(ptr(account, "/properties/isHnsEnabled"), true);
        assert_eq!(ptr(account, "/properties/allowBlobPublicAccess"), false);
        assert_eq!(ptr(account, "/properties/minimumTlsVersion"), "TLS1_2");
        assert_eq!(ptr(account, "/properties/supportsHttpsTrafficOnly"), true);
        assert_eq!(
            ptr(account, "/properties/encryption/keySource"),
            "Microsoft.Keyvault"
        );
        assert!(find(&plan, "azure.key_vault_key.main")
            .setting("/properties/rotationPolicy")
            .is_some());
        let audit = find(&plan, "azure.monitor_diagnostic_setting.aks_audit");
        assert_eq!(ptr(audit, "/properties/logs/0/category"), "kube-audit");
        assert_eq!(
            ptr(
                find(&plan, "azure.kubernetes_cluster_node_pool.gpu"),
                "/properties/nodeTaints/0"
            ),
            "nvidia.com/gpu=present:NoSchedule"
        );
        let fic = find(
            &plan,
            "azure.federated_identity_credential.worker_staging_default",
        );
        assert_eq!(
            ptr(fic, "/properties/subject"),
            "system:serviceaccount:staging:default"
        );
        assert_eq!(
            ptr(fic, "/identity"),
            "${azure.user_assigned_identity.workload_worker_staging.name}"
        );
        assert_eq!(
            (fic.owner, fic.stage),
            (Party::Customer, Party::Customer),
            "the customer authors the trust"
        );
        let grant = find(&plan, "azure.role_assignment.worker_staging_metadata");
        assert!(ptr(grant, "/properties/condition")
            .as_str()
            .unwrap()
            .contains(":path] StringStartsWith 'staging/'"));
        let byoc = model == Model::Byoc;
        assert_eq!(
            plan.resource("azure.federated_identity_credential.unionai")
                .is_some(),
            byoc
        );
        assert_eq!(
            plan.resource("azure.private_link_service.api").is_some(),
            byoc
        );
        if byoc {
            let union = find(&plan, "azure.federated_identity_credential.unionai");
            assert_eq!(
                ptr(union, "/subject"),
                "us-east-2:1b2c3d4e-5f60-4718-9a0b-c1d2e3f40516"
            );
            assert_eq!(
                ptr(union, "/issuer"),
                "https://cognito-identity.amazonaws.com"
            );
            assert_eq!(
                ptr(union, "/audiences"),
                &serde_json::json!(["us-east-2:9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"])
            );
            let actions = ptr(
                find(&plan, "azure.role_definition.unionai_administrator"),
                "/properties/permissions/0/actions",
            )
            .as_array()
            .unwrap();
            assert!(actions.iter().all(|a| !a
                .as_str()
                .unwrap()
                .starts_with("Microsoft.Authorization/")
                && !a.as_str().unwrap().contains("federatedIdentityCredentials")));
            let pls = find(&plan, "azure.private_link_service.api");
            assert_eq!(
                ptr(pls, "/properties/visibility/subscriptions"),
                &serde_json::json!(["7d9f1c2e-3b4a-4c5d-8e6f-0a1b2c3d4e5f"])
            );
        }
    }
}

#[test]
fn an_existing_network_is_read_not_created() {
    let text = std::fs::read_to_string("profiles/aws-byoc.yaml").unwrap().replace(
        "    # existing: { networkId: ..., subnetIds: [...] }   # use a network you already have (read, never written)\n",
        "    existing: { networkId: vpc-0a1b2c3d4e5f60718, subnetIds: [subnet-0a1b2c3d, subnet-1a2b3c4d] }\n",
    );
    let loaded = profile::load_bytes(text.as_bytes(), Path::new("existing.yaml")).unwrap();
    let plan = unionctl::clouds::plan(&loaded.profile, &loaded.digest).unwrap();
    assert!(plan.resource("aws.vpc.main").is_none());
    assert!(plan
        .resources
        .iter()
        .all(|r| r.kind != "aws.subnet" || r.mode == plan::Mode::Data));
    let vpc = find(&plan, "data.aws.vpc.existing");
    assert_eq!(vpc.mode, plan::Mode::Data);
    let read = plan
        .resource_changes
        .iter()
        .find(|c| c.address == "data.aws.vpc.existing")
        .unwrap();
    assert_eq!(read.action, plan::Action::Read);
    assert_eq!(
        ptr(
            find(&plan, "aws.eks_cluster.main"),
            "/resourcesVpcConfig/subnetIds/0"
        ),
        "${data.aws.subnet.existing_0.id}"
    );
}
