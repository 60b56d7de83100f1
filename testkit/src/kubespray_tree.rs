//! Kubespray-shaped checkouts for tests of `flatcar-kube up --deploy`: a copy of one of our own
//! trees under `testdata/generator/kubespray/` (the playbooks `up` runs, as empty stand-ins,
//! and the checksums it reads the supported Kubernetes versions from).

use std::path::{Path, PathBuf};

/// The tree of `release` (`v2.31`, `v2.27`) in the repository.
pub fn source(release: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/generator/kubespray")
        .join(release)
}

/// Copies the tree of `release` to `dest` (created) and returns `dest`.
pub fn checkout(release: &str, dest: &Path) -> PathBuf {
    copy_dir(&source(release), dest);
    dest.to_path_buf()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the Kubespray copy");
    for entry in std::fs::read_dir(from).expect("read the Kubespray tree") {
        let entry = entry.expect("directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a Kubespray file");
        }
    }
}
