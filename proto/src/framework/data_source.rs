//! [`TypedDataSource`]: a data source written as schema + model + read. A blanket impl turns
//! it into the dynamic [`DataSource`] the gRPC server serves: the declared validators run on
//! the configuration, the configuration is decoded into the model, and the model read returns
//! is encoded as the new state.

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::resource::{checked_model, decode, described_as, encode};
use crate::diagnostics::Diagnostics;
use crate::provider::DataSource;
use crate::schema::Schema;
use crate::value::Value;

#[async_trait]
pub trait TypedDataSource: Send + Sync + 'static {
    /// The data source's attributes, one `Attr<_>` field each (configured and computed alike).
    /// Use `#[serde(deny_unknown_fields)]`.
    type Model: Serialize + DeserializeOwned + Send + Sync + 'static;

    fn type_name(&self) -> &'static str;
    /// The schema, with validators declared; built once per process.
    fn schema(&self) -> Schema;
    /// Checks that relate attributes (declared validators have run); values may be unknown.
    async fn validate(&self, _config: Self::Model) -> Diagnostics {
        Diagnostics::default()
    }
    /// Reads: the configuration (wholly known) with its computed attributes filled in.
    async fn read(&self, config: Self::Model) -> Result<Self::Model, Diagnostics>;
}

#[async_trait]
impl<D: TypedDataSource> DataSource for D {
    fn type_name(&self) -> &'static str {
        TypedDataSource::type_name(self)
    }

    fn schema(&self) -> Schema {
        TypedDataSource::schema(self)
    }

    async fn validate(&self, config: &Value) -> Diagnostics {
        let name = TypedDataSource::type_name(self);
        let described = described_as::<D>(|| TypedDataSource::schema(self));
        let (mut diags, model) = checked_model(name, &described.schema, &described.ty, config);
        if let Some(model) = model {
            diags.extend(TypedDataSource::validate(self, model).await);
        }
        diags
    }

    async fn read(&self, config: &Value) -> Result<Value, Diagnostics> {
        let name = TypedDataSource::type_name(self);
        let described = described_as::<D>(|| TypedDataSource::schema(self));
        let model = decode(name, "configuration", config, &described.ty)?;
        let state = TypedDataSource::read(self, model).await?;
        encode(name, "state", &state)
    }
}
