use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Usage errors exit 1 like every other error (clap's own default, 2, means "changes
    // present" in unionctl's exit-code contract); --help and --version exit 0.
    let cli = match unionctl::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 1 } else { 0 });
        }
    };
    let settings = unionctl::settings::resolve(&cli);
    let ui = settings.ui.clone();
    let command = cli.command.name();
    let status = match unionctl::commands::run(cli.command, &settings) {
        Ok(status) => status,
        Err(err) => {
            ui.error(&err);
            let status = unionctl::error::exit_status(&err);
            ui.error_result(command, &err, status);
            status
        }
    };
    ExitCode::from(status as u8)
}
