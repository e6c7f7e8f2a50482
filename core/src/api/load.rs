//! The manifest loader: JSON or YAML text in, typed objects out.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::decode::{DecodeError, FromValue, Step};
use super::error::{ApiError, ObjectRef, Problem, ProblemKind};
use super::metav1::TypeMeta;
use super::object::{
    Bookmark, Modelled, Object, Status, WatchEvent, WatchEventType, classify, decode_kind,
};

/// The loader's limits on hostile input (issue 13), each named in the
/// problem of kind [`ProblemKind::Limit`] that breaking it gives. The
/// cluster's own limits (objects per cluster, labels per object) are
/// [`ClusterLimits`](crate::cluster::ClusterLimits), which holds these too.
///
/// ```
/// use svcroute::api::{self, LoadLimits};
/// let l = LoadLimits::default();
/// assert_eq!((l.max_input_bytes, l.max_documents, l.max_depth, l.max_string_bytes),
///            (256 << 20, 100_000, 128, 1 << 20));
///
/// let tight = LoadLimits { max_documents: 2, ..LoadLimits::default() };
/// let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n";
/// let err = api::load_with(&[cm, cm, cm].join("---\n"), &tight).unwrap_err();
/// assert_eq!(err.kind(), svcroute::ErrorKind::Limit);
/// assert!(err.to_string().contains("maxDocuments"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadLimits {
    /// Bytes of one input at most (256 MiB; `maxInputBytes`), checked
    /// before anything is read.
    pub max_input_bytes: usize,
    /// Documents in one input (100,000; `maxDocuments`): YAML documents,
    /// empty ones included, or JSON values. A `List` is one document.
    pub max_documents: usize,
    /// Nesting of maps and lists (128; `maxDepth`). 128 is also the most:
    /// a larger value is taken as 128 (serde_json's own limit).
    pub max_depth: usize,
    /// Bytes of one string, map keys included (1 MiB; `maxStringBytes`).
    /// The API server refuses objects over 1.5 MiB in all.
    pub max_string_bytes: usize,
}

impl Default for LoadLimits {
    fn default() -> Self {
        LoadLimits {
            max_input_bytes: 256 << 20,
            max_documents: 100_000,
            max_depth: 128,
            max_string_bytes: 1 << 20,
        }
    }
}

/// The problem of an input over [`LoadLimits::max_input_bytes`], if it is.
fn input_too_large(text: &str, limits: &LoadLimits) -> Option<ApiError> {
    (text.len() > limits.max_input_bytes).then(|| {
        ApiError::new(vec![Problem::new(
            ProblemKind::Limit,
            0,
            format!(
                "the input is {} bytes, over the limit of {} bytes (maxInputBytes)",
                text.len(),
                limits.max_input_bytes
            ),
        )])
    })
}

/// A value read from the input, with where it was.
///
/// ```
/// let loaded = svcroute::api::load_json(r#"{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}"#).unwrap();
/// let ns = &loaded.objects[0];
/// assert_eq!((ns.document, ns.item, ns.line), (0, None, Some(1)));
/// assert_eq!(ns.value.name(), Some("shop"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// 0-based index of its document: YAML documents (empty ones included)
    /// or JSON values, in input order.
    pub document: usize,
    /// 0-based index in the `items` of a `List` (the outermost one, for
    /// nested lists) or of a top-level array; `None` for a document that is
    /// the object itself.
    pub item: Option<usize>,
    /// 1-based line where the object starts (YAML) or where its document
    /// starts (JSON); `None` for [`load_value`].
    pub line: Option<usize>,
}

/// What a load produced: the objects of modelled kinds, the watch events,
/// and how many objects of each unmodelled kind were skipped (D1: skipped
/// kinds are a notice, never an error).
///
/// ```
/// use svcroute::api::{self, TypeMeta};
///
/// let loaded = api::load_json(r#"{"apiVersion": "v1", "kind": "List", "items": [
///   {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}},
///   {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}},
///   {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}}]}"#).unwrap();
/// assert_eq!(loaded.objects.len(), 1);
/// assert_eq!(loaded.skipped[&TypeMeta::new("v1", "ConfigMap")], 2);
/// assert_eq!(loaded.skipped_count(), 2);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Loaded {
    /// Objects of modelled kinds, in input order (List items in order).
    pub objects: Vec<Located<Object>>,
    /// Watch events, in input order.
    pub events: Vec<Located<WatchEvent>>,
    /// Objects of kinds svcroute does not model, counted by
    /// `(apiVersion, kind)`.
    pub skipped: BTreeMap<TypeMeta, usize>,
}

impl Loaded {
    /// The objects without their positions.
    pub fn iter_objects(&self) -> impl Iterator<Item = &Object> {
        self.objects.iter().map(|o| &o.value)
    }

    /// The objects, by value, without their positions.
    pub fn into_objects(self) -> Vec<Object> {
        self.objects.into_iter().map(|o| o.value).collect()
    }

    /// How many objects were skipped, all kinds together.
    pub fn skipped_count(&self) -> usize {
        self.skipped.values().sum()
    }
}

/// Loads JSON or YAML, whichever the text is: text whose first
/// non-blank character is `{` or `[` is read as JSON (a single value or a
/// stream of values, e.g. watch events one per line); anything else, or
/// JSON-looking text that is not valid JSON but is valid YAML, as YAML.
/// Without the `yaml` feature, only JSON is read.
///
/// Accepted shapes, in any mix: single objects; YAML multi-document
/// streams; `List` documents (`kind: List` or `PodList`, `ServiceList`...,
/// nested lists too; the items of a typed list may omit their `kind`); a
/// top-level JSON array of objects; watch events
/// (`{"type": "ADDED", "object": {...}}`).
///
/// Errors: every problem of every document is reported (see
/// [`ApiError::problems`]); a load with any problem returns no objects.
///
/// ```
/// use svcroute::api::{self, Object};
///
/// let loaded = api::load("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: {app: web}\n").unwrap();
/// let Object::Pod(pod) = &loaded.objects[0].value else { panic!() };
/// assert_eq!(pod.metadata.labels["app"], "web");
/// ```
pub fn load(text: &str) -> Result<Loaded, ApiError> {
    load_with(text, &LoadLimits::default())
}

/// [`load`] within `limits` (issue 13): an input over any of them is a
/// problem of kind [`ProblemKind::Limit`] that names the limit.
///
/// ```
/// use svcroute::api::{self, LoadLimits};
/// let tight = LoadLimits { max_input_bytes: 10, ..LoadLimits::default() };
/// let err = api::load_with("{\"kind\": \"Service\"}", &tight).unwrap_err();
/// assert!(err.to_string().contains("over the limit of 10 bytes (maxInputBytes)"));
/// ```
pub fn load_with(text: &str, limits: &LoadLimits) -> Result<Loaded, ApiError> {
    if let Some(err) = input_too_large(text, limits) {
        return Err(err);
    }
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with(['{', '[']) {
        match load_json_with(text, limits) {
            Ok(loaded) => return Ok(loaded),
            Err(json_err) => {
                let syntax = json_err
                    .problems()
                    .iter()
                    .any(|p| p.kind == ProblemKind::Syntax);
                if !syntax || !cfg!(feature = "yaml") {
                    return Err(json_err);
                }
                // Flow-style YAML starts like JSON; if it reads as YAML, take it.
                #[cfg(feature = "yaml")]
                if let Ok(loaded) = load_yaml_with(text, limits) {
                    return Ok(loaded);
                }
                return Err(json_err);
            }
        }
    }
    #[cfg(feature = "yaml")]
    {
        load_yaml_with(text, limits)
    }
    #[cfg(not(feature = "yaml"))]
    {
        if trimmed.is_empty() {
            return Ok(Loaded::default());
        }
        Err(ApiError::new(vec![Problem::new(
            ProblemKind::Syntax,
            0,
            "this is not JSON, and svcroute was built without YAML support (feature `yaml`)",
        )]))
    }
}

/// Loads JSON: one value, or a stream of values separated by whitespace
/// (e.g. `kubectl get -w -o json --output-watch-events`). See [`load`] for
/// the shapes accepted.
///
/// ```
/// let loaded = svcroute::api::load_json(r#"
///   {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a"}}
///   {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "b"}}"#).unwrap();
/// assert_eq!(loaded.objects[1].document, 1);
/// ```
pub fn load_json(text: &str) -> Result<Loaded, ApiError> {
    load_json_with(text, &LoadLimits::default())
}

/// [`load_json`] within `limits`.
///
/// ```
/// use svcroute::api::{self, LoadLimits};
/// let tight = LoadLimits { max_depth: 3, ..LoadLimits::default() };
/// let err = api::load_json_with(r#"{"a": {"b": {"c": {"d": 1}}}}"#, &tight).unwrap_err();
/// assert_eq!(err.problems()[0].field.as_deref(), Some("a.b.c"));
/// assert!(err.to_string().contains("maxDepth"));
/// ```
pub fn load_json_with(text: &str, limits: &LoadLimits) -> Result<Loaded, ApiError> {
    if let Some(err) = input_too_large(text, limits) {
        return Err(err);
    }
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut walker = Walker::new(*limits);
    let mut lines = LineCounter::new(body);
    let mut stream = serde_json::Deserializer::from_str(body).into_iter::<JsonValue>();
    let mut document = 0;
    loop {
        let start = stream.byte_offset();
        if document >= limits.max_documents && !body[start..].trim().is_empty() {
            walker.problems.push(Problem::new(
                ProblemKind::Limit,
                document,
                format!(
                    "more than {} documents in one input (maxDocuments)",
                    limits.max_documents
                ),
            ));
            break;
        }
        match stream.next() {
            None => break,
            Some(Ok(JsonValue(Value::Null))) => document += 1,
            Some(Ok(JsonValue(value))) => {
                let line = lines.line_of_next_token(start);
                walker.document(document, &value, Position::Line(line));
                document += 1;
            }
            Some(Err(err)) => {
                let kind = if err.to_string().contains("recursion limit") {
                    ProblemKind::Limit
                } else {
                    ProblemKind::Syntax
                };
                let mut p = Problem::new(kind, document, json_message(&err));
                if err.line() > 0 {
                    p.line = Some(err.line());
                    p.column = Some(err.column());
                }
                walker.problems.push(p);
                break;
            }
        }
    }
    walker.finish()
}

/// Loads YAML: one document or a multi-document stream (`---`, `...`; empty
/// documents are skipped but counted in document indices; no limit on the
/// number of documents). See [`load`] for the shapes accepted.
///
/// Scalars follow what `kubectl` does with YAML (go-yaml v2's YAML 1.1
/// rules, then strict JSON typing): an unquoted `true`/`yes`/`on`/`y`, a
/// number or `0755` (octal) is not a string, so where the API wants a string
/// (a name, a label value) it is an error that says so; quote it. Anchors,
/// aliases and `<<` merge keys work. Duplicate keys are an error. Nesting
/// deeper than 128 levels, and aliases that expand beyond a budget (alias
/// bombs), are problems of kind [`ProblemKind::Limit`]. A syntax error ends
/// its document only: reading resumes at the next `---`.
///
/// ```
/// let yaml = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels:\n    canary: yes\n";
/// let err = svcroute::api::load_yaml(yaml).unwrap_err();
/// let p = &err.problems()[0];
/// assert_eq!(p.field.as_deref(), Some("metadata.labels.canary"));
/// assert_eq!((p.line, p.column), (Some(6), Some(13)));
/// assert!(p.message.contains("quote it"));
/// ```
#[cfg(feature = "yaml")]
pub fn load_yaml(text: &str) -> Result<Loaded, ApiError> {
    load_yaml_with(text, &LoadLimits::default())
}

/// [`load_yaml`] within `limits`.
///
/// ```
/// use svcroute::api::{self, LoadLimits};
/// let tight = LoadLimits { max_string_bytes: 4, ..LoadLimits::default() };
/// let err = api::load_yaml_with("a: {b: longer}\n", &tight).unwrap_err();
/// assert_eq!((err.problems()[0].line, err.problems()[0].column), (Some(1), Some(8)));
/// assert!(err.to_string().contains("maxStringBytes"));
/// ```
#[cfg(feature = "yaml")]
pub fn load_yaml_with(text: &str, limits: &LoadLimits) -> Result<Loaded, ApiError> {
    if let Some(err) = input_too_large(text, limits) {
        return Err(err);
    }
    let mut walker = Walker::new(*limits);
    for (document, result) in super::yaml::documents(text, limits).into_iter().enumerate() {
        match result {
            Ok((value, span)) => walker.document(document, &value, Position::Span(Some(&span))),
            Err(problem) => walker.problems.push(problem),
        }
    }
    walker.finish()
}

/// Loads an already-decoded JSON value as one document (an object, a List,
/// a watch event, or an array of those), e.g. an `objects` array of a
/// conformance case or a value handed over by JavaScript.
///
/// ```
/// let v = serde_json::json!([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}]);
/// assert_eq!(svcroute::api::load_value(&v).unwrap().objects[0].item, Some(0));
/// ```
pub fn load_value(value: &Value) -> Result<Loaded, ApiError> {
    load_value_with(value, &LoadLimits::default())
}

/// [`load_value`] within `limits` (its depth and string lengths; the value
/// is already decoded, so input size and documents do not apply).
///
/// ```
/// use svcroute::api::{self, LoadLimits};
/// let tight = LoadLimits { max_string_bytes: 2, ..LoadLimits::default() };
/// let v = serde_json::json!({"apiVersion": "v1"});
/// assert!(api::load_value_with(&v, &tight).is_err());
/// ```
pub fn load_value_with(value: &Value, limits: &LoadLimits) -> Result<Loaded, ApiError> {
    let mut walker = Walker::new(*limits);
    walker.document(0, value, Position::Line(None));
    walker.finish()
}

fn json_message(err: &serde_json::Error) -> String {
    // serde_json appends " at line L column C"; the position has its own fields.
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(i) if err.line() > 0 => text[..i].to_owned(),
        _ => text,
    }
}

/// Counts lines incrementally over increasing byte offsets.
struct LineCounter<'a> {
    text: &'a str,
    offset: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        LineCounter {
            text,
            offset: 0,
            line: 1,
        }
    }

    /// The line of the first non-blank character at or after `offset`.
    fn line_of_next_token(&mut self, offset: usize) -> Option<usize> {
        let rest = self.text.get(offset..)?;
        let token = offset + (rest.len() - rest.trim_start().len());
        let from = self.offset.min(token);
        self.line += self
            .text
            .get(from..token)?
            .bytes()
            .filter(|&b| b == b'\n')
            .count();
        self.offset = token;
        Some(self.line)
    }
}

/// Where a node of a YAML document was, with its children's positions.
#[derive(Debug, Clone, Default)]
pub(crate) struct Span {
    pub(crate) line: usize,
    pub(crate) column: usize,
    pub(crate) children: Children,
}

/// The positions of a node's children.
#[derive(Debug, Clone, Default)]
#[cfg_attr(not(feature = "yaml"), allow(dead_code))]
pub(crate) enum Children {
    #[default]
    None,
    Seq(Vec<Span>),
    Map(Vec<(String, Span)>),
}

/// Where the nodes of a document are: line and column of every node (YAML),
/// or only the line where the document starts (JSON).
#[derive(Clone, Copy)]
#[cfg_attr(not(feature = "yaml"), allow(dead_code))]
enum Position<'a> {
    Span(Option<&'a Span>),
    Line(Option<usize>),
}

impl<'a> Position<'a> {
    fn key(self, key: &str) -> Self {
        match self {
            Position::Span(Some(Span {
                children: Children::Map(entries),
                ..
            })) => Position::Span(entries.iter().find(|(k, _)| k == key).map(|(_, s)| s)),
            Position::Span(_) => Position::Span(None),
            line => line,
        }
    }

    fn index(self, index: usize) -> Self {
        match self {
            Position::Span(Some(Span {
                children: Children::Seq(items),
                ..
            })) => Position::Span(items.get(index)),
            Position::Span(_) => Position::Span(None),
            line => line,
        }
    }

    fn line(self) -> Option<usize> {
        self.line_column().0
    }

    fn line_column(self) -> (Option<usize>, Option<usize>) {
        match self {
            Position::Span(Some(s)) => (Some(s.line), Some(s.column)),
            Position::Span(None) => (None, None),
            Position::Line(line) => (line, None),
        }
    }

    /// The deepest node along `path` that exists.
    fn follow(self, path: &[Step]) -> Self {
        let mut at = self;
        for step in path {
            let next = match step {
                Step::Index(index) => at.index(*index),
                Step::Key(key) => at.key(key),
            };
            if next.line().is_none() {
                break;
            }
            at = next;
        }
        at
    }
}

/// `spec.ports[0].targetPort`; map keys that are not plain identifiers in
/// brackets: `metadata.labels[app.kubernetes.io/name]`.
fn format_path(path: &[Step]) -> Option<String> {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Index(index) => out.push_str(&format!("[{index}]")),
            Step::Key(key) => {
                let plain = !key.is_empty()
                    && key
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                if plain {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(key);
                } else {
                    out.push('[');
                    out.push_str(key);
                    out.push(']');
                }
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

fn object_ref(map: &Map<String, Value>, type_meta: Option<(&str, &str)>) -> ObjectRef {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let metadata = map.get("metadata");
    let (api_version, kind) = match type_meta {
        Some((a, k)) => (a.to_owned(), k.to_owned()),
        None => (
            text(map.get("apiVersion")).unwrap_or_default(),
            text(map.get("kind")).unwrap_or_default(),
        ),
    };
    ObjectRef {
        api_version,
        kind,
        namespace: text(metadata.and_then(|m| m.get("namespace"))),
        name: text(metadata.and_then(|m| m.get("name"))),
    }
}

/// The first string over [`LoadLimits::max_string_bytes`] or node deeper
/// than [`LoadLimits::max_depth`] in `value`: the message, with `path` left
/// at the place. Recursion stops at `max_depth` (at most 128).
fn first_over(value: &Value, limits: &LoadLimits, path: &mut Vec<Step>) -> Option<String> {
    let max_depth = limits.max_depth.min(128);
    let max_string = limits.max_string_bytes;
    match value {
        Value::String(s) if s.len() > max_string => Some(format!(
            "a string of {} bytes, over the limit of {max_string} bytes (maxStringBytes)",
            s.len()
        )),
        Value::Array(_) | Value::Object(_) if path.len() >= max_depth => {
            Some(format!("nesting deeper than {max_depth} levels (maxDepth)"))
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Step::Index(i));
                if let Some(m) = first_over(item, limits, path) {
                    return Some(m);
                }
                path.pop();
            }
            None
        }
        Value::Object(map) => {
            for (k, item) in map {
                if k.len() > max_string {
                    return Some(format!(
                        "a key of {} bytes, over the limit of {max_string} bytes (maxStringBytes)",
                        k.len()
                    ));
                }
                path.push(Step::Key(k.clone()));
                if let Some(m) = first_over(item, limits, path) {
                    return Some(m);
                }
                path.pop();
            }
            None
        }
        _ => None,
    }
}

/// Walks documents, collecting objects, events, skipped kinds and problems.
struct Walker {
    loaded: Loaded,
    problems: Vec<Problem>,
    limits: LoadLimits,
}

/// Where in the input an entry is.
#[derive(Clone, Copy)]
struct At<'a> {
    document: usize,
    item: Option<usize>,
    position: Position<'a>,
}

impl Walker {
    fn new(limits: LoadLimits) -> Self {
        Walker {
            loaded: Loaded::default(),
            problems: Vec::new(),
            limits,
        }
    }

    /// A problem for the first string over `max_string_bytes` or the first
    /// node deeper than `max_depth` in `value`; true if there was one.
    fn over_limits(&mut self, at: At<'_>, value: &Value) -> bool {
        let mut path = Vec::new();
        match first_over(value, &self.limits, &mut path) {
            Some(message) => {
                self.limit_problem(at, &path, message);
                true
            }
            None => false,
        }
    }

    fn limit_problem(&mut self, at: At<'_>, path: &[Step], message: String) {
        let position = at.position.follow(path);
        let p = self.problem(ProblemKind::Limit, At { position, ..at }, message);
        p.field = format_path(path);
    }

    fn finish(self) -> Result<Loaded, ApiError> {
        if self.problems.is_empty() {
            Ok(self.loaded)
        } else {
            Err(ApiError::new(self.problems))
        }
    }

    fn problem(
        &mut self,
        kind: ProblemKind,
        at: At<'_>,
        message: impl Into<String>,
    ) -> &mut Problem {
        let mut p = Problem::new(kind, at.document, message);
        p.item = at.item;
        (p.line, p.column) = at.position.line_column();
        self.problems.push(p);
        self.problems.last_mut().expect("just pushed")
    }

    fn document(&mut self, document: usize, value: &Value, position: Position<'_>) {
        let at = At {
            document,
            item: None,
            position,
        };
        if self.over_limits(at, value) {
            return;
        }
        match value {
            Value::Null => {}
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let at = At {
                        item: Some(i),
                        position: position.index(i),
                        ..at
                    };
                    self.entry(at, item, None);
                }
            }
            Value::Object(_) => self.entry(at, value, None),
            other => {
                self.problem(
                    ProblemKind::Syntax,
                    at,
                    format!(
                        "a document must be a map with apiVersion and kind, found {}",
                        type_name(other)
                    ),
                );
            }
        }
    }

    /// One object, List or watch event. `inherited` is the type of the items
    /// of a typed list (`PodList` items may omit their kind).
    fn entry(&mut self, at: At<'_>, value: &Value, inherited: Option<(&str, &str)>) {
        let Value::Object(map) = value else {
            self.problem(
                ProblemKind::Syntax,
                at,
                format!("an object must be a map, found {}", type_name(value)),
            );
            return;
        };
        if !map.contains_key("kind")
            && map.get("type").is_some_and(Value::is_string)
            && map.contains_key("object")
        {
            return self.watch_event(at, map);
        }
        let Some((api_version, kind)) = self.type_meta(at, map, inherited) else {
            return;
        };
        if kind.ends_with("List") && map.contains_key("items") {
            return self.list(at, map, api_version, kind);
        }
        let type_meta = (api_version, kind);
        if let Some(object) = self.object(at, map, value, type_meta) {
            self.loaded.objects.push(Located {
                value: object,
                document: at.document,
                item: at.item,
                line: at.position.line(),
            });
        }
    }

    /// `apiVersion` and `kind` of an entry, or a problem.
    fn type_meta<'v>(
        &mut self,
        at: At<'_>,
        map: &'v Map<String, Value>,
        inherited: Option<(&'v str, &'v str)>,
    ) -> Option<(&'v str, &'v str)> {
        let mut get = |key: &str| -> Result<Option<&'v str>, ()> {
            match map.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if s.is_empty() => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.as_str())),
                Some(other) => {
                    let p = self.problem(
                        ProblemKind::Field,
                        at.position_at(key),
                        format!("must be a string, found {}", type_name(other)),
                    );
                    p.field = Some(key.to_owned());
                    p.object = Some(object_ref(map, None));
                    Err(())
                }
            }
        };
        let api_version = get("apiVersion").ok()?;
        let kind = get("kind").ok()?;
        match (api_version, kind, inherited) {
            (Some(a), Some(k), _) => Some((a, k)),
            (None, None, Some(t)) => Some(t),
            (a, k, _) => {
                let missing = match (a, k) {
                    (None, None) => "apiVersion and kind are missing",
                    (None, _) => "apiVersion is missing",
                    _ => "kind is missing",
                };
                let p = self.problem(
                    ProblemKind::MissingTypeMeta,
                    at,
                    format!("{missing}: every object must say what it is"),
                );
                p.object =
                    Some(object_ref(map, None)).filter(|r| r.name.is_some() || !r.kind.is_empty());
                None
            }
        }
    }

    fn list(&mut self, at: At<'_>, map: &Map<String, Value>, api_version: &str, kind: &str) {
        let items_at = At {
            position: at.position.key("items"),
            ..at
        };
        let items = match map.get("items") {
            Some(Value::Array(items)) => items,
            Some(Value::Null) | None => return,
            Some(other) => {
                let p = self.problem(
                    ProblemKind::Field,
                    items_at,
                    format!("items must be a list, found {}", type_name(other)),
                );
                p.field = Some("items".to_owned());
                p.object = Some(object_ref(map, None));
                return;
            }
        };
        let item_kind = kind.strip_suffix("List").unwrap_or(kind);
        let inherited =
            (kind != "List" && !item_kind.is_empty()).then_some((api_version, item_kind));
        for (i, item) in items.iter().enumerate() {
            let at = At {
                document: at.document,
                item: Some(at.item.unwrap_or(i)),
                position: items_at.position.index(i),
            };
            self.entry(at, item, inherited);
        }
    }

    /// Decodes one object of a known type; `None` when skipped or broken.
    fn object(
        &mut self,
        at: At<'_>,
        map: &Map<String, Value>,
        value: &Value,
        (api_version, kind): (&str, &str),
    ) -> Option<Object> {
        match classify(api_version, kind) {
            Modelled::No => {
                *self
                    .loaded
                    .skipped
                    .entry(TypeMeta::new(api_version, kind))
                    .or_default() += 1;
                None
            }
            Modelled::OtherVersion(k) => {
                let p = self.problem(
                    ProblemKind::UnsupportedVersion,
                    at.position_at("apiVersion"),
                    format!(
                        "{kind} in {api_version} is not supported; svcroute reads {kind} in {}",
                        k.api_version()
                    ),
                );
                p.field = Some("apiVersion".to_owned());
                p.object = Some(object_ref(map, Some((api_version, kind))));
                None
            }
            Modelled::Yes(k) => self.decode(at, map, value, Some((api_version, kind)), |v| {
                decode_kind(k, v)
            }),
        }
    }

    /// Runs a typed decode; on failure records the problem with the path
    /// and position of the field it concerns.
    fn decode<T>(
        &mut self,
        at: At<'_>,
        map: &Map<String, Value>,
        value: &Value,
        type_meta: Option<(&str, &str)>,
        read: impl FnOnce(&Value) -> Result<T, DecodeError>,
    ) -> Option<T> {
        match read(value) {
            Ok(v) => Some(v),
            Err(err) => {
                let path = err.path();
                let position = at.position.follow(&path);
                let p = self.problem(
                    ProblemKind::Field,
                    At { position, ..at },
                    err.error.to_string(),
                );
                p.field = format_path(&path);
                p.object = Some(object_ref(map, type_meta));
                None
            }
        }
    }

    fn watch_event(&mut self, at: At<'_>, map: &Map<String, Value>) {
        let type_text = map.get("type").and_then(Value::as_str).unwrap_or_default();
        let Some(event_type) = WatchEventType::parse(type_text) else {
            let p = self.problem(
                ProblemKind::Field,
                at.position_at("type"),
                format!(
                    "unknown watch event type `{type_text}`; expected ADDED, MODIFIED, DELETED, BOOKMARK or ERROR"
                ),
            );
            p.field = Some("type".to_owned());
            return;
        };
        let object_at = At {
            position: at.position.key("object"),
            ..at
        };
        let object = &map["object"];
        let Value::Object(object_map) = object else {
            let p = self.problem(
                ProblemKind::Field,
                object_at,
                format!(
                    "the object of a watch event must be a map, found {}",
                    type_name(object)
                ),
            );
            p.field = Some("object".to_owned());
            return;
        };
        let event = match event_type {
            WatchEventType::Bookmark => self
                .decode(object_at, object_map, object, None, Bookmark::from_value)
                .map(WatchEvent::Bookmark),
            WatchEventType::Error => self
                .decode(object_at, object_map, object, None, Status::from_value)
                .map(WatchEvent::Error),
            WatchEventType::Added | WatchEventType::Modified | WatchEventType::Deleted => {
                let Some(type_meta) = self.type_meta(object_at, object_map, None) else {
                    return;
                };
                self.object(object_at, object_map, object, type_meta)
                    .map(|object| match event_type {
                        WatchEventType::Added => WatchEvent::Added(object),
                        WatchEventType::Modified => WatchEvent::Modified(object),
                        _ => WatchEvent::Deleted(object),
                    })
            }
        };
        if let Some(event) = event {
            self.loaded.events.push(Located {
                value: event,
                document: at.document,
                item: at.item,
                line: at.position.line(),
            });
        }
    }
}

impl<'a> At<'a> {
    fn position_at(self, key: &str) -> Self {
        let child = self.position.key(key);
        At {
            position: if child.line().is_some() {
                child
            } else {
                self.position
            },
            ..self
        }
    }
}

/// A JSON value read strictly: a key given twice in one object is an error
/// (the API server's strict decoding refuses duplicate fields too).
struct JsonValue(Value);

impl<'de> Deserialize<'de> for JsonValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor).map(JsonValue)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(JsonValue(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let JsonValue(v) = map.next_value()?;
            if out.contains_key(&key) {
                return Err(de::Error::custom(format_args!("duplicate key `{key}`")));
            }
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}
