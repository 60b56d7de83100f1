//! Attributes shared by `flatcar_release` and `flatcar_image`: which release (channel, arch,
//! version, base_url) and their declared validators. The checks are those of the one query
//! builder, `ReleaseQuery::new`, and the lists are the cloud layer's enums.

use flatcar_cloud::flatcar::release::{Arch, Channel, ReleaseQuery, DEFAULT_BASE_URL};
use tfplugin::framework::Attr;
use tfplugin::Validator;

use crate::config::check_base_url;

pub const CHANNEL: Validator = Validator::OneOf(Channel::ALL);
pub const ARCH: Validator = Validator::OneOf(Arch::ALL);
pub const VERSION: Validator = Validator::ParsesAs(
    "`current` or an exact version such as `4593.2.5`",
    check_version,
);
pub const BASE_URL: Validator = Validator::ParsesAs(
    "an http(s) URL, optionally with a `{channel}` placeholder",
    check_base_url,
);

fn check_version(version: &str) -> Result<(), String> {
    ReleaseQuery::new(None, None, Some(version), None, DEFAULT_BASE_URL)
        .map(drop)
        .map_err(|e| e.to_string())
}

/// The query of these settings (unset ones take their defaults).
pub fn query(
    channel: &Attr<Channel>,
    arch: &Attr<Arch>,
    version: &Attr<String>,
    base_url: &Attr<String>,
    default_base_url: &str,
) -> Result<ReleaseQuery, tfplugin::Diagnostics> {
    ReleaseQuery::new(
        channel.known().map(|c| c.as_str()),
        arch.known().map(|a| a.as_str()),
        version.as_str(),
        base_url.as_str(),
        default_base_url,
    )
    .map_err(|e| crate::errors::release(&e))
}
