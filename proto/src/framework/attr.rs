//! [`Attr`]: one attribute of a typed model, known, null or unknown ("known after apply").

use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, Visitor};
use serde::ser::{Serialize, Serializer};

/// Name by which an [`Attr`] asks the value codec to tell null, unknown and known apart.
pub(crate) const ATTR_MARKER: &str = "$tfplugin::Attr";
/// Name of the unit struct an unknown [`Attr`] serializes to.
pub(crate) const UNKNOWN_MARKER: &str = "$tfplugin::Unknown";

/// An attribute value as Terraform sees it. Every field of a model is one, so a model can
/// hold a configuration (anything may be unknown at plan time), a plan ("known after
/// apply") and a state alike.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Attr<T> {
    #[default]
    Null,
    /// Not known until apply.
    Unknown,
    Known(T),
}

impl<T> Attr<T> {
    /// The value, when known.
    pub fn known(&self) -> Option<&T> {
        match self {
            Attr::Known(v) => Some(v),
            _ => None,
        }
    }

    pub fn into_known(self) -> Option<T> {
        match self {
            Attr::Known(v) => Some(v),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Attr::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Attr::Unknown)
    }

    /// The known value, or `default` when null or unknown.
    pub fn known_or(&self, default: T) -> T
    where
        T: Clone,
    {
        self.known().cloned().unwrap_or(default)
    }
}

impl<T: Clone + Default> Attr<T> {
    /// The known value, or `T::default()` (for a [`StringEnum`](super::StringEnum), the
    /// schema's default) when null or unknown.
    pub fn known_or_default(&self) -> T {
        self.known().cloned().unwrap_or_default()
    }
}

impl Attr<String> {
    /// The string, when known.
    pub fn as_str(&self) -> Option<&str> {
        self.known().map(String::as_str)
    }

    /// The known string, or `default` when null or unknown.
    pub fn str_or<'a>(&'a self, default: &'a str) -> &'a str {
        self.as_str().unwrap_or(default)
    }
}

impl<T> Attr<Vec<T>> {
    /// The known elements; none when null or unknown.
    pub fn items(&self) -> &[T] {
        self.known().map(Vec::as_slice).unwrap_or(&[])
    }

    /// The known elements, to change in place; none when null or unknown.
    pub fn items_mut(&mut self) -> &mut [T] {
        match self {
            Attr::Known(items) => items.as_mut_slice(),
            _ => &mut [],
        }
    }
}

impl<T> From<Option<T>> for Attr<T> {
    fn from(v: Option<T>) -> Attr<T> {
        v.map(Attr::Known).unwrap_or(Attr::Null)
    }
}

impl From<&str> for Attr<String> {
    fn from(v: &str) -> Attr<String> {
        Attr::Known(v.to_string())
    }
}

impl From<String> for Attr<String> {
    fn from(v: String) -> Attr<String> {
        Attr::Known(v)
    }
}

impl<T: Serialize> Serialize for Attr<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Attr::Null => serializer.serialize_none(),
            Attr::Unknown => serializer.serialize_unit_struct(UNKNOWN_MARKER),
            Attr::Known(v) => serializer.serialize_some(v),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Attr<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Attr<T>, D::Error> {
        deserializer.deserialize_newtype_struct(ATTR_MARKER, AttrVisitor(PhantomData))
    }
}

/// Our value codec answers `unit` for unknown, `none` for null and `some` for a known value;
/// other formats (JSON) call `newtype_struct` or `none`.
struct AttrVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for AttrVisitor<T> {
    type Value = Attr<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Terraform value (known, null or unknown)")
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Attr<T>, E> {
        Ok(Attr::Unknown)
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Attr<T>, E> {
        Ok(Attr::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Attr<T>, D::Error> {
        T::deserialize(d).map(Attr::Known)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Attr<T>, D::Error> {
        T::deserialize(d).map(Attr::Known)
    }
}
