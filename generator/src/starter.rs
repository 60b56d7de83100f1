//! The commented starter profiles `flatcar-kube init` prints; each is a valid profile once the
//! public key file it names exists (tests generate from them).

/// Which cloud a starter profile is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StarterCloud {
    /// Jetstream2: application credentials, `auto_allocated_network`, `public` floating IPs, m3 flavors.
    Jetstream2,
    /// Any OpenStack: a new network and router, password authentication.
    Generic,
}

/// The starter profile's text.
pub fn starter(cloud: StarterCloud) -> &'static str {
    match cloud {
        StarterCloud::Jetstream2 => include_str!("../templates/starter-jetstream2.yaml"),
        StarterCloud::Generic => include_str!("../templates/starter-generic.yaml"),
    }
}
