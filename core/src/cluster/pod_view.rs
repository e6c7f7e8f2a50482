//! The view the controllers read stored pods through, in either stored
//! form (`stored_pod.rs`): [`PodView`] borrows a Pod kept as given, or a
//! compact pod's shape and record, and builds nothing.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::api::{
    ConditionStatus, Container, DNSPolicy, HostIP, OwnerReference, Pod, PodDNSConfig, PodIP,
    PodPhase, PodStatus,
};

use super::intern::Interner;
use super::stored_pod::PodRecord;

/// A pod's uid as text: borrowed from a Pod kept as given, or unpacked
/// from a record. Reads as `str`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum UidText<'a> {
    /// A uid as written.
    Given(&'a str),
    /// A packed uid's text.
    Packed([u8; 36]),
}

impl std::ops::Deref for UidText<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            UidText::Given(s) => s,
            UidText::Packed(b) => std::str::from_utf8(b).unwrap_or_default(),
        }
    }
}

impl PartialEq for UidText<'_> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for UidText<'_> {}

impl PartialOrd for UidText<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for UidText<'_> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (**self).cmp(&**other)
    }
}

/// What a view of a compact pod reads from its record.
#[derive(Debug, Clone, Copy)]
struct Compact<'a> {
    record: &'a PodRecord,
    /// The record's IP text (read once: the text is checked as it is).
    ip: Option<&'a str>,
    node: Option<&'a str>,
    host_ip: Option<&'a str>,
}

/// A stored pod as the controllers read it, in either stored form,
/// without building it: accessors for what the EndpointSlice and
/// Endpoints controllers, the label index and the write path read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PodView<'a> {
    /// The Pod as given, or the shape of a compact one.
    pod: &'a Pod,
    name: &'a str,
    compact: Option<Compact<'a>>,
}

/// The IPs of `status.podIPs`, in order.
#[derive(Debug, Clone)]
pub(crate) enum PodIps<'a> {
    /// A Pod kept as given.
    Given(std::slice::Iter<'a, PodIP>),
    /// A compact pod's IP, if any.
    One(Option<&'a str>),
}

impl<'a> Iterator for PodIps<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        match self {
            PodIps::Given(it) => it.next().map(|p| p.ip.as_str()),
            PodIps::One(ip) => ip.take(),
        }
    }
}

impl<'a> PodView<'a> {
    /// The view of a Pod kept as given (or of any Pod at hand).
    pub(crate) fn given(pod: &'a Pod) -> PodView<'a> {
        PodView {
            pod,
            name: pod.metadata.name.as_deref().unwrap_or_default(),
            compact: None,
        }
    }

    /// The view of a compact pod's parts, before it is stored (`record`'s
    /// symbols are of `strings`).
    pub(crate) fn of_parts(
        shape: &'a Pod,
        record: &'a PodRecord,
        name: &'a str,
        strings: &'a Interner,
    ) -> PodView<'a> {
        PodView {
            pod: shape,
            name,
            compact: Some(Compact {
                record,
                ip: record.ip(),
                node: record.node().map(|n| strings.resolve(n)),
                host_ip: record.host_ip().map(|h| strings.resolve(h)),
            }),
        }
    }

    /// `metadata.name` (empty when absent).
    pub(crate) fn name(&self) -> &'a str {
        self.name
    }

    /// `metadata.namespace`.
    pub(crate) fn namespace(&self) -> &'a Option<String> {
        &self.pod.metadata.namespace
    }

    /// `metadata.labels`.
    pub(crate) fn labels(&self) -> &'a BTreeMap<String, String> {
        &self.pod.metadata.labels
    }

    /// `metadata.uid`.
    pub(crate) fn uid(&self) -> Option<UidText<'a>> {
        match self.compact {
            None => self.pod.metadata.uid.as_deref().map(UidText::Given),
            Some(c) => c.record.uid().map(UidText::Packed),
        }
    }

    /// `spec.nodeName`.
    pub(crate) fn node_name(&self) -> Option<&'a str> {
        match self.compact {
            None => self.pod.spec.node_name.as_deref(),
            Some(c) => c.node,
        }
    }

    /// `status.podIP`.
    pub(crate) fn pod_ip(&self) -> Option<&'a str> {
        match self.compact {
            None => self.pod.status.pod_ip.as_deref(),
            Some(c) => c.ip,
        }
    }

    /// `status.podIPs`, in order.
    pub(crate) fn pod_ips(&self) -> PodIps<'a> {
        match self.compact {
            None => PodIps::Given(self.pod.status.pod_ips.iter()),
            Some(c) => PodIps::One(c.ip),
        }
    }

    /// Is `status.podIPs` empty?
    pub(crate) fn pod_ips_empty(&self) -> bool {
        self.pod_ips().next().is_none()
    }

    /// The phase, absent read as `Pending`.
    pub(crate) fn phase(&self) -> PodPhase {
        self.pod.phase()
    }

    /// Ready iff the `Ready` condition is `True` (absent = not ready).
    pub(crate) fn is_ready(&self) -> bool {
        match self.compact {
            None => self.pod.is_ready(),
            Some(c) => c.record.ready() == Some(ConditionStatus::True),
        }
    }

    /// Terminating iff `metadata.deletionTimestamp` is set.
    pub(crate) fn is_terminating(&self) -> bool {
        self.pod.is_terminating()
    }

    /// `spec.hostname`.
    pub(crate) fn hostname(&self) -> Option<&'a str> {
        self.pod.spec.hostname.as_deref()
    }

    /// `spec.subdomain`.
    pub(crate) fn subdomain(&self) -> Option<&'a str> {
        self.pod.spec.subdomain.as_deref()
    }

    /// `metadata.ownerReferences`.
    pub(crate) fn owner_references(&self) -> &'a [OwnerReference] {
        &self.pod.metadata.owner_references
    }

    /// Is `status` empty (as a manifest submits a pod)?
    pub(crate) fn status_is_default(&self) -> bool {
        self.pod.status == PodStatus::default()
            && self
                .compact
                .is_none_or(|c| c.ip.is_none() && c.host_ip.is_none())
    }

    /// `spec.hostNetwork`.
    pub(crate) fn host_network(&self) -> bool {
        self.pod.spec.host_network
    }

    /// `spec.dnsPolicy`.
    pub(crate) fn dns_policy(&self) -> Option<DNSPolicy> {
        self.pod.spec.dns_policy
    }

    /// `spec.dnsConfig`.
    pub(crate) fn dns_config(&self) -> Option<&'a PodDNSConfig> {
        self.pod.spec.dns_config.as_ref()
    }

    /// `spec.containers`.
    pub(crate) fn containers(&self) -> &'a [Container] {
        &self.pod.spec.containers
    }

    /// `spec.initContainers`.
    pub(crate) fn init_containers(&self) -> &'a [Container] {
        &self.pod.spec.init_containers
    }

    /// The Pod itself, borrowed when kept as given, else built.
    pub(crate) fn to_pod(self) -> Cow<'a, Pod> {
        match self.compact {
            None => Cow::Borrowed(self.pod),
            Some(c) => {
                let mut pod = self.pod.clone();
                let r = c.record;
                pod.metadata.name = Some(self.name.to_owned());
                pod.metadata.uid = self.uid().map(|u| u.to_string());
                pod.spec.node_name = c.node.map(str::to_owned);
                if let Some(ip) = c.ip {
                    pod.status.pod_ip = Some(ip.to_owned());
                    pod.status.pod_ips = vec![PodIP { ip: ip.to_owned() }];
                }
                if let Some(h) = c.host_ip {
                    pod.status.host_ip = Some(h.to_owned());
                    pod.status.host_ips = vec![HostIP { ip: h.to_owned() }];
                }
                for (type_, status) in r.conditions() {
                    if let Some(status) = status
                        && let Some(c) = pod.status.conditions.iter_mut().find(|c| c.type_ == type_)
                    {
                        c.status = status;
                    }
                }
                Cow::Owned(pod)
            }
        }
    }

    /// The Pod as given, or the shape with the record (for comparing two
    /// stored forms without building either).
    pub(crate) fn parts(&self) -> (&'a Pod, Option<&'a PodRecord>) {
        (self.pod, self.compact.map(|c| c.record))
    }
}
