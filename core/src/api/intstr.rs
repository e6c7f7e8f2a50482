//! `intstr.IntOrString`: a port number or a port name.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A value that is either an integer or a string (`intstr.IntOrString`),
/// e.g. a Service port's `targetPort` (a number, or the name of a container
/// port) or a Deployment's `maxSurge` (`1` or `"25%"`).
///
/// On the wire it is a bare JSON number or a JSON string; a quoted number
/// stays a string (`"8080"` is the *name* `8080`, as in Kubernetes).
///
/// ```
/// use svcroute::api::IntOrString;
///
/// let by_number: IntOrString = serde_json::from_str("8080").unwrap();
/// let by_name: IntOrString = serde_json::from_str("\"http\"").unwrap();
/// assert_eq!(by_number, IntOrString::Int(8080));
/// assert_eq!(by_name, IntOrString::String("http".into()));
/// assert_eq!(serde_json::to_string(&by_name).unwrap(), "\"http\"");
/// assert!(serde_json::from_str::<IntOrString>("true").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IntOrString {
    /// A number (`int32` on the wire).
    Int(i32),
    /// A string, e.g. a port name.
    String(String),
}

impl fmt::Display for IntOrString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IntOrString::Int(n) => write!(f, "{n}"),
            IntOrString::String(s) => f.write_str(s),
        }
    }
}

impl From<i32> for IntOrString {
    fn from(n: i32) -> Self {
        IntOrString::Int(n)
    }
}

impl From<&str> for IntOrString {
    fn from(s: &str) -> Self {
        IntOrString::String(s.to_owned())
    }
}

impl Serialize for IntOrString {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            IntOrString::Int(n) => serializer.serialize_i32(*n),
            IntOrString::String(s) => serializer.serialize_str(s),
        }
    }
}

struct IntOrStringVisitor;

impl Visitor<'_> for IntOrStringVisitor {
    type Value = IntOrString;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer or a string")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<IntOrString, E> {
        i32::try_from(v)
            .map(IntOrString::Int)
            .map_err(|_| E::custom(format_args!("{v} is out of range for an int32")))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<IntOrString, E> {
        i32::try_from(v)
            .map(IntOrString::Int)
            .map_err(|_| E::custom(format_args!("{v} is out of range for an int32")))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<IntOrString, E> {
        Ok(IntOrString::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<IntOrString, E> {
        Ok(IntOrString::String(v))
    }
}

impl<'de> Deserialize<'de> for IntOrString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(IntOrStringVisitor)
    }
}
