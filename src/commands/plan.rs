use anyhow::{Context, Result};

use crate::cli::{PlanArgs, PlanFormat};
use crate::error::{ExitStatus, UserError};
use crate::plan::render;
use crate::state::write_atomically;
use crate::ui::Ui;

pub fn run(args: PlanArgs, ui: &Ui) -> Result<ExitStatus> {
    let loaded = super::load_profile(&args.profile.profile, ui)?;
    super::check_model(&loaded, args.model.map(Into::into))?;
    let plan = super::build_plan(&loaded)?;
    super::show_plan_warnings(&plan, &loaded, ui);

    let text = match args.format {
        PlanFormat::Table => render::table(&plan),
        PlanFormat::Json => render::json(&plan),
        PlanFormat::Yaml => render::yaml(&plan).map_err(|e| UserError::new(format!("cannot render the plan as YAML: {e}")))?,
        PlanFormat::Markdown => render::markdown(&plan),
        PlanFormat::Dot => render::dot(&plan),
    };
    ui.out(&text);
    if let Some(out) = &args.out {
        write_atomically(out, render::json(&plan).as_bytes()).with_context(|| format!("cannot save the plan to {}", out.display()))?;
        ui.status(&format!("Saved the plan to {}; apply exactly it with: unionctl apply --model {} -f {} {}", out.display(), plan.model, loaded.path.display(), out.display()));
    }
    if args.detailed_exitcode && plan.has_changes() {
        return Ok(ExitStatus::Changes);
    }
    Ok(ExitStatus::Success)
}
