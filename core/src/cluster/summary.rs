//! What one load did, in one line: the objects read by kind, the
//! ReplicaSets and Pods the controllers generated (and how many of those
//! Pods no node took), the kinds svcroute does not model (D1), and the
//! namespaces a real API server would have refused (issue 14). Every door
//! (CLI, C, WASM) says the same from this one type.
//!
//! Built in two steps around the apply, so the input need not be kept:
//! [`InputTally`] counts the input, then [`InputTally::finish`] reads the
//! apply's [`Changes`] and the cluster after it.
//!
//! ```
//! use svcroute::api::Object;
//! use svcroute::cluster::{Cluster, ClusterConfig, InputTally};
//! let objects: Vec<Object> = serde_json::from_str(r#"[
//!   {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
//!    "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
//!             "template": {"metadata": {"labels": {"app": "web"}}}}}]"#).unwrap();
//! let mut cluster = Cluster::new(ClusterConfig::default()).unwrap();
//! let tally = InputTally::of(&objects);
//! let changes = cluster.apply_batch(objects).unwrap();
//! let summary = tally.finish(&changes, &cluster);
//! assert_eq!(summary.to_string(),
//!     "read 1 object (1 Deployment); generated 1 ReplicaSet and 2 Pods (2 Pending)");
//! assert_eq!(summary.namespace_warnings()[0].namespace, "shop");
//! ```

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use serde_json::{Value, json};

use super::{Changes, Cluster};
use crate::api::{Kind, Loaded, Object, ObjectKey, PodPhase, TypeMeta};

/// The kinds whose generated objects the summary counts, in its order.
const GENERATED: [Kind; 2] = [Kind::ReplicaSet, Kind::Pod];

/// What one load did, counted by kind. `Display` gives the summary line
/// the CLI prints on stderr.
///
/// ```
/// use svcroute::cluster::LoadSummary;
/// let mut s = LoadSummary::default();
/// s.read.insert("Service".into(), 2);
/// s.read.insert("Deployment".into(), 1);
/// s.generated.insert("Pod".into(), 3);
/// s.skipped.insert("Secret".into(), 1);
/// assert_eq!(s.to_string(), "read 3 objects (2 Services, 1 Deployment); generated 3 Pods; \
///     skipped 1 object of kinds svcroute does not model (Secret)");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadSummary {
    /// Objects of the input, by kind.
    pub read: BTreeMap<String, usize>,
    /// Objects the controllers made beyond the input (ReplicaSets, Pods),
    /// by kind.
    pub generated: BTreeMap<String, usize>,
    /// Generated Pods that no node took (`Pending`).
    pub pending: usize,
    /// Objects of kinds svcroute does not model, by kind (D1).
    pub skipped: BTreeMap<String, usize>,
    /// Namespaces the apply had to create because neither the cluster nor
    /// the input held them, each with the number of input objects in it
    /// that a real API server would refuse.
    pub missing_namespaces: BTreeMap<String, usize>,
}

/// One namespace a real API server would not have found: the objects in it
/// would be refused (`namespace "shop" not found`); svcroute creates it.
/// `Display` gives the warning the CLI prints.
///
/// ```
/// use svcroute::cluster::NamespaceWarning;
/// let w = NamespaceWarning { namespace: "shop".into(), objects: 2 };
/// assert_eq!(w.to_string(),
///     "warning: namespace \"shop\" not found: a real API server would refuse the 2 objects in it \
///      (create the Namespace first); svcroute creates it");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceWarning {
    /// The namespace.
    pub namespace: String,
    /// How many objects of the input are in it.
    pub objects: usize,
}

/// The input side of a [`LoadSummary`], counted before the apply consumes
/// the objects. Objects read from a running cluster (they carry
/// `metadata.uid`) do not count towards namespace warnings: their
/// namespace existed.
///
/// ```
/// use svcroute::api;
/// use svcroute::cluster::{Cluster, ClusterConfig, InputTally};
/// let loaded = api::load("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n\
///     apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n").unwrap();
/// let tally = InputTally::of_loaded(&loaded);
/// let mut cluster = Cluster::new(ClusterConfig::default()).unwrap();
/// let changes = cluster.apply_batch(loaded.into_objects()).unwrap();
/// let summary = tally.finish(&changes, &cluster);
/// assert_eq!(summary.to_string(),
///     "read 1 object (1 Service); skipped 1 object of kinds svcroute does not model (ConfigMap)");
/// assert!(summary.namespace_warnings().is_empty());
/// ```
#[derive(Debug, Clone, Default)]
pub struct InputTally {
    read: BTreeMap<String, usize>,
    skipped: BTreeMap<String, usize>,
    /// Input keys of the generated kinds (not counted as generated).
    own: HashSet<ObjectKey>,
    /// Namespaces the input holds as Namespace objects.
    namespaces: HashSet<String>,
    /// Objects without a uid, by namespace.
    by_namespace: BTreeMap<String, usize>,
}

impl InputTally {
    /// An empty tally.
    ///
    /// ```
    /// let t = svcroute::cluster::InputTally::new();
    /// # let _ = t;
    /// ```
    pub fn new() -> InputTally {
        InputTally::default()
    }

    /// A tally of `objects`.
    ///
    /// ```
    /// let t = svcroute::cluster::InputTally::of(&[]);
    /// # let _ = t;
    /// ```
    pub fn of<'a>(objects: impl IntoIterator<Item = &'a Object>) -> InputTally {
        let mut t = InputTally::new();
        for o in objects {
            t.object(o);
        }
        t
    }

    /// A tally of a loader's output: its objects, the objects of its
    /// `ADDED`/`MODIFIED` watch events, and its skipped kinds.
    ///
    /// ```
    /// let loaded = svcroute::api::load("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n").unwrap();
    /// let t = svcroute::cluster::InputTally::of_loaded(&loaded);
    /// # let _ = t;
    /// ```
    pub fn of_loaded(loaded: &Loaded) -> InputTally {
        let mut t = InputTally::of(loaded.iter_objects());
        for e in &loaded.events {
            if let crate::api::WatchEvent::Added(o) | crate::api::WatchEvent::Modified(o) = &e.value
            {
                t.object(o);
            }
        }
        t.skipped_kinds(&loaded.skipped);
        t
    }

    /// Counts one input object.
    ///
    /// ```
    /// use svcroute::api::Object;
    /// let ns: Object = serde_json::from_str(r#"{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}"#).unwrap();
    /// let mut t = svcroute::cluster::InputTally::new();
    /// t.object(&ns);
    /// ```
    pub fn object(&mut self, object: &Object) {
        let kind = object.kind();
        *self.read.entry(kind.as_str().to_owned()).or_default() += 1;
        if GENERATED.contains(&kind) {
            // As the apply stores it: no namespace means `default`.
            let mut key = object.key();
            if key.namespace.as_deref().is_none_or(str::is_empty) {
                key.namespace = Some("default".to_owned());
            }
            self.own.insert(key);
        }
        if let Object::Namespace(ns) = object {
            if let Some(name) = ns.metadata.name.as_deref() {
                self.namespaces.insert(name.to_owned());
            }
            return;
        }
        if !kind.is_namespaced() || object.metadata().uid.is_some() {
            return;
        }
        let ns = object
            .namespace()
            .filter(|n| !n.is_empty())
            .unwrap_or("default");
        *self.by_namespace.entry(ns.to_owned()).or_default() += 1;
    }

    /// Counts `count` skipped objects of `kind` (a kind svcroute does not
    /// model).
    ///
    /// ```
    /// let mut t = svcroute::cluster::InputTally::new();
    /// t.skipped("ServiceAccount", 12);
    /// ```
    pub fn skipped(&mut self, kind: &str, count: usize) {
        if count > 0 {
            *self.skipped.entry(kind.to_owned()).or_default() += count;
        }
    }

    /// Counts a loader's skipped kinds (by kind, whatever the apiVersion).
    ///
    /// ```
    /// let mut t = svcroute::cluster::InputTally::new();
    /// t.skipped_kinds(&Default::default());
    /// ```
    pub fn skipped_kinds(&mut self, skipped: &BTreeMap<TypeMeta, usize>) {
        for (meta, n) in skipped {
            self.skipped(&meta.kind, *n);
        }
    }

    /// The summary, from the changes of the apply and the cluster after it.
    /// A Namespace that `changes` created and the input did not hold is one
    /// the apply made up: its objects are a [`NamespaceWarning`].
    ///
    /// ```
    /// use svcroute::cluster::{Changes, Cluster, ClusterConfig, InputTally};
    /// let c = Cluster::new(ClusterConfig::default()).unwrap();
    /// let s = InputTally::new().finish(&Changes::default(), &c);
    /// assert_eq!(s.to_string(), "read 0 objects");
    /// ```
    pub fn finish(self, changes: &Changes, cluster: &Cluster) -> LoadSummary {
        let mut summary = LoadSummary {
            read: self.read,
            skipped: self.skipped,
            ..LoadSummary::default()
        };
        for key in &changes.created {
            if key.kind == Kind::Namespace {
                if !self.namespaces.contains(&key.name)
                    && let Some(n) = self.by_namespace.get(&key.name)
                {
                    summary.missing_namespaces.insert(key.name.clone(), *n);
                }
                continue;
            }
            if !GENERATED.contains(&key.kind) || self.own.contains(key) {
                continue;
            }
            *summary
                .generated
                .entry(key.kind.as_str().to_owned())
                .or_default() += 1;
            if let Some(p) = cluster.stored_pod(key)
                && p.phase() == PodPhase::Pending
            {
                summary.pending += 1;
            }
        }
        summary
    }
}

impl LoadSummary {
    /// The namespace warnings, by namespace name.
    ///
    /// ```
    /// let s = svcroute::cluster::LoadSummary::default();
    /// assert!(s.namespace_warnings().is_empty());
    /// ```
    pub fn namespace_warnings(&self) -> Vec<NamespaceWarning> {
        self.missing_namespaces
            .iter()
            .map(|(namespace, objects)| NamespaceWarning {
                namespace: namespace.clone(),
                objects: *objects,
            })
            .collect()
    }

    /// The summary as JSON, the shape the C and WASM doors return:
    /// `{"line", "read", "generated", "pending", "skipped", "warnings"}`,
    /// where `read`, `generated` and `skipped` map kinds to counts and
    /// `warnings` lists `{"namespace", "objects", "message"}`.
    ///
    /// ```
    /// let s = svcroute::cluster::LoadSummary::default();
    /// assert_eq!(s.to_json()["line"], "read 0 objects");
    /// assert_eq!(s.to_json()["pending"], 0);
    /// ```
    pub fn to_json(&self) -> Value {
        let warnings: Vec<Value> = self
            .namespace_warnings()
            .iter()
            .map(|w| json!({"namespace": w.namespace, "objects": w.objects, "message": w.to_string()}))
            .collect();
        json!({
            "line": self.to_string(),
            "read": self.read,
            "generated": self.generated,
            "pending": self.pending,
            "skipped": self.skipped,
            "warnings": warnings,
        })
    }
}

impl fmt::Display for LoadSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total: usize = self.read.values().sum();
        write!(f, "read {}", count(total, "object"))?;
        if total > 0 {
            let mut kinds: Vec<(&String, &usize)> = self.read.iter().collect();
            crate::order::sort_by(&mut kinds, |a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let list: Vec<String> = kinds.iter().map(|(k, n)| count(**n, k)).collect();
            write!(f, " ({})", list.join(", "))?;
        }
        let generated: Vec<String> = GENERATED
            .iter()
            .filter_map(|k| Some(count(*self.generated.get(k.as_str())?, k.as_str())))
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

impl fmt::Display for NamespaceWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.objects == 1 {
            "the object".to_owned()
        } else {
            format!("the {} objects", self.objects)
        };
        write!(
            f,
            "warning: namespace \"{}\" not found: a real API server would refuse {what} in it \
             (create the Namespace first); svcroute creates it",
            self.namespace
        )
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
    use crate::cluster::ClusterConfig;

    fn objects(json: &str) -> Vec<Object> {
        serde_json::from_str(json).unwrap()
    }

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
        let mut t = InputTally::new();
        t.skipped("ServiceAccount", 2);
        t.skipped("ConfigMap", 1);
        let c = Cluster::new(ClusterConfig::default()).unwrap();
        assert_eq!(
            t.finish(&Changes::default(), &c).to_string(),
            "read 0 objects; skipped 3 objects of kinds svcroute does not model \
             (ConfigMap, ServiceAccount ×2)"
        );
    }

    // Issue 14: a namespace neither in the cluster nor in the input is
    // created, with a warning that names it and counts its objects.
    #[test]
    fn missing_namespaces_are_warned_once_each() {
        let input = objects(
            r#"[
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a", "namespace": "shop"}, "spec": {"ports": [{"port": 80}]}},
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "b", "namespace": "shop"}, "spec": {"ports": [{"port": 80}]}},
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "c", "namespace": "kube-system"}, "spec": {"ports": [{"port": 80}]}},
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "web"}},
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "d", "namespace": "web"}, "spec": {"ports": [{"port": 80}]}},
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "e", "namespace": "dump", "uid": "1"}, "spec": {"ports": [{"port": 80}]}}
            ]"#,
        );
        let mut c = Cluster::new(ClusterConfig::default()).unwrap();
        let tally = InputTally::of(&input);
        let changes = c.apply_batch(input).unwrap();
        let s = tally.finish(&changes, &c);
        assert_eq!(
            s.namespace_warnings(),
            [NamespaceWarning {
                namespace: "shop".into(),
                objects: 2
            }]
        );
        let warning = s.namespace_warnings()[0].to_string();
        assert!(warning.contains("the 2 objects"), "{warning}");
        assert_eq!(s.to_json()["warnings"][0]["message"], warning);
        // A second apply into the now existing namespace warns no more.
        let again = objects(
            r#"[{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "f", "namespace": "shop"}, "spec": {"ports": [{"port": 80}]}}]"#,
        );
        let tally = InputTally::of(&again);
        let changes = c.apply_batch(again).unwrap();
        assert!(tally.finish(&changes, &c).namespace_warnings().is_empty());
    }

    #[test]
    fn input_pods_are_read_not_generated() {
        let input = objects(
            r#"[{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}}]"#,
        );
        let mut c = Cluster::new(ClusterConfig::default()).unwrap();
        let tally = InputTally::of(&input);
        let changes = c.apply_batch(input).unwrap();
        let s = tally.finish(&changes, &c);
        assert_eq!(s.read["Pod"], 1);
        assert!(s.generated.is_empty());
        assert_eq!(s.to_json()["line"], "read 1 object (1 Pod)");
    }
}
