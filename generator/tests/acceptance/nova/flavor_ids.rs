//! Kubespray's `cluster.tfvars` gets flavor IDs: with credentials in the environment, names
//! resolve to the local Nova's IDs, and a name Nova does not know is a `file:line:col` error.
//! (Without credentials: the offline suite's `flavor_names`.)

use crate::common;

use std::path::Path;

use common::*;
use flatcar_cloud::openstack::nova::Nova;
use flatcar_testkit::acceptance::{self, Need};
use flatcar_testkit::cloud::LocalCloud;

/// What every test here needs (`flatcar_testkit::acceptance`).
const NEEDS: &[Need] = &[Need::ComputeCloud];

fn tfvars(out: &Path) -> String {
    std::fs::read_to_string(out.join("kubespray/cluster.tfvars")).unwrap()
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
    if !acceptance::run(NEEDS) {
        return;
    }
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
