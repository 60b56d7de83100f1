//! A local Flatcar release mirror for demos: builds a signed release tree (the same one the
//! acceptance tests use), serves it on 127.0.0.1, writes the mirror URL and the public key
//! into the directory given as the first argument, and serves until killed.

use flatcar_testkit::http_server;
use flatcar_testkit::release_tree::{Release, ReleaseTree, SigningKey};

fn main() {
    let Some(out) = std::env::args().nth(1).map(std::path::PathBuf::from) else {
        eprintln!(
            "usage: release_mirror OUT_DIR   (writes OUT_DIR/base_url and OUT_DIR/signing_key.asc)"
        );
        std::process::exit(2);
    };
    let tree = ReleaseTree::build(
        SigningKey::generate("Local Mirror Signing"),
        &[
            Release {
                channel: "stable",
                version: "4593.2.5",
                current: true,
            },
            Release {
                channel: "beta",
                version: "4628.1.0",
                current: true,
            },
        ],
    );
    let server = http_server::StaticServer::start(tree.root.path());
    std::fs::create_dir_all(&out).expect("output directory");
    std::fs::write(out.join("signing_key.asc"), &tree.key.armored_public).expect("write key");
    std::fs::write(
        out.join("base_url"),
        format!("{}/{{channel}}", server.base_url),
    )
    .expect("write url");
    eprintln!(
        "release mirror at {}/{{channel}} (key {})",
        server.base_url, tree.key.fingerprint
    );
    loop {
        std::thread::park();
    }
}
