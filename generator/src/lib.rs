//! flatcar-kube: one profile to everything Kubespray needs on OpenStack with Flatcar, and a
//! Kubespray inventory from Terraform's JSON with any backend.
//!
//! - [`profile`]: the profile's types, YAML reading with positions, semantic checks;
//! - [`flavors`]: flavor names to Nova's IDs for Kubespray's `cluster.tfvars`;
//! - [`render`]: templates, escaping helpers, writing and `--check`;
//! - [`inventory`]: `terraform output -json` / `terraform show -json` to `hosts.yaml`;
//! - [`natural`]: the natural order of machine names (`cp-2` before `cp-10`);
//! - [`starter`]: the commented starter profiles of `init`;
//! - [`up`]: generate, Terraform init/apply (or destroy) and the inventory in one command.
//!
//! The binary (`main.rs`) is the command line and nothing else.

pub mod flavors;
pub mod inventory;
pub mod natural;
pub mod profile;
pub mod render;
pub mod starter;
pub mod up;
