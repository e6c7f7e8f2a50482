//! The port lists of the compact v1 Endpoints objects, shared.
//!
//! The Services of a cluster mostly publish a few port lists (`http` on
//! 8080 and `metrics` on 9090 for a whole fleet), and each Endpoints
//! object of the controller kept its own copy: two `EndpointPort`s and
//! their names, some 130 bytes an object. A compact subset holds its ports
//! as an `Arc<[EndpointPort]>`, and the controller shares equal lists
//! through [`PortLists`]: the table holds them weakly, so that a list goes
//! with the last object holding it, and dead entries are swept as the
//! table grows. The lists are immutable; sharing changes no object.

use std::hash::{Hash, Hasher};
use std::sync::{Arc, Weak};

use crate::api::corev1::EndpointPort;
use crate::cluster::intern::FxMap;

/// The shared port lists, by a hash of their contents.
#[derive(Debug, Clone, Default)]
pub(crate) struct PortLists {
    by_hash: FxMap<u64, Weak<[EndpointPort]>>,
    /// How many entries the table had after the last sweep.
    swept_at: usize,
}

impl PortLists {
    /// The shared list equal to `ports` (`ports` itself when none is
    /// live, which is then shared from here on).
    pub(crate) fn share(&mut self, ports: Arc<[EndpointPort]>) -> Arc<[EndpointPort]> {
        let h = hash(&ports);
        if let Some(live) = self.by_hash.get(&h).and_then(Weak::upgrade) {
            if *live == *ports {
                return live;
            }
            // Another list with this hash: this one is not shared.
            return ports;
        }
        if self.by_hash.len() >= 2 * self.swept_at.max(32) {
            self.by_hash.retain(|_, w| w.strong_count() > 0);
            self.swept_at = self.by_hash.len();
        }
        self.by_hash.insert(h, Arc::downgrade(&ports));
        ports
    }
}

fn hash(ports: &[EndpointPort]) -> u64 {
    let mut h = crate::table_hash::TableHasher::default();
    ports.len().hash(&mut h);
    for p in ports {
        p.name.hash(&mut h);
        p.port.hash(&mut h);
        p.protocol.map(|p| p.as_str()).hash(&mut h);
        p.app_protocol.hash(&mut h);
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(ports: &[i32]) -> Arc<[EndpointPort]> {
        ports
            .iter()
            .map(|&port| EndpointPort {
                name: format!("p{port}"),
                port,
                ..EndpointPort::default()
            })
            .collect()
    }

    // Equal lists are one allocation; a list goes with its last holder.
    #[test]
    fn equal_lists_are_shared_while_held() {
        let mut t = PortLists::default();
        let a = t.share(list(&[80, 9090]));
        let b = t.share(list(&[80, 9090]));
        assert!(Arc::ptr_eq(&a, &b));
        let c = t.share(list(&[80]));
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(*c, *list(&[80]));
        drop((a, b));
        let d = t.share(list(&[80, 9090]));
        assert_eq!(Arc::strong_count(&d), 1);
    }

    // Many short-lived lists: the table is swept, not grown without end.
    #[test]
    fn dead_lists_are_swept() {
        let mut t = PortLists::default();
        for port in 0..10_000 {
            drop(t.share(list(&[port])));
        }
        assert!(t.by_hash.len() <= 64);
    }
}
