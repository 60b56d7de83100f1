//! flatcar-butane: a Butane config of the `flatcar` variant to Ignition JSON, as the `butane`
//! CLI writes it, in pure Rust and without reading any file.
//!
//! `variant: flatcar` `version: 1.0.0` becomes Ignition 3.3.0 and `version: 1.1.0` becomes
//! Ignition 3.4.0. Every key is checked (unknown keys, wrong types and values Ignition would
//! refuse are errors naming the YAML path and line:column); fields that read Butane's
//! `--files-dir` (`local`, `trees`, `*_local`) are refused, since there is no files directory.
//!
//! Differences from `butane` (all on purpose):
//! - What Butane or Ignition only warn about is an error here when the config would not do
//!   what it says (setuid/setgid/sticky modes, modes that only make sense in octal, enabled
//!   units without `[Install]`, owners on hard links), as with `butane --strict`. Unknown keys
//!   are errors too. The first problem is reported, not all of them.
//! - Inline contents are gzip-compressed only with [`Options::compress`].
//! - `compression: gzip` next to `inline` is an error (inline text is not compressed data).
//! - Unit texts are checked a little more strictly than Ignition does: `Key=value` before the
//!   first `[Section]` line is an error (systemd ignores it).
//!
//! Modules: `yaml` reads the text into `flatcar_yaml`'s positioned nodes, `decode` reads nodes
//! into typed values, `schema` is the flatcar variant's spec, `validate` its rules, `translate`
//! maps it onto the Ignition types of `ignition`, with `data_url` and `systemd` as helpers.
//!
//! ```
//! let ign = flatcar_butane::to_ignition(
//!     "variant: flatcar\nversion: 1.0.0\nstorage:\n  files:\n    - path: /etc/hostname\n      contents:\n        inline: node1\n",
//!     &flatcar_butane::Options::default(),
//! )
//! .unwrap();
//! assert_eq!(
//!     ign,
//!     r#"{"ignition":{"version":"3.3.0"},"storage":{"files":[{"path":"/etc/hostname","contents":{"compression":"","source":"data:,node1"}}]}}"#
//! );
//! ```

mod data_url;
mod decode;
mod error;
mod ignition;
mod schema;
mod systemd;
mod translate;
mod validate;
mod yaml;

pub use error::{ButaneError, Position};

/// How the Ignition JSON is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Indent the JSON by two spaces per level (`butane --pretty`); compact otherwise.
    pub pretty: bool,
    /// Gzip inline contents when that makes the config shorter, as `butane` does by default.
    /// Off by default: gzip output depends on the compressor's version, and a config that
    /// changes with a library upgrade would change (and may replace) the machines built from
    /// it. Percent-encoded and base64 contents are fixed by their specs.
    pub compress: bool,
}

/// Translates a Butane config (`variant: flatcar`, `version: 1.0.0` or `1.1.0`) to Ignition
/// JSON with keys in Ignition's order and only the fields that are set, so that the same input
/// always gives the same bytes.
///
/// # Errors
///
/// The first problem found: a YAML syntax error, an unsupported variant or version, an unknown
/// key, a value of the wrong type, a field that needs local files, or a value Ignition would
/// refuse. The error names the YAML path and position and says what to do.
pub fn to_ignition(butane_yaml: &str, options: &Options) -> Result<String, ButaneError> {
    let root = yaml::parse(butane_yaml).map_err(|p| located(p, None))?;
    let (version, config) = schema::read(&root).map_err(|p| located(p, Some(&root)))?;
    validate::check(&config).map_err(|p| located(p, Some(&root)))?;
    let ignition = translate::translate(&config, version, options.compress);
    let json = if options.pretty {
        serde_json::to_string_pretty(&ignition)
    } else {
        serde_json::to_string(&ignition)
    }
    .unwrap_or_else(|e| unreachable!("plain structs of strings and numbers serialize: {e}"));
    Ok(escape_like_go(&json))
}

fn located(problem: error::Problem, root: Option<&yaml::Node>) -> ButaneError {
    let position = problem
        .position
        .or_else(|| root.map(|r| yaml::Locate::locate(r, &problem.path)))
        .unwrap_or(Position { line: 1, column: 1 });
    ButaneError {
        path: problem.path,
        position,
        message: problem.message,
        hint: problem.hint,
    }
}

/// Go's JSON encoder (and so Butane) writes `<`, `>`, `&`, U+2028 and U+2029 as `\u` escapes.
/// They only occur inside JSON strings, so replacing them in the text is exact.
fn escape_like_go(json: &str) -> String {
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}
