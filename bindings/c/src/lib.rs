//! # svcroute-c: the C library over svcroute
//!
//! This crate builds `libsvcroute_c.so` and `libsvcroute_c.a` and their header,
//! `bindings/c/include/svcroute.h`, generated from this source by the pinned
//! cbindgen (`bindings/c/gen-header.sh`) and committed. It only converts
//! types and maps errors; every decision is the core's.
//!
//! ## The contract every export follows
//!
//! * **Status codes.** A function that can fail returns a [`svcroute_status`]:
//!   `SVCROUTE_STATUS_OK` (0) or the reason, with numbers that never change.
//!   Results go through out-parameters, which are left untouched on failure
//!   unless a function says otherwise.
//! * **Last error.** After a failure, the calling thread's last error message
//!   says what went wrong and where (`svcroute_last_error_message`). Every
//!   status-returning function clears it on entry, so it always describes the
//!   most recent call on that thread. It is per thread: a call on one thread
//!   never changes another thread's message.
//! * **Arguments are checked.** A NULL pointer where one is required is
//!   `SVCROUTE_STATUS_NULL_ARGUMENT`; text that is not UTF-8 is
//!   `SVCROUTE_STATUS_INVALID_UTF8`. Nothing is read as text unchecked
//!   ([`args`]).
//! * **No panic crosses the boundary.** Each body runs inside
//!   [`boundary::status`] (or [`boundary::value`]); a panic becomes
//!   `SVCROUTE_STATUS_PANIC` and a message. This needs `panic = "unwind"`,
//!   which a compile-time check below enforces.
//! * **Ownership.** The library never keeps a pointer the caller passed in
//!   after the call returns. Strings the library returns are either static
//!   (never freed) or owned by the caller and freed with
//!   `svcroute_string_free`; each function says which. Opaque handles are
//!   boxed Rust values with a `_new`/`_free` pair ([`owned`]).
//!
//! ## What a proxy uses
//!
//! A cluster handle ([`svcroute_cluster`]) holds the object store and, kept
//! in step with it on every write, kube-proxy's compiled tables and the
//! cluster DNS ([`engine`]). [`route::svcroute_route`] places a connection
//! without allocating on the cluster-IP path; [`dns::svcroute_dns_answer`]
//! answers wire-format queries; `svcroute_set_algorithm` swaps kube-proxy's
//! placement for one of [`svcroute::balance`]'s algorithms per Service port
//! ([`algorithm`]). The threading model (a read-write lock around the
//! cluster, per-pick state sharded by source address) is explained in
//! [`route`] and in the header.
//!
//! ## Adding an export
//!
//! ```text
//! /// What it does, what it owns, when it fails.
//! ///
//! /// # Safety
//! ///
//! /// `name` is NULL or a NUL-terminated string; `out` is NULL or writable.
//! #[unsafe(no_mangle)]
//! pub unsafe extern "C" fn svcroute_thing(name: *const c_char, out: *mut u32) -> svcroute_status {
//!     boundary::status(|| {
//!         let name = unsafe { args::str_arg(name, "name") }?;
//!         let out = unsafe { args::out_arg(out, "out") }?;
//!         out.write(core_call(name).map_err(FfiError::from)?);
//!         Ok(())
//!     })
//! }
//! ```
//!
//! Then regenerate the header with `bindings/c/gen-header.sh` and add a C test
//! in `bindings/c/tests/`.

use std::ffi::{CStr, c_char, c_int};

pub mod algorithm;
pub mod args;
pub mod boundary;
pub mod cluster;
pub mod dns;
pub mod door;
pub mod endpoints;
pub mod engine;
mod error;
pub mod local_traffic;
pub mod owned;
pub mod route;
mod status;
pub mod summary;

pub use cluster::svcroute_cluster;
pub use error::FfiError;
pub use status::svcroute_status;
/// The core this library wraps, re-exported so that Rust code mixing the
/// two (tests, benches, examples) names the very same types.
///
/// ```
/// let kind = svcroute_c::svcroute::ErrorKind::NotFound;
/// assert_eq!(kind.code(), "not-found");
/// ```
pub use svcroute;

#[cfg(panic = "abort")]
compile_error!(
    "svcroute-c must be built with panic = \"unwind\": its boundary turns panics into \
     SVCROUTE_STATUS_PANIC, which an aborting panic cannot do"
);

/// The library's version as `"MAJOR.MINOR.PATCH"`.
///
/// Ownership: the string is static; do not free it. Never NULL.
/// Threads: may be called from any thread at any time.
#[unsafe(no_mangle)]
pub extern "C" fn svcroute_version() -> *const c_char {
    // The Cargo package version, checked NUL-free at compile time.
    const VERSION: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(version) => version,
            Err(_) => panic!("the package version contains a NUL byte"),
        };
    VERSION.as_ptr()
}

/// The stable short name of a status: `"ok"`, `"parse"`, `"invalid"`,
/// `"conflict"`, `"not-found"`, `"limit"`, `"unsupported"`,
/// `"null-argument"`, `"invalid-utf8"`, `"buffer-too-small"`, `"panic"`,
/// `"internal"`; `"unknown"` for a number that is no status.
///
/// The names of the core's error kinds are the codes the JS package puts in
/// `Error.code` and the command line prints.
///
/// Ownership: the string is static; do not free it. Never NULL.
/// Threads: may be called from any thread at any time.
#[unsafe(no_mangle)]
pub extern "C" fn svcroute_status_name(status: c_int) -> *const c_char {
    match svcroute_status::from_number(i64::from(status)) {
        Some(status) => status.name().as_ptr(),
        None => c"unknown".as_ptr(),
    }
}

/// Looks up a status by its short name (the inverse of `svcroute_status_name`),
/// for programs that receive codes as text (from the JS package, logs or
/// configuration).
///
/// On success stores the status in `*out`. Fails with
/// `SVCROUTE_STATUS_NULL_ARGUMENT` if `name` or `out` is NULL,
/// `SVCROUTE_STATUS_INVALID_UTF8` if `name` is not UTF-8, and
/// `SVCROUTE_STATUS_NOT_FOUND` if no status has that name; `*out` is then
/// left unchanged.
///
/// Ownership: `name` is borrowed for the call only.
///
/// # Safety
///
/// `name` is NULL or a NUL-terminated string; `out` is NULL or valid for
/// writing one `svcroute_status`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn svcroute_status_from_name(
    name: *const c_char,
    out: *mut svcroute_status,
) -> svcroute_status {
    boundary::status(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let name = unsafe { args::str_arg(name, "name") }?;
        // SAFETY: as above.
        let out = unsafe { args::out_arg(out, "out") }?;
        let status = svcroute_status::from_name(name).ok_or_else(|| {
            FfiError::new(
                svcroute_status::NotFound,
                format!("no status is named {name:?}"),
            )
        })?;
        out.write(status);
        Ok(())
    })
}

/// The status of the calling thread's last failed call, or
/// `SVCROUTE_STATUS_OK` if its last call succeeded (or it made none).
///
/// Useful after a function that returns a value rather than a status (a
/// pointer, a count) signalled failure with NULL or 0.
/// Never changes the last error.
#[unsafe(no_mangle)]
pub extern "C" fn svcroute_last_error_status() -> svcroute_status {
    error::last_error_status().unwrap_or(svcroute_status::Ok)
}

/// Copies the calling thread's last error message into `buf` as a
/// NUL-terminated UTF-8 string (`""` if the last call succeeded).
///
/// `buf` holds `len` bytes. The full length of the message in bytes, without
/// the NUL, is stored in `*out_len` unless `out_len` is NULL. Returns
/// `SVCROUTE_STATUS_OK` when the whole message fit, and
/// `SVCROUTE_STATUS_BUFFER_TOO_SMALL` otherwise, after writing as much as fits
/// (cut at a character boundary, NUL-terminated when `len > 0`). Call it with
/// `buf = NULL, len = 0` to learn the length, then with a buffer of
/// `*out_len + 1` bytes. `SVCROUTE_STATUS_NULL_ARGUMENT` if `buf` is NULL while
/// `len > 0`.
///
/// This function never changes the last error, not even when it fails, so it
/// can be called repeatedly.
///
/// Ownership: `buf` and `out_len` are the caller's; nothing is kept.
///
/// # Safety
///
/// `buf` is NULL or valid for writing `len` bytes; `out_len` is NULL or valid
/// for writing one `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn svcroute_last_error_message(
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> svcroute_status {
    // Not `boundary::status`: that would clear the message being read.
    boundary::value(svcroute_status::Panic, || {
        error::with_last_error_message(|message| {
            // SAFETY: the caller's guarantees, as documented above.
            match unsafe { args::copy_to_buffer(message, buf, len, out_len, "buf") } {
                Ok(()) => svcroute_status::Ok,
                Err(err) => err.status,
            }
        })
    })
}

/// A copy of the calling thread's last error message (`""` if the last call
/// succeeded), for callers that prefer not to size a buffer.
///
/// Ownership: the string belongs to the caller, who must release it with
/// `svcroute_string_free`. Returns NULL only if the library panicked.
/// Never changes the last error.
#[unsafe(no_mangle)]
pub extern "C" fn svcroute_last_error_message_dup() -> *mut c_char {
    boundary::value(std::ptr::null_mut(), || {
        error::with_last_error_message(owned::into_c_string)
    })
}

/// Frees a string that a svcroute function returned as the caller's to free.
/// NULL is a no-op.
///
/// # Safety
///
/// `string` is NULL or a string returned by a svcroute function whose
/// documentation says to free it with `svcroute_string_free`, not freed yet.
/// Passing any other pointer (a static string such as `svcroute_version()`,
/// or memory from `malloc`) is undefined behaviour.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn svcroute_string_free(string: *mut c_char) {
    // SAFETY: the caller's guarantees, as documented above.
    boundary::value((), || unsafe { owned::free_c_string(string) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> String {
        let mut buf = [0 as c_char; 256];
        let mut n = 0;
        let s = unsafe { svcroute_last_error_message(buf.as_mut_ptr(), buf.len(), &mut n) };
        assert_eq!(s, svcroute_status::Ok);
        let text = unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap();
        assert_eq!(text.len(), n);
        text.to_owned()
    }

    #[test]
    fn version_is_the_package_version() {
        let v = unsafe { CStr::from_ptr(svcroute_version()) };
        assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn status_names() {
        let name = |n| {
            unsafe { CStr::from_ptr(svcroute_status_name(n)) }
                .to_str()
                .unwrap()
        };
        assert_eq!(name(0), "ok");
        assert_eq!(name(4), "not-found");
        assert_eq!(name(101), "invalid-utf8");
        assert_eq!(name(7), "unknown");
        assert_eq!(name(-1), "unknown");
        assert_eq!(name(c_int::MAX), "unknown");
    }

    #[test]
    fn from_name_round_trips_and_reports() {
        let mut out = svcroute_status::Internal;
        let s = unsafe { svcroute_status_from_name(c"limit".as_ptr(), &mut out) };
        assert_eq!((s, out), (svcroute_status::Ok, svcroute_status::Limit));
        assert_eq!(svcroute_last_error_status(), svcroute_status::Ok);
        assert_eq!(message(), "");

        let s = unsafe { svcroute_status_from_name(c"nope".as_ptr(), &mut out) };
        assert_eq!(s, svcroute_status::NotFound);
        assert_eq!(out, svcroute_status::Limit, "out is untouched on failure");
        assert_eq!(svcroute_last_error_status(), svcroute_status::NotFound);
        assert_eq!(message(), "no status is named \"nope\"");
        // Reading the message does not clear it.
        assert_eq!(message(), "no status is named \"nope\"");

        let s = unsafe { svcroute_status_from_name(std::ptr::null(), &mut out) };
        assert_eq!(s, svcroute_status::NullArgument);
        assert_eq!(message(), "argument `name` is NULL");
        let s = unsafe { svcroute_status_from_name(c"ok".as_ptr(), std::ptr::null_mut()) };
        assert_eq!(s, svcroute_status::NullArgument);
        assert_eq!(message(), "argument `out` is NULL");
        let s = unsafe { svcroute_status_from_name(c"o\xffk".as_ptr(), &mut out) };
        assert_eq!(s, svcroute_status::InvalidUtf8);
    }

    #[test]
    fn last_error_message_protocol() {
        let mut out = svcroute_status::Ok;
        let _ = unsafe { svcroute_status_from_name(c"nope".as_ptr(), &mut out) };
        let mut n = 0;
        let s = unsafe { svcroute_last_error_message(std::ptr::null_mut(), 0, &mut n) };
        assert_eq!(s, svcroute_status::BufferTooSmall);
        assert_eq!(n, "no status is named \"nope\"".len());
        let s = unsafe { svcroute_last_error_message(std::ptr::null_mut(), 3, &mut n) };
        assert_eq!(s, svcroute_status::NullArgument);
        // Failing reads leave the message in place.
        assert_eq!(svcroute_last_error_status(), svcroute_status::NotFound);
        assert_eq!(message(), "no status is named \"nope\"");
    }

    #[test]
    fn last_error_message_dup_is_owned_by_the_caller() {
        let mut out = svcroute_status::Ok;
        let _ = unsafe { svcroute_status_from_name(c"nope".as_ptr(), &mut out) };
        let copy = svcroute_last_error_message_dup();
        assert_eq!(
            unsafe { CStr::from_ptr(copy) }.to_str().unwrap(),
            "no status is named \"nope\""
        );
        unsafe { svcroute_string_free(copy) };
        unsafe { svcroute_string_free(std::ptr::null_mut()) };
        assert_eq!(svcroute_last_error_status(), svcroute_status::NotFound);
    }

    #[test]
    fn last_error_is_per_thread() {
        let mut out = svcroute_status::Ok;
        let _ = unsafe { svcroute_status_from_name(c"nope".as_ptr(), &mut out) };
        std::thread::spawn(|| {
            assert_eq!(svcroute_last_error_status(), svcroute_status::Ok);
            assert_eq!(message(), "");
        })
        .join()
        .unwrap();
        assert_eq!(svcroute_last_error_status(), svcroute_status::NotFound);
    }
}
