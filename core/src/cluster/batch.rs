//! The objects of a batch on their way in: given to the cluster (owned) or
//! lent by the caller ([`Cluster::apply_batch_borrowed`]). One batch path
//! admits and writes both; a lent object is cloned only when admission
//! must change it (a Service, a Node, a namespace to default), and a lent
//! Pod is otherwise cloned only as far as the store keeps it
//! (`write_pod`).
//!
//! [`Cluster::apply_batch_borrowed`]: super::Cluster::apply_batch_borrowed

use std::borrow::Cow;

use crate::api::Object;

/// One object of a batch being admitted.
pub(super) trait BatchObject<'a> {
    /// The object as admission sees it.
    fn object(&self) -> &Object;
    /// The object, to be changed by admission (a lent one is cloned first).
    fn object_mut(&mut self) -> &mut Object;
    /// The admitted object, for the write.
    fn into_input(self) -> Cow<'a, Object>;
}

impl<'a> BatchObject<'a> for Object {
    fn object(&self) -> &Object {
        self
    }

    fn object_mut(&mut self) -> &mut Object {
        self
    }

    fn into_input(self) -> Cow<'a, Object> {
        Cow::Owned(self)
    }
}

/// A lent object, and the clone admission changed, if it did (boxed: the
/// batch's list stays three words an object).
#[derive(Debug)]
pub(super) struct Lent<'a> {
    lent: &'a Object,
    changed: Option<Box<Object>>,
}

impl<'a> Lent<'a> {
    /// An object as the caller lent it.
    pub(super) fn new(lent: &'a Object) -> Lent<'a> {
        Lent {
            lent,
            changed: None,
        }
    }
}

impl<'a> BatchObject<'a> for Lent<'a> {
    fn object(&self) -> &Object {
        self.changed.as_deref().unwrap_or(self.lent)
    }

    fn object_mut(&mut self) -> &mut Object {
        let lent = self.lent;
        self.changed.get_or_insert_with(|| Box::new(lent.clone()))
    }

    fn into_input(self) -> Cow<'a, Object> {
        match self.changed {
            Some(o) => Cow::Owned(*o),
            None => Cow::Borrowed(self.lent),
        }
    }
}
