//! Every file `generate` writes, as one table: where it goes, what it is made from (a template
//! of `generator/templates/`, or a file of the cluster module copied as it is), its mode and
//! when the profile calls for it. It owns file names, modes and order; the variables the
//! templates see are [`super::variables`]'s, the disk is [`super::written`]'s.

use crate::profile::state::StateBackend;
use crate::profile::LoadedProfile;

use super::{apps, coordinator};

/// Mode of files that may hold secrets (group_vars carry `extra_vars`, which may be tokens).
pub const SECRET_MODE: u32 = 0o600;
/// Mode of plain generated files.
pub const PLAIN_MODE: u32 = 0o644;
/// Mode of generated scripts.
pub const SCRIPT_MODE: u32 = 0o755;

/// Where `generate` writes the module, relative to the output directory; also where its source
/// lives in this crate (`generator/terraform/modules/cluster`).
pub const CLUSTER_MODULE_DIR: &str = "terraform/modules/cluster";

/// What a file is made from.
#[derive(Debug, Clone, Copy)]
pub enum Source {
    /// A handlebars template, by the name it is registered under, and its text.
    Template(&'static str, &'static str),
    /// A file of the cluster module, copied byte for byte.
    Module(&'static str),
}

/// When the profile calls for a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    Always,
    /// The OpenStack cloud provider or Cinder CSI is on.
    CloudProvider,
    /// `kubespray.extra_vars` is not empty.
    ExtraVars,
    /// `state.backend: object_store`.
    ObjectStoreState,
    /// The reboot coordinator is installed.
    Coordinator,
    /// The profile has apps.
    Apps,
}

impl When {
    pub fn holds(self, loaded: &LoadedProfile) -> bool {
        let p = &loaded.profile;
        match self {
            When::Always => true,
            When::CloudProvider => p.kubernetes.openstack_cloud_provider || p.kubernetes.cinder_csi,
            When::ExtraVars => !p.kubespray.extra_vars.is_empty(),
            When::ObjectStoreState => p.state.backend == StateBackend::ObjectStore,
            When::Coordinator => coordinator::enabled(loaded),
            When::Apps => apps::enabled(p),
        }
    }
}

/// One generated file: `dir/file` relative to the output directory.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub dir: &'static str,
    pub file: &'static str,
    pub source: Source,
    pub mode: u32,
    pub when: When,
}

macro_rules! template {
    ($name:literal) => {
        Source::Template(
            $name,
            include_str!(concat!("../../templates/", $name, ".hbs")),
        )
    };
}

macro_rules! module_file {
    ($file:literal) => {
        Output {
            dir: CLUSTER_MODULE_DIR,
            file: $file,
            source: Source::Module(include_str!(concat!(
                "../../terraform/modules/cluster/",
                $file
            ))),
            mode: PLAIN_MODE,
            when: When::Always,
        }
    };
}

const fn row(
    dir: &'static str,
    file: &'static str,
    source: Source,
    mode: u32,
    when: When,
) -> Output {
    Output {
        dir,
        file,
        source,
        mode,
        when,
    }
}

/// Every file `generate` writes, in the order it writes them.
#[rustfmt::skip]
pub const OUTPUTS: &[Output] = &[
    row("kubespray", "cluster.tfvars", template!("cluster.tfvars"), PLAIN_MODE, When::Always),
    row("inventory/group_vars/all", "all.yml", template!("all.yml"), SECRET_MODE, When::Always),
    row("inventory/group_vars/all", "openstack.yml", template!("openstack.yml"), SECRET_MODE, When::CloudProvider),
    row("inventory/group_vars/k8s_cluster", "k8s-cluster.yml", template!("k8s-cluster.yml"), SECRET_MODE, When::Always),
    row("inventory/group_vars/k8s_cluster", "extra.yml", template!("extra.yml"), SECRET_MODE, When::ExtraVars),
    row("", "ansible.cfg", template!("ansible.cfg"), PLAIN_MODE, When::Always),
    row("", "deploy.sh", template!("deploy.sh"), SCRIPT_MODE, When::Always),
    row("terraform", "main.tf", template!("terraform-main.tf"), PLAIN_MODE, When::Always),
    row("terraform", "outputs.tf", template!("terraform-outputs.tf"), PLAIN_MODE, When::Always),
    row("terraform", "backend.tf", template!("terraform-backend.tf"), PLAIN_MODE, When::ObjectStoreState),
    module_file!("README.md"),
    module_file!("main.tf"),
    module_file!("outputs.tf"),
    module_file!("variables.tf"),
    module_file!("versions.tf"),
    row(coordinator::DIR, coordinator::MANIFEST, template!("coordinator-kured.yaml"), PLAIN_MODE, When::Coordinator),
    row(coordinator::DIR, coordinator::PLAYBOOK, template!("coordinator-install.yml"), PLAIN_MODE, When::Coordinator),
    row(apps::DIR, apps::JUPYTERHUB_VALUES, template!("apps-jupyterhub-values.yaml"), PLAIN_MODE, When::Apps),
    row(apps::DIR, apps::PLAYBOOK, template!("apps-install.yml"), PLAIN_MODE, When::Apps),
];

/// Templates that are not a file of `generate`: `hosts.yaml`, which `inventory` and `up` write
/// from Terraform's output.
pub const OTHER_TEMPLATES: &[Source] = &[template!("hosts.yaml")];

/// Every template, by name and text: those of [`OUTPUTS`] and [`OTHER_TEMPLATES`].
pub fn templates() -> impl Iterator<Item = (&'static str, &'static str)> {
    OUTPUTS
        .iter()
        .map(|o| o.source)
        .chain(OTHER_TEMPLATES.iter().copied())
        .filter_map(|s| match s {
            Source::Template(name, text) => Some((name, text)),
            Source::Module(_) => None,
        })
}
