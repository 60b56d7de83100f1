//! Property tests: every type's values survive msgpack and JSON round trips, including
//! unknown (msgpack only), null, nested collections, objects, tuples and dynamic values;
//! refined unknowns (extension 12) decode as unknown.

use std::collections::BTreeMap;

use proptest::prelude::*;
use tfplugin::value::{decode_json, decode_msgpack, encode_json, encode_msgpack};
use tfplugin::{Number, Type, Value};

fn arb_type() -> impl Strategy<Value = Type> {
    let leaf = prop_oneof![
        Just(Type::String),
        Just(Type::Number),
        Just(Type::Bool),
        Just(Type::Dynamic),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(Type::list),
            inner.clone().prop_map(Type::set),
            inner.clone().prop_map(Type::map),
            prop::collection::btree_map("[a-z_]{1,8}", inner.clone(), 0..4).prop_map(Type::Object),
            prop::collection::vec(inner, 0..3).prop_map(Type::Tuple),
        ]
    })
}

fn arb_number() -> impl Strategy<Value = Number> {
    prop_oneof![
        any::<i64>().prop_map(Number::Int),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Number::Float),
    ]
}

/// A value of type `ty`; `unknown` allows unknowns anywhere; `depth` bounds dynamic nesting.
fn arb_value(ty: Type, unknown: bool, depth: u32) -> BoxedStrategy<Value> {
    let known: BoxedStrategy<Value> = match ty {
        Type::String => "\\PC{0,12}".prop_map(Value::String).boxed(),
        Type::Number => arb_number().prop_map(Value::Number).boxed(),
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::List(elem) | Type::Set(elem) => {
            prop::collection::vec(arb_value(*elem, unknown, depth), 0..4)
                .prop_map(Value::List)
                .boxed()
        }
        Type::Map(elem) => {
            prop::collection::btree_map("\\PC{0,6}", arb_value(*elem, unknown, depth), 0..4)
                .prop_map(Value::Map)
                .boxed()
        }
        Type::Object(attrs) => {
            let parts: Vec<BoxedStrategy<(String, Value)>> = attrs
                .into_iter()
                .map(|(k, t)| {
                    arb_value(t, unknown, depth)
                        .prop_map(move |v| (k.clone(), v))
                        .boxed()
                })
                .collect();
            parts
                .prop_map(|kv| Value::Map(kv.into_iter().collect::<BTreeMap<_, _>>()))
                .boxed()
        }
        Type::Tuple(types) => {
            let parts: Vec<BoxedStrategy<Value>> = types
                .into_iter()
                .map(|t| arb_value(t, unknown, depth))
                .collect();
            parts.prop_map(Value::List).boxed()
        }
        Type::Dynamic if depth == 0 => "\\PC{0,6}"
            .prop_map(|s| Value::Dynamic(Type::String, Box::new(Value::String(s))))
            .boxed(),
        Type::Dynamic => arb_type()
            .prop_flat_map(move |t| {
                arb_value(t.clone(), unknown, depth - 1)
                    .prop_map(move |v| Value::Dynamic(t.clone(), Box::new(v)))
            })
            .boxed(),
    };
    if unknown {
        prop_oneof![1 => Just(Value::Null), 1 => Just(Value::Unknown), 6 => known].boxed()
    } else {
        prop_oneof![1 => Just(Value::Null), 6 => known].boxed()
    }
}

fn typed_value(unknown: bool) -> impl Strategy<Value = (Type, Value)> {
    arb_type()
        .prop_flat_map(move |t| arb_value(t.clone(), unknown, 2).prop_map(move |v| (t.clone(), v)))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn msgpack_round_trip((ty, value) in typed_value(true)) {
        let bytes = encode_msgpack(&value, &ty).expect("encode");
        prop_assert_eq!(decode_msgpack(&bytes, &ty).expect("decode"), value);
    }

    #[test]
    fn json_round_trip((ty, value) in typed_value(false)) {
        let bytes = encode_json(&value, &ty).expect("encode");
        prop_assert_eq!(decode_json(&bytes, &ty).expect("decode"), value);
    }

    #[test]
    fn type_descriptions_round_trip(ty in arb_type()) {
        prop_assert_eq!(Type::from_json_bytes(&ty.to_json_bytes()).expect("type"), ty);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64), ty in arb_type()) {
        let _ = decode_msgpack(&bytes, &ty);
        let _ = decode_json(&bytes, &ty);
    }
}

#[test]
fn unknown_is_written_as_terraform_writes_it() {
    assert_eq!(
        encode_msgpack(&Value::Unknown, &Type::String).unwrap(),
        vec![0xd4, 0, 0]
    );
}

#[test]
fn refined_unknowns_decode_as_unknown() {
    // An object {a: <unknown refined as non-null string with prefix "ab">, b: "x"}:
    // extension type 12 carrying a msgpack map of refinements.
    let refinement = [0x82, 0x01, 0xc3, 0x02, 0xa2, b'a', b'b'];
    let mut bytes = vec![0x82, 0xa1, b'a', 0xc7, refinement.len() as u8, 12];
    bytes.extend_from_slice(&refinement);
    bytes.extend_from_slice(&[0xa1, b'b', 0xa1, b'x']);
    let ty = Type::object([("a", Type::String), ("b", Type::String)]);
    let value = decode_msgpack(&bytes, &ty).expect("decode");
    assert_eq!(
        value,
        Value::object([("a", Value::Unknown), ("b", Value::string("x"))])
    );
    // fixext forms too, and inside a list.
    let list = [0x92, 0xd4, 12, 0x80, 0xa1, b'z'];
    assert_eq!(
        decode_msgpack(&list, &Type::list(Type::String)).unwrap(),
        Value::List(vec![Value::Unknown, Value::string("z")])
    );
}

#[test]
fn objects_carry_every_attribute() {
    let ty = Type::object([("a", Type::String), ("b", Type::Number)]);
    let bytes = encode_msgpack(&Value::object([("a", Value::string("x"))]), &ty).unwrap();
    assert_eq!(
        decode_msgpack(&bytes, &ty).unwrap(),
        Value::object([("a", Value::string("x")), ("b", Value::Null)])
    );
    // An attribute the type does not have is an error, not silently dropped.
    assert!(encode_msgpack(&Value::object([("c", Value::Bool(true))]), &ty).is_err());
}

#[test]
fn numbers_accept_every_encoding() {
    let cases: [(&[u8], Number); 5] = [
        (&[0x05], Number::Int(5)),
        (&[0xcd, 0x01, 0x00], Number::Int(256)),
        (&[0xd0, 0xff], Number::Int(-1)),
        (&[0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0], Number::Float(1.5)),
        (&[0xa4, b'1', b'.', b'2', b'5'], Number::Float(1.25)),
    ];
    for (bytes, n) in cases {
        assert_eq!(
            decode_msgpack(bytes, &Type::Number).unwrap(),
            Value::Number(n),
            "{bytes:?}"
        );
    }
}
