//! Flavor IDs for Kubespray's `cluster.tfvars`. Kubespray's `contrib/terraform/openstack` hands
//! its flavor variables to Nova as flavor IDs, and on many clouds (Jetstream2 among them) an ID
//! is not the name. A pool's `flavor_id` is used as written; a flavor name is looked up in Nova
//! when OpenStack credentials are in the environment (an openrc's `OS_*`, `OS_CLOUD`, or the
//! profile's `cloud.clouds_yaml_entry`), through the project's one OpenStack client
//! (`flatcar-cloud`). Without credentials the name stays and a [`FlavorWarning`] says so:
//! never a silent name where the module wants an ID.
//!
//! Only `cluster.tfvars` uses this: our own module's `flatcar_instance` resolves names itself.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use flatcar_cloud::http::StopSignal;
use flatcar_cloud::openstack::auth::{self, CloudSettings};
use flatcar_cloud::openstack::nova::{Flavor, Nova};
use flatcar_cloud::openstack::{CloudError, CloudSession};

use crate::profile::{Diagnostic, LoadedProfile, Pool, Profile, ProfileErrors};

/// How long the whole look-up (token, catalog, flavor list) may take.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(60);

/// The command that lists a cloud's flavors with their IDs.
pub const LIST_COMMAND: &str = "openstack flavor list";

/// What `cluster.tfvars` gets for one pool's flavor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlavorValue {
    /// A flavor ID: the pool's `flavor_id`, or the ID Nova gave for its name.
    Id(String),
    /// A flavor name that could not be looked up (offline); the module wants an ID.
    Name(String),
}

/// Flavor names resolved to IDs (empty when nothing was looked up).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlavorIds {
    by_name: BTreeMap<String, String>,
}

impl FlavorIds {
    /// The value for a pool: its `flavor_id`, else the ID found for its name, else the name.
    pub fn for_pool(&self, pool: &Pool) -> FlavorValue {
        if let Some(id) = &pool.flavor_id {
            return FlavorValue::Id(id.clone());
        }
        let name = pool.flavor.clone().unwrap_or_default();
        match self.by_name.get(&name) {
            Some(id) => FlavorValue::Id(id.clone()),
            None => FlavorValue::Name(name),
        }
    }
}

/// Why flavor names stayed names; printed on stderr by `generate` and `up`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlavorWarning {
    /// No credentials in the environment: nothing was asked.
    Offline { names: Vec<String> },
    /// Credentials were there, but the look-up failed.
    LookupFailed { names: Vec<String>, reason: String },
}

impl fmt::Display for FlavorWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (names, why) = match self {
            FlavorWarning::Offline { names } => (
                names,
                "no OpenStack credentials in the environment to look up their IDs".to_string(),
            ),
            FlavorWarning::LookupFailed { names, reason } => (
                names,
                format!("looking up their IDs in Nova failed: {reason}"),
            ),
        };
        let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        write!(
            f,
            "warning: kubespray/cluster.tfvars: flavor name(s) {} stand where Kubespray's contrib/terraform/openstack wants flavor IDs ({why}); source your openrc and run `flatcar-kube generate` again, or set each pool's `flavor_id` (`{LIST_COMMAND}` shows the IDs)",
            names.join(", ")
        )
    }
}

/// The IDs found and what could not be resolved.
#[derive(Debug, Clone, Default)]
pub struct FlavorResolution {
    pub ids: FlavorIds,
    pub warnings: Vec<FlavorWarning>,
}

/// Why Nova could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("{0}")]
    Cloud(#[from] CloudError),
    #[error("no answer within {} s", LOOKUP_TIMEOUT.as_secs())]
    TimedOut,
    #[error("cannot start the HTTP runtime: {0}")]
    Runtime(std::io::Error),
}

/// The profile's pools, by key, that name a flavor without an ID (machines only).
fn pools_needing_ids(profile: &Profile) -> Vec<(&'static str, &Pool)> {
    let p = &profile.pools;
    [
        ("control_plane", Some(&p.control_plane)),
        ("workers", Some(&p.workers)),
        ("etcd", p.etcd.as_ref()),
        ("bastion", p.bastion.as_ref()),
    ]
    .into_iter()
    .filter_map(|(key, pool)| pool.map(|pool| (key, pool)))
    .filter(|(_, pool)| pool.count > 0 && pool.flavor_id.is_none() && pool.flavor.is_some())
    .collect()
}

/// Whether the environment (or the profile) names a cloud to ask.
pub fn credentials_present(profile: &Profile, env: &dyn Fn(&str) -> Option<String>) -> bool {
    let set = |key: &str| env(key).is_some_and(|v| !v.trim().is_empty());
    profile.cloud.clouds_yaml_entry.is_some() || set("OS_CLOUD") || set("OS_AUTH_URL")
}

/// A session with the profile's cloud, with the credentials of `env` (`OS_*`, clouds.yaml).
pub fn cloud_session(
    profile: &Profile,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<CloudSession, CloudError> {
    let settings = CloudSettings {
        cloud: profile.cloud.clouds_yaml_entry.clone(),
        region: profile.cloud.region.clone(),
        endpoint_overrides: profile.cloud.endpoint_overrides.clone(),
        ..CloudSettings::default()
    };
    let cloud = auth::resolve(&settings, env)?;
    CloudSession::new(cloud, StopSignal::default())
}

/// Every flavor Nova lists for the credentials of `env` and the profile's cloud settings.
pub fn nova_flavors(
    profile: &Profile,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Flavor>, LookupError> {
    let session = cloud_session(profile, env)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(LookupError::Runtime)?;
    runtime.block_on(async {
        match tokio::time::timeout(LOOKUP_TIMEOUT, Nova::new(&session).flavors()).await {
            Ok(result) => result.map_err(LookupError::from),
            Err(_) => Err(LookupError::TimedOut),
        }
    })
}

/// Resolves the flavor names of `loaded` with `env`'s credentials. A name Nova does not know
/// (or knows twice) is a profile error at the pool's `flavor`; a failed or impossible look-up
/// is a warning, and the names stay.
pub fn resolve(
    loaded: &LoadedProfile,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<FlavorResolution, ProfileErrors> {
    resolve_with(loaded, env, nova_flavors)
}

/// [`resolve`] with the look-up given (tests pass a list).
pub fn resolve_with(
    loaded: &LoadedProfile,
    env: &dyn Fn(&str) -> Option<String>,
    lookup: impl FnOnce(&Profile, &dyn Fn(&str) -> Option<String>) -> Result<Vec<Flavor>, LookupError>,
) -> Result<FlavorResolution, ProfileErrors> {
    let profile = &loaded.profile;
    let needing = pools_needing_ids(profile);
    let mut names: Vec<String> = needing
        .iter()
        .filter_map(|(_, pool)| pool.flavor.clone())
        .collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        return Ok(FlavorResolution::default());
    }
    if !credentials_present(profile, env) {
        return Ok(FlavorResolution {
            ids: FlavorIds::default(),
            warnings: vec![FlavorWarning::Offline { names }],
        });
    }
    let flavors = match lookup(profile, env) {
        Ok(flavors) => flavors,
        Err(e) => {
            return Ok(FlavorResolution {
                ids: FlavorIds::default(),
                warnings: vec![FlavorWarning::LookupFailed {
                    names,
                    reason: e.to_string().trim_end_matches('.').to_string(),
                }],
            })
        }
    };
    let mut by_name = BTreeMap::new();
    let mut problems = Vec::new();
    for (key, pool) in needing {
        let Some(name) = &pool.flavor else { continue };
        let pos = loaded.root.pos_of(&["pools", key, "flavor"]);
        let named: Vec<&Flavor> = flavors.iter().filter(|f| &f.name == name).collect();
        match named.as_slice() {
            [one] => {
                by_name.insert(name.clone(), one.id.clone());
            }
            [] if flavors.iter().any(|f| &f.id == name) => {
                // The profile wrote an ID under `flavor`: it is what the module wants.
                by_name.insert(name.clone(), name.clone());
            }
            [] => {
                let mut known: Vec<&str> = flavors.iter().map(|f| f.name.as_str()).collect();
                known.sort_unstable();
                known.dedup();
                problems.push(Diagnostic {
                    file: loaded.file.clone(),
                    pos,
                    message: format!("Nova has no flavor named `{name}`"),
                    hint: format!(
                        "use one of {} (`{LIST_COMMAND}` lists them)",
                        shorten(&known)
                    ),
                });
            }
            several => {
                let ids: Vec<&str> = several.iter().map(|f| f.id.as_str()).collect();
                problems.push(Diagnostic {
                    file: loaded.file.clone(),
                    pos,
                    message: format!(
                        "{} flavors are named `{name}` (IDs {})",
                        several.len(),
                        ids.join(", ")
                    ),
                    hint: format!("set `flavor_id` under `pools.{key}` to the one you mean"),
                });
            }
        }
    }
    if !problems.is_empty() {
        problems.sort_by_key(|d| (d.pos.line, d.pos.col));
        return Err(ProfileErrors(problems));
    }
    Ok(FlavorResolution {
        ids: FlavorIds { by_name },
        warnings: Vec::new(),
    })
}

/// At most a dozen names, backquoted.
fn shorten(names: &[&str]) -> String {
    const SHOWN: usize = 12;
    let mut out: Vec<String> = names.iter().take(SHOWN).map(|n| format!("`{n}`")).collect();
    if names.len() > SHOWN {
        out.push(format!("and {} more", names.len() - SHOWN));
    }
    if out.is_empty() {
        "the flavors your project may use (Nova listed none)".to_string()
    } else {
        out.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROFILE: &str = "version: 1
name: demo
cloud:
  region: IU
network:
  name: auto_allocated_network
  reuse: true
  external_network: public
access:
  allowed_cidrs: [0.0.0.0/0]
ssh:
  public_key_file: /dev/null
pools:
  control_plane:
    count: 1
    flavor: m3.quad
  workers:
    count: 2
    flavor: m3.medium
  bastion:
    count: 1
    flavor: m3.tiny
    flavor_id: given-id
";

    fn loaded() -> LoadedProfile {
        let (profile, root) = crate::profile::parse(PROFILE, "p.yaml").expect("parses");
        LoadedProfile {
            profile,
            root,
            file: "p.yaml".to_string(),
        }
    }

    fn flavor(id: &str, name: &str) -> Flavor {
        Flavor {
            id: id.to_string(),
            name: name.to_string(),
        }
    }

    fn with_auth_url(key: &str) -> Option<String> {
        (key == "OS_AUTH_URL").then(|| "https://js2.jetstream-cloud.org:5000/v3/".to_string())
    }

    #[test]
    fn offline_names_stay_with_a_warning_and_nothing_is_asked() {
        let r = resolve_with(&loaded(), &|_| None, |_, _| panic!("no look-up offline"))
            .expect("resolves");
        assert_eq!(
            r.warnings,
            vec![FlavorWarning::Offline {
                names: vec!["m3.medium".into(), "m3.quad".into()]
            }]
        );
        let text = r.warnings[0].to_string();
        assert!(
            text.contains("openstack flavor list") && text.contains("`m3.quad`"),
            "{text}"
        );
        let p = loaded().profile;
        assert_eq!(
            r.ids.for_pool(&p.pools.control_plane),
            FlavorValue::Name("m3.quad".into())
        );
        let bastion = p.pools.bastion.as_ref().expect("bastion");
        assert_eq!(r.ids.for_pool(bastion), FlavorValue::Id("given-id".into()));
    }

    #[test]
    fn names_resolve_to_ids_and_unknown_names_are_profile_errors() {
        let r = resolve_with(&loaded(), &with_auth_url, |_, _| {
            Ok(vec![flavor("3", "m3.quad"), flavor("2", "m3.medium")])
        })
        .expect("resolves");
        assert!(r.warnings.is_empty());
        let p = loaded().profile;
        assert_eq!(
            r.ids.for_pool(&p.pools.workers),
            FlavorValue::Id("2".into())
        );

        let e = resolve_with(&loaded(), &with_auth_url, |_, _| {
            Ok(vec![flavor("3", "m3.quad"), flavor("4", "m3.small")])
        })
        .expect_err("m3.medium is unknown");
        let text = e.to_string();
        assert!(
            text.starts_with("p.yaml:19:13: Nova has no flavor named `m3.medium`; use one of `m3.quad`, `m3.small`"),
            "{text}"
        );

        let e = resolve_with(&loaded(), &with_auth_url, |_, _| {
            Ok(vec![
                flavor("2", "m3.medium"),
                flavor("3", "m3.quad"),
                flavor("5", "m3.quad"),
            ])
        })
        .expect_err("m3.quad is ambiguous");
        assert!(
            e.to_string()
                .contains("2 flavors are named `m3.quad` (IDs 3, 5)"),
            "{e}"
        );
    }

    #[test]
    fn a_failed_look_up_is_a_warning() {
        let r = resolve_with(&loaded(), &with_auth_url, |_, _| Err(LookupError::TimedOut))
            .expect("resolves");
        assert!(
            matches!(&r.warnings[..], [FlavorWarning::LookupFailed { reason, .. }] if reason.contains("no answer")),
            "{:?}",
            r.warnings
        );
    }
}
