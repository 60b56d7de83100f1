//! Managed resources of the provider, one folder each (`model`: schema and typed model;
//! `mod`: CRUD glue), and the
//! Ignition check `flatcar_instance` runs at plan time.

pub mod dns_record;
pub mod floating_ip;
pub mod ignition;
pub mod image;
pub mod instance;
pub mod security_group;
