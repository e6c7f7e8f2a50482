//! `--not-ready POD` and `--terminating POD`: pod states set after
//! loading, as a failing readiness probe or `kubectl delete` during the
//! grace period would (EP-3: the EndpointSlices follow).

use svcroute::ErrorKind;
use svcroute::cluster::Cluster;

use crate::exit::CliError;

/// A pod named on the command line: `pod/NAME`, `pod/NS/NAME`,
/// `NS/NAME` or `NAME`; the namespace defaults to `namespace` (DECISIONS
/// D15). Returns (namespace, name).
///
/// ```
/// use svcroute_cli::pod_state::parse_pod;
/// assert_eq!(parse_pod("pod/web-0", "shop").unwrap(), ("shop".into(), "web-0".into()));
/// assert_eq!(parse_pod("pods/db/pg-0", "shop").unwrap(), ("db".into(), "pg-0".into()));
/// assert_eq!(parse_pod("web-0", "default").unwrap(), ("default".into(), "web-0".into()));
/// assert!(parse_pod("pod/a/b/c", "default").is_err());
/// ```
pub fn parse_pod(text: &str, namespace: &str) -> Result<(String, String), CliError> {
    let rest = ["pod/", "pods/", "po/"]
        .iter()
        .find_map(|p| text.strip_prefix(p))
        .unwrap_or(text);
    let parts: Vec<&str> = rest.split('/').collect();
    let bad = || {
        CliError::usage(format!(
            "invalid pod `{text}`: expected pod/NAME, pod/NAMESPACE/NAME or NAME"
        ))
    };
    match parts.as_slice() {
        [name] if !name.is_empty() => Ok((namespace.to_owned(), (*name).to_owned())),
        [ns, name] if !ns.is_empty() && !name.is_empty() => {
            Ok(((*ns).to_owned(), (*name).to_owned()))
        }
        _ => Err(bad()),
    }
}

/// Applies `--not-ready` then `--terminating` to the loaded cluster; a pod
/// that does not exist is an error naming the flag.
///
/// ```
/// use svcroute::api::Object;
/// use svcroute::cluster::{Cluster, ClusterConfig};
/// let mut c = Cluster::new(ClusterConfig::default()).unwrap();
/// c.apply(serde_json::from_str::<Object>(r#"{"apiVersion": "v1", "kind": "Pod",
///   "metadata": {"name": "p", "namespace": "default"}, "spec": {"nodeName": "n1"},
///   "status": {"phase": "Running", "podIPs": [{"ip": "10.244.0.9"}]}}"#).unwrap()).unwrap();
/// svcroute_cli::pod_state::apply(&mut c, &["pod/p".into()], &[], "default").unwrap();
/// let e = svcroute_cli::pod_state::apply(&mut c, &[], &["nope".into()], "default").unwrap_err();
/// assert_eq!(e.to_string(), "not-found: --terminating: pods \"nope\" not found in namespace \"default\"");
/// ```
pub fn apply(
    cluster: &mut Cluster,
    not_ready: &[String],
    terminating: &[String],
    namespace: &str,
) -> Result<(), CliError> {
    for (flag, list) in [("--not-ready", not_ready), ("--terminating", terminating)] {
        for text in list {
            let (ns, name) = parse_pod(text, namespace)?;
            let result = if flag == "--not-ready" {
                cluster.set_pod_ready(&ns, &name, false)
            } else {
                cluster.set_pod_terminating(&ns, &name)
            };
            result.map_err(|e| {
                let message = if e.kind() == ErrorKind::NotFound {
                    format!("{flag}: pods \"{name}\" not found in namespace \"{ns}\"")
                } else {
                    format!("{flag}: {e}")
                };
                CliError::of_kind(e.kind(), message)
            })?;
        }
    }
    Ok(())
}
