//! Checks for label keys, label values and the DNS name shapes that the
//! Kubernetes API uses around Services.
//!
//! Every check is a hand-written byte loop equivalent to an anchored regular
//! expression of apimachinery (the equivalent expression is given by
//! [`Pattern::regex`]). On success nothing is allocated; on failure every
//! broken rule is reported, not only the first one, in the order upstream
//! reports them.

use std::fmt;

/// Longest label value, and longest name part of a label key, in bytes.
///
/// ```
/// use svcroute::labels::{validate_label_value, LABEL_NAME_MAX_LEN};
/// assert!(validate_label_value(&"v".repeat(LABEL_NAME_MAX_LEN)).is_ok());
/// assert!(validate_label_value(&"v".repeat(LABEL_NAME_MAX_LEN + 1)).is_err());
/// ```
pub const LABEL_NAME_MAX_LEN: usize = 63;
/// Longest DNS-1123 or DNS-1035 label, in bytes.
///
/// ```
/// use svcroute::labels::{validate_dns1035_label, DNS_LABEL_MAX_LEN};
/// assert!(validate_dns1035_label(&"a".repeat(DNS_LABEL_MAX_LEN + 1)).is_err());
/// ```
pub const DNS_LABEL_MAX_LEN: usize = 63;
/// Longest DNS-1123 subdomain (and label key prefix), in bytes.
///
/// ```
/// use svcroute::labels::{validate_label_key, DNS_SUBDOMAIN_MAX_LEN};
/// let prefix = "a".repeat(DNS_SUBDOMAIN_MAX_LEN);
/// assert!(validate_label_key(&format!("{prefix}/name")).is_ok());
/// assert!(validate_label_key(&format!("a{prefix}/name")).is_err());
/// ```
pub const DNS_SUBDOMAIN_MAX_LEN: usize = 253;

/// What a string was checked as.
///
/// ```
/// use svcroute::labels::{validate_label_value, Format};
/// let err = validate_label_value("-x").unwrap_err();
/// assert_eq!(err.format(), Format::LabelValue);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// A label key: optional DNS-1123 subdomain prefix and `/`, then a name.
    LabelKey,
    /// A label value (may be empty).
    LabelValue,
    /// A DNS-1123 label (`[a-z0-9]` ends, `-` inside, at most 63 bytes).
    Dns1123Label,
    /// A DNS-1123 subdomain (dot-joined DNS-1123 labels, at most 253 bytes).
    Dns1123Subdomain,
    /// A DNS-1035 label (like DNS-1123 but starting with a letter).
    Dns1035Label,
}

impl Format {
    /// A short English name of the format, as used in error messages.
    ///
    /// ```
    /// assert_eq!(svcroute::labels::Format::LabelKey.name(), "label key");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Format::LabelKey => "label key",
            Format::LabelValue => "label value",
            Format::Dns1123Label => "DNS-1123 label",
            Format::Dns1123Subdomain => "DNS-1123 subdomain",
            Format::Dns1035Label => "DNS-1035 label",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The character pattern a string (or a part of a label key) must fit.
///
/// ```
/// use svcroute::labels::Pattern;
/// assert_eq!(Pattern::Dns1035Label.regex(), "[a-z]([-a-z0-9]*[a-z0-9])?");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Pattern {
    /// Name part of a label key: `A-Z a-z 0-9` at both ends, `- _ .` also inside.
    LabelName,
    /// Label value: empty, or the label name pattern.
    LabelValue,
    /// `a-z 0-9` at both ends, `-` also inside.
    Dns1123Label,
    /// One or more DNS-1123 labels joined by single dots.
    Dns1123Subdomain,
    /// A lowercase letter first, `a-z 0-9` last, `-` also inside.
    Dns1035Label,
}

impl Pattern {
    /// The regular expression (anchored at both ends) this pattern is
    /// equivalent to.
    ///
    /// ```
    /// use svcroute::labels::Pattern;
    /// assert!(Pattern::LabelName.regex().starts_with("([A-Za-z0-9]"));
    /// ```
    pub fn regex(self) -> &'static str {
        match self {
            Pattern::LabelName => "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]",
            Pattern::LabelValue => "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?",
            Pattern::Dns1123Label => "[a-z0-9]([-a-z0-9]*[a-z0-9])?",
            Pattern::Dns1123Subdomain => {
                "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
            }
            Pattern::Dns1035Label => "[a-z]([-a-z0-9]*[a-z0-9])?",
        }
    }

    /// Checks `text` against the pattern (no length limit applied).
    ///
    /// ```
    /// use svcroute::labels::Pattern;
    /// assert!(Pattern::LabelValue.is_match(""));
    /// assert!(!Pattern::LabelName.is_match(""));
    /// assert!(Pattern::Dns1123Subdomain.is_match("a.b-c.d"));
    /// ```
    pub fn is_match(self, text: &str) -> bool {
        let b = text.as_bytes();
        match self {
            Pattern::LabelName => label_name_shape(b),
            Pattern::LabelValue => b.is_empty() || label_name_shape(b),
            Pattern::Dns1123Label => dns1123_label_shape(b),
            Pattern::Dns1123Subdomain => dns1123_subdomain_shape(b),
            Pattern::Dns1035Label => dns1035_label_shape(b),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Pattern::LabelName => {
                "must consist of alphanumeric characters, '-', '_' or '.', \
                 and must start and end with an alphanumeric character"
            }
            Pattern::LabelValue => {
                "must be empty or consist of alphanumeric characters, '-', '_' or '.', \
                 and must start and end with an alphanumeric character"
            }
            Pattern::Dns1123Label => {
                "must consist of lowercase alphanumeric characters or '-', \
                 and must start and end with an alphanumeric character"
            }
            Pattern::Dns1123Subdomain => {
                "must be lowercase alphanumeric labels ('-' allowed inside a label) \
                 joined by single dots, starting and ending with an alphanumeric character"
            }
            Pattern::Dns1035Label => {
                "must consist of lowercase alphanumeric characters or '-', \
                 start with a letter and end with an alphanumeric character"
            }
        }
    }
}

/// The part of a label key a [`Violation`] is about.
///
/// ```
/// use svcroute::labels::{validate_label_key, KeyPart};
/// let err = validate_label_key("/x").unwrap_err();
/// assert_eq!(err.violations()[0].part, Some(KeyPart::Prefix));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyPart {
    /// The DNS subdomain before the `/`.
    Prefix,
    /// The name (after the `/`, or the whole key without one).
    Name,
}

/// One rule a string breaks.
///
/// ```
/// use svcroute::labels::{validate_dns1123_label, Rule};
/// let err = validate_dns1123_label("a.b").unwrap_err();
/// assert_eq!(err.violations()[0].rule, Rule::NoDots);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// Must not be empty.
    NonEmpty,
    /// Must be at most `max` bytes long.
    MaxLength {
        /// The limit, in bytes.
        max: usize,
    },
    /// Must fit the character pattern.
    Pattern(Pattern),
    /// A DNS-1123 label must not contain dots (the text would be a valid
    /// subdomain).
    NoDots,
    /// A label key has at most one `/`.
    AtMostOneSlash,
}

/// A broken rule, and which part of a label key it concerns (`None` for
/// anything but a label key, and for a key with too many slashes).
///
/// ```
/// use svcroute::labels::{validate_label_key, KeyPart, Rule};
/// let err = validate_label_key("a/").unwrap_err();
/// assert_eq!(err.violations()[0].part, Some(KeyPart::Name));
/// assert_eq!(err.violations()[0].rule, Rule::NonEmpty);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Violation {
    /// The key part, for label keys.
    pub part: Option<KeyPart>,
    /// The rule.
    pub rule: Rule,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.part {
            Some(KeyPart::Prefix) => f.write_str("prefix part ")?,
            Some(KeyPart::Name) => f.write_str("name part ")?,
            None => {}
        }
        match self.rule {
            Rule::NonEmpty => f.write_str("must be non-empty"),
            Rule::MaxLength { max } => write!(f, "must be no more than {max} bytes"),
            Rule::Pattern(p) => write!(f, "{} (regex '{}')", p.describe(), p.regex()),
            Rule::NoDots => f.write_str("must not contain dots"),
            Rule::AtMostOneSlash => f.write_str(
                "must be a name with an optional DNS subdomain prefix and '/' \
                 (e.g. 'example.com/MyName'): at most one '/'",
            ),
        }
    }
}

/// A string that fails a label or DNS check, with every rule it breaks.
///
/// ```
/// use svcroute::labels::{validate_label_key, KeyPart, Rule};
/// let key = format!("Example.com/{}", "n".repeat(64));
/// let err = validate_label_key(&key).unwrap_err();
/// // Errors are collected: the prefix and the name are both wrong.
/// assert_eq!(err.violations().len(), 2);
/// assert_eq!(err.violations()[0].part, Some(KeyPart::Prefix));
/// assert_eq!(err.violations()[1].rule, Rule::MaxLength { max: 63 });
/// assert!(err.to_string().starts_with("invalid label key"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ValidationError {
    format: Format,
    value: String,
    violations: Vec<Violation>,
}

impl ValidationError {
    /// What the string was checked as.
    ///
    /// ```
    /// use svcroute::labels::{validate_dns1035_label, Format};
    /// assert_eq!(validate_dns1035_label("1a").unwrap_err().format(), Format::Dns1035Label);
    /// ```
    pub fn format(&self) -> Format {
        self.format
    }

    /// The rejected string.
    ///
    /// ```
    /// let err = svcroute::labels::validate_label_value("a b").unwrap_err();
    /// assert_eq!(err.value(), "a b");
    /// ```
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Every broken rule, in upstream order (never empty).
    ///
    /// ```
    /// let err = svcroute::labels::validate_label_value(&"-".repeat(64)).unwrap_err();
    /// assert_eq!(err.violations().len(), 2); // too long, and bad characters
    /// ```
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {} {}: ", self.format, Snippet(&self.value))?;
        for (i, v) in self.violations.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{v}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationError {}

/// Prints a user string quoted and escaped, shortened when long, so that an
/// error message about a hostile input stays readable.
pub(crate) struct Snippet<'a>(pub(crate) &'a str);

impl fmt::Display for Snippet<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MAX: usize = 80;
        let s = self.0;
        if s.len() <= MAX {
            return write!(f, "{s:?}");
        }
        let mut cut = MAX;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        write!(f, "{:?}... ({} bytes)", &s[..cut], s.len())
    }
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

fn is_lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`
fn label_name_shape(b: &[u8]) -> bool {
    match (b.first(), b.last()) {
        (Some(&first), Some(&last)) if is_alnum(first) && is_alnum(last) => b
            .iter()
            .all(|&c| is_alnum(c) || c == b'-' || c == b'_' || c == b'.'),
        _ => false,
    }
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
fn dns1123_label_shape(b: &[u8]) -> bool {
    match (b.first(), b.last()) {
        (Some(&first), Some(&last)) if is_lower_alnum(first) && is_lower_alnum(last) => {
            b.iter().all(|&c| is_lower_alnum(c) || c == b'-')
        }
        _ => false,
    }
}

/// Dot-joined DNS-1123 labels, no per-label length cap.
fn dns1123_subdomain_shape(b: &[u8]) -> bool {
    !b.is_empty() && b.split(|&c| c == b'.').all(dns1123_label_shape)
}

/// `[a-z]([-a-z0-9]*[a-z0-9])?`
fn dns1035_label_shape(b: &[u8]) -> bool {
    matches!(b.first(), Some(c) if c.is_ascii_lowercase()) && dns1123_label_shape(b)
}

/// Collects violations; allocates only when one is pushed.
struct Collector {
    format: Format,
    found: Vec<Violation>,
}

impl Collector {
    fn new(format: Format) -> Self {
        Collector {
            format,
            found: Vec::new(),
        }
    }

    fn push(&mut self, part: Option<KeyPart>, rule: Rule) {
        self.found.push(Violation { part, rule });
    }

    fn finish(self, value: &str) -> Result<(), ValidationError> {
        if self.found.is_empty() {
            Ok(())
        } else {
            Err(ValidationError {
                format: self.format,
                value: value.to_owned(),
                violations: self.found,
            })
        }
    }
}

fn subdomain_rules(c: &mut Collector, part: Option<KeyPart>, text: &str) {
    if text.len() > DNS_SUBDOMAIN_MAX_LEN {
        c.push(
            part,
            Rule::MaxLength {
                max: DNS_SUBDOMAIN_MAX_LEN,
            },
        );
    }
    if !dns1123_subdomain_shape(text.as_bytes()) {
        c.push(part, Rule::Pattern(Pattern::Dns1123Subdomain));
    }
}

/// `validate_label_key(key).is_ok()`, without collecting what is wrong.
#[cfg(not(feature = "compact"))]
pub(crate) fn is_label_key(key: &str) -> bool {
    let b = key.as_bytes();
    let name_ok = |n: &[u8]| !n.is_empty() && n.len() <= LABEL_NAME_MAX_LEN && label_name_shape(n);
    match b.iter().position(|&c| c == b'/') {
        None => name_ok(b),
        Some(slash) => {
            let (prefix, name) = (&b[..slash], &b[slash + 1..]);
            prefix.len() <= DNS_SUBDOMAIN_MAX_LEN
                && dns1123_subdomain_shape(prefix)
                && name_ok(name)
        }
    }
}

/// Checks a label key (apimachinery `IsQualifiedName` / `IsLabelKey`).
///
/// A key is `name` or `prefix/name`. The prefix must be a non-empty
/// lowercase DNS-1123 subdomain of at most 253 bytes (no 63-byte cap per
/// dot-separated label); the name must be 1 to 63 bytes of `A-Z a-z 0-9`
/// with `-`, `_`, `.` allowed inside. More than one `/` is one combined
/// error. All broken rules are reported.
///
/// ```
/// use svcroute::labels::validate_label_key;
/// assert!(validate_label_key("app.kubernetes.io/name").is_ok());
/// assert!(validate_label_key("Uppercase_Is_OK_123").is_ok());
/// assert!(validate_label_key(&format!("{}.com/x", "a".repeat(100))).is_ok());
/// assert!(validate_label_key("Example.com/x").is_err()); // prefix is lowercase only
/// assert!(validate_label_key("a/b/c").is_err());
/// assert!(validate_label_key("x\n").is_err()); // no trailing newline either
/// ```
pub fn validate_label_key(key: &str) -> Result<(), ValidationError> {
    let mut c = Collector::new(Format::LabelKey);
    let name = match key.split_once('/') {
        None => key,
        Some((_, rest)) if rest.contains('/') => {
            c.push(None, Rule::AtMostOneSlash);
            return c.finish(key);
        }
        Some((prefix, name)) => {
            if prefix.is_empty() {
                c.push(Some(KeyPart::Prefix), Rule::NonEmpty);
            } else {
                subdomain_rules(&mut c, Some(KeyPart::Prefix), prefix);
            }
            name
        }
    };
    let part = Some(KeyPart::Name);
    if name.is_empty() {
        c.push(part, Rule::NonEmpty);
    } else if name.len() > LABEL_NAME_MAX_LEN {
        c.push(
            part,
            Rule::MaxLength {
                max: LABEL_NAME_MAX_LEN,
            },
        );
    }
    if !label_name_shape(name.as_bytes()) {
        c.push(part, Rule::Pattern(Pattern::LabelName));
    }
    c.finish(key)
}

/// Checks a label value (apimachinery `IsValidLabelValue`): at most 63 bytes,
/// and either empty or of the label name pattern. **The empty string is
/// valid.**
///
/// ```
/// use svcroute::labels::validate_label_value;
/// assert!(validate_label_value("").is_ok());
/// assert!(validate_label_value("1.5").is_ok());
/// assert!(validate_label_value("-1").is_err());
/// assert!(validate_label_value("bad,value").is_err());
/// ```
pub fn validate_label_value(value: &str) -> Result<(), ValidationError> {
    let mut c = Collector::new(Format::LabelValue);
    if value.len() > LABEL_NAME_MAX_LEN {
        c.push(
            None,
            Rule::MaxLength {
                max: LABEL_NAME_MAX_LEN,
            },
        );
    }
    if !value.is_empty() && !label_name_shape(value.as_bytes()) {
        c.push(None, Rule::Pattern(Pattern::LabelValue));
    }
    c.finish(value)
}

/// Checks a DNS-1123 label (apimachinery `IsDNS1123Label`): 1 to 63 bytes of
/// `a-z 0-9 -`, alphanumeric at both ends. A leading digit is fine. A text
/// that would be a valid subdomain gets the specific "no dots" rule.
///
/// ```
/// use svcroute::labels::validate_dns1123_label;
/// assert!(validate_dns1123_label("0").is_ok());
/// assert!(validate_dns1123_label("my-name").is_ok());
/// assert!(validate_dns1123_label("aBc").is_err());
/// assert!(validate_dns1123_label("").is_err());
/// ```
pub fn validate_dns1123_label(value: &str) -> Result<(), ValidationError> {
    let mut c = Collector::new(Format::Dns1123Label);
    if value.len() > DNS_LABEL_MAX_LEN {
        c.push(
            None,
            Rule::MaxLength {
                max: DNS_LABEL_MAX_LEN,
            },
        );
    }
    let b = value.as_bytes();
    if !dns1123_label_shape(b) {
        if dns1123_subdomain_shape(b) {
            c.push(None, Rule::NoDots);
        } else {
            c.push(None, Rule::Pattern(Pattern::Dns1123Label));
        }
    }
    c.finish(value)
}

/// Checks a DNS-1123 subdomain (apimachinery `IsDNS1123Subdomain`): at most
/// 253 bytes of DNS-1123 labels joined by single dots. There is no 63-byte
/// limit per label in this check.
///
/// ```
/// use svcroute::labels::validate_dns1123_subdomain;
/// assert!(validate_dns1123_subdomain("1.2.3.4.5").is_ok());
/// assert!(validate_dns1123_subdomain(&format!("{}.com", "a".repeat(64))).is_ok());
/// assert!(validate_dns1123_subdomain("").is_err());
/// assert!(validate_dns1123_subdomain("a..b").is_err());
/// ```
pub fn validate_dns1123_subdomain(value: &str) -> Result<(), ValidationError> {
    let mut c = Collector::new(Format::Dns1123Subdomain);
    subdomain_rules(&mut c, None, value);
    c.finish(value)
}

/// Checks a DNS-1035 label (apimachinery `IsDNS1035Label`, used for Service
/// names): like a DNS-1123 label, but the first byte must be a letter.
///
/// ```
/// use svcroute::labels::validate_dns1035_label;
/// assert!(validate_dns1035_label("web-1").is_ok());
/// assert!(validate_dns1035_label("1web").is_err());
/// ```
pub fn validate_dns1035_label(value: &str) -> Result<(), ValidationError> {
    let mut c = Collector::new(Format::Dns1035Label);
    if value.len() > DNS_LABEL_MAX_LEN {
        c.push(
            None,
            Rule::MaxLength {
                max: DNS_LABEL_MAX_LEN,
            },
        );
    }
    if !dns1035_label_shape(value.as_bytes()) {
        c.push(None, Rule::Pattern(Pattern::Dns1035Label));
    }
    c.finish(value)
}

/// Every label key and value of a label map that fails its check.
///
/// ```
/// use std::collections::BTreeMap;
/// use svcroute::labels::validate_label_map;
/// let labels = BTreeMap::from([("-a".to_string(), "b,c".to_string())]);
/// let err = validate_label_map(&labels).unwrap_err();
/// assert_eq!(err.errors().len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelMapError {
    errors: Vec<ValidationError>,
}

impl LabelMapError {
    /// The failed checks, in map order, key before value (never empty).
    ///
    /// ```
    /// use svcroute::labels::{validate_label_map, Format};
    /// let err = validate_label_map([("a", "-")]).unwrap_err();
    /// assert_eq!(err.errors()[0].format(), Format::LabelValue);
    /// ```
    pub fn errors(&self) -> &[ValidationError] {
        &self.errors
    }
}

impl fmt::Display for LabelMapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LabelMapError {}

/// Checks every key and value of a label map (apimachinery `ValidateLabels`),
/// for example `metadata.labels` or a Service's `spec.selector`.
///
/// ```
/// use std::collections::BTreeMap;
/// use svcroute::labels::validate_label_map;
/// let ok = BTreeMap::from([("app".to_string(), String::new())]);
/// assert!(validate_label_map(&ok).is_ok());
/// assert!(validate_label_map([("a b", "c")]).is_err());
/// ```
pub fn validate_label_map<K, V>(
    labels: impl IntoIterator<Item = (K, V)>,
) -> Result<(), LabelMapError>
where
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut errors = Vec::new();
    for (k, v) in labels {
        if let Err(e) = validate_label_key(k.as_ref()) {
            errors.push(e);
        }
        if let Err(e) = validate_label_value(v.as_ref()) {
            errors.push(e);
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(LabelMapError { errors })
    }
}
