//! Kubespray's `cluster.tfvars` wants flavor IDs: without OpenStack credentials, flavor names
//! stay names and `generate` warns on stderr with the command that lists the IDs; a pool with
//! a `flavor_id` needs no warning. (Names resolved by the local Nova: the acceptance suite's
//! `flavor_ids`.)

use crate::common;

use std::path::Path;

use common::*;

fn tfvars(out: &Path) -> String {
    std::fs::read_to_string(out.join("kubespray/cluster.tfvars")).unwrap()
}

#[test]
fn offline_flavor_names_stay_names_with_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, jetstream2) = profiles(tmp.path()).remove(0);
    let out = tmp.path().join("out");
    let run = run_ok(bin().arg("generate").arg(&jetstream2).arg("-o").arg(&out));
    let stderr = String::from_utf8_lossy(&run.stderr);
    for needle in [
        "warning: kubespray/cluster.tfvars: flavor name(s) `m3.medium`, `m3.quad`",
        "wants flavor IDs",
        "no OpenStack credentials",
        "`openstack flavor list`",
        "flavor_id",
    ] {
        assert!(
            stderr.contains(needle),
            "stderr lacks `{needle}`:\n{stderr}"
        );
    }
    let text = tfvars(&out);
    assert!(
        text.contains("flavor_k8s_master = \"m3.quad\" # NAME, not an ID"),
        "{text}"
    );
    assert!(
        text.contains("A value marked NAME is a flavor name"),
        "{text}"
    );

    // Every pool with a flavor_id: IDs only, nothing to warn about.
    let out = tmp.path().join("ha");
    let run = run_ok(
        bin()
            .arg("generate")
            .arg(testdata().join("profiles/ha.yaml"))
            .arg("-o")
            .arg(&out),
    );
    assert!(
        run.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = tfvars(&out);
    assert!(
        text.contains("flavor_k8s_master = \"5f3c9a7e-1111-4222-8333-944455556666\"\n"),
        "{text}"
    );
    assert!(!text.contains("NAME"), "{text}");
}
