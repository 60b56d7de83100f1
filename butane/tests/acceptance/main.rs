//! Every Ignition 3.3.0 output of the table of documents (`cases`) and a compressed one pass
//! the real validator, `ignition-validate` (Debian's `ignition` package, Ignition 2.14;
//! scripts/setup.d/35-ignition.sh installs it), which also rejects what it should. Acceptance
//! tests: they run when `FLATCAR_KUBE_ACCEPTANCE=1` (`flatcar_testkit::acceptance`).

#[path = "../cases/mod.rs"]
mod cases;

use std::process::Command;

use cases::{compressed, dedent, long_inline_file, Expect, CASES};
use flatcar_butane::{to_ignition, Options};
use flatcar_testkit::acceptance::{self, Need};

/// What every test here needs.
const NEEDS: &[Need] = &[Need::IgnitionValidate];

/// Runs `ignition-validate` on `json`; Err with its output unless it exits 0 silently (a
/// warning counts as a failure: this crate turns Ignition's warnings into errors).
fn validate_with_ignition(json: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let file = dir.path().join("config.ign");
    std::fs::write(&file, json).map_err(|e| e.to_string())?;
    let out = Command::new("ignition-validate").arg(&file).output();
    let out = match out {
        Ok(out) => out,
        Err(e) => return Err(format!("running ignition-validate: {e}")),
    };
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() && said.trim().is_empty() {
        Ok(())
    } else {
        Err(format!("ignition-validate ({}): {said}", out.status))
    }
}

#[test]
fn every_ignition_3_3_output_passes_ignition_validate() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let mut checked = 0;
    let mut failures = Vec::new();
    for case in CASES {
        let Expect::Json(json) = case.expect else {
            continue;
        };
        // Debian's ignition-validate (Ignition 2.14) knows specs up to 3.3.0.
        if !json.starts_with(r#"{"ignition":{"#) || !json.contains(r#""version":"3.3.0""#) {
            continue;
        }
        // Validate what the crate produces; the table test checks that it equals `json`.
        let produced = to_ignition(&dedent(case.butane), &Options::default())
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        checked += 1;
        if let Err(e) = validate_with_ignition(&produced) {
            failures.push(format!("{}: {e}", case.name));
        }
    }
    assert!(checked >= 14, "only {checked} outputs were validated");
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn the_validator_rejects_what_it_should() {
    if !acceptance::run(NEEDS) {
        return;
    }
    // The check above can fail: an invalid config makes ignition-validate complain.
    let err = validate_with_ignition(
        r#"{"ignition":{"version":"3.3.0"},"storage":{"files":[{"path":"etc/x"}]}}"#,
    )
    .unwrap_err();
    assert!(err.contains("path not absolute"), "{err}");
}

#[test]
fn compressed_output_passes_ignition_validate() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let butane = long_inline_file();
    let packed = compressed(&butane);
    assert!(packed.contains(r#""compression":"gzip""#));
    validate_with_ignition(&packed).unwrap();
}
