//! The one line said on stderr after loading: what was read, what the
//! controllers generated, what was skipped (DECISIONS D1).
//!
//! `read 31 objects (13 Services, 12 Deployments, 4 Nodes, …); generated
//! 12 ReplicaSets and 14 Pods; skipped 12 objects of kinds svcroute does
//! not model (ServiceAccount ×12)`.

use std::collections::{BTreeMap, HashSet};

use svcroute::api::{Kind, Object, ObjectKey};
use svcroute::cluster::{Changes, Cluster};

/// What one load did, counted by kind.
///
/// ```
/// use svcroute_cli::summary::Summary;
/// let mut s = Summary::default();
/// s.read.insert("Service".into(), 2);
/// s.read.insert("Deployment".into(), 1);
/// s.generated.insert("Pod".into(), 3);
/// s.skipped.insert("Secret".into(), 1);
/// assert_eq!(s.to_string(), "read 3 objects (2 Services, 1 Deployment); generated 3 Pods; \
///     skipped 1 object of kinds svcroute does not model (Secret)");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Objects of the input, by kind.
    pub read: BTreeMap<String, usize>,
    /// Objects the controllers made (ReplicaSets, Pods), by kind.
    pub generated: BTreeMap<String, usize>,
    /// Generated Pods that no node took (`Pending`).
    pub pending: usize,
    /// Objects of kinds svcroute does not model, by kind.
    pub skipped: BTreeMap<String, usize>,
}

/// The kinds whose generated objects the summary counts, in its order.
const GENERATED: [Kind; 2] = [Kind::ReplicaSet, Kind::Pod];

impl Summary {
    /// Counts the input, and the ReplicaSets and Pods that `changes` created
    /// beyond it.
    ///
    /// ```
    /// use svcroute::api::Object;
    /// use svcroute::cluster::{Cluster, ClusterConfig};
    /// let objects: Vec<Object> = serde_json::from_str(r#"[{"apiVersion": "apps/v1", "kind": "ReplicaSet",
    ///   "metadata": {"name": "web", "namespace": "default"},
    ///   "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
    ///            "template": {"metadata": {"labels": {"app": "web"}}}}}]"#).unwrap();
    /// let mut c = Cluster::new(ClusterConfig::default()).unwrap();
    /// let changes = c.apply_batch(objects.clone()).unwrap();
    /// let s = svcroute_cli::summary::Summary::of(&objects, &changes, &c, &Default::default());
    /// assert_eq!(s.generated["Pod"], 2);
    /// assert_eq!(s.pending, 2); // no nodes
    /// ```
    pub fn of(
        input: &[Object],
        changes: &Changes,
        cluster: &Cluster,
        skipped: &BTreeMap<String, usize>,
    ) -> Summary {
        let mut summary = Summary {
            skipped: skipped.clone(),
            ..Summary::default()
        };
        let mut keys: HashSet<ObjectKey> = HashSet::new();
        for o in input {
            *summary
                .read
                .entry(o.kind().as_str().to_owned())
                .or_default() += 1;
            keys.insert(o.key());
        }
        for key in changes.created.iter().filter(|k| !keys.contains(*k)) {
            if !GENERATED.contains(&key.kind) {
                continue;
            }
            *summary
                .generated
                .entry(key.kind.as_str().to_owned())
                .or_default() += 1;
            if let Some(Object::Pod(p)) = cluster.get(key)
                && p.phase() == svcroute::api::PodPhase::Pending
            {
                summary.pending += 1;
            }
        }
        summary
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let total: usize = self.read.values().sum();
        write!(f, "read {}", count(total, "object"))?;
        if total > 0 {
            let mut kinds: Vec<(&String, &usize)> = self.read.iter().collect();
            kinds.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let list: Vec<String> = kinds.iter().map(|(k, n)| count(**n, k)).collect();
            write!(f, " ({})", list.join(", "))?;
        }
        let generated: Vec<String> = GENERATED
            .iter()
            .filter_map(|k| {
                let n = *self.generated.get(k.as_str())?;
                Some(count(n, k.as_str()))
            })
            .collect();
        if !generated.is_empty() {
            write!(f, "; generated {}", generated.join(" and "))?;
            if self.pending > 0 {
                write!(f, " ({} Pending)", self.pending)?;
            }
        }
        if !self.skipped.is_empty() {
            let total: usize = self.skipped.values().sum();
            let list: Vec<String> = self
                .skipped
                .iter()
                .map(|(k, n)| {
                    if *n == 1 {
                        k.clone()
                    } else {
                        format!("{k} ×{n}")
                    }
                })
                .collect();
            write!(
                f,
                "; skipped {} of kinds svcroute does not model ({})",
                count(total, "object"),
                list.join(", ")
            )?;
        }
        Ok(())
    }
}

/// `1 Service`, `2 Services`, `2 Ingresses`, `2 Endpoints`.
fn count(n: usize, kind: &str) -> String {
    if n == 1 {
        return format!("1 {kind}");
    }
    let plural = if kind.ends_with("ss") {
        format!("{kind}es")
    } else if kind.ends_with('s') {
        kind.to_owned()
    } else {
        format!("{kind}s")
    };
    format!("{n} {plural}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals_follow_the_kind() {
        assert_eq!(count(2, "Ingress"), "2 Ingresses");
        assert_eq!(count(2, "IngressClass"), "2 IngressClasses");
        assert_eq!(count(3, "Endpoints"), "3 Endpoints");
        assert_eq!(count(1, "Pod"), "1 Pod");
        assert_eq!(count(0, "object"), "0 objects");
    }

    // D1: unmodelled kinds are counted by kind, never an error.
    #[test]
    fn skipped_kinds_are_listed_with_their_counts() {
        let mut s = Summary::default();
        s.skipped.insert("ServiceAccount".into(), 2);
        s.skipped.insert("ConfigMap".into(), 1);
        assert_eq!(
            s.to_string(),
            "read 0 objects; skipped 3 objects of kinds svcroute does not model \
             (ConfigMap, ServiceAccount ×2)"
        );
    }
}
