//! Provider-defined functions (`provider::flatcar::<name>(...)`), one file each.

pub mod butane;
