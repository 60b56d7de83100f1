//! Managed resources of the provider, one file each, and what they share (`timeouts`).

pub mod ignition;
pub mod image;
pub mod instance;
pub mod timeouts;
