//! Offline tests of the cloud layer (no Terraform, no cloud, nothing but Rust):
//! - `image_pipeline`: the streaming pipeline against a local release server;
//! - `signing_subkeys`: OpenPGP verification with rotating, expiring and revoked subkeys.
//!
//! The tests against the real local Keystone and Glance are the `acceptance` binary.

use flatcar_testkit as support;

mod image_pipeline;
mod signing_subkeys;
