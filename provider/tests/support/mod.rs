//! Test harness of the provider's tests: a stand-in cloud that replays recorded answers
//! (`fixture_cloud`), the provider started as OpenTofu's go-plugin client starts it
//! (`plugin_client`) and the RPC sequences it replays (`conformance`), benchmark and
//! reliability reporting; and, from `flatcar-testkit`, the acceptance switch, the terraform
//! CLI with the provider in a filesystem mirror, the local cloud, bind9's answers, the fault
//! proxy, the release server and tree.

#![allow(dead_code, unused_imports)]

pub use flatcar_testkit::{
    acceptance, cloud, dns, fault_proxy, http_server, process, release_tree, terraform,
};

pub mod benchmarks;
pub mod conformance;
pub mod fixture_cloud;
pub mod plugin_client;
pub mod reliability;
