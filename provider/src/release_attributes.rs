//! Attributes shared by `flatcar_release` and `flatcar_image`: which release (channel, arch,
//! version, base_url), checked at the attribute's path while values may be unknown. The
//! checks are those of the one query builder, `ReleaseQuery::new`.

use flatcar_cloud::flatcar::release::{ReleaseQuery, DEFAULT_BASE_URL};
use tfplugin::framework::Attr;
use tfplugin::{AttributePath, Diagnostic, Diagnostics};

use crate::config::check_base_url;
use crate::errors;

/// Attribute-level checks; unknown values are skipped (they are checked at read).
pub fn validate(
    channel: &Attr<String>,
    arch: &Attr<String>,
    version: &Attr<String>,
    base_url: &Attr<String>,
) -> Diagnostics {
    let mut diags = Diagnostics::default();
    // One setting at a time, so that each invalid one is reported at its own path.
    let alone = [
        (channel.as_str(), None, None),
        (None, arch.as_str(), None),
        (None, None, version.as_str()),
    ];
    for (c, a, v) in alone {
        if c.or(a).or(v).is_none() {
            continue;
        }
        if let Err(e) = ReleaseQuery::new(c, a, v, None, DEFAULT_BASE_URL) {
            diags.extend(errors::release(&e));
        }
    }
    if let Some(Err(reason)) = base_url.as_str().map(check_base_url) {
        diags.push(
            Diagnostic::error("Invalid base_url", reason).at(AttributePath::root("base_url")),
        );
    }
    diags
}
