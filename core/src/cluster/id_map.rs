//! A map from store ids to values that nearly every id has.
//!
//! Store ids are small integers handed out densely (a slot index, reused
//! after a delete), and most slots hold a Pod. The label index keeps one
//! record per pod, so it keeps them in a vector indexed by id: no hashing
//! on the one-pod paths, and no hash table's empty buckets and control
//! bytes (a hash map of 150,000 pod records kept 262,144 buckets of 48
//! bytes and one control byte each).

use super::ObjId;

/// Id → value, for values that nearly every id has (see the module
/// documentation).
#[derive(Debug, Clone)]
pub(crate) struct IdMap<T> {
    values: Vec<Option<T>>,
}

impl<T> Default for IdMap<T> {
    fn default() -> Self {
        IdMap { values: Vec::new() }
    }
}

impl<T> IdMap<T> {
    /// The value of `id`.
    pub(crate) fn get(&self, id: &ObjId) -> Option<&T> {
        self.values.get(*id as usize)?.as_ref()
    }

    /// The value of `id`, mutable.
    pub(crate) fn get_mut(&mut self, id: &ObjId) -> Option<&mut T> {
        self.values.get_mut(*id as usize)?.as_mut()
    }

    /// Does `id` have a value?
    pub(crate) fn contains_key(&self, id: &ObjId) -> bool {
        self.get(id).is_some()
    }

    /// Sets the value of `id`, giving back the one it replaces.
    pub(crate) fn insert(&mut self, id: ObjId, value: T) -> Option<T> {
        let i = id as usize;
        if i >= self.values.len() {
            self.values.resize_with(i + 1, || None);
        }
        self.values[i].replace(value)
    }

    /// Takes the value of `id` away.
    pub(crate) fn remove(&mut self, id: &ObjId) -> Option<T> {
        self.values.get_mut(*id as usize)?.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // It behaves as a map from ids: absent ids read as absent, far ids
    // can be set, a replaced value comes back, a removed one is gone.
    #[test]
    fn behaves_as_a_map_from_ids() {
        let mut m: IdMap<&str> = IdMap::default();
        assert_eq!(m.get(&3), None);
        assert_eq!(m.remove(&3), None);
        assert_eq!(m.insert(3, "a"), None);
        assert!(m.contains_key(&3) && !m.contains_key(&2) && !m.contains_key(&4));
        assert_eq!(m.insert(3, "b"), Some("a"));
        assert_eq!(m.insert(0, "z"), None);
        if let Some(v) = m.get_mut(&0) {
            *v = "y";
        }
        assert_eq!((m.get(&0), m.get(&3)), (Some(&"y"), Some(&"b")));
        assert_eq!(m.remove(&3), Some("b"));
        assert_eq!(m.get(&3), None);
        assert_eq!(m.get(&u32::MAX), None);
    }
}
