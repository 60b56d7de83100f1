//! Attributes shared by `flatcar_release` and `flatcar_image`: which release (channel,
//! arch, version, base_url), checked at the attribute's path while values may be unknown.

use tfplugin::{AttributePath, Diagnostic, Diagnostics, Value};

use crate::config::check_base_url;
use crate::flatcar::manifest::is_exact_version;
use crate::flatcar::release::{Arch, Channel};

/// Attribute-level checks; unknown values are skipped (they are checked at read).
pub fn validate_config(config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::default();
    let mut check = |name: &str, summary: &str, result: Result<(), String>| {
        if let Err(reason) = result {
            diags.push(Diagnostic::error(summary, reason).at(AttributePath::root(name)));
        }
    };
    if let Some(channel) = config.get("channel").as_str() {
        check(
            "channel",
            "Invalid channel",
            channel.parse::<Channel>().map(|_| ()),
        );
    }
    if let Some(arch) = config.get("arch").as_str() {
        check("arch", "Invalid arch", arch.parse::<Arch>().map(|_| ()));
    }
    if let Some(version) = config.get("version").as_str() {
        let ok = version == "current" || is_exact_version(version);
        check(
            "version",
            "Invalid version",
            if ok {
                Ok(())
            } else {
                Err(format!(
                    "{version:?} is neither \"current\" nor an exact version such as \"4593.2.5\"."
                ))
            },
        );
    }
    if let Some(url) = config.get("base_url").as_str() {
        check("base_url", "Invalid base_url", check_base_url(url));
    }
    diags
}
