//! The generator's integration tests, one module per subject, linked into one test binary:
//! profiles and their errors (`broken_profiles`, `fuzz`), the files `generate` writes
//! (`golden`, `terraform_tfvars`, `flavor_ids`, `terraform_module`, `shellcheck`, the reboot
//! coordinator's `coordinator`), the inventory
//! (`ansible_inventory`, `inventory_fixtures`), the command line (`cli`), `up` and its day-2 runs (`up_day2`), the Kubespray release `up`
//! fetches with its own virtualenv (`kubespray_fetch`), the apps `up --deploy` installs (`apps`).

mod common;

mod ansible_inventory;
mod apps;
mod broken_profiles;
mod cli;
mod coordinator;
mod flavor_ids;
mod fuzz;
mod golden;
mod inventory_fixtures;
mod kubespray_fetch;
mod shellcheck;
mod terraform_module;
mod terraform_tfvars;
mod up;
mod up_day2;
