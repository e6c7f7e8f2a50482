//! Reading arguments from C, and writing results back, with every check the
//! boundary promises: NULL pointers and invalid UTF-8 are errors with their
//! own status, never crashes, and nothing is trusted as text unchecked.
//!
//! All raw-pointer work of the crate lives here and in the exports of
//! `lib.rs`; each `unsafe fn` states what its caller must guarantee.

use std::ffi::{CStr, c_char};

use crate::error::FfiError;
use crate::status::svcroute_status;

/// Reads a NUL-terminated string argument as UTF-8.
///
/// `name` is the parameter's name, for the error message.
///
/// # Safety
///
/// `ptr` is NULL or points to a NUL-terminated byte string that stays valid
/// and unchanged for `'a`.
pub unsafe fn str_arg<'a>(ptr: *const c_char, name: &str) -> Result<&'a str, FfiError> {
    if ptr.is_null() {
        return Err(FfiError::null_argument(name));
    }
    // SAFETY: not NULL, and the caller guarantees a NUL-terminated string
    // valid for 'a.
    let bytes = unsafe { CStr::from_ptr(ptr) }.to_bytes();
    utf8(bytes, name)
}

/// Reads a byte buffer argument given as pointer and length.
///
/// `ptr` may be NULL only when `len` is 0 (an empty buffer).
///
/// # Safety
///
/// Unless NULL, `ptr` points to `len` initialized bytes that stay valid and
/// unchanged for `'a`.
pub unsafe fn bytes_arg<'a>(ptr: *const u8, len: usize, name: &str) -> Result<&'a [u8], FfiError> {
    if ptr.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(FfiError::null_argument(name))
        };
    }
    if len > isize::MAX as usize {
        return Err(FfiError::new(
            svcroute_status::Limit,
            format!("argument `{name}`: length {len} is larger than any buffer can be"),
        ));
    }
    // SAFETY: not NULL, len fits in isize, and the caller guarantees `len`
    // readable bytes valid for 'a.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Reads a text argument given as pointer and length (a manifest, a name
/// that may contain NUL) and checks that it is UTF-8.
///
/// `ptr` may be NULL only when `len` is 0 (the empty string).
///
/// # Safety
///
/// As for [`bytes_arg`].
pub unsafe fn utf8_arg<'a>(ptr: *const u8, len: usize, name: &str) -> Result<&'a str, FfiError> {
    // SAFETY: forwarded from the caller.
    let bytes = unsafe { bytes_arg(ptr, len, name) }?;
    utf8(bytes, name)
}

/// Checks that the bytes of argument `name` are UTF-8, saying where they are not.
pub fn utf8<'a>(bytes: &'a [u8], name: &str) -> Result<&'a str, FfiError> {
    std::str::from_utf8(bytes).map_err(|e| {
        FfiError::new(
            svcroute_status::InvalidUtf8,
            format!(
                "argument `{name}` is not valid UTF-8 (first bad byte at offset {})",
                e.valid_up_to()
            ),
        )
    })
}

/// Checks an out-parameter before any work is done, so that a NULL one
/// fails the call without side effects.
///
/// # Safety
///
/// `ptr` is NULL or valid for writing one `T` (it may be uninitialized).
pub unsafe fn out_arg<'a, T>(ptr: *mut T, name: &str) -> Result<Out<'a, T>, FfiError> {
    if ptr.is_null() {
        return Err(FfiError::null_argument(name));
    }
    Ok(Out {
        ptr,
        _lifetime: std::marker::PhantomData,
    })
}

/// A checked, non-NULL out-parameter (see [`out_arg`]).
pub struct Out<'a, T> {
    ptr: *mut T,
    _lifetime: std::marker::PhantomData<&'a mut T>,
}

impl<T> Out<'_, T> {
    /// Stores the result. The old contents are overwritten, never dropped.
    pub fn write(self, value: T) {
        // SAFETY: `out_arg` checked non-NULL and its caller guaranteed the
        // pointer valid for one write of a T.
        unsafe { self.ptr.write(value) }
    }
}

/// Copies `text` into a caller buffer of `len` bytes as a NUL-terminated
/// string, truncating at a character boundary when it does not fit.
///
/// Stores the full length of `text` in bytes, without the NUL, in `out_len`
/// unless it is NULL. Succeeds when the whole text and its NUL were written;
/// otherwise fails with `BufferTooSmall` after writing as much as fits (always
/// NUL-terminated when `len > 0`). With `len == 0`, `buf` may be NULL and
/// nothing is written to it: the way to ask for the length first. `name` is
/// the buffer parameter's name, for the error message.
///
/// # Safety
///
/// `buf` is NULL or valid for writing `len` bytes; `out_len` is NULL or valid
/// for writing one `usize`.
pub unsafe fn copy_to_buffer(
    text: &str,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
    name: &str,
) -> Result<(), FfiError> {
    if buf.is_null() && len != 0 {
        return Err(FfiError::null_argument(name));
    }
    if !out_len.is_null() {
        // SAFETY: not NULL; the caller guarantees it is writable.
        unsafe { out_len.write(text.len()) };
    }
    let too_small = || {
        FfiError::new(
            svcroute_status::BufferTooSmall,
            format!(
                "buffer `{name}` holds {len} bytes; {} are needed (the text and its NUL)",
                text.len() + 1
            ),
        )
    };
    if len == 0 {
        return Err(too_small());
    }
    let mut n = text.len().min(len - 1);
    while !text.is_char_boundary(n) {
        n -= 1;
    }
    // SAFETY: buf is non-NULL (len != 0) and valid for `len` bytes; we write
    // n + 1 <= len bytes; the source is a distinct Rust allocation.
    unsafe {
        std::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), n);
        buf.add(n).write(0);
    }
    if text.len() < len {
        Ok(())
    } else {
        Err(too_small())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn str_arg_checks_null_and_utf8() {
        let e = unsafe { str_arg(std::ptr::null(), "name") }.unwrap_err();
        assert_eq!(e.status, svcroute_status::NullArgument);
        assert_eq!(e.message, "argument `name` is NULL");

        let ok = c"web.shop.svc";
        assert_eq!(
            unsafe { str_arg(ok.as_ptr(), "name") }.unwrap(),
            "web.shop.svc"
        );

        let bad = c"ab\xffc";
        let e = unsafe { str_arg(bad.as_ptr(), "name") }.unwrap_err();
        assert_eq!(e.status, svcroute_status::InvalidUtf8);
        assert!(e.message.contains("offset 2"), "{}", e.message);
    }

    #[test]
    fn utf8_arg_takes_lengths_and_rejects_bad_bytes() {
        let text = "kind: Service\n";
        let got = unsafe { utf8_arg(text.as_ptr(), text.len(), "yaml") }.unwrap();
        assert_eq!(got, text);
        // Interior NUL is fine with an explicit length.
        let got = unsafe { utf8_arg(b"a\0b".as_ptr(), 3, "yaml") }.unwrap();
        assert_eq!(got, "a\0b");
        // NULL with length 0 is the empty string; with a length, an error.
        assert_eq!(
            unsafe { utf8_arg(std::ptr::null(), 0, "yaml") }.unwrap(),
            ""
        );
        let e = unsafe { utf8_arg(std::ptr::null(), 1, "yaml") }.unwrap_err();
        assert_eq!(e.status, svcroute_status::NullArgument);
        // A truncated multi-byte sequence and an overlong encoding.
        for bad in [&b"caf\xc3"[..], b"\xc0\xaf", b"\xed\xa0\x80"] {
            let e = unsafe { utf8_arg(bad.as_ptr(), bad.len(), "yaml") }.unwrap_err();
            assert_eq!(e.status, svcroute_status::InvalidUtf8, "{bad:?}");
        }
        let e = unsafe { bytes_arg(std::ptr::dangling::<u8>(), usize::MAX, "packet") }.unwrap_err();
        assert_eq!(e.status, svcroute_status::Limit);
    }

    #[test]
    fn out_arg_rejects_null_before_writing() {
        let e = unsafe { out_arg::<u32>(std::ptr::null_mut(), "out") }
            .err()
            .unwrap();
        assert_eq!(e.status, svcroute_status::NullArgument);
        let mut x = 0_u32;
        unsafe { out_arg(&mut x, "out") }.unwrap().write(7);
        assert_eq!(x, 7);
    }

    fn copy(text: &str, len: usize) -> (svcroute_status, Vec<u8>, usize) {
        let mut buf = vec![b'#'; len];
        let mut n = usize::MAX;
        let ptr = if len == 0 {
            std::ptr::null_mut()
        } else {
            buf.as_mut_ptr().cast()
        };
        let s = match unsafe { copy_to_buffer(text, ptr, len, &mut n, "buf") } {
            Ok(()) => svcroute_status::Ok,
            Err(e) => e.status,
        };
        (s, buf, n)
    }

    #[test]
    fn copy_to_buffer_fits_truncates_and_measures() {
        assert_eq!(copy("abc", 4), (svcroute_status::Ok, b"abc\0".to_vec(), 3));
        assert_eq!(copy("abc", 8).0, svcroute_status::Ok);
        assert_eq!(
            copy("abc", 3),
            (svcroute_status::BufferTooSmall, b"ab\0".to_vec(), 3)
        );
        assert_eq!(copy("abc", 0), (svcroute_status::BufferTooSmall, vec![], 3));
        assert_eq!(copy("", 1), (svcroute_status::Ok, b"\0".to_vec(), 0));
        // "é" is two bytes: never cut in the middle.
        assert_eq!(
            copy("aé", 3),
            (svcroute_status::BufferTooSmall, b"a\0#".to_vec(), 3)
        );
        let e =
            unsafe { copy_to_buffer("x", std::ptr::null_mut(), 4, std::ptr::null_mut(), "buf") }
                .unwrap_err();
        assert_eq!(e.status, svcroute_status::NullArgument);
        let mut small = [0 as c_char; 2];
        let e =
            unsafe { copy_to_buffer("abc", small.as_mut_ptr(), 2, std::ptr::null_mut(), "buf") }
                .unwrap_err();
        assert_eq!(
            e.message,
            "buffer `buf` holds 2 bytes; 4 are needed (the text and its NUL)"
        );
    }
}
