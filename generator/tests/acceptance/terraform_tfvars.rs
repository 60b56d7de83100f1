//! Done-when 2: every generated `cluster.tfvars` passes the real `terraform plan -var-file` on a
//! directory holding only our transcription of Kubespray's contrib/terraform/openstack variable
//! declarations: no undeclared variable, no type error, no error at all; among them
//! `k8s_allowed_remote_ips` (and the other access variables) and `use_access_ip = 0`.

use crate::common;

use std::path::Path;
use std::process::Command;

use common::*;
use flatcar_testkit::acceptance::{self, Need};
use flatcar_testkit::terraform;

/// What every test here needs (`flatcar_testkit::acceptance`).
const NEEDS: &[Need] = &[Need::Terraform];

fn terraform(dir: &Path, args: &[&str]) -> std::process::Output {
    let rc = dir.join("empty.tfrc");
    std::fs::write(&rc, "").unwrap();
    Command::new(terraform::binary())
        .args(args)
        .current_dir(dir.join("module"))
        .env("TF_CLI_CONFIG_FILE", &rc)
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_IN_AUTOMATION", "1")
        .env_remove("TF_LOG")
        .output()
        .expect("run terraform")
}

/// Runs init and plan with `tfvars`; returns plan's combined output and whether both passed.
fn plan(tfvars: &str) -> (bool, String) {
    let tmp = tempfile::tempdir().unwrap();
    let module = tmp.path().join("module");
    std::fs::create_dir(&module).unwrap();
    std::fs::copy(
        testdata().join("kubespray-openstack-variables/variables.tf"),
        module.join("variables.tf"),
    )
    .unwrap();
    std::fs::write(module.join("cluster.tfvars"), tfvars).unwrap();
    let init = terraform(tmp.path(), &["init", "-input=false", "-no-color"]);
    assert!(
        init.status.success(),
        "terraform init: {}",
        String::from_utf8_lossy(&init.stderr)
    );
    let out = terraform(
        tmp.path(),
        &[
            "plan",
            "-var-file=cluster.tfvars",
            "-input=false",
            "-no-color",
        ],
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn cluster_tfvars_sets_only_declared_variables_with_their_types() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    for (name, profile) in profiles(tmp.path()) {
        let out = tmp.path().join(&name);
        generate(&profile, &out);
        let tfvars = std::fs::read_to_string(out.join("kubespray/cluster.tfvars")).unwrap();
        let (ok, text) = plan(&tfvars);
        assert!(ok, "{name}: terraform plan failed:\n{text}");
        assert!(
            !text.contains("undeclared"),
            "{name}: undeclared variable:\n{text}"
        );
        assert!(!text.contains("Error"), "{name}: {text}");
        assert!(!text.contains("Warning"), "{name}: {text}");

        // The image is the one the profile implies (the name our module uploads).
        let loaded = flatcar_kube::profile::load_str(
            &std::fs::read_to_string(&profile).unwrap(),
            &profile.display().to_string(),
            Some(&home()),
        )
        .unwrap();
        let image = flatcar_kube::profile::machines::image_name(&loaded.profile);
        assert!(
            tfvars.contains(&format!("image           = \"{image}\"")),
            "{name}: image {image}"
        );

        // Who gets in: SSH and the API from the profile's IPv4 CIDRs; private addresses inside.
        let v4: Vec<String> = loaded
            .profile
            .access
            .allowed_cidrs
            .iter()
            .filter(|c| !c.contains(':'))
            .map(|c| format!("\"{c}\""))
            .collect();
        for var in ["k8s_allowed_remote_ips", "master_allowed_remote_ips"] {
            assert!(
                tfvars.contains(&format!("\n{var} = [{}]\n", v4.join(", "))),
                "{name}: {var}:\n{tfvars}"
            );
        }
        assert!(tfvars.contains("\nuse_access_ip = 0\n"), "{name}");
    }
}

/// The check itself can fail: an undeclared name and a wrongly typed count are caught.
#[test]
fn the_terraform_check_catches_undeclared_and_mistyped_variables() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (_, profile) = profiles(tmp.path()).remove(0);
    let out = tmp.path().join("out");
    generate(&profile, &out);
    let tfvars = std::fs::read_to_string(out.join("kubespray/cluster.tfvars")).unwrap();

    let (_, text) = plan(&format!("{tfvars}\nnumber_of_k8s_workers = 2\n"));
    assert!(text.contains("Value for undeclared variable"), "{text}");

    let (ok, text) = plan(&tfvars.replace("number_of_etcd = 0", "number_of_etcd = \"none\""));
    assert!(!ok && text.contains("Error"), "{text}");

    let (ok, text) = plan(&tfvars.replace(
        "k8s_nodes   = {}",
        "k8s_nodes   = { \"1\" = { az = \"nova\" } }",
    ));
    assert!(!ok && text.contains("Error"), "{text}");
}
