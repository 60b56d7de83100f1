//! Managed resources of the provider, one file each.
