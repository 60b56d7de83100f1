//! The one place where errors of the cloud layer become Terraform diagnostics: a summary,
//! a detail that says what to do, and the attribute path where one is to blame.

use flatcar_cloud::flatcar::publish::{PublishError, PublishFailure};
use flatcar_cloud::flatcar::release::ReleaseError;
use flatcar_cloud::openstack::compute::{ComputeError, LaunchFailure};
use flatcar_cloud::openstack::security_group::SecurityGroupError;
use flatcar_cloud::openstack::{CloudError, DeleteError};
use tfplugin::{AttributePath, Diagnostic, Diagnostics};

/// An OpenStack error under `summary`, with what to do where we know it.
pub fn cloud(e: &CloudError, summary: &str) -> Diagnostic {
    let hint = match e {
        CloudError::Auth { status: 401, .. } => " Check the credentials (openrc, clouds.yaml entry or provider block); application credentials must not be combined with a project scope.",
        CloudError::Api { status: 403, .. } => " The project lacks permission or quota for this operation.",
        CloudError::Api { status: 413, .. } => " The cloud refused the request size or a quota is exceeded.",
        _ => "",
    };
    Diagnostic::error(summary, format!("{e}.{hint}"))
}

/// Resolving or verifying a Flatcar release failed.
pub fn release(e: &ReleaseError) -> Diagnostics {
    let summary = match e {
        ReleaseError::Http(_) => "Cannot fetch the Flatcar release",
        ReleaseError::Manifest { .. } => "Unexpected content on the Flatcar release server",
        ReleaseError::Signature(_) => "Flatcar release signature verification failed",
        ReleaseError::BadBaseUrl(_) => "Invalid release server URL",
        ReleaseError::Invalid { setting, .. } => {
            return Diagnostic::error(format!("Invalid {setting}"), e.to_string())
                .at(AttributePath::root(setting))
                .into()
        }
    };
    let hint = match e {
        ReleaseError::Signature(_) => " Do not use this release: check the mirror, or set `signing_key` if it is signed by your own key.",
        ReleaseError::Http(_) => " Check the version, channel and base URL, and that the release server is reachable.",
        _ => "",
    };
    Diagnostic::error(summary, format!("{e}.{hint}")).into()
}

/// A failed `flatcar_image` create; the image was deleted unless `leftover` says otherwise.
pub fn publish(failure: PublishFailure) -> Diagnostics {
    // Only what happened: the half-made image is gone unless its delete failed.
    let deleted = if failure.leftover.is_some() {
        "The image was NOT deleted (see the next error)."
    } else {
        "The image was deleted."
    };
    let mut diags: Diagnostics = match &failure.error {
        PublishError::Release(e) => release(e),
        PublishError::Cloud { context, source } => cloud(source, context).into(),
        PublishError::Upload(source) => {
            cloud(source, "Uploading the image to Glance failed").into()
        }
        PublishError::Download(e) => {
            Diagnostic::error("Cannot download the Flatcar image", e.to_string()).into()
        }
        PublishError::Verification(e) => Diagnostic::error(
            "Flatcar image verification failed",
            format!("{e}. The image was not imported. {deleted}"),
        )
        .into(),
        PublishError::Transfer(e) => {
            Diagnostic::error("Transferring the Flatcar image failed", e.to_string()).into()
        }
        PublishError::Killed { .. } => Diagnostic::error(
            "Glance could not store the image",
            format!("{}; see the Glance logs. {deleted}", failure.error),
        )
        .into(),
        PublishError::Disappeared { .. } => {
            Diagnostic::error("The image disappeared", format!("{}.", failure.error)).into()
        }
        PublishError::StoredDifferently { .. } => Diagnostic::error(
            "Glance stored different bytes",
            format!("{}. {deleted}", failure.error),
        )
        .into(),
        PublishError::WebDownloadMismatch { .. } => Diagnostic::error(
            "Flatcar image verification failed",
            format!("{}.", failure.error),
        )
        .at(AttributePath::root("import_method"))
        .into(),
        PublishError::WebDownloadFailed { .. } => Diagnostic::error(
            "Glance could not download the Flatcar image",
            format!("{}. {deleted} Glance must reach the release server itself: use import_method = \"auto\" (falls back to streaming) or \"stream\", or ask the cloud's operators to allow the host in Glance's import filtering.", failure.error),
        )
        .at(AttributePath::root("import_method"))
        .into(),
        PublishError::WebDownloadUnavailable { .. } => Diagnostic::error(
            "web-download is not possible here",
            format!("{}.", failure.error),
        )
        .at(AttributePath::root("import_method"))
        .into(),
        PublishError::TimedOut(limit) => Diagnostic::error(
            "Image upload timed out",
            format!("The upload did not finish within {limit:?} (timeouts.create). {deleted}"),
        )
        .into(),
        PublishError::Cancelled => Diagnostic::error(
            "Image upload cancelled",
            format!("Terraform asked the provider to stop. {deleted}"),
        )
        .into(),
    };
    if let Some((id, e)) = failure.leftover {
        diags.push(Diagnostic::error(
            "The failed image could not be deleted",
            format!("{e}. Delete image {id} by hand (openstack image delete {id})."),
        ));
    }
    diags
}

/// A failed delete-and-wait of `what` ("image", "server"), `hint` telling how to finish it.
pub fn delete(e: &DeleteError, what: &str, timeout_hint: &str) -> Diagnostic {
    match e {
        DeleteError::Cloud(source) if source.status() == Some(409) => Diagnostic::error(
            format!("The {what} is still in use"),
            format!("{source}. The cloud keeps a {what} while others depend on it (on Ceph-backed clouds such as Jetstream2, Glance keeps an image while servers booted from it exist). Nothing was changed: delete or rebuild what uses it, then apply again; or keep it and drop it from Terraform with `terraform state rm`."),
        ),
        DeleteError::Cloud(source) => cloud(source, &format!("Cannot delete the {what}")),
        DeleteError::TimedOut { .. } => {
            let mut title = what.to_string();
            title[..1].make_ascii_uppercase();
            Diagnostic::error(
                format!("{title} deletion timed out"),
                format!("{title} {e}{timeout_hint}."),
            )
        }
    }
}

/// A failed server operation, at the attribute to blame where there is one.
pub fn compute(e: &ComputeError) -> Diagnostic {
    let network = |index: &usize| {
        AttributePath::root("network")
            .index(*index as i64)
            .attribute("name")
    };
    match e {
        ComputeError::Cloud { context, source } => cloud(source, context),
        ComputeError::UnknownFlavor { wanted, available } => Diagnostic::error(
            "Unknown flavor",
            format!(
                "The cloud has no flavor named {wanted:?}. Available: {}.",
                available.join(", ")
            ),
        )
        .at(AttributePath::root("flavor_name")),
        ComputeError::UnknownNetwork { index, name } => Diagnostic::error(
            "Unknown network",
            format!("No network named {name:?} is visible to the project."),
        )
        .at(network(index)),
        ComputeError::AmbiguousNetwork { index, name } => Diagnostic::error(
            "Ambiguous network",
            format!("Several networks are named {name:?}; use `uuid`."),
        )
        .at(network(index)),
        ComputeError::UnknownPool(name) => Diagnostic::error(
            "Unknown floating IP pool",
            format!("No external network named {name:?}."),
        )
        .at(AttributePath::root("floating_ip_pool")),
        ComputeError::NoPort(id) => Diagnostic::error(
            "No port for the floating IP",
            format!("Server {id} has no port to associate a floating IP with."),
        ),
        ComputeError::NoFloatingIp(which) => Diagnostic::error(
            "No such floating IP",
            format!("The project has no floating IP {which:?}. Check `floating_ip_id` against `openstack floating ip list`, or reserve one with a `flatcar_floating_ip` resource."),
        ),
        ComputeError::BuildFailed { .. } => {
            Diagnostic::error("The server failed to build", format!("{e}."))
        }
        ComputeError::Disappeared(id) => Diagnostic::error(
            "The server disappeared",
            format!("Server {id} was deleted while it was being built."),
        ),
        ComputeError::AnswerLost { .. } => {
            Diagnostic::error("The connection to Nova was lost", format!("{e}."))
        }
        ComputeError::TimedOut { id, limit } => Diagnostic::error(
            "Server creation timed out",
            format!("Server {id} was not ACTIVE within {limit:?} (timeouts.create)."),
        ),
        ComputeError::Cancelled => Diagnostic::error(
            "Server creation cancelled",
            "Terraform asked the provider to stop.",
        ),
        ComputeError::Gone(id) => Diagnostic::error(
            "The server is gone",
            format!("Server {id} no longer exists; run `terraform apply` again to recreate it."),
        ),
        ComputeError::Delete(d) => {
            let id = match d {
                DeleteError::TimedOut { id, .. } => id.as_str(),
                DeleteError::Cloud(_) => "",
            };
            delete(
                d,
                "server",
                &format!(" (timeouts.delete); delete it by hand (openstack server delete {id})"),
            )
        }
    }
}

/// A failed security group operation.
pub fn security_group(e: &SecurityGroupError) -> Diagnostic {
    match e {
        SecurityGroupError::Cloud { context, source } => cloud(source, context),
        SecurityGroupError::Gone(id) => Diagnostic::error(
            "The security group is gone",
            format!("Security group {id} no longer exists; run `terraform apply` again to recreate it."),
        ),
        SecurityGroupError::Delete(DeleteError::TimedOut { id, limit }) => Diagnostic::error(
            "The security group is still in use",
            format!("Neutron still refused to delete security group {id} after {limit:?} because ports use it. Remove it from the servers' `security_groups` (or destroy them) first; `openstack port list --security-group {id}` shows who uses it."),
        ),
        SecurityGroupError::Delete(d) => delete(d, "security group", ""),
    }
}

/// A failed `flatcar_instance` create, and what became of the server it made: deleted (Nova
/// confirmed), or left, with why and what happens to it next.
pub fn launch(failure: LaunchFailure) -> Diagnostics {
    let mut first = compute(&failure.error);
    match (&failure.server_id, &failure.cleanup) {
        (Some(id), None) => {
            first.detail = format!(
                "{} Server {id} has been deleted (Nova confirmed).",
                first.detail
            );
        }
        (Some(id), Some(_)) => {
            first.detail = format!(
                "{} Server {id} was NOT deleted (see the next error). It is marked as left by an interrupted create: the next apply of this resource deletes it (or adopts it when it is complete); if this resource is gone from the configuration, delete it with `openstack server delete {id}`.",
                first.detail
            );
        }
        (None, _) => {}
    }
    let mut diags = Diagnostics::from(first);
    if let Some(cleanup) = &failure.cleanup {
        diags.push(compute(cleanup));
    }
    diags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rejected_login_says_what_to_check() {
        let e = CloudError::Auth {
            auth_url: "https://keystone.example/v3".into(),
            status: 401,
            message: "The request you have made requires authentication.".into(),
        };
        let d = cloud(&e, "OpenStack is not configured");
        assert!(d.detail.contains("Check the credentials"), "{}", d.detail);
        assert!(d.detail.contains("requires authentication"), "{}", d.detail);
    }

    #[test]
    fn an_image_in_use_says_what_to_do() {
        let e = DeleteError::Cloud(CloudError::Api {
            method: "DELETE".into(),
            url: "http://glance/v2/images/1".into(),
            status: 409,
            message: "Image 1 could not be deleted because it is in use".into(),
        });
        let d = delete(&e, "image", "");
        assert_eq!(d.summary, "The image is still in use");
        assert!(d.detail.contains("apply again"), "{}", d.detail);
    }

    #[test]
    fn compute_errors_point_at_the_attribute_to_fix() {
        let d = compute(&ComputeError::UnknownNetwork {
            index: 1,
            name: "privat".into(),
        });
        assert_eq!(
            d.path,
            Some(AttributePath::root("network").index(1).attribute("name"))
        );
        assert_eq!(
            compute(&ComputeError::UnknownPool("pub".into())).path,
            Some(AttributePath::root("floating_ip_pool"))
        );
    }
}
