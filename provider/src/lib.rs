//! terraform-provider-flatcar: the Terraform side of the Flatcar provider. The cloud work
//! lives in `flatcar_cloud`, the protocol and framework in `tfplugin`.
//!
//! - `config`: the provider block; `state`: what resources share; `provider`: the provider;
//! - `errors`: the one place cloud errors become diagnostics;
//! - `data_sources`, `resources`: one module per Terraform type (schema, model, glue);
//! - `functions`: provider-defined functions (`provider::flatcar::butane`);
//! - `docs`: docs/ rendered from the schema.

pub mod config;
pub mod data_sources;
pub mod docs;
pub mod errors;
pub mod functions;
pub mod provider;
pub mod release_attributes;
pub mod resources;
pub mod state;
pub mod workspace;
