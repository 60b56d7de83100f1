//! What the provider's resources and data sources share: the HTTP client, the stop signal,
//! the configuration once Terraform has sent it, and the cloud session, made on first use.

use std::sync::{Arc, RwLock};

use flatcar_cloud::http::{HttpClient, StopSignal};
use flatcar_cloud::openstack::{auth, CloudSession};
use tfplugin::{Diagnostic, Diagnostics};

use crate::config::ProviderConfig;
use crate::errors;

pub struct ProviderState {
    pub http: HttpClient,
    pub stop: StopSignal,
    /// The workspace this process works for ([`crate::workspace`]): part of every create marker.
    pub owner: String,
    configured: RwLock<Option<Arc<ProviderConfig>>>,
    cloud: tokio::sync::Mutex<Option<Arc<CloudSession>>>,
}

impl ProviderState {
    pub fn new() -> anyhow::Result<ProviderState> {
        let stop = StopSignal::default();
        Ok(ProviderState {
            http: HttpClient::new(stop.clone())?,
            stop,
            owner: crate::workspace::current(),
            configured: RwLock::new(None),
            cloud: tokio::sync::Mutex::new(None),
        })
    }

    /// Stores the validated provider block (ConfigureProvider).
    pub fn configure(&self, config: ProviderConfig) {
        if let Ok(mut slot) = self.configured.write() {
            *slot = Some(Arc::new(config));
        }
    }

    pub fn config(&self) -> Result<Arc<ProviderConfig>, Diagnostics> {
        self.configured
            .read()
            .ok()
            .and_then(|c| c.clone())
            .ok_or_else(|| Diagnostic::error("Provider not configured", "Terraform did not configure the provider before using it; this is a bug, please report it.").into())
    }

    /// The cloud session, created on first use: configurations that never touch the cloud
    /// need no credentials.
    pub async fn cloud(&self) -> Result<Arc<CloudSession>, Diagnostics> {
        let mut slot = self.cloud.lock().await;
        if let Some(session) = slot.as_ref() {
            return Ok(Arc::clone(session));
        }
        let config = self.config()?;
        let env = |k: &str| std::env::var(k).ok();
        let session = auth::resolve(&config.cloud, &env)
            .and_then(|profile| CloudSession::new(profile, self.stop.clone()))
            .map_err(|e| Diagnostics::from(errors::cloud(&e, "OpenStack is not configured")))?;
        let session = Arc::new(session);
        *slot = Some(Arc::clone(&session));
        Ok(session)
    }
}
