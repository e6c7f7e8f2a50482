//! String interning: namespaces, label keys and values, node names.

use std::hash::BuildHasherDefault;

use crate::table_hash::TableHasher;

/// `HashMap` with the crate's [`TableHasher`].
pub(crate) type FxMap<K, V> = crate::table_hash::FastMap<K, V>;
/// `HashSet` with the crate's [`TableHasher`].
pub(crate) type FxSet<K> = std::collections::HashSet<K, BuildHasherDefault<TableHasher>>;

/// An interned string: a small integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Sym(pub(crate) u32);

/// Strings that repeat, stored once. Interned strings are never freed (the
/// set of distinct keys, values and namespaces of a cluster is small next to
/// its objects).
#[derive(Debug, Clone, Default)]
pub(crate) struct Interner {
    ids: FxMap<Box<str>, Sym>,
    /// The string of each symbol, by its number.
    strs: Vec<Box<str>>,
}

impl Interner {
    /// The symbol of `s`, interning it if new.
    pub(crate) fn intern(&mut self, s: &str) -> Sym {
        if let Some(&sym) = self.ids.get(s) {
            return sym;
        }
        let sym = Sym(u32::try_from(self.ids.len()).unwrap_or(u32::MAX));
        self.ids.insert(s.into(), sym);
        self.strs.push(s.into());
        sym
    }

    /// Is `sym` the symbol of `s`? (One compare of the strings, no hashing.)
    pub(crate) fn is(&self, sym: Sym, s: &str) -> bool {
        self.strs.get(sym.0 as usize).is_some_and(|t| **t == *s)
    }

    /// The string of `sym` (empty for a symbol of another interner).
    pub(crate) fn resolve(&self, sym: Sym) -> &str {
        self.strs.get(sym.0 as usize).map_or("", |s| s)
    }

    /// The symbol of `s` if it was ever interned.
    pub(crate) fn lookup(&self, s: &str) -> Option<Sym> {
        self.ids.get(s).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_name_their_strings() {
        let mut i = Interner::default();
        let (a, b) = (i.intern("app"), i.intern("web"));
        assert_eq!(i.intern("app"), a);
        assert!(i.is(a, "app") && i.is(b, "web"));
        assert!(!i.is(a, "web") && !i.is(Sym(9), "app"));
        assert_eq!(i.lookup("web"), Some(b));
    }
}
