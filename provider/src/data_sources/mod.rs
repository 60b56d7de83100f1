//! Data sources of the provider, one file each.

pub mod release;
