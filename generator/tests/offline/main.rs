//! The generator's offline tests, one module per subject, linked into one test binary; they
//! need nothing but Rust and a POSIX shell (recording stand-ins play terraform and
//! ansible-playbook): profiles and their errors (`broken_profiles`, `fuzz`), the files
//! `generate` writes (`golden`, `flavor_names`, the reboot coordinator's `coordinator`), the
//! inventory (`inventory_fixtures`), the command line (`cli`), `up` and its
//! day-2 runs (`up`, `up_day2`).
//!
//! The same files checked by the real tools (terraform, ansible-core, shellcheck,
//! kubernetes-validate, the chart's schema) are the `acceptance` test binary; `up` end to end
//! against the local cloud is the `flatcar-e2e` crate.

#[path = "../common/mod.rs"]
mod common;

mod broken_profiles;
mod cli;
mod coordinator;
mod flavor_names;
mod fuzz;
mod golden;
mod inventory_fixtures;
mod provider_source;
mod up;
mod up_day2;
