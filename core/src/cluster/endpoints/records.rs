//! The Endpoints controller's full computation, straight to the compact
//! form (`stored.rs`): each selected pod's address becomes an [`Address`]
//! record borrowed from the pod's view, the subsets are grouped and
//! truncated as [`desired`](super::desired) does, and the result is
//! compared with the stored object without building either.
//!
//! It covers the Services whose pods all serve the same port list (one
//! subset, or none: upstream's `RepackSubsets` then puts every address in
//! one subset with every port) and whose addresses a record holds; for
//! any other the caller runs [`desired`](super::desired). The records are
//! an encoding: the object read back is the one `desired` builds, field
//! for field (the tests check it).

use std::sync::Arc;

use crate::api::{Kind, Object, ObjectKey, Service};

use super::super::stored::{
    Address, CompactEndpoints, CompactSubset, EndpointsMeta, Stored, subsets_are,
};
use super::super::{Cluster, Tracker, endpointslice};
use super::{
    AddressLike, MetaRef, PodView, metadata_kept, pod_entry_view, truncate_lists, written_metadata,
};

/// What the controller does with a Service's Endpoints object.
#[derive(Debug)]
pub(in crate::cluster) enum Outcome {
    /// Leave it as it is.
    Keep,
    /// Write this object (create or replace).
    Write(Box<CompactEndpoints>),
}

/// The controller's object for `svc` (selector set, not ExternalName)
/// over its selected `pods` (in name order), compact, given the stored
/// `current` one; `None` when the compact computation does not cover this
/// Service (see the module docs): run [`desired`](super::desired).
pub(in crate::cluster) fn desired_compact(
    svc: &Service,
    pods: &[PodView<'_>],
    current: Option<&Stored>,
) -> Option<Outcome> {
    let current_meta = match current {
        Some(Stored::Endpoints(c)) => Some(MetaRef::Compact(&c.metadata)),
        Some(Stored::Object(o)) => match &**o {
            Object::Endpoints(e) => Some(MetaRef::Given(&e.metadata)),
            _ => return None,
        },
        Some(_) => return None,
        None => None,
    };
    // The namespace the written object has (and every record's target).
    let own = match current_meta {
        Some(m) => m.namespace(),
        None => svc.metadata.namespace.as_deref(),
    }?;
    let mut first: Option<PodView<'_>> = None;
    let mut all: Vec<(Address, bool)> = Vec::with_capacity(pods.len());
    for &pod in pods {
        let Some((view, ready)) = pod_entry_view(svc, pod) else {
            continue;
        };
        match first {
            None => first = Some(pod),
            Some(f) => {
                let same = endpointslice::resolved_ports(svc, f)
                    .map(port_fields)
                    .eq(endpointslice::resolved_ports(svc, pod).map(port_fields));
                if !same {
                    return None;
                }
            }
        }
        all.push((Address::from_view(&view, own)?, ready));
    }
    let mut subsets = match first {
        None => Vec::new(),
        Some(f) => one_subset(svc, f, all),
    };
    if let Some(cur) = current {
        let (count, same) = match cur {
            Stored::Endpoints(c) => (address_count(&c.subsets), c.subsets == subsets),
            Stored::Object(o) => match &**o {
                Object::Endpoints(e) => (
                    e.subsets
                        .iter()
                        .map(|s| s.addresses.len() + s.not_ready_addresses.len())
                        .sum(),
                    subsets_are(&subsets, &e.subsets, own),
                ),
                _ => return None,
            },
            _ => return None,
        };
        if same && current_meta.is_some_and(|m| metadata_kept(svc, m, count)) {
            return Some(Outcome::Keep);
        }
    }
    let truncated = truncate_lists(&mut subsets, |s| (&mut s.ready, &mut s.not_ready));
    // Stored for long: no room left from merging or truncating.
    for s in &mut subsets {
        s.ready.shrink_to_fit();
        s.not_ready.shrink_to_fit();
    }
    Some(Outcome::Write(Box::new(CompactEndpoints {
        metadata: EndpointsMeta::of(written_metadata(svc, current_meta, truncated)),
        subsets,
    })))
}

/// The fields of a resolved port that make its `EndpointPort`.
fn port_fields(
    (sp, port): (&crate::api::ServicePort, i32),
) -> (&str, i32, Option<crate::api::Protocol>, Option<&str>) {
    (
        sp.name.as_str(),
        port,
        sp.protocol,
        sp.app_protocol.as_deref(),
    )
}

/// Upstream's repacking when every pod serves the ports `first` resolves:
/// one subset of every distinct address (by IP and uid; the first seen
/// kept, not ready if any duplicate is not ready) with the distinct ports.
fn one_subset(
    svc: &Service,
    first: PodView<'_>,
    mut all: Vec<(Address, bool)>,
) -> Vec<CompactSubset> {
    let ports = super::distinct_ports(
        endpointslice::resolved_ports(svc, first).map(|(sp, port)| super::endpoint_port(sp, port)),
    );
    // A stable sort: duplicates stay in first-seen order.
    crate::order::sort_by(&mut all, |x, y| cmp_record(&x.0, &y.0));
    let (ready, not_ready) = super::merge_duplicates(all, |a, b| cmp_record(a, b).is_eq());
    if ready.is_empty() && not_ready.is_empty() {
        return Vec::new();
    }
    vec![CompactSubset {
        ready,
        not_ready,
        ports: ports.into(),
    }]
}

/// Upstream `LessEndpointAddress` over records: by IP, then by target uid.
fn cmp_record(a: &Address, b: &Address) -> std::cmp::Ordering {
    a.ip().cmp(b.ip()).then_with(|| a.uid().cmp(&b.uid()))
}

fn address_count(subsets: &[CompactSubset]) -> usize {
    subsets
        .iter()
        .map(|s| s.ready.len() + s.not_ready.len())
        .sum()
}

impl Cluster {
    /// Stores the controller's compact Endpoints object (create or
    /// replace), as [`Cluster::write_internal`] stores the object it
    /// stands for: nothing when the stored one is the same, else tracked
    /// and indexed.
    pub(in crate::cluster) fn write_compact_endpoints(
        &mut self,
        mut endpoints: Box<CompactEndpoints>,
        t: &mut Tracker,
    ) {
        for s in &mut endpoints.subsets {
            s.ports = self
                .endpoint_ports
                .share(std::mem::replace(&mut s.ports, Arc::new([])));
        }
        let mut scratch = Tracker {
            internal: true,
            ..Tracker::default()
        };
        let name = endpoints.metadata.name().unwrap_or_default();
        let found = self
            .lookup_stored(Kind::Endpoints, endpoints.metadata.namespace(), name)
            .map(|(id, _)| id);
        match found {
            Some(id) => {
                let Some(slot) = self.slot(id) else {
                    return;
                };
                if slot.object.same_as_compact(&endpoints) {
                    return;
                }
                let key = slot.key.clone();
                scratch.touched.note(&key, true);
                self.unindex(id, &mut scratch);
                self.put(id, Stored::Endpoints(endpoints));
                self.index(id, &mut scratch);
            }
            None => {
                let key = ObjectKey {
                    kind: Kind::Endpoints,
                    namespace: endpoints.metadata.namespace().map(str::to_owned),
                    name: name.to_owned(),
                };
                let id = self.insert(key, Stored::Endpoints(endpoints), &mut scratch);
                self.index(id, &mut scratch);
            }
        }
        t.touched.absorb(scratch.touched);
    }
}

#[cfg(test)]
mod tests {
    use super::super::desired;
    use super::*;
    use crate::api::{Endpoints, Pod};
    use crate::cluster::{Changes, ClusterConfig};

    /// A pod of Service `web` in `shop`: `ip` (and a second, IPv6 one when
    /// `v6`), ready or not, with a container port `http` (`http_port`;
    /// none when 0), `uid` optional, hostname and subdomain set.
    fn pod(name: &str, ip: &str, ready: bool, http_port: u16, uid: bool) -> Pod {
        let status = if ready { "True" } else { "False" };
        let uid = if uid {
            format!(r#", "uid": "u-{name}""#)
        } else {
            String::new()
        };
        let ports = if http_port == 0 {
            String::new()
        } else {
            format!(r#", "ports": [{{"name": "http", "containerPort": {http_port}}}]"#)
        };
        serde_json::from_str(&format!(
            r#"{{"metadata": {{"name": "{name}", "namespace": "shop"{uid}, "labels": {{"app": "web"}}}},
                "spec": {{"nodeName": "n1", "hostname": "{name}", "subdomain": "web",
                          "containers": [{{"name": "c"{ports}}}]}},
                "status": {{"phase": "Running", "podIPs": [{{"ip": "{ip}"}}],
                           "conditions": [{{"type": "Ready", "status": "{status}"}}]}}}}"#
        ))
        .unwrap()
    }

    /// Service `web`: `ports` as JSON, `extra` spec fields.
    fn service(ports: &str, extra: &str) -> Service {
        serde_json::from_str(&format!(
            r#"{{"metadata": {{"name": "web", "namespace": "shop", "labels": {{"tier": "front"}}}},
                "spec": {{"selector": {{"app": "web"}}, "ports": {ports}{extra}}}}}"#
        ))
        .unwrap()
    }

    fn views(pods: &[Pod]) -> Vec<PodView<'_>> {
        pods.iter().map(PodView::given).collect()
    }

    /// The compact computation gives what `desired` gives, read back
    /// field for field, or declines (`None`), for `current` as stored
    /// either way.
    fn check(svc: &Service, pods: &[Pod], current: Option<&Endpoints>) -> Option<Outcome> {
        let pods = views(pods);
        let want = desired(svc, &pods, current);
        let forms: Vec<Option<Stored>> = match current {
            None => vec![None],
            Some(e) => vec![
                Some(Stored::new(Object::Endpoints(e.clone()), true)),
                Some(Stored::new(Object::Endpoints(e.clone()), false)),
            ],
        };
        let mut last = None;
        for form in forms {
            let got = desired_compact(svc, &pods, form.as_ref());
            match &got {
                Some(Outcome::Keep) => assert_eq!(want, None),
                Some(Outcome::Write(c)) => {
                    assert_eq!(Some(c.to_endpoints()), want);
                    // The records are what compacting the object gives.
                    let Compacted::Compact(of) = CompactEndpoints::of(c.to_endpoints()) else {
                        panic!("held exactly")
                    };
                    assert_eq!(of, **c);
                    // Stored for long: no lists with room to spare.
                    for e in [&of, &**c] {
                        assert_eq!(e.subsets.capacity(), e.subsets.len());
                        for s in &e.subsets {
                            assert_eq!(s.ready.capacity(), s.ready.len());
                            assert_eq!(s.not_ready.capacity(), s.not_ready.len());
                        }
                    }
                }
                None => {}
            }
            last = got;
        }
        last
    }

    use super::super::super::stored::Compacted;

    fn write(o: Option<Outcome>) -> Endpoints {
        match o {
            Some(Outcome::Write(c)) => c.to_endpoints(),
            other => panic!("expected a write, got {other:?}"),
        }
    }

    // One port list for every pod: the records are the object the full
    // computation builds (readiness, hostnames, duplicate IPs without a
    // uid, order by IP then uid, named and numbered ports).
    #[test]
    fn records_read_back_as_the_full_computation_builds() {
        let svc = service(
            r#"[{"name": "web", "port": 80, "targetPort": "http"},
                {"name": "metrics", "port": 9090, "targetPort": 9090, "appProtocol": "http"}]"#,
            r#", "clusterIP": "10.96.0.20""#,
        );
        let pods = vec![
            pod("c", "10.244.0.11", false, 8080, true),
            pod("a", "10.244.0.10", true, 8080, true),
            pod("b", "10.244.0.9", true, 8080, true),
            pod("d", "10.244.0.12", true, 8080, false),
            pod("e", "10.244.0.12", false, 8080, false),
        ];
        let e = write(check(&svc, &pods, None));
        assert_eq!(e.subsets.len(), 1);
        assert_eq!(e.subsets[0].addresses.len(), 2);
        assert_eq!(e.subsets[0].not_ready_addresses.len(), 2);
        assert_eq!(
            e.metadata.labels.get("tier").map(String::as_str),
            Some("front")
        );
        // Unchanged: kept; a label or pod change: written.
        assert!(matches!(check(&svc, &pods, Some(&e)), Some(Outcome::Keep)));
        let mut relabelled = svc.clone();
        relabelled
            .metadata
            .labels
            .insert("tier".into(), "back".into());
        let e2 = write(check(&relabelled, &pods, Some(&e)));
        assert_eq!(
            e2.metadata.labels.get("tier").map(String::as_str),
            Some("back")
        );
        let fewer = &pods[1..];
        write(check(&svc, fewer, Some(&e)));
        // A user's annotations stay, the trigger time goes.
        let mut annotated = e.clone();
        annotated
            .metadata
            .annotations
            .insert("note".into(), "kept".into());
        annotated.metadata.annotations.insert(
            super::super::ENDPOINTS_LAST_CHANGE_TRIGGER_TIME_ANNOTATION.into(),
            "t".into(),
        );
        assert!(matches!(
            check(&svc, &pods, Some(&annotated)),
            Some(Outcome::Keep)
        ));
        annotated.metadata.labels.insert("extra".into(), "x".into());
        let e3 = write(check(&svc, &pods, Some(&annotated)));
        assert_eq!(e3.metadata.annotations.len(), 1);
        // publishNotReadyAddresses: every pod ready.
        let tolerant = service(
            r#"[{"port": 80, "targetPort": "http"}]"#,
            r#", "publishNotReadyAddresses": true"#,
        );
        let e4 = write(check(&tolerant, &pods, None));
        assert!(e4.subsets[0].not_ready_addresses.is_empty());
        // Headless without ports: one subset without ports.
        let headless = service("[]", r#", "clusterIP": "None""#);
        let e5 = write(check(&headless, &pods, None));
        assert!(e5.subsets[0].ports.is_empty());
        assert!(
            e5.metadata
                .labels
                .contains_key(crate::cluster::HEADLESS_LABEL)
        );
        // No pod: no subset.
        let e6 = write(check(&svc, &[], None));
        assert!(e6.subsets.is_empty());
    }

    // Pods whose named port resolves differently: the compact computation
    // declines and the full one runs.
    #[test]
    fn differing_port_lists_go_the_full_way() {
        let svc = service(r#"[{"port": 80, "targetPort": "http"}]"#, "");
        let pods = vec![
            pod("a", "10.244.0.10", true, 8080, true),
            pod("b", "10.244.0.9", true, 8081, true),
        ];
        assert!(check(&svc, &pods, None).is_none());
        // A pod that resolves no port is left out, not a differing list.
        let pods = vec![
            pod("a", "10.244.0.10", true, 8080, true),
            pod("b", "10.244.0.9", true, 0, true),
        ];
        let e = write(check(&svc, &pods, None));
        assert_eq!(e.subsets[0].addresses.len(), 1);
    }

    // Over 1000 addresses: upstream's truncation and its annotation, in
    // both directions (ready over capacity; not-ready ones cut).
    #[test]
    fn truncation_as_upstream() {
        let svc = service(r#"[{"port": 80, "targetPort": 8080}]"#, "");
        let many = |ready: usize, not_ready: usize| -> Vec<Pod> {
            (0..ready + not_ready)
                .map(|i| {
                    let ip = format!("10.1.{}.{}", i / 250, i % 250);
                    pod(&format!("p{i}"), &ip, i < ready, 8080, true)
                })
                .collect()
        };
        for (ready, not_ready) in [(1200, 5), (900, 300), (600, 400)] {
            let pods = many(ready, not_ready);
            let e = write(check(&svc, &pods, None));
            let over = e
                .metadata
                .annotations
                .get(super::super::ENDPOINTS_OVER_CAPACITY_ANNOTATION);
            let count = e.subsets[0].addresses.len() + e.subsets[0].not_ready_addresses.len();
            assert_eq!(count, (ready + not_ready).min(1000));
            assert_eq!(over.is_some(), ready + not_ready > 1000);
            // Truncated: written again, never kept.
            let again = check(&svc, &pods, Some(&e));
            assert_eq!(
                matches!(again, Some(Outcome::Keep)),
                ready + not_ready <= 1000
            );
        }
    }

    fn cluster() -> Cluster {
        Cluster::new(ClusterConfig {
            bootstrap: false,
            ..Default::default()
        })
        .unwrap()
    }

    fn eps_key() -> ObjectKey {
        ObjectKey {
            kind: Kind::Endpoints,
            namespace: Some("shop".into()),
            name: "web".into(),
        }
    }

    fn service_object(labels: &str) -> Object {
        serde_json::from_str(&format!(
            r#"{{"apiVersion": "v1", "kind": "Service",
                "metadata": {{"name": "web", "namespace": "shop", "labels": {labels}}},
                "spec": {{"clusterIP": "10.96.0.20", "selector": {{"app": "web"}},
                          "ports": [{{"port": 80, "targetPort": "http"}}]}}}}"#
        ))
        .unwrap()
    }

    fn pods() -> Vec<Object> {
        vec![
            Object::Pod(pod("a", "10.244.0.10", true, 8080, true)),
            Object::Pod(pod("b", "10.244.0.9", false, 8080, true)),
        ]
    }

    // A Service label change is reported as an update of its Endpoints,
    // whose labels follow; the object stays compact.
    #[test]
    fn a_service_label_change_updates_its_endpoints() {
        let mut c = cluster();
        let mut objects = pods();
        objects.push(service_object(r#"{"tier": "front"}"#));
        c.apply_batch(objects).unwrap();
        let changes: Changes = c.apply(service_object(r#"{"tier": "back"}"#)).unwrap();
        assert!(changes.updated.contains(&eps_key()));
        let eps = c.endpoints("shop", "web").unwrap();
        assert_eq!(
            eps.metadata.labels.get("tier").map(String::as_str),
            Some("back")
        );
        assert!(matches!(
            c.lookup_stored(Kind::Endpoints, Some("shop"), "web"),
            Some((_, Stored::Endpoints(_)))
        ));
        // Applying it again changes nothing.
        assert!(
            c.apply(service_object(r#"{"tier": "back"}"#))
                .unwrap()
                .is_empty()
        );
    }

    // A user's Endpoints object for a Service without a selector stays as
    // given; one for a Service with a selector is the controller's to
    // rewrite, and reads back as a fresh cluster's.
    #[test]
    fn objects_stay_as_given_or_are_rewritten_as_before() {
        let mut user: Endpoints = serde_json::from_str(
            r#"{"metadata": {"name": "web", "namespace": "shop", "labels": {"mine": "yes"}},
                "subsets": [{"addresses": [{"ip": "192.0.2.1"}], "ports": [{"port": 80}]}]}"#,
        )
        .unwrap();
        let selectorless: Object = serde_json::from_str(
            r#"{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
                "spec": {"ports": [{"port": 80}]}}"#,
        )
        .unwrap();
        let mut c = cluster();
        c.apply_batch(vec![selectorless, Object::Endpoints(user.clone())])
            .unwrap();
        assert_eq!(
            c.get(&eps_key()).map(|o| o.into_owned()),
            Some(Object::Endpoints(user.clone()))
        );
        let mut objects = pods();
        objects.push(service_object("{}"));
        c.apply_batch(objects.clone()).unwrap();
        let mut fresh = cluster();
        fresh.apply_batch(objects).unwrap();
        // The user's metadata is the controller's base, so only the
        // subsets and labels are compared with the fresh cluster's.
        let got = c.endpoints("shop", "web").unwrap().into_owned();
        let want = fresh.endpoints("shop", "web").unwrap().into_owned();
        assert_eq!(got.subsets, want.subsets);
        assert_eq!(got.metadata.labels, want.metadata.labels);
        user.subsets.clear();
        assert_ne!(got, user);
    }

    // Services with equal port lists share one list; each object still
    // reads back with its own ports.
    #[test]
    fn equal_port_lists_are_shared() {
        let svc = |name: &str| -> Object {
            serde_json::from_str(&format!(
                r#"{{"apiVersion": "v1", "kind": "Service",
                    "metadata": {{"name": "{name}", "namespace": "shop"}},
                    "spec": {{"clusterIP": "None", "selector": {{"app": "web"}},
                              "ports": [{{"name": "web", "port": 80, "targetPort": "http"}}]}}}}"#
            ))
            .unwrap()
        };
        let mut c = cluster();
        let mut objects = pods();
        objects.extend([svc("one"), svc("two")]);
        c.apply_batch(objects).unwrap();
        let ports = |name: &str| match c.lookup_stored(Kind::Endpoints, Some("shop"), name) {
            Some((_, Stored::Endpoints(e))) => e.subsets[0].ports.clone(),
            other => panic!("not compact: {other:?}"),
        };
        assert!(Arc::ptr_eq(&ports("one"), &ports("two")));
        let one = c.endpoints("shop", "one").unwrap();
        assert_eq!(one.subsets[0].ports[0].port, 8080);
        assert_eq!(one.subsets[0].ports[0].name, "web");
    }
}
