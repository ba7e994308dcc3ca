//! Every command-line flag, in one place. Commands receive these structs after
//! `settings::resolve` has combined them with the environment.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::profile::{Model, Provider};

#[derive(Debug, Parser)]
#[command(
    name = "unionctl",
    version,
    about = "Provision Union.ai data planes (BYOC and self-managed) on AWS, GCP and Azure",
    long_about = None,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// When to use colour (`NO_COLOR` also turns it off).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Log every API call (method, target, status, request id, time; never a secret) to
    /// stderr; `-vv` adds the SDKs' own debug logs. `RUST_LOG` sets the filter itself.
    #[arg(short = 'v', long = "verbose", global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// `json`: stdout carries JSON lines (for CI): progress events, then one versioned
    /// result object per command (docs/results-format.md), also on failure.
    #[arg(long, global = true, value_enum, default_value_t = OutputMode::Text)]
    pub output: OutputMode,

    /// Directory of local state files.
    #[arg(
        long,
        global = true,
        env = "UNIONCTL_STATE_DIR",
        default_value = ".unionctl"
    )]
    pub state_dir: PathBuf,

    /// Keep the state in a team's bucket instead: `s3://BUCKET/KEY`, `gs://BUCKET/KEY` or
    /// `azblob://ACCOUNT/CONTAINER/KEY` (a bucket that keeps versions; the lock is
    /// `KEY.lock`). Overrides the profile's `spec.state.url`.
    #[arg(
        long = "state",
        global = true,
        env = "UNIONCTL_STATE",
        value_name = "URL"
    )]
    pub state_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented starter profile.
    Init(InitArgs),
    /// Report every problem of a profile at once, with line and column.
    Validate(ProfilesArgs),
    /// Show what apply would do: resources, owner, stage, settings, changes.
    Plan(PlanArgs),
    /// Create or update the data plane through the cloud SDKs.
    Apply(ApplyArgs),
    /// Delete what unionctl created, in reverse dependency order.
    Destroy(DestroyArgs),
    /// Show what state records.
    Show(ProfileArgs),
    /// Inspect state.
    #[command(subcommand)]
    State(StateCommand),
    /// The hand-off: identities, buckets, cluster, and Helm values.
    Outputs(OutputsArgs),
    /// Who owns, operates and patches each component, per model.
    Responsibilities(ResponsibilitiesArgs),
    /// Read live resources and check every security invariant.
    Verify(ProfilesArgs),
    /// Print the profile's JSON Schema.
    Schema,
    /// Print shell completions.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Whether the raw arguments ask for `--output json`: a usage error is reported before the
/// arguments are parsed, and still owes CI its result.
pub fn wants_json(args: impl Iterator<Item = String>) -> bool {
    let args: Vec<String> = args.collect();
    args.iter().any(|a| a == "--output=json")
        || args
            .windows(2)
            .any(|w| w[0] == "--output" && w[1] == "json")
}

impl Command {
    /// The command's name, as `--output json` results carry it.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Init(_) => "init",
            Command::Validate(_) => "validate",
            Command::Plan(_) => "plan",
            Command::Apply(_) => "apply",
            Command::Destroy(_) => "destroy",
            Command::Show(_) => "show",
            Command::State(StateCommand::List(_)) => "state list",
            Command::State(StateCommand::Unlock(_)) => "state unlock",
            Command::State(StateCommand::Import(_)) => "state import",
            Command::Outputs(_) => "outputs",
            Command::Responsibilities(_) => "responsibilities",
            Command::Verify(_) => "verify",
            Command::Schema => "schema",
            Command::Completions { .. } => "completions",
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// List the resources state records.
    List(ProfileArgs),
    /// Release a lock that a dead run left behind (its ID is in the error that names it).
    Unlock(UnlockArgs),
    /// Start this data plane's state with the lineage of resources another state made, so
    /// that the next apply takes them over (the lineage is in the error that names them).
    Import(ImportArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The lineage the resources carry (their `unionctl.union.ai/lineage` tag).
    pub lineage: String,
    #[command(flatten)]
    pub profile: ProfileArgs,
}

#[derive(Debug, Args)]
pub struct UnlockArgs {
    /// The lock's ID, as the locked error shows it.
    pub id: String,
    #[command(flatten)]
    pub profile: ProfileArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputMode {
    Text,
    Json,
}

/// `--model` spellings. Kept apart from the profile type so that the profile stays free of
/// command-line concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModelArg {
    Byoc,
    #[value(name = "self-managed")]
    SelfManaged,
}

impl From<ModelArg> for Model {
    fn from(m: ModelArg) -> Model {
        match m {
            ModelArg::Byoc => Model::Byoc,
            ModelArg::SelfManaged => Model::SelfManaged,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CloudArg {
    Aws,
    Gcp,
    Azure,
}

impl From<CloudArg> for Provider {
    fn from(c: CloudArg) -> Provider {
        match c {
            CloudArg::Aws => Provider::Aws,
            CloudArg::Gcp => Provider::Gcp,
            CloudArg::Azure => Provider::Azure,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Table,
    Json,
    Yaml,
    Markdown,
    Dot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StageArg {
    Customer,
    Union,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DataFormat {
    Yaml,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MatrixFormat {
    Table,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    #[arg(long, value_enum)]
    pub cloud: CloudArg,
    #[arg(long, value_enum)]
    pub model: ModelArg,
    /// Write the profile to this file instead of stdout (refuses to overwrite one).
    #[arg(
        short = 'o',
        long = "out",
        visible_alias = "output-file",
        value_name = "FILE"
    )]
    pub output_file: Option<PathBuf>,
    /// Overwrite `--out` if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// The profile (YAML).
    #[arg(short = 'f', long = "file", value_name = "PROFILE")]
    pub profile: PathBuf,
}

/// `-f` of the commands that work on fleets.
#[derive(Debug, Clone, Args)]
pub struct ProfilesArgs {
    /// The profile (YAML). Repeat it, or name a directory of profiles, to work on a fleet
    /// of data planes at once.
    #[arg(
        short = 'f',
        long = "file",
        value_name = "PROFILE|DIR",
        required = true
    )]
    pub profiles: Vec<PathBuf>,
    /// Data planes of a fleet worked on at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub fleet_parallelism: u16,
}

#[derive(Debug, Clone, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub profile: ProfilesArgs,
    /// Must match the profile's `spec.model`.
    #[arg(long, value_enum)]
    pub model: Option<ModelArg>,
    /// Read live resources and diff against them (also done whenever state exists).
    #[arg(long)]
    pub refresh: bool,
    /// Save the plan to this file for `apply PLANFILE`.
    #[arg(short = 'o', long, value_name = "PLANFILE")]
    pub out: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = PlanFormat::Table)]
    pub format: PlanFormat,
    /// Exit 2 when the plan has changes, 0 when it has none.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Plan the destroy of what state records instead (as `unionctl destroy --out`).
    #[arg(long)]
    pub destroy: bool,
    /// With --destroy: also delete buckets that hold objects.
    #[arg(long, requires = "destroy")]
    pub delete_data: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub profile: ProfilesArgs,
    /// Must match the profile's `spec.model`.
    #[arg(long, value_enum)]
    pub model: ModelArg,
    /// A plan saved by `plan --out`; applied exactly, refused if state moved since.
    pub plan_file: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = StageArg::All)]
    pub stage: StageArg,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// Resources worked on at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallelism: u16,
}

#[derive(Debug, Clone, Args)]
pub struct DestroyArgs {
    #[command(flatten)]
    pub profile: ProfilesArgs,
    /// When given, must match the profile's `spec.model`, as for apply.
    #[arg(long, value_enum)]
    pub model: Option<ModelArg>,
    #[arg(long, value_enum, default_value_t = StageArg::All)]
    pub stage: StageArg,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// Also delete buckets that hold objects, with every object version. Without it,
    /// destroy refuses and deletes nothing while a bucket holds data.
    #[arg(long)]
    pub delete_data: bool,
    /// A destroy plan saved by `destroy --out` (or `plan --destroy --out`); carried out
    /// exactly, refused if state moved since.
    pub plan_file: Option<PathBuf>,
    /// Save the destroy plan to this file instead of carrying it out.
    #[arg(
        short = 'o',
        long,
        value_name = "PLANFILE",
        conflicts_with = "plan_file"
    )]
    pub out: Option<PathBuf>,
    /// With --out: exit 2 when the plan deletes something, 0 when it deletes nothing.
    #[arg(long, requires = "out")]
    pub detailed_exitcode: bool,
    /// Resources worked on at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallelism: u16,
}

#[derive(Debug, Args)]
pub struct OutputsArgs {
    #[command(flatten)]
    pub profile: ProfileArgs,
    #[arg(long, value_enum, default_value_t = DataFormat::Yaml)]
    pub format: DataFormat,
    /// Also write the `unionai/dataplane` Helm values file here.
    #[arg(long, value_name = "FILE")]
    pub helm_values: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ResponsibilitiesArgs {
    #[arg(long, value_enum)]
    pub model: ModelArg,
    /// Also list the resource kinds of each component on this cloud.
    #[arg(long, value_enum)]
    pub cloud: Option<CloudArg>,
    #[arg(long, value_enum, default_value_t = MatrixFormat::Table)]
    pub format: MatrixFormat,
}
