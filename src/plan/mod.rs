//! The plan: a DAG of resources built from a profile by pure code, plus the changes that
//! would bring the live world to it. Plans are plain data (serde) and know nothing of
//! providers or terminals; `render` turns them into text, `diff` compares them with state.

pub mod builder;
pub mod cloud;
pub mod diff;
pub mod graph;
pub mod invariants;
pub mod ownership;
pub mod render;
pub mod resolve;
pub mod resource;
pub mod schedule;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use cloud::CloudPlan;
pub use graph::GraphError;
pub use invariants::{Invariant, Violation};
pub use resource::{Mode, Observed, Party, Resource};

use crate::profile::{Model, Profile, Provider};

/// Version of the JSON plan format (`docs/plan-format.md`). Minor bumps add fields; a
/// major bump changes or removes one.
pub const FORMAT_VERSION: &str = "1.2";

/// What happens to one resource. Terraform's vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    NoOp,
    Create,
    Read,
    Update,
    Replace,
    Delete,
}

impl Action {
    pub fn symbol(self) -> &'static str {
        match self {
            Action::NoOp => " ",
            Action::Create => "+",
            Action::Read => "<=",
            Action::Update => "~",
            Action::Replace => "-/+",
            Action::Delete => "-",
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Action::NoOp => "no-op",
            Action::Create => "create",
            Action::Read => "read",
            Action::Update => "update",
            Action::Replace => "replace",
            Action::Delete => "delete",
        }
    }
    pub fn is_change(self) -> bool {
        !matches!(self, Action::NoOp | Action::Read)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub address: String,
    pub action: Action,
    pub owner: Party,
    pub stage: Party,
    /// The settings as recorded in state / read from the cloud; `null` for a create.
    pub before: Value,
    /// The settings the plan wants; `null` for a delete.
    pub after: Value,
    /// JSON pointers of settings that differ.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changed_paths: Vec<String>,
    /// The subset of `changed_paths` that the cloud cannot change in place.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replace_paths: Vec<String>,
    /// True when `before` came from the live resource and differs from what state recorded:
    /// someone changed it outside unionctl.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub drift: bool,
    /// For a delete of a data-holding resource: how many objects it holds, read live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holds: Option<u64>,
    /// For a delete: what the resource depended on when it was recorded. Its dependents are
    /// deleted first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    /// Why `apply` will not carry this change out (the resource holds data or identity),
    /// and what to do instead. A plan with a blocked change is refused as a whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked: Option<String>,
}

/// State identity a plan was made against; a saved plan is refused if state moved since.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateRef {
    pub lineage: String,
    pub serial: u64,
}

/// What a plan does, as Terraform's plan modes: bring the data plane to the profile, or
/// delete what state records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlanMode {
    #[default]
    Apply,
    Destroy,
}

impl PlanMode {
    pub fn as_str(self) -> &'static str {
        match self {
            PlanMode::Apply => "apply",
            PlanMode::Destroy => "destroy",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: String,
    /// Plans of format 1.1 and before are all apply plans.
    #[serde(default)]
    pub mode: PlanMode,
    /// A destroy plan that also deletes the objects of the buckets it deletes.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub delete_data: bool,
    pub unionctl_version: String,
    pub data_plane: String,
    pub org: String,
    pub cloud: Provider,
    pub region: String,
    pub model: Model,
    /// `sha256:` of the profile file this plan was built from.
    pub profile_digest: String,
    /// The state this plan was made against (`null`: no state yet).
    pub prior_state: Option<StateRef>,
    /// Desired resources, dependencies first.
    pub resources: Vec<Resource>,
    /// One entry per resource (and per state entry no longer desired).
    pub resource_changes: Vec<Change>,
    /// Invariant findings that do not refuse the plan (self-managed public endpoint).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Violation>,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("the plan's dependency graph is broken")]
    Graph(#[from] GraphError),
    #[error("the plan breaks {} security invariant(s)", .0.len())]
    Invariants(Vec<Violation>),
}

/// The desired resources for a validated profile, in dependency order.
pub fn desired_resources(
    profile: &Profile,
    cloud: &dyn CloudPlan,
) -> Result<Vec<Resource>, GraphError> {
    let mut b = builder::Builder::new(profile);
    cloud.build(&mut b);
    graph::link_and_sort(b.resources)
}

/// The invariant context for a profile.
pub fn invariant_context(profile: &Profile) -> invariants::Context<'_> {
    let union = profile.spec.union.as_ref();
    let mut identifiers = Vec::new();
    if let Some(u) = union {
        identifiers.extend(u.gcp_project_id.clone());
        identifiers.extend(u.azure_subscription_id.clone());
    }
    invariants::Context {
        model: profile.spec.model,
        union_account: union.map_or(crate::profile::schema::UNION_AWS_ACCOUNT_ID, |u| {
            u.aws_account_id.as_str()
        }),
        union_identifiers: if profile.spec.model == Model::Byoc {
            Vec::new()
        } else {
            identifiers.clone()
        },
        union_identifiers_byoc: if profile.spec.model == Model::Byoc {
            identifiers
        } else {
            Vec::new()
        },
        prefix: &profile.metadata.name,
        home: match profile.spec.cloud.provider {
            Provider::Aws => profile
                .spec
                .cloud
                .aws
                .as_ref()
                .map_or("", |a| a.account_id.as_str()),
            Provider::Gcp => profile
                .spec
                .cloud
                .gcp
                .as_ref()
                .map_or("", |g| g.project_id.as_str()),
            Provider::Azure => profile
                .spec
                .cloud
                .azure
                .as_ref()
                .map_or("", |a| a.subscription_id.as_str()),
        },
    }
}

/// Builds the plan for a validated profile with no prior state: every managed resource is
/// a create, every data source a read. Refuses a plan that breaks a security invariant.
pub fn build(
    profile: &Profile,
    profile_digest: &str,
    cloud: &dyn CloudPlan,
) -> Result<Plan, PlanError> {
    let resources = desired_resources(profile, cloud)?;
    let (errors, warnings): (Vec<Violation>, Vec<Violation>) =
        invariants::check(&resources, &invariant_context(profile), cloud)
            .into_iter()
            .partition(|v| !v.warning_only);
    if !errors.is_empty() {
        return Err(PlanError::Invariants(errors));
    }
    let resource_changes = diff::against_nothing(&resources);
    Ok(Plan {
        format_version: FORMAT_VERSION.to_string(),
        mode: PlanMode::Apply,
        delete_data: false,
        unionctl_version: env!("CARGO_PKG_VERSION").to_string(),
        data_plane: profile.metadata.name.clone(),
        org: profile.metadata.org.clone(),
        cloud: profile.spec.cloud.provider,
        region: profile.spec.cloud.region.clone(),
        model: profile.spec.model,
        profile_digest: profile_digest.to_string(),
        prior_state: None,
        resources,
        resource_changes,
        warnings,
    })
}

/// A destroy plan: every resource that `known` records for `stages`, deleted, dependents
/// first. The profile's resources come along so that the plan names what a killed run
/// left as an intent.
pub fn build_destroy(
    profile: &Profile,
    profile_digest: &str,
    cloud: &dyn CloudPlan,
    known: &diff::Known<'_>,
    stages: &[Party],
    delete_data: bool,
) -> Result<Plan, PlanError> {
    let resources = desired_resources(profile, cloud)?;
    Ok(Plan {
        format_version: FORMAT_VERSION.to_string(),
        mode: PlanMode::Destroy,
        delete_data,
        unionctl_version: env!("CARGO_PKG_VERSION").to_string(),
        data_plane: profile.metadata.name.clone(),
        org: profile.metadata.org.clone(),
        cloud: profile.spec.cloud.provider,
        region: profile.spec.cloud.region.clone(),
        model: profile.spec.model,
        profile_digest: profile_digest.to_string(),
        prior_state: None,
        resource_changes: diff::destroy_changes(known, stages, delete_data, cloud),
        resources,
        warnings: Vec::new(),
    })
}

/// "1 object", "3 objects".
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Counts for the summary line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub create: usize,
    pub read: usize,
    pub update: usize,
    pub replace: usize,
    pub delete: usize,
    pub no_op: usize,
    /// Of the changes (create/update/replace/delete): how many the customer owns.
    pub customer_owned: usize,
    /// … and how many Union.ai manages.
    pub union_managed: usize,
    /// Changes apply refuses to carry out (data or identity would be lost).
    pub blocked: usize,
}

impl Plan {
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in &self.resource_changes {
            match c.action {
                Action::Create => s.create += 1,
                Action::Read => s.read += 1,
                Action::Update => s.update += 1,
                Action::Replace => s.replace += 1,
                Action::Delete => s.delete += 1,
                Action::NoOp => s.no_op += 1,
            }
            if c.blocked.is_some() {
                s.blocked += 1;
            }
            if c.action.is_change() {
                match c.owner {
                    Party::Customer => s.customer_owned += 1,
                    Party::Union => s.union_managed += 1,
                }
            }
        }
        s
    }

    pub fn has_changes(&self) -> bool {
        self.resource_changes.iter().any(|c| c.action.is_change())
    }

    pub fn resource(&self, address: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.address == address)
    }
}

/// Managed Kubernetes services upgrade a cluster one minor version at a time and never
/// downgrade it: a change of a cluster's version (`versions`: each cloud's cluster kind and
/// the pointer of its version) that goes back or skips a minor is refused, naming the next
/// step.
pub fn kubernetes_version_step(
    kind: &str,
    path: &str,
    before: &Value,
    after: &Value,
    versions: &[(&str, &str)],
) -> Option<String> {
    if !versions.contains(&(kind, path)) {
        return None;
    }
    let minor = |v: &Value| {
        v.as_str()
            .and_then(|s| s.split('.').nth(1))
            .and_then(|m| m.parse::<u32>().ok())
    };
    let (Some(from), Some(to)) = (minor(before), minor(after)) else {
        return None;
    };
    let (b, a) = (
        before.as_str().unwrap_or_default(),
        after.as_str().unwrap_or_default(),
    );
    if to < from {
        Some(format!("a cluster's Kubernetes version never goes back ({b} → {a}): set kubernetesVersion back to \"{b}\""))
    } else if to > from + 1 {
        Some(format!("a cluster's Kubernetes version moves one minor at a time ({b} → {a}): set kubernetesVersion to \"1.{}\" first, apply, then continue", from + 1))
    } else {
        None
    }
}
