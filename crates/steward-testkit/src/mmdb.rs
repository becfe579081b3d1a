//! Writes a tiny MaxMind DB (`.mmdb`) file, so GeoIP lookups are tested against
//! the real format and the real reader rather than a stand-in. Only what tests
//! need: an IPv4 tree with one network and a GeoIP2-City-shaped record.
//!
//! Format: <https://maxmind.github.io/MaxMind-DB/>.

use std::net::Ipv4Addr;

/// A value in the MaxMind DB data section.
#[derive(Debug, Clone)]
pub enum Value {
    /// UTF-8 string.
    Str(String),
    /// Unsigned 16-bit integer.
    U16(u16),
    /// Unsigned 32-bit integer.
    U32(u32),
    /// Unsigned 64-bit integer.
    U64(u64),
    /// Map with string keys.
    Map(Vec<(String, Value)>),
    /// Array.
    Array(Vec<Value>),
}

fn control(out: &mut Vec<u8>, kind: u8, size: usize) {
    assert!(size < 29, "only small values are supported");
    let size = size as u8;
    if kind <= 7 {
        out.push((kind << 5) | size);
    } else {
        out.push(size);
        out.push(kind - 7);
    }
}

fn uint(out: &mut Vec<u8>, kind: u8, v: u64, width: usize) {
    let bytes = v.to_be_bytes();
    let trimmed: Vec<u8> = bytes[8 - width..]
        .iter()
        .copied()
        .skip_while(|b| *b == 0)
        .collect();
    control(out, kind, trimmed.len());
    out.extend(trimmed);
}

impl Value {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Value::Str(s) => {
                control(out, 2, s.len());
                out.extend(s.as_bytes());
            }
            Value::U16(v) => uint(out, 5, u64::from(*v), 2),
            Value::U32(v) => uint(out, 6, u64::from(*v), 4),
            Value::U64(v) => uint(out, 9, *v, 8),
            Value::Map(entries) => {
                control(out, 7, entries.len());
                for (k, v) in entries {
                    Value::Str(k.clone()).encode(out);
                    v.encode(out);
                }
            }
            Value::Array(items) => {
                control(out, 11, items.len());
                for v in items {
                    v.encode(out);
                }
            }
        }
    }
}

fn names(en: &str) -> Value {
    Value::Map(vec![("en".into(), Value::Str(en.into()))])
}

/// A GeoIP2-City-shaped record.
pub fn city(city: &str, country: &str, iso: &str) -> Value {
    Value::Map(vec![
        (
            "city".into(),
            Value::Map(vec![("names".into(), names(city))]),
        ),
        (
            "country".into(),
            Value::Map(vec![
                ("iso_code".into(), Value::Str(iso.into())),
                ("names".into(), names(country)),
            ]),
        ),
    ])
}

/// A database in which `network/prefix` maps to `record` and nothing else has data.
pub fn single_network(network: Ipv4Addr, prefix: u8, record: &Value) -> Vec<u8> {
    let bits = u32::from(network);
    let node_count = u32::from(prefix);
    let no_data = node_count;
    let data_pointer = node_count + 16; // data offset 0, past the 16-byte separator
    let mut out = Vec::new();
    for depth in 0..node_count {
        let bit = (bits >> (31 - depth)) & 1;
        let next = if depth + 1 == node_count {
            data_pointer
        } else {
            depth + 1
        };
        let (left, right) = if bit == 0 {
            (next, no_data)
        } else {
            (no_data, next)
        };
        out.extend(&left.to_be_bytes()[1..]);
        out.extend(&right.to_be_bytes()[1..]);
    }
    out.extend([0u8; 16]);
    record.encode(&mut out);
    out.extend(b"\xAB\xCD\xEFMaxMind.com");
    Value::Map(vec![
        ("binary_format_major_version".into(), Value::U16(2)),
        ("binary_format_minor_version".into(), Value::U16(0)),
        ("build_epoch".into(), Value::U64(1_800_000_000)),
        ("database_type".into(), Value::Str("GeoIP2-City".into())),
        ("description".into(), names("Steward test database")),
        ("ip_version".into(), Value::U16(4)),
        (
            "languages".into(),
            Value::Array(vec![Value::Str("en".into())]),
        ),
        ("node_count".into(), Value::U32(node_count)),
        ("record_size".into(), Value::U16(24)),
    ])
    .encode(&mut out);
    out
}
