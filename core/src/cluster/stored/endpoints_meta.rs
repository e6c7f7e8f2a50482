//! The metadata of a compact v1 Endpoints object.
//!
//! What the Endpoints controller writes for a new object is its name and
//! namespace, the Service's labels (and the headless label), and at most
//! the over-capacity annotation. Kept as an `ObjectMeta` that is 240
//! bytes inline and a B-tree node of 544 bytes for even one label; kept
//! as [`EndpointsMeta::Plain`] it is 48 bytes, one allocation for the
//! name and namespace and one for the labels (a sorted slice of pairs).
//! Any other metadata (a user's annotations, a uid, owner references,
//! ...) is kept as given ([`EndpointsMeta::Full`]). Either way the
//! `ObjectMeta` read back is the one written.

use std::collections::BTreeMap;

use crate::api::ObjectMeta;
use crate::cluster::ENDPOINTS_OVER_CAPACITY_ANNOTATION;
use crate::cluster::packed_text::PackedText;
use crate::labels::Labels;

/// The metadata of a compact Endpoints object (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EndpointsMeta {
    /// Name, namespace, labels, and the over-capacity annotation or none.
    Plain(PlainMeta),
    /// Anything else, as given.
    Full(Box<ObjectMeta>),
}

/// [`EndpointsMeta::Plain`]: `names` holds the name and the namespace,
/// and beside them whether the object carries
/// `endpoints.kubernetes.io/over-capacity: truncated`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlainMeta {
    names: PackedText<2, bool>,
    /// In key order, as the map's.
    labels: Vec<(Box<str>, Box<str>)>,
}

/// The labels of an [`EndpointsMeta`] as kept, in key order (to walk
/// them without an iterator over both forms).
#[derive(Debug, Clone, Copy)]
pub(crate) enum LabelForm<'a> {
    /// Of metadata kept as given.
    Map(&'a BTreeMap<String, String>),
    /// Of plain metadata.
    Pairs(&'a [(Box<str>, Box<str>)]),
}

const TRUNCATED: &str = "truncated";

impl EndpointsMeta {
    /// The form of `m`: plain when it holds only what a plain one holds,
    /// as given otherwise. (Taken by value: the labels' strings move in.)
    pub(crate) fn of(m: ObjectMeta) -> EndpointsMeta {
        let ObjectMeta {
            name: Some(name),
            generate_name: None,
            namespace: Some(namespace),
            uid: None,
            resource_version: None,
            creation_timestamp: None,
            deletion_timestamp: None,
            labels: _,
            annotations,
            owner_references,
        } = &m
        else {
            return EndpointsMeta::Full(Box::new(m));
        };
        let truncated = match annotations.len() {
            0 => false,
            1 if annotations
                .get(ENDPOINTS_OVER_CAPACITY_ANNOTATION)
                .is_some_and(|v| v == TRUNCATED) =>
            {
                true
            }
            _ => return EndpointsMeta::Full(Box::new(m)),
        };
        if !owner_references.is_empty() {
            return EndpointsMeta::Full(Box::new(m));
        }
        let Some(names) =
            PackedText::new([Some(name.as_str()), Some(namespace.as_str())], truncated)
        else {
            return EndpointsMeta::Full(Box::new(m));
        };
        let labels = m
            .labels
            .into_iter()
            .map(|(k, v)| (k.into_boxed_str(), v.into_boxed_str()))
            .collect();
        EndpointsMeta::Plain(PlainMeta { names, labels })
    }

    /// The metadata.
    pub(crate) fn to_meta(&self) -> ObjectMeta {
        match self {
            EndpointsMeta::Full(m) => (**m).clone(),
            EndpointsMeta::Plain(p) => {
                let mut annotations = BTreeMap::new();
                if p.names.extra {
                    annotations.insert(
                        ENDPOINTS_OVER_CAPACITY_ANNOTATION.to_owned(),
                        TRUNCATED.to_owned(),
                    );
                }
                ObjectMeta {
                    name: Some(p.names.part(0).to_owned()),
                    namespace: Some(p.names.part(1).to_owned()),
                    labels: p
                        .labels
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                    annotations,
                    ..ObjectMeta::default()
                }
            }
        }
    }

    /// Is `m` this metadata (compared without building it)?
    pub(crate) fn is(&self, m: &ObjectMeta) -> bool {
        match self {
            EndpointsMeta::Full(mine) => **mine == *m,
            EndpointsMeta::Plain(_) => {
                let ObjectMeta {
                    name,
                    generate_name,
                    namespace,
                    uid,
                    resource_version,
                    creation_timestamp,
                    deletion_timestamp,
                    labels,
                    annotations,
                    owner_references,
                } = m;
                let over = annotations.get(ENDPOINTS_OVER_CAPACITY_ANNOTATION);
                name.as_deref() == self.name()
                    && namespace.as_deref() == self.namespace()
                    && generate_name.is_none()
                    && uid.is_none()
                    && resource_version.is_none()
                    && creation_timestamp.is_none()
                    && deletion_timestamp.is_none()
                    && owner_references.is_empty()
                    && annotations.len() == usize::from(over.is_some())
                    && over.map(String::as_str)
                        == self.annotation(ENDPOINTS_OVER_CAPACITY_ANNOTATION)
                    && labels.len() == self.label_pairs().count()
                    && labels
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.as_str()))
                        .eq(self.label_pairs())
            }
        }
    }

    /// `name`.
    pub(crate) fn name(&self) -> Option<&str> {
        match self {
            EndpointsMeta::Full(m) => m.name.as_deref(),
            EndpointsMeta::Plain(p) => Some(p.names.part(0)),
        }
    }

    /// `namespace`.
    pub(crate) fn namespace(&self) -> Option<&str> {
        match self {
            EndpointsMeta::Full(m) => m.namespace.as_deref(),
            EndpointsMeta::Plain(p) => Some(p.names.part(1)),
        }
    }

    /// The labels, for selectors.
    pub(crate) fn labels(&self) -> &dyn Labels {
        match self {
            EndpointsMeta::Full(m) => &m.labels,
            EndpointsMeta::Plain(p) => &p.labels,
        }
    }

    /// The labels, in key order.
    pub(crate) fn label_pairs(&self) -> impl Iterator<Item = (&str, &str)> + Clone {
        let (full, plain) = match self {
            EndpointsMeta::Full(m) => (Some(&m.labels), None),
            EndpointsMeta::Plain(p) => (None, Some(&p.labels)),
        };
        let full = full
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v.as_str()));
        let plain = plain
            .into_iter()
            .flat_map(|l| l.iter())
            .map(|(k, v)| (&**k, &**v));
        full.chain(plain)
    }

    /// The labels as kept, in key order.
    pub(crate) fn label_form(&self) -> LabelForm<'_> {
        match self {
            EndpointsMeta::Full(m) => LabelForm::Map(&m.labels),
            EndpointsMeta::Plain(p) => LabelForm::Pairs(&p.labels),
        }
    }

    /// The value of annotation `key`.
    pub(crate) fn annotation(&self, key: &str) -> Option<&str> {
        match self {
            EndpointsMeta::Full(m) => m.annotations.get(key).map(String::as_str),
            EndpointsMeta::Plain(p) => {
                (p.names.extra && key == ENDPOINTS_OVER_CAPACITY_ANNOTATION).then_some(TRUNCATED)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::ENDPOINTS_LAST_CHANGE_TRIGGER_TIME_ANNOTATION;

    fn meta() -> ObjectMeta {
        ObjectMeta {
            name: Some("web".into()),
            namespace: Some("shop".into()),
            labels: BTreeMap::from([
                ("tier".to_owned(), "front".to_owned()),
                ("app".to_owned(), String::new()),
            ]),
            ..ObjectMeta::default()
        }
    }

    fn check(m: ObjectMeta, plain: bool) {
        let e = EndpointsMeta::of(m.clone());
        assert_eq!(matches!(e, EndpointsMeta::Plain(_)), plain, "{m:?}");
        assert_eq!(e.to_meta(), m);
        assert!(e.is(&m));
        assert_eq!(e.name(), m.name.as_deref());
        assert_eq!(e.namespace(), m.namespace.as_deref());
        let pairs: Vec<(&str, &str)> = e.label_pairs().collect();
        let want: Vec<(&str, &str)> = m
            .labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(pairs, want);
        for (k, v) in &m.labels {
            assert_eq!(e.labels().get(k), Some(v.as_str()));
        }
        assert_eq!(e.labels().get("absent"), None);
        assert_eq!(
            e.annotation(ENDPOINTS_OVER_CAPACITY_ANNOTATION),
            m.annotations
                .get(ENDPOINTS_OVER_CAPACITY_ANNOTATION)
                .map(String::as_str)
        );
    }

    // What the controller writes is plain; anything more is kept as
    // given; both read back as written and compare as written.
    #[test]
    fn metadata_reads_back_as_written() {
        check(meta(), true);
        check(
            ObjectMeta {
                labels: BTreeMap::new(),
                ..meta()
            },
            true,
        );
        let mut truncated = meta();
        truncated.annotations.insert(
            ENDPOINTS_OVER_CAPACITY_ANNOTATION.into(),
            "truncated".into(),
        );
        check(truncated.clone(), true);
        let mut odd = meta();
        odd.annotations
            .insert(ENDPOINTS_OVER_CAPACITY_ANNOTATION.into(), "yes".into());
        check(odd, false);
        let mut more = truncated;
        more.annotations.insert(
            ENDPOINTS_LAST_CHANGE_TRIGGER_TIME_ANNOTATION.into(),
            "t".into(),
        );
        check(more, false);
        check(
            ObjectMeta {
                uid: Some("u".into()),
                ..meta()
            },
            false,
        );
        check(
            ObjectMeta {
                name: None,
                ..meta()
            },
            false,
        );
        check(
            ObjectMeta {
                namespace: None,
                ..meta()
            },
            false,
        );
        check(
            ObjectMeta {
                resource_version: Some("7".into()),
                ..meta()
            },
            false,
        );
    }

    // A plain form is not another object's metadata.
    #[test]
    fn plain_metadata_tells_objects_apart() {
        let e = EndpointsMeta::of(meta());
        let mut other = meta();
        other.labels.insert("x".into(), "y".into());
        assert!(!e.is(&other));
        assert!(!e.is(&ObjectMeta {
            uid: Some("u".into()),
            ..meta()
        }));
        let mut annotated = meta();
        annotated.annotations.insert("a".into(), "b".into());
        assert!(!e.is(&annotated));
        assert!(!e.is(&ObjectMeta {
            name: Some("api".into()),
            ..meta()
        }));
    }

    // The plain form is much smaller than the object's metadata.
    #[test]
    fn the_plain_form_is_small() {
        assert!(std::mem::size_of::<EndpointsMeta>() <= 56);
    }
}
