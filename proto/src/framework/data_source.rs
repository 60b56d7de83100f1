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

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;
    use crate::framework::{Attr, Validator};
    use crate::schema::{Attribute, Block};
    use crate::value::Type;
    use crate::Diagnostic;

    crate::string_enum!(
        enum Flavour {
            #[default]
            Plain = "plain",
            Salted = "salted",
        }
    );

    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Model {
        flavour: Attr<Flavour>,
        count: Attr<i64>,
        id: Attr<String>,
    }

    struct Snack;

    #[async_trait]
    impl TypedDataSource for Snack {
        type Model = Model;
        fn type_name(&self) -> &'static str {
            "test_snack"
        }
        fn schema(&self) -> Schema {
            Schema::new(
                0,
                Block {
                    attributes: vec![
                        Attribute::optional("flavour", Type::String, "d")
                            .validate(Validator::one_of::<Flavour>()),
                        Attribute::optional("count", Type::Number, "d")
                            .validate(Validator::Between(1, 9)),
                        Attribute::computed("id", Type::String, "d"),
                    ],
                    ..Block::default()
                },
            )
        }
        async fn validate(&self, config: Model) -> Diagnostics {
            // Cross-attribute: a failed validator leaves the value unknown here.
            let mut diags = Diagnostics::default();
            if config.flavour.is_unknown() && config.count.is_unknown() {
                diags.push(Diagnostic::warning("both unknown", ""));
            }
            diags
        }
        async fn read(&self, mut config: Model) -> Result<Model, Diagnostics> {
            let flavour = config.flavour.known_or_default();
            config.id = format!("{flavour}-{}", config.count.known_or(1)).into();
            config.flavour = Attr::Known(flavour);
            Ok(config)
        }
    }

    fn config(flavour: Value, count: Value) -> Value {
        Value::object([("flavour", flavour), ("count", count), ("id", Value::Null)])
    }

    #[tokio::test]
    async fn validators_run_before_the_typed_check_and_read_fills_the_model() {
        let snack = Snack;
        let bad = config(Value::string("Salted"), Value::Number(12.into()));
        let diags = DataSource::validate(&snack, &bad).await;
        let summaries: Vec<&str> = diags.0.iter().map(|d| d.summary.as_str()).collect();
        assert_eq!(
            summaries,
            ["Invalid flavour", "Invalid count", "both unknown"]
        );
        let good = config(Value::Null, Value::Number(3.into()));
        assert!(DataSource::validate(&snack, &good).await.is_empty());
        let state = DataSource::read(&snack, &good).await.expect("read");
        assert_eq!(state.get("id"), &Value::string("plain-3"));
        assert_eq!(state.get("flavour"), &Value::string("plain"));
    }
}
