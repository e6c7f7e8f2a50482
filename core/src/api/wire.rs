//! Serde helpers shared by the object types: strict string maps and
//! "omit when default" predicates.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

/// `skip_serializing_if` predicate: the value equals its `Default`.
pub(crate) fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// `skip_serializing_if` predicate for plain `bool` fields (Go `omitempty`).
pub(crate) fn is_false(value: &bool) -> bool {
    !*value
}

/// A map value that must be a string, as in the API server's strict JSON
/// decoding: `true`, `12` and the like are refused with a message that says
/// to quote them (an unquoted YAML `true`, `yes` or `12` reaches us as a
/// boolean or a number). `null` is the empty string, as Go decodes it.
struct StrictString;

impl<'de> de::DeserializeSeed<'de> for StrictString {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictString {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }

    fn visit_unit<E: de::Error>(self) -> Result<String, E> {
        Ok(String::new())
    }

    fn visit_none<E: de::Error>(self) -> Result<String, E> {
        Ok(String::new())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Err(E::custom(format_args!(
            "value must be a string, found the boolean `{v}` (YAML reads unquoted true, \
             false, yes, no, on, off, y and n as booleans); quote it"
        )))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Err(not_a_number(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Err(not_a_number(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Err(not_a_number(v))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, _seq: A) -> Result<String, A::Error> {
        Err(de::Error::custom("value must be a string, found a list"))
    }

    fn visit_map<A: MapAccess<'de>>(self, _map: A) -> Result<String, A::Error> {
        Err(de::Error::custom("value must be a string, found a map"))
    }
}

fn not_a_number<E: de::Error>(v: impl fmt::Display) -> E {
    E::custom(format_args!(
        "value must be a string, found the number `{v}` (YAML reads an unquoted number as a \
         number); quote it"
    ))
}

struct StrictMapVisitor;

impl<'de> Visitor<'de> for StrictMapVisitor {
    type Value = BTreeMap<String, String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of strings to strings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(StrictString)?;
            if out.insert(key.clone(), value).is_some() {
                return Err(de::Error::custom(format_args!("duplicate key `{key}`")));
            }
        }
        Ok(out)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(BTreeMap::new())
    }
}

/// `deserialize_with` for `map[string]string` fields (labels, annotations):
/// only string values are accepted; `null` is an empty map.
pub(crate) fn strict_map<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    deserializer.deserialize_any(StrictMapVisitor)
}

struct OptStrictMapVisitor;

impl<'de> Visitor<'de> for OptStrictMapVisitor {
    type Value = Option<BTreeMap<String, String>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of strings to strings")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        strict_map(deserializer).map(Some)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        StrictMapVisitor.visit_map(map).map(Some)
    }
}

/// `deserialize_with` for optional `map[string]string` fields where absent
/// (or `null`) and `{}` differ, such as a Service's `spec.selector`.
pub(crate) fn opt_strict_map<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<BTreeMap<String, String>>, D::Error> {
    deserializer.deserialize_option(OptStrictMapVisitor)
}

/// Deserialize `null` as the type's default (Go decodes `null` into a value
/// type as "leave it alone", i.e. the zero value).
pub(crate) fn null_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}
