//! What a cluster handle holds: the object store, and a [`View`] of it (the
//! dataplane and the DNS compiled from it, and the balancing choices), kept
//! in step on every write with the [`Changes`] the write reported
//! (incremental patches, not recompiles).
//!
//! The view is an immutable snapshot behind an [`Arc`]: readers (routes,
//! DNS answers) hold one snapshot for as long as they like, and a write
//! patches a copy (copy on write, [`Arc::make_mut`]) that replaces it.

use std::sync::Arc;

use svcroute::api::Kind;
use svcroute::cluster::{Changes, Cluster};
use svcroute::dataplane::Dataplane;
use svcroute::dns::{Dns, DnsConfig};

use crate::algorithm::{self, Algorithms, PortKey};
use crate::door::{self, Applied, DoorError};

/// A cluster with its derived views. Writes go through [`Engine::apply`]
/// and [`Engine::delete`], which patch the views; reads may use any field.
///
/// ```
/// use svcroute_c::engine::Engine;
/// let mut e = Engine::new(svcroute_c::door::new_cluster(None).unwrap()).unwrap();
/// let before = e.view.clone();
/// let applied = e.apply(r#"{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}"#).unwrap();
/// assert_eq!(applied.changes.created.len(), 1);
/// assert_eq!(e.view.dataplane.service_count(), 1); // default/kubernetes
/// assert!(!std::sync::Arc::ptr_eq(&before, &e.view)); // a held snapshot is never changed
/// ```
#[derive(Debug)]
pub struct Engine {
    /// The object store and its controllers.
    pub cluster: Cluster,
    /// What routes and DNS answers read, as of the last write.
    pub view: Arc<View>,
}

/// The state a route or a DNS answer reads: one immutable snapshot of the
/// cluster's derived views.
///
/// ```
/// let e = svcroute_c::engine::Engine::new(svcroute_c::door::new_cluster(None).unwrap()).unwrap();
/// assert!(e.view.algorithms.is_empty());
/// ```
#[derive(Debug, Clone)]
pub struct View {
    /// kube-proxy's tables for the cluster's proxy mode.
    pub dataplane: Dataplane,
    /// The cluster DNS (CoreDNS `kubernetes` plugin defaults, the cluster's domain).
    pub dns: Dns,
    /// Balancing algorithms chosen per Service port.
    pub algorithms: Algorithms,
}

impl Engine {
    /// Compiles the views of `cluster`.
    pub fn new(cluster: Cluster) -> Result<Engine, DoorError> {
        let dataplane = Dataplane::compile(&cluster, cluster.config().proxy.mode);
        let dns = Dns::new(&cluster, dns_config(&cluster))
            .map_err(|e| DoorError::from(svcroute::Error::from(e)))?;
        let view = View {
            dataplane,
            dns,
            algorithms: Algorithms::default(),
        };
        Ok(Engine {
            cluster,
            view: Arc::new(view),
        })
    }

    /// Applies manifest text (see [`door::apply_objects`]), atomically, and
    /// patches the views.
    pub fn apply(&mut self, text: &str) -> Result<Applied, DoorError> {
        let applied = door::apply_objects(&mut self.cluster, text)?;
        self.patch(&applied.changes);
        Ok(applied)
    }

    /// Deletes one object (see [`door::delete_object`]) and patches the views.
    pub fn delete(
        &mut self,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Changes, DoorError> {
        let changes = door::delete_object(&mut self.cluster, kind, namespace, name)?;
        self.patch(&changes);
        Ok(changes)
    }

    /// Chooses the balancing algorithm `name` (see [`svcroute::balance::Algorithm::NAMES`] and `"kube-proxy"`) for
    /// port `port` (0: every port) of Service `namespace/name`. The Service
    /// need not exist yet: the choice applies whenever it does.
    pub fn set_algorithm(
        &mut self,
        namespace: &str,
        service: &str,
        port: u16,
        name: &str,
    ) -> Result<(), DoorError> {
        let algorithm = algorithm::parse(name, self.cluster.config().seed)?;
        let key = PortKey {
            namespace: namespace.to_owned(),
            name: service.to_owned(),
            port,
        };
        Arc::make_mut(&mut self.view)
            .algorithms
            .set(&self.cluster, key, algorithm);
        Ok(())
    }

    fn patch(&mut self, changes: &Changes) {
        if changes.is_empty() {
            return;
        }
        let view = Arc::make_mut(&mut self.view);
        view.dataplane.patch(&self.cluster, changes);
        view.dns.update(&self.cluster, changes);
        let touched = |kind: Kind| {
            changes
                .created
                .iter()
                .chain(&changes.updated)
                .chain(&changes.deleted)
                .any(|k| k.kind == kind)
        };
        if !view.algorithms.is_empty() && touched(Kind::Service) {
            view.algorithms.reindex(&self.cluster);
        }
    }
}

/// CoreDNS's defaults for the cluster's domain.
fn dns_config(cluster: &Cluster) -> DnsConfig {
    let domain = cluster.config().cluster_domain.trim_end_matches('.');
    DnsConfig {
        zone: format!("{domain}."),
        ..DnsConfig::default()
    }
}
