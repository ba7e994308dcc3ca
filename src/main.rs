use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Usage errors exit 1 like every other error (clap's own default, 2, means "changes
    // present" in unionctl's exit-code contract); --help and --version exit 0.
    let cli = match unionctl::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            let status = if e.use_stderr() { 1 } else { 0 };
            // `--output json` promises one result for every command, a usage error included.
            if status == 1 && unionctl::cli::wants_json(std::env::args()) {
                unionctl::ui::Ui::usage_error_result(
                    &e.kind().to_string(),
                    &e.render().to_string(),
                );
            }
            return ExitCode::from(status);
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
