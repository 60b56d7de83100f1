//! The generator's acceptance tests: what `generate` writes, checked by the real tools. The
//! real terraform validates the module and the generated root module (`terraform_module`) and
//! reads `cluster.tfvars` (`terraform_tfvars`); real ansible-core reads the inventory
//! (`ansible_inventory`) and syntax-checks the plays (`coordinator`, `apps`);
//! kubernetes-validate and the chart's own schema check manifests and values; shellcheck
//! checks `deploy.sh` (`shellcheck`); flavor names resolve against the local Nova
//! (`flavor_ids`); `up` fetches Kubespray with its own virtualenv (`kubespray_fetch`).
//!
//! They run when `FLATCAR_KUBE_ACCEPTANCE=1` (scripts/test.sh sets it); otherwise each prints
//! one line naming what it needs and passes without running (`flatcar_testkit::acceptance`).

#[path = "../common/mod.rs"]
mod common;

mod ansible_inventory;
mod apps;
mod coordinator;
mod kubespray_fetch;
mod shellcheck;
mod terraform_module;
mod terraform_tfvars;

mod nova {
    //! Against the local Nova: run one at a time with the provider's `nova` tests.
    pub mod flavor_ids;
}
