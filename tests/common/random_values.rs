//! Random Lisp values for property tests (tests/roundtrip.rs and
//! tests/known_answers.rs): every kind of object the dumper places, nested.

use num_bigint::BigInt;
use pdmp::value::{HashTableValue, LispString, Value, MOST_POSITIVE_FIXNUM};
use proptest::prelude::*;

/// Symbol names, keywords included; never a name the heap treats specially.
fn symbol_name() -> impl Strategy<Value = String> {
    "[a-z:][a-z0-9-]{0,8}".prop_filter("not a built-in marker", |s| s != "unbound")
}

/// Atoms and flat objects.
pub fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        (-(1i64 << 61)..=MOST_POSITIVE_FIXNUM).prop_map(Value::Int),
        (any::<i128>(), any::<u64>()).prop_map(|(a, b)| {
            Value::integer(BigInt::from(a) * BigInt::from(b) + BigInt::from(1u128 << 100))
        }),
        any::<f64>().prop_map(Value::Float),
        proptest::collection::vec(any::<u8>(), 0..20).prop_map(|bytes| Value::Str(LispString {
            bytes,
            multibyte: false
        })),
        ".{0,12}".prop_map(|s: String| Value::Str(LispString::from_text(&s))),
        symbol_name().prop_map(Value::Symbol),
        symbol_name().prop_map(Value::Uninterned),
        Just(Value::nil()),
        Just(Value::Subr("car".into())),
        (0u64..200).prop_flat_map(|len| {
            proptest::collection::vec(any::<u8>(), len.div_ceil(8) as usize).prop_map(
                move |mut bytes| {
                    if len % 8 != 0 {
                        if let Some(last) = bytes.last_mut() {
                            *last &= (1u8 << (len % 8)) - 1;
                        }
                    }
                    Value::BoolVector { len, bytes }
                },
            )
        }),
    ]
}

/// Values nested up to four levels: lists, vectors, records, byte-code,
/// char-tables, sub-char-tables and hash tables around leaves.
pub fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            (
                proptest::collection::vec(inner.clone(), 1..6),
                inner.clone()
            )
                .prop_map(|(items, tail)| Value::list_with_tail(items, tail)),
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Vector),
            proptest::collection::vec(inner.clone(), 1..6).prop_map(Value::Record),
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::ByteCode),
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::CharTable),
            (
                1i64..4,
                0i64..1000,
                proptest::collection::vec(inner.clone(), 0..4)
            )
                .prop_map(|(d, m, rest)| {
                    let mut items = vec![Value::Int(d), Value::Int(m)];
                    items.extend(rest);
                    Value::SubCharTable(items)
                }),
            (
                proptest::collection::vec((inner.clone(), inner), 0..5),
                any::<bool>()
            )
                .prop_map(|(data, purecopy)| Value::HashTable(Box::new(
                    HashTableValue {
                        test: "equal".into(),
                        weakness: None,
                        data,
                        purecopy,
                    }
                ))),
        ]
    })
}
