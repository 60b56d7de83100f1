//! The provider's acceptance tests: the real terraform CLI (init from a filesystem mirror,
//! plan, apply, an empty second plan, refresh, import, destroy) against a local release
//! server and the local cloud (real Keystone, Glance, Nova, Neutron, Designate). Modules by
//! what they share of the cloud, which is also how nextest runs them (.config/nextest.toml):
//! - no cloud: `release`, `protocol_debug`;
//! - `glance`: images (`image`, `image_faults`) and OpenTofu's client against the cloud
//!   (`conformance_cloud`), one at a time;
//! - `nova`: servers, security groups, addresses and DNS records (`instance`,
//!   `security_group`, `floating_ip`, `dns_record`), one at a time, sharing the quotas and the
//!   fake compute host with the end-to-end tests.
//!
//! They run when `FLATCAR_KUBE_ACCEPTANCE=1` (scripts/test.sh sets it); otherwise each prints
//! one line naming what it needs and passes without running (`flatcar_testkit::acceptance`).

#[path = "../support/mod.rs"]
mod support;

mod protocol_debug;
mod release;

mod glance {
    //! Against Glance (and Keystone): one test at a time.
    pub mod conformance_cloud;
    pub mod image;
    pub mod image_faults;
}

mod nova {
    //! Against Nova, Neutron and Designate: one test at a time, with the end-to-end tests.
    pub mod dns_record;
    pub mod floating_ip;
    pub mod instance;
    pub mod security_group;
}
