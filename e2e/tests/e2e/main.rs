//! End-to-end: `flatcar-kube up` against the local cloud, through the real terraform CLI and
//! this workspace's provider, read back by real ansible-core:
//! - `flow`: day 0, `up` with only the two installed binaries, `up --destroy`;
//! - `flow_day2`: machines added, replaced and removed on a living cluster;
//! - `flow_state`: the state and the deploy record in the object store, a lock for two people;
//! - `flow_dns`: a reserved address and Designate names.
//!
//! Acceptance tests (`flatcar_testkit::acceptance`): they run when `FLATCAR_KUBE_ACCEPTANCE=1`.

mod support {
    pub use flatcar_testkit::{acceptance, cloud, dns, http_server, release_tree, terraform};
}

mod flow;
mod flow_day2;
mod flow_dns;
mod flow_state;
