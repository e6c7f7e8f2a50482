//! "Omit when default" predicates for serializing the object types.

/// `skip_serializing_if` predicate: the value equals its `Default`.
pub(crate) fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// `skip_serializing_if` predicate for plain `bool` fields (Go `omitempty`).
pub(crate) fn is_false(value: &bool) -> bool {
    !*value
}
