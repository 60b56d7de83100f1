//! The provider's integration tests, one module per subject, linked into one test binary
//! (one link of the provider and its dependencies instead of one per file):
//! - through the real terraform CLI: `release`, `image`, `image_faults`, `instance`,
//!   `protocol`, `docs`, and `flow` (`flatcar-kube up` end to end);
//! - the cloud layer against the real local cloud: `openstack_client`, `image_pipeline`,
//!   `signing_subkeys`;
//! - in-process (no terraform, no local cloud): `in_process`.

#[path = "../support/mod.rs"]
mod support;

mod docs;
mod flow;
mod image;
mod image_faults;
mod image_pipeline;
mod in_process;
mod instance;
mod openstack_client;
mod protocol;
mod release;
mod signing_subkeys;
