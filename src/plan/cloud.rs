//! What the planning core needs from a cloud: the builder that describes its resources,
//! its invariant checks, and its lifecycle rules (which changes force a new resource,
//! which resources hold data or identity). Each cloud module implements it; the core never
//! names a cloud.

use super::builder::Builder;
use super::invariants::Checker;
use super::resource::Resource;
use crate::profile::Provider;

pub trait CloudPlan: Sync {
    /// The profile's `spec.cloud.provider` this cloud serves.
    fn provider(&self) -> Provider;

    /// Describes the data plane's resources (never calls the cloud).
    fn build(&self, b: &mut Builder<'_>);

    /// This cloud's checks of one managed resource's settings.
    fn check_resource(&self, c: &mut Checker<'_>, r: &Resource);

    /// This cloud's checks of something that exists already (an existing key, network or
    /// trail named in the profile): on the profile's identifiers while it has not been read
    /// (what cannot be told from them is `unverified`), on what the cloud reports once read.
    fn check_existing(&self, c: &mut Checker<'_>, r: &Resource);

    /// This cloud's checks of the whole plan: what must exist somewhere in it.
    fn check_plan(&self, c: &mut Checker<'_>, resources: &[Resource]);

    /// Whether a change at `path` (a JSON pointer into settings) of a `kind` cannot be
    /// made in place, so the resource must be replaced.
    fn forces_replacement(&self, kind: &str, path: &str) -> bool;

    /// Why `apply` must never delete or replace a resource of this kind (it holds data or
    /// identity), or `None` when it may.
    fn retains(&self, kind: &str) -> Option<&'static str>;

    /// The attributes of a `kind` that an update in place gives a new value (a launch
    /// template's latest version): what refers to them changes with it.
    fn renewed_by_update(&self, _kind: &str) -> &'static [&'static str] {
        &[]
    }

    /// Why the cloud refuses to change the setting at `path` from `before` to `after` at
    /// all (a Kubernetes version that goes back, or skips one), or `None`.
    fn refuses_change(
        &self,
        kind: &str,
        path: &str,
        before: &serde_json::Value,
        after: &serde_json::Value,
    ) -> Option<String> {
        let _ = (kind, path, before, after);
        None
    }
}
