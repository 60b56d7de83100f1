//! The provider's source address has one source of truth, `flatcar_cloud::PROVIDER_SOURCE`;
//! the HCL that Terraform requires to spell it out is held to it here.

use crate::common;

use std::process::Command;

use common::workspace;

use flatcar_cloud::PROVIDER_SOURCE as MIRROR_ADDR;

/// The provider's source address has one source of truth, `flatcar_cloud::PROVIDER_SOURCE`:
/// every tracked `.tf` that names a flatcar provider source (Terraform requires it spelt out in
/// HCL: the module's versions.tf, examples/, the goldens) uses exactly that constant.
#[test]
fn every_tracked_tf_file_names_the_provider_by_the_one_source_address() {
    let listed = Command::new("git")
        .arg("-C")
        .arg(workspace())
        .args(["ls-files", "-z", "*.tf"])
        .output()
        .expect("git ls-files");
    assert!(listed.status.success(), "git ls-files failed");
    let mut naming = Vec::new();
    for file in String::from_utf8(listed.stdout)
        .unwrap()
        .split_terminator('\0')
    {
        let text = std::fs::read_to_string(workspace().join(file)).unwrap();
        for line in text.lines() {
            let Some(value) = line
                .trim()
                .strip_prefix("source")
                .map(|rest| rest.trim_start().trim_start_matches('=').trim())
                .and_then(|v| v.strip_prefix('"'))
                .and_then(|v| v.split('"').next())
            else {
                continue;
            };
            if value.ends_with("/flatcar") || value.contains("flatcar-kube/") {
                assert_eq!(value, MIRROR_ADDR, "{file}: `{}`", line.trim());
                naming.push(file.to_string());
            }
        }
    }
    // The demo script names it once, too.
    let script = std::fs::read_to_string(workspace().join("scripts/local-demo.sh")).unwrap();
    assert!(
        script
            .lines()
            .any(|l| l == format!("provider_source={MIRROR_ADDR}")),
        "scripts/local-demo.sh: provider_source= is not {MIRROR_ADDR}"
    );
    for expected in [
        "generator/terraform/modules/cluster/versions.tf",
        "examples/jetstream2/main.tf",
        "testdata/generator/golden/ha/terraform/main.tf",
    ] {
        assert!(
            naming.iter().any(|f| f == expected),
            "{expected} no longer names the provider: {naming:?}"
        );
    }
}
