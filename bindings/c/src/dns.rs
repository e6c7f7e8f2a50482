//! The cluster DNS through the C door: wire-format answers, as CoreDNS's
//! `kubernetes` plugin gives them (the cluster's domain, its defaults).

use crate::error::FfiError;
use crate::status::svcroute_status;
use crate::{args, boundary, owned};
use svcroute::dns::Transport;

/// Answers one DNS query message (the UDP payload) with the response
/// message, as the cluster DNS server would over UDP: a response larger
/// than the client's size (512 bytes, or its EDNS size) is truncated and
/// flagged TC. `svcroute_dns_answer_tcp` answers as over TCP.
///
/// The response is written to `out` (`out_cap` bytes) and its length to
/// `*out_len`. A message that is no query (shorter than a header, or a
/// response) gets no answer, as servers drop it: the call succeeds with
/// `*out_len` 0. Malformed queries get FORMERR, names outside the zone
/// REFUSED, unknown names NXDOMAIN with the SOA, all as responses.
///
/// Fails with `SVCROUTE_STATUS_BUFFER_TOO_SMALL` when the response does not
/// fit: nothing is written to `out`, and `*out_len` holds the size needed
/// (a UDP response is at most 4096 bytes, the size the server offers;
/// 65535 always suffices). `SVCROUTE_STATUS_NULL_ARGUMENT` for a NULL
/// `cluster` or `out_len`, `query` NULL with `query_len > 0`, or `out`
/// NULL with `out_cap > 0`.
///
/// Ownership: `query` is borrowed for the call only; `out` and `*out_len`
/// are the caller's.
/// Threads: a read: runs concurrently with routes and other reads.
///
/// # Safety
///
/// `cluster` is NULL or a live cluster, not freed during this call;
/// `query` is NULL or valid for reading `query_len` bytes; `out` is NULL or
/// valid for writing `out_cap` bytes; `out_len` is NULL or valid for
/// writing one `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn svcroute_dns_answer(
    cluster: *const crate::svcroute_cluster,
    query: *const u8,
    query_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> svcroute_status {
    // SAFETY: forwarded from the caller.
    unsafe {
        answer(
            cluster,
            query,
            query_len,
            out,
            out_cap,
            out_len,
            Transport::Udp,
        )
    }
}

/// As `svcroute_dns_answer`, over TCP: the response is never truncated.
/// `query` is the message without TCP's two-byte length prefix, and so is
/// the response.
///
/// # Safety
///
/// As for `svcroute_dns_answer`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn svcroute_dns_answer_tcp(
    cluster: *const crate::svcroute_cluster,
    query: *const u8,
    query_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> svcroute_status {
    // SAFETY: forwarded from the caller.
    unsafe {
        answer(
            cluster,
            query,
            query_len,
            out,
            out_cap,
            out_len,
            Transport::Tcp,
        )
    }
}

/// # Safety
///
/// As for `svcroute_dns_answer`.
unsafe fn answer(
    cluster: *const crate::svcroute_cluster,
    query: *const u8,
    query_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
    transport: Transport,
) -> svcroute_status {
    boundary::status(|| {
        // SAFETY: the caller's guarantees, as documented on the exports.
        let cluster = unsafe { owned::handle_ref(cluster, "cluster") }?;
        // SAFETY: as above.
        let query = unsafe { args::bytes_arg(query, query_len, "query") }?;
        // SAFETY: as above.
        let out_len =
            unsafe { out_len.as_mut() }.ok_or_else(|| FfiError::null_argument("out_len"))?;
        if out.is_null() && out_cap > 0 {
            return Err(FfiError::null_argument("out"));
        }
        let response = cluster.view(|v| v.dns.answer_wire(query, transport));
        let response = response.as_deref().unwrap_or_default();
        *out_len = response.len();
        if response.len() > out_cap {
            return Err(FfiError::new(
                svcroute_status::BufferTooSmall,
                format!(
                    "buffer `out` holds {out_cap} bytes; the response needs {}",
                    response.len()
                ),
            ));
        }
        if !response.is_empty() {
            // SAFETY: `out` is valid for `out_cap >= response.len()` bytes
            // (not NULL: a non-empty response needs out_cap > 0); the
            // source is a distinct Rust allocation.
            unsafe { std::ptr::copy_nonoverlapping(response.as_ptr(), out, response.len()) };
        }
        Ok(())
    })
}
