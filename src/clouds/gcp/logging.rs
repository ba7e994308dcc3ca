//! Cloud Logging: the project sink that exports Cloud Audit Logs to the audit bucket
//! (`google-cloud-logging-v2`, `ConfigServiceV2`).

use anyhow::{anyhow, Result};
use google_cloud_logging_v2::model::LogSink;
use serde_json::{json, Value};

use super::provider::{
    absent, check_description, gone, project, to_json, typed, ApiError, GcpProvider,
};
use crate::exec::adoption::Claim;
use crate::exec::Observed;
use crate::plan::{Mode, Resource};
use crate::state::ResourceState;

const WRITE_ONLY: &[&str] = &["/uniqueWriterIdentity"];

fn sink_name(p: &GcpProvider, d: &Value) -> String {
    let name = d["name"].as_str().unwrap_or_default();
    if name.starts_with("projects/") {
        name.to_string()
    } else {
        format!("projects/{}/sinks/{name}", p.project)
    }
}

async fn get(p: &GcpProvider, name: &str) -> Result<Option<Value>> {
    let r = p
        .call("logging.sinks.get", || {
            let f = p.logging.get_sink().set_sink_name(name).send();
            async move { f.await.map_err(ApiError::from) }
        })
        .await;
    Ok(absent(r)?.map(|s| to_json(&s)))
}

fn observed(live: &Value, d: &Value) -> Observed {
    let settings = project(live, d, d, WRITE_ONLY);
    let outputs = [
        ("name", live.get("name")),
        ("writerIdentity", live.get("writerIdentity")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), json!(v)))
    .collect();
    Observed {
        id: live
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        outputs,
        settings,
    }
}

pub async fn read(
    p: &GcpProvider,
    r: &Resource,
    d: &Value,
    claim: Claim,
) -> Result<Option<Observed>> {
    let Some(live) = get(p, &sink_name(p, d)).await? else {
        return Ok(None);
    };
    if r.mode == Mode::Managed {
        check_description(
            &format!("log sink {}", sink_name(p, d)),
            live.get("description")
                .and_then(Value::as_str)
                .unwrap_or_default(),
            &p.data_plane,
            claim,
        )?;
    }
    if r.mode == Mode::Data {
        // What the checks of an existing sink need: what it exports, and where.
        let mut o = observed(&live, &json!({}));
        o.settings = json!({ "name": d["name"], "filter": live.get("filter"), "destination": live.get("destination") });
        return Ok(Some(o));
    }
    Ok(Some(observed(&live, d)))
}

pub async fn create(p: &GcpProvider, r: &Resource, d: &Value) -> Result<Observed> {
    let sink: LogSink = typed(
        json!({ "name": d["name"], "destination": d["destination"], "filter": d["filter"], "description": format!("unionctl data plane {} ({})", p.data_plane, r.address) }),
    )?;
    let parent = format!("projects/{}", p.project);
    let created = p
        .call("logging.sinks.create", || {
            let f = p
                .logging
                .create_sink()
                .set_parent(&parent)
                .set_sink(sink.clone())
                .set_unique_writer_identity(true)
                .send();
            async move { f.await.map_err(ApiError::from) }
        })
        .await;
    match created {
        Ok(s) => Ok(observed(&to_json(&s), d)),
        Err(e) if e.is(409) => {
            read(p, r, d, Claim::Found).await?;
            update(p, d).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn update(p: &GcpProvider, d: &Value) -> Result<Observed> {
    let sink: LogSink = typed(
        json!({ "name": d["name"], "destination": d["destination"], "filter": d["filter"] }),
    )?;
    let name = sink_name(p, d);
    let mask: google_cloud_wkt::FieldMask =
        serde_json::from_value(json!("destination,filter")).unwrap_or_default();
    let s = p
        .call("logging.sinks.update", || {
            let f = p
                .logging
                .update_sink()
                .set_sink_name(&name)
                .set_sink(sink.clone())
                .set_update_mask(mask.clone())
                .set_unique_writer_identity(true)
                .send();
            async move { f.await.map_err(ApiError::from) }
        })
        .await
        .map_err(|e| anyhow!(e))?;
    Ok(observed(&to_json(&s), d))
}

pub async fn delete(p: &GcpProvider, r: &ResourceState) -> Result<()> {
    let name = sink_name(p, &r.settings);
    gone(
        p.call("logging.sinks.delete", || {
            let f = p.logging.delete_sink().set_sink_name(&name).send();
            async move { f.await.map_err(ApiError::from) }
        })
        .await,
    )
}
