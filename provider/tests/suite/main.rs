//! The provider's integration tests, one module per subject, linked into one test binary
//! (one link of the provider and its dependencies instead of one per file):
//! - through the real terraform CLI: `release`, `image`, `image_faults`, `instance`,
//!   `security_group`, `floating_ip`, `dns_record`,
//!   `protocol`, `docs`, and `flow` (`flatcar-kube up` end to end; `flow_state` with the state
//!   in the object store);
//! - in-process (no terraform, no local cloud): `in_process`;
//! - OpenTofu's go-plugin client replayed over gRPC (no `tofu`, no local cloud): `conformance`.

#[path = "../support/mod.rs"]
mod support;

mod conformance;
mod dns_record;
mod docs;
mod floating_ip;
mod flow;
mod flow_day2;
mod flow_dns;
mod flow_state;
mod image;
mod image_faults;
mod in_process;
mod instance;
mod protocol;
mod release;
mod security_group;
