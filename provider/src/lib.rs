//! terraform-provider-flatcar: the Flatcar provider for Terraform and OpenTofu.
//!
//! - `config`: the provider block; `provider`: the provider and its shared state;
//! - `flatcar`: the release server, manifests and OpenPGP verification;
//! - `http`: the one HTTP client and retry policy;
//! - `data_sources`, `resources`: one file per Terraform type;
//! - `docs`: docs/ rendered from the schema.

pub mod config;
pub mod data_sources;
pub mod docs;
pub mod flatcar;
pub mod http;
pub mod image_pipeline;
pub mod openstack;
pub mod provider;
pub mod release_attributes;
pub mod resources;
