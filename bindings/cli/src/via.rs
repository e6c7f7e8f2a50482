//! The two paths around kube-proxy that tutorials use, answered as a
//! [`Decision`] in the same vocabulary as a kube-proxy route:
//!
//! * `kubectl port-forward svc/NAME L:PORT`: kubectl resolves the Service
//!   to one pod on its own (the most active pod of the selector: scheduled,
//!   Running, ready, then by name here) and the service port to that pod's
//!   container port; the connection goes through the API server and the
//!   kubelet straight to `podIP:targetPort`. No kube-proxy, no load
//!   balancing, no session affinity, and a pod that is not Running fails.
//! * `kubectl proxy` and `/api/v1/namespaces/NS/services/NAME:PORT/proxy/`:
//!   the API server picks one ready endpoint of that port at random and
//!   connects to it from the control plane; without a ready endpoint it
//!   answers 503 "no endpoints available for service".

use std::net::{IpAddr, SocketAddr};

use svcroute::ErrorKind;
use svcroute::api::{IntOrString, Kind, Object, ObjectKey, Pod, PodPhase, Service, ServiceType};
use svcroute::balance::Rng;
use svcroute::cluster::Cluster;
use svcroute::dataplane::{Decision, Hop, HttpAnswer, Outcome};

use crate::exit::CliError;

fn decision(outcome: Outcome) -> Decision {
    Decision {
        outcome,
        endpoints: Vec::new(),
        chosen: None,
        masquerade: None,
        packet_fate: None,
        dns_answers: Vec::new(),
        cname: None,
        http: None,
        service: None,
        render: None,
        ingress_match: None,
        route_match: None,
        tls: None,
        trace: Vec::new(),
    }
}

fn hop(d: &mut Decision, detail: impl Into<String>) {
    d.trace.push(Hop {
        rule: None,
        detail: detail.into(),
    });
}

/// `NAME:PORT` (or `svc/NAME:PORT`) of a Service of `namespace`.
fn service<'c>(
    cluster: &'c Cluster,
    namespace: &str,
    to: &str,
) -> Result<(std::borrow::Cow<'c, Service>, String), CliError> {
    use std::borrow::Cow;
    let to = to
        .strip_prefix("svc/")
        .or_else(|| to.strip_prefix("service/"))
        .unwrap_or(to);
    let (name, port) = to.rsplit_once(':').ok_or_else(|| {
        CliError::usage(format!(
            "--to {to:?}: with --via, give the Service as NAME:PORT (a Service of -n {namespace})"
        ))
    })?;
    let key = ObjectKey {
        kind: Kind::Service,
        namespace: Some(namespace.to_owned()),
        name: name.to_owned(),
    };
    match cluster.get(&key) {
        Some(Cow::Borrowed(Object::Service(s))) => Ok((Cow::Borrowed(s), port.to_owned())),
        Some(Cow::Owned(Object::Service(s))) => Ok((Cow::Owned(s), port.to_owned())),
        _ => Err(CliError::of_kind(
            ErrorKind::NotFound,
            format!("services \"{name}\" not found in namespace \"{namespace}\""),
        )),
    }
}

/// kubectl's ordering of candidate pods, most active first.
fn activity(p: &Pod) -> (bool, u8, bool) {
    let phase = match p.phase() {
        PodPhase::Running => 2,
        PodPhase::Unknown => 1,
        _ => 0,
    };
    (p.spec.node_name.is_some(), phase, p.is_ready())
}

/// `kubectl port-forward svc/NAME LOCAL:PORT`.
///
/// ```
/// let c = svcroute::cluster::Cluster::new(Default::default()).unwrap();
/// let d = svcroute_cli::via::port_forward(&c, "default", "kubernetes:443").unwrap();
/// assert_eq!(d.outcome, svcroute::dataplane::Outcome::Reject); // a selector-less Service
/// ```
pub fn port_forward(cluster: &Cluster, namespace: &str, to: &str) -> Result<Decision, CliError> {
    let (svc, port) = service(cluster, namespace, to)?;
    let name = svc.metadata.name.clone().unwrap_or_default();
    let mut d = decision(Outcome::Reject);
    d.service = Some(format!("{namespace}/{name}"));
    hop(
        &mut d,
        format!("kubectl port-forward svc/{name}: kubectl resolves the Service to one pod itself"),
    );
    let number: i32 = port.parse().map_err(|_| {
        CliError::usage(format!(
            "--to: with --via port-forward the port is the Service's port number, not {port:?}"
        ))
    })?;
    let Some(sp) = svc.spec.ports.iter().find(|p| p.port == number) else {
        return Err(CliError::of_kind(
            ErrorKind::NotFound,
            format!("Service {name} does not have a service port {number}"),
        ));
    };
    let Some(selector) = svc.spec.selector.as_ref().filter(|s| !s.is_empty()) else {
        hop(
            &mut d,
            "the Service has no selector: kubectl finds no pod and gives up (\"invalid service: no selector\")",
        );
        return Ok(d);
    };
    let sel = svcroute::labels::service_selector(Some(selector));
    let listed = cluster.list(Kind::Pod, Some(namespace), &sel);
    let mut pods: Vec<&Pod> = listed
        .iter()
        .filter_map(|o| match o.as_ref() {
            Object::Pod(p) => Some(p),
            _ => None,
        })
        .collect();
    pods.sort_by(|a, b| {
        activity(b)
            .cmp(&activity(a))
            .then_with(|| a.metadata.name.cmp(&b.metadata.name))
    });
    let Some(pod) = pods.first() else {
        hop(
            &mut d,
            format!(
                "no pod of namespace {namespace} matches {sel}: kubectl waits for one, then times out"
            ),
        );
        return Ok(d);
    };
    let pod_name = pod.metadata.name.clone().unwrap_or_default();
    hop(
        &mut d,
        format!(
            "kubectl picks pod {pod_name} (of {} matching {sel}: scheduled, Running and ready first)",
            pods.len()
        ),
    );
    if pod.phase() != PodPhase::Running {
        hop(
            &mut d,
            format!(
                "unable to forward port because pod is not running. Current status={}",
                pod.phase().as_str()
            ),
        );
        return Ok(d);
    }
    let target = match &sp.target_port {
        None => sp.port,
        Some(IntOrString::Int(0)) => sp.port,
        Some(IntOrString::Int(n)) => *n,
        Some(IntOrString::String(port_name)) => {
            let found = pod
                .spec
                .containers
                .iter()
                .flat_map(|c| &c.ports)
                .find(|p| p.name.as_deref() == Some(port_name.as_str()));
            match found {
                Some(p) => p.container_port,
                None => {
                    hop(
                        &mut d,
                        format!("pod {pod_name} has no container port named {port_name}"),
                    );
                    return Ok(d);
                }
            }
        }
    };
    hop(
        &mut d,
        format!(
            "service port {number} -> targetPort {} -> container port {target}",
            sp.target_port
                .as_ref()
                .map_or_else(|| number.to_string(), ToString::to_string)
        ),
    );
    let ip: Option<IpAddr> = pod
        .status
        .pod_ips
        .first()
        .map(|p| p.ip.as_str())
        .or(pod.status.pod_ip.as_deref())
        .and_then(|ip| ip.parse().ok());
    let (Some(ip), Ok(target)) = (ip, u16::try_from(target)) else {
        hop(&mut d, format!("pod {pod_name} has no IP"));
        return Ok(d);
    };
    let chosen = SocketAddr::new(ip, target);
    hop(
        &mut d,
        format!(
            "API server -> kubelet on {} -> {chosen} inside the pod's network namespace; \
             kube-proxy, the cluster IP, load balancing and session affinity are not involved",
            pod.spec.node_name.as_deref().unwrap_or("?")
        ),
    );
    d.outcome = Outcome::Forward;
    d.endpoints = vec![chosen];
    d.chosen = Some(chosen);
    Ok(d)
}

/// `kubectl proxy`, then `/api/v1/namespaces/NS/services/NAME:PORT/proxy/`.
///
/// ```
/// let c = svcroute::cluster::Cluster::new(Default::default()).unwrap();
/// let d = svcroute_cli::via::apiserver_proxy(&c, "default", "kubernetes:443", 0).unwrap();
/// assert_eq!(d.http.unwrap().status, 503); // no endpoints
/// ```
pub fn apiserver_proxy(
    cluster: &Cluster,
    namespace: &str,
    to: &str,
    seed: u64,
) -> Result<Decision, CliError> {
    let (svc, port) = service(cluster, namespace, to)?;
    let name = svc.metadata.name.clone().unwrap_or_default();
    let mut d = decision(Outcome::Http);
    d.service = Some(format!("{namespace}/{name}"));
    hop(
        &mut d,
        format!(
            "kubectl proxy: GET /api/v1/namespaces/{namespace}/services/{name}:{port}/proxy/ to the API server"
        ),
    );
    if svc.service_type() == ServiceType::ExternalName {
        let target = svc.spec.external_name.clone().unwrap_or_default();
        hop(
            &mut d,
            format!("ExternalName: the API server connects to {target}:{port}"),
        );
        d.outcome = Outcome::Cname;
        d.cname = Some(target);
        return Ok(d);
    }
    let Some(sp) = svc
        .spec
        .ports
        .iter()
        .find(|p| p.name == port || p.port.to_string() == port)
    else {
        return Err(CliError::of_kind(
            ErrorKind::NotFound,
            format!("no service port {port:?} found for service \"{name}\""),
        ));
    };
    let mut ready: Vec<SocketAddr> = Vec::new();
    for slice in cluster.endpoint_slices(namespace, &name) {
        let Some(p) = slice
            .ports
            .iter()
            .find(|p| p.name.as_deref().unwrap_or("") == sp.name)
            .and_then(|p| p.port)
            .and_then(|p| u16::try_from(p).ok())
        else {
            continue;
        };
        for e in &slice.endpoints {
            if e.conditions.ready == Some(false) {
                continue;
            }
            if let Some(ip) = e.addresses.first().and_then(|a| a.parse::<IpAddr>().ok()) {
                let a = SocketAddr::new(ip, p);
                if !ready.contains(&a) {
                    ready.push(a);
                }
            }
        }
    }
    ready.sort_by_key(ToString::to_string);
    if ready.is_empty() {
        hop(
            &mut d,
            format!("no ready endpoint: 503 no endpoints available for service \"{name}\""),
        );
        d.http = Some(HttpAnswer {
            status: 503,
            body: String::new(),
        });
        return Ok(d);
    }
    let mut rng = Rng::new(seed);
    let chosen = ready[usize::try_from(rng.below(ready.len() as u64)).unwrap_or(0)];
    hop(
        &mut d,
        format!(
            "the API server picks one of {} ready endpoint(s) at random and connects to {chosen} \
             itself; kube-proxy and session affinity are not involved",
            ready.len()
        ),
    );
    d.outcome = Outcome::Forward;
    d.endpoints = ready;
    d.chosen = Some(chosen);
    Ok(d)
}
