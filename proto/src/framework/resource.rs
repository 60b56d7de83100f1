//! [`TypedResource`]: a resource written as schema + model + create/read/update/delete/
//! import. A blanket impl turns it into the dynamic [`Resource`] the gRPC server serves:
//! values are decoded into the model, the plan is derived from the schema's declared
//! behaviours, the apply is dispatched on nulls, write-only values reach create/update but
//! never the state, and a result that still holds unknown values is reported.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::codec::{from_value, to_value};
use super::{plan, validators};
use crate::diagnostics::{AttributePath, Diagnostic, Diagnostics};
use crate::provider::{ApplyRequest, ApplyResponse, PlanRequest, PlanResponse, Resource};
use crate::schema::{Block, Schema};
use crate::value::{Type, Value};

#[async_trait]
pub trait TypedResource: Send + Sync + 'static {
    /// The resource's attributes and blocks, one field each (`Attr<_>` fields; nested
    /// blocks as `Attr<Vec<_>>` or `Attr<_>`). Use `#[serde(deny_unknown_fields)]`.
    type Model: Serialize + DeserializeOwned + Send + Sync + 'static;

    fn type_name(&self) -> &'static str;
    /// The schema, with behaviours declared (requires replace, defaults, ...). It must not
    /// change within a process (the server announces a cacheable schema): the blanket impl
    /// builds it once per resource type.
    fn schema(&self) -> Schema;
    /// Checks beyond the schema and the `timeouts` block; any value may be unknown.
    async fn validate(&self, _config: Self::Model) -> Diagnostics {
        Diagnostics::default()
    }
    /// Creates the object. On error nothing may be left behind (the state stays empty).
    async fn create(&self, planned: Self::Model) -> Result<Self::Model, Diagnostics>;
    /// The object as it is now; `None` when it is gone.
    async fn read(&self, state: Self::Model) -> Result<Option<Self::Model>, Diagnostics>;
    /// Changes the object in place. On error the prior state is kept.
    async fn update(
        &self,
        prior: Self::Model,
        planned: Self::Model,
    ) -> Result<Self::Model, Diagnostics>;
    /// Deletes the object and waits until it is gone. On error the prior state is kept.
    async fn delete(&self, prior: Self::Model) -> Result<(), Diagnostics>;
    /// The state of an existing object from its ID.
    async fn import(&self, id: &str) -> Result<Self::Model, Diagnostics>;
}

/// A resource or data source type's schema and the value type derived from it, built once
/// per process: validate, plan, apply and read run for every object of every plan, and
/// rebuilding the schema (descriptions and all) for each call is work on the hot path.
pub(super) struct Described {
    pub(super) schema: Schema,
    pub(super) ty: Type,
}

/// The described schema of type `T`, built by `build` on first use.
pub(super) fn described_as<T: 'static>(build: impl FnOnce() -> Schema) -> Arc<Described> {
    static CACHE: OnceLock<Mutex<HashMap<TypeId, Arc<Described>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let mut cache = cache
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    Arc::clone(cache.entry(TypeId::of::<T>()).or_insert_with(|| {
        let schema = build();
        let ty = schema.value_type();
        Arc::new(Described { schema, ty })
    }))
}

fn described<R: TypedResource>(resource: &R) -> Arc<Described> {
    described_as::<R>(|| TypedResource::schema(resource))
}

/// A collection of plain values (strings, numbers, ...) with an unknown element is unknown
/// as a whole to a model: `Attr<Vec<String>>` has no place for one unknown element (e.g.
/// `security_groups = [flatcar_security_group.new.id]` at plan time). Collections of objects
/// keep their elements: object fields are `Attr`s themselves.
fn collapse_partly_unknown(value: &mut Value, ty: &Type) {
    match (ty, &mut *value) {
        (Type::Object(attrs), Value::Map(items)) => {
            for (name, attr_ty) in attrs {
                if let Some(item) = items.get_mut(name) {
                    collapse_partly_unknown(item, attr_ty);
                }
            }
        }
        (Type::List(elem) | Type::Set(elem), Value::List(items)) => {
            if matches!(**elem, Type::Object(_)) {
                items
                    .iter_mut()
                    .for_each(|i| collapse_partly_unknown(i, elem));
            } else if !items.iter().all(Value::is_wholly_known) {
                *value = Value::Unknown;
            }
        }
        (Type::Map(elem), Value::Map(items)) => {
            if matches!(**elem, Type::Object(_)) {
                items
                    .values_mut()
                    .for_each(|i| collapse_partly_unknown(i, elem));
            } else if !items.values().all(Value::is_wholly_known) {
                *value = Value::Unknown;
            }
        }
        _ => {}
    }
}

/// The declared validators' diagnostics for a configuration, and its model for the checks
/// that relate attributes (values that failed a validator are unknown in it: not judged
/// twice). No model when the configuration does not decode (reported in the diagnostics).
pub(super) fn checked_model<M: DeserializeOwned>(
    type_name: &str,
    schema: &Schema,
    ty: &Type,
    config: &Value,
) -> (Diagnostics, Option<M>) {
    let mut config = config.clone();
    let mut diags = validators::check(&schema.block, &mut config);
    match decode(type_name, "configuration", &config, ty) {
        Ok(model) => (diags, Some(model)),
        Err(d) => {
            diags.extend(d);
            (diags, None)
        }
    }
}

/// A value as the resource's model; a mismatch is a bug of the provider, reported as such.
pub(super) fn decode<M: DeserializeOwned>(
    type_name: &str,
    what: &str,
    value: &Value,
    ty: &Type,
) -> Result<M, Diagnostics> {
    let mut value = value.clone();
    collapse_partly_unknown(&mut value, ty);
    from_value(value).map_err(|e| {
        if e.user_input {
            // A fraction where a whole number belongs: the configuration's mistake.
            let root = e.path.split(['.', '[']).next().unwrap_or_default();
            return Diagnostic::error(
                "Not a whole number",
                format!(
                    "{type_name} `{}`: {}. Write a whole number, e.g. 22.",
                    e.path, e.message
                ),
            )
            .at(AttributePath::root(root))
            .into();
        }
        Diagnostic::error(
            "Provider bug: value does not match the resource model",
            format!("{type_name} {what}: {e}. Please report this."),
        )
        .into()
    })
}

pub(super) fn encode<M: Serialize>(
    type_name: &str,
    what: &str,
    model: &M,
) -> Result<Value, Diagnostics> {
    to_value(model).map_err(|e| {
        Diagnostic::error(
            "Provider bug: model cannot be written as a value",
            format!("{type_name} {what}: {e}. Please report this."),
        )
        .into()
    })
}

/// Copies the configuration's write-only values into `planned`, where create and update
/// can read them.
fn with_write_only(block: &Block, planned: &Value, config: &Value) -> Value {
    let mut out = planned.clone();
    for attr in block.attributes.iter().filter(|a| a.behaviour.write_only) {
        out.set(&attr.name, config.get(&attr.name).clone());
    }
    out
}

/// Removes write-only values and checks that nothing is left unknown after apply.
fn finish_state(type_name: &str, block: &Block, mut state: Value) -> Result<Value, Diagnostics> {
    for attr in block.attributes.iter().filter(|a| a.behaviour.write_only) {
        state.set(&attr.name, Value::Null);
    }
    if let Value::Map(attrs) = &state {
        if let Some((name, _)) = attrs.iter().find(|(_, v)| !v.is_wholly_known()) {
            return Err(Diagnostic::error(
                "Provider bug: unknown value after apply",
                format!("{type_name}.{name} is still unknown after apply. Please report this."),
            )
            .into());
        }
    }
    Ok(state)
}

#[async_trait]
impl<R: TypedResource> Resource for R {
    fn type_name(&self) -> &'static str {
        TypedResource::type_name(self)
    }

    fn schema(&self) -> Schema {
        TypedResource::schema(self)
    }

    async fn validate(&self, config: &Value) -> Diagnostics {
        let name = TypedResource::type_name(self);
        let described = described(self);
        let (mut diags, model) = checked_model(name, &described.schema, &described.ty, config);
        if let Some(model) = model {
            diags.extend(TypedResource::validate(self, model).await);
        }
        diags
    }

    async fn plan(&self, request: PlanRequest<'_>) -> PlanResponse {
        let described = described(self);
        let derived = plan::derive(
            &described.schema.block,
            request.prior_state,
            request.proposed_new_state,
            request.config,
        );
        PlanResponse {
            planned_state: derived.planned,
            requires_replace: derived.requires_replace,
            ..PlanResponse::default()
        }
    }

    async fn apply(&self, request: ApplyRequest<'_>) -> ApplyResponse {
        let name = TypedResource::type_name(self);
        let described = described(self);
        let (ty, block) = (&described.ty, &described.schema.block);
        let (prior, planned) = (request.prior_state, request.planned_state);
        if planned.is_null() {
            let result = async {
                let model = decode(name, "prior state", prior, ty)?;
                TypedResource::delete(self, model).await
            }
            .await;
            return ApplyResponse::from_result(result.map(|()| Value::Null), prior.clone());
        }
        let planned = with_write_only(block, planned, request.config);
        let (result, state_on_error) = if prior.is_null() {
            let result = async {
                let model = decode(name, "planned state", &planned, ty)?;
                let created = TypedResource::create(self, model).await?;
                encode(name, "new state", &created)
            }
            .await;
            (result, Value::Null)
        } else {
            let result = async {
                let before = decode(name, "prior state", prior, ty)?;
                let after = decode(name, "planned state", &planned, ty)?;
                let updated = TypedResource::update(self, before, after).await?;
                encode(name, "new state", &updated)
            }
            .await;
            (result, prior.clone())
        };
        let result = result.and_then(|state| finish_state(name, block, state));
        ApplyResponse::from_result(result, state_on_error)
    }

    async fn read(&self, state: &Value) -> Result<Value, Diagnostics> {
        let name = TypedResource::type_name(self);
        let model = decode(name, "state", state, &described(self).ty)?;
        match TypedResource::read(self, model).await? {
            Some(current) => encode(name, "refreshed state", &current),
            None => Ok(Value::Null),
        }
    }

    async fn import(&self, id: &str) -> Result<Value, Diagnostics> {
        let name = TypedResource::type_name(self);
        let model = TypedResource::import(self, id).await?;
        encode(name, "imported state", &model)
    }
}

/// For a resource's unit tests: the model has exactly the schema's attributes and blocks
/// (a field missing, misnamed or extra fails with its name).
pub fn check_model<M: Serialize + DeserializeOwned>(schema: &Schema) -> Result<(), String> {
    let empty = empty_object(&schema.block);
    let model: M = from_value(empty.clone()).map_err(|e| format!("decoding: {e}"))?;
    let back = to_value(&model).map_err(|e| format!("encoding: {e}"))?;
    let keys = |v: &Value| match v {
        Value::Map(m) => m.keys().cloned().collect::<Vec<_>>(),
        _ => Vec::new(),
    };
    if keys(&back) != keys(&empty) {
        return Err(format!(
            "model attributes {:?} differ from schema attributes {:?}",
            keys(&back),
            keys(&empty)
        ));
    }
    Ok(())
}

fn empty_object(block: &Block) -> Value {
    let mut attrs: Vec<(String, Value)> = block
        .attributes
        .iter()
        .map(|a| (a.name.clone(), Value::Null))
        .collect();
    for nested in &block.blocks {
        attrs.push((nested.type_name.clone(), Value::Null));
    }
    Value::object(attrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_of_strings_with_an_unknown_element_is_unknown_but_blocks_keep_their_objects() {
        let ty = Type::object([
            ("groups", Type::set(Type::String)),
            ("tags", Type::map(Type::String)),
            (
                "network",
                Type::list(Type::object([("uuid", Type::String)])),
            ),
        ]);
        let mut value = Value::object([
            (
                "groups",
                Value::List(vec![Value::string("a"), Value::Unknown]),
            ),
            ("tags", Value::object([("k", Value::string("v"))])),
            (
                "network",
                Value::List(vec![Value::object([("uuid", Value::Unknown)])]),
            ),
        ]);
        collapse_partly_unknown(&mut value, &ty);
        assert_eq!(value.get("groups"), &Value::Unknown);
        assert_eq!(
            value.get("tags"),
            &Value::object([("k", Value::string("v"))])
        );
        assert_eq!(
            value.get("network"),
            &Value::List(vec![Value::object([("uuid", Value::Unknown)])])
        );
    }
}
