//! The provider's offline tests: nothing but Rust and this crate's binary, always run by
//! `cargo test`.
//! - `in_process`: every resource through the gRPC service in-process, against recorded
//!   OpenStack answers (`support::fixture_cloud`);
//! - `conformance`: OpenTofu's go-plugin client replayed over gRPC (no `tofu`, no cloud);
//! - `protocol`: the go-plugin contract seen from outside the binary;
//! - `docs`: the committed docs/ are what the provider renders.
//!
//! The tests that need terraform or the local cloud are the `acceptance` test binary.

#[path = "../support/mod.rs"]
mod support;

mod conformance;
mod docs;
mod in_process;
mod protocol;
