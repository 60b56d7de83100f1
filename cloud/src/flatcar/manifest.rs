//! Parsers for the release server's text files: `version.txt` and `<file>.DIGESTS`.

use std::collections::BTreeMap;

/// What `version.txt` says about a release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionInfo {
    /// Exact version, e.g. `4593.2.5`.
    pub version: String,
    pub build_id: String,
    pub sdk_version: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ManifestError {
    #[error("version.txt has no FLATCAR_VERSION (or COREOS_VERSION) line")]
    NoVersion,
    #[error("version.txt names version {0:?}, which is not of the form MAJOR.MINOR.PATCH")]
    BadVersion(String),
    #[error("the signed DIGESTS list no SHA512 digest for {0}")]
    NoDigest(String),
}

/// Parses `version.txt` (shell-style `KEY=value`; both FLATCAR_ and old COREOS_ prefixes).
pub fn parse_version_txt(text: &str) -> Result<VersionInfo, ManifestError> {
    let mut vars = BTreeMap::new();
    for line in text.lines() {
        let Some((key, value)) = line.trim().split_once('=') else {
            continue;
        };
        let key = key
            .strip_prefix("FLATCAR_")
            .or_else(|| key.strip_prefix("COREOS_"));
        if let Some(key) = key {
            let value = value.trim().trim_matches('"').trim_matches('\'');
            vars.entry(key.to_string())
                .or_insert_with(|| value.to_string());
        }
    }
    let version = vars
        .get("VERSION")
        .or_else(|| vars.get("VERSION_ID"))
        .cloned()
        .ok_or(ManifestError::NoVersion)?;
    if !is_exact_version(&version) {
        return Err(ManifestError::BadVersion(version));
    }
    Ok(VersionInfo {
        version,
        build_id: vars.get("BUILD_ID").cloned().unwrap_or_default(),
        sdk_version: vars.get("SDK_VERSION").cloned().unwrap_or_default(),
    })
}

/// `MAJOR.MINOR.PATCH`, digits only.
pub fn is_exact_version(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The SHA-512 digest of `file` from a DIGESTS text (only the `# SHA512 HASH` section counts).
pub fn sha512_for(digests: &str, file: &str) -> Result<String, ManifestError> {
    let mut in_sha512 = false;
    for line in digests.lines() {
        let line = line.trim_end_matches('\r');
        if let Some(header) = line.strip_prefix('#') {
            in_sha512 = header.trim().eq_ignore_ascii_case("SHA512 HASH");
            continue;
        }
        if !in_sha512 {
            continue;
        }
        let mut fields = line.split_whitespace();
        if let (Some(hex), Some(name)) = (fields.next(), fields.next()) {
            if name.trim_start_matches('*') == file
                && hex.len() == 128
                && hex.bytes().all(|b| b.is_ascii_hexdigit())
            {
                return Ok(hex.to_ascii_lowercase());
            }
        }
    }
    Err(ManifestError::NoDigest(file.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_txt_with_quotes_and_both_prefixes() {
        let text = "FLATCAR_BUILD=4593\nFLATCAR_BRANCH=2\nFLATCAR_PATCH=5\nFLATCAR_VERSION=4593.2.5\nFLATCAR_VERSION_ID=4593.2.5\nFLATCAR_BUILD_ID=\"\"\nFLATCAR_SDK_VERSION=4593.0.0\n";
        let info = parse_version_txt(text).unwrap();
        assert_eq!(info.version, "4593.2.5");
        assert_eq!(info.sdk_version, "4593.0.0");
        let old = parse_version_txt("COREOS_VERSION_ID=1688.5.3\n").unwrap();
        assert_eq!(old.version, "1688.5.3");
        assert_eq!(parse_version_txt("X=1"), Err(ManifestError::NoVersion));
        assert!(matches!(
            parse_version_txt("FLATCAR_VERSION=current"),
            Err(ManifestError::BadVersion(_))
        ));
    }

    #[test]
    fn sha512_only_from_its_section() {
        let md5 = "0".repeat(32);
        let sha = "ab".repeat(64);
        let text = format!(
            "# MD5 HASH\n{md5}  f.img\n# SHA1 HASH\n{}  f.img\n# SHA512 HASH\n{sha}  f.img\n",
            "1".repeat(40)
        );
        assert_eq!(sha512_for(&text, "f.img").unwrap(), sha);
        assert!(sha512_for(&text, "g.img").is_err());
        let no_section = format!("{sha}  f.img\n");
        assert!(sha512_for(&no_section, "f.img").is_err());
    }
}
