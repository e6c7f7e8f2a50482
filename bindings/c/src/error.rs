//! Failures at the boundary, and the thread-local last-error message.
//!
//! Every exported function that returns a [`svcroute_status`] runs through
//! [`crate::boundary::status`], which clears the calling thread's last error on
//! entry and records the [`FfiError`] the body returned (or the panic it
//! caught). `svcroute_last_error_message` copies that message out; it is the
//! only reader and never changes it.

use std::cell::RefCell;

use crate::status::svcroute_status;

/// A failed call: the status to return and the message to keep for the thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FfiError {
    /// The status the exported function returns.
    pub status: svcroute_status,
    /// What went wrong, for `svcroute_last_error_message`.
    pub message: String,
}

impl FfiError {
    /// An error with this status and message.
    pub fn new(status: svcroute_status, message: impl Into<String>) -> FfiError {
        FfiError {
            status,
            message: message.into(),
        }
    }

    /// A NULL pointer where the argument `name` must point somewhere.
    pub fn null_argument(name: &str) -> FfiError {
        FfiError::new(
            svcroute_status::NullArgument,
            format!("argument `{name}` is NULL"),
        )
    }
}

impl From<svcroute::Error> for FfiError {
    fn from(err: svcroute::Error) -> FfiError {
        FfiError::from(&err)
    }
}

impl From<&svcroute::Error> for FfiError {
    fn from(err: &svcroute::Error) -> FfiError {
        FfiError::new(svcroute_status::from_kind(err.kind()), err.to_string())
    }
}

/// What the last failed call on this thread left behind.
#[derive(Debug, Clone, Default)]
struct LastError {
    status: Option<svcroute_status>,
    /// Never contains a NUL byte (see [`set_last_error`]).
    message: String,
}

thread_local! {
    static LAST_ERROR: RefCell<LastError> = RefCell::new(LastError::default());
}

/// Records `err` as this thread's last error.
///
/// NUL bytes in the message (which may quote caller input) are replaced with
/// `\0`, so that the C string handed out is the whole message.
pub fn set_last_error(err: &FfiError) {
    let message = crate::owned::escape_nul(&err.message).into_owned();
    LAST_ERROR.with(|last| {
        *last.borrow_mut() = LastError {
            status: Some(err.status),
            message,
        }
    });
}

/// Forgets this thread's last error (each call through the boundary starts so).
pub fn clear_last_error() {
    LAST_ERROR.with(|last| {
        // Most calls follow a success: a read is enough then.
        if last.borrow().status.is_none() {
            return;
        }
        let mut last = last.borrow_mut();
        last.status = None;
        last.message.clear();
    });
}

/// The status of this thread's last failed call, or `None` after a success.
pub fn last_error_status() -> Option<svcroute_status> {
    LAST_ERROR.with(|last| last.borrow().status)
}

/// Calls `f` with this thread's last error message (empty after a success).
pub fn with_last_error_message<R>(f: impl FnOnce(&str) -> R) -> R {
    LAST_ERROR.with(|last| f(&last.borrow().message))
}
