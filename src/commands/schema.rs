use anyhow::Result;

use crate::error::ExitStatus;
use crate::profile::structure::json_schema;
use crate::ui::Ui;

pub fn run(ui: &Ui) -> Result<ExitStatus> {
    ui.out(&format!(
        "{}\n",
        serde_json::to_string_pretty(json_schema())?
    ));
    Ok(ExitStatus::Success)
}
