//! Load events for stateful algorithms: `svcroute_conn_open`,
//! `svcroute_conn_close` and `svcroute_observe_latency`.
//!
//! least-request (power of two choices over open connections) and
//! Peak-EWMA (latency times pending requests) place a connection by what
//! the endpoints are doing, which only the proxy knows. It reports that
//! here, by endpoint; every balancer of the cluster whose eligible set
//! holds the endpoint hears it ([`crate::algorithm::Balancers`]). Other
//! algorithms, and kube-proxy's own placement, ignore the events.

use std::net::SocketAddr;

use crate::algorithm::Balancers;
use crate::error::FfiError;
use crate::route::svcroute_address;
use crate::status::svcroute_status;
use crate::{boundary, owned};

/// The endpoint of an event, checked.
///
/// # Safety
///
/// `endpoint` is NULL or valid for reading one `svcroute_address`.
unsafe fn endpoint_arg(
    endpoint: *const svcroute_address,
    port: u16,
) -> Result<SocketAddr, FfiError> {
    // SAFETY: the caller's guarantee.
    let endpoint =
        unsafe { endpoint.as_ref() }.ok_or_else(|| FfiError::null_argument("endpoint"))?;
    Ok(SocketAddr::new(endpoint.to_ip("endpoint")?, port))
}

/// Checks an event's arguments, then tells the cluster's balancers about
/// `endpoint`:`port` through `tell`: the body of every event function.
///
/// # Safety
///
/// `cluster` is NULL or a live cluster, not freed during this call;
/// `endpoint` is NULL or valid for reading one `svcroute_address`.
unsafe fn report(
    cluster: *const crate::svcroute_cluster,
    endpoint: *const svcroute_address,
    port: u16,
    tell: impl FnOnce(&mut Balancers, SocketAddr),
) -> svcroute_status {
    boundary::status(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let cluster = unsafe { owned::handle_ref(cluster, "cluster") }?;
        // SAFETY: as above.
        let endpoint = unsafe { endpoint_arg(endpoint, port) }?;
        tell(&mut cluster.shards().balancers(), endpoint);
        Ok(())
    })
}

/// Reports that the caller opened a connection (or sent a request) to
/// `endpoint`:`port`, typically the endpoint `svcroute_route` just picked.
///
/// least-request and Peak-EWMA count it as in flight until the matching
/// `svcroute_conn_close`, so they steer new connections away from busy
/// endpoints. The count is the cluster's, whichever thread routed.
///
/// Fails with `SVCROUTE_STATUS_NULL_ARGUMENT` (`cluster` or `endpoint`) or
/// `SVCROUTE_STATUS_INVALID` (an address family that is none of the
/// constants); nothing is counted then.
///
/// Ownership: `endpoint` is borrowed for the call only.
/// Threads: may be called from any thread, concurrently with routes and
/// other events (they share one lock per cluster, held for a few hash
/// lookups).
///
/// # Safety
///
/// `cluster` is NULL or a live cluster, not freed during this call;
/// `endpoint` is NULL or valid for reading one `svcroute_address`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn svcroute_conn_open(
    cluster: *const crate::svcroute_cluster,
    endpoint: *const svcroute_address,
    port: u16,
) -> svcroute_status {
    // SAFETY: the caller's guarantees, as documented above.
    unsafe { report(cluster, endpoint, port, |b, ep| b.opened(ep)) }
}

/// Reports that a connection `svcroute_conn_open` reported has ended.
///
/// A close with no open connection to that endpoint left is ignored (and
/// succeeds), so a proxy may report every close it sees.
///
/// Fails as `svcroute_conn_open` does.
///
/// Ownership: `endpoint` is borrowed for the call only.
/// Threads: as `svcroute_conn_open`.
///
/// # Safety
///
/// As for `svcroute_conn_open`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn svcroute_conn_close(
    cluster: *const crate::svcroute_cluster,
    endpoint: *const svcroute_address,
    port: u16,
) -> svcroute_status {
    // SAFETY: the caller's guarantees, as documented above.
    unsafe {
        report(cluster, endpoint, port, |b, ep| {
            b.closed(ep);
        })
    }
}

/// Reports that a response from `endpoint`:`port` took `micros`
/// microseconds, observed at `now_ms` (the clock `svcroute_route` is
/// given).
///
/// Peak-EWMA folds it into the endpoint's latency estimate (decaying with
/// time), so slow endpoints get fewer new connections; other algorithms
/// ignore it.
///
/// Fails as `svcroute_conn_open` does.
///
/// Ownership: `endpoint` is borrowed for the call only.
/// Threads: as `svcroute_conn_open`.
///
/// # Safety
///
/// As for `svcroute_conn_open`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn svcroute_observe_latency(
    cluster: *const crate::svcroute_cluster,
    endpoint: *const svcroute_address,
    port: u16,
    micros: u64,
    now_ms: u64,
) -> svcroute_status {
    // SAFETY: the caller's guarantees, as documented above.
    unsafe {
        report(cluster, endpoint, port, |b, ep| {
            b.latency(ep, micros, now_ms)
        })
    }
}
