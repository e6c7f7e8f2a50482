//! What a cluster handle holds: the object store, the dataplane and the DNS
//! view compiled from it, and the balancing choices, kept in step on every
//! write with the [`Changes`] the write reported (incremental patches, not
//! recompiles).

use svcroute::api::Kind;
use svcroute::cluster::{Changes, Cluster};
use svcroute::dataplane::Dataplane;
use svcroute::dns::{Dns, DnsConfig};

use crate::algorithm::{self, Algorithms, PortKey};
use crate::door::{self, Applied, DoorError};
use crate::local_traffic::LocalTraffic;

/// A cluster with its derived views. Writes go through [`Engine::apply`]
/// and [`Engine::delete`], which patch the views; reads may use any field.
///
/// ```
/// use svcroute_c::engine::Engine;
/// let mut e = Engine::new(svcroute_c::door::new_cluster(None).unwrap()).unwrap();
/// let applied = e.apply(r#"{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}"#).unwrap();
/// assert_eq!(applied.changes.created.len(), 1);
/// assert_eq!(e.dataplane.service_count(), 1); // default/kubernetes
/// ```
#[derive(Debug)]
pub struct Engine {
    /// The object store and its controllers.
    pub cluster: Cluster,
    /// kube-proxy's tables for the cluster's proxy mode.
    pub dataplane: Dataplane,
    /// The cluster DNS (CoreDNS `kubernetes` plugin defaults, the cluster's domain).
    pub dns: Dns,
    /// Inputs of the masquerade rule for the allocation-free route path.
    pub local: LocalTraffic,
    /// Balancing algorithms chosen per Service port.
    pub algorithms: Algorithms,
}

impl Engine {
    /// Compiles the views of `cluster`.
    pub fn new(cluster: Cluster) -> Result<Engine, DoorError> {
        let dataplane = Dataplane::compile(&cluster, cluster.config().proxy.mode);
        let dns = Dns::new(&cluster, dns_config(&cluster))
            .map_err(|e| DoorError::from(svcroute::Error::from(e)))?;
        let local = LocalTraffic::from_cluster(&cluster);
        Ok(Engine {
            cluster,
            dataplane,
            dns,
            local,
            algorithms: Algorithms::default(),
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

    /// Chooses the balancing algorithm `name` (see [`algorithm::NAMES`]) for
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
        self.algorithms.set(&self.cluster, key, algorithm);
        Ok(())
    }

    fn patch(&mut self, changes: &Changes) {
        if changes.is_empty() {
            return;
        }
        self.dataplane.patch(&self.cluster, changes);
        self.dns.update(&self.cluster, changes);
        let touched = |kind: Kind| {
            changes
                .created
                .iter()
                .chain(&changes.updated)
                .chain(&changes.deleted)
                .any(|k| k.kind == kind)
        };
        if touched(Kind::Node) {
            self.local = LocalTraffic::from_cluster(&self.cluster);
        }
        if !self.algorithms.is_empty() && touched(Kind::Service) {
            self.algorithms.reindex(&self.cluster);
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
