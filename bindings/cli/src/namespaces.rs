//! Namespaces the input uses but neither holds nor a fresh cluster has: a
//! real API server refuses objects in them (`namespace "x" not found`);
//! svcroute warns and goes on (the core creates the namespace).

use std::collections::{BTreeMap, BTreeSet};

use svcroute::api::Object;

/// The namespaces a fresh cluster starts with (DECISIONS D7).
pub const BOOTSTRAP: [&str; 4] = ["default", "kube-system", "kube-public", "kube-node-lease"];

/// The namespaces that objects of the input name and that neither the
/// input nor a fresh cluster holds, each with the number of objects a real
/// API server would refuse. Objects read from a running cluster (they
/// carry `metadata.uid`) are not counted: their namespace existed.
///
/// ```
/// use svcroute::api::Object;
/// let objects: Vec<Object> = serde_json::from_str(r#"[
///   {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a", "namespace": "shop"}},
///   {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "b", "namespace": "default"}}]"#).unwrap();
/// let missing = svcroute_cli::namespaces::missing(&objects);
/// assert_eq!(missing.into_iter().collect::<Vec<_>>(), [("shop".to_owned(), 1)]);
/// ```
pub fn missing(objects: &[Object]) -> BTreeMap<String, usize> {
    let known: BTreeSet<&str> = objects
        .iter()
        .filter_map(|o| match o {
            Object::Namespace(n) => n.metadata.name.as_deref(),
            _ => None,
        })
        .chain(BOOTSTRAP)
        .collect();
    let mut out: BTreeMap<String, usize> = BTreeMap::new();
    for o in objects {
        if o.metadata().uid.is_some() {
            continue;
        }
        if let Some(ns) = o.namespace()
            && !known.contains(ns)
        {
            *out.entry(ns.to_owned()).or_default() += 1;
        }
    }
    out
}

/// The warning for one missing namespace.
///
/// ```
/// assert_eq!(svcroute_cli::namespaces::warning("shop", 2),
///     "warning: namespace \"shop\" not found: a real API server would refuse the 2 objects in it \
///      (create the Namespace first); svcroute creates it");
/// ```
pub fn warning(namespace: &str, objects: usize) -> String {
    let what = if objects == 1 {
        "the object".to_owned()
    } else {
        format!("the {objects} objects")
    };
    format!(
        "warning: namespace \"{namespace}\" not found: a real API server would refuse {what} in it \
         (create the Namespace first); svcroute creates it"
    )
}
