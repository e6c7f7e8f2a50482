//! The byte-oriented lexer of the selector string language
//! (`selectors.md#2.1`).
//!
//! Tokens borrow from the input; nothing is allocated. Every token boundary
//! sits next to an ASCII byte (whitespace or a special byte) or at an end of
//! the input, so slicing the `&str` at token boundaries cannot split a UTF-8
//! sequence.

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// End of input.
    End,
    /// A maximal run of bytes that are neither whitespace nor special
    /// (including the words `in` and `notin`: whether they are operators is
    /// the parser's decision, by position).
    Ident,
    /// `!`
    Bang,
    /// `=`
    Eq,
    /// `==`
    DoubleEq,
    /// `!=`
    NotEq,
    /// `>`
    Gt,
    /// `<`
    Lt,
    /// `(`
    Open,
    /// `)`
    Close,
    /// `,`
    Comma,
}

/// One token: its kind, its text and its byte offset.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Token<'a> {
    pub(crate) kind: Kind,
    pub(crate) text: &'a str,
    pub(crate) pos: usize,
}

/// Space, tab, CR and LF, and nothing else (`selectors.md#2.1`).
pub(crate) fn is_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// The bytes that start operator and punctuation tokens.
pub(crate) fn is_special(b: u8) -> bool {
    matches!(b, b'=' | b'!' | b'(' | b')' | b',' | b'<' | b'>')
}

pub(crate) struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Lexer { src, pos: 0 }
    }

    fn slice(&self, start: usize, end: usize) -> &'a str {
        // Boundaries are always at ASCII bytes or the ends (see module docs);
        // `get` keeps this panic-free regardless.
        self.src.get(start..end).unwrap_or("")
    }

    pub(crate) fn next_token(&mut self) -> Token<'a> {
        let bytes = self.src.as_bytes();
        while self.pos < bytes.len() && is_whitespace(bytes[self.pos]) {
            self.pos += 1;
        }
        let start = self.pos;
        let Some(&first) = bytes.get(start) else {
            return Token {
                kind: Kind::End,
                text: "",
                pos: start,
            };
        };
        if is_special(first) {
            // Greedy: the longest known operator wins. Only `==` and `!=` are
            // two bytes long, so one byte of lookahead is the whole story
            // (`===` is `==` `=`, `!==` is `!=` `=`, `<>` is `<` `>`).
            let second = bytes.get(start + 1).copied();
            let (kind, len) = match (first, second) {
                (b'=', Some(b'=')) => (Kind::DoubleEq, 2),
                (b'!', Some(b'=')) => (Kind::NotEq, 2),
                (b'=', _) => (Kind::Eq, 1),
                (b'!', _) => (Kind::Bang, 1),
                (b'(', _) => (Kind::Open, 1),
                (b')', _) => (Kind::Close, 1),
                (b',', _) => (Kind::Comma, 1),
                (b'<', _) => (Kind::Lt, 1),
                _ => (Kind::Gt, 1),
            };
            self.pos = start + len;
            return Token {
                kind,
                text: self.slice(start, self.pos),
                pos: start,
            };
        }
        let mut end = start + 1;
        while end < bytes.len() && !is_whitespace(bytes[end]) && !is_special(bytes[end]) {
            end += 1;
        }
        self.pos = end;
        Token {
            kind: Kind::Ident,
            text: self.slice(start, end),
            pos: start,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<(Kind, String)> {
        let mut l = Lexer::new(s);
        let mut out = Vec::new();
        loop {
            let t = l.next_token();
            out.push((t.kind, t.text.to_string()));
            if t.kind == Kind::End {
                return out;
            }
        }
    }

    #[test]
    fn greedy_special_bytes() {
        // selectors.md#2.1: longest known operator wins, the rest is re-scanned.
        use Kind::*;
        let k: Vec<Kind> = kinds("===!==>=<>=!").into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            k,
            vec![DoubleEq, Eq, NotEq, Eq, Gt, Eq, Lt, Gt, Eq, Bang, End]
        );
    }

    #[test]
    fn identifiers_are_maximal_runs() {
        // selectors.md#2.1: `a||b`, `a/b`, `é`, `$x` are single identifiers;
        // form feed and NBSP are not whitespace.
        let t = kinds("a||b a/b é $x x\u{c}y x\u{a0}y");
        let idents: Vec<&str> = t
            .iter()
            .filter(|(k, _)| *k == Kind::Ident)
            .map(|(_, s)| s.as_str())
            .collect();
        assert_eq!(
            idents,
            vec!["a||b", "a/b", "é", "$x", "x\u{c}y", "x\u{a0}y"]
        );
    }

    #[test]
    fn positions() {
        let mut l = Lexer::new(" \tab\r\n!=c");
        let t = l.next_token();
        assert_eq!((t.kind, t.pos, t.text), (Kind::Ident, 2, "ab"));
        let t = l.next_token();
        assert_eq!((t.kind, t.pos), (Kind::NotEq, 6));
        let t = l.next_token();
        assert_eq!((t.kind, t.pos, t.text), (Kind::Ident, 8, "c"));
        let t = l.next_token();
        assert_eq!((t.kind, t.pos), (Kind::End, 9));
    }
}
