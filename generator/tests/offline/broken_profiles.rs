//! Done-when 5 (corpus): every profile in `testdata/generator/broken/` is rejected by
//! `generate` with exactly the message in its `.expected` file (`file:line:col: what; what to
//! do`), exit code 2, no panic and nothing written. `$HOME` in an expected message stands for
//! the test HOME. `UPDATE_GOLDEN=1` rewrites the expected files.

use crate::common;

use common::*;

#[test]
fn every_broken_profile_gets_its_expected_message() {
    let dir = testdata().join("broken");
    let mut profiles: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    profiles.sort();
    assert!(
        profiles.len() >= 25,
        "the corpus has {} profiles",
        profiles.len()
    );
    let tmp = tempfile::tempdir().unwrap();
    let home = home().canonicalize().unwrap();
    for profile in profiles {
        let relative = profile.strip_prefix(testdata()).unwrap();
        let out_dir = tmp.path().join("out");
        let out = bin()
            .current_dir(testdata())
            .env("HOME", &home)
            .arg("generate")
            .arg(relative)
            .arg("-o")
            .arg(&out_dir)
            .output()
            .unwrap();
        let stderr = String::from_utf8(out.stderr)
            .unwrap()
            .replace(&home.display().to_string(), "$HOME");
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}: {stderr}",
            relative.display()
        );
        assert!(
            !out_dir.exists(),
            "{}: nothing may be written",
            relative.display()
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        let prefix = format!("{}:", relative.display());
        for line in stderr.lines() {
            assert!(
                line.starts_with(&prefix),
                "{}: `{line}` must start with file:line:col",
                relative.display()
            );
            let rest = &line[prefix.len()..];
            let mut parts = rest.splitn(3, ':');
            let line_no: usize = parts.next().unwrap().parse().expect("a line number");
            let col: usize = parts.next().unwrap().parse().expect("a column number");
            assert!(line_no >= 1 && col >= 1, "{line}");
            assert!(
                parts.next().unwrap().contains("; "),
                "`{line}` must say what to do after `; `"
            );
        }
        assert_golden(&profile.with_extension("expected"), &stderr);
    }
}
