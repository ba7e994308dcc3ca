//! Shared machinery of the per-cloud plan builders. A builder only *describes* resources:
//! it names the component (ownership comes from `ownership.rs`), the native settings and
//! the controls; it never decides who owns what and never calls a cloud.

use serde_json::{json, Map, Value};

use super::invariants::Invariant;
use super::ownership::{responsibility, Component};
use super::resource::{reference, Mode, Resource};
use crate::profile::{Model, Profile};

pub const TAG_DATA_PLANE: &str = "unionctl.union.ai/data-plane";
pub const TAG_OWNER: &str = "unionctl.union.ai/owner";
/// The taint of GPU node pools on every cloud: only pods that tolerate it land there.
pub const GPU_TAINT: (&str, &str) = ("nvidia.com/gpu", "present");

pub struct Builder<'p> {
    pub profile: &'p Profile,
    pub model: Model,
    pub resources: Vec<Resource>,
}

/// The name part of an address: `fast-registration` → `fast_registration`.
pub fn address_name(name: &str) -> String {
    name.replace(['-', '.'], "_")
}

/// One workload identity of a data plane: the platform's, then one per tenant namespace,
/// each trusted by the service accounts of one namespace only.
pub struct WorkloadIdentity {
    /// Address name: `backend`, `worker_<namespace>`.
    pub key: String,
    /// The cloud's name for it (a role, a service account id, a managed identity).
    pub name: String,
    pub namespace: String,
    pub service_accounts: Vec<String>,
    /// A tenant's identity reaches its namespace's prefix only.
    pub tenant: bool,
}

/// The data plane's workload identities; `platform` names the platform's.
pub fn workload_identities(profile: &Profile, platform: String) -> Vec<WorkloadIdentity> {
    use crate::profile::names;
    let mut all = vec![WorkloadIdentity {
        key: "backend".into(),
        name: platform,
        namespace: names::PLATFORM_NAMESPACE.into(),
        service_accounts: names::PLATFORM_SERVICE_ACCOUNTS
            .iter()
            .map(|s| s.to_string())
            .collect(),
        tenant: false,
    }];
    for ns in &profile.spec.tenancy.namespaces {
        all.push(WorkloadIdentity {
            key: format!("worker_{}", address_name(ns)),
            name: names::worker_identity(profile, ns),
            namespace: ns.clone(),
            service_accounts: vec![names::TASK_SERVICE_ACCOUNT.into()],
            tenant: true,
        });
    }
    all
}

impl<'p> Builder<'p> {
    pub fn new(profile: &'p Profile) -> Self {
        Builder {
            profile,
            model: profile.spec.model,
            resources: Vec::new(),
        }
    }

    pub fn prefix(&self) -> &str {
        &self.profile.metadata.name
    }

    pub fn byoc(&self) -> bool {
        self.model == Model::Byoc
    }

    /// Adds a resource unionctl manages; returns its address.
    pub fn managed(
        &mut self,
        kind: &str,
        name: &str,
        native_name: impl Into<String>,
        component: Component,
        controls: &[Invariant],
        settings: Value,
    ) -> String {
        self.push(
            Mode::Managed,
            kind,
            name,
            native_name.into(),
            component,
            controls,
            settings,
        )
    }

    /// Adds something that already exists and is only read (`data.` address).
    pub fn data(
        &mut self,
        kind: &str,
        name: &str,
        native_name: impl Into<String>,
        component: Component,
        settings: Value,
    ) -> String {
        self.push(
            Mode::Data,
            kind,
            name,
            native_name.into(),
            component,
            &[],
            settings,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        mode: Mode,
        kind: &str,
        name: &str,
        native_name: String,
        component: Component,
        controls: &[Invariant],
        settings: Value,
    ) -> String {
        let who = responsibility(self.model, component).unwrap_or_else(|| {
            panic!(
                "builder bug: {kind} belongs to {component}, which {} does not have",
                self.model
            )
        });
        let address = match mode {
            Mode::Managed => format!("{kind}.{}", address_name(name)),
            Mode::Data => format!("data.{kind}.{}", address_name(name)),
        };
        self.resources.push(Resource {
            address: address.clone(),
            kind: kind.to_string(),
            name: native_name,
            mode,
            component,
            owner: who.owner,
            stage: who.stage,
            depends_on: Vec::new(),
            settings,
            controls: controls.to_vec(),
        });
        address
    }

    /// The addresses of the managed resources added so far.
    pub fn managed_addresses(&self) -> Vec<String> {
        self.resources
            .iter()
            .filter(|r| r.mode == Mode::Managed)
            .map(|r| r.address.clone())
            .collect()
    }

    /// Orders `address` after `after` without a reference between them.
    pub fn order_after(&mut self, address: &str, after: &str) {
        if let Some(r) = self.resources.iter_mut().find(|r| r.address == address) {
            r.depends_on.push(after.to_string());
        }
    }

    /// unionctl's own tags plus the profile's, as a map (`tags` / `labels` / `Tags`).
    pub fn tags(&self, component: Component) -> Value {
        let owner = responsibility(self.model, component).map_or("customer", |r| r.owner.as_str());
        let mut m = Map::new();
        for (k, v) in &self.profile.spec.tags {
            m.insert(k.clone(), json!(v));
        }
        m.insert(TAG_DATA_PLANE.into(), json!(self.prefix()));
        m.insert(TAG_OWNER.into(), json!(owner));
        Value::Object(m)
    }
}

/// `${address.attribute}`.
pub fn r(address: &str, attribute: &str) -> Value {
    Value::String(reference(address, attribute))
}
