//! One OpenStack client for the provider: credentials (`auth`), the session that
//! authenticates lazily, finds endpoints and sends every request through the one retry
//! policy (`session`), the error type that is mapped to diagnostics in one place (`error`),
//! and one module per service (`glance`, `nova`, `neutron`). Knows HTTP and OpenStack, nothing of Terraform.

pub mod auth;
pub mod error;
pub mod glance;
pub mod neutron;
pub mod nova;
pub mod session;

pub use error::CloudError;
pub use session::CloudSession;
