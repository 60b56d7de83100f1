//! tfplugin: the Terraform plugin protocol v6 served from Rust.
//!
//! Owns the go-plugin handshake and transport (`server`), Terraform's value model
//! (`value`), schemas, diagnostics and the traits a provider implements. Knows nothing of
//! Flatcar or OpenStack. `framework` lets a resource be written as schema + typed model +
//! CRUD; `harness` drives a provider in-process through the same gRPC service code.
//! Generated protobuf types stay inside this crate (`wire`, `convert`); providers see only
//! our own types.

mod convert;
mod diagnostics;
pub mod framework;
mod grpc;
pub mod harness;
pub mod logging;
mod provider;
mod schema;
pub mod server;
pub mod value;

#[allow(clippy::all, missing_docs, dead_code)]
mod wire {
    pub mod tfplugin6 {
        tonic::include_proto!("tfplugin6");
    }
    pub mod goplugin {
        tonic::include_proto!("plugin");
    }
}

pub use diagnostics::{AttributePath, Diagnostic, Diagnostics, PathStep, Severity};
pub use framework::Validator;
pub use provider::{
    ApplyRequest, ApplyResponse, DataSource, Function, FunctionError, FunctionSignature, Parameter,
    PlanRequest, PlanResponse, Provider, Resource,
};
pub use schema::{Attribute, Behaviour, Block, NestedBlock, Nesting, Schema};
pub use server::{serve, ServeError, ServeOptions};
pub use value::{Number, Type, Value};
