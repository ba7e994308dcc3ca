//! One thin function per command: parse, call the operations (`crate::ops`), hand the
//! result to the view.

pub mod apply;
pub mod destroy;
pub mod fleet;
pub mod import;
pub mod init;
pub mod outputs;
pub mod plan;
pub mod responsibilities;
pub mod schema;
pub mod show;
pub mod unlock;
pub mod validate;
pub mod verify;

use anyhow::Result;

use crate::cli::{Cli, Command, StageArg, StateCommand};
use crate::error::{ExitStatus, UserError};
use crate::plan::Party;
use crate::profile::Model;
use crate::settings::Settings;

pub fn run(command: Command, settings: &Settings) -> Result<ExitStatus> {
    let ui = &settings.ui;
    match command {
        Command::Init(args) => init::run(args, ui),
        Command::Validate(args) => validate::run(&args, settings),
        Command::Plan(args) => plan::run(args, settings),
        Command::Apply(args) => apply::run(args, settings),
        Command::Destroy(args) => destroy::run(args, settings),
        Command::Show(args) => show::run(&args.profile, "show", settings),
        Command::State(StateCommand::List(args)) => {
            show::run(&args.profile, "state list", settings)
        }
        Command::State(StateCommand::Unlock(args)) => {
            unlock::run(&args.id, &args.profile.profile, settings)
        }
        Command::State(StateCommand::Import(args)) => {
            import::run(&args.lineage, &args.profile.profile, settings)
        }
        Command::Outputs(args) => outputs::run(args, settings),
        Command::Verify(args) => verify::run(&args, settings),
        Command::Responsibilities(args) => responsibilities::run(args, ui),
        Command::Schema => schema::run(ui),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut cmd, "unionctl", &mut buf);
            let script = String::from_utf8_lossy(&buf);
            ui.show(
                "completions",
                serde_json::json!({ "shell": shell.to_string(), "script": script }),
                &script,
            );
            Ok(ExitStatus::Success)
        }
    }
}

/// The stages to run, in apply order.
pub fn stages(model: Model, arg: StageArg) -> Result<Vec<Party>> {
    match (model, arg) {
        (Model::SelfManaged, StageArg::Union) => Err(UserError::new(
            "self-managed has no union stage: Union.ai has no access",
        )
        .hint("drop --stage, or use --stage customer")
        .into()),
        (Model::SelfManaged, _) | (Model::Byoc, StageArg::Customer) => Ok(vec![Party::Customer]),
        (Model::Byoc, StageArg::Union) => Ok(vec![Party::Union]),
        (Model::Byoc, StageArg::All) => Ok(vec![Party::Customer, Party::Union]),
    }
}

/// Carries out a plan's schedule (apply and destroy alike), the view hearing of each
/// stage as it finishes and of the end.
pub async fn carry_out(
    run: &crate::ops::execute::Run<'_>,
    schedule: &crate::plan::schedule::Schedule,
    state: &mut crate::state::State,
    providers: &mut crate::ops::execute::Providers,
    view: &crate::ui::view::RunView<'_>,
    started: std::time::Instant,
) -> Result<()> {
    let executed = crate::ops::execute::execute(run, schedule, state, providers, &mut |part| {
        view.stage_done(part)
    })
    .await?;
    view.waiting(schedule.waiting.len());
    view.finished(&crate::ui::view::Finished {
        plan: run.plan,
        stages: &executed.stages,
        all: &executed.all,
        calls: providers.calls(),
        elapsed: started.elapsed(),
        state_location: &run.backend.location(),
        state_serial: state.serial,
    });
    Ok(())
}
