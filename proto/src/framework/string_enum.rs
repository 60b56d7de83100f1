//! Typed enum attributes: a string attribute with a fixed list of values is a Rust enum in
//! the model ([`string_enum!`](crate::string_enum)), and the same list feeds the schema's
//! `OneOf` validator ([`Validator::one_of`](super::Validator::one_of)) and the docs.

/// A string attribute whose values are a fixed list: a Rust enum in the model (serde renames
/// to these strings), declared on the schema with
/// [`Validator::one_of`](super::Validator::one_of), so the list is written once.
pub trait StringEnum: Sized + Copy + 'static {
    /// Every accepted string, in the order the docs list them.
    const VALUES: &'static [&'static str];
    /// The string of this value, one of [`Self::VALUES`].
    fn as_str(self) -> &'static str;
}

/// Defines a `StringEnum`: the enum, its serde form (the strings), `FromStr`, `Display` and its
/// `VALUES`. The variant marked `#[default]` is the schema default and the model's fallback,
/// so the default is written once too.
#[macro_export]
macro_rules! string_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
        $vis enum $name { $($(#[$vmeta])* #[serde(rename = $text)] $variant),+ }
        impl $crate::framework::StringEnum for $name {
            const VALUES: &'static [&'static str] = &[$($text),+];
            fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }
        impl ::std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(format!("{s:?} is not one of {}", [$($text),+].join(", "))),
                }
            }
        }
        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str($crate::framework::StringEnum::as_str(*self))
            }
        }
    };
}
