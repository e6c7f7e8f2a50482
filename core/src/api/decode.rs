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

/// serde's "invalid type" (or, with `out_of_range`, "invalid value") error
/// for `value`, described as serde_json describes it.
fn type_error(value: &Value, expected: &str, out_of_range: bool) -> DecodeError {
    let unexpected = match value {
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
    };
    DecodeError::new(if out_of_range {
        serde_json::Error::invalid_value(unexpected, &expected)
    } else {
        serde_json::Error::invalid_type(unexpected, &expected)
    })
}

fn invalid_type(value: &Value, expected: &str) -> DecodeError {
    type_error(value, expected, false)
}

/// serde's "invalid value" error (a number out of a type's range).
fn invalid_value(value: &Value, expected: &str) -> DecodeError {
    type_error(value, expected, true)
}

/// A custom error message (serde's `Error::custom`).
fn custom(message: String) -> DecodeError {
    DecodeError::new(serde_json::Error::custom(message))
}

impl FromValue for String {
    fn from_value(value: &Value) -> Result<Self, DecodeError> {
        match value {
            Value::String(s) => Ok(s.clone()),
            other => Err(invalid_type(other, "a string")),
        }
    }
}

impl FromValue for bool {
    fn from_value(value: &Value) -> Result<Self, DecodeError> {
        match value {
            Value::Bool(b) => Ok(*b),
            other => Err(invalid_type(other, "a boolean")),
        }
    }
}

/// A whole JSON number as an `i64` (`None` for a float or a string, ...;
/// `Some(Err)` for a whole number out of range), read as serde reads the
/// integer types.
fn whole(value: &Value) -> Option<Result<i64, ()>> {
    let Value::Number(n) = value else { return None };
    match (n.as_i64(), n.is_u64()) {
        (Some(i), _) => Some(Ok(i)),
        (None, true) => Some(Err(())),
        (None, false) => None,
    }
}

impl FromValue for i64 {
    fn from_value(value: &Value) -> Result<Self, DecodeError> {
        match whole(value) {
            Some(Ok(i)) => Ok(i),
            Some(Err(())) => Err(invalid_value(value, "i64")),
            None => Err(invalid_type(value, "i64")),
        }
    }
}

impl FromValue for i32 {
    fn from_value(value: &Value) -> Result<Self, DecodeError> {
        match whole(value) {
            Some(Ok(i)) => i32::try_from(i).map_err(|_| invalid_value(value, "i32")),
            Some(Err(())) => Err(invalid_value(value, "i32")),
            None => Err(invalid_type(value, "i32")),
        }
    }
}

impl FromValue for IntOrString {
    fn from_value(value: &Value) -> Result<Self, DecodeError> {
        match (value, whole(value)) {
            (Value::String(s), _) => Ok(IntOrString::String(s.clone())),
            (_, Some(Ok(i))) => i32::try_from(i)
                .map(IntOrString::Int)
                .map_err(|_| custom(format!("{i} is out of range for an int32"))),
            (Value::Number(n), Some(Err(()))) => {
                Err(custom(format!("{n} is out of range for an int32")))
            }
            (other, _) => Err(invalid_type(other, "an integer or a string")),
        }
    }
}

impl FromValue for Quantity {
    fn from_value(value: &Value) -> Result<Self, DecodeError> {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) if n.is_f64() => match n.as_f64() {
                Some(f) if f.is_finite() => f.to_string(),
                _ => return Err(custom("a quantity must be a finite number".to_owned())),
            },
            Value::Number(n) => n.to_string(),
            other => {
                return Err(invalid_type(
                    other,
                    "a quantity such as \"3500m\", \"4\" or \"1Gi\"",
                ));
            }
        };
        text.parse()
            .map_err(|e: super::QuantityError| custom(e.to_string()))
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> Result<Self, DecodeError> {
        match value {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

// The list and map readers and the struct readers are kept out of line:
// one copy per type, called from every field of that type. Their loops are
// shared by every type ([`read_items`], [`read_entries`]): a type's own
// code is only reading one item and keeping it.
impl<T: FromValue> FromValue for Vec<T> {
    #[inline(never)]
    fn from_value(value: &Value) -> Result<Self, DecodeError> {
        let mut out = Vec::new();
        read_items(value, &mut |item| {
            out.push(T::from_value(item)?);
            Ok(())
        })?;
        Ok(out)
    }
}

impl<T: FromValue> FromValue for BTreeMap<String, T> {
    #[inline(never)]
    fn from_value(value: &Value) -> Result<Self, DecodeError> {
        let mut out = BTreeMap::new();
        read_entries(value, &mut |k, v| {
            out.insert(k.to_owned(), T::from_value(v)?);
            Ok(())
        })?;
        Ok(out)
    }
}

/// The loop of every list reader: each item of a JSON array handed to
/// `item` in order, the first error ending the read with its index on the
/// path; serde's error for anything but an array.
#[inline(never)]
fn read_items(
    value: &Value,
    item: &mut dyn FnMut(&Value) -> Result<(), DecodeError>,
) -> Result<(), DecodeError> {
    let Value::Array(items) = value else {
        return Err(invalid_type(value, "a sequence"));
    };
    for (i, v) in items.iter().enumerate() {
        item(v).map_err(|e| e.under(Step::Index(i)))?;
    }
    Ok(())
}

/// The loop of every map reader: each entry of a JSON object handed to
/// `entry` in the map's order, the first error ending the read with its key
/// on the path; serde's error for anything but an object.
#[inline(never)]
fn read_entries(
    value: &Value,
    entry: &mut dyn FnMut(&str, &Value) -> Result<(), DecodeError>,
) -> Result<(), DecodeError> {
    let Value::Object(map) = value else {
        return Err(invalid_type(value, "a map"));
    };
    for (k, v) in map {
        entry(k, v).map_err(|e| e.under(Step::Key(k.clone())))?;
    }
    Ok(())
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

/// Reads one present field of a struct into it (the table's setter).
pub(crate) type Setter<T> = fn(&mut T, &Value) -> Result<(), DecodeError>;

/// Reads a struct from its table: `names` are the wire names (and whether
/// each is required), `setters` read a present field into the struct, in
/// the same order. Absent fields keep the struct's default (which is each
/// rule's value for an absent field); the first wrong field ends the read;
/// a missing required field is reported after every present field was
/// read, as serde does.
pub(crate) fn read_table<T: Default>(
    value: &Value,
    expected: &str,
    names: &[(&'static str, bool)],
    setters: &[Setter<T>],
) -> Result<T, DecodeError> {
    let map = fields(value, expected)?;
    let mut out = T::default();
    read_present(map, names, &mut |i, v| setters[i](&mut out, v))?;
    Ok(out)
}

/// The loop of [`read_table`], once for every struct type.
#[inline(never)]
fn read_present(
    map: &Map<String, Value>,
    names: &[(&'static str, bool)],
    set: &mut dyn FnMut(usize, &Value) -> Result<(), DecodeError>,
) -> Result<(), DecodeError> {
    let mut missing_field = None;
    for (i, &(wire, required)) in names.iter().enumerate() {
        match map.get(wire) {
            Some(v) => set(i, v).map_err(|e| e.under(Step::Key(wire.to_owned())))?,
            None if required && missing_field.is_none() => missing_field = Some(wire),
            None => {}
        }
    }
    match missing_field {
        Some(wire) => Err(missing(wire)),
        None => Ok(()),
    }
}

/// Reads a present field with its rule into its slot in the struct (the
/// setters' one step): one copy per field type, shared by every field of
/// that type, so that a setter is only the field's place and its rule.
#[inline(never)]
pub(crate) fn put<T>(
    slot: &mut T,
    value: &Value,
    rule: fn(&Value) -> Result<T, DecodeError>,
) -> Result<(), DecodeError> {
    *slot = rule(value)?;
    Ok(())
}

/// Field rule `required`: a present value is read as the type (`null` is
/// an error unless it is an `Option`); absent is serde's ``missing field
/// `key` `` ([`missing`]) once every present field has been read.
pub(crate) fn required<T: FromValue>(value: &Value) -> Result<T, DecodeError> {
    T::from_value(value)
}

/// serde's ``missing field `key` `` error, on the struct itself.
pub(crate) fn missing(key: &'static str) -> DecodeError {
    DecodeError::new(serde_json::Error::missing_field(key))
}

/// Field rule `or_default`: absent is the default (`None`); `null` is read
/// as the type (`None` for an `Option`, an error otherwise).
pub(crate) fn or_default<T: FromValue>(value: &Value) -> Result<T, DecodeError> {
    T::from_value(value)
}

/// Field rule `null_default`: absent and `null` are the default (Go decodes
/// `null` into a value type as its zero value).
pub(crate) fn null_default<T: FromValue + Default>(value: &Value) -> Result<T, DecodeError> {
    match value {
        Value::Null => Ok(T::default()),
        v => T::from_value(v),
    }
}

/// Field rule `strict_map`, for `map[string]string` fields (labels,
/// annotations): string values only, with a hint to quote an unquoted YAML
/// boolean or number; absent and `null` are empty, a `null` value is `""`.
pub(crate) fn strict_map(value: &Value) -> Result<BTreeMap<String, String>, DecodeError> {
    match value {
        Value::Null => Ok(BTreeMap::new()),
        v => read_strict_map(v),
    }
}

/// Field rule `opt_strict_map`: [`strict_map`] where absent (or `null`) and
/// `{}` differ, such as a Service's `spec.selector`.
pub(crate) fn opt_strict_map(
    value: &Value,
) -> Result<Option<BTreeMap<String, String>>, DecodeError> {
    match value {
        Value::Null => Ok(None),
        v => read_strict_map(v).map(Some),
    }
}

/// Whether a field rule makes the field required.
macro_rules! is_required {
    (required) => {
        true
    };
    ($rule:ident) => {
        false
    };
}
pub(crate) use is_required;

fn read_strict_map(value: &Value) -> Result<BTreeMap<String, String>, DecodeError> {
    if !value.is_object() {
        return Err(invalid_type(value, "a map of strings to strings"));
    }
    let mut out = BTreeMap::new();
    read_entries(value, &mut |k, v| {
        out.insert(k.to_owned(), strict_string(v).map_err(custom)?);
        Ok(())
    })?;
    Ok(out)
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
    (direct $ty:ident { $($field:ident: $wire:literal => $rule:ident),* $(,)? }) => {
        $crate::api::decode::read_fields!(direct $ty { $($field: $wire => $rule),* });
        $crate::api::decode::read_struct!(@serde $ty);
    };
    ($ty:ident { $($field:ident: $wire:literal => $rule:ident),* $(,)? }) => {
        $crate::api::decode::read_fields!($ty { $($field: $wire => $rule),* });
        $crate::api::decode::read_struct!(@serde $ty);
    };
    (@serde $ty:ident) => {

        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $crate::api::decode::via_value(deserializer)
            }
        }
    };
}
pub(crate) use read_struct;

/// [`FromValue`] alone, for a struct from its table of fields (see
/// [`read_struct!`]), through [`read_table`]: one small setter per field.
///
/// The fields are read in the table's order, and a wrong one ends the read:
/// the tables list the wire names in the order of a `Value`'s map (sorted),
/// so that of several wrong fields the error is the one serde's derive
/// gives; a missing required field is reported after every present field
/// was read, as serde does.
macro_rules! read_fields {
    // For a struct without `Default` (a required field with no default
    // value): every field read into a local, then the struct built.
    (direct $ty:ident { $($field:ident: $wire:literal => $rule:ident),* $(,)? }) => {
        impl $crate::api::decode::FromValue for $ty {
            fn from_value(
                value: &::serde_json::Value,
            ) -> Result<Self, $crate::api::decode::DecodeError> {
                use $crate::api::decode as d;
                let map = d::fields(value, concat!("struct ", stringify!($ty)))?;
                $(let $field = d::field(map, $wire, d::$rule)?;)*
                Ok($ty { $($field: $crate::api::decode::present!($rule, $field, $wire)),* })
            }
        }
    };
    ($ty:ident { $($field:ident: $wire:literal => $rule:ident),* $(,)? }) => {
        impl $crate::api::decode::FromValue for $ty {
            #[inline(never)]
            fn from_value(
                value: &::serde_json::Value,
            ) -> Result<Self, $crate::api::decode::DecodeError> {
                use $crate::api::decode as d;
                const NAMES: &[(&str, bool)] = &[$(($wire, d::is_required!($rule))),*];
                const SETTERS: &[d::Setter<$ty>] =
                    &[$(|s: &mut $ty, v| d::put(&mut s.$field, v, d::$rule)),*];
                d::read_table(value, concat!("struct ", stringify!($ty)), NAMES, SETTERS)
            }
        }
    };
}

/// A field's value once every field was read (the `direct` tables): a
/// `required` one must be there; an absent other one is its type's
/// default.
macro_rules! present {
    (required, $field:ident, $wire:literal) => {
        match $field {
            Some(v) => v,
            None => return Err($crate::api::decode::missing($wire)),
        }
    };
    ($rule:ident, $field:ident, $wire:literal) => {
        $field.unwrap_or_default()
    };
}
pub(crate) use present;

/// Reads `key` of `map` with a field rule when it is there (the `direct`
/// tables), putting the key on the error's path.
pub(crate) fn field<T>(
    map: &Map<String, Value>,
    key: &str,
    rule: fn(&Value) -> Result<T, DecodeError>,
) -> Result<Option<T>, DecodeError> {
    match map.get(key) {
        None => Ok(None),
        Some(v) => rule(v)
            .map(Some)
            .map_err(|e| e.under(Step::Key(key.to_owned()))),
    }
}
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

    /// The shared list and map loops put the failing item's index or key
    /// on the path and keep serde's messages (issue 8's shared readers).
    #[test]
    fn list_and_map_loops_name_the_failing_item() {
        let (m, path) = error_of::<BTreeMap<String, Quantity>>(json!({"cpu": "1", "memory": "x"}));
        assert_eq!(m, "quantity `x` is not valid: it must start with a number");
        assert_eq!(path, [Step::Key("memory".into())]);
        let (m, _) = error_of::<BTreeMap<String, i32>>(json!([1]));
        assert_eq!(m, "invalid type: sequence, expected a map");
        let (m, path) = error_of::<Vec<Vec<i32>>>(json!([[1], [2, "x"]]));
        assert_eq!(m, "invalid type: string \"x\", expected i32");
        assert_eq!(path, [Step::Index(1), Step::Index(1)]);
        let e = strict_map(&json!({"app": "web", "canary": true})).unwrap_err();
        assert!(e.error.to_string().contains("the boolean `true`"));
        assert_eq!(e.path(), [Step::Key("canary".into())]);
        let e = strict_map(&json!(["app"])).unwrap_err();
        assert_eq!(
            e.error.to_string(),
            "invalid type: sequence, expected a map of strings to strings"
        );
        let ok = strict_map(&json!({"b": "2", "a": null})).unwrap();
        assert_eq!(
            ok.into_iter().collect::<Vec<_>>(),
            [("a".into(), String::new()), ("b".into(), "2".into())]
        );
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

    /// The leaves read as serde's own impls read them: same values, same
    /// messages (floats included, written without a second formatter).
    #[test]
    fn leaves_read_as_serde_reads_them() {
        fn same<T>(value: &Value)
        where
            T: FromValue + for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug,
        {
            let ours = T::from_value(value).map_err(|e| e.error.to_string());
            let serdes = T::deserialize(value).map_err(|e| e.to_string());
            assert_eq!(ours, serdes, "{value}");
        }
        let values = [
            json!(null),
            json!(true),
            json!(0),
            json!(-1),
            json!(80),
            json!(2147483647),
            json!(2147483648u64),
            json!(-2147483649i64),
            json!(9223372036854775807i64),
            json!(18446744073709551615u64),
            json!(-9223372036854775808i64),
            json!(1.5),
            json!(1.0),
            json!(-0.0),
            json!(1e20),
            json!(1e21),
            json!(1.5e300),
            json!(1e-7),
            json!(0.1),
            json!(123456.789),
            json!(2.5e-300),
            json!("x"),
            json!("3500m"),
            json!([1]),
            json!({"a": 1}),
        ];
        for v in &values {
            same::<String>(v);
            same::<bool>(v);
            same::<i32>(v);
            same::<i64>(v);
            same::<IntOrString>(v);
            same::<Quantity>(v);
        }
    }
}
