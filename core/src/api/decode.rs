//! The reader of the modelled objects: one hand-written decoder from a
//! [`serde_json::Value`] for every build (native and WASM), with the path of
//! the field that is wrong in its errors.
//!
//! Each type says how its fields are read in a [`read_struct!`] table next
//! to its definition: the wire name and one of the field rules below. The
//! errors are serde's own messages (`invalid type: string "x", expected
//! i32`, ``missing field `port` ``, ``unknown variant `Foo`, expected one of
//! ...``), so text and JSON give the same errors as a serde derive would;
//! fields svcroute does not model are ignored.
//!
//! | rule | absent | `null` | other |
//! |---|---|---|---|
//! | `required` | ``missing field `x` `` | read as the type (an error unless it is an `Option`) | read |
//! | `or_default` | the default (`None`) | read as the type | read |
//! | `null_default` | the default | the default (Go's zero value) | read |
//! | `strict_map` | empty | empty | a map of strings only |
//! | `opt_strict_map` | `None` | `None` | a map of strings only |
//!
//! The public types keep `serde::Deserialize` (through a `Value` and this
//! reader), so `serde_json::from_str::<Pod>` reads exactly what the loader
//! reads.

use std::collections::BTreeMap;

use serde::de::{Error as _, Unexpected};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::labels::{LabelSelector, LabelSelectorRequirement};

use super::intstr::IntOrString;
use super::quantity::Quantity;

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// An index in a list.
    Index(usize),
    /// A key of a map.
    Key(String),
}

/// A decode error: serde's message and where, innermost step first (the
/// path grows while the error travels out; [`DecodeError::path`] gives it
/// outermost first).
#[derive(Debug)]
pub(crate) struct DecodeError {
    pub(crate) error: serde_json::Error,
    steps: Vec<Step>,
}

impl DecodeError {
    fn new(error: serde_json::Error) -> Self {
        DecodeError {
            error,
            steps: Vec::new(),
        }
    }

    fn under(mut self, step: Step) -> Self {
        self.steps.push(step);
        self
    }

    /// The path from the outermost value to the failing one.
    pub(crate) fn path(&self) -> Vec<Step> {
        self.steps.iter().rev().cloned().collect()
    }
}

/// A type read from a JSON value by the hand-written reader.
pub(crate) trait FromValue: Sized {
    /// Reads `value`; an error carries the path below `value`.
    fn from_value(value: &Value) -> Result<Self, DecodeError>;
}

/// What serde says a JSON value is, in its "invalid type" errors.
fn unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Unexpected::Unsigned(u),
            (None, Some(i)) => Unexpected::Signed(i),
            _ => Unexpected::Float(n.as_f64().unwrap_or_default()),
        },
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

fn invalid_type(value: &Value, expected: &str) -> DecodeError {
    DecodeError::new(serde_json::Error::invalid_type(
        unexpected(value),
        &expected,
    ))
}

/// Leaf types read by serde's own impls (their messages are serde's).
macro_rules! by_serde {
    ($($ty:ty),+) => {
        $(
            impl FromValue for $ty {
                fn from_value(value: &Value) -> Result<Self, DecodeError> {
                    <$ty>::deserialize(value).map_err(DecodeError::new)
                }
            }
        )+
    };
}
by_serde!(String, bool, i32, i64, IntOrString, Quantity);

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> Result<Self, DecodeError> {
        match value {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

impl<T: FromValue> FromValue for Vec<T> {
    fn from_value(value: &Value) -> Result<Self, DecodeError> {
        let Value::Array(items) = value else {
            return Err(invalid_type(value, "a sequence"));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| T::from_value(item).map_err(|e| e.under(Step::Index(i))))
            .collect()
    }
}

impl<T: FromValue> FromValue for BTreeMap<String, T> {
    fn from_value(value: &Value) -> Result<Self, DecodeError> {
        let Value::Object(map) = value else {
            return Err(invalid_type(value, "a map"));
        };
        map.iter()
            .map(|(k, v)| match T::from_value(v) {
                Ok(v) => Ok((k.clone(), v)),
                Err(e) => Err(e.under(Step::Key(k.clone()))),
            })
            .collect()
    }
}

/// The fields of a struct value, or serde's error for anything else
/// (`expected` is `struct Name`).
pub(crate) fn fields<'v>(
    value: &'v Value,
    expected: &str,
) -> Result<&'v Map<String, Value>, DecodeError> {
    match value {
        Value::Object(map) => Ok(map),
        other => Err(invalid_type(other, expected)),
    }
}

/// Reads `key` with `read`, putting the key on the error's path.
fn field<T>(
    map: &Map<String, Value>,
    key: &str,
    read: impl FnOnce(Option<&Value>) -> Result<T, DecodeError>,
) -> Result<T, DecodeError> {
    read(map.get(key)).map_err(|e| e.under(Step::Key(key.to_owned())))
}

/// Field rule `required`: read when present; absent is `None` here, and
/// serde's ``missing field `key` `` ([`missing`]) once every present field
/// has been read.
pub(crate) fn required<T: FromValue>(
    map: &Map<String, Value>,
    key: &str,
) -> Result<Option<T>, DecodeError> {
    match map.get(key) {
        None => Ok(None),
        Some(v) => field(map, key, |_| T::from_value(v)).map(Some),
    }
}

/// serde's ``missing field `key` `` error, on the struct itself.
pub(crate) fn missing(key: &'static str) -> DecodeError {
    DecodeError::new(serde_json::Error::missing_field(key))
}

/// Field rule `or_default`: absent is the default; `null` is read as the
/// type (`None` for an `Option`, an error otherwise).
pub(crate) fn or_default<T: FromValue + Default>(
    map: &Map<String, Value>,
    key: &str,
) -> Result<T, DecodeError> {
    field(map, key, |v| {
        v.map_or_else(|| Ok(T::default()), T::from_value)
    })
}

/// Field rule `null_default`: absent and `null` are the default (Go decodes
/// `null` into a value type as its zero value).
pub(crate) fn null_default<T: FromValue + Default>(
    map: &Map<String, Value>,
    key: &str,
) -> Result<T, DecodeError> {
    field(map, key, |v| match v {
        None | Some(Value::Null) => Ok(T::default()),
        Some(v) => T::from_value(v),
    })
}

/// Field rule `strict_map`, for `map[string]string` fields (labels,
/// annotations): string values only, with a hint to quote an unquoted YAML
/// boolean or number; absent and `null` are empty, a `null` value is `""`.
pub(crate) fn strict_map(
    map: &Map<String, Value>,
    key: &str,
) -> Result<BTreeMap<String, String>, DecodeError> {
    field(map, key, |v| match v {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(v) => read_strict_map(v),
    })
}

/// Field rule `opt_strict_map`: [`strict_map`] where absent (or `null`) and
/// `{}` differ, such as a Service's `spec.selector`.
pub(crate) fn opt_strict_map(
    map: &Map<String, Value>,
    key: &str,
) -> Result<Option<BTreeMap<String, String>>, DecodeError> {
    field(map, key, |v| match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => read_strict_map(v).map(Some),
    })
}

fn read_strict_map(value: &Value) -> Result<BTreeMap<String, String>, DecodeError> {
    let Value::Object(map) = value else {
        return Err(invalid_type(value, "a map of strings to strings"));
    };
    map.iter()
        .map(|(k, v)| {
            strict_string(v).map(|s| (k.clone(), s)).map_err(|m| {
                DecodeError::new(serde_json::Error::custom(m)).under(Step::Key(k.clone()))
            })
        })
        .collect()
}

/// A map value that must be a string, as in the API server's strict JSON
/// decoding (an unquoted YAML `true`, `yes` or `12` reaches us as a boolean
/// or a number).
fn strict_string(value: &Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Null => Ok(String::new()),
        Value::Bool(b) => Err(format!(
            "value must be a string, found the boolean `{b}` (YAML reads unquoted true, \
             false, yes, no, on, off, y and n as booleans); quote it"
        )),
        Value::Number(n) => Err(format!(
            "value must be a string, found the number `{n}` (YAML reads an unquoted number as a \
             number); quote it"
        )),
        Value::Array(_) => Err("value must be a string, found a list".to_owned()),
        Value::Object(_) => Err("value must be a string, found a map".to_owned()),
    }
}

/// The index in `names` of the variant `value` names, read as serde reads a
/// unit variant: a string, or a map of one key whose value is `null`.
pub(crate) fn variant(value: &Value, names: &'static [&'static str]) -> Result<usize, DecodeError> {
    let name = match value {
        Value::String(s) => s.as_str(),
        Value::Object(map) => {
            let mut entries = map.iter();
            let (Some((name, inner)), None) = (entries.next(), entries.next()) else {
                return Err(DecodeError::new(serde_json::Error::invalid_value(
                    Unexpected::Map,
                    &"map with a single key",
                )));
            };
            let index = variant(&Value::String(name.clone()), names)?;
            if !inner.is_null() {
                return Err(invalid_type(inner, "unit"));
            }
            return Ok(index);
        }
        other => return Err(invalid_type(other, "string or map")),
    };
    names
        .iter()
        .position(|n| *n == name)
        .ok_or_else(|| DecodeError::new(serde_json::Error::unknown_variant(name, names)))
}

/// `serde::Deserialize` through a `Value` and the reader.
pub(crate) fn via_value<'de, D: Deserializer<'de>, T: FromValue>(
    deserializer: D,
) -> Result<T, D::Error> {
    let value = Value::deserialize(deserializer)?;
    T::from_value(&value).map_err(|e| D::Error::custom(e.error))
}

/// Implements [`FromValue`] (and `serde::Deserialize` through it) for a
/// struct from its table of fields: `field: "wireName" => rule`, the rule
/// being one of this module's field rules, sorted by wire name (see
/// [`read_fields!`]).
macro_rules! read_struct {
    ($ty:ident { $($field:ident: $wire:literal => $rule:ident),* $(,)? }) => {
        $crate::api::decode::read_fields!($ty { $($field: $wire => $rule),* });

        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $crate::api::decode::via_value(deserializer)
            }
        }
    };
}
pub(crate) use read_struct;

/// [`FromValue`] alone, for a struct from its table of fields (see
/// [`read_struct!`]).
///
/// The fields are read in the table's order, and a wrong one ends the read:
/// the tables list the wire names in the order of a `Value`'s map (sorted),
/// so that of several wrong fields the error is the one serde's derive
/// gives; a missing required field is reported after every present field
/// was read, as serde does.
macro_rules! read_fields {
    ($ty:ident { $($field:ident: $wire:literal => $rule:ident),* $(,)? }) => {
        impl $crate::api::decode::FromValue for $ty {
            fn from_value(
                value: &::serde_json::Value,
            ) -> Result<Self, $crate::api::decode::DecodeError> {
                use $crate::api::decode as d;
                let map = d::fields(value, concat!("struct ", stringify!($ty)))?;
                $(let $field = d::$rule(map, $wire)?;)*
                Ok($ty { $($field: $crate::api::decode::present!($rule, $field, $wire)),* })
            }
        }
    };
}

/// A field's value once every field was read: a `required` one must be
/// there.
macro_rules! present {
    (required, $field:ident, $wire:literal) => {
        match $field {
            Some(v) => v,
            None => return Err($crate::api::decode::missing($wire)),
        }
    };
    ($rule:ident, $field:ident, $wire:literal) => {
        $field
    };
}
pub(crate) use present;
pub(crate) use read_fields;

// The label selector lives in `labels` (which keeps its serde derive for its
// own users); the objects read it with the same rules here.
read_fields!(LabelSelector {
    match_expressions: "matchExpressions" => or_default,
    match_labels: "matchLabels" => or_default,
});
read_fields!(LabelSelectorRequirement {
    key: "key" => or_default,
    operator: "operator" => or_default,
    values: "values" => or_default,
});

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::{Protocol, ServicePort};

    fn error_of<T: FromValue + std::fmt::Debug>(value: Value) -> (String, Vec<Step>) {
        let e = T::from_value(&value).unwrap_err();
        (e.error.to_string(), e.path())
    }

    #[test]
    fn messages_are_serdes() {
        let (m, path) = error_of::<Vec<ServicePort>>(json!([{"port": 80}, {"port": "eighty"}]));
        assert_eq!(m, "invalid type: string \"eighty\", expected i32");
        assert_eq!(path, [Step::Index(1), Step::Key("port".into())]);
        let (m, path) = error_of::<ServicePort>(json!({"name": "http"}));
        assert_eq!((m.as_str(), path.len()), ("missing field `port`", 0));
        let (m, _) = error_of::<ServicePort>(json!("x"));
        assert_eq!(m, "invalid type: string \"x\", expected struct ServicePort");
        let (m, _) = error_of::<Protocol>(json!("tcp"));
        assert_eq!(
            m,
            "unknown variant `tcp`, expected one of `TCP`, `UDP`, `SCTP`"
        );
        let (m, _) = error_of::<Protocol>(json!(6));
        assert_eq!(m, "invalid type: integer `6`, expected string or map");
        let (m, _) = error_of::<Vec<String>>(json!(1.5));
        assert_eq!(m, "invalid type: floating point `1.5`, expected a sequence");
    }

    #[test]
    fn nulls_and_absence_follow_the_rules() {
        let p =
            ServicePort::from_value(&json!({"port": 80, "name": null, "protocol": null})).unwrap();
        assert_eq!((p.name.as_str(), p.protocol), ("", None));
        let (m, _) = error_of::<ServicePort>(json!({"port": null}));
        assert_eq!(m, "invalid type: null, expected i32");
    }

    #[test]
    fn of_several_wrong_fields_the_error_is_serdes() {
        // The first wrong field in the map's order ...
        let (m, path) = error_of::<ServicePort>(json!({"targetPort": 1.5, "name": 1}));
        assert_eq!(m, "invalid type: integer `1`, expected a string");
        assert_eq!(path, [Step::Key("name".into())]);
        // ... before a missing one.
        let (m, path) = error_of::<ServicePort>(json!({"targetPort": 1.5}));
        assert!(m.starts_with("invalid type: floating point `1.5`"), "{m}");
        assert_eq!(path, [Step::Key("targetPort".into())]);
        let (m, path) = error_of::<ServicePort>(json!({"targetPort": 8080}));
        assert_eq!((m.as_str(), path.len()), ("missing field `port`", 0));
    }
}
