//! Done-when 1: `generate` output for the Jetstream2 starter and the testdata profiles equals
//! the committed golden files, is byte-identical on a second run, and `--check` agrees.

use crate::common;

use common::*;

#[test]
fn generate_matches_golden_files_and_is_deterministic() {
    let tmp = tempfile::tempdir().unwrap();
    let profiles = profiles(tmp.path());
    assert!(
        profiles.len() >= 5,
        "the starters and at least three testdata profiles"
    );
    for (name, profile) in profiles {
        let first = tmp.path().join(format!("{name}-1"));
        let second = tmp.path().join(format!("{name}-2"));
        generate(&profile, &first);
        generate(&profile, &second);
        for f in files_under(&first) {
            assert_eq!(
                std::fs::read(first.join(&f)).unwrap(),
                std::fs::read(second.join(&f)).unwrap(),
                "{name}: {} differs between two runs",
                f.display()
            );
        }
        assert_eq!(files_under(&first), files_under(&second));
        // The module copy is generator/terraform/modules/cluster itself (checked here and by a
        // unit test); the goldens hold only what the profile decides.
        let module = first.join("terraform/modules/cluster");
        let source =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("terraform/modules/cluster");
        assert_eq!(files_under(&module), files_under(&source), "{name}");
        for f in files_under(&module) {
            assert_eq!(
                std::fs::read(module.join(&f)).unwrap(),
                std::fs::read(source.join(&f)).unwrap(),
                "{name}: terraform/modules/cluster/{} is not the crate's module",
                f.display()
            );
        }
        // The record of what was written: every file with its digest (checked, then left out
        // of the goldens, which hold only what the profile decides).
        let record: std::collections::BTreeMap<String, String> = serde_json::from_str(
            &std::fs::read_to_string(first.join(".flatcar-kube-written.json")).unwrap(),
        )
        .unwrap();
        let mut listed: Vec<String> = files_under(&first)
            .iter()
            .map(|f| f.display().to_string())
            .filter(|f| f != ".flatcar-kube-written.json")
            .collect();
        listed.sort();
        assert_eq!(record.keys().cloned().collect::<Vec<_>>(), listed, "{name}");
        std::fs::remove_file(first.join(".flatcar-kube-written.json")).unwrap();
        std::fs::remove_dir_all(first.join("terraform/modules")).unwrap();
        assert_golden_dir(&testdata().join("golden").join(&name), &first);
    }
}

#[test]
fn check_is_silent_when_current_and_prints_a_diff_when_stale() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, profile) = profiles(tmp.path()).remove(0);
    let out = tmp.path().join("out");
    generate(&profile, &out);
    let current = run_ok(
        bin()
            .arg("generate")
            .arg(&profile)
            .arg("-o")
            .arg(&out)
            .arg("--check"),
    );
    assert!(current.stdout.is_empty());

    let tfvars = out.join("kubespray/cluster.tfvars");
    let edited = std::fs::read_to_string(&tfvars)
        .unwrap()
        .replace("ssh_user        = \"core\"", "ssh_user = \"ubuntu\"");
    std::fs::write(&tfvars, &edited).unwrap();
    std::fs::remove_file(out.join("deploy.sh")).unwrap();
    let stale = bin()
        .arg("generate")
        .arg(&profile)
        .arg("-o")
        .arg(&out)
        .arg("--check")
        .output()
        .unwrap();
    assert_eq!(
        stale.status.code(),
        Some(1),
        "--check must exit 1 when files differ"
    );
    let diff = String::from_utf8(stale.stdout).unwrap();
    assert!(diff.contains("--- a/kubespray/cluster.tfvars"), "{diff}");
    assert!(diff.contains("-ssh_user = \"ubuntu\""), "{diff}");
    assert!(diff.contains("+ssh_user        = \"core\""), "{diff}");
    assert!(diff.contains("+++ b/deploy.sh"), "{diff}");
    // --check wrote nothing.
    assert_eq!(std::fs::read_to_string(&tfvars).unwrap(), edited);
    assert!(!out.join("deploy.sh").exists());
}

#[cfg(unix)]
#[test]
fn files_that_may_hold_secrets_are_0600() {
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    generate(&testdata().join("profiles/bastion.yaml"), &out);
    let mode = |p: &str| std::fs::metadata(out.join(p)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("inventory/group_vars/all/all.yml"), 0o600);
    assert_eq!(
        mode("inventory/group_vars/k8s_cluster/k8s-cluster.yml"),
        0o600
    );
    assert_eq!(mode("inventory/group_vars/k8s_cluster/extra.yml"), 0o600);
    assert_eq!(mode("deploy.sh"), 0o755);
    assert_eq!(mode("kubespray/cluster.tfvars"), 0o644);
}

#[test]
fn generated_files_carry_the_flatcar_settings() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, profile) in profiles(tmp.path()) {
        let out = tmp.path().join(&name);
        generate(&profile, &out);
        let read = |p: &str| std::fs::read_to_string(out.join(p)).unwrap();
        assert!(
            read("inventory/group_vars/all/all.yml").contains("\nbin_dir: /opt/bin\n"),
            "{name}"
        );
        assert!(
            read("inventory/group_vars/k8s_cluster/k8s-cluster.yml")
                .contains("\nresolvconf_mode: host_resolvconf\n"),
            "{name}"
        );
        let tfvars = read("kubespray/cluster.tfvars");
        assert!(tfvars.contains("ssh_user        = \"core\""), "{name}");
        for count in [
            "number_of_bastions",
            "number_of_etcd",
            "number_of_k8s_masters",
            "number_of_k8s_masters_no_etcd",
            "number_of_k8s_masters_no_floating_ip",
            "number_of_k8s_masters_no_floating_ip_no_etcd",
            "number_of_k8s_nodes",
            "number_of_k8s_nodes_no_floating_ip",
            "number_of_gfs_nodes_no_floating_ip",
        ] {
            assert!(
                tfvars.contains(&format!("\n{count} = ")),
                "{name}: {count} must be explicit"
            );
        }
        let ansible_cfg = read("ansible.cfg");
        assert!(
            ansible_cfg.contains("pipelining = True") && ansible_cfg.contains("ControlPersist"),
            "{name}"
        );
    }
}

/// A generated file changed by hand is never overwritten without a word: `generate` stops,
/// names it and the way on, and writes nothing; `--force` overwrites it. Files that only the
/// profile changed are rewritten as always.
#[test]
fn generate_never_overwrites_a_hand_edit_without_force() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, profile) = profiles(tmp.path()).remove(0);
    let out = tmp.path().join("out");
    generate(&profile, &out);
    let all = out.join("inventory/group_vars/all/all.yml");
    let edited = std::fs::read_to_string(&all).unwrap() + "kube_proxy_mode: ipvs\n";
    std::fs::write(&all, &edited).unwrap();
    let cfg = out.join("ansible.cfg");
    let cfg_before = std::fs::read_to_string(&cfg).unwrap();
    // Another profile change, so that ansible.cfg would be rewritten too.
    let changed = std::fs::read_to_string(&profile)
        .unwrap()
        .replace("count: 2", "count: 3");
    std::fs::write(&profile, changed).unwrap();

    let stopped = bin()
        .arg("generate")
        .arg(&profile)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(stopped.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&stopped.stderr);
    assert!(
        stderr.contains(
            "changed since `flatcar-kube generate` wrote it: inventory/group_vars/all/all.yml"
        ) && stderr.contains("kubespray.extra_vars")
            && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&all).unwrap(),
        edited,
        "the edit was lost"
    );
    assert_eq!(
        std::fs::read_to_string(&cfg).unwrap(),
        cfg_before,
        "something was written"
    );

    run_ok(
        bin()
            .arg("generate")
            .arg(&profile)
            .arg("-o")
            .arg(&out)
            .arg("--force"),
    );
    assert!(!std::fs::read_to_string(&all)
        .unwrap()
        .contains("kube_proxy_mode"));
    // And from then on, profile changes alone are written without --force.
    let again = std::fs::read_to_string(&profile)
        .unwrap()
        .replace("count: 3", "count: 4");
    std::fs::write(&profile, again).unwrap();
    run_ok(bin().arg("generate").arg(&profile).arg("-o").arg(&out));
}
