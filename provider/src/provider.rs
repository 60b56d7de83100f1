//! The Flatcar provider: its schema, configuration and the state its resources share.

use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use tfplugin::{DataSource, Diagnostic, Diagnostics, Resource, Schema, Value};

use crate::config::{self, ProviderConfig};
use crate::data_sources::release::ReleaseDataSource;
use crate::http::{HttpClient, StopSignal};
use crate::openstack::{auth, CloudSession};
use crate::resources::image::ImageResource;
use crate::resources::instance::InstanceResource;

/// Source address of this provider.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/flatcar-kube/flatcar";

/// What resources and data sources share: the HTTP client, the stop signal and the
/// configuration once Terraform has sent it.
pub struct ProviderState {
    pub http: HttpClient,
    pub stop: StopSignal,
    configured: RwLock<Option<Arc<ProviderConfig>>>,
    cloud: tokio::sync::Mutex<Option<Arc<CloudSession>>>,
}

impl ProviderState {
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
            .map_err(|e| Diagnostics::from(e.to_diagnostic("OpenStack is not configured")))?;
        let session = Arc::new(session);
        *slot = Some(Arc::clone(&session));
        Ok(session)
    }
}

pub struct FlatcarProvider {
    state: Arc<ProviderState>,
}

impl FlatcarProvider {
    pub fn new() -> anyhow::Result<FlatcarProvider> {
        let stop = StopSignal::default();
        Ok(FlatcarProvider {
            state: Arc::new(ProviderState {
                http: HttpClient::new(stop.clone())?,
                stop,
                configured: RwLock::new(None),
                cloud: tokio::sync::Mutex::new(None),
            }),
        })
    }
}

#[async_trait]
impl tfplugin::Provider for FlatcarProvider {
    fn schema(&self) -> Schema {
        config::schema()
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![
            Arc::new(ImageResource {
                state: Arc::clone(&self.state),
            }),
            Arc::new(InstanceResource::new(Arc::clone(&self.state))),
        ]
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        vec![Arc::new(ReleaseDataSource {
            state: Arc::clone(&self.state),
        })]
    }

    async fn validate(&self, config: &Value) -> Diagnostics {
        config::validate(config)
    }

    async fn configure(&self, config: &Value, _terraform_version: &str) -> Diagnostics {
        match config::configure(config) {
            Ok(configured) => {
                if let Ok(mut slot) = self.state.configured.write() {
                    *slot = Some(Arc::new(configured));
                }
                Diagnostics::default()
            }
            Err(d) => d,
        }
    }

    async fn stop(&self) -> Result<(), String> {
        tracing::info!("stop requested: cancelling retries and waits");
        self.state.stop.stop();
        Ok(())
    }
}
