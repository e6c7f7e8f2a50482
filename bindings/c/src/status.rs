//! The status codes every exported function returns.

use std::ffi::CStr;

use svcroute::ErrorKind;

/// What a call returned: `SVCROUTE_STATUS_OK` (0) or why it failed.
///
/// The numbers are part of the ABI: they never change and are never reused.
/// Codes 1 to 99 are the kinds of the core's errors, one code per kind (the
/// same classification as the JS `Error.code` and the command line's
/// messages); codes from 100 on are failures at the C boundary itself.
/// `svcroute_status_name` gives each code's stable short name.
///
/// After any status other than `SVCROUTE_STATUS_OK`, the calling thread's last
/// error message says what went wrong (see `svcroute_last_error_message`).
///
/// Functions that take a status as an argument take it as an `int`, so that a
/// value the library does not know (from a newer header, or garbage) is
/// answered, not undefined behaviour.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum svcroute_status {
    /// The call succeeded.
    Ok = 0,
    /// The input could not be read at all (bad syntax, wrong JSON/YAML type).
    Parse = 1,
    /// The input was read but breaks a validation rule of the Kubernetes API.
    Invalid = 2,
    /// The request clashes with the current state (an address already allocated).
    Conflict = 3,
    /// The named object (or name) does not exist.
    NotFound = 4,
    /// A limit was reached (a range is full, input too large).
    Limit = 5,
    /// The input asks for something svcroute does not model.
    Unsupported = 6,
    /// A pointer argument that must not be NULL was NULL.
    NullArgument = 100,
    /// A string argument was not valid UTF-8.
    InvalidUtf8 = 101,
    /// A caller-provided buffer was too small; the call says how much is needed.
    BufferTooSmall = 102,
    /// The library panicked (a bug in svcroute); the panic was caught at the
    /// boundary and did not unwind into the caller. Objects that the failed
    /// call was changing may be left in an unspecified (but memory-safe) state.
    Panic = 103,
    /// An error the library could not classify (a bug in svcroute: a newer
    /// core error kind this binding does not map yet).
    Internal = 104,
}

/// Every status, in numeric order. Used by tests and by name lookups.
/// (A function rather than a constant so that cbindgen has nothing to skip.)
fn all() -> [svcroute_status; 12] {
    [
        svcroute_status::Ok,
        svcroute_status::Parse,
        svcroute_status::Invalid,
        svcroute_status::Conflict,
        svcroute_status::NotFound,
        svcroute_status::Limit,
        svcroute_status::Unsupported,
        svcroute_status::NullArgument,
        svcroute_status::InvalidUtf8,
        svcroute_status::BufferTooSmall,
        svcroute_status::Panic,
        svcroute_status::Internal,
    ]
}

impl svcroute_status {
    /// The status of a core error kind: one code per kind.
    pub fn from_kind(kind: ErrorKind) -> svcroute_status {
        match kind {
            ErrorKind::Parse => svcroute_status::Parse,
            ErrorKind::Invalid => svcroute_status::Invalid,
            ErrorKind::Conflict => svcroute_status::Conflict,
            ErrorKind::NotFound => svcroute_status::NotFound,
            ErrorKind::Limit => svcroute_status::Limit,
            ErrorKind::Unsupported => svcroute_status::Unsupported,
            // `ErrorKind` is non-exhaustive: a kind added to the core before
            // it gets its own code here is still an error, never a success.
            _ => svcroute_status::Internal,
        }
    }

    /// The stable short name of this status, NUL-terminated.
    ///
    /// For the core's kinds this is exactly [`ErrorKind::code`] (`parse`,
    /// `not-found`, …), the string the JS door puts in `Error.code`.
    pub fn name(self) -> &'static CStr {
        match self {
            svcroute_status::Ok => c"ok",
            svcroute_status::Parse => c"parse",
            svcroute_status::Invalid => c"invalid",
            svcroute_status::Conflict => c"conflict",
            svcroute_status::NotFound => c"not-found",
            svcroute_status::Limit => c"limit",
            svcroute_status::Unsupported => c"unsupported",
            svcroute_status::NullArgument => c"null-argument",
            svcroute_status::InvalidUtf8 => c"invalid-utf8",
            svcroute_status::BufferTooSmall => c"buffer-too-small",
            svcroute_status::Panic => c"panic",
            svcroute_status::Internal => c"internal",
        }
    }

    /// The status with this number, if there is one.
    pub fn from_number(number: i64) -> Option<svcroute_status> {
        all().into_iter().find(|s| *s as i64 == number)
    }

    /// The status with this short name, if there is one.
    pub fn from_name(name: &str) -> Option<svcroute_status> {
        all()
            .into_iter()
            .find(|s| s.name().to_bytes() == name.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_stable() {
        let numbers: Vec<i64> = all().iter().map(|s| *s as i64).collect();
        assert_eq!(numbers, [0, 1, 2, 3, 4, 5, 6, 100, 101, 102, 103, 104]);
    }

    #[test]
    fn every_core_kind_has_its_own_code_named_like_the_kind() {
        let kinds = [
            ErrorKind::Parse,
            ErrorKind::Invalid,
            ErrorKind::Conflict,
            ErrorKind::NotFound,
            ErrorKind::Limit,
            ErrorKind::Unsupported,
        ];
        let mut seen = std::collections::HashSet::new();
        for kind in kinds {
            let status = svcroute_status::from_kind(kind);
            assert!(seen.insert(status), "{kind:?} shares a code");
            assert!((1..100).contains(&(status as i64)));
            assert_eq!(status.name().to_str().unwrap(), kind.code());
        }
    }

    #[test]
    fn names_are_unique_and_round_trip() {
        for status in all() {
            let name = status.name().to_str().unwrap();
            assert_eq!(svcroute_status::from_name(name), Some(status));
            assert_eq!(svcroute_status::from_number(status as i64), Some(status));
        }
        assert_eq!(svcroute_status::from_name("OK"), None);
        assert_eq!(svcroute_status::from_number(7), None);
        assert_eq!(svcroute_status::from_number(-1), None);
    }
}
