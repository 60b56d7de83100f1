//! flatcar-cloud: everything the provider does in the cloud, with no knowledge of Terraform
//! (the compiler keeps it so: `tfplugin` is not a dependency).
//!
//! - `http`: the one HTTP client and retry policy; `backoff`: the one backoff schedule;
//! - `create_marker`: the marks that make a killed create's leftovers recognisable;
//! - `openstack`: credentials, the session, one module per service (`glance`, `nova`,
//!   `neutron`) and `compute`, the choreography of a server's life (launch, wait, floating
//!   IP, destroy-and-wait);
//! - `flatcar`: the release server, manifests, OpenPGP verification, the streaming image
//!   pipeline and `publish`, the verified upload of a release into Glance;
//! - [`PROVIDER_SOURCE`]: the provider's source address, the one name of it both the provider
//!   and the generator use.

/// The provider's source address, written in full so that OpenTofu resolves it to the same
/// registry as Terraform. Nothing in this crate uses it: it lives here because this is the
/// lowest crate that both the provider (which serves under it) and the generator (which writes
/// it into root modules and provider mirrors) depend on, so the two cannot disagree. HCL files
/// that must spell it out are held to it by a test (`generator/tests/suite/terraform_module.rs`).
pub const PROVIDER_SOURCE: &str = "registry.terraform.io/flatcar-kube/flatcar";

pub mod backoff;
pub mod create_marker;
pub mod flatcar;
pub mod http;
pub mod openstack;
