//! Flags + environment → the settings every command runs with, resolved once before any
//! work (as uv and cargo do).

use std::io::IsTerminal;

use crate::cli::{Cli, ColorChoice, OutputMode};
use crate::ui::Ui;

/// What every command runs with.
pub struct Settings {
    pub ui: Ui,
    pub state_dir: std::path::PathBuf,
    /// `--state`: a remote state URL, over the profile's.
    pub state_url: Option<String>,
}

pub fn resolve(cli: &Cli) -> Settings {
    crate::ui::log::init(cli.verbose);
    Settings {
        ui: ui(cli),
        state_dir: cli.state_dir.clone(),
        state_url: cli.state_url.clone().filter(|u| !u.is_empty()),
    }
}

fn ui(cli: &Cli) -> Ui {
    let stderr_tty = std::io::stderr().is_terminal();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let color_for = |tty: bool| match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => tty && !no_color,
    };
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false");
    Ui {
        color: color_for(stderr_tty),
        color_out: color_for(std::io::stdout().is_terminal()),
        interactive: stderr_tty && !ci,
        json_events: cli.output == OutputMode::Json,
        capture: None,
    }
}
