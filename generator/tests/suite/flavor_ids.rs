//! Kubespray's `cluster.tfvars` gets flavor IDs: offline, flavor names stay and `generate`
//! warns on stderr with the command that lists the IDs; with credentials in the environment,
//! names resolve to the local Nova's IDs (tests named `flavor_ids_from_nova*` run in nextest's
//! `local-cloud` group), and a name Nova does not know is a `file:line:col` error.

use crate::common;

use std::path::Path;

use common::*;
use flatcar_cloud::openstack::nova::Nova;
use flatcar_testkit::cloud::LocalCloud;

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

/// A profile for the local cloud with `flavor` in both pools.
fn local_profile(dir: &Path, cloud: &LocalCloud, control_plane_flavor: &str) -> std::path::PathBuf {
    let path = dir.join("local.yaml");
    std::fs::write(
        &path,
        format!(
            "version: 1\nname: flavors\ncloud:\n  region: RegionOne\n  auth: password\nnetwork:\n  name: {network}\n  reuse: true\n  external_network: {public}\naccess:\n  allowed_cidrs: [127.0.0.1/32]\nssh:\n  public_key_file: ~/.ssh/id_ed25519.pub\npools:\n  control_plane:\n    count: 1\n    flavor: {control_plane_flavor}\n  workers:\n    count: 2\n    flavor: {small}\n",
            network = cloud.value("FK_NETWORK_NAME"),
            public = cloud.value("FK_EXTERNAL_NETWORK"),
            small = cloud.value("FK_FLAVOR_SMALL"),
        ),
    )
    .unwrap();
    path
}

#[test]
fn flavor_ids_from_nova_replace_names_with_either_credential() {
    let cloud = LocalCloud::get();
    let small = cloud.value("FK_FLAVOR_SMALL");
    let huge = cloud.value("FK_FLAVOR_HUGE");
    let session = cloud.session(false);
    let flavors = cloud
        .block_on(Nova::new(&session).flavors())
        .expect("list flavors");
    let id_of = |name: &str| {
        flavors
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.id.clone())
            .unwrap_or_else(|| panic!("the local Nova has no flavor {name}"))
    };
    let (small_id, huge_id) = (id_of(&small), id_of(&huge));
    let tmp = tempfile::tempdir().unwrap();
    let profile = local_profile(tmp.path(), &cloud, &huge);

    // An openrc with a password, and Jetstream2's kind: an application credential.
    for (what, env) in [
        ("password", cloud.password_env()),
        ("application credential", cloud.app_cred_env()),
    ] {
        let out = tmp.path().join(what.replace(' ', "-"));
        let run = run_ok(
            bin()
                .arg("generate")
                .arg(&profile)
                .arg("-o")
                .arg(&out)
                .envs(env),
        );
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(!stderr.contains("warning"), "{what}: {stderr}");
        let text = tfvars(&out);
        assert!(
            text.contains(&format!("flavor_k8s_master = \"{huge_id}\"\n")),
            "{what}: {text}"
        );
        assert!(
            text.contains(&format!("flavor_k8s_node = \"{small_id}\"\n")),
            "{what}: {text}"
        );
        assert!(!text.contains("NAME"), "{what}: {text}");
        // Our own module keeps the names: flatcar_instance resolves them itself.
        let main_tf = std::fs::read_to_string(out.join("terraform/main.tf")).unwrap();
        assert!(
            main_tf.contains(&format!("flavor_name      = \"{small}\"")),
            "{what}: {main_tf}"
        );
    }

    // A name Nova does not know is an error at the pool's flavor, and nothing is written.
    let profile = local_profile(tmp.path(), &cloud, "m1.nope");
    let out = tmp.path().join("unknown");
    let run = bin()
        .arg("generate")
        .arg(&profile)
        .arg("-o")
        .arg(&out)
        .envs(cloud.password_env())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    let expected = format!(
        "{}:17:13: Nova has no flavor named `m1.nope`; use one of ",
        profile.display()
    );
    assert!(stderr.starts_with(&expected), "{stderr}");
    assert!(stderr.contains(&format!("`{small}`")), "{stderr}");
    assert!(!out.exists());
}
