//! Defaults that depend on other fields (the ones that don't are serde defaults in
//! `schema.rs`, visible in the JSON Schema).

use super::schema::{Model, Profile, Union};

pub fn apply(profile: &mut Profile) {
    // BYOC always has a Union.ai principal; a profile may leave `union:` out and take
    // Union.ai's defaults.
    if profile.spec.model == Model::Byoc && profile.spec.union.is_none() {
        profile.spec.union = Some(Union::default());
    }
}
