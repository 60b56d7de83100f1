//! The framework layer: write a resource as schema + typed model + CRUD.
//!
//! - [`Attr`]: a model field, known, null or unknown;
//! - [`to_value`] / [`from_value`]: models to and from [`Value`](crate::Value) via serde;
//! - [`TypedResource`]: the CRUD-split trait, served through a blanket impl of
//!   [`Resource`](crate::Resource);
//! - [`plan`]: the default plan derived from behaviours declared on the schema
//!   ([`Behaviour`](crate::Behaviour): requires replace, default, use state for unknown,
//!   sensitive, write-only);
//! - [`timeouts`]: the `timeouts` block.
//!
//! The in-process harness that drives these through the gRPC service is
//! [`crate::harness`].

mod attr;
mod codec;
pub mod plan;
mod resource;
pub mod timeouts;

pub use attr::Attr;
pub use codec::{from_value, to_value, ModelError};
pub use resource::{check_model, TypedResource};
pub use timeouts::Timeouts;
