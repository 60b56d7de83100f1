//! Test harness of the provider's tests: the provider installed in a filesystem mirror and
//! run by the real terraform CLI (`terraform`), a stand-in cloud that replays recorded
//! answers (`fixture_cloud`), the provider started as OpenTofu's go-plugin client starts it
//! (`plugin_client`), benchmark and reliability reporting, bind9's answers (`dns`); and, from
//! `flatcar-testkit`, the local cloud, the fault proxy, the release server and tree.

#![allow(dead_code, unused_imports)]

pub use flatcar_testkit::{cloud, fault_proxy, http_server, process, release_tree};

pub mod benchmarks;
pub mod dns;
pub mod fixture_cloud;
pub mod plugin_client;
pub mod reliability;
pub mod terraform;
