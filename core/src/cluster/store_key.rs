//! The key of a stored object, allocated once and shared: the arena slot,
//! the hash index and the ordered index hold the same `Arc`, and point
//! lookups borrow `(kind, namespace, name)` without building an
//! [`ObjectKey`].

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::api::{Kind, ObjectKey};

/// A key as the store holds it: one allocation per object, cloned by
/// reference count.
#[derive(Debug, Clone)]
pub(crate) struct StoreKey(Arc<ObjectKey>);

impl StoreKey {
    pub(crate) fn new(key: ObjectKey) -> StoreKey {
        StoreKey(Arc::new(key))
    }

    /// Is this the same stored key (one allocation)?
    pub(crate) fn same(&self, other: &StoreKey) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// The key itself.
    pub(crate) fn get(&self) -> &ObjectKey {
        &self.0
    }
}

impl std::ops::Deref for StoreKey {
    type Target = ObjectKey;
    fn deref(&self) -> &ObjectKey {
        &self.0
    }
}

/// `(kind, namespace, name)` however it is held, so that the hash index can
/// be asked with borrowed parts.
pub(crate) trait KeyView {
    fn kind(&self) -> Kind;
    fn namespace(&self) -> Option<&str>;
    fn name(&self) -> &str;
}

/// Borrowed parts of a key.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyRef<'a> {
    pub(crate) kind: Kind,
    pub(crate) namespace: Option<&'a str>,
    pub(crate) name: &'a str,
}

impl KeyView for KeyRef<'_> {
    fn kind(&self) -> Kind {
        self.kind
    }
    fn namespace(&self) -> Option<&str> {
        self.namespace
    }
    fn name(&self) -> &str {
        self.name
    }
}

impl KeyView for ObjectKey {
    fn kind(&self) -> Kind {
        self.kind
    }
    fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }
    fn name(&self) -> &str {
        &self.name
    }
}

impl KeyView for StoreKey {
    fn kind(&self) -> Kind {
        self.0.kind
    }
    fn namespace(&self) -> Option<&str> {
        self.0.namespace.as_deref()
    }
    fn name(&self) -> &str {
        &self.0.name
    }
}

impl Hash for dyn KeyView + '_ {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.kind().hash(state);
        self.namespace().hash(state);
        self.name().hash(state);
    }
}

impl PartialEq for dyn KeyView + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.kind() == other.kind()
            && self.name() == other.name()
            && self.namespace() == other.namespace()
    }
}

impl Eq for dyn KeyView + '_ {}

/// Ordered as [`ObjectKey`] (kind, namespace, name).
impl Ord for dyn KeyView + '_ {
    fn cmp(&self, other: &Self) -> Ordering {
        self.kind()
            .cmp(&other.kind())
            .then_with(|| self.namespace().cmp(&other.namespace()))
            .then_with(|| self.name().cmp(other.name()))
    }
}

impl PartialOrd for dyn KeyView + '_ {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<'a> Borrow<dyn KeyView + 'a> for StoreKey {
    fn borrow(&self) -> &(dyn KeyView + 'a) {
        self
    }
}

/// Hashes as `dyn KeyView` does (the hash index is asked with either).
impl Hash for StoreKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self as &dyn KeyView).hash(state);
    }
}

impl PartialEq for StoreKey {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || *self.0 == *other.0
    }
}

impl Eq for StoreKey {}

/// Ordered as `dyn KeyView` (the ordered index is asked with either).
impl Ord for StoreKey {
    fn cmp(&self, other: &Self) -> Ordering {
        if Arc::ptr_eq(&self.0, &other.0) {
            return Ordering::Equal;
        }
        (self as &dyn KeyView).cmp(other as &dyn KeyView)
    }
}

impl PartialOrd for StoreKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::intern::FxMap;

    #[test]
    fn borrowed_parts_find_shared_keys() {
        let mut m: FxMap<StoreKey, u32> = FxMap::default();
        let key = ObjectKey {
            kind: Kind::Pod,
            namespace: Some("shop".into()),
            name: "web-1".into(),
        };
        m.insert(StoreKey::new(key.clone()), 7);
        let parts = KeyRef {
            kind: Kind::Pod,
            namespace: Some("shop"),
            name: "web-1",
        };
        assert_eq!(m.get(&parts as &dyn KeyView), Some(&7));
        assert_eq!(m.get(&key as &dyn KeyView), Some(&7));
        let other = KeyRef {
            namespace: None,
            ..parts
        };
        assert_eq!(m.get(&other as &dyn KeyView), None);
    }
}
