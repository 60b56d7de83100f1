//! One OpenStack client: credentials (`auth`), the session that
//! authenticates lazily, finds endpoints and sends every request through the one retry
//! policy (`session`), the error type (`error`), one module per service (`glance`, `nova`,
//! `neutron`) and the choreography of a server's life (`compute`). Knows HTTP and OpenStack, nothing of Terraform.

pub mod auth;
pub mod compute;
pub mod designate;
pub mod error;
pub mod glance;
pub mod identity;
pub mod neutron;
pub mod nova;
pub mod object_store;
pub mod security_group;
pub mod session;

pub use error::{CloudError, DeleteError};
pub use session::CloudSession;
