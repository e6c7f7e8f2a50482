//! Incremental patching of a [`Dataplane`] from a cluster's [`Changes`].

use std::collections::BTreeSet;

use super::compile::{add_service, pod_info};
use super::{Dataplane, IndexKey};
use crate::api::{Kind, Object, ObjectKey};
use crate::cluster::{Changes, Cluster};

impl Dataplane {
    /// Brings the tables up to date after `cluster` reported `changes`
    /// (the [`Changes`] its `apply`/`delete` returned), touching only what
    /// moved: the Services named, the Services whose EndpointSlices moved,
    /// the Pods, and the Ingress/Gateway tables when those kinds moved. A
    /// Node change recompiles everything (node addresses are where NodePorts
    /// answer), as does accumulated garbage.
    ///
    /// The result routes exactly as [`Dataplane::compile`] would, except
    /// when two Services claim the same (address, port, protocol): then the
    /// one compiled first keeps it, which may differ after a patch.
    ///
    /// ```
    /// use svcroute::api::Object;
    /// use svcroute::cluster::{Cluster, ClusterConfig, ProxyMode};
    /// use svcroute::dataplane::Dataplane;
    /// let mut c = Cluster::new(ClusterConfig { bootstrap: false, ..Default::default() })?;
    /// let mut dp = Dataplane::compile(&c, ProxyMode::Iptables);
    /// let svc: Object = serde_json::from_str(r#"{"apiVersion": "v1", "kind": "Service",
    ///   "metadata": {"name": "web", "namespace": "shop"},
    ///   "spec": {"clusterIP": "10.96.0.20", "ports": [{"port": 80}]}}"#).unwrap();
    /// let changes = c.apply(svc)?;
    /// dp.patch(&c, &changes);
    /// assert_eq!(dp.service_count(), 1);
    /// # Ok::<(), svcroute::cluster::ClusterError>(())
    /// ```
    pub fn patch(&mut self, cluster: &Cluster, changes: &Changes) {
        let mut services: BTreeSet<(String, String)> = BTreeSet::new();
        let mut http = false;
        let keys = changes
            .created
            .iter()
            .chain(&changes.updated)
            .chain(&changes.deleted);
        for key in keys {
            let ns = key.namespace.clone().unwrap_or_default();
            match key.kind {
                Kind::Node => {
                    *self = Dataplane::compile(cluster, self.mode);
                    return;
                }
                Kind::Service => {
                    services.insert((ns, key.name.clone()));
                }
                Kind::EndpointSlice => {
                    if let Some(svc) = cluster.slice_service(key) {
                        services.insert((ns.clone(), svc.to_owned()));
                    }
                    if let Some(owner) = self.slice_owner.get(&(ns.clone(), key.name.clone())) {
                        services.insert((ns, owner.clone()));
                    }
                }
                Kind::Pod => match cluster.stored_pod(key) {
                    Some(p) => {
                        self.pods.insert((ns, key.name.clone()), pod_info(p));
                    }
                    _ => {
                        self.pods.remove(&(ns, key.name.clone()));
                    }
                },
                Kind::Ingress
                | Kind::IngressClass
                | Kind::Gateway
                | Kind::HTTPRoute
                | Kind::Namespace => {
                    http = true;
                }
                _ => {}
            }
        }
        if let Some(dns) = &mut self.dns {
            dns.update(cluster, changes);
        }
        for (ns, name) in services {
            self.remove_service(&ns, &name);
            let key = ObjectKey {
                kind: Kind::Service,
                namespace: Some(ns),
                name,
            };
            if let Some(Object::Service(svc)) = cluster.stored_object(&key) {
                add_service(self, cluster, svc);
            }
        }
        if http {
            self.ingress = super::http::IngressTable::default();
            self.gateways = super::http::GatewayTable::default();
            super::http::compile(self, cluster);
        } else if !changes.is_empty() {
            // Ingress backends are looked up by name at request time: nothing to do.
        }
        if self.dead_services > self.service_by_name.len() + 64 {
            *self = Dataplane::compile(cluster, self.mode);
        } else if self.flat.wants_compaction() {
            self.flat.compact(self.vips.values_mut());
        }
    }

    /// Takes a Service's entries out of every table; its arena slots stay
    /// (unreachable) until the next full compile.
    fn remove_service(&mut self, ns: &str, name: &str) {
        let Some(idx) = self
            .service_by_name
            .remove(&(ns.to_owned(), name.to_owned()))
        else {
            return;
        };
        self.dead_services += 1;
        let Some(svc) = self.services.get_mut(idx) else {
            return;
        };
        let ports = std::mem::take(&mut svc.ports);
        let keys = std::mem::take(&mut svc.keys);
        for slice in std::mem::take(&mut svc.slices) {
            let k = (ns.to_owned(), slice);
            if self.slice_owner.get(&k).is_some_and(|o| o == name) {
                self.slice_owner.remove(&k);
            }
        }
        for key in keys {
            match key {
                IndexKey::Vip(ip, port, proto) => {
                    let key = super::front::VipKey::new(ip, port, proto);
                    if self.vips.get(&key).is_some_and(|f| ports.contains(&f.port)) {
                        self.vips.remove(&key);
                    }
                    if let Some(entry) = self.vip_addrs.get_mut(&ip) {
                        entry.1 = entry.1.saturating_sub(1);
                        if entry.1 == 0 {
                            self.vip_addrs.remove(&ip);
                        }
                    }
                }
                IndexKey::LbProxy(ip) => {
                    if self.lb_proxy_addrs.get(&ip) == Some(&idx) {
                        self.lb_proxy_addrs.remove(&ip);
                    }
                }
                IndexKey::NodePortNumber(port, proto, fam) => {
                    if self
                        .node_port_numbers
                        .get(&(port, proto, fam))
                        .is_some_and(|p| ports.contains(p))
                    {
                        self.node_port_numbers.remove(&(port, proto, fam));
                    }
                }
                IndexKey::Health(port) => {
                    if self.health_checks.get(&port) == Some(&idx) {
                        self.health_checks.remove(&port);
                    }
                }
            }
        }
    }
}
