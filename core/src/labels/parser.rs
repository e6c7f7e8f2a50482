//! The selector string parser (`selectors.md#2.2`–`#2.4`) and its error.
//!
//! A loop with one token of lookahead; no recursion, no token buffer. Each
//! requirement is checked as apimachinery checks it: the key right after it
//! is read (so a bad key is reported before a later syntax error), the
//! values once the whole requirement has been read (so a syntax error inside
//! a value list wins over a bad value in it), the `>`/`<` integer before the
//! value syntax.

use std::fmt;

use super::lexer::{Kind, Lexer, Token};
use super::selector::{Operator, Requirement, parse_int};
use super::validation::{Snippet, ValidationError, validate_label_key, validate_label_value};

/// The class of a selector string error, matching the conformance vectors'
/// `errorKind` (`syntax`, `invalid_key`, `invalid_value`, `gt_lt_value`).
///
/// ```
/// use svcroute::labels::{Selector, SelectorErrorKind};
/// let kind = |s: &str| Selector::parse(s).unwrap_err().kind();
/// assert_eq!(kind("x,,y"), SelectorErrorKind::Syntax);
/// assert_eq!(kind("a:b=c"), SelectorErrorKind::InvalidKey);
/// assert_eq!(kind("a=b/c"), SelectorErrorKind::InvalidValue);
/// assert_eq!(kind("x>1.5"), SelectorErrorKind::GtLtValue);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SelectorErrorKind {
    /// The tokens do not form a selector (also: a NUL byte).
    Syntax,
    /// A key is not a valid label key.
    InvalidKey,
    /// A value is not a valid label value.
    InvalidValue,
    /// The bound of `>`/`<` is not a base-10 int64.
    GtLtValue,
}

impl SelectorErrorKind {
    /// The conformance `errorKind` spelling.
    ///
    /// ```
    /// assert_eq!(svcroute::labels::SelectorErrorKind::GtLtValue.code(), "gt_lt_value");
    /// ```
    pub fn code(self) -> &'static str {
        match self {
            SelectorErrorKind::Syntax => "syntax",
            SelectorErrorKind::InvalidKey => "invalid_key",
            SelectorErrorKind::InvalidValue => "invalid_value",
            SelectorErrorKind::GtLtValue => "gt_lt_value",
        }
    }
}

impl fmt::Display for SelectorErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// What the parser found where the error is.
///
/// ```
/// use svcroute::labels::{Found, Selector};
/// assert_eq!(Selector::parse("x in").unwrap_err().found(), &Found::EndOfInput);
/// assert_eq!(Selector::parse("x y").unwrap_err().found(), &Found::Text("y".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Found {
    /// The input ended.
    EndOfInput,
    /// This token (an identifier, operator or punctuation; `"\0"` for a NUL
    /// byte).
    Text(String),
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Found::EndOfInput => f.write_str("end of input"),
            Found::Text(t) => write!(f, "{}", Snippet(t)),
        }
    }
}

/// What the parser expected where the error is.
///
/// ```
/// use svcroute::labels::{Expected, Selector};
/// assert_eq!(Selector::parse("x=a b").unwrap_err().expected(), Expected::CommaOrEnd);
/// assert_eq!(Selector::parse("x in (a b)").unwrap_err().expected(), Expected::CommaOrClose);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Expected {
    /// A requirement: a key or `!` (at the start, or after `,`).
    Requirement,
    /// A key (after `!`).
    Key,
    /// `,`, end of input, or a binary operator: `in notin = == != > <`.
    OperatorCommaOrEnd,
    /// `,` or end of input (after a complete requirement).
    CommaOrEnd,
    /// `(` (after `in`/`notin`).
    Open,
    /// A value, `,` or `)` (in a value list, at the start or after `,`).
    ListItem,
    /// `,` or `)` (in a value list, after a value).
    CommaOrClose,
    /// A value, `,` or end of input (after `= == != > <`).
    Value,
    /// A valid label key.
    ValidKey,
    /// A valid label value.
    ValidValue,
    /// A base-10 signed 64-bit integer (the bound of `>`/`<`).
    Integer,
    /// Any byte but NUL.
    NotNul,
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Expected::Requirement => "a key or '!'",
            Expected::Key => "a key",
            Expected::OperatorCommaOrEnd => {
                "',', end of input, or an operator (in, notin, =, ==, !=, >, <)"
            }
            Expected::CommaOrEnd => "',' or end of input",
            Expected::Open => "'('",
            Expected::ListItem => "a value, ',' or ')'",
            Expected::CommaOrClose => "',' or ')'",
            Expected::Value => "a value, ',' or end of input",
            Expected::ValidKey => "a valid label key",
            Expected::ValidValue => "a valid label value",
            Expected::Integer => "a base-10 64-bit integer",
            Expected::NotNul => "no NUL byte (NUL is rejected, not treated as end of input)",
        })
    }
}

/// Why a selector string was rejected: the byte offset, what was found,
/// what was expected, the class ([`SelectorErrorKind`]) and, for a bad key
/// or value, the rules it breaks.
///
/// ```
/// use svcroute::labels::{Expected, Found, Selector, SelectorErrorKind};
/// let err = Selector::parse("app=web,tier in (a,(b))").unwrap_err();
/// assert_eq!(err.kind(), SelectorErrorKind::Syntax);
/// assert_eq!(err.position(), 19);
/// assert_eq!(err.found(), &Found::Text("(".into()));
/// assert_eq!(err.expected(), Expected::ListItem);
/// assert_eq!(err.to_string(), "selector syntax error at byte 19: found \"(\", expected a value, ',' or ')'");
///
/// let err = Selector::parse("Example.com/x").unwrap_err();
/// assert_eq!(err.kind(), SelectorErrorKind::InvalidKey);
/// assert!(err.validation().is_some());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    kind: SelectorErrorKind,
    position: usize,
    found: Found,
    expected: Expected,
    validation: Option<ValidationError>,
}

impl ParseError {
    /// The class of error.
    ///
    /// ```
    /// use svcroute::labels::{Selector, SelectorErrorKind};
    /// assert_eq!(Selector::parse("x=a,").unwrap_err().kind(), SelectorErrorKind::Syntax);
    /// ```
    pub fn kind(&self) -> SelectorErrorKind {
        self.kind
    }

    /// Byte offset in the input of the offending token (the input length
    /// when the input ended too early).
    ///
    /// ```
    /// assert_eq!(svcroute::labels::Selector::parse("x=a,").unwrap_err().position(), 4);
    /// ```
    pub fn position(&self) -> usize {
        self.position
    }

    /// The offending token.
    ///
    /// ```
    /// use svcroute::labels::{Found, Selector};
    /// assert_eq!(Selector::parse("x=a)").unwrap_err().found(), &Found::Text(")".into()));
    /// ```
    pub fn found(&self) -> &Found {
        &self.found
    }

    /// What would have been accepted there.
    ///
    /// ```
    /// use svcroute::labels::{Expected, Selector};
    /// assert_eq!(Selector::parse("!").unwrap_err().expected(), Expected::Key);
    /// ```
    pub fn expected(&self) -> Expected {
        self.expected
    }

    /// For [`SelectorErrorKind::InvalidKey`] and
    /// [`SelectorErrorKind::InvalidValue`]: the rules the key or value breaks.
    ///
    /// ```
    /// use svcroute::labels::{Rule, Selector};
    /// let err = Selector::parse(&format!("x={}", "v".repeat(64))).unwrap_err();
    /// assert_eq!(err.validation().unwrap().violations()[0].rule, Rule::MaxLength { max: 63 });
    /// ```
    pub fn validation(&self) -> Option<&ValidationError> {
        self.validation.as_ref()
    }

    fn syntax(token: Token<'_>, expected: Expected) -> ParseError {
        let found = match token.kind {
            Kind::End => Found::EndOfInput,
            _ => Found::Text(token.text.to_owned()),
        };
        ParseError {
            kind: SelectorErrorKind::Syntax,
            position: token.pos,
            found,
            expected,
            validation: None,
        }
    }

    fn invalid(
        kind: SelectorErrorKind,
        pos: usize,
        text: &str,
        expected: Expected,
        validation: Option<ValidationError>,
    ) -> ParseError {
        ParseError {
            kind,
            position: pos,
            found: Found::Text(text.to_owned()),
            expected,
            validation,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            SelectorErrorKind::Syntax => "syntax error",
            SelectorErrorKind::InvalidKey => "invalid key",
            SelectorErrorKind::InvalidValue => "invalid value",
            SelectorErrorKind::GtLtValue => "invalid '>'/'<' bound",
        };
        write!(
            f,
            "selector {what} at byte {}: found {}, expected {}",
            self.position, self.found, self.expected
        )?;
        if let Some(v) = &self.validation {
            write!(f, " ({v})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseError {}

struct Parser<'a> {
    lexer: Lexer<'a>,
    /// The lookahead token.
    peeked: Token<'a>,
}

impl<'a> Parser<'a> {
    fn new(input: &'a str) -> Self {
        let mut lexer = Lexer::new(input);
        let peeked = lexer.next_token();
        Parser { lexer, peeked }
    }

    fn peek(&self) -> Token<'a> {
        self.peeked
    }

    fn bump(&mut self) -> Token<'a> {
        let t = self.peeked;
        if t.kind != Kind::End {
            self.peeked = self.lexer.next_token();
        }
        t
    }

    fn requirement(&mut self) -> Result<Requirement, ParseError> {
        let mut t = self.bump();
        let negated = t.kind == Kind::Bang;
        if negated {
            t = self.bump();
        }
        if t.kind != Kind::Ident {
            return Err(ParseError::syntax(t, Expected::Key));
        }
        let key = t.text;
        if let Err(e) = validate_label_key(key) {
            return Err(ParseError::invalid(
                SelectorErrorKind::InvalidKey,
                t.pos,
                key,
                Expected::ValidKey,
                Some(e),
            ));
        }
        if negated {
            return Ok(Requirement::from_checked(
                key,
                Operator::DoesNotExist,
                Vec::new(),
                0,
            ));
        }
        if matches!(self.peek().kind, Kind::End | Kind::Comma) {
            return Ok(Requirement::from_checked(
                key,
                Operator::Exists,
                Vec::new(),
                0,
            ));
        }
        let op_token = self.bump();
        let operator = match (op_token.kind, op_token.text) {
            (Kind::Ident, "in") => Operator::In,
            (Kind::Ident, "notin") => Operator::NotIn,
            (Kind::Eq, _) => Operator::Equals,
            (Kind::DoubleEq, _) => Operator::DoubleEquals,
            (Kind::NotEq, _) => Operator::NotEquals,
            (Kind::Gt, _) => Operator::GreaterThan,
            (Kind::Lt, _) => Operator::LessThan,
            _ => return Err(ParseError::syntax(op_token, Expected::OperatorCommaOrEnd)),
        };
        match operator {
            Operator::In | Operator::NotIn => self.value_list(key, operator),
            _ => self.single_value(key, operator),
        }
    }

    /// `= == != > <` then a value; `,` or end right after means `""`.
    fn single_value(&mut self, key: &str, operator: Operator) -> Result<Requirement, ParseError> {
        let t = self.peek();
        let (value, pos) = match t.kind {
            Kind::End | Kind::Comma => ("", t.pos),
            Kind::Ident => {
                self.bump();
                (t.text, t.pos)
            }
            _ => return Err(ParseError::syntax(t, Expected::Value)),
        };
        let mut bound = 0;
        if matches!(operator, Operator::GreaterThan | Operator::LessThan) {
            match parse_int(value) {
                Some(n) => bound = n,
                None => {
                    return Err(ParseError::invalid(
                        SelectorErrorKind::GtLtValue,
                        pos,
                        value,
                        Expected::Integer,
                        None,
                    ));
                }
            }
        }
        if let Err(e) = validate_label_value(value) {
            return Err(ParseError::invalid(
                SelectorErrorKind::InvalidValue,
                pos,
                value,
                Expected::ValidValue,
                Some(e),
            ));
        }
        Ok(Requirement::from_checked_single(
            key,
            operator,
            value.to_owned(),
            bound,
        ))
    }

    /// `( item {, item} )` where an item may be empty (= `""`); a set.
    fn value_list(&mut self, key: &str, operator: Operator) -> Result<Requirement, ParseError> {
        let open = self.bump();
        if open.kind != Kind::Open {
            return Err(ParseError::syntax(open, Expected::Open));
        }
        let mut values: Vec<String> = Vec::new();
        // The first value that fails validation; reported only once the list
        // is syntactically complete (upstream order).
        let mut first_bad: Option<(usize, &str)> = None;
        let mut after_value = false;
        loop {
            let t = self.bump();
            match (after_value, t.kind) {
                (false, Kind::Ident) => {
                    if first_bad.is_none() && validate_label_value(t.text).is_err() {
                        first_bad = Some((t.pos, t.text));
                    }
                    values.push(t.text.to_owned());
                    after_value = true;
                }
                (false, Kind::Comma) => values.push(String::new()),
                (false, Kind::Close) => {
                    values.push(String::new());
                    break;
                }
                (true, Kind::Comma) => after_value = false,
                (true, Kind::Close) => break,
                (false, _) => return Err(ParseError::syntax(t, Expected::ListItem)),
                (true, _) => return Err(ParseError::syntax(t, Expected::CommaOrClose)),
            }
        }
        if let Some((pos, text)) = first_bad {
            let e = validate_label_value(text).err();
            return Err(ParseError::invalid(
                SelectorErrorKind::InvalidValue,
                pos,
                text,
                Expected::ValidValue,
                e,
            ));
        }
        crate::order::sort_unstable(&mut values);
        values.dedup();
        Ok(Requirement::from_checked(key, operator, values, 0))
    }
}

/// Parses a selector string into its requirements, in input order.
pub(crate) fn parse(input: &str) -> Result<Vec<Requirement>, ParseError> {
    // The one-pass fast path reads valid selectors; it gives up on anything
    // else, and this parser then finds the error. (Left out of the compact
    // build, which keeps one parser for size.)
    #[cfg(not(feature = "compact"))]
    if let Some(requirements) = super::fast_parse::parse(input) {
        return Ok(requirements);
    }
    reference(input)
}

/// The reference parser: token by token, with exact error positions.
pub(crate) fn reference(input: &str) -> Result<Vec<Requirement>, ParseError> {
    if input.as_bytes().contains(&0)
        && let Some(pos) = input.bytes().position(|b| b == 0)
    {
        return Err(ParseError {
            kind: SelectorErrorKind::Syntax,
            position: pos,
            found: Found::Text("\0".to_owned()),
            expected: Expected::NotNul,
            validation: None,
        });
    }
    let mut p = Parser::new(input);
    let mut requirements = Vec::new();
    match p.peek().kind {
        Kind::End => return Ok(requirements),
        Kind::Ident | Kind::Bang => {}
        _ => return Err(ParseError::syntax(p.peek(), Expected::Requirement)),
    }
    loop {
        requirements.push(p.requirement()?);
        let t = p.bump();
        match t.kind {
            Kind::End => return Ok(requirements),
            Kind::Comma => {
                let next = p.peek();
                if !matches!(next.kind, Kind::Ident | Kind::Bang) {
                    return Err(ParseError::syntax(next, Expected::Requirement));
                }
            }
            _ => return Err(ParseError::syntax(t, Expected::CommaOrEnd)),
        }
    }
}
