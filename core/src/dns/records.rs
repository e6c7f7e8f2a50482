//! [`Records`]: a section of an answer, holding its first record inline so
//! that the usual one-record answer allocates nothing.

use std::fmt;
use std::ops::{Deref, DerefMut};

use super::Record;

/// The records of one section of an [`Answer`](super::Answer), in order.
///
/// It reads as a `[Record]` slice (it dereferences to one) and grows like
/// a `Vec`; a section of one record keeps it inline, without allocating.
///
/// ```
/// use svcroute::dns::{RData, Record, Records};
/// let mut rs = Records::new();
/// rs.push(Record::new("a.", 5, RData::A("10.0.0.1".parse()?)));
/// assert_eq!(rs.len(), 1);
/// rs.push(Record::new("a.", 5, RData::A("10.0.0.2".parse()?)));
/// assert_eq!(rs[1].to_string(), "a. 5 IN A 10.0.0.2");
/// assert_eq!(rs.iter().count(), 2);
/// let v: Vec<Record> = rs.into();
/// assert_eq!(v.len(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Default)]
pub struct Records(Repr);

#[derive(Clone)]
enum Repr {
    One(Record),
    Many(Vec<Record>),
}

impl Default for Repr {
    fn default() -> Repr {
        Repr::Many(Vec::new())
    }
}

impl Records {
    /// No records.
    pub fn new() -> Records {
        Records::default()
    }

    /// Appends a record.
    pub fn push(&mut self, r: Record) {
        match &mut self.0 {
            Repr::Many(v) if v.is_empty() && v.capacity() == 0 => self.0 = Repr::One(r),
            Repr::Many(v) => v.push(r),
            Repr::One(_) => {
                let Repr::One(first) = std::mem::take(&mut self.0) else {
                    return;
                };
                self.0 = Repr::Many(vec![first, r]);
            }
        }
    }

    /// Removes the last record.
    pub fn pop(&mut self) -> Option<Record> {
        match &mut self.0 {
            Repr::Many(v) => v.pop(),
            Repr::One(_) => match std::mem::take(&mut self.0) {
                Repr::One(r) => Some(r),
                Repr::Many(_) => None,
            },
        }
    }

    /// Keeps the first `n` records.
    pub fn truncate(&mut self, n: usize) {
        match &mut self.0 {
            Repr::Many(v) => v.truncate(n),
            Repr::One(_) if n == 0 => self.0 = Repr::default(),
            Repr::One(_) => {}
        }
    }

    /// Removes every record (keeping a list's room for reuse).
    pub fn clear(&mut self) {
        self.truncate(0);
    }

    /// Keeps the records `keep` says yes to, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(&Record) -> bool) {
        match &mut self.0 {
            Repr::Many(v) => v.retain(keep),
            Repr::One(r) => {
                if !keep(r) {
                    self.0 = Repr::default();
                }
            }
        }
    }
}

impl Deref for Records {
    type Target = [Record];

    fn deref(&self) -> &[Record] {
        match &self.0 {
            Repr::One(r) => std::slice::from_ref(r),
            Repr::Many(v) => v,
        }
    }
}

impl DerefMut for Records {
    fn deref_mut(&mut self) -> &mut [Record] {
        match &mut self.0 {
            Repr::One(r) => std::slice::from_mut(r),
            Repr::Many(v) => v,
        }
    }
}

impl Extend<Record> for Records {
    fn extend<I: IntoIterator<Item = Record>>(&mut self, iter: I) {
        for r in iter {
            self.push(r);
        }
    }
}

impl FromIterator<Record> for Records {
    fn from_iter<I: IntoIterator<Item = Record>>(iter: I) -> Records {
        let mut rs = Records::new();
        rs.extend(iter);
        rs
    }
}

impl From<Vec<Record>> for Records {
    fn from(v: Vec<Record>) -> Records {
        Records(Repr::Many(v))
    }
}

impl From<Records> for Vec<Record> {
    fn from(rs: Records) -> Vec<Record> {
        match rs.0 {
            Repr::One(r) => vec![r],
            Repr::Many(v) => v,
        }
    }
}

/// The records of a [`Records`], by value.
pub struct IntoIter(IterRepr);

enum IterRepr {
    One(std::option::IntoIter<Record>),
    Many(std::vec::IntoIter<Record>),
}

impl Iterator for IntoIter {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        match &mut self.0 {
            IterRepr::One(it) => it.next(),
            IterRepr::Many(it) => it.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.0 {
            IterRepr::One(it) => it.size_hint(),
            IterRepr::Many(it) => it.size_hint(),
        }
    }
}

impl IntoIterator for Records {
    type Item = Record;
    type IntoIter = IntoIter;

    fn into_iter(self) -> IntoIter {
        IntoIter(match self.0 {
            Repr::One(r) => IterRepr::One(Some(r).into_iter()),
            Repr::Many(v) => IterRepr::Many(v.into_iter()),
        })
    }
}

impl<'a> IntoIterator for &'a Records {
    type Item = &'a Record;
    type IntoIter = std::slice::Iter<'a, Record>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a> IntoIterator for &'a mut Records {
    type Item = &'a mut Record;
    type IntoIter = std::slice::IterMut<'a, Record>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
    }
}

impl PartialEq for Records {
    fn eq(&self, other: &Records) -> bool {
        **self == **other
    }
}

impl Eq for Records {}

impl PartialEq<Vec<Record>> for Records {
    fn eq(&self, other: &Vec<Record>) -> bool {
        **self == **other
    }
}

impl PartialEq<[Record]> for Records {
    fn eq(&self, other: &[Record]) -> bool {
        **self == *other
    }
}

impl PartialEq<Records> for Vec<Record> {
    fn eq(&self, other: &Records) -> bool {
        **self == **other
    }
}

impl PartialEq<Records> for [Record] {
    fn eq(&self, other: &Records) -> bool {
        *self == **other
    }
}

impl fmt::Debug for Records {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::RData;

    fn rec(i: u8) -> Record {
        Record::new("a.", 5, RData::A(std::net::Ipv4Addr::new(10, 0, 0, i)))
    }

    #[test]
    fn grows_and_shrinks_like_a_vec() {
        let mut rs = Records::new();
        let mut v = Vec::new();
        for i in 0..4 {
            rs.push(rec(i));
            v.push(rec(i));
            assert_eq!(rs, v);
        }
        rs.truncate(1);
        v.truncate(1);
        assert_eq!(rs, v);
        assert_eq!(rs.pop(), v.pop());
        assert!(rs.is_empty());
        rs.push(rec(9));
        rs.retain(|r| r.data != rec(9).data);
        assert!(rs.is_empty());
        let one: Records = std::iter::once(rec(1)).collect();
        assert_eq!(one.clone().into_iter().collect::<Vec<_>>(), vec![rec(1)]);
        assert_eq!(Vec::from(one.clone()), vec![rec(1)]);
        assert_eq!(format!("{one:?}"), format!("{:?}", vec![rec(1)]));
        let mut one = one;
        one.clear();
        assert_eq!(one.pop(), None);
    }
}
