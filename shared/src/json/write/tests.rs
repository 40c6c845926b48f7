use super::*;
use proptest::prelude::*;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Written here and by serde_json: the same bytes.
fn same<T: Serialize + ?Sized>(value: &T) {
    let want = serde_json::to_vec(value).expect("serde_json writes it");
    let got = to_vec(value).expect("written");
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&want)
    );
    // Appended after what the buffer held, not over it.
    let mut buf = b"xy".to_vec();
    to_vec_into(&mut buf, value).expect("written");
    assert_eq!(&buf[..2], b"xy");
    assert_eq!(&buf[2..], &want[..]);
}

#[test]
fn every_byte_to_escape_is_escaped_at_every_place() {
    let specials: Vec<char> = (0u8..0x20)
        .map(char::from)
        .chain(['"', '\\', '/', '\u{7f}', 'é', '€', '😀', 'a', ' '])
        .collect();
    for len in 0..24 {
        let plain = "abcdefghijklmnopqrstuvwxyz"[..len].to_string();
        same(&plain);
        for at in 0..=len {
            for &c in &specials {
                let mut s = plain.clone();
                s.insert(at, c);
                same(&s);
                // Two in a row, and one more eight bytes on (the next chunk).
                let mut two = s.clone();
                two.insert(at, c);
                same(&two);
                if at + 8 <= s.len() {
                    let mut far = s.clone();
                    far.insert(at + 8, '"');
                    same(&far);
                }
            }
        }
    }
}

/// Every ASCII byte at every position of strings of every length to 40 (the short
/// reads' overlap, each eight-byte word, the tail's overlap), on a plain background and
/// on DEL (which is not escaped), and two special bytes at every pair of positions.
#[test]
fn every_ascii_byte_at_every_position_of_every_length() {
    for background in [b'a', 0x7f] {
        for len in 0..=40 {
            let base = vec![background; len];
            for at in 0..len {
                for c in 0u8..0x80 {
                    let mut t = base.clone();
                    t[at] = c;
                    let text = std::str::from_utf8(&t).unwrap();
                    let mut out = Vec::new();
                    write_str(&mut out, text);
                    assert_eq!(out, serde_json::to_vec(text).unwrap(), "{text:?}");
                }
            }
        }
    }
    for len in 2..=20 {
        for i in 0..len {
            for j in i + 1..len {
                for (a, b) in [(b'"', 0), (b'\\', b'"'), (0x1f, b'\\'), (b'\n', b'\n')] {
                    let mut t = vec![b'x'; len];
                    t[i] = a;
                    t[j] = b;
                    same(std::str::from_utf8(&t).unwrap());
                }
            }
        }
    }
}

#[test]
fn strings_made_only_of_escapes_and_of_multibyte_text() {
    same(&"\"".repeat(40));
    same(&"\\\n".repeat(17));
    same(&"\u{1}\u{1f}".repeat(9));
    same(&"é€😀".repeat(11));
    same("");
}

#[derive(Serialize)]
enum Shape {
    Unit,
    Newtype(u8),
    Tuple(i32, String),
    EmptyTuple(),
    Struct { a: Option<bool>, b: char },
    EmptyStruct {},
}

#[derive(Serialize)]
struct Unit;

#[derive(Serialize)]
struct Newtype(String);

#[derive(Serialize)]
struct Pair(u16, f32);

#[derive(Serialize)]
struct Every {
    t: bool,
    f: bool,
    small: (i8, i16, i32, i64, i128),
    large: (u8, u16, u32, u64, u128),
    extremes: (i64, u64, i128, u128),
    floats: Vec<f64>,
    float32: Vec<f32>,
    chars: Vec<char>,
    none: Option<String>,
    some: Option<&'static str>,
    unit: (),
    unit_struct: Unit,
    newtype: Newtype,
    pair: Pair,
    shapes: Vec<Shape>,
    empty_list: Vec<u8>,
    empty_map: BTreeMap<String, u8>,
    int_keys: BTreeMap<i64, &'static str>,
    uint_keys: BTreeMap<u128, u8>,
    bool_keys: BTreeMap<bool, u8>,
    char_keys: BTreeMap<char, u8>,
    shape_keys: BTreeMap<&'static str, Shape>,
    #[serde(with = "bytes")]
    bytes: Vec<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    skipped: Option<u8>,
    #[serde(flatten)]
    flat: BTreeMap<String, Value>,
}

mod bytes {
    pub fn serialize<S: serde::Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(b)
    }
}

#[test]
fn every_shape_serde_has_is_written_as_serde_json_writes_it() {
    let every = Every {
        t: true,
        f: false,
        small: (i8::MIN, -300, i32::MIN, i64::MIN, i128::MIN),
        large: (u8::MAX, u16::MAX, u32::MAX, u64::MAX, u128::MAX),
        extremes: (0, 0, -1, 1),
        floats: vec![
            0.0,
            -0.0,
            0.1,
            1.0,
            -1.5,
            1e300,
            1e-300,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            123_456_789.0,
        ],
        float32: vec![0.1, f32::MAX, f32::NAN, -2.5],
        chars: vec!['a', '"', '\\', '\n', '\u{0}', 'é', '😀'],
        none: None,
        some: Some("x\"y"),
        unit: (),
        unit_struct: Unit,
        newtype: Newtype("n\t".into()),
        pair: Pair(7, 0.25),
        shapes: vec![
            Shape::Unit,
            Shape::Newtype(9),
            Shape::Tuple(-4, "t\u{1}".into()),
            Shape::EmptyTuple(),
            Shape::Struct {
                a: Some(true),
                b: '\u{7f}',
            },
            Shape::Struct { a: None, b: 'z' },
            Shape::EmptyStruct {},
        ],
        empty_list: vec![],
        empty_map: BTreeMap::new(),
        int_keys: [(-5, "minus"), (0, "zero"), (i64::MAX, "max")].into(),
        uint_keys: [(u128::MAX, 1)].into(),
        bool_keys: [(false, 0), (true, 1)].into(),
        char_keys: [('"', 1), ('k', 2)].into(),
        shape_keys: [("unit", Shape::Unit), ("new", Shape::Newtype(1))].into(),
        bytes: vec![0, 1, 255],
        skipped: None,
        flat: [("flat\"key".to_string(), json!({"a": [1, -2, 3.5, null]}))].into(),
    };
    same(&every);
}

#[test]
fn a_key_serde_json_refuses_is_refused() {
    let mut floats: BTreeMap<String, u8> = BTreeMap::new();
    floats.insert("ok".into(), 1);
    same(&floats);
    let list_key: Vec<(Vec<u8>, u8)> = vec![(vec![1], 2)];
    struct AsMap<'a>(&'a [(Vec<u8>, u8)]);
    impl Serialize for AsMap<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
        }
    }
    assert!(serde_json::to_vec(&AsMap(&list_key)).is_err());
    assert!(to_vec(&AsMap(&list_key)).is_err());
    let nan_key = [(f64::NAN, 1u8)];
    struct FloatMap<'a>(&'a [(f64, u8)]);
    impl Serialize for FloatMap<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
        }
    }
    assert!(serde_json::to_vec(&FloatMap(&nan_key)).is_err());
    assert!(to_vec(&FloatMap(&nan_key)).is_err());
    same(&FloatMap(&[(2.5, 1)]));
}

/// An optional key is its value's key, as serde_json writes it; `None` is refused.
#[test]
fn an_optional_key_is_written_as_its_value() {
    struct Keys<K>(Vec<(K, u8)>);
    impl<K: Serialize> Serialize for Keys<K> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
        }
    }
    same(&Keys(vec![(Some("first"), 0), (Some("k\"\n"), 1)]));
    same(&Keys(vec![(Some(7u8), 0), (Some(255), 1)]));
    same(&Keys(vec![(Some(Some(-3i64)), 0)]));
    let none: Keys<Option<&str>> = Keys(vec![(Some("a"), 0), (None, 1)]);
    assert!(serde_json::to_vec(&none).is_err());
    assert!(to_vec(&none).is_err());
}

#[test]
fn a_raw_value_is_refused_not_written_as_an_object() {
    let raw = serde_json::value::RawValue::from_string("{\"a\":1}".into()).unwrap();
    assert!(to_vec(&raw).is_err());
}

#[test]
fn values_read_from_json_are_written_back_as_serde_json_writes_them() {
    for text in [
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"a\"b","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111111111111:root"]},"Action":"s3:*","Condition":{"NumericLessThan":{"s3:max-keys":10.5e3,"n":-0,"big":18446744073709551615,"neg":-9223372036854775808}}}]}"#,
        r#"[[],{},[{}],"\u0000\u001f\ud83d\ude00",1E400,0.30000000000000004]"#,
    ] {
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            continue;
        };
        same(&v);
    }
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        "[ -~\\t\\n\"\\\\]{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((any::<String>(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_value_is_written_as_serde_json_writes_it(v in value()) {
        let want = serde_json::to_vec(&v).unwrap();
        prop_assert_eq!(to_vec(&v).unwrap(), want);
    }

    #[test]
    fn any_string_is_written_as_serde_json_writes_it(s in any::<String>(), t in "[\\x00-\\x7f]{0,40}") {
        prop_assert_eq!(to_vec(&s).unwrap(), serde_json::to_vec(&s).unwrap());
        prop_assert_eq!(to_vec(&t).unwrap(), serde_json::to_vec(&t).unwrap());
    }
}
