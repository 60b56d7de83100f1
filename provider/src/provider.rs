//! The Flatcar provider: its schema, its configuration and the resources and data sources
//! it serves.

use std::sync::Arc;

use async_trait::async_trait;
use tfplugin::{DataSource, Diagnostics, Function, Resource, Schema, Value};

use crate::config;
use crate::data_sources::release::ReleaseDataSource;
use crate::functions::butane::ButaneFunction;
use crate::resources::dns_record::DnsRecordResource;
use crate::resources::floating_ip::FloatingIpResource;
use crate::resources::image::ImageResource;
use crate::resources::instance::InstanceResource;
use crate::resources::security_group::SecurityGroupResource;
use crate::state::ProviderState;

pub struct FlatcarProvider {
    state: Arc<ProviderState>,
}

impl FlatcarProvider {
    pub fn new() -> anyhow::Result<FlatcarProvider> {
        Ok(FlatcarProvider {
            state: Arc::new(ProviderState::new()?),
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
            Arc::new(SecurityGroupResource {
                state: Arc::clone(&self.state),
            }),
            Arc::new(FloatingIpResource {
                state: Arc::clone(&self.state),
            }),
            Arc::new(DnsRecordResource {
                state: Arc::clone(&self.state),
            }),
        ]
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        vec![Arc::new(ReleaseDataSource {
            state: Arc::clone(&self.state),
        })]
    }

    fn functions(&self) -> Vec<Arc<dyn Function>> {
        vec![Arc::new(ButaneFunction)]
    }

    async fn validate(&self, config: &Value) -> Diagnostics {
        config::validate(config)
    }

    async fn configure(&self, config: &Value, _terraform_version: &str) -> Diagnostics {
        // Terraform configures the provider at the start of every run; only a provider that
        // serves several runs (`--debug`) can have been stopped before.
        self.state.stop.resume();
        match config::configure(config) {
            Ok(configured) => {
                self.state.configure(configured);
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
