//! Plan-time check that `user_data` is an Ignition config (what Flatcar reads), not a
//! cloud-config or broken JSON.

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
    let major = version
        .split('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok());
    match major {
        Some(2) | Some(3) => Ok(()),
        _ => Err(format!(
            "Ignition version {version:?} is not one Flatcar supports (2.x or 3.x)."
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::check;

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
    }
}
