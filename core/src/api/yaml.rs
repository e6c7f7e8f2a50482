//! YAML input (feature `yaml`): the events of serde-saphyr's parser
//! (`granit-parser`, re-exported by serde-saphyr) become one JSON value per
//! document, with the line and column of every node kept beside it.
//!
//! Why JSON values first, and not serde-saphyr's typed deserializer:
//!
//! * **Kubernetes semantics.** `kubectl` turns YAML into JSON with YAML 1.1
//!   rules (go-yaml v2: an unquoted `yes`, `no`, `on`, `off`, `y`, `n`,
//!   `true` is a boolean; `12`, `0x1F`, `0755` (octal: 493), `1_000`, `1e3`
//!   are numbers; `~`, `null` and nothing are null) and the API server then
//!   decodes that JSON strictly. Resolving scalars the same way here makes
//!   `name: yes` or a label value `true` an error exactly where it is one for
//!   `kubectl apply`, while `"12"` stays a string. (serde-saphyr's typed
//!   deserializer instead hands the text of `yes`, `on` or `12` to a `String`
//!   field; `0755` too, but it refuses `~`/`null` there.)
//! * **Mixed kinds.** A stream, or a `List`'s `items`, mixes kinds that are
//!   only known once a whole map is read.
//! * **No recursion.** Nodes are built from parser events with an explicit
//!   stack, so hostile nesting costs no native stack; the depth limit
//!   ([`MAX_DEPTH`]) is a policy, not a guard against overflow. serde's
//!   recursive descent needs ~20–40 KB of stack per level in debug builds.
//! * **Every document counted**, empty ones included, and a syntax error in
//!   one document does not hide the problems of the next ones.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};
use serde_saphyr::granit_parser::{self as granit, Event, ScalarStyle, ScanError};

use super::error::{Problem, ProblemKind};
use super::load::{Children, LoadLimits, Span};

/// The deepest nesting accepted (serde_json's own limit is 128 too).
pub(crate) const MAX_DEPTH: usize = 128;

/// One document of the stream: its value (`Null` for an empty document)
/// and positions, or the problem that kept it from being read.
pub(crate) type Document = Result<(Value, Span), Problem>;

/// Reads every document of a YAML stream. After a problem, reading resumes
/// at the next document boundary (`---` or `...` at column 0).
pub(crate) fn documents(text: &str, limits: &LoadLimits) -> Vec<Document> {
    let mut options = granit::Options::default();
    options.set_emit_comments(false);
    let parser = granit::Parser::new_from_str_with_options(text, options);
    let mut builder = Builder {
        parser,
        out: Vec::new(),
        started: 0,
        in_document: false,
        alias_budget: 100_000usize.max(text.len().saturating_mul(4)),
        max_depth: limits.max_depth.min(MAX_DEPTH),
        max_documents: limits.max_documents,
        max_string_bytes: limits.max_string_bytes,
        over: false,
    };
    builder.run();
    builder.out
}

/// A collection being built.
enum Frame {
    Seq {
        values: Vec<Value>,
        spans: Vec<Span>,
        at: (usize, usize),
        anchor: usize,
        nodes: usize,
    },
    Map {
        values: Map<String, Value>,
        spans: Vec<(String, Span)>,
        at: (usize, usize),
        anchor: usize,
        nodes: usize,
        /// The key read, waiting for its value (`None` = a key comes next).
        key: Option<Key>,
        /// `<<` merge sources, in order.
        merges: Vec<(Value, Span)>,
    },
}

/// A mapping key read, and where.
struct Key {
    text: String,
    merge: bool,
    at: (usize, usize),
}

/// A finished node: value, positions, and how many nodes it holds.
struct Node {
    value: Value,
    span: Span,
    nodes: usize,
}

/// Why a document stopped being read.
struct Stop {
    kind: ProblemKind,
    at: Option<(usize, usize)>,
    message: String,
}

impl Stop {
    fn new(kind: ProblemKind, at: (usize, usize), message: impl Into<String>) -> Self {
        Stop {
            kind,
            at: Some(at),
            message: message.into(),
        }
    }
}

struct Builder<'a> {
    parser: granit::Parser<'a, granit::StrInput<'a>>,
    out: Vec<Document>,
    /// Documents started so far.
    started: usize,
    in_document: bool,
    /// Nodes that aliases may still copy (alias bombs).
    alias_budget: usize,
    /// [`LoadLimits::max_depth`], at most [`MAX_DEPTH`].
    max_depth: usize,
    /// [`LoadLimits::max_documents`].
    max_documents: usize,
    /// [`LoadLimits::max_string_bytes`].
    max_string_bytes: usize,
    /// Past `max_documents`: stop reading.
    over: bool,
}

fn position(span: &granit::Span) -> (usize, usize) {
    (span.start.line(), span.start.col() + 1)
}

impl Builder<'_> {
    fn run(&mut self) {
        loop {
            match self.document() {
                Ok(true) => {}
                Ok(false) => return,
                Err(stop) => {
                    let index = if self.in_document {
                        self.started - 1
                    } else {
                        self.started
                    };
                    let mut p = Problem::new(stop.kind, index, stop.message);
                    if let Some((line, column)) = stop.at {
                        p.line = Some(line);
                        p.column = Some(column);
                    }
                    self.out.push(Err(p));
                    if self.over {
                        return;
                    }
                    if !self.in_document {
                        // The next document was broken before it started: count it.
                        self.started += 1;
                    }
                    self.in_document = false;
                    match self.parser.proceed_next_document() {
                        Ok(true) => {}
                        Ok(false) => return,
                        Err(e) => {
                            let (kind, at, message) = scan_error(&e);
                            let mut p = Problem::new(kind, self.started, message);
                            (p.line, p.column) = (Some(at.0), Some(at.1));
                            self.out.push(Err(p));
                            return;
                        }
                    }
                }
            }
        }
    }

    fn next(&mut self) -> Result<Option<(Event<'_>, granit::Span)>, Stop> {
        match self.parser.next_event() {
            None => Ok(None),
            Some(Ok(ev)) => Ok(Some(ev)),
            Some(Err(e)) => {
                let (kind, at, message) = scan_error(&e);
                Err(Stop {
                    kind,
                    at: Some(at),
                    message,
                })
            }
        }
    }

    /// Reads up to the end of the next document; `Ok(false)` at the end of
    /// the stream.
    fn document(&mut self) -> Result<bool, Stop> {
        // Find the document start.
        loop {
            let Some((event, _)) = self.next()? else {
                return Ok(false);
            };
            match event {
                Event::DocumentStart(..) => break,
                Event::StreamEnd => return Ok(false),
                _ => {}
            }
        }
        self.started += 1;
        self.in_document = true;
        if self.started > self.max_documents {
            self.over = true;
            return Err(Stop {
                kind: ProblemKind::Limit,
                at: None,
                message: format!(
                    "more than {} documents in one input (maxDocuments)",
                    self.max_documents
                ),
            });
        }
        let (max_depth, max_string_bytes) = (self.max_depth, self.max_string_bytes);
        let mut stack: Vec<Frame> = Vec::new();
        let mut anchors: HashMap<usize, Node> = HashMap::new();
        let mut root: Option<Node> = None;
        loop {
            let Some((event, span)) = self.next()? else {
                return Err(Stop {
                    kind: ProblemKind::Syntax,
                    at: None,
                    message: "unexpected end of the YAML stream".to_owned(),
                });
            };
            let at = position(&span);
            let finished = match event {
                Event::DocumentEnd => break,
                Event::Scalar(text, style, anchor, tag) => {
                    if text.len() > max_string_bytes {
                        return Err(Stop::new(
                            ProblemKind::Limit,
                            at,
                            format!(
                                "a string of {} bytes, over the limit of {} bytes (maxStringBytes)",
                                text.len(),
                                max_string_bytes
                            ),
                        ));
                    }
                    if let Some(Frame::Map {
                        key: key @ None, ..
                    }) = stack.last_mut()
                    {
                        let merge = style == ScalarStyle::Plain
                            && text == "<<"
                            && tag
                                .as_ref()
                                .is_none_or(|t| t.core_suffix().is_none() || t.suffix() == "merge");
                        let value = resolve(&text, style, tag.as_deref(), at)?;
                        *key = Some(Key {
                            text: key_text(&value, at)?,
                            merge,
                            at,
                        });
                        if anchor != 0 {
                            anchors.insert(anchor, leaf(value, at));
                        }
                        continue;
                    }
                    let node = leaf(resolve(&text, style, tag.as_deref(), at)?, at);
                    if anchor != 0 {
                        anchors.insert(anchor, clone_node(&node));
                    }
                    node
                }
                Event::SequenceStart(_, anchor, _) | Event::MappingStart(_, anchor, _) => {
                    if let Some(Frame::Map { key: None, .. }) = stack.last() {
                        return Err(Stop::new(
                            ProblemKind::Syntax,
                            at,
                            "a list or map as a mapping key is not supported",
                        ));
                    }
                    if stack.len() >= max_depth {
                        return Err(Stop::new(
                            ProblemKind::Limit,
                            at,
                            format!("nesting deeper than {max_depth} levels (maxDepth)"),
                        ));
                    }
                    stack.push(if matches!(event, Event::SequenceStart(..)) {
                        Frame::Seq {
                            values: Vec::new(),
                            spans: Vec::new(),
                            at,
                            anchor,
                            nodes: 1,
                        }
                    } else {
                        Frame::Map {
                            values: Map::new(),
                            spans: Vec::new(),
                            at,
                            anchor,
                            nodes: 1,
                            key: None,
                            merges: Vec::new(),
                        }
                    });
                    continue;
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let Some(frame) = stack.pop() else {
                        return Err(Stop::new(
                            ProblemKind::Syntax,
                            at,
                            "unbalanced collection end",
                        ));
                    };
                    let (node, anchor) = finish(frame)?;
                    if anchor != 0 {
                        anchors.insert(anchor, clone_node(&node));
                    }
                    node
                }
                Event::Alias(id) => {
                    let Some(target) = anchors.get(&id) else {
                        return Err(Stop::new(
                            ProblemKind::Syntax,
                            at,
                            "alias to an unknown anchor",
                        ));
                    };
                    if target.nodes > self.alias_budget {
                        return Err(Stop::new(
                            ProblemKind::Limit,
                            at,
                            "aliases expand to too many nodes (alias bomb?)",
                        ));
                    }
                    self.alias_budget -= target.nodes;
                    let mut node = clone_node(target);
                    node.span.line = at.0;
                    node.span.column = at.1;
                    if let Some(Frame::Map {
                        key: key @ None, ..
                    }) = stack.last_mut()
                    {
                        *key = Some(Key {
                            text: key_text(&node.value, at)?,
                            merge: false,
                            at,
                        });
                        continue;
                    }
                    node
                }
                Event::StreamEnd => {
                    return Err(Stop::new(
                        ProblemKind::Syntax,
                        at,
                        "unexpected end of the YAML stream",
                    ));
                }
                _ => continue,
            };
            // Attach the finished node to its parent, or make it the root.
            match stack.last_mut() {
                None => root = Some(finished),
                Some(Frame::Seq {
                    values,
                    spans,
                    nodes,
                    ..
                }) => {
                    *nodes += finished.nodes;
                    values.push(finished.value);
                    spans.push(finished.span);
                }
                Some(Frame::Map {
                    values,
                    spans,
                    nodes,
                    key,
                    merges,
                    ..
                }) => {
                    let Some(k) = key.take() else {
                        // Unreachable: keys are taken above.
                        return Err(Stop::new(
                            ProblemKind::Syntax,
                            at,
                            "mapping value without a key",
                        ));
                    };
                    *nodes += finished.nodes;
                    if k.merge {
                        merges.push((finished.value, finished.span));
                    } else {
                        if values.contains_key(&k.text) {
                            return Err(Stop::new(
                                ProblemKind::Syntax,
                                k.at,
                                format!("duplicate key `{}`", k.text),
                            ));
                        }
                        values.insert(k.text.clone(), finished.value);
                        spans.push((k.text, finished.span));
                    }
                }
            }
        }
        self.in_document = false;
        self.out.push(Ok(match root {
            Some(node) => (node.value, node.span),
            None => (Value::Null, Span::default()),
        }));
        Ok(true)
    }
}

fn leaf(value: Value, at: (usize, usize)) -> Node {
    Node {
        value,
        span: Span {
            line: at.0,
            column: at.1,
            children: Children::None,
        },
        nodes: 1,
    }
}

fn clone_node(node: &Node) -> Node {
    Node {
        value: node.value.clone(),
        span: node.span.clone(),
        nodes: node.nodes,
    }
}

/// Closes a collection: its node and its anchor id.
fn finish(frame: Frame) -> Result<(Node, usize), Stop> {
    Ok(match frame {
        Frame::Seq {
            values,
            spans,
            at,
            anchor,
            nodes,
        } => (
            Node {
                value: Value::Array(values),
                span: Span {
                    line: at.0,
                    column: at.1,
                    children: Children::Seq(spans),
                },
                nodes,
            },
            anchor,
        ),
        Frame::Map {
            mut values,
            mut spans,
            at,
            anchor,
            nodes,
            key,
            merges,
        } => {
            if let Some(k) = key {
                return Err(Stop::new(
                    ProblemKind::Syntax,
                    k.at,
                    "mapping key without a value",
                ));
            }
            // `<<: *base` / `<<: [*a, *b]`: keys of the map win, then earlier sources.
            for (source, source_span) in merges {
                let sources: Vec<(Value, Span)> = match (source, source_span.children) {
                    (Value::Object(m), children) => vec![(
                        Value::Object(m),
                        Span {
                            children,
                            ..Span::default()
                        },
                    )],
                    (Value::Array(items), Children::Seq(item_spans)) => {
                        items.into_iter().zip(item_spans).collect()
                    }
                    _ => {
                        return Err(Stop::new(
                            ProblemKind::Syntax,
                            at,
                            "a merge key `<<` needs a map or a list of maps",
                        ));
                    }
                };
                for (value, span) in sources {
                    let Value::Object(m) = value else {
                        return Err(Stop::new(
                            ProblemKind::Syntax,
                            at,
                            "a merge key `<<` needs a map or a list of maps",
                        ));
                    };
                    let mut child_spans = match span.children {
                        Children::Map(entries) => entries,
                        _ => Vec::new(),
                    };
                    for (k, v) in m {
                        if values.contains_key(&k) {
                            continue;
                        }
                        if let Some(i) = child_spans.iter().position(|(ck, _)| *ck == k) {
                            spans.push(child_spans.swap_remove(i));
                        }
                        values.insert(k, v);
                    }
                }
            }
            (
                Node {
                    value: Value::Object(values),
                    span: Span {
                        line: at.0,
                        column: at.1,
                        children: Children::Map(spans),
                    },
                    nodes,
                },
                anchor,
            )
        }
    })
}

/// The JSON string form of a scalar key, as `kubectl` converts keys
/// (`1: a` has the key `"1"`, `true: a` the key `"true"`).
fn key_text(value: &Value, at: (usize, usize)) -> Result<String, Stop> {
    Ok(match value {
        Value::String(s) => s.clone(),
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        _ => {
            return Err(Stop::new(
                ProblemKind::Syntax,
                at,
                "a list or map as a mapping key is not supported",
            ));
        }
    })
}

fn scan_error(e: &ScanError) -> (ProblemKind, (usize, usize), String) {
    let info = e.info();
    let kind = if info.contains("limit") || info.contains("too many") {
        ProblemKind::Limit
    } else {
        ProblemKind::Syntax
    };
    let mark = e.marker();
    let message = if info.is_empty() {
        "invalid YAML".to_owned()
    } else {
        info
    };
    (kind, (mark.line(), mark.col() + 1), message)
}

/// The JSON value of a scalar, by go-yaml v2's YAML 1.1 rules (what
/// `kubectl` uses): only plain scalars are typed; quoted and block scalars
/// are strings; core tags (`!!str`, `!!int`, ...) force a type.
fn resolve(
    text: &str,
    style: ScalarStyle,
    tag: Option<&granit::Tag>,
    at: (usize, usize),
) -> Result<Value, Stop> {
    let core = tag.and_then(|t| {
        t.core_suffix().map(str::to_owned).or_else(|| {
            // YAML 1.1 tags outside the 1.2 core schema.
            t.suffix_in_namespace("tag:yaml.org,2002:")
                .map(|s| s.into_owned())
        })
    });
    let bad = |what: &str| {
        Stop::new(
            ProblemKind::Syntax,
            at,
            format!("`{text}` is not a valid {what}"),
        )
    };
    match core.as_deref() {
        Some("str" | "binary" | "timestamp") => return Ok(Value::String(text.to_string())),
        Some("null") => return Ok(Value::Null),
        Some("bool") => return bool_of(text).map(Value::Bool).ok_or_else(|| bad("boolean")),
        Some("int") => return int_of(text).ok_or_else(|| bad("integer")),
        Some("float") => {
            return match float_of(text) {
                Some(Some(n)) => Ok(Value::Number(n)),
                Some(None) => Err(not_json(text, at)),
                None => int_of(text)
                    .and_then(|v| v.as_f64().and_then(Number::from_f64).map(Value::Number))
                    .ok_or_else(|| bad("float")),
            };
        }
        _ => {}
    }
    if style != ScalarStyle::Plain {
        return Ok(Value::String(text.to_string()));
    }
    if matches!(text, "" | "~" | "null" | "Null" | "NULL") {
        return Ok(Value::Null);
    }
    if let Some(b) = bool_of(text) {
        return Ok(Value::Bool(b));
    }
    if let Some(n) = int_of(text) {
        return Ok(n);
    }
    match float_of(text) {
        Some(Some(n)) => Ok(Value::Number(n)),
        Some(None) => Err(not_json(text, at)),
        None => Ok(Value::String(text.to_string())),
    }
}

fn not_json(text: &str, at: (usize, usize)) -> Stop {
    Stop::new(
        ProblemKind::Syntax,
        at,
        format!("`{text}` (infinity or NaN) has no JSON form; quote it to make it a string"),
    )
}

fn bool_of(text: &str) -> Option<bool> {
    match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Some(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Some(false)
        }
        _ => None,
    }
}

/// An integer as Go's `strconv.ParseInt(s, 0, 64)` reads it after go-yaml
/// removed the underscores: optional sign, then `0x`/`0o`/`0b` prefixes,
/// `0` for octal, decimal otherwise; too large for `int64` but fitting
/// `uint64` is unsigned; larger still is a float.
fn int_of(text: &str) -> Option<Value> {
    let cleaned: String = text.chars().filter(|&c| c != '_').collect();
    let (negative, digits) = match cleaned.as_bytes().first()? {
        b'-' => (true, &cleaned[1..]),
        b'+' => (false, &cleaned[1..]),
        _ => (false, cleaned.as_str()),
    };
    let (radix, body) = if let Some(rest) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        (16, rest)
    } else if let Some(rest) = digits
        .strip_prefix("0b")
        .or_else(|| digits.strip_prefix("0B"))
    {
        (2, rest)
    } else if let Some(rest) = digits
        .strip_prefix("0o")
        .or_else(|| digits.strip_prefix("0O"))
    {
        (8, rest)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    if body.is_empty() || !body.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u128::from_str_radix(body, radix).ok();
    match magnitude {
        Some(m) if negative => {
            let v = i64::try_from(m)
                .ok()
                .map(|v| -v)
                .or_else(|| (m == 1u128 << 63).then_some(i64::MIN));
            match v {
                Some(v) => Some(Value::Number(v.into())),
                None => Number::from_f64(-(m as f64)).map(Value::Number),
            }
        }
        Some(m) => match u64::try_from(m) {
            Ok(v) => Some(Value::Number(v.into())),
            Err(_) => Number::from_f64(m as f64).map(Value::Number),
        },
        None if radix == 10 => body
            .parse::<f64>()
            .ok()
            .and_then(|f| Number::from_f64(if negative { -f } else { f }).map(Value::Number)),
        None => None,
    }
}

/// A float by go-yaml v2's pattern
/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$` (underscores
/// removed) or `.inf`/`.nan` spellings: `Some(Some(n))` for a finite
/// number, `Some(None)` for infinity or NaN, `None` when it is not a float.
fn float_of(text: &str) -> Option<Option<Number>> {
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => return Some(None),
        _ => {}
    }
    let cleaned: String = text.chars().filter(|&c| c != '_').collect();
    let b = cleaned.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'-' | b'+')));
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    let int_digits = digits(&mut i);
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac_digits = digits(&mut i);
        if int_digits == 0 && frac_digits == 0 {
            return None;
        }
    } else if int_digits == 0 {
        return None;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    let f: f64 = cleaned.parse().ok()?;
    Some(Number::from_f64(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(text: &str) -> Value {
        resolve(text, ScalarStyle::Plain, None, (1, 1))
            .unwrap_or_else(|s| panic!("{text}: {}", s.message))
    }

    #[test]
    fn yaml_1_1_scalars() {
        for t in ["y", "Yes", "ON", "true", "TRUE"] {
            assert_eq!(scalar(t), Value::Bool(true), "{t}");
        }
        for t in ["n", "no", "Off", "false"] {
            assert_eq!(scalar(t), Value::Bool(false), "{t}");
        }
        for t in ["", "~", "null", "NULL"] {
            assert_eq!(scalar(t), Value::Null, "{t}");
        }
        assert_eq!(scalar("12"), serde_json::json!(12));
        assert_eq!(scalar("-12"), serde_json::json!(-12));
        assert_eq!(scalar("+12"), serde_json::json!(12));
        assert_eq!(scalar("0755"), serde_json::json!(493));
        assert_eq!(scalar("0x1F"), serde_json::json!(31));
        assert_eq!(scalar("0b101"), serde_json::json!(5));
        assert_eq!(scalar("0o17"), serde_json::json!(15));
        assert_eq!(scalar("1_000"), serde_json::json!(1000));
        assert_eq!(scalar("0"), serde_json::json!(0));
        assert_eq!(scalar("18446744073709551615"), serde_json::json!(u64::MAX));
        assert_eq!(scalar("-9223372036854775808"), serde_json::json!(i64::MIN));
        assert_eq!(scalar("1e3"), serde_json::json!(1000.0));
        assert_eq!(scalar("08"), serde_json::json!(8.0));
        assert_eq!(scalar("1.5"), serde_json::json!(1.5));
        assert_eq!(scalar(".5"), serde_json::json!(0.5));
        assert_eq!(scalar("5."), serde_json::json!(5.0));
        for t in [
            "web",
            "None",
            "1.2.3",
            "10.0.0.1",
            "0x",
            "1e",
            "e3",
            ".",
            "-",
            "+",
            "3500m",
            "1Gi",
            "2024-01-01",
            "v1",
            "0xZZ",
            "--1",
            "1-2",
        ] {
            assert_eq!(scalar(t), Value::String(t.into()), "{t}");
        }
        assert!(resolve(".inf", ScalarStyle::Plain, None, (1, 1)).is_err());
        assert_eq!(
            resolve("yes", ScalarStyle::DoubleQuoted, None, (1, 1)).ok(),
            Some(Value::String("yes".into()))
        );
    }

    #[test]
    fn documents_are_counted_and_positioned() {
        let docs = documents(
            "# c\n---\na: 1\n---\n---\nb: [x, {c: d}]\n...\n",
            &LoadLimits::default(),
        );
        assert_eq!(docs.len(), 3);
        let (v, s) = docs[2].as_ref().unwrap();
        assert_eq!(v, &serde_json::json!({"b": ["x", {"c": "d"}]}));
        assert_eq!((s.line, s.column), (6, 1));
        let b = match &s.children {
            Children::Map(e) => &e[0].1,
            _ => panic!(),
        };
        assert_eq!((b.line, b.column), (6, 4));
        assert!(docs[1].as_ref().unwrap().0.is_null());
    }

    #[test]
    fn syntax_errors_do_not_stop_later_documents() {
        let docs = documents(
            "a: [1\n---\nb: 2\n---\nc: {\n---\nd: 4\n",
            &LoadLimits::default(),
        );
        let summary: Vec<_> = docs
            .iter()
            .map(|d| match d {
                Ok((v, _)) => v.to_string(),
                Err(p) => format!("err@{}", p.document),
            })
            .collect();
        assert_eq!(summary, ["err@0", r#"{"b":2}"#, "err@2", r#"{"d":4}"#]);
    }
}
