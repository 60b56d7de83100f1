//! Schemas of providers, resources and data sources, in our own types.

use std::collections::BTreeMap;

use crate::framework::Validator;
use crate::value::{Type, Value};

/// A versioned schema: the top-level block of a provider, resource or data source.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    pub version: i64,
    pub block: Block,
}

#[derive(Debug, Clone, Default)]
pub struct Block {
    pub description: String,
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
    pub deprecated: bool,
}

#[derive(Debug, Clone)]
pub struct Attribute {
    pub name: String,
    pub ty: Type,
    /// Markdown; every attribute has one (docs are generated from it).
    pub description: String,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    pub deprecated: bool,
    /// Behaviours the framework's default plan applies (see `framework::plan`).
    pub behaviour: Behaviour,
    /// What a known value must be, checked by the framework before any resource code runs
    /// (see `framework::validators`).
    pub validators: Vec<Validator>,
}

/// What the default plan does with an attribute, declared on the schema instead of written
/// out in each resource's plan (terraform-plugin-framework's plan modifiers and defaults).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Behaviour {
    /// A change of the value replaces the object.
    pub requires_replace: bool,
    /// Planned when neither the configuration nor the prior state has a value.
    pub default: Option<Value>,
    /// On an in-place update, a computed value the configuration leaves unset keeps the
    /// prior state's value instead of becoming unknown.
    pub use_state_for_unknown: bool,
    /// Accepted in configuration, never stored in plan or state (protocol 6.8 write-only).
    pub write_only: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    Single,
    List,
    Set,
    Map,
    Group,
}

#[derive(Debug, Clone)]
pub struct NestedBlock {
    pub type_name: String,
    pub block: Block,
    pub nesting: Nesting,
    pub min_items: i64,
    pub max_items: i64,
    /// A change of any block replaces the object.
    pub requires_replace: bool,
}

impl Attribute {
    fn new(name: &str, ty: Type, description: &str) -> Attribute {
        Attribute {
            name: name.to_string(),
            ty,
            description: description.to_string(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            deprecated: false,
            behaviour: Behaviour::default(),
            validators: Vec::new(),
        }
    }
    /// Must be set in configuration.
    pub fn required(name: &str, ty: Type, description: &str) -> Attribute {
        Attribute {
            required: true,
            ..Attribute::new(name, ty, description)
        }
    }
    /// May be set; null otherwise.
    pub fn optional(name: &str, ty: Type, description: &str) -> Attribute {
        Attribute {
            optional: true,
            ..Attribute::new(name, ty, description)
        }
    }
    /// Set by the provider only.
    pub fn computed(name: &str, ty: Type, description: &str) -> Attribute {
        Attribute {
            computed: true,
            ..Attribute::new(name, ty, description)
        }
    }
    /// May be set; the provider fills in a default otherwise.
    pub fn optional_computed(name: &str, ty: Type, description: &str) -> Attribute {
        Attribute {
            optional: true,
            computed: true,
            ..Attribute::new(name, ty, description)
        }
    }
    pub fn sensitive(self) -> Attribute {
        Attribute {
            sensitive: true,
            ..self
        }
    }
    /// A change replaces the object.
    pub fn requires_replace(mut self) -> Attribute {
        self.behaviour.requires_replace = true;
        self
    }
    /// The value planned when neither configuration nor state has one; makes the attribute
    /// optional and computed (Terraform's rule for provider-filled values).
    pub fn default(mut self, value: impl Into<Value>) -> Attribute {
        self.behaviour.default = Some(value.into());
        self.optional = true;
        self.required = false;
        self.computed = true;
        self
    }
    /// Keeps the prior value of this computed attribute on in-place updates.
    pub fn use_state_for_unknown(mut self) -> Attribute {
        self.behaviour.use_state_for_unknown = true;
        self
    }
    /// Adds a rule the known value must satisfy; the framework checks it at the attribute's
    /// path and the docs state it.
    pub fn validate(mut self, validator: Validator) -> Attribute {
        self.validators.push(validator);
        self
    }
    /// Never stored in plan or state; implies sensitive.
    pub fn write_only(mut self) -> Attribute {
        self.behaviour.write_only = true;
        self.sensitive = true;
        self
    }
}

impl NestedBlock {
    /// A block that may appear any number of times (at least `min_items`).
    pub fn list(type_name: &str, block: Block, min_items: i64) -> NestedBlock {
        NestedBlock {
            type_name: type_name.to_string(),
            block,
            nesting: Nesting::List,
            min_items,
            max_items: 0,
            requires_replace: false,
        }
    }
    /// A block that appears at most once.
    pub fn single(type_name: &str, block: Block) -> NestedBlock {
        NestedBlock {
            type_name: type_name.to_string(),
            block,
            nesting: Nesting::Single,
            min_items: 0,
            max_items: 0,
            requires_replace: false,
        }
    }
    /// A change of the blocks replaces the object.
    pub fn requires_replace(mut self) -> NestedBlock {
        self.requires_replace = true;
        self
    }
}

impl Block {
    /// The object type of values of this block.
    pub fn value_type(&self) -> Type {
        let mut attrs: BTreeMap<String, Type> = self
            .attributes
            .iter()
            .map(|a| (a.name.clone(), a.ty.clone()))
            .collect();
        for nested in &self.blocks {
            let obj = nested.block.value_type();
            let ty = match nested.nesting {
                Nesting::Single | Nesting::Group => obj,
                Nesting::List => Type::list(obj),
                Nesting::Set => Type::set(obj),
                Nesting::Map => Type::map(obj),
            };
            attrs.insert(nested.type_name.clone(), ty);
        }
        Type::Object(attrs)
    }

    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// Replaces null computed attributes of `planned` with unknown: what a create or an
    /// update that changes them must plan. Nested blocks are left alone.
    pub fn mark_computed_unknown(&self, planned: &mut Value, config: &Value) {
        for attr in self.attributes.iter().filter(|a| a.computed) {
            if config.get(&attr.name).is_null() && planned.get(&attr.name).is_null() {
                planned.set(&attr.name, Value::Unknown);
            }
        }
    }
}

impl Schema {
    pub fn new(version: i64, block: Block) -> Schema {
        Schema { version, block }
    }
    pub fn value_type(&self) -> Type {
        self.block.value_type()
    }
}
