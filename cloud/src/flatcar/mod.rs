//! Flatcar releases: where they live (`release`), what version.txt and DIGESTS say
//! (`manifest`), OpenPGP verification against the trusted key (`signature`), the streaming
//! download -> verify -> decompress pipeline (`image_pipeline`) and the verified upload of a
//! release into Glance (`publish`). Nothing of Terraform.

pub mod image_pipeline;
pub mod manifest;
pub mod publish;
pub mod release;
pub mod signature;
