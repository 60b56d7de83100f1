//! Managed resources of the provider, one file each, and what they share (`timeouts`).

pub mod image;
pub mod timeouts;
