//! What the tests of every crate share:
//! - `acceptance`: the switch between offline and acceptance tests, and what each needs;
//! - `terraform`: the real terraform CLI, found on PATH, with our provider in a filesystem
//!   mirror; the workspace's binaries;
//! - `dns`: what the local cloud's bind9 answers;
//! - `cloud`: the local OpenStack started by `scripts/local-cloud.sh` (credentials from its
//!   `env.json`) and an admin view of it for assertions;
//! - `fault_proxy`: a proxy in front of a real service that injects what it cannot produce
//!   on demand (429, 403, dropped connections, a stuck build);
//! - `http_server`: a static HTTP server for the release tree (ranges, redirects, resets);
//! - `release_tree`: a Flatcar release tree signed with a key the test generates;
//! - `kubespray_tree`: Kubespray-shaped checkouts from our own test data;
//! - `process`: ending processes the tests started.
//!
//! Everything listens on 127.0.0.1 only.

pub mod acceptance;
pub mod cloud;
pub mod dns;
pub mod fault_proxy;
pub mod http_server;
pub mod kubespray_tree;
pub mod process;
pub mod release_tree;
pub mod terraform;
