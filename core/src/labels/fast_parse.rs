//! The parser's fast path: one pass over the bytes of a selector string
//! that parses, with keys and values checked while they are scanned.
//!
//! It accepts only what the reference parser ([`super::parser`]) accepts,
//! and builds the same requirements. Anything it is unsure of (a syntax
//! error, an invalid key or value, a NUL byte, a value list of more than
//! [`LIST_MAX`] items) makes it give up with `None`, and the reference
//! parser then reads the string again and reports the error with its
//! position. So errors cost one extra (short) pass; valid selectors are
//! read once: no token values, no second walk for validation, keywords
//! compared as bytes, list values sorted on the stack, and one allocation
//! per key, per non-empty value and per list of three values or more.

use super::selector::{Operator, Requirement, parse_int};
use super::validation::{LABEL_NAME_MAX_LEN, is_label_key};

/// Space, tab, CR, LF (`selectors.md#2.1`).
const SPACE: u8 = 1;
/// `= ! ( ) , < >`
const SPECIAL: u8 = 2;
/// A byte of an identifier: anything but whitespace, special bytes and
/// NUL (which the fast path never accepts).
const IDENT: u8 = 4;
/// `A-Z a-z 0-9 - _ .`: a byte a label name or value may hold.
const NAME: u8 = 8;
/// `A-Z a-z 0-9`: what a label name or value starts and ends with.
const ALNUM: u8 = 16;

/// Longest value list read on the fast path (its items are sorted on the
/// stack).
pub(crate) const LIST_MAX: usize = 16;

static CLASS: [u8; 256] = classes();

const fn classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut b = 1usize;
    while b < 256 {
        let c = b as u8;
        t[b] = match c {
            b' ' | b'\t' | b'\r' | b'\n' => SPACE,
            b'=' | b'!' | b'(' | b')' | b',' | b'<' | b'>' => SPECIAL,
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => IDENT | NAME | ALNUM,
            b'-' | b'_' | b'.' => IDENT | NAME,
            _ => IDENT,
        };
        b += 1;
    }
    t
}

fn class(b: u8) -> u8 {
    CLASS[usize::from(b)]
}

/// An identifier: its text and the AND of its bytes' classes.
struct Ident<'a> {
    text: &'a str,
    all: u8,
}

impl Ident<'_> {
    /// A valid label value (`selectors.md#1.2`), the empty one excluded.
    fn is_value(&self) -> bool {
        let b = self.text.as_bytes();
        self.all & NAME != 0
            && b.len() <= LABEL_NAME_MAX_LEN
            && class(b[0]) & ALNUM != 0
            && class(b[b.len() - 1]) & ALNUM != 0
    }

    /// A valid label key (`selectors.md#1.1`).
    fn is_key(&self) -> bool {
        // Without a `/` (every byte a name byte) a key is a label name,
        // which has the shape of a value.
        if self.all & NAME != 0 {
            self.is_value()
        } else {
            is_label_key(self.text)
        }
    }
}

struct Cursor<'a> {
    src: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// The next byte after whitespace; `None` at the end of the input.
    fn peek(&mut self) -> Option<u8> {
        let b = self.src.as_bytes();
        while let Some(&c) = b.get(self.pos) {
            if class(c) & SPACE == 0 {
                return Some(c);
            }
            self.pos += 1;
        }
        None
    }

    /// An identifier starting at the next non-space byte, if there is one.
    /// (NUL is neither whitespace, special nor an identifier byte, so it
    /// stops every rule of the fast path.)
    fn ident(&mut self) -> Option<Ident<'a>> {
        if class(self.peek()?) & IDENT == 0 {
            return None;
        }
        let start = self.pos;
        let b = self.src.as_bytes();
        let mut all = u8::MAX;
        let mut end = start;
        while let Some(&c) = b.get(end) {
            let k = class(c);
            if k & IDENT == 0 {
                break;
            }
            all &= k;
            end += 1;
        }
        // Identifier boundaries are next to ASCII bytes or at the ends.
        let text = self.src.get(start..end)?;
        self.pos = end;
        Some(Ident { text, all })
    }
}

/// Parses `input` if it is a valid selector the fast path can read;
/// `None` otherwise (the reference parser decides).
pub(crate) fn parse(input: &str) -> Option<Vec<Requirement>> {
    let mut c = Cursor { src: input, pos: 0 };
    if c.peek().is_none() {
        return Some(Vec::new());
    }
    // What the first push would reserve anyway, without its growth path.
    let mut requirements = Vec::with_capacity(4);
    loop {
        requirements.push(requirement(&mut c)?);
        match c.peek() {
            None => return Some(requirements),
            Some(b',') => c.pos += 1,
            Some(_) => return None,
        }
    }
}

fn requirement(c: &mut Cursor<'_>) -> Option<Requirement> {
    let negated = c.peek() == Some(b'!');
    if negated {
        c.pos += 1;
    }
    let key = c.ident()?;
    if !key.is_key() {
        return None;
    }
    let key = key.text;
    if negated {
        return Some(Requirement::from_checked_key(key, Operator::DoesNotExist));
    }
    let b = c.src.as_bytes();
    let operator = match c.peek() {
        None | Some(b',') => {
            return Some(Requirement::from_checked_key(key, Operator::Exists));
        }
        Some(b'=') if b.get(c.pos + 1) == Some(&b'=') => {
            c.pos += 2;
            Operator::DoubleEquals
        }
        Some(b'=') => {
            c.pos += 1;
            Operator::Equals
        }
        Some(b'!') if b.get(c.pos + 1) == Some(&b'=') => {
            c.pos += 2;
            Operator::NotEquals
        }
        Some(b'>') => {
            c.pos += 1;
            Operator::GreaterThan
        }
        Some(b'<') => {
            c.pos += 1;
            Operator::LessThan
        }
        _ => {
            let word = c.ident()?;
            let operator = match word.text.as_bytes() {
                b"in" => Operator::In,
                b"notin" => Operator::NotIn,
                _ => return None,
            };
            return value_list(c, key, operator);
        }
    };
    single_value(c, key, operator)
}

/// After `= == != > <`: a value, or nothing (the empty value) before `,` or
/// the end.
fn single_value(c: &mut Cursor<'_>, key: &str, operator: Operator) -> Option<Requirement> {
    let value = match c.peek() {
        None | Some(b',') => "",
        _ => {
            let v = c.ident()?;
            if !v.is_value() {
                return None;
            }
            v.text
        }
    };
    let bound = match operator {
        Operator::GreaterThan | Operator::LessThan => parse_int(value)?,
        _ => 0,
    };
    Some(Requirement::from_checked_single(
        key,
        operator,
        value.to_owned(),
        bound,
    ))
}

/// `( item {, item} )`, items possibly empty; sorted and deduplicated as a
/// set.
fn value_list(c: &mut Cursor<'_>, key: &str, operator: Operator) -> Option<Requirement> {
    if c.peek() != Some(b'(') {
        return None;
    }
    c.pos += 1;
    let mut items = [""; LIST_MAX];
    let mut n = 0;
    loop {
        // An item (possibly empty), then `,` or `)`.
        let item = match c.peek() {
            Some(b',' | b')') => "",
            _ => {
                let v = c.ident()?;
                if !v.is_value() {
                    return None;
                }
                v.text
            }
        };
        *items.get_mut(n)? = item;
        n += 1;
        match c.peek() {
            Some(b',') => c.pos += 1,
            Some(b')') => {
                c.pos += 1;
                break;
            }
            _ => return None,
        }
    }
    let items = &mut items[..n];
    // Insertion sort: lists are short, and this allocates nothing.
    for i in 1..items.len() {
        let mut j = i;
        while j > 0 && items[j - 1] > items[j] {
            items.swap(j - 1, j);
            j -= 1;
        }
    }
    // Deduplicate in place (the list is sorted).
    let mut unique = 0;
    for i in 0..items.len() {
        if i == 0 || items[unique - 1] != items[i] {
            items[unique] = items[i];
            unique += 1;
        }
    }
    Some(Requirement::from_checked_list(
        key,
        operator,
        &items[..unique],
    ))
}

#[cfg(test)]
mod tests {
    use super::super::parser;
    use super::*;

    /// The fast path agrees with the reference parser wherever it answers,
    /// and answers for the common shapes.
    #[test]
    fn agrees_with_the_reference_parser() {
        let answered = [
            "",
            " \t\r\n",
            "app=web,tier in (front,back),!canary",
            "x==a, y != b ,z",
            "x notin (abc,,def),bar",
            "in in (in),notin=in",
            "x in (),y in ( ),z in (,)",
            "x in (b,a,b,,a)",
            "x in (a)",
            "r>01,s<5,t>9223372036854775807",
            "app.kubernetes.io/name=web",
            "x=",
            "x!=",
            "! x",
        ];
        for s in answered {
            let fast = parse(s).unwrap_or_else(|| panic!("fast path gave up on {s:?}"));
            assert_eq!(Some(fast), parser::reference(s).ok(), "{s:?}");
        }
        let refused = [
            "x=a,",
            ",x",
            "x,,y",
            "x=a b",
            "x in a",
            "x in (a b)",
            "x in (a,(b))",
            "x===a",
            "x!==a",
            "!x=a",
            "!=x",
            "x=a\0",
            "\0x=a",
            "Example.com/x",
            "x=-a",
            "x>a",
            "x>1.5",
            "a/b/c",
            "x=é",
            "x >= 1",
            "x gt 1",
            "!",
            "x in",
            "x in (",
            "x<>1",
            "x!a",
            "x(a)",
            "x,!",
            "x=a\0b",
            "x>9223372036854775808",
            "s<-0",
        ];
        for s in refused {
            assert_eq!(parse(s), None, "{s:?}");
            assert!(parser::reference(s).is_err(), "{s:?}");
        }
    }

    fn soup() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        prop::collection::vec(
            prop::sample::select(vec![
                "x",
                "y",
                "a.b/c",
                "A",
                "in",
                "notin",
                "=",
                "==",
                "!=",
                "!",
                "(",
                ")",
                ",",
                "<",
                ">",
                " ",
                "\t",
                "\n",
                "\r",
                "\u{c}",
                "\0",
                "1",
                "01",
                "-",
                ".",
                "_",
                "/",
                "é",
                "",
                "\u{a0}",
                "in (",
                "x in (a,b)",
                "x=a,",
            ]),
            0..20,
        )
        .prop_map(|v| v.concat())
    }

    proptest::proptest! {
        /// Wherever the fast path answers, it answers what the reference
        /// parser does; it never accepts what the reference refuses.
        #[test]
        fn never_disagrees(s in soup(), t in "[a-z0-9=!(), .<>/-]{0,40}") {
            for input in [s.as_str(), t.as_str()] {
                if let Some(fast) = parse(input) {
                    proptest::prop_assert_eq!(Ok(fast), parser::reference(input), "{:?}", input);
                }
            }
        }
    }
}
