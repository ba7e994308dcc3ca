//! The profile's types. Field names here are the YAML names
//! (camelCase) and, through `schemars`, the JSON Schema that `unionctl schema` prints and
//! that the loader checks documents against before deserializing them.
//!
//! Defaults that do not depend on anything else live here as serde defaults, so that the
//! JSON Schema shows them; defaults that depend on the cloud or the model are applied in
//! `defaults.rs`.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub const API_VERSION: &str = "unionctl.union.ai/v1";
pub const KIND: &str = "DataPlane";
/// Union.ai's AWS account: the principal of the BYOC admin trust by default.
pub const UNION_AWS_ACCOUNT_ID: &str = "479331373192";

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(title = "unionctl data-plane profile")]
pub struct Profile {
    /// Always `unionctl.union.ai/v1`.
    pub api_version: String,
    /// Always `DataPlane`.
    pub kind: String,
    pub metadata: Metadata,
    pub spec: Spec,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Metadata {
    /// Prefix of every resource name: a DNS label of at most 32 characters.
    pub name: String,
    /// The Union.ai organization this data plane serves.
    pub org: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Spec {
    pub model: Model,
    pub control_plane: ControlPlane,
    /// Who Union.ai is (BYOC only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub union: Option<Union>,
    pub cloud: Cloud,
    #[serde(default)]
    pub network: Network,
    pub cluster: Cluster,
    #[serde(default)]
    pub storage: Storage,
    #[serde(default)]
    pub tenancy: Tenancy,
    #[serde(default)]
    pub audit: Audit,
    /// Tags (labels on GCP) put on every resource, beside unionctl's own.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Where the state is kept when a team shares it (default: a local file per profile).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<StateBackend>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StateBackend {
    /// `s3://BUCKET/KEY`, `gs://BUCKET/KEY` or `azblob://ACCOUNT/CONTAINER/KEY`: the state
    /// object in a bucket that keeps versions; its lock is `KEY.lock` beside it.
    pub url: String,
}

#[derive(
    Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq, Hash, PartialOrd, Ord,
)]
#[serde(rename_all = "kebab-case")]
pub enum Model {
    Byoc,
    SelfManaged,
}

impl Model {
    pub const ALL: [Model; 2] = [Model::Byoc, Model::SelfManaged];
    pub fn as_str(self) -> &'static str {
        match self {
            Model::Byoc => "byoc",
            Model::SelfManaged => "self-managed",
        }
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ControlPlane {
    /// Host name of the Union.ai control plane (gRPC over TLS, egress 443).
    pub host: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Union {
    /// Union.ai's AWS account, trusted by the admin identity (every cloud: on GCP and Azure
    /// it is the identity federated into the customer's project / tenant).
    #[serde(default = "default_union_account")]
    pub aws_account_id: String,
    /// External ID the admin trust requires; generated (24 characters) and kept in state if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Role in Union.ai's account that assumes the admin identity (GCP attribute condition,
    /// Azure federated subject).
    #[serde(default = "default_union_role")]
    pub role_name: String,
    /// GCP: Union.ai's project, the only consumer accepted by the Private Service Connect attachment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gcp_project_id: Option<String>,
    /// Azure: Union.ai's subscription, the only one the Private Link service is visible to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure_subscription_id: Option<String>,
    /// Azure: the exact subject of Union.ai's federated credential (its Cognito identity
    /// id, `REGION:UUID`), given by Union.ai onboarding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure_federated_subject: Option<String>,
    /// Azure: the audience of that credential: Union.ai's Cognito identity pool id
    /// (`REGION:UUID`), the `aud` claim of the token Union.ai presents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure_federated_audience: Option<String>,
}

fn default_union_account() -> String {
    UNION_AWS_ACCOUNT_ID.to_string()
}
fn default_union_role() -> String {
    "unionai-onboarding".to_string()
}

impl Default for Union {
    fn default() -> Self {
        Union {
            aws_account_id: default_union_account(),
            external_id: None,
            role_name: default_union_role(),
            gcp_project_id: None,
            azure_subscription_id: None,
            azure_federated_subject: None,
            azure_federated_audience: None,
        }
    }
}

#[derive(
    Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq, Hash, PartialOrd, Ord,
)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Aws,
    Gcp,
    Azure,
}

impl Provider {
    pub const ALL: [Provider; 3] = [Provider::Aws, Provider::Gcp, Provider::Azure];
    /// How the cloud is named in sentences.
    pub fn title(self) -> &'static str {
        match self {
            Provider::Aws => "AWS",
            Provider::Gcp => "GCP",
            Provider::Azure => "Azure",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Aws => "aws",
            Provider::Gcp => "gcp",
            Provider::Azure => "azure",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Cloud {
    pub provider: Provider,
    pub region: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws: Option<AwsAccount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gcp: Option<GcpProject>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure: Option<AzureSubscription>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AwsAccount {
    /// 12 digits, quoted.
    pub account_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GcpProject {
    pub project_id: String,
    /// Digits, quoted.
    pub project_number: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AzureSubscription {
    pub subscription_id: String,
    pub tenant_id: String,
    pub resource_group: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Network {
    /// A network the customer already has: read, never written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing: Option<ExistingNetwork>,
    /// Address space of the network unionctl creates.
    #[serde(default = "default_cidr")]
    pub cidr: String,
    /// Availability zones to spread subnets and nodes over.
    #[serde(default = "default_zones")]
    pub zones: u32,
    /// Pod address range (GCP secondary range, AKS overlay).
    #[serde(default = "default_pods_cidr")]
    pub pods_cidr: String,
    /// Kubernetes service range.
    #[serde(default = "default_services_cidr")]
    pub services_cidr: String,
    /// GKE control-plane range (a /28).
    #[serde(default = "default_master_cidr")]
    pub master_cidr: String,
    /// Extra ingress to the nodes from private networks (VPN, peering). Only private
    /// ranges are accepted: the data plane takes no traffic from the internet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ingress: Vec<IngressRule>,
}

fn default_cidr() -> String {
    "10.0.0.0/16".into()
}
fn default_zones() -> u32 {
    3
}
fn default_pods_cidr() -> String {
    "10.64.0.0/14".into()
}
fn default_services_cidr() -> String {
    "10.68.0.0/20".into()
}
fn default_master_cidr() -> String {
    "172.16.0.0/28".into()
}

impl Default for Network {
    fn default() -> Self {
        Network {
            existing: None,
            cidr: default_cidr(),
            zones: default_zones(),
            pods_cidr: default_pods_cidr(),
            services_cidr: default_services_cidr(),
            master_cidr: default_master_cidr(),
            ingress: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExistingNetwork {
    /// AWS `vpc-…`, GCP network name, Azure virtual network resource id.
    pub network_id: String,
    /// AWS `subnet-…` ids, GCP subnetwork names, Azure subnet names: private subnets for nodes.
    pub subnet_ids: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IngressRule {
    pub cidr: String,
    pub port: u16,
    #[serde(default = "default_protocol")]
    pub protocol: Protocol,
}

fn default_protocol() -> Protocol {
    Protocol::Tcp
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Cluster {
    /// `1.N`, quoted, within the supported window.
    #[serde(default = "default_kubernetes_version")]
    pub kubernetes_version: String,
    #[serde(default)]
    pub endpoint_access: EndpointAccess,
    pub node_pools: Vec<NodePool>,
}

fn default_kubernetes_version() -> String {
    "1.31".into()
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum EndpointAccess {
    #[default]
    Private,
    /// Self-managed only, and warned: the API server also listens on the internet.
    PrivateAndPublic,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodePool {
    pub name: String,
    pub instance_type: String,
    pub min: u32,
    pub max: u32,
    /// GPU pools are tainted `nvidia.com/gpu=present:NoSchedule`.
    #[serde(default)]
    pub gpu: bool,
    #[serde(default = "default_disk_gib")]
    pub disk_size_gib: u32,
}

fn default_disk_gib() -> u32 {
    100
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Storage {
    /// Logical bucket names; each becomes `<metadata.name>-<bucket>`.
    #[serde(default = "default_buckets")]
    pub buckets: Vec<String>,
    #[serde(default)]
    pub encryption: Encryption,
    /// Lowest TLS version the buckets accept: `1.2` or `1.3`.
    #[serde(default = "default_tls")]
    pub minimum_tls_version: String,
    /// Public-access block (AWS), public access prevention (GCP), no blob public access (Azure).
    #[serde(default = "default_true")]
    pub block_public_access: bool,
}

fn default_buckets() -> Vec<String> {
    vec!["metadata".into(), "fast-registration".into()]
}
fn default_tls() -> String {
    "1.2".into()
}
fn default_true() -> bool {
    true
}

impl Default for Storage {
    fn default() -> Self {
        Storage {
            buckets: default_buckets(),
            encryption: Encryption::default(),
            minimum_tls_version: default_tls(),
            block_public_access: true,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Encryption {
    /// `create` (a customer-managed key with rotation), or the id of an existing key.
    #[serde(default = "default_key")]
    pub key: String,
}

fn default_key() -> String {
    "create".into()
}

impl Default for Encryption {
    fn default() -> Self {
        Encryption { key: default_key() }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Tenancy {
    /// Namespaces whose service accounts the task identity trusts, by exact name.
    #[serde(default = "default_namespaces")]
    pub namespaces: Vec<String>,
}

fn default_namespaces() -> Vec<String> {
    vec!["development".into(), "staging".into(), "production".into()]
}

impl Default for Tenancy {
    fn default() -> Self {
        Tenancy {
            namespaces: default_namespaces(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Audit {
    /// `create` an account audit trail (CloudTrail / audit-log sink / Activity Log export),
    /// or the name of an existing one that already covers the account.
    #[serde(default = "default_trail")]
    pub trail: String,
    /// Network flow logs.
    #[serde(default = "default_true")]
    pub flow_logs: bool,
    /// Kubernetes control-plane audit logs.
    #[serde(default = "default_true")]
    pub cluster_logs: bool,
}

fn default_trail() -> String {
    "create".into()
}

impl Default for Audit {
    fn default() -> Self {
        Audit {
            trail: default_trail(),
            flow_logs: true,
            cluster_logs: true,
        }
    }
}
