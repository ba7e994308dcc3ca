use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = unionctl::cli::Cli::parse();
    let settings = unionctl::settings::resolve(&cli);
    let ui = settings.ui;
    let status = match unionctl::commands::run(cli.command, &settings) {
        Ok(status) => status,
        Err(err) => {
            ui.error(&err);
            unionctl::error::exit_status(&err)
        }
    };
    ExitCode::from(status as u8)
}
