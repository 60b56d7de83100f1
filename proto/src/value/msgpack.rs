//! MessagePack codec for values, as Terraform core writes and reads them.
//!
//! Unknown is the extension type 0 (`d4 00 00`); any extension we read (including the
//! refined unknowns of extension type 12) decodes as unknown. Values in `dynamic`
//! positions are a two-element array: the type's JSON description, then the value.

use std::collections::BTreeMap;

use rmp::Marker;

use super::{child_path, describe, CodecError, Number, Type, Value};

/// Encodes `value` as a value of type `ty`.
pub fn encode_msgpack(value: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::with_capacity(64);
    encode(&mut out, value, ty, "")?;
    Ok(out)
}

/// Decodes a value of type `ty`; the whole input must be one value.
pub fn decode_msgpack(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    let mut reader = Reader { buf: bytes, pos: 0 };
    let value = reader.value(ty, "")?;
    match bytes.len() - reader.pos {
        0 => Ok(value),
        n => Err(CodecError::Trailing(n)),
    }
}

fn mismatch(path: &str, ty: &Type, value: &Value) -> CodecError {
    CodecError::Mismatch {
        path: path.to_string(),
        expected: ty.name(),
        found: describe(value).to_string(),
    }
}

// Writes into a Vec cannot fail; rmp's error type only reports I/O errors.
fn encode(out: &mut Vec<u8>, value: &Value, ty: &Type, path: &str) -> Result<(), CodecError> {
    match (value, ty) {
        (Value::Unknown, _) => out.extend_from_slice(&[0xd4, 0, 0]),
        (Value::Null, _) => out.push(0xc0),
        (Value::Dynamic(inner_ty, inner), Type::Dynamic) => {
            let _ = rmp::encode::write_array_len(out, 2);
            let _ = rmp::encode::write_bin(out, &inner_ty.to_json_bytes());
            encode(out, inner, inner_ty, path)?;
        }
        (Value::String(s), Type::String) => {
            let _ = rmp::encode::write_str(out, s);
        }
        (Value::Number(n), Type::Number) => match n.as_i64() {
            Some(i) => {
                let _ = rmp::encode::write_sint(out, i);
            }
            None => {
                let _ = rmp::encode::write_f64(out, n.as_f64());
            }
        },
        (Value::Bool(b), Type::Bool) => {
            let _ = rmp::encode::write_bool(out, *b);
        }
        (Value::List(items), Type::List(elem) | Type::Set(elem)) => {
            let _ = rmp::encode::write_array_len(out, items.len() as u32);
            for (i, item) in items.iter().enumerate() {
                encode(out, item, elem, &child_path(path, &format!("[{i}]")))?;
            }
        }
        (Value::List(items), Type::Tuple(types)) if items.len() == types.len() => {
            let _ = rmp::encode::write_array_len(out, items.len() as u32);
            for (i, (item, t)) in items.iter().zip(types).enumerate() {
                encode(out, item, t, &child_path(path, &format!("[{i}]")))?;
            }
        }
        (Value::Map(items), Type::Map(elem)) => {
            let _ = rmp::encode::write_map_len(out, items.len() as u32);
            for (key, item) in items {
                let _ = rmp::encode::write_str(out, key);
                encode(out, item, elem, &child_path(path, &format!("[{key:?}]")))?;
            }
        }
        (Value::Map(items), Type::Object(attrs)) => {
            if let Some(extra) = items.keys().find(|k| !attrs.contains_key(*k)) {
                return Err(CodecError::Invalid {
                    path: path.to_string(),
                    message: format!("attribute {extra:?} is not in the object type"),
                });
            }
            let _ = rmp::encode::write_map_len(out, attrs.len() as u32);
            for (name, attr_ty) in attrs {
                let _ = rmp::encode::write_str(out, name);
                let item = items.get(name).unwrap_or(&Value::Null);
                encode(out, item, attr_ty, &child_path(path, name))?;
            }
        }
        _ => return Err(mismatch(path, ty, value)),
    }
    Ok(())
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn eof(&self, path: &str) -> CodecError {
        CodecError::Invalid {
            path: path.to_string(),
            message: "unexpected end of msgpack data".into(),
        }
    }

    fn take(&mut self, n: usize, path: &str) -> Result<&'a [u8], CodecError> {
        let end = self.pos.checked_add(n).ok_or_else(|| self.eof(path))?;
        let slice = self.buf.get(self.pos..end).ok_or_else(|| self.eof(path))?;
        self.pos = end;
        Ok(slice)
    }

    fn uint(&mut self, width: usize, path: &str) -> Result<u64, CodecError> {
        Ok(self
            .take(width, path)?
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    fn marker(&mut self, path: &str) -> Result<Marker, CodecError> {
        Ok(Marker::from_u8(self.take(1, path)?[0]))
    }

    /// Reads a length-prefixed payload whose length field follows the marker.
    fn len(&mut self, width: usize, path: &str) -> Result<usize, CodecError> {
        usize::try_from(self.uint(width, path)?).map_err(|_| self.eof(path))
    }

    fn ext_len(&mut self, marker: Marker, path: &str) -> Result<Option<usize>, CodecError> {
        Ok(Some(match marker {
            Marker::FixExt1 => 1,
            Marker::FixExt2 => 2,
            Marker::FixExt4 => 4,
            Marker::FixExt8 => 8,
            Marker::FixExt16 => 16,
            Marker::Ext8 => self.len(1, path)?,
            Marker::Ext16 => self.len(2, path)?,
            Marker::Ext32 => self.len(4, path)?,
            _ => return Ok(None),
        }))
    }

    fn str_len(&mut self, marker: Marker, path: &str) -> Result<Option<usize>, CodecError> {
        Ok(Some(match marker {
            Marker::FixStr(n) => usize::from(n),
            Marker::Str8 | Marker::Bin8 => self.len(1, path)?,
            Marker::Str16 | Marker::Bin16 => self.len(2, path)?,
            Marker::Str32 | Marker::Bin32 => self.len(4, path)?,
            _ => return Ok(None),
        }))
    }

    fn array_len(&mut self, marker: Marker, path: &str) -> Result<Option<usize>, CodecError> {
        Ok(Some(match marker {
            Marker::FixArray(n) => usize::from(n),
            Marker::Array16 => self.len(2, path)?,
            Marker::Array32 => self.len(4, path)?,
            _ => return Ok(None),
        }))
    }

    fn map_len(&mut self, marker: Marker, path: &str) -> Result<Option<usize>, CodecError> {
        Ok(Some(match marker {
            Marker::FixMap(n) => usize::from(n),
            Marker::Map16 => self.len(2, path)?,
            Marker::Map32 => self.len(4, path)?,
            _ => return Ok(None),
        }))
    }

    fn string(&mut self, marker: Marker, path: &str) -> Result<Option<String>, CodecError> {
        let Some(len) = self.str_len(marker, path)? else {
            return Ok(None);
        };
        let bytes = self.take(len, path)?;
        String::from_utf8(bytes.to_vec())
            .map(Some)
            .map_err(|_| CodecError::Invalid {
                path: path.to_string(),
                message: "string is not UTF-8".into(),
            })
    }

    fn number(&mut self, marker: Marker, path: &str) -> Result<Option<Number>, CodecError> {
        let n = match marker {
            Marker::FixPos(n) => Number::Int(i64::from(n)),
            Marker::FixNeg(n) => Number::Int(i64::from(n)),
            Marker::U8 => Number::Int(self.uint(1, path)? as i64),
            Marker::U16 => Number::Int(self.uint(2, path)? as i64),
            Marker::U32 => Number::Int(self.uint(4, path)? as i64),
            Marker::U64 => {
                let u = self.uint(8, path)?;
                i64::try_from(u).map_or(Number::Float(u as f64), Number::Int)
            }
            Marker::I8 => Number::Int(i64::from(self.uint(1, path)? as u8 as i8)),
            Marker::I16 => Number::Int(i64::from(self.uint(2, path)? as u16 as i16)),
            Marker::I32 => Number::Int(i64::from(self.uint(4, path)? as u32 as i32)),
            Marker::I64 => Number::Int(self.uint(8, path)? as i64),
            Marker::F32 => Number::Float(f64::from(f32::from_bits(self.uint(4, path)? as u32))),
            Marker::F64 => Number::Float(f64::from_bits(self.uint(8, path)?)),
            other => {
                let Some(text) = self.string(other, path)? else {
                    return Ok(None);
                };
                return Number::parse(&text)
                    .map(Some)
                    .ok_or_else(|| CodecError::Invalid {
                        path: path.to_string(),
                        message: format!("{text:?} is not a number"),
                    });
            }
        };
        Ok(Some(n))
    }

    fn wrong(&self, path: &str, ty: &Type, marker: Marker) -> CodecError {
        CodecError::Mismatch {
            path: path.to_string(),
            expected: ty.name(),
            found: format!("msgpack {marker:?}"),
        }
    }

    fn value(&mut self, ty: &Type, path: &str) -> Result<Value, CodecError> {
        let marker = self.marker(path)?;
        if marker == Marker::Null {
            return Ok(Value::Null);
        }
        if let Some(len) = self.ext_len(marker, path)? {
            // Type byte, then payload: an unknown value, refined or not.
            self.take(1 + len, path)?;
            return Ok(Value::Unknown);
        }
        match ty {
            Type::String => match self.string(marker, path)? {
                Some(s) => Ok(Value::String(s)),
                None => Err(self.wrong(path, ty, marker)),
            },
            Type::Number => match self.number(marker, path)? {
                Some(n) => Ok(Value::Number(n)),
                None => Err(self.wrong(path, ty, marker)),
            },
            Type::Bool => match marker {
                Marker::True => Ok(Value::Bool(true)),
                Marker::False => Ok(Value::Bool(false)),
                _ => Err(self.wrong(path, ty, marker)),
            },
            Type::List(elem) | Type::Set(elem) => {
                let len = self
                    .array_len(marker, path)?
                    .ok_or_else(|| self.wrong(path, ty, marker))?;
                let mut items = Vec::with_capacity(len.min(1024));
                for i in 0..len {
                    items.push(self.value(elem, &child_path(path, &format!("[{i}]")))?);
                }
                Ok(Value::List(items))
            }
            Type::Tuple(types) => {
                let len = self
                    .array_len(marker, path)?
                    .ok_or_else(|| self.wrong(path, ty, marker))?;
                if len != types.len() {
                    return Err(CodecError::Invalid {
                        path: path.to_string(),
                        message: format!("tuple of {} elements has {len}", types.len()),
                    });
                }
                let mut items = Vec::with_capacity(len);
                for (i, t) in types.iter().enumerate() {
                    items.push(self.value(t, &child_path(path, &format!("[{i}]")))?);
                }
                Ok(Value::List(items))
            }
            Type::Map(_) | Type::Object(_) => {
                let len = self
                    .map_len(marker, path)?
                    .ok_or_else(|| self.wrong(path, ty, marker))?;
                let mut items = BTreeMap::new();
                for _ in 0..len {
                    let key_marker = self.marker(path)?;
                    let key =
                        self.string(key_marker, path)?
                            .ok_or_else(|| CodecError::Invalid {
                                path: path.to_string(),
                                message: "map key is not a string".into(),
                            })?;
                    let item_path = match ty {
                        Type::Object(_) => child_path(path, &key),
                        _ => child_path(path, &format!("[{key:?}]")),
                    };
                    let item_ty = match ty {
                        Type::Map(elem) => elem.as_ref(),
                        Type::Object(attrs) => {
                            attrs.get(&key).ok_or_else(|| CodecError::Invalid {
                                path: path.to_string(),
                                message: format!("unsupported attribute {key:?}"),
                            })?
                        }
                        _ => unreachable!("matched above"),
                    };
                    items.insert(key, self.value(item_ty, &item_path)?);
                }
                if let Type::Object(attrs) = ty {
                    for name in attrs.keys() {
                        items.entry(name.clone()).or_insert(Value::Null);
                    }
                }
                Ok(Value::Map(items))
            }
            Type::Dynamic => {
                if self.array_len(marker, path)? != Some(2) {
                    return Err(self.wrong(path, ty, marker));
                }
                let type_marker = self.marker(path)?;
                let len = self
                    .str_len(type_marker, path)?
                    .ok_or_else(|| self.wrong(path, ty, type_marker))?;
                let inner_ty = Type::from_json_bytes(self.take(len, path)?)?;
                let inner = self.value(&inner_ty, path)?;
                Ok(Value::Dynamic(inner_ty, Box::new(inner)))
            }
        }
    }
}
