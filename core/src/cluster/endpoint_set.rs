//! The desired endpoints of one port list, keyed by their identity
//! (upstream `hashEndpoint`: the sorted addresses, the hostname, the
//! target's namespace and name), in identity order.
//!
//! The full reconcile builds one set per port list and Service, for every
//! endpoint of a cluster when it is built. The set is a sorted `Vec`, and
//! identities are compared in place, so no key is allocated per endpoint.
//! The endpoints are [`PlannedEndpoint`]s: records (of the set's
//! namespace) where a record holds them.

use std::cmp::Ordering;

use crate::api::Endpoint;

use super::planned_slice::PlannedEndpoint;
use super::stored_slice::EndpointView;

/// Desired endpoints, one per identity (the last one given wins, as a
/// map's insert does), taken out by identity or in identity order.
#[derive(Debug, Default)]
pub(crate) struct EndpointSet<'n> {
    /// The namespace the records stand in.
    ns: &'n str,
    /// In identity order. An entry taken by identity is left as a copy
    /// (a record) or a tombstone that keeps only its identity, so that the
    /// order stays searchable; one taken first is left empty (the entries
    /// before `first` are not searched).
    entries: Vec<PlannedEndpoint>,
    /// Which entries are taken.
    taken: Vec<bool>,
    /// Entries before this one are all taken.
    first: usize,
    /// Entries not taken.
    live: usize,
}

impl<'n> EndpointSet<'n> {
    /// The set of these endpoints (records of namespace `ns`): of
    /// endpoints with one identity, the last is kept.
    pub(crate) fn new(mut endpoints: Vec<PlannedEndpoint>, ns: &'n str) -> EndpointSet<'n> {
        crate::order::sort_by(&mut endpoints, |a, b| {
            identity_cmp_views(a.view(ns), b.view(ns))
        });
        let mut entries: Vec<PlannedEndpoint> = Vec::with_capacity(endpoints.len());
        for ep in endpoints {
            // The sort is stable: of equal identities the last given comes
            // last, and replaces the ones before it.
            if let Some(prev) = entries.last_mut()
                && identity_cmp_views(prev.view(ns), ep.view(ns)) == Ordering::Equal
            {
                *prev = ep;
                continue;
            }
            entries.push(ep);
        }
        let live = entries.len();
        EndpointSet {
            ns,
            taken: vec![false; live],
            entries,
            first: 0,
            live,
        }
    }

    /// How many endpoints are left.
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// No endpoint is left.
    pub(crate) fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Takes the endpoint with the identity of `like` (a stored endpoint,
    /// in either form), if it is left.
    pub(crate) fn remove(&mut self, like: EndpointView<'_>) -> Option<PlannedEndpoint> {
        let ns = self.ns;
        let i = self.first
            + self.entries[self.first..]
                .binary_search_by(|e| identity_cmp_views(e.view(ns), like))
                .ok()?;
        if self.taken[i] {
            return None;
        }
        self.taken[i] = true;
        self.live -= 1;
        Some(match &self.entries[i] {
            PlannedEndpoint::Record(r) => PlannedEndpoint::Record(r.clone()),
            PlannedEndpoint::Object(_) => {
                let tombstone = PlannedEndpoint::Object(Box::new(tombstone(like)));
                std::mem::replace(&mut self.entries[i], tombstone)
            }
        })
    }

    /// Takes the endpoint with the smallest identity.
    pub(crate) fn pop_first(&mut self) -> Option<PlannedEndpoint> {
        while self.first < self.entries.len() {
            let i = self.first;
            self.first += 1;
            if !self.taken[i] {
                self.taken[i] = true;
                self.live -= 1;
                return Some(std::mem::replace(
                    &mut self.entries[i],
                    PlannedEndpoint::taken(),
                ));
            }
        }
        None
    }
}

/// An endpoint with only the identity of `like`.
fn tombstone(like: EndpointView<'_>) -> Endpoint {
    Endpoint {
        addresses: like.addresses().map(str::to_owned).collect(),
        hostname: like.hostname().map(str::to_owned),
        target_ref: like.target().map(|r| crate::api::ObjectReference {
            namespace: r.namespace.map(str::to_owned),
            name: r.name.to_owned(),
            ..crate::api::ObjectReference::default()
        }),
        ..Endpoint::default()
    }
}

/// [`identity_cmp_views`] of an endpoint and a stored one, in either form.
pub(crate) fn identity_cmp_view(a: &Endpoint, b: EndpointView<'_>) -> Ordering {
    identity_cmp_views(EndpointView::Object(a), b)
}

/// Orders two endpoints, read in place in either form, as their
/// identities `(sorted addresses, hostname, target namespace, target
/// name)` order, without building them.
pub(crate) fn identity_cmp_views(a: EndpointView<'_>, b: EndpointView<'_>) -> Ordering {
    if let (EndpointView::Compact(x, x_ns), EndpointView::Compact(y, y_ns)) = (a, b) {
        // Two records: one address each, a target in their namespace.
        return x
            .ip()
            .cmp(y.ip())
            .then_with(|| x.hostname().cmp(&y.hostname()))
            .then_with(|| x_ns.cmp(y_ns))
            .then_with(|| x.name().cmp(y.name()));
    }
    let (a_target, b_target) = (a.target(), b.target());
    let addresses = if a.address_count() <= 1 && b.address_count() <= 1 {
        a.addresses().cmp(b.addresses())
    } else {
        let mut mine: Vec<&str> = a.addresses().collect();
        let mut theirs: Vec<&str> = b.addresses().collect();
        crate::order::sort_unstable(&mut mine);
        crate::order::sort_unstable(&mut theirs);
        mine.cmp(&theirs)
    };
    addresses
        .then_with(|| a.hostname().cmp(&b.hostname()))
        .then_with(|| {
            let a_ns = a_target.and_then(|r| r.namespace);
            a_ns.cmp(&b_target.and_then(|r| r.namespace))
        })
        .then_with(|| {
            let a_name = a_target.map_or("", |r| r.name);
            a_name.cmp(b_target.map_or("", |r| r.name))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ObjectReference;
    use crate::cluster::stored_slice::SliceEndpoint;

    fn ep(addresses: &[&str], name: &str, hostname: Option<&str>, ready: bool) -> Endpoint {
        let mut e = Endpoint {
            addresses: addresses.iter().map(|a| (*a).to_owned()).collect(),
            hostname: hostname.map(str::to_owned),
            target_ref: Some(ObjectReference {
                kind: "Pod".into(),
                namespace: Some("shop".into()),
                name: name.into(),
                ..ObjectReference::default()
            }),
            ..Endpoint::default()
        };
        e.conditions.ready = Some(ready);
        e
    }

    /// The map it replaces: identity → endpoint, insert replaces.
    type Map =
        std::collections::BTreeMap<(Vec<String>, Option<String>, Option<String>, String), Endpoint>;

    fn key(e: &Endpoint) -> (Vec<String>, Option<String>, Option<String>, String) {
        let mut a = e.addresses.clone();
        a.sort();
        let r = e.target_ref.as_ref();
        (
            a,
            e.hostname.clone(),
            r.and_then(|r| r.namespace.clone()),
            r.map(|r| r.name.clone()).unwrap_or_default(),
        )
    }

    #[test]
    fn behaves_as_the_identity_map() {
        let all = vec![
            ep(&["10.0.0.2"], "b", None, true),
            ep(&["10.0.0.1"], "a", None, true),
            ep(&["10.0.0.2"], "b", None, false), // same identity: replaces
            ep(&["fd00::1", "10.0.0.9"], "d", None, true),
            ep(&["10.0.0.9", "fd00::1"], "d", None, false), // same, reordered
            ep(&["10.0.0.1"], "a", Some("h"), true),
            ep(&[], "z", None, true),
        ];
        let mut map = Map::new();
        for e in &all {
            map.insert(key(e), e.clone());
        }
        // Records where a record holds the endpoint, objects otherwise: the
        // set orders and finds both alike.
        let planned = all
            .iter()
            .map(|e| match SliceEndpoint::of(e, "shop") {
                Some(r) => PlannedEndpoint::Record(r),
                None => PlannedEndpoint::Object(Box::new(e.clone())),
            })
            .collect();
        let mut set = EndpointSet::new(planned, "shop");
        let built = |e: Option<PlannedEndpoint>| e.map(|e| e.into_endpoint("shop"));
        assert_eq!(set.len(), map.len());
        // Removal by identity, as a map's remove by key.
        let probe = ep(&["10.0.0.2"], "b", None, true);
        let like = EndpointView::Object(&probe);
        assert_eq!(built(set.remove(like)), map.remove(&key(&probe)));
        assert_eq!(set.remove(like), None);
        let probe = ep(&["10.0.0.9", "fd00::1"], "d", None, true);
        assert_eq!(
            built(set.remove(EndpointView::Object(&probe))),
            map.remove(&key(&probe))
        );
        assert_eq!(set.len(), map.len());
        // The rest in identity order.
        let mut got = Vec::new();
        while let Some(e) = set.pop_first() {
            got.push(e.into_endpoint("shop"));
        }
        let want: Vec<Endpoint> = map.into_values().collect();
        assert_eq!(got, want);
        assert!(set.is_empty());
    }

    // Taking the first leaves the others found by identity, and an entry
    // is 32 bytes (an endpoint no record holds is boxed).
    #[test]
    fn the_rest_is_found_after_the_first_is_taken() {
        let all: Vec<Endpoint> = ["a", "b", "c"]
            .iter()
            .enumerate()
            .map(|(i, n)| ep(&[&format!("10.0.0.{i}")], n, None, true))
            .collect();
        let planned = all
            .iter()
            .map(|e| PlannedEndpoint::Record(SliceEndpoint::of(e, "shop").unwrap()))
            .collect();
        let mut set = EndpointSet::new(planned, "shop");
        assert_eq!(set.pop_first().unwrap().into_endpoint("shop"), all[0]);
        assert_eq!(set.remove(EndpointView::Object(&all[0])), None);
        let c = set.remove(EndpointView::Object(&all[2])).unwrap();
        assert_eq!(c.into_endpoint("shop"), all[2]);
        assert_eq!(set.pop_first().unwrap().into_endpoint("shop"), all[1]);
        assert!(set.is_empty() && set.pop_first().is_none());
        assert_eq!(std::mem::size_of::<PlannedEndpoint>(), 32);
    }

    // Two records order as their endpoints do.
    #[test]
    fn records_order_as_their_endpoints() {
        let all = [
            ep(&["10.0.0.1"], "a", None, true),
            ep(&["10.0.0.1"], "a", Some("h"), true),
            ep(&["10.0.0.1"], "b", None, false),
            ep(&["10.0.0.2"], "a", None, true),
            ep(&["10.0.0.10"], "a", Some(""), true),
        ];
        let records: Vec<SliceEndpoint> = all
            .iter()
            .map(|e| SliceEndpoint::of(e, "shop").unwrap())
            .collect();
        for (a, ra) in all.iter().zip(&records) {
            for (b, rb) in all.iter().zip(&records) {
                let objects = identity_cmp_views(EndpointView::Object(a), EndpointView::Object(b));
                let compact = identity_cmp_views(
                    EndpointView::Compact(ra, "shop"),
                    EndpointView::Compact(rb, "shop"),
                );
                assert_eq!(compact, objects);
                let mixed =
                    identity_cmp_views(EndpointView::Object(a), EndpointView::Compact(rb, "shop"));
                assert_eq!(mixed, objects);
            }
        }
        let other = identity_cmp_views(
            EndpointView::Compact(&records[0], "shop"),
            EndpointView::Compact(&records[0], "zoo"),
        );
        assert_eq!(other, Ordering::Less);
    }
}
