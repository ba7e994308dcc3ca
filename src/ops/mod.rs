//! Operations: the steps of the commands over the library, each once (load the profile
//! and show its warnings, take the state and its lock, sign in and check where the
//! credentials act, build the plan and map invariant violations to profile positions,
//! compute its changes against what exists, carry out its schedule). A command parses its
//! arguments, calls these, and hands what they return to its view (cargo's `ops`).

pub mod destroy;
pub mod execute;
pub mod saved;
pub mod verify;

use std::path::Path;

use anyhow::Result;

use crate::clouds::{self, Cloud};
use crate::error::{InvariantFailure, UserError};
use crate::exec::{self, Provider, Refreshed};
use crate::plan::{Action, Mode, Party, Plan, PlanError, PlanMode};
use crate::profile::{self, LoadedProfile, Model};
use crate::settings::Settings;
use crate::state::{Backend, LocalBackend, Location, LockGuard, Locked, State};
use crate::ui::Ui;

/// A runtime for the commands that talk to a cloud.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// Ctrl-C during an apply or destroy: the first stops the walk after its steps in flight
/// (each recorded), the second stops at once; either way a re-run resumes. Runs on the
/// current runtime.
pub fn watch_interrupts(ui: &Ui, command: &'static str) {
    let ui = ui.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        exec::interrupt::request();
        ui.warning(&format!(
            "stopping: no new step starts, and the ones in flight finish and are recorded (state is saved after each); run the same `unionctl {command}` again to resume. Ctrl-C again stops at once."
        ));
        if tokio::signal::ctrl_c().await.is_ok() {
            ui.warning(&format!("stopped at once: state holds every finished step and the intent of every create in flight; run the same `unionctl {command}` again to resume."));
            std::process::exit(130);
        }
    });
}

/// Resources read at once by a refresh.
const REFRESH_PARALLELISM: usize = 8;

/// Where this profile's state lives: `--state`, else the profile's `spec.state.url`, else a
/// local file in the state directory.
pub fn state_backend(settings: &Settings, loaded: &LoadedProfile) -> Result<Box<dyn Backend>> {
    let url = match (&settings.state_url, &loaded.profile.spec.state) {
        (Some(flag), _) => Location::parse(flag)
            .map_err(|problem| UserError::new(format!("--state: {problem}")))?,
        // Validated with the profile.
        (None, Some(spec)) => Location::parse(&spec.url)
            .map_err(|problem| UserError::new(format!("spec.state.url: {problem}")))?,
        (None, None) => {
            return Ok(Box::new(LocalBackend::for_data_plane(
                &settings.state_dir,
                &loaded.profile,
                &loaded.path,
            )))
        }
    };
    clouds::remote_state(&url, &loaded.profile)
}

/// A fleet's data planes each have their own state: one `--state` cannot hold them all.
pub fn refuse_shared_state(settings: &Settings) -> Result<()> {
    if settings.state_url.is_some() {
        return Err(UserError::new("--state names one state, and each data plane of a fleet needs its own")
            .hint("give each profile its own `spec.state.url`, or drop --state to keep local state per profile")
            .into());
    }
    Ok(())
}

/// Takes the state's lock for `operation`, or fails at once naming the holder and how to
/// release a lock that a dead run left.
pub fn lock<'a>(
    backend: &'a dyn Backend,
    operation: &str,
    loaded: &LoadedProfile,
) -> Result<Box<dyn LockGuard + 'a>> {
    backend
        .lock(operation)
        .map_err(|e| match e.downcast::<Locked>() {
            Ok(locked) => locked.into_error(&format!(
                "unionctl state unlock -f {}",
                loaded.path.display()
            )),
            Err(other) => other,
        })
}

/// Loads state and checks that it belongs to this profile.
pub fn load_state(backend: &dyn Backend, loaded: &LoadedProfile) -> Result<Option<State>> {
    let Some(state) = backend.load()? else {
        return Ok(None);
    };
    let p = &loaded.profile;
    if state.data_plane != p.metadata.name
        || state.cloud != p.spec.cloud.provider
        || state.model != p.spec.model
    {
        return Err(UserError::new(format!(
            "state {} is for data plane `{}` ({} {}), not `{}` ({} {})",
            backend.location(),
            state.data_plane,
            state.cloud,
            state.model,
            p.metadata.name,
            p.spec.cloud.provider,
            p.spec.model
        ))
        .hint("use another --state-dir or --state, or the profile this state was made with")
        .into());
    }
    Ok(Some(state))
}

/// The state a command works on: what exists, or a new one for this profile.
pub fn state_or_new(prior: Option<State>, loaded: &LoadedProfile) -> State {
    let p = &loaded.profile;
    prior.unwrap_or_else(|| State::new(&p.metadata.name, p.spec.cloud.provider, p.spec.model))
}

/// The state a command that only reads needs: it must exist.
pub fn require_state(backend: &dyn Backend, loaded: &LoadedProfile) -> Result<State> {
    load_state(backend, loaded)?.ok_or_else(|| {
        UserError::new("no state: nothing has been applied yet")
            .hint(format!(
                "run `unionctl apply --model {} -f {}`",
                loaded.profile.spec.model,
                loaded.path.display()
            ))
            .into()
    })
}

/// The cloud a profile names.
pub fn cloud_of(loaded: &LoadedProfile) -> &'static dyn Cloud {
    clouds::of(loaded.profile.spec.cloud.provider)
}

/// Loads and validates a profile, printing its warnings.
pub fn load_profile(path: &Path, ui: &Ui) -> Result<LoadedProfile> {
    let loaded = profile::load_file(path)?;
    ui.diagnostics(&loaded.path, &loaded.warnings);
    Ok(loaded)
}

/// `--model` on the command line must agree with the profile: it protects against applying
/// the wrong model to an account.
pub fn check_model(loaded: &LoadedProfile, given: Option<Model>) -> Result<()> {
    let Some(given) = given else { return Ok(()) };
    let in_profile = loaded.profile.spec.model;
    if given != in_profile {
        let at = loaded
            .source
            .mark("spec.model")
            .map(|m| format!(":{m}"))
            .unwrap_or_default();
        return Err(UserError::new(format!(
            "`--model {given}` does not match `spec.model: {in_profile}` in {}{at}",
            loaded.path.display()
        ))
        .hint("the model decides who owns what in the account; fix whichever of the two is wrong")
        .into());
    }
    Ok(())
}

/// Builds the plan; invariant violations become an `InvariantFailure` pointing into the profile.
pub fn build_plan(loaded: &LoadedProfile) -> Result<Plan> {
    crate::plan::build(&loaded.profile, &loaded.digest, cloud_of(loaded)).map_err(|e| match e {
        PlanError::Invariants(violations) => {
            anyhow::Error::new(invariant_failure(loaded, "the plan breaks", violations))
        }
        other => anyhow::Error::new(other),
    })
}

pub fn invariant_failure(
    loaded: &LoadedProfile,
    subject: &str,
    mut violations: Vec<crate::plan::Violation>,
) -> InvariantFailure {
    violations.sort_by_key(|v| v.invariant);
    InvariantFailure {
        subject: subject.to_string(),
        profile: loaded.path.clone(),
        violations: violations
            .into_iter()
            .map(|v| {
                let mark = loaded.source.mark(&v.profile_field);
                (v, mark)
            })
            .collect(),
        live: None,
    }
}

/// Violations found on live resources: each names the resource (its cloud id) and what
/// restores it: `apply`, for what unionctl manages (the plan holds every invariant), or a
/// fix in the cloud, for what the profile only names as existing.
pub fn live_failure(
    loaded: &LoadedProfile,
    subject: &str,
    violations: Vec<crate::plan::Violation>,
    observed: &[crate::plan::Resource],
    ids: &std::collections::HashMap<String, String>,
) -> InvariantFailure {
    let mut failure = invariant_failure(loaded, subject, violations);
    // A live finding names a profile field only where the profile writes it: a default it
    // does not write caused nothing.
    for (v, mark) in &mut failure.violations {
        *mark = loaded.source.written(&v.profile_field);
    }
    let findings = failure
        .violations
        .iter()
        .map(|(v, _)| {
            let managed = observed.iter().find(|r| r.address == v.address).is_none_or(|r| r.mode == Mode::Managed);
            let remedy = if managed {
                format!("run `unionctl apply --model {} -f {}` to restore it", loaded.profile.spec.model, loaded.path.display())
            } else {
                "it is an existing resource the profile names: fix it in the cloud, or name a compliant one".to_string()
            };
            crate::error::LiveFinding { id: ids.get(&v.address).cloned().unwrap_or_default(), remedy }
        })
        .collect();
    failure.live = Some(findings);
    failure
}

/// Prints plan warnings (the ones that do not refuse it).
pub fn show_plan_warnings(plan: &Plan, loaded: &LoadedProfile, ui: &Ui) {
    for w in &plan.warnings {
        let at = loaded
            .source
            .mark(&w.profile_field)
            .map(|m| format!(" ({}:{m})", loaded.path.display()))
            .unwrap_or_default();
        ui.warning(&format!(
            "{}: {} — {}{at}",
            w.invariant, w.address, w.message
        ));
    }
}

/// Signs in for `stage` and checks that the credentials act in the account, project or
/// subscription the profile names, before anything is read or changed (the profile, not
/// the credentials, decides where a data plane is made).
pub async fn connect(
    loaded: &LoadedProfile,
    stage: Party,
    state: &State,
) -> Result<Box<dyn Provider>> {
    let provider = cloud_of(loaded)
        .connect(stage, &loaded.profile, state)
        .await
        .map_err(|e| match stage {
            Party::Union => e.context("stage union: cannot sign in as Union.ai's admin identity"),
            Party::Customer => e,
        })?;
    check_signed_in(loaded, provider.signed_in())?;
    Ok(provider)
}

/// The account (AWS), project number (GCP) or tenant (Azure) the cloud reported for the
/// credentials, against the profile's: a mismatch names both, as Terraform's
/// `allowed_account_ids` does.
fn check_signed_in(loaded: &LoadedProfile, signed: &exec::SignedIn) -> Result<()> {
    let c = &loaded.profile.spec.cloud;
    let (field, wanted, got, what, hint) = match c.provider {
        crate::profile::Provider::Aws => {
            let wanted = c.aws.as_ref().map_or("", |a| a.account_id.as_str());
            let who = if signed.principal.is_empty() {
                String::new()
            } else {
                format!(" ({})", signed.principal)
            };
            (
                "spec.cloud.aws.accountId",
                wanted,
                signed.account.as_str(),
                format!("the AWS credentials{who} are for account {}", signed.account),
                format!("sign in to account {wanted} (AWS_PROFILE, `aws sso login`, or that account's keys), or correct spec.cloud.aws.accountId if the profile is wrong"),
            )
        }
        crate::profile::Provider::Gcp => {
            let g = c.gcp.as_ref();
            let (id, wanted) = g.map_or(("", ""), |g| {
                (g.project_id.as_str(), g.project_number.as_str())
            });
            (
                "spec.cloud.gcp.projectNumber",
                wanted,
                signed.account.as_str(),
                format!("GCP project {id} has the number {}", signed.account),
                "correct spec.cloud.gcp.projectId or spec.cloud.gcp.projectNumber: they must name one project".to_string(),
            )
        }
        crate::profile::Provider::Azure => {
            let a = c.azure.as_ref();
            let (sub, wanted) = a.map_or(("", ""), |a| {
                (a.subscription_id.as_str(), a.tenant_id.as_str())
            });
            let got = signed.tenant.as_deref().unwrap_or("");
            (
                "spec.cloud.azure.tenantId",
                wanted,
                got,
                format!("Azure subscription {sub} belongs to tenant {got}"),
                "correct spec.cloud.azure.subscriptionId or spec.cloud.azure.tenantId".to_string(),
            )
        }
    };
    if got == wanted {
        return Ok(());
    }
    let at = loaded
        .source
        .mark(field)
        .map(|m| format!(" at {}:{m}", loaded.path.display()))
        .unwrap_or_default();
    Err(UserError::new(format!(
        "{what}, but the profile says {wanted} ({field}{at}); nothing was done with these credentials"
    ))
    .hint(hint)
    .into())
}

/// Reads what exists for the plan's resources (limited to `scope` when given) and
/// replaces the plan's changes by the changes against it. Every resource is looked up,
/// with or without state: one under this data plane's names that this state did not make
/// refuses the plan before anything changes.
pub async fn refresh_plan(
    plan: &mut Plan,
    loaded: &LoadedProfile,
    state: &State,
    location: &str,
    provider: &dyn Provider,
    scope: Option<Party>,
) -> Result<Refreshed> {
    let inputs = scope.map(|stage| crate::plan::schedule::stage_inputs(&plan.resources, stage));
    let wanted: Vec<_> = plan
        .resources
        .iter()
        .filter(|r| {
            inputs
                .as_ref()
                .is_none_or(|i| i.contains(r.address.as_str()))
        })
        .cloned()
        .collect();
    if wanted.is_empty() {
        return Ok(Refreshed::default());
    }
    let live = exec::refresh(&wanted, provider, state, REFRESH_PARALLELISM)
        .await
        .map_err(|e| explain_conflicts(e, loaded, location))?;
    check_existing(plan, loaded, &live)?;
    if state.resources.is_empty() && live.values().all(Option::is_none) {
        // Nothing exists yet: every resource is a create, as planned.
        return Ok(Refreshed {
            live,
            contents: Default::default(),
        });
    }
    // Data-holding resources are the customer's: only the customer's credentials count them.
    let contents = if scope == Some(Party::Union) {
        Default::default()
    } else {
        exec::orphan_contents(&plan.resources, provider, state).await?
    };
    let refreshed = Refreshed { live, contents };
    exec::diff(plan, state, &refreshed, cloud_of(loaded));
    Ok(refreshed)
}

/// Resources of another state under this data plane's names: what they are, which state
/// was looked for, and the ways forward.
fn explain_conflicts(e: anyhow::Error, loaded: &LoadedProfile, location: &str) -> anyhow::Error {
    let Some(mut conflicts) =
        e.downcast_ref::<exec::adoption::Conflicts>()
            .map(|c| exec::adoption::Conflicts {
                state: location.to_string(),
                found: c.found.clone(),
            })
    else {
        return e;
    };
    conflicts.found.sort_by(|a, b| a.0.cmp(&b.0));
    let name = &loaded.profile.metadata.name;
    let hint = match conflicts.other_lineage() {
        Some(lineage) => format!(
            "if this is that data plane, its state is elsewhere (another --state-dir, directory or --state URL): use it; \
             to take these resources over with this state instead, `unionctl state import {lineage} -f {}`; \
             if it is another data plane that uses the name `{name}` in this account, give this one another metadata.name",
            loaded.path.display()
        ),
        None => format!("give this data plane another metadata.name, or remove what carries the name `{name}` if nothing uses it"),
    };
    UserError::new(conflicts.to_string()).hint(hint).into()
}

/// The existing resources the profile names, checked on what the cloud reports of them:
/// one that is missing or breaks an invariant refuses the plan; the ones that pass lose
/// their "unverified" warning.
fn check_existing(
    plan: &mut Plan,
    loaded: &LoadedProfile,
    live: &std::collections::HashMap<String, Option<exec::Observed>>,
) -> Result<()> {
    let mut observed = Vec::new();
    for r in plan.resources.iter().filter(|r| r.mode == Mode::Data) {
        match live.get(&r.address) {
            Some(None) => {
                return Err(UserError::new(format!(
                    "`{}` ({}) does not exist; the profile names it as existing",
                    r.address, r.name
                ))
                .hint("fix the name in the profile, or let unionctl create it (`create`)")
                .into())
            }
            Some(Some(obs)) => {
                let mut seen = r.clone();
                seen.settings = obs.settings.clone();
                observed.push(seen);
            }
            None => {}
        }
    }
    let found = crate::plan::invariants::check_existing(
        &observed,
        &crate::plan::invariant_context(&loaded.profile),
        cloud_of(loaded),
    );
    let (errors, warnings): (Vec<_>, Vec<_>) = found.into_iter().partition(|v| !v.warning_only);
    if !errors.is_empty() {
        return Err(anyhow::Error::new(invariant_failure(
            loaded,
            "the existing resources the profile names break",
            errors,
        )));
    }
    let read: std::collections::HashSet<&str> =
        observed.iter().map(|r| r.address.as_str()).collect();
    plan.warnings.retain(|w| !read.contains(w.address.as_str()));
    plan.warnings.extend(warnings);
    Ok(())
}

/// Refuses a plan with changes that apply will not carry out, naming each and what to do.
pub fn refuse_blocked(plan: &Plan) -> Result<()> {
    let blocked: Vec<&str> = plan
        .resource_changes
        .iter()
        .filter_map(|c| c.blocked.as_deref())
        .collect();
    if blocked.is_empty() {
        return Ok(());
    }
    let mut err = UserError::new(match plan.mode {
        PlanMode::Apply => format!(
            "the plan would delete or replace {} resource(s) that hold data or identity; nothing was changed",
            blocked.len()
        ),
        PlanMode::Destroy => format!(
            "{} bucket(s) hold data, and destroy never deletes data unless asked; nothing was deleted",
            blocked.len()
        ),
    });
    err = err.hint(blocked.join("\n        "));
    Err(err.into())
}

/// The union stage never changes a customer-owned resource: when it runs alone, every
/// customer-owned resource it depends on must already match the plan.
pub fn refuse_customer_changes(plan: &Plan) -> Result<()> {
    let inputs = crate::plan::schedule::stage_inputs(&plan.resources, Party::Union);
    let pending = plan.resource_changes.iter().find(|c| {
        c.stage == Party::Customer && inputs.contains(c.address.as_str()) && c.action.is_change()
    });
    if let Some(c) = pending {
        let problem = match c.action {
            Action::Create => "does not exist".to_string(),
            _ => format!(
                "does not comply with the plan at {}",
                c.changed_paths.join(", ")
            ),
        };
        let err = exec::NotCompliant {
            address: c.address.clone(),
            owner: c.owner.display_name(),
            problem,
        };
        return Err(UserError::new(err.to_string())
            .hint("the customer brings customer-owned resources back to the plan with `unionctl apply --stage customer`, then the union stage runs again")
            .into());
    }
    Ok(())
}
