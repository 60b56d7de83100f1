//! Turns a checked profile into the files of a Kubespray deployment through the handlebars
//! templates in `generator/templates/` (values are escaped by the helpers of [`escape`]).
//! Which files, from what and with which mode is one table, [`outputs`]; the variables the
//! templates see are [`variables`]; writing (never over a hand edit) and `--check` are
//! [`written`]. It does not read profiles.

pub mod apps;
pub mod coordinator;
pub mod escape;
pub mod outputs;
pub mod variables;
pub mod written;

use std::path::{Path, PathBuf};

use handlebars::Handlebars;
use serde_json::Value;

use crate::flavors::{self, FlavorIds};
use crate::profile::{self, LoadedProfile, ProfileErrors};

pub use coordinator::playbook as coordinator_playbook;
pub use outputs::{CLUSTER_MODULE_DIR, PLAIN_MODE, SCRIPT_MODE, SECRET_MODE};
pub use variables::forks_for;
pub use written::{check_files, write_file, write_files};

/// The play that installs the profile's apps into the cluster generated into `output_dir`
/// (run like the coordinator's); `None` when the profile has no apps.
pub fn apps_playbook(loaded: &LoadedProfile, output_dir: &Path) -> Option<PathBuf> {
    apps::enabled(&loaded.profile).then(|| output_dir.join(apps::DIR).join(apps::PLAYBOOK))
}

/// One generated file, relative to the output directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    pub path: PathBuf,
    pub contents: String,
    pub mode: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("internal error: template {0} does not render: {1}")]
    Template(&'static str, String),
    #[error("{path}: {source}; check that the directory is writable")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    HandEdited(#[from] written::HandEdited),
}

/// Where Kubespray writes `admin.conf` (`artifacts_dir`), relative to the output directory.
pub const ARTIFACTS_DIR: &str = "artifacts";

/// `artifacts_dir` as Kubespray reads it: relative to the inventory (`DIR/inventory`), so it
/// is `DIR/artifacts` wherever DIR is.
pub const ARTIFACTS_DIR_VAR: &str = "{{ inventory_dir }}/../artifacts";

/// The template engine with every template and escaping helper registered.
pub fn engine() -> Handlebars<'static> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    // Escaping is the helpers' job; the engine's HTML escaping would be wrong for every target.
    hb.register_escape_fn(handlebars::no_escape);
    escape::register(&mut hb);
    for (name, text) in outputs::templates() {
        // The templates are part of the binary and covered by tests; a broken one is a bug.
        if let Err(e) = hb.register_template_string(name, text) {
            panic!("template {name} does not parse: {e}");
        }
    }
    hb
}

/// Renders the template `name` with `data`.
pub fn render(
    hb: &Handlebars<'_>,
    name: &'static str,
    data: &Value,
) -> Result<String, RenderError> {
    hb.render(name, data)
        .map_err(|e| RenderError::Template(name, e.to_string()))
}

/// A profile's files as `generate` and `up` both make them.
pub struct Generated {
    pub loaded: LoadedProfile,
    pub files: Vec<OutputFile>,
}

/// Why a profile's files could not be made.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("{0}")]
    Profile(#[from] ProfileErrors),
    #[error("{0}")]
    Render(#[from] RenderError),
}

/// The work `generate` and `up` share: the profile at `path` read and checked, flavor names
/// resolved to Nova's IDs where `env` reaches Nova (each warning a line on `warn`), and every
/// file rendered ([`generate`]). Nothing is written.
pub fn generate_profile(
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    warn: &mut dyn std::io::Write,
) -> Result<Generated, GenerateError> {
    let loaded = profile::load(path)?;
    let flavor_ids = flavors::resolve(&loaded, env)?;
    for warning in &flavor_ids.warnings {
        let _ = writeln!(warn, "{warning}");
    }
    let files = generate(&loaded, &flavor_ids.ids)?;
    Ok(Generated { loaded, files })
}

/// Every file `generate` writes for a profile, in the order of [`outputs::OUTPUTS`]. Same
/// profile and flavor IDs, same bytes (`ids` from [`crate::flavors::resolve`]; only
/// `cluster.tfvars` uses them).
pub fn generate(loaded: &LoadedProfile, ids: &FlavorIds) -> Result<Vec<OutputFile>, RenderError> {
    let hb = engine();
    let data = variables::context(loaded, ids);
    let mut files = Vec::new();
    for output in outputs::OUTPUTS.iter().filter(|o| o.when.holds(loaded)) {
        let contents = match output.source {
            outputs::Source::Template(name, _) => render(&hb, name, &data)?,
            outputs::Source::Module(text) => text.to_string(),
        };
        files.push(OutputFile {
            path: Path::new(output.dir).join(output.file),
            contents,
            mode: output.mode,
        });
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::outputs::{templates, Source, OUTPUTS};
    use super::CLUSTER_MODULE_DIR;

    /// The module built into the binary is the crate's module directory, file for file.
    #[test]
    fn embedded_module_holds_every_file_of_the_module() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(CLUSTER_MODULE_DIR);
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .expect("generator/terraform/modules/cluster")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let embedded: Vec<(&str, &str)> = OUTPUTS
            .iter()
            .filter_map(|o| match o.source {
                Source::Module(text) => Some((o.file, text)),
                Source::Template(..) => None,
            })
            .collect();
        let names: Vec<String> = embedded.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(
            names, on_disk,
            "add every file of generator/terraform/modules/cluster to OUTPUTS (module_file!)"
        );
        assert!(OUTPUTS
            .iter()
            .filter(|o| matches!(o.source, Source::Module(_)))
            .all(|o| o.dir == CLUSTER_MODULE_DIR));
        for (name, text) in embedded {
            let disk = std::fs::read(dir.join(name)).expect("module file");
            assert_eq!(
                text.as_bytes(),
                &disk[..],
                "{name} differs from the embedded copy"
            );
        }
    }

    /// Every `{{...}}` in a template is a block keyword or an escaping helper, never a bare value.
    #[test]
    fn templates_escape_every_value() {
        let allowed = [
            "yaml ",
            "yamlblock ",
            "hcl ",
            "sh ",
            "ini ",
            "num ",
            "comment ",
            "#if ",
            "#unless ",
            "#each ",
            "/if",
            "/unless",
            "/each",
            "else",
            "!",
        ];
        for (name, text) in templates() {
            let mut rest = text;
            while let Some(start) = rest.find("{{") {
                let after = &rest[start + 2..];
                let end = after.find("}}").unwrap_or(after.len());
                let expr = after[..end].trim_start_matches('~').trim();
                assert!(
                    allowed.iter().any(|a| expr.starts_with(a)),
                    "template {name}: `{{{{{expr}}}}}` is not escaped by a helper"
                );
                rest = &after[end..];
            }
        }
    }
}
