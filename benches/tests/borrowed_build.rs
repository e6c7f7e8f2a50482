//! The synthetic cluster built from lent objects
//! (`Cluster::apply_batch_borrowed`) is the cluster built from given ones:
//! the same objects, the same changes, the input untouched.
//!
//! `cargo test -p svcroute-benches --test borrowed_build`

use std::borrow::Cow;

use svcroute::api::{Kind, Object};
use svcroute::cluster::Cluster;
use svcroute::labels::Selector;
use svcroute_benches::{Scale, config, pod, pod_slots, synthetic_cluster};

fn snapshot(c: &Cluster) -> Vec<Object> {
    Kind::ALL
        .iter()
        .flat_map(|&k| c.list(k, None, &Selector::everything()))
        .map(Cow::into_owned)
        .collect()
}

#[test]
fn a_lent_build_is_the_given_build() {
    let scale = Scale::SMALL;
    let objects = synthetic_cluster(&scale);
    let kept = objects.clone();
    let mut given = Cluster::new(config()).expect("config");
    let mut lent = Cluster::new(config()).expect("config");
    let want = given.apply_batch(objects.clone()).expect("applies");
    let got = lent.apply_batch_borrowed(&objects).expect("applies");
    assert_eq!(got, want);
    assert_eq!(objects, kept, "the lent objects changed");
    assert_eq!(lent.len(), given.len());
    assert_eq!(lent.pod_shapes(), given.pod_shapes());
    assert_eq!(snapshot(&lent), snapshot(&given));

    // Lent again: nothing changes; then pods changed (labels, readiness)
    // and lent, as an informer's cache would be.
    assert!(
        lent.apply_batch_borrowed(&objects)
            .expect("applies")
            .is_empty()
    );
    let slots = pod_slots(&scale);
    let changed: Vec<Object> = slots
        .iter()
        .take(40)
        .enumerate()
        .map(|(j, &(i, k, n))| Object::Pod(pod(&scale, i, k, n, j % 2 == 0, "1.4")))
        .collect();
    let kept = changed.clone();
    let want = given.apply_batch(changed.clone()).expect("applies");
    let got = lent.apply_batch_borrowed(&changed).expect("applies");
    assert_eq!(got, want);
    assert!(!got.is_empty());
    assert_eq!(changed, kept);
    assert_eq!(lent.pod_shapes(), given.pod_shapes());
    assert_eq!(snapshot(&lent), snapshot(&given));
}

#[test]
fn a_lent_batch_with_a_bad_object_changes_nothing() {
    let scale = Scale::SMALL;
    let mut objects = synthetic_cluster(&scale);
    let mut c = Cluster::new(config()).expect("config");
    c.apply_batch_borrowed(&objects[..objects.len() / 2])
        .expect("applies");
    let before = snapshot(&c);
    let at = objects.len() - 1;
    objects[at].metadata_mut().name = None;
    let kept = objects.clone();
    let err = c.apply_batch_borrowed(&objects).expect_err("refused");
    assert_eq!(err.problems().len(), 1);
    assert_eq!(err.problems()[0].index, Some(at));
    assert_eq!(objects, kept);
    assert_eq!(snapshot(&c), before, "a refused batch changed the state");
}
