//! Managed resources of the provider, one file each, and what they share (`timeouts`,
//! `ignition`, `polling`, `cloud_diag`).

pub mod ignition;
pub mod image;
pub mod instance;
pub mod polling;
pub mod timeouts;

use tfplugin::Diagnostics;

use crate::openstack::CloudError;

/// A cloud error as the diagnostics of a failed operation, under `summary`.
pub(crate) fn cloud_diag(e: &CloudError, summary: &str) -> Diagnostics {
    e.to_diagnostic(summary).into()
}
