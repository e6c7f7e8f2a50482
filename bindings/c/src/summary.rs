//! The load summary through the C door (issue 14): the same line and the
//! same namespace warnings as the command line, from the core's
//! [`LoadSummary`](svcroute::cluster::LoadSummary).

use std::ffi::c_char;

use crate::cluster::svcroute_cluster;
use crate::cluster::write_optional;
use crate::door::DoorError;
use crate::error::FfiError;
use crate::status::svcroute_status;
use crate::{args, boundary, door, owned};

fn door_error(err: DoorError) -> FfiError {
    FfiError::new(svcroute_status::from_kind(err.kind), err.message)
}

/// Applies manifests exactly as `svcroute_cluster_apply` does (same input,
/// atomicity, statuses and last error, same `*changes_json_out`), and also
/// says what the load did, as the command line does after loading.
///
/// On success, unless `summary_json_out` is NULL, stores in
/// `*summary_json_out` a JSON object: `{"line": "read 28 objects (12
/// Deployments, 12 Services, 4 Nodes); generated 12 ReplicaSets and 12
/// Pods; skipped 12 objects of kinds svcroute does not model
/// (ServiceAccount ×12)", "read": {kind: count}, "generated": {kind:
/// count}, "pending": n, "skipped": {kind: count}, "warnings": [{"namespace",
/// "objects", "message"}]}`. `generated` counts the ReplicaSets and Pods
/// the workload controllers made, `pending` those Pods that no node took;
/// `warnings` names each namespace that neither the cluster nor the input
/// held, which a real API server would refuse (svcroute creates it), except
/// for objects read from a running cluster (with `metadata.uid`).
///
/// On failure both out-parameters are left unchanged.
///
/// Ownership: `bytes` is borrowed for the call only. The two strings belong
/// to the caller, who releases each with `svcroute_string_free`.
/// Threads: a write, as `svcroute_cluster_apply`.
///
/// # Safety
///
/// `cluster` is NULL or a live cluster, not freed during this call; `bytes`
/// is NULL or valid for reading `len` bytes; `changes_json_out` and
/// `summary_json_out` are each NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn svcroute_cluster_apply_summary(
    cluster: *mut svcroute_cluster,
    bytes: *const u8,
    len: usize,
    changes_json_out: *mut *mut c_char,
    summary_json_out: *mut *mut c_char,
) -> svcroute_status {
    boundary::status(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let cluster = unsafe { owned::handle_ref(cluster, "cluster") }?;
        // SAFETY: as above.
        let text = unsafe { args::utf8_arg(bytes, len, "bytes") }?;
        let applied = cluster.write(|e| e.apply(text)).map_err(door_error)?;
        let changes = door::changes_json(&applied.changes, &applied.skipped);
        // SAFETY: the caller's guarantees, as documented above.
        unsafe { write_optional(changes_json_out, "changes_json_out", &changes) }?;
        // SAFETY: as above.
        unsafe {
            write_optional(
                summary_json_out,
                "summary_json_out",
                &applied.summary.to_json(),
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ptr;

    fn take(s: *mut c_char) -> serde_json::Value {
        // SAFETY: a string this library returned, freed once here.
        let text = unsafe { std::ffi::CStr::from_ptr(s) }
            .to_str()
            .unwrap()
            .to_owned();
        // SAFETY: as above.
        unsafe { owned::free_c_string(s) };
        serde_json::from_str(&text).unwrap()
    }

    fn new_cluster(config: &str) -> *mut svcroute_cluster {
        let config = std::ffi::CString::new(config).unwrap();
        let mut c = ptr::null_mut();
        // SAFETY: valid arguments.
        let status = unsafe { crate::cluster::svcroute_cluster_new(config.as_ptr(), &mut c) };
        assert_eq!(status, svcroute_status::Ok);
        c
    }

    const BUNDLE: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\n\
        spec:\n  replicas: 3\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n\
        ---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web, namespace: shop}\n";

    // Issue 14: the C door says what the CLI says.
    #[test]
    fn the_summary_is_the_cli_line() {
        let c = new_cluster(r#"{"defaultNodes": 3}"#);
        let (mut changes, mut summary) = (ptr::null_mut(), ptr::null_mut());
        // SAFETY: valid arguments.
        let status = unsafe {
            svcroute_cluster_apply_summary(
                c,
                BUNDLE.as_ptr(),
                BUNDLE.len(),
                &mut changes,
                &mut summary,
            )
        };
        assert_eq!(status, svcroute_status::Ok);
        let summary = take(summary);
        assert_eq!(
            summary["line"],
            "read 1 object (1 Deployment); generated 1 ReplicaSet and 3 Pods; \
             skipped 1 object of kinds svcroute does not model (ServiceAccount)"
        );
        assert_eq!(summary["generated"]["Pod"], 3);
        assert_eq!(summary["warnings"][0]["namespace"], "shop");
        assert_eq!(summary["warnings"][0]["objects"], 1);
        assert!(take(changes)["created"].as_array().unwrap().len() > 4);
        // SAFETY: from svcroute_cluster_new, freed once.
        unsafe { crate::cluster::svcroute_cluster_free(c) };
    }

    #[test]
    fn a_refused_apply_leaves_the_out_parameters() {
        let c = new_cluster("{}");
        let mut summary = ptr::null_mut();
        let bad =
            "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {ports: [{port: 99999}]}\n";
        // SAFETY: valid arguments.
        let status = unsafe {
            svcroute_cluster_apply_summary(
                c,
                bad.as_ptr(),
                bad.len(),
                ptr::null_mut(),
                &mut summary,
            )
        };
        assert_ne!(status, svcroute_status::Ok);
        assert!(summary.is_null());
        // SAFETY: from svcroute_cluster_new, freed once.
        unsafe { crate::cluster::svcroute_cluster_free(c) };
    }
}
