//! The panic boundary every exported function runs inside.
//!
//! Since Rust 1.81 a panic that tries to unwind out of an `extern "C"`
//! function aborts the process, so the boundary is not about soundness: it
//! turns a bug in svcroute into `SVCROUTE_STATUS_PANIC` and a message, and the
//! host program (a proxy) keeps running. It only works when panics unwind,
//! which the compile-time check in `lib.rs` enforces.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::{FfiError, clear_last_error, set_last_error};
use crate::status::svcroute_status;

/// Runs the body of a status-returning export.
///
/// Clears the thread's last error, runs `body`, and returns
/// `SVCROUTE_STATUS_OK` on success. On an error, or a panic, it records the
/// last error and returns its status. Use it as the whole body of every
/// `extern "C" fn` that returns [`svcroute_status`]:
///
/// ```
/// use svcroute_c::boundary;
/// use svcroute_c::svcroute_status;
///
/// let status = boundary::status(|| Err(svcroute_c::FfiError::null_argument("name")));
/// assert_eq!(status, svcroute_status::NullArgument);
/// ```
pub fn status(body: impl FnOnce() -> Result<(), FfiError>) -> svcroute_status {
    clear_last_error();
    let err = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => return svcroute_status::Ok,
        Ok(Err(err)) => err,
        Err(payload) => panic_error(payload.as_ref()),
    };
    set_last_error(&err);
    err.status
}

/// Runs the body of an export that returns a value instead of a status
/// (a pointer, a count): a panic yields `fallback` (NULL, 0) and is recorded
/// as the thread's last error. Successful calls leave the last error alone.
pub fn value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(value) => value,
        Err(payload) => {
            set_last_error(&panic_error(payload.as_ref()));
            fallback
        }
    }
}

/// The error a caught panic becomes.
fn panic_error(payload: &(dyn Any + Send)) -> FfiError {
    let what = if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.as_str()
    } else {
        "(no message)"
    };
    FfiError::new(
        svcroute_status::Panic,
        format!("svcroute panicked (a bug, please report it): {what}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{last_error_status, with_last_error_message};

    #[test]
    fn ok_clears_the_last_error() {
        let _ = status(|| Err(FfiError::null_argument("x")));
        assert_eq!(last_error_status(), Some(svcroute_status::NullArgument));
        assert_eq!(status(|| Ok(())), svcroute_status::Ok);
        assert_eq!(last_error_status(), None);
        with_last_error_message(|m| assert_eq!(m, ""));
    }

    #[test]
    fn errors_are_recorded() {
        let s = status(|| {
            Err(FfiError::new(
                svcroute_status::NotFound,
                "no service \"web\"",
            ))
        });
        assert_eq!(s, svcroute_status::NotFound);
        with_last_error_message(|m| assert_eq!(m, "no service \"web\""));
    }

    #[test]
    fn panics_become_a_status_and_a_message() {
        let s = status(|| panic!("boom {}", 42));
        assert_eq!(s, svcroute_status::Panic);
        with_last_error_message(|m| {
            assert!(m.contains("boom 42"), "{m}");
            assert!(m.contains("panicked"), "{m}");
        });
        let s = status(|| std::panic::panic_any(7_u8));
        assert_eq!(s, svcroute_status::Panic);
        with_last_error_message(|m| assert!(m.contains("(no message)"), "{m}"));
    }

    #[test]
    fn value_returns_the_fallback_on_panic() {
        assert_eq!(value(0_usize, || 5), 5);
        let got: *const u8 = value(std::ptr::null(), || panic!("nope"));
        assert!(got.is_null());
        assert_eq!(last_error_status(), Some(svcroute_status::Panic));
    }

    #[test]
    fn nul_bytes_in_messages_are_escaped() {
        let _ = status(|| Err(FfiError::new(svcroute_status::Parse, "a\0b")));
        with_last_error_message(|m| assert_eq!(m, "a\\0b"));
    }
}
