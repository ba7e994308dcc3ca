use anyhow::{Context, Result};

use crate::cli::InitArgs;
use crate::error::{ExitStatus, UserError};
use crate::profile::template;
use crate::state::write_atomically;
use crate::ui::Ui;

pub fn run(args: InitArgs, ui: &Ui) -> Result<ExitStatus> {
    let text = template::render(args.cloud.into(), args.model.into());
    match args.output_file {
        None => ui.out(&text),
        Some(path) => {
            if path.exists() && !args.force {
                return Err(UserError::new(format!("{} already exists", path.display()))
                    .hint("pass --force to overwrite it, or choose another file")
                    .into());
            }
            write_atomically(&path, text.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            ui.success(&format!(
                "wrote {}; next: unionctl validate -f {}",
                path.display(),
                path.display()
            ));
        }
    }
    Ok(ExitStatus::Success)
}
