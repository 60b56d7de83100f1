//! flatcar-cloud: everything the provider does in the cloud, with no knowledge of Terraform
//! (the compiler keeps it so: `tfplugin` is not a dependency).
//!
//! - `http`: the one HTTP client and retry policy; `backoff`: the one backoff schedule;
//! - `create_marker`: the marks that make a killed create's leftovers recognisable;
//! - `openstack`: credentials, the session, one module per service (`glance`, `nova`,
//!   `neutron`) and `compute`, the choreography of a server's life (launch, wait, floating
//!   IP, destroy-and-wait);
//! - `flatcar`: the release server, manifests, OpenPGP verification, the streaming image
//!   pipeline and `publish`, the verified upload of a release into Glance.

pub mod backoff;
pub mod create_marker;
pub mod flatcar;
pub mod http;
pub mod openstack;
