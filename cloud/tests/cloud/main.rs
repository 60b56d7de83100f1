//! Integration tests of the cloud layer, in one test binary, with no Terraform anywhere:
//! - `openstack_client`: the OpenStack client against the real local Keystone and Glance,
//!   with faults injected by the proxy;
//! - `image_pipeline`: the streaming pipeline against a local release server;
//! - `signing_subkeys`: OpenPGP verification with rotating, expiring and revoked subkeys.

use flatcar_testkit as support;

mod image_pipeline;
mod openstack_client;
mod signing_subkeys;
