//! Cloud KMS: the key ring, the customer-managed key (rotated), and who may use it
//! (`google-cloud-kms-v1`).
//!
//! Cloud KMS never deletes key rings or keys (their names stay reserved): destroying the
//! data plane destroys every version of its key (scheduled for destruction, 30 days by
//! default) and leaves the empty ring and key, as Terraform does.

use anyhow::{anyhow, Result};
use google_cloud_kms_v1::model;
use serde_json::{json, Value};

use super::plan::LABEL_DATA_PLANE;
use super::policy::{self, Target};
use super::provider::{absent, project, to_json, typed, ApiError, GcpProvider};
use crate::exec::adoption::Claim;
use crate::exec::Observed;
use crate::plan::{Mode, Resource};
use crate::state::ResourceState;

const KEY_WRITE_ONLY: &[&str] = &["/parent", "/cryptoKeyId"];

fn s<'a>(d: &'a Value, key: &str) -> &'a str {
    d.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn key_name(d: &Value) -> String {
    format!("{}/cryptoKeys/{}", s(d, "parent"), s(d, "cryptoKeyId"))
}

async fn get_ring(p: &GcpProvider, name: &str) -> Result<Option<model::KeyRing>> {
    absent(
        p.call("cloudkms.keyRings.get", || {
            let f = p.kms.get_key_ring().set_name(name).send();
            async move { f.await.map_err(ApiError::from) }
        })
        .await,
    )
}

async fn get_key(p: &GcpProvider, name: &str) -> Result<Option<model::CryptoKey>> {
    absent(
        p.call("cloudkms.cryptoKeys.get", || {
            let f = p.kms.get_crypto_key().set_name(name).send();
            async move { f.await.map_err(ApiError::from) }
        })
        .await,
    )
}

fn key_observed(k: &model::CryptoKey, d: &Value) -> Observed {
    let live = to_json(k);
    let normal = typed::<model::CryptoKey>(strip(d, KEY_WRITE_ONLY))
        .map(|k| to_json(&k))
        .unwrap_or_else(|_| d.clone());
    let settings = project(&live, d, &normal, KEY_WRITE_ONLY);
    Observed {
        id: k.name.clone(),
        outputs: [("name".to_string(), json!(k.name))].into_iter().collect(),
        settings,
    }
}

fn strip(d: &Value, pointers: &[&str]) -> Value {
    let mut v = d.clone();
    if let Some(m) = v.as_object_mut() {
        for k in pointers {
            m.remove(k.trim_start_matches('/'));
        }
    }
    v
}

/// The first rotation: rotation period from now (the API wants both together).
fn next_rotation(d: &Value) -> Value {
    let seconds: u64 = s(d, "rotationPeriod")
        .trim_end_matches('s')
        .parse()
        .unwrap_or(7_776_000);
    let at = std::time::SystemTime::now() + std::time::Duration::from_secs(seconds);
    google_cloud_wkt::Timestamp::try_from(at)
        .map(|t| to_json(&t))
        .unwrap_or(Value::Null)
}

pub async fn read(
    p: &GcpProvider,
    r: &Resource,
    d: &Value,
    claim: Claim,
) -> Result<Option<Observed>> {
    match r.type_name() {
        "kms_key_ring" => Ok(get_ring(p, s(d, "name")).await?.map(|k| Observed {
            id: k.name.clone(),
            outputs: [("name".to_string(), json!(k.name))].into_iter().collect(),
            settings: d.clone(),
        })),
        "kms_crypto_key" if r.mode == Mode::Data => {
            // What the checks of an existing key need: its purpose and primary version.
            let Some(k) = get_key(p, s(d, "name")).await? else {
                return Ok(None);
            };
            let live = to_json(&k);
            let purpose = k.purpose.name().map(String::from);
            Ok(Some(Observed {
                id: k.name.clone(),
                outputs: [("name".to_string(), json!(k.name))].into_iter().collect(),
                settings: json!({ "name": k.name, "purpose": purpose, "primary": live.get("primary") }),
            }))
        }
        "kms_crypto_key" => {
            let Some(k) = get_key(p, &key_name(d)).await? else {
                return Ok(None);
            };
            if k.primary.as_ref().is_some_and(|v| {
                v.state == model::crypto_key_version::CryptoKeyVersionState::DestroyScheduled
            }) {
                // A key whose versions were destroyed is gone for the data plane's purposes.
                return Ok(None);
            }
            p.check_labels(&format!("key {}", k.name), Some(&json!(k.labels)), claim)?;
            Ok(Some(key_observed(&k, d)))
        }
        _ => {
            let Some(policy) =
                absent(policy::get(p, &Target::KmsKey(s(d, "resource").to_string())).await)?
            else {
                return Ok(None);
            };
            Ok(policy::settings(&policy, d).map(|settings| Observed {
                id: format!("{} {}", s(d, "resource"), s(d, "role")),
                outputs: Default::default(),
                settings,
            }))
        }
    }
}

pub async fn create(p: &GcpProvider, r: &Resource, d: &Value) -> Result<Observed> {
    match r.type_name() {
        "kms_key_ring" => {
            let parent = s(d, "name")
                .rsplit_once("/keyRings/")
                .map(|(a, _)| a.to_string())
                .unwrap_or_default();
            let created = p
                .call("cloudkms.keyRings.create", || {
                    let f = p
                        .kms
                        .create_key_ring()
                        .set_parent(&parent)
                        .set_key_ring_id(s(d, "keyRingId"))
                        .set_key_ring(model::KeyRing::default())
                        .send();
                    async move { f.await.map_err(ApiError::from) }
                })
                .await;
            match created {
                Ok(_) => {}
                // Key rings are never deleted: a data plane re-created after a destroy
                // finds its ring.
                Err(e) if e.is(409) => {}
                Err(e) => return Err(e.into()),
            }
            read(p, r, d, Claim::Recorded)
                .await?
                .ok_or_else(|| anyhow!("the key ring is not there after its creation"))
        }
        "kms_crypto_key" => {
            let mut body = strip(d, KEY_WRITE_ONLY);
            body["labels"] = p.labels_for(r, d.get("labels"));
            body["nextRotationTime"] = next_rotation(d);
            let key: model::CryptoKey = typed(body)?;
            let created = p
                .call("cloudkms.cryptoKeys.create", || {
                    let f = p
                        .kms
                        .create_crypto_key()
                        .set_parent(s(d, "parent"))
                        .set_crypto_key_id(s(d, "cryptoKeyId"))
                        .set_crypto_key(key.clone())
                        .send();
                    async move { f.await.map_err(ApiError::from) }
                })
                .await;
            match created {
                Ok(k) => Ok(key_observed(&k, d)),
                Err(e) if e.is(409) => {
                    // Ours (by label) from an earlier run or an earlier data plane of this
                    // name whose versions were destroyed: give it a new primary version.
                    let k = get_key(p, &key_name(d))
                        .await?
                        .ok_or_else(|| anyhow!("the key exists (409) but cannot be read"))?;
                    if k.labels.get(LABEL_DATA_PLANE).map(String::as_str)
                        != Some(super::plan::label_value(&p.data_plane).as_str())
                    {
                        return Err(anyhow!("key {} exists and is not this data plane's; unionctl will not take it over", k.name));
                    }
                    if k.primary.as_ref().is_none_or(|v| {
                        v.state != model::crypto_key_version::CryptoKeyVersionState::Enabled
                    }) {
                        // A new version, made primary (a symmetric key's new version is not).
                        let name = k.name.clone();
                        let version = p
                            .call("cloudkms.cryptoKeyVersions.create", || {
                                let f = p
                                    .kms
                                    .create_crypto_key_version()
                                    .set_parent(&name)
                                    .set_crypto_key_version(model::CryptoKeyVersion::default())
                                    .send();
                                async move { f.await.map_err(ApiError::from) }
                            })
                            .await?;
                        let id = version
                            .name
                            .rsplit('/')
                            .next()
                            .unwrap_or_default()
                            .to_string();
                        p.call("cloudkms.cryptoKeys.updatePrimaryVersion", || {
                            let f = p
                                .kms
                                .update_crypto_key_primary_version()
                                .set_name(&name)
                                .set_crypto_key_version_id(&id)
                                .send();
                            async move { f.await.map_err(ApiError::from) }
                        })
                        .await?;
                    }
                    update_key(p, r, d).await
                }
                Err(e) => Err(e.into()),
            }
        }
        _ => set_binding(p, d).await,
    }
}

async fn set_binding(p: &GcpProvider, d: &Value) -> Result<Observed> {
    let live = policy::modify(p, &Target::KmsKey(s(d, "resource").to_string()), |pol| {
        policy::edit(pol, d, false)
    })
    .await?;
    Ok(Observed {
        id: format!("{} {}", s(d, "resource"), s(d, "role")),
        outputs: Default::default(),
        settings: policy::settings(&live, d).unwrap_or_else(|| d.clone()),
    })
}

async fn update_key(p: &GcpProvider, r: &Resource, d: &Value) -> Result<Observed> {
    let mut body = strip(d, KEY_WRITE_ONLY);
    body["name"] = json!(key_name(d));
    body["labels"] = p.labels_for(r, d.get("labels"));
    body["nextRotationTime"] = next_rotation(d);
    let key: model::CryptoKey = typed(body)?;
    let mask: google_cloud_wkt::FieldMask =
        serde_json::from_value(json!("rotationPeriod,nextRotationTime,labels")).unwrap_or_default();
    let k = p
        .call("cloudkms.cryptoKeys.patch", || {
            let f = p
                .kms
                .update_crypto_key()
                .set_crypto_key(key.clone())
                .set_update_mask(mask.clone())
                .send();
            async move { f.await.map_err(ApiError::from) }
        })
        .await?;
    Ok(key_observed(&k, d))
}

pub async fn update(
    p: &GcpProvider,
    r: &Resource,
    d: &Value,
    _live: &Observed,
    changed: &[String],
) -> Result<Observed> {
    match r.type_name() {
        "kms_crypto_key" => update_key(p, r, d).await,
        "kms_crypto_key_iam_binding" | "kms_crypto_key_iam_member" => set_binding(p, d).await,
        _ => Err(super::unsupported(r, changed)),
    }
}

pub async fn delete(p: &GcpProvider, r: &ResourceState) -> Result<()> {
    let d = &r.settings;
    match r.type_name() {
        // Cloud KMS has no delete for key rings.
        "kms_key_ring" => Ok(()),
        "kms_crypto_key" => {
            let name = key_name(d);
            let versions = absent(
                p.call("cloudkms.cryptoKeyVersions.list", || {
                    let f = p.kms.list_crypto_key_versions().set_parent(&name).send();
                    async move { f.await.map_err(ApiError::from) }
                })
                .await,
            )?;
            for v in versions.map(|v| v.crypto_key_versions).unwrap_or_default() {
                use model::crypto_key_version::CryptoKeyVersionState as S;
                if matches!(v.state, S::Enabled | S::Disabled) {
                    p.call("cloudkms.cryptoKeyVersions.destroy", || {
                        let f = p.kms.destroy_crypto_key_version().set_name(&v.name).send();
                        async move { f.await.map_err(ApiError::from) }
                    })
                    .await?;
                }
            }
            Ok(())
        }
        _ => match policy::modify(p, &Target::KmsKey(s(d, "resource").to_string()), |pol| {
            policy::edit(pol, d, true)
        })
        .await
        {
            Err(e) if e.downcast_ref::<ApiError>().is_some_and(|a| a.is(404)) => Ok(()),
            other => other.map(|_| ()),
        },
    }
}
