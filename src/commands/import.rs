//! `state import LINEAGE`: takes over a data plane that another state made (its state file
//! lost, or kept elsewhere). Every resource unionctl makes carries its state's lineage, and a
//! state adopts only what carries its own: the new state takes the given lineage, and the
//! plan's resources are read in dependency order and recorded as they are found, so that
//! what refers to them can be found in turn. What exists only in state (the generated
//! external ID) is read back from the resource that uses it. The next `plan` is then the
//! diff against the imported data plane.

use std::path::Path;

use anyhow::Result;
use serde_json::{json, Value};

use crate::error::{ExitStatus, UserError};
use crate::exec::adoption::NotOurs;
use crate::exec::Observed;
use crate::plan::resolve::resolve;
use crate::plan::resource::references;
use crate::plan::{Mode, Party, Resource};
use crate::settings::Settings;
use crate::state::{ResourceState, State};

pub fn run(lineage: &str, profile: &Path, settings: &Settings) -> Result<ExitStatus> {
    let ui = &settings.ui;
    if lineage.len() != 32 || !lineage.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(UserError::new(format!("`{lineage}` is not a state lineage (32 hexadecimal characters)"))
            .hint("copy it from the error that named the resources, or from their unionctl.union.ai/lineage tag")
            .into());
    }
    let loaded = crate::ops::load_profile(profile, ui)?;
    let backend = crate::ops::state_backend(settings, &loaded)?;
    let _lock = crate::ops::lock(backend.as_ref(), "import", &loaded)?;
    if let Some(state) = crate::ops::load_state(backend.as_ref(), &loaded)? {
        return Err(UserError::new(format!(
            "a state exists already at {} (lineage {}, serial {}, {} resources); nothing was changed",
            backend.location(),
            state.lineage,
            state.serial,
            state.resources.len()
        ))
        .hint("import starts a data plane's state: point --state-dir or --state at an empty location, or keep using this state")
        .into());
    }
    let plan = crate::ops::build_plan(&loaded)?;
    let mut state = crate::ops::state_or_new(None, &loaded);
    state.lineage = lineage.to_ascii_lowercase();
    let (found, foreign) = crate::ops::runtime()?.block_on(async {
        // The customer's credentials read every resource of the data plane, Union.ai's too.
        let provider = crate::ops::connect(&loaded, Party::Customer, &state).await?;
        let mut foreign: Vec<(String, NotOurs)> = Vec::new();
        // Each pass records what it can read with what earlier passes recorded; a pass that
        // finds nothing new ends the import.
        loop {
            let mut progress = false;
            for r in plan.resources.iter().filter(|r| r.mode == Mode::Managed) {
                if state.resources.contains_key(&r.address)
                    || foreign.iter().any(|(a, _)| *a == r.address)
                {
                    continue;
                }
                if r.kind.starts_with("local.") {
                    if let Some(value) =
                        local_value(&plan.resources, r, &state, provider.as_ref()).await?
                    {
                        state.resources.insert(
                            r.address.clone(),
                            ResourceState::of(r, value, r.settings.clone()),
                        );
                        progress = true;
                    }
                    continue;
                }
                let Ok(desired) = resolve(&r.settings, &state) else {
                    continue;
                };
                match provider.read(r, &desired, None).await {
                    Ok(Some(obs)) => {
                        let settings = obs.settings.clone();
                        state
                            .resources
                            .insert(r.address.clone(), ResourceState::of(r, obs, settings));
                        progress = true;
                    }
                    Ok(None) => {}
                    Err(e) => match e.chain().find_map(|c| c.downcast_ref::<NotOurs>()) {
                        Some(n) => foreign.push((r.address.clone(), n.clone())),
                        None => return Err(e),
                    },
                }
            }
            if !progress {
                break;
            }
        }
        Ok::<_, anyhow::Error>((state.resources.len(), foreign))
    })?;
    if found == 0 {
        return Err(UserError::new(format!(
            "no resource of data plane {} carries lineage {lineage}; nothing was imported",
            loaded.profile.metadata.name
        ))
        .hint("check the lineage, the profile's account and region, and its metadata.name")
        .into());
    }
    backend.save(&mut state)?;
    for (address, why) in &foreign {
        ui.warning(&format!("`{address}` was not imported: {why}"));
    }
    ui.success(&format!(
        "Imported {found} of the plan's resources into {} (lineage {}). `unionctl plan -f {}` shows what differs from the profile; `unionctl apply` makes the rest.",
        backend.location(),
        state.lineage,
        loaded.path.display()
    ));
    ui.result("state import", ExitStatus::Success, json!({ "location": backend.location(), "lineage": state.lineage, "imported": found, "not_imported": foreign.iter().map(|(a, w)| json!({ "address": a, "reason": w.to_string() })).collect::<Vec<_>>() }));
    Ok(ExitStatus::Success)
}

/// A value that lives only in state (`local.*`), read back from a resource that uses it:
/// the live setting at the place where that resource's settings refer to it.
async fn local_value(
    resources: &[Resource],
    local: &Resource,
    state: &State,
    provider: &dyn crate::exec::Provider,
) -> Result<Option<Observed>> {
    for user in resources
        .iter()
        .filter(|u| u.depends_on.contains(&local.address) && !u.kind.starts_with("local."))
    {
        // Everything else the user refers to must be known, to find it.
        let known = |address: &str, attribute: &str| {
            if address == local.address {
                Some(Value::String(format!("${{{address}.{attribute}}}")))
            } else {
                state.output(address, attribute).cloned()
            }
        };
        let Ok(desired) = resolve(&user.settings, &known) else {
            continue;
        };
        let Some(pointer) = pointer_of(&user.settings, &local.address, "") else {
            continue;
        };
        let Ok(Some(live)) = provider.read(user, &desired, None).await else {
            continue;
        };
        if let Some(Value::String(value)) = live.settings.pointer(&pointer) {
            let outputs = [("value".to_string(), Value::String(value.clone()))]
                .into_iter()
                .collect();
            return Ok(Some(Observed {
                id: local.name.clone(),
                outputs,
                settings: local.settings.clone(),
            }));
        }
    }
    Ok(None)
}

/// The JSON pointer of the setting that is exactly a reference to `address`.
fn pointer_of(v: &Value, address: &str, at: &str) -> Option<String> {
    match v {
        Value::String(_) => references(v)
            .iter()
            .any(|r| r.address == address)
            .then(|| at.to_string()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, x)| pointer_of(x, address, &format!("{at}/{i}"))),
        Value::Object(m) => m.iter().find_map(|(k, x)| {
            pointer_of(
                x,
                address,
                &format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
            )
        }),
        _ => None,
    }
}
