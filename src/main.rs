use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = unionctl::cli::Cli::parse();
    let ui = unionctl::settings::ui(&cli);
    let status = match unionctl::commands::run(cli, &ui) {
        Ok(status) => status,
        Err(err) => {
            ui.error(&err);
            unionctl::error::exit_status(&err)
        }
    };
    ExitCode::from(status as u8)
}
