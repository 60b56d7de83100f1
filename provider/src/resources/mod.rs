//! Managed resources of the provider, one file each (schema, model, CRUD glue), and the
//! Ignition check `flatcar_instance` runs at plan time.

pub mod ignition;
pub mod image;
pub mod instance;
