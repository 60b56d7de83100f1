//! Offline tests of the Butane translation: the table of documents and their exact Ignition
//! JSON or error (`cases`), error display, pretty and compressed output. The real validator's
//! checks are the `acceptance` binary.

#[path = "../cases/mod.rs"]
mod cases;

use cases::{check, compressed, dedent, long_inline_file, Expect, CASES};
use flatcar_butane::{to_ignition, Options};

#[test]
fn table_of_documents() {
    assert!(CASES.len() >= 15);
    assert!(
        CASES
            .iter()
            .filter(|c| matches!(c.expect, Expect::Error { .. }))
            .count()
            >= 5
    );
    let failures: Vec<String> = CASES
        .iter()
        .filter_map(|c| check(c).err().map(|e| format!("{}:\n{e}", c.name)))
        .collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

#[test]
fn errors_display_path_position_and_hint() {
    let e = to_ignition(
        &dedent(
            "
            variant: flatcar
            version: 1.0.0
            storage:
              files:
                - path: etc/hostname
            ",
        ),
        &Options::default(),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "storage.files[0].path (line 5, column 13): the path `etc/hostname` is not absolute; start it with `/`: `/etc/hostname`"
    );
}

#[test]
fn pretty_output_is_indented_json() {
    let json = to_ignition(
        "variant: flatcar\nversion: 1.0.0\nkernel_arguments:\n  should_exist: [quiet]\n",
        &Options {
            pretty: true,
            ..Options::default()
        },
    )
    .unwrap();
    assert_eq!(
        json,
        "{\n  \"ignition\": {\n    \"version\": \"3.3.0\"\n  },\n  \"kernelArguments\": {\n    \"shouldExist\": [\n      \"quiet\"\n    ]\n  }\n}"
    );
}

#[test]
fn compress_gzips_long_inline_text() {
    let butane = long_inline_file();
    let plain = to_ignition(&butane, &Options::default()).unwrap();
    let packed = compressed(&butane);
    // Base64 beats percent-encoding for this text (a space costs 3 bytes), gzip beats both.
    assert!(plain.contains(r#""compression":"","source":"data:;base64,YSBsaW5l"#));
    assert!(packed.contains(r#""compression":"gzip","source":"data:;base64,H4sI"#));
    assert!(packed.len() < plain.len() / 5);
}
