//! The framework layer: write a resource as schema + typed model + CRUD.
//!
//! - [`Attr`]: a model field, known, null or unknown;
//! - [`to_value`] / [`from_value`]: models to and from [`Value`](crate::Value) via serde;
//! - [`TypedResource`]: the CRUD-split trait, served through a blanket impl of
//!   [`Resource`](crate::Resource);
//! - [`TypedDataSource`]: schema + model + read, served as a [`DataSource`](crate::DataSource);
//! - [`function::arguments`]: a function's arguments as a typed tuple;
//! - [`plan`]: the default plan derived from behaviours declared on the schema
//!   ([`Behaviour`](crate::Behaviour): requires replace, default, use state for unknown,
//!   sensitive, write-only);
//! - [`validators`]: declared attribute validators ([`Validator`], [`StringEnum`]), checked
//!   at the attribute's path before resource code runs;
//! - [`Element`]: where a diagnostic about one element of a nested block points;
//! - [`timeouts`]: the `timeouts` block.
//!
//! The in-process harness that drives these through the gRPC service is
//! [`crate::harness`].

mod attr;
mod codec;
mod data_source;
mod element;
pub mod function;
pub mod plan;
mod resource;
mod string_enum;
pub mod timeouts;
pub mod validators;

pub use attr::Attr;
pub use codec::{from_value, to_value, ModelError};
pub use data_source::TypedDataSource;
pub use element::Element;
pub use resource::{check_model, TypedResource};
pub use string_enum::StringEnum;
pub use timeouts::Timeouts;
pub use validators::Validator;
