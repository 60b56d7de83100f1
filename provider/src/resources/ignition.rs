//! Plan-time checks of `user_data`: an Ignition config (what Flatcar reads), not a
//! cloud-config or broken JSON, of a spec version Flatcar's Ignition accepts, and small enough
//! for Nova (which otherwise answers 400 with the whole value in its message).

use tfplugin::Validator;

/// `user_data` is Ignition JSON of a spec version Flatcar accepts.
pub const VALID: Validator = Validator::ParsesAs(
    "an Ignition config (JSON, spec 3.0.0 to 3.5.0 or 2.x)",
    check,
);
/// `user_data` fits Nova's limit.
pub const FITS_NOVA: Validator = Validator::ParsesAs(
    "at most 65,535 bytes after base64 (Nova's limit)",
    check_size,
);

/// Ok, or the reason `text` is not an Ignition config.
pub fn check(text: &str) -> Result<(), String> {
    let trimmed = text.trim_start();
    if trimmed.starts_with("#cloud-config") || trimmed.starts_with("#!") {
        return Err("this is a cloud-config or script, but Flatcar reads Ignition JSON. Write a Butane config and convert it (`butane config.bu > config.ign`), then pass the JSON, e.g. `user_data = file(\"config.ign\")`.".into());
    }
    let json: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        format!("it is not valid JSON ({e}). Flatcar reads Ignition JSON; generate it with butane.")
    })?;
    let version = json
        .get("ignition")
        .and_then(|i| i.get("version"))
        .and_then(|v| v.as_str())
        .ok_or("the JSON has no `ignition.version`, so it is not an Ignition config. Start from `{\"ignition\": {\"version\": \"3.4.0\"}}`.")?;
    if SPEC_VERSIONS.contains(&version) {
        return Ok(());
    }
    Err(format!(
        "Ignition spec version {version:?} is not one Flatcar's Ignition accepts ({}; 2.x configs are translated, as Flatcar documents). Write e.g. \"3.3.0\" (what Butane's `flatcar` variant 1.0.0 emits).",
        SPEC_VERSIONS.join(", ")
    ))
}

/// Nova's limit on `user_data`, in bytes after base64 (the API's schema: `maxLength: 65535`).
pub const NOVA_USER_DATA_LIMIT: usize = 65_535;

/// Ok, or why `text` is too large for Nova once base64-encoded.
pub fn check_size(text: &str) -> Result<(), String> {
    let raw = text.len();
    let encoded = raw.div_ceil(3) * 4;
    if encoded <= NOVA_USER_DATA_LIMIT {
        return Ok(());
    }
    Err(format!(
        "it is {raw} bytes, {encoded} after base64, and Nova accepts at most {NOVA_USER_DATA_LIMIT} after base64 ({} raw). Keep large files out of Ignition: let Ignition fetch them (`contents.source = \"https://...\"` with `verification.hash`), or drop what the machines do not need.",
        NOVA_USER_DATA_LIMIT / 4 * 3
    ))
}

/// The spec versions Flatcar's Ignition reads: 3.0.0 to 3.5.0 natively, and the 2.x specs it
/// translates (Flatcar's docs, "Ignition spec 2.x"). Exact strings: Ignition itself refuses
/// `3`, `3.99.0` or `3.4`.
pub const SPEC_VERSIONS: &[&str] = &[
    "2.0.0", "2.1.0", "2.2.0", "2.3.0", "3.0.0", "3.1.0", "3.2.0", "3.3.0", "3.4.0", "3.5.0",
];

#[cfg(test)]
mod tests {
    use super::{check, check_size, SPEC_VERSIONS};

    #[test]
    fn ignition_yes_cloud_config_no() {
        assert!(check(r#"{"ignition": {"version": "3.4.0"}}"#).is_ok());
        assert!(check(r#"{"ignition": {"version": "2.3.0"}, "passwd": {}}"#).is_ok());
        assert!(check("#cloud-config\nusers: []\n")
            .unwrap_err()
            .contains("cloud-config"));
        assert!(check("{\"ignition\": ")
            .unwrap_err()
            .contains("not valid JSON"));
        assert!(check("{\"passwd\": {}}")
            .unwrap_err()
            .contains("ignition.version"));
        assert!(check(r#"{"ignition": {"version": "9.0.0"}}"#)
            .unwrap_err()
            .contains("9.0.0"));
        // Only exact spec versions: the major number alone is not enough.
        for bad in ["3.99.0", "2.99.99", "3", "3.4", "3.6.0", "1.0.0"] {
            let json = format!(r#"{{"ignition": {{"version": "{bad}"}}}}"#);
            let err = check(&json).unwrap_err();
            assert!(err.contains(bad) && err.contains("3.5.0"), "{bad}: {err}");
        }
        assert!(check_size(&"x".repeat(49_149)).is_ok());
        let big = check_size(&"x".repeat(49_150)).unwrap_err();
        assert!(
            big.contains("49150 bytes, 65536 after base64") && big.contains("65535"),
            "{big}"
        );
        for good in SPEC_VERSIONS {
            let json = format!(r#"{{"ignition": {{"version": "{good}"}}}}"#);
            assert!(check(&json).is_ok(), "{good}");
        }
    }
}
