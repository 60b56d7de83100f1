//! The committed docs/ must be exactly what the provider renders from its schema and the
//! examples: a stale page fails here. Regenerate with
//! `cargo run -p terraform-provider-flatcar -- docs --out docs --examples examples`.

use crate::support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn files(root: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .expect("prefix")
                    .display()
                    .to_string();
                out.insert(rel, std::fs::read_to_string(&path).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

#[test]
fn committed_docs_match_the_schema() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo root");
    let out = tempfile::tempdir().expect("tempdir");
    let status = Command::new(support::terraform::provider_binary())
        .args(["docs", "--out"])
        .arg(out.path())
        .arg("--examples")
        .arg(repo.join("examples"))
        .status()
        .expect("run docs");
    assert!(status.success());
    let rendered = files(out.path());
    let committed = files(&repo.join("docs"));
    assert!(rendered.contains_key("index.md") && rendered.contains_key("data-sources/release.md"));
    assert_eq!(
        rendered.keys().collect::<Vec<_>>(),
        committed.keys().collect::<Vec<_>>(),
        "docs/ has missing or extra pages; regenerate them"
    );
    for (name, text) in &rendered {
        assert_eq!(
            &committed[name], text,
            "docs/{name} is stale; regenerate it (see this test's doc comment)"
        );
    }
}
