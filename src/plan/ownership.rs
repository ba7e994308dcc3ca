//! The ownership model (docs/ownership.md): for each component of a data plane and each
//! deployment model, who owns it, who operates it, who patches it, and whose credentials
//! create it. Plan builders never decide ownership themselves: they name the component and
//! this table answers, so the responsibility matrix and every plan agree by construction.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::resource::Party;
use crate::profile::Model;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Component {
    /// The cloud account, its IAM policies, the roles the cluster and nodes run as, and its
    /// audit trail.
    Account,
    /// The identity granted to Union.ai in BYOC.
    AdminIdentity,
    /// VPC / VNet, subnets, NAT, routes, endpoints, flow logs.
    Network,
    /// Buckets, their policies, encryption keys.
    Storage,
    /// The Kubernetes cluster: provisioning and version upgrades.
    Cluster,
    /// Node pools: configuration and scaling.
    NodePools,
    /// The private path for the cluster API (PrivateLink / PSC / Private Link), BYOC only.
    PrivateConnection,
    /// Platform and task identities, namespace-scoped.
    WorkloadIdentity,
    /// Union operator, monitoring and serving Helm releases (values rendered by unionctl).
    HelmReleases,
}

impl Component {
    pub const ALL: [Component; 9] = [
        Component::Account,
        Component::AdminIdentity,
        Component::Network,
        Component::Storage,
        Component::Cluster,
        Component::NodePools,
        Component::PrivateConnection,
        Component::WorkloadIdentity,
        Component::HelmReleases,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Component::Account => "cloud account, IAM policies, audit trail",
            Component::AdminIdentity => "admin identity granted to Union.ai",
            Component::Network => "network: VPC/VNet, subnets, NAT, routes, endpoints, flow logs",
            Component::Storage => "buckets, their access policies, encryption keys",
            Component::Cluster => "Kubernetes cluster: provisioning, version upgrades",
            Component::NodePools => "node pools: configuration, scaling",
            Component::PrivateConnection => "private connection for the cluster API",
            Component::WorkloadIdentity => {
                "workload identities and their trust (platform, one per tenant namespace)"
            }
            Component::HelmReleases => "Helm releases: Union operator, monitoring, serving",
        }
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            serde_json::to_value(self)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .as_deref()
                .unwrap_or("?"),
        )
    }
}

/// One row of the responsibility matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Responsibility {
    /// Owns it (and so is the `owner` of its resources in a plan).
    pub owner: Party,
    /// Runs it day to day.
    pub operator: Party,
    /// Applies security patches and upgrades.
    pub patches: Party,
    /// Whose credentials create it (the plan's `stage`).
    pub stage: Party,
}

/// Who does what for `component` under `model`; `None` when the component does not exist
/// in that model (no admin identity and no private connection in self-managed).
pub fn responsibility(model: Model, component: Component) -> Option<Responsibility> {
    use Component::*;
    use Party::{Customer as C, Union as U};
    let r = |owner, operator, patches, stage| {
        Some(Responsibility {
            owner,
            operator,
            patches,
            stage,
        })
    };
    match model {
        Model::SelfManaged => match component {
            AdminIdentity | PrivateConnection => None,
            _ => r(C, C, C, C),
        },
        Model::Byoc => match component {
            Account | Network | Storage => r(C, C, C, C),
            // The customer creates and can revoke it; Union.ai uses it.
            AdminIdentity => r(C, U, C, C),
            // The customer creates each identity and authors its trust; Union.ai only binds
            // it to service accounts of its cluster (a cluster-side setting), never a trust.
            WorkloadIdentity => r(C, U, C, C),
            Cluster | NodePools | PrivateConnection | HelmReleases => r(U, U, U, U),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_managed_gives_union_nothing() {
        for c in Component::ALL {
            if let Some(r) = responsibility(Model::SelfManaged, c) {
                assert_eq!(
                    [r.owner, r.operator, r.patches, r.stage],
                    [Party::Customer; 4],
                    "{c}"
                );
            }
        }
        assert!(responsibility(Model::SelfManaged, Component::AdminIdentity).is_none());
        assert!(responsibility(Model::SelfManaged, Component::PrivateConnection).is_none());
    }

    #[test]
    fn byoc_splits_as_the_source_document_says() {
        let owner = |c| responsibility(Model::Byoc, c).unwrap().owner;
        assert_eq!(owner(Component::Network), Party::Customer);
        assert_eq!(owner(Component::Storage), Party::Customer);
        assert_eq!(owner(Component::AdminIdentity), Party::Customer);
        assert_eq!(
            responsibility(Model::Byoc, Component::AdminIdentity)
                .unwrap()
                .operator,
            Party::Union
        );
        assert_eq!(owner(Component::Cluster), Party::Union);
        assert_eq!(owner(Component::PrivateConnection), Party::Union);
    }
}
