//! The Flatcar release server: where releases live (`release`), what version.txt and
//! DIGESTS say (`manifest`), and OpenPGP verification against the trusted key (`signature`).
//! Knows HTTP URLs and OpenPGP; nothing of Terraform or OpenStack.

pub mod manifest;
pub mod release;
pub mod signature;
