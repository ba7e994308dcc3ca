use anyhow::{Context, Result};

use crate::cli::InitArgs;
use crate::error::{ExitStatus, UserError};
use crate::profile::template;
use crate::state::write_atomically;
use crate::ui::Ui;

pub fn run(args: InitArgs, ui: &Ui) -> Result<ExitStatus> {
    let (cloud, model): (crate::profile::Provider, crate::profile::Model) =
        (args.cloud.into(), args.model.into());
    let text = template::render(cloud, model);
    match args.output_file {
        None => ui.show(
            "init",
            serde_json::json!({ "cloud": cloud, "model": model, "file": null, "profile": text }),
            &text,
        ),
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
