//! What the library hands to C and C hands back to be freed: opaque handles
//! (a boxed Rust value behind a typed pointer) and owned strings.
//!
//! A handle type is a plain Rust struct that is not `#[repr(C)]`; cbindgen
//! declares it as an incomplete struct (`typedef struct svcroute_x
//! svcroute_x;`), so C can hold pointers to it but never look inside. Its
//! `svcroute_x_new` returns [`into_handle`], its `svcroute_x_free` calls
//! [`free_handle`] (NULL is a no-op), and every other function borrows it with
//! [`handle_ref`] or [`handle_mut`], which turn NULL into
//! `SVCROUTE_STATUS_NULL_ARGUMENT`.

use std::borrow::Cow;
use std::ffi::{CString, c_char};

use crate::error::FfiError;

/// Moves `value` to the heap and returns the owning pointer C will hold.
pub fn into_handle<T>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// Drops a value created by [`into_handle`]. NULL is a no-op.
///
/// # Safety
///
/// `ptr` is NULL or was returned by [`into_handle::<T>`](into_handle), has not
/// been freed yet, and is not in use by another call.
pub unsafe fn free_handle<T>(ptr: *mut T) {
    if !ptr.is_null() {
        // SAFETY: the caller guarantees it came from Box::into_raw and is
        // freed only once.
        drop(unsafe { Box::from_raw(ptr) });
    }
}

/// Borrows a handle for the length of a call (shared access).
///
/// # Safety
///
/// `ptr` is NULL or a live pointer from [`into_handle::<T>`](into_handle),
/// not mutated by another thread during `'a`.
pub unsafe fn handle_ref<'a, T>(ptr: *const T, name: &str) -> Result<&'a T, FfiError> {
    // SAFETY: the caller's guarantees.
    unsafe { ptr.as_ref() }.ok_or_else(|| FfiError::null_argument(name))
}

/// Borrows a handle for the length of a call (exclusive access).
///
/// # Safety
///
/// `ptr` is NULL or a live pointer from [`into_handle::<T>`](into_handle),
/// not used by any other call during `'a`.
pub unsafe fn handle_mut<'a, T>(ptr: *mut T, name: &str) -> Result<&'a mut T, FfiError> {
    // SAFETY: the caller's guarantees.
    unsafe { ptr.as_mut() }.ok_or_else(|| FfiError::null_argument(name))
}

/// `text` with each NUL byte written as `\0`, so that C, which stops at the
/// first NUL, sees the whole text.
pub fn escape_nul(text: &str) -> Cow<'_, str> {
    if text.contains('\0') {
        Cow::Owned(text.replace('\0', "\\0"))
    } else {
        Cow::Borrowed(text)
    }
}

/// Turns `text` into a NUL-terminated string owned by the caller, to be
/// released with `svcroute_string_free` (NUL bytes escaped by [`escape_nul`]).
pub fn into_c_string(text: &str) -> *mut c_char {
    let c = CString::new(escape_nul(text).into_owned()).unwrap_or_default();
    c.into_raw()
}

/// Frees a string from [`into_c_string`]. NULL is a no-op.
///
/// # Safety
///
/// `ptr` is NULL or was returned by [`into_c_string`] and not freed yet.
pub unsafe fn free_c_string(ptr: *mut c_char) {
    if !ptr.is_null() {
        // SAFETY: the caller guarantees it came from CString::into_raw and is
        // freed only once.
        drop(unsafe { CString::from_raw(ptr) });
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::CStr;

    use super::*;
    use crate::status::svcroute_status;

    struct Counter {
        hits: u32,
    }

    #[test]
    fn handles_borrow_and_free() {
        let h = into_handle(Counter { hits: 0 });
        unsafe { handle_mut(h, "counter") }.unwrap().hits += 2;
        assert_eq!(unsafe { handle_ref(h, "counter") }.unwrap().hits, 2);
        unsafe { free_handle(h) };
        unsafe { free_handle::<Counter>(std::ptr::null_mut()) };

        let e = unsafe { handle_ref::<Counter>(std::ptr::null(), "cluster") }
            .err()
            .unwrap();
        assert_eq!(e.status, svcroute_status::NullArgument);
        assert_eq!(e.message, "argument `cluster` is NULL");
    }

    #[test]
    fn owned_strings_round_trip() {
        let s = into_c_string("web.shop.svc.cluster.local");
        assert_eq!(
            unsafe { CStr::from_ptr(s) }.to_str().unwrap(),
            "web.shop.svc.cluster.local"
        );
        unsafe { free_c_string(s) };
        let s = into_c_string("a\0b");
        assert_eq!(unsafe { CStr::from_ptr(s) }.to_str().unwrap(), "a\\0b");
        unsafe { free_c_string(s) };
        unsafe { free_c_string(std::ptr::null_mut()) };
    }
}
