//! unionctl: provision Union.ai data planes (BYOC and self-managed) on AWS, GCP and Azure.
//!
//! The pipeline is the architecture (docs/architecture.md):
//! `profile` (parse, default, validate) → `plan` (a DAG of resources with owner and stage,
//! and the changes against state) → `exec` (walks the DAG, calls a provider, records state
//! after every node) → `state`. `profile` and `plan` never call a cloud, print, or read the
//! clock; `ui` is the only module that writes to the terminal.

pub mod cli;
pub mod clouds;
pub mod commands;
pub mod error;
pub mod exec;
pub mod ops;
pub mod plan;
pub mod profile;
pub mod settings;
pub mod state;
pub mod ui;
