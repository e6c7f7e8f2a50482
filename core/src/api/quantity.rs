//! `resource.Quantity`: `3500m`, `4`, `1.5Gi`, `2e3`.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// The most significant decimal digits a [`Quantity`] keeps exactly.
const MAX_DIGITS: usize = 36;

/// A Kubernetes quantity (`resource.Quantity`), such as a Node's
/// `status.allocatable.cpu: "3500m"` or `memory: 16Gi`.
///
/// The grammar is the API server's:
///
/// ```text
/// quantity  ::= signedNumber suffix
/// number    ::= digits | digits "." digits | digits "." | "." digits
/// suffix    ::= binarySI | decimalSI | ("e" | "E") signedInteger
/// binarySI  ::= Ki | Mi | Gi | Ti | Pi | Ei            (powers of 1024)
/// decimalSI ::= n | u | m | "" | k | M | G | T | P | E  (powers of 1000)
/// ```
///
/// The value is held exactly (a decimal mantissa and a power of ten); the
/// text is kept as written so that a quantity serializes back unchanged.
/// Equality and order compare values: `1` equals `1000m`. A quantity on the
/// wire may also be a bare JSON number (`cpu: 4` in YAML), as the API
/// server accepts.
///
/// ```
/// use svcroute::api::Quantity;
///
/// let cpu: Quantity = "3500m".parse().unwrap();
/// assert_eq!(cpu.millis(), Some(3500));
/// assert_eq!(cpu.value(), Some(4)); // rounded up, as Kubernetes does
/// assert_eq!("1.5Gi".parse::<Quantity>().unwrap().value(), Some(1_610_612_736));
/// assert_eq!("1".parse::<Quantity>().unwrap(), "1000m".parse().unwrap());
/// assert!("12 cores".parse::<Quantity>().is_err());
/// ```
#[derive(Debug, Clone)]
pub struct Quantity {
    text: String,
    /// value = mantissa × 10^scale, with no trailing zeros in the mantissa.
    mantissa: i128,
    scale: i32,
}

/// Why a string is not a [`Quantity`].
///
/// ```
/// let err = "1.2.3".parse::<svcroute::api::Quantity>().unwrap_err();
/// assert!(err.to_string().contains("1.2.3"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("quantity `{text}` is not valid: {reason}")]
pub struct QuantityError {
    /// The text that was given.
    pub text: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl Quantity {
    /// The quantity as written (e.g. `"3500m"`).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The value in thousandths (`MilliValue`), rounded away from zero;
    /// `None` when it does not fit an `i64`. For CPU this is millicores.
    ///
    /// ```
    /// # use svcroute::api::Quantity;
    /// assert_eq!("0.5".parse::<Quantity>().unwrap().millis(), Some(500));
    /// assert_eq!("1n".parse::<Quantity>().unwrap().millis(), Some(1));
    /// ```
    pub fn millis(&self) -> Option<i64> {
        self.scaled(-3)
    }

    /// The value in whole units (`Value`), rounded away from zero; `None`
    /// when it does not fit an `i64`.
    pub fn value(&self) -> Option<i64> {
        self.scaled(0)
    }

    /// The value in units of 10^`exponent`, rounded away from zero (e.g.
    /// `scaled(-3)` is [`Quantity::millis`]); `None` when it does not fit an
    /// `i64`.
    ///
    /// ```
    /// # use svcroute::api::Quantity;
    /// assert_eq!("2G".parse::<Quantity>().unwrap().scaled(6), Some(2000));
    /// ```
    pub fn scaled(&self, exponent: i32) -> Option<i64> {
        let shift = i64::from(self.scale) - i64::from(exponent);
        let value = if shift >= 0 {
            let factor = pow10(u32::try_from(shift).ok()?)?;
            self.mantissa.checked_mul(factor)?
        } else {
            let down = u32::try_from(-shift).ok()?;
            match pow10(down) {
                Some(divisor) => {
                    let (q, r) = (self.mantissa / divisor, self.mantissa % divisor);
                    q + r.signum()
                }
                // Smaller than one unit: rounds away from zero to ±1 (or 0).
                None => self.mantissa.signum(),
            }
        };
        i64::try_from(value).ok()
    }

    /// Is the value exactly zero?
    pub fn is_zero(&self) -> bool {
        self.mantissa == 0
    }
}

fn pow10(exp: u32) -> Option<i128> {
    10i128.checked_pow(exp)
}

impl FromStr for Quantity {
    type Err = QuantityError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = |reason| QuantityError {
            text: text.to_owned(),
            reason,
        };
        let bytes = text.as_bytes();
        let mut i = 0;
        let negative = match bytes.first() {
            Some(b'-') => {
                i = 1;
                true
            }
            Some(b'+') => {
                i = 1;
                false
            }
            Some(_) => false,
            None => return Err(err("it is empty")),
        };
        let int_start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let int_digits = &text[int_start..i];
        let mut frac_digits = "";
        if i < bytes.len() && bytes[i] == b'.' {
            i += 1;
            let frac_start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            frac_digits = &text[frac_start..i];
        }
        if int_digits.is_empty() && frac_digits.is_empty() {
            return Err(err("it must start with a number"));
        }
        let suffix = &text[i..];
        let (mut scale, binary_power): (i64, u32) = match suffix {
            "" => (0, 0),
            "n" => (-9, 0),
            "u" => (-6, 0),
            "m" => (-3, 0),
            "k" => (3, 0),
            "M" => (6, 0),
            "G" => (9, 0),
            "T" => (12, 0),
            "P" => (15, 0),
            "E" => (18, 0),
            "Ki" => (0, 1),
            "Mi" => (0, 2),
            "Gi" => (0, 3),
            "Ti" => (0, 4),
            "Pi" => (0, 5),
            "Ei" => (0, 6),
            s if s.starts_with(['e', 'E']) => {
                let exp = &s[1..];
                let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(err("the exponent must be an integer"));
                }
                let exp: i64 = exp
                    .parse()
                    .map_err(|_| err("the exponent is out of range"))?;
                if exp.abs() > 1_000 {
                    return Err(err("the exponent is out of range"));
                }
                (exp, 0)
            }
            _ => {
                return Err(err(
                    "unknown suffix (use n, u, m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei or an exponent)",
                ));
            }
        };
        // Significant digits: integer and fraction parts without leading zeros.
        let all_digits = format!("{int_digits}{frac_digits}");
        scale -= frac_digits.len() as i64;
        let significant = all_digits.trim_start_matches('0');
        let trimmed = significant.trim_end_matches('0');
        scale += (significant.len() - trimmed.len()) as i64;
        if trimmed.len() > MAX_DIGITS {
            return Err(err("it has too many significant digits"));
        }
        let mut mantissa: i128 = if trimmed.is_empty() {
            0
        } else {
            trimmed.parse().map_err(|_| err("it is out of range"))?
        };
        if binary_power > 0 {
            mantissa = mantissa
                .checked_mul(1i128 << (10 * binary_power))
                .ok_or_else(|| err("it is out of range"))?;
        }
        if negative {
            mantissa = -mantissa;
        }
        // Normalize: no trailing zeros in the mantissa (binary suffixes may add some).
        if mantissa == 0 {
            scale = 0;
        } else {
            while mantissa % 10 == 0 {
                mantissa /= 10;
                scale += 1;
            }
        }
        let scale = i32::try_from(scale).map_err(|_| err("it is out of range"))?;
        Ok(Quantity {
            text: text.to_owned(),
            mantissa,
            scale,
        })
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.mantissa == other.mantissa && self.scale == other.scale
    }
}

impl Eq for Quantity {}

impl Hash for Quantity {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.mantissa.hash(state);
        self.scale.hash(state);
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> Ordering {
        let (a, b) = (self.mantissa, other.mantissa);
        if a.signum() != b.signum() || a == 0 {
            return a.signum().cmp(&b.signum());
        }
        // Same sign, both non-zero: bring the larger scale down to the smaller.
        let (hi, lo, flipped) = if self.scale >= other.scale {
            (a, b, false)
        } else {
            (b, a, true)
        };
        let shift = self.scale.abs_diff(other.scale);
        let ord = match pow10(shift).and_then(|f| hi.checked_mul(f)) {
            Some(hi) => hi.cmp(&lo),
            // Overflow: the shifted side is the larger in magnitude.
            None => {
                if hi > 0 {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
        };
        if flipped { ord.reverse() } else { ord }
    }
}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

struct QuantityVisitor;

impl Visitor<'_> for QuantityVisitor {
    type Value = Quantity;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a quantity such as \"3500m\", \"4\" or \"1Gi\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Quantity, E> {
        v.parse().map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Quantity, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Quantity, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Quantity, E> {
        if !v.is_finite() {
            return Err(E::custom("a quantity must be a finite number"));
        }
        self.visit_str(&v.to_string())
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(QuantityVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Quantity {
        s.parse().unwrap()
    }

    #[test]
    fn suffixes() {
        assert_eq!(q("3500m").millis(), Some(3500));
        assert_eq!(q("4").millis(), Some(4000));
        assert_eq!(q("1k").value(), Some(1000));
        assert_eq!(q("1Ki").value(), Some(1024));
        assert_eq!(q("1Mi").value(), Some(1 << 20));
        assert_eq!(q("1Gi").value(), Some(1 << 30));
        assert_eq!(q("8Ei").value(), None); // 2^63 does not fit an i64
        assert_eq!(q("1Ei").value(), Some(1 << 60));
        assert_eq!(q("1E").value(), Some(1_000_000_000_000_000_000));
        assert_eq!(q("1e3").value(), Some(1000));
        assert_eq!(q("1E3").value(), Some(1000));
        assert_eq!(q("1.5e-3").millis(), Some(2));
        assert_eq!(q("100u").millis(), Some(1));
        assert_eq!(q("-1.5").value(), Some(-2));
        assert_eq!(q("+.5").millis(), Some(500));
        assert_eq!(q("5.").value(), Some(5));
        assert_eq!(q("0").millis(), Some(0));
        assert!(q("0.000").is_zero());
    }

    #[test]
    fn rejects() {
        for bad in [
            "",
            "m",
            "-",
            ".",
            "1.2.3",
            "1 ",
            " 1",
            "1x",
            "1ki",
            "1e",
            "1e+",
            "1e1.5",
            "1KiB",
            "1e99999999999",
        ] {
            assert!(bad.parse::<Quantity>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn order_and_eq() {
        assert_eq!(q("1"), q("1000m"));
        assert_eq!(q("1Ki"), q("1024"));
        assert!(q("999m") < q("1"));
        assert!(q("-1") < q("0"));
        assert!(q("1e30") > q("1"));
        assert!(q("-1e30") < q("-1"));
        assert_eq!(q("1.5Gi").to_string(), "1.5Gi");
    }

    #[test]
    fn from_json_numbers() {
        let v: Quantity = serde_json::from_str("4").unwrap();
        assert_eq!(v.millis(), Some(4000));
        let v: Quantity = serde_json::from_str("0.25").unwrap();
        assert_eq!(v.millis(), Some(250));
        assert!(serde_json::from_str::<Quantity>("true").is_err());
        assert_eq!(serde_json::to_string(&q("3500m")).unwrap(), "\"3500m\"");
    }
}
