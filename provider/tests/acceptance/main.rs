//! The provider's acceptance tests: the real terraform CLI (init from a filesystem mirror,
//! plan, apply, an empty second plan, refresh, import, destroy) against the local cloud (real
//! Keystone, Glance, Nova, Neutron, Designate) and a local release server, one module per
//! subject: `release`, `image`, `image_faults`, `instance`, `security_group`, `floating_ip`,
//! `dns_record`, `protocol_debug`; and OpenTofu's client against the cloud,
//! `conformance_cloud`.
//!
//! They run when `FLATCAR_KUBE_ACCEPTANCE=1` (scripts/test.sh sets it); otherwise each prints
//! one line naming what it needs and passes without running (`flatcar_testkit::acceptance`).

#[path = "../support/mod.rs"]
mod support;

mod conformance_cloud;
mod dns_record;
mod floating_ip;
mod image;
mod image_faults;
mod instance;
mod protocol_debug;
mod release;
mod security_group;
