//! Test harness shared by the provider's acceptance tests: the provider installed in a
//! filesystem mirror and run by the real terraform CLI (`terraform`), a Flatcar release tree
//! signed with a key the test generates (`release_tree`), and a local HTTP server over it
//! (`http_server`). Everything listens on 127.0.0.1 only.

#![allow(dead_code)]

pub mod benchmarks;
pub mod cloud;
pub mod fault_proxy;
pub mod fixture_cloud;
pub mod http_server;
pub mod process;
pub mod release_tree;
pub mod reliability;
pub mod terraform;
