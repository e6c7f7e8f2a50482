//! `kubectl expose`: the Service kubectl builds from a Pod, Deployment,
//! ReplicaSet or Service, with its flags and its errors (kubectl's
//! `pkg/cmd/expose` and `pkg/polymorphichelpers`).
//!
//! * **Name**: `--name`, else the exposed object's name cut to 63
//!   characters.
//! * **Selector**: `--selector` (`k=v,k2=v2` only), else the object's: a
//!   Pod's labels (none: "the pod has no labels and cannot be exposed"), a
//!   Service's selector ("the service has no pod selector set"), a
//!   Deployment's or ReplicaSet's `matchLabels` (none: "invalid
//!   deployment: no selectors, therefore cannot be exposed";
//!   `matchExpressions`: "couldn't convert expressions … to map-based
//!   selector format"), each prefixed with "couldn't retrieve selectors via
//!   --selector flag or introspection".
//! * **Ports**: `--port` (a comma-separated list is several ports), else
//!   the container ports of the pod (template), each number once, or the
//!   Service's ports; none is "couldn't find port via --port flag or
//!   introspection" (except for `--cluster-ip None`). Several ports are
//!   named `port-1`, `port-2`, …
//! * **Protocols**: `--protocol` for every port; else the protocol the
//!   object gives that port number (TCP when none), and a number with
//!   several protocols (53/TCP and 53/UDP) becomes one port per protocol,
//!   named `port-N-tcp`, `port-N-udp`.
//! * **Target port**: `--target-port` (number or name) for every port,
//!   else the port itself.
//! * `--type`, `--external-ip` (one address), `--cluster-ip` (`None` for
//!   headless), `--session-affinity` (`None` or `ClientIP`, else "unknown
//!   session affinity"), `--load-balancer-ip` (LoadBalancer only),
//!   `--labels` (else the object's labels).
//!
//! The result is the Service as kubectl submits it (no defaults, no
//! cluster IP); apply it with [`Cluster::apply`], or use
//! [`Cluster::expose_and_apply`].

use std::collections::BTreeMap;

use super::{Cluster, ClusterError};
use crate::ErrorKind;
use crate::api::{
    IntOrString, Kind, Object, ObjectKey, ObjectMeta, PodSpec, Protocol, Service, ServiceAffinity,
    ServicePort, ServiceSpec, ServiceType,
};
use crate::labels::LabelSelector;

/// The arguments of `kubectl expose KIND NAME [flags]`. Flags are kept as
/// the strings kubectl takes; `None` is a flag not given. What
/// [`Cluster::expose`] makes of them, as kubectl does:
///
/// * **Name**: `--name`, else the exposed object's name cut to 63
///   characters.
/// * **Selector**: `--selector` (`k=v,k2=v2` only), else the object's: a
///   Pod's labels (none: "the pod has no labels and cannot be exposed"), a
///   Service's selector ("the service has no pod selector set"), a
///   Deployment's or ReplicaSet's `matchLabels` (none: "invalid
///   deployment: no selectors, therefore cannot be exposed";
///   `matchExpressions`: "couldn't convert expressions … to map-based
///   selector format"), each prefixed with "couldn't retrieve selectors via
///   --selector flag or introspection".
/// * **Ports**: `--port` (a comma-separated list is several ports), else
///   the container ports of the pod (template), each number once, or the
///   Service's ports; none is "couldn't find port via --port flag or
///   introspection" (except for `--cluster-ip None`). Several ports are
///   named `port-1`, `port-2`, …
/// * **Protocols**: `--protocol` for every port; else the protocol the
///   object gives that port number (TCP when none), and a number with
///   several protocols (53/TCP and 53/UDP) becomes one port per protocol,
///   named `port-N-tcp`, `port-N-udp`.
/// * **Target port**: `--target-port` (number or name) for every port,
///   else the port itself.
/// * `--type`, `--external-ip` (one address), `--cluster-ip` (`None` for
///   headless), `--session-affinity` (`None` or `ClientIP`, else "unknown
///   session affinity"), `--load-balancer-ip` (LoadBalancer only),
///   `--labels` (else the object's labels).
///
/// ```
/// use svcroute::api::Kind;
/// use svcroute::cluster::ExposeRequest;
/// let r = ExposeRequest::new(Kind::Deployment, "shop", "web").port("80").target_port("8080");
/// assert_eq!(r.port.as_deref(), Some("80"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExposeRequest {
    /// The kind exposed: Pod, Service, Deployment or ReplicaSet.
    pub kind: Option<Kind>,
    /// The namespace of the object (and of the Service); `None` = `default`.
    pub namespace: Option<String>,
    /// The object's name.
    pub name: String,
    /// `--port`.
    pub port: Option<String>,
    /// `--target-port`.
    pub target_port: Option<String>,
    /// `--type` (`ClusterIP`, `NodePort`, `LoadBalancer`, `ExternalName`).
    pub type_: Option<String>,
    /// `--name`: the Service's name.
    pub service_name: Option<String>,
    /// `--selector` (`k=v,…`).
    pub selector: Option<String>,
    /// `--protocol`.
    pub protocol: Option<String>,
    /// `--external-ip`.
    pub external_ip: Option<String>,
    /// `--cluster-ip` (`None` for a headless Service).
    pub cluster_ip: Option<String>,
    /// `--session-affinity` (`None`, `ClientIP`).
    pub session_affinity: Option<String>,
    /// `--labels` / `-l` (`k=v,…`).
    pub labels: Option<String>,
    /// `--load-balancer-ip`.
    pub load_balancer_ip: Option<String>,
}

macro_rules! setters {
    ($($field:ident),*) => {$(
        #[doc = concat!("Sets `", stringify!($field), "` (the flag of that name).")]
        ///
        /// ```
        #[doc = concat!("let r = svcroute::cluster::ExposeRequest::default().", stringify!($field), "(\"x\");")]
        #[doc = concat!("assert_eq!(r.", stringify!($field), ".as_deref(), Some(\"x\"));")]
        /// ```
        pub fn $field(mut self, value: impl Into<String>) -> Self {
            self.$field = Some(value.into());
            self
        }
    )*};
}

impl ExposeRequest {
    /// `kubectl expose KIND NAME -n NAMESPACE` without flags.
    ///
    /// ```
    /// use svcroute::api::Kind;
    /// let r = svcroute::cluster::ExposeRequest::new(Kind::Pod, "default", "web-1");
    /// assert_eq!(r.kind, Some(Kind::Pod));
    /// ```
    pub fn new(kind: Kind, namespace: &str, name: &str) -> ExposeRequest {
        ExposeRequest {
            kind: Some(kind),
            namespace: Some(namespace.to_owned()),
            name: name.to_owned(),
            ..ExposeRequest::default()
        }
    }

    setters!(
        port,
        target_port,
        type_,
        service_name,
        selector,
        protocol,
        external_ip,
        cluster_ip,
        session_affinity,
        labels,
        load_balancer_ip
    );
}

/// Why `expose` failed, in kubectl's words.
///
/// ```
/// use svcroute::api::Kind;
/// use svcroute::cluster::{Cluster, ClusterConfig, ExposeRequest};
/// let c = Cluster::new(ClusterConfig::default())?;
/// let err = c.expose(&ExposeRequest::new(Kind::Pod, "default", "nope")).unwrap_err();
/// assert_eq!(err.to_string(), "pods \"nope\" not found");
/// assert_eq!(err.kind(), svcroute::ErrorKind::NotFound);
/// # Ok::<(), svcroute::cluster::ClusterError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExposeError {
    /// The object to expose does not exist.
    #[error("{resource} {name:?} not found")]
    NotFound {
        /// kubectl's resource name (`pods`, `deployments.apps`, …).
        resource: String,
        /// The object's name.
        name: String,
    },
    /// Not a kind kubectl can expose.
    #[error("cannot expose a {0}")]
    CannotExpose(String),
    /// No selector from the flag or the object.
    #[error("couldn't retrieve selectors via --selector flag or introspection: {0}")]
    Selector(String),
    /// No port from the flag or the object.
    #[error("couldn't find port via --port flag or introspection")]
    NoPort,
    /// A flag's value is malformed (`--port`, `--selector`, `--labels`,
    /// `--session-affinity`).
    #[error("{0}")]
    Flag(String),
    /// The API server refuses the Service (`--type`, `--protocol`).
    #[error("The Service {name:?} is invalid: {field}: {message}")]
    Invalid {
        /// The Service's name.
        name: String,
        /// The field (`spec.type`, `spec.ports[0].protocol`).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A Service of that name exists ([`Cluster::expose_and_apply`]).
    #[error("services {0:?} already exists")]
    AlreadyExists(String),
    /// Applying the Service failed ([`Cluster::expose_and_apply`]).
    #[error(transparent)]
    Apply(#[from] ClusterError),
}

impl ExposeError {
    /// The crate-wide classification.
    ///
    /// ```
    /// assert_eq!(svcroute::cluster::ExposeError::NoPort.kind(), svcroute::ErrorKind::Invalid);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        match self {
            ExposeError::NotFound { .. } => ErrorKind::NotFound,
            ExposeError::CannotExpose(_) => ErrorKind::Unsupported,
            ExposeError::AlreadyExists(_) => ErrorKind::Conflict,
            ExposeError::Apply(e) => e.kind(),
            _ => ErrorKind::Invalid,
        }
    }
}

/// kubectl's `parseLabels`: `k=v` pairs separated by commas.
fn parse_labels(spec: &str) -> Result<BTreeMap<String, String>, ExposeError> {
    if spec.is_empty() {
        return Err(ExposeError::Flag("no label spec passed".into()));
    }
    let mut out = BTreeMap::new();
    for item in spec.split(',') {
        let parts: Vec<&str> = item.split('=').collect();
        if parts.len() != 2 {
            return Err(ExposeError::Flag(format!("unexpected label spec: {item}")));
        }
        if parts[0].is_empty() {
            return Err(ExposeError::Flag("unexpected empty label key".into()));
        }
        out.insert(parts[0].to_owned(), parts[1].to_owned());
    }
    Ok(out)
}

/// The exposed object's selector (`mapBasedSelectorForObject`).
fn selector_of(object: &Object) -> Result<BTreeMap<String, String>, String> {
    let from_label_selector = |what: &str, s: &Option<LabelSelector>| {
        let labels = s
            .as_ref()
            .and_then(|s| s.match_labels.clone())
            .unwrap_or_default();
        if labels.is_empty() {
            return Err(format!(
                "invalid {what}: no selectors, therefore cannot be exposed"
            ));
        }
        if let Some(exprs) = s
            .as_ref()
            .and_then(|s| s.match_expressions.as_ref())
            .filter(|e| !e.is_empty())
        {
            let shown: Vec<String> = exprs
                .iter()
                .map(|e| {
                    format!(
                        "{{Key:{} Operator:{} Values:[{}]}}",
                        e.key,
                        e.operator,
                        e.values.clone().unwrap_or_default().join(" ")
                    )
                })
                .collect();
            return Err(format!(
                "couldn't convert expressions - \"[{}]\" to map-based selector format",
                shown.join(" ")
            ));
        }
        Ok(labels)
    };
    match object {
        Object::Pod(p) if p.metadata.labels.is_empty() => {
            Err("the pod has no labels and cannot be exposed".into())
        }
        Object::Pod(p) => Ok(p.metadata.labels.clone()),
        Object::Service(s) => s
            .spec
            .selector
            .clone()
            .ok_or_else(|| "the service has no pod selector set".to_owned()),
        Object::Deployment(d) => from_label_selector("deployment", &d.spec.selector),
        Object::ReplicaSet(r) => from_label_selector("replicaset", &r.spec.selector),
        other => Err(format!(
            "cannot extract pod selector from {}",
            other.kind().as_str()
        )),
    }
}

/// Container ports of a pod spec: (number, protocols in order).
fn pod_ports(spec: &PodSpec) -> Vec<(i32, Vec<Protocol>)> {
    let mut out: Vec<(i32, Vec<Protocol>)> = Vec::new();
    for port in spec.containers.iter().flat_map(|c| &c.ports) {
        let protocol = port.protocol.unwrap_or(Protocol::TCP);
        match out.iter_mut().find(|(n, _)| *n == port.container_port) {
            Some((_, protocols)) => protocols.push(protocol),
            None => out.push((port.container_port, vec![protocol])),
        }
    }
    out
}

/// The exposed object's ports and their protocols (`portsForObject`,
/// `multiProtocolsForObject`).
fn ports_of(object: &Object) -> Vec<(i32, Vec<Protocol>)> {
    match object {
        Object::Pod(p) => pod_ports(&p.spec),
        Object::Deployment(d) => pod_ports(&d.spec.template.spec),
        Object::ReplicaSet(r) => pod_ports(&r.spec.template.spec),
        Object::Service(s) => {
            let mut out: Vec<(i32, Vec<Protocol>)> = Vec::new();
            for p in &s.spec.ports {
                let protocol = p.protocol.unwrap_or(Protocol::TCP);
                match out.iter_mut().find(|(n, _)| *n == p.port) {
                    Some((_, protocols)) => protocols.push(protocol),
                    None => out.push((p.port, vec![protocol])),
                }
            }
            out
        }
        _ => Vec::new(),
    }
}

fn resource_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Pod => "pods",
        Kind::Service => "services",
        Kind::Deployment => "deployments.apps",
        Kind::ReplicaSet => "replicasets.apps",
        _ => "objects",
    }
}

impl Cluster {
    /// The Service `kubectl expose` would create for `request` (see the
    /// rules on [`ExposeRequest`]). Nothing is changed.
    ///
    /// ```
    /// use svcroute::api::{Kind, Object};
    /// use svcroute::cluster::{Cluster, ClusterConfig, ExposeRequest};
    /// let mut c = Cluster::new(ClusterConfig::default())?;
    /// let deploy: Object = serde_json::from_str(r#"{"apiVersion": "apps/v1", "kind": "Deployment",
    ///   "metadata": {"name": "web", "labels": {"app": "web"}},
    ///   "spec": {"selector": {"matchLabels": {"app": "web"}},
    ///     "template": {"metadata": {"labels": {"app": "web"}},
    ///       "spec": {"containers": [{"name": "nginx", "image": "nginx",
    ///                                "ports": [{"containerPort": 80}, {"containerPort": 443}]}]}}}}"#).unwrap();
    /// c.apply(deploy)?;
    /// let svc = c.expose(&ExposeRequest::new(Kind::Deployment, "default", "web").type_("NodePort")).unwrap();
    /// let names: Vec<&str> = svc.spec.ports.iter().map(|p| p.name.as_str()).collect();
    /// assert_eq!(names, ["port-1", "port-2"]);
    /// assert_eq!(svc.spec.selector.unwrap()["app"], "web");
    /// # Ok::<(), svcroute::cluster::ClusterError>(())
    /// ```
    pub fn expose(&self, request: &ExposeRequest) -> Result<Service, ExposeError> {
        let kind = request.kind.unwrap_or(Kind::Service);
        if !matches!(
            kind,
            Kind::Pod | Kind::Service | Kind::Deployment | Kind::ReplicaSet
        ) {
            let group = match kind.api_version().split_once('/') {
                Some((group, _)) => format!("{}.{group}", kind.as_str()),
                None => kind.as_str().to_owned(),
            };
            return Err(ExposeError::CannotExpose(group));
        }
        let namespace = request
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "default".to_owned());
        let key = ObjectKey {
            kind,
            namespace: Some(namespace.clone()),
            name: request.name.clone(),
        };
        let Some(object) = self.get(&key) else {
            return Err(ExposeError::NotFound {
                resource: resource_name(kind).to_owned(),
                name: request.name.clone(),
            });
        };
        let default_name: String = request.name.chars().take(63).collect();
        let selector = match request.selector.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => s.to_owned(),
            None => {
                let map = selector_of(&object).map_err(ExposeError::Selector)?;
                map.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            }
        };
        let headless = request.cluster_ip.as_deref() == Some("None");
        let introspected = ports_of(&object);
        let port_string = match request.port.as_deref().filter(|p| !p.is_empty()) {
            Some(p) => p.to_owned(),
            None => {
                if introspected.is_empty() && !headless {
                    return Err(ExposeError::NoPort);
                }
                introspected
                    .iter()
                    .map(|(n, _)| n.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            }
        };
        // `createService`.
        if selector.is_empty() {
            return Err(ExposeError::Flag("selector must be specified".into()));
        }
        let selector = parse_labels(&selector)?;
        let labels = match request.labels.as_deref().filter(|l| !l.is_empty()) {
            Some(l) => parse_labels(l)?,
            None => object.metadata().labels.clone(),
        };
        let name = request
            .service_name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or(default_name);
        if name.is_empty() {
            return Err(ExposeError::Flag("name must be specified".into()));
        }
        let invalid = |field: String, message: String| ExposeError::Invalid {
            name: name.clone(),
            field,
            message,
        };
        let parse_protocol = |text: &str, field: String| -> Result<Protocol, ExposeError> {
            text.parse::<Protocol>().map_err(|_| {
                invalid(
                    field,
                    format!(
                        "Unsupported value: {text:?}: supported values: \"SCTP\", \"TCP\", \"UDP\""
                    ),
                )
            })
        };
        let flag_protocol = request.protocol.clone().filter(|p| !p.is_empty());
        let mut ports: Vec<ServicePort> = Vec::new();
        if !port_string.is_empty() {
            let items: Vec<&str> = port_string.split(',').collect();
            for (i, item) in items.iter().enumerate() {
                let port: i32 = item.parse().map_err(|_| {
                    ExposeError::Flag(format!("strconv.Atoi: parsing {item:?}: invalid syntax"))
                })?;
                let port_name = if items.len() > 1 {
                    format!("port-{}", i + 1)
                } else {
                    String::new()
                };
                let field = format!("spec.ports[{}].protocol", ports.len());
                let protocol = match &flag_protocol {
                    Some(p) => parse_protocol(p, field)?,
                    None => match introspected.iter().find(|(n, _)| n == &port) {
                        Some((_, protocols)) if protocols.len() > 1 => {
                            for p in protocols {
                                ports.push(ServicePort {
                                    name: format!(
                                        "port-{}-{}",
                                        i + 1,
                                        p.as_str().to_ascii_lowercase()
                                    ),
                                    port,
                                    protocol: Some(*p),
                                    ..ServicePort::default()
                                });
                            }
                            continue;
                        }
                        Some((_, protocols)) => protocols[0],
                        None => Protocol::TCP,
                    },
                };
                ports.push(ServicePort {
                    name: port_name,
                    port,
                    protocol: Some(protocol),
                    ..ServicePort::default()
                });
            }
        }
        let target = request
            .target_port
            .as_deref()
            .filter(|t| !t.is_empty())
            .map(|t| match t.parse::<i32>() {
                Ok(n) => IntOrString::Int(n),
                Err(_) => IntOrString::String(t.to_owned()),
            });
        for p in &mut ports {
            p.target_port = Some(target.clone().unwrap_or(IntOrString::Int(p.port)));
        }
        let mut spec = ServiceSpec {
            selector: Some(selector),
            ports,
            ..ServiceSpec::default()
        };
        if let Some(ip) = request.external_ip.as_deref().filter(|s| !s.is_empty()) {
            spec.external_ips = vec![ip.to_owned()];
        }
        if let Some(t) = request.type_.as_deref().filter(|s| !s.is_empty()) {
            let ty = t.parse::<ServiceType>().map_err(|_| {
                invalid(
                    "spec.type".into(),
                    format!(
                        "Unsupported value: {t:?}: supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\""
                    ),
                )
            })?;
            spec.type_ = Some(ty);
        }
        if spec.type_ == Some(ServiceType::LoadBalancer) {
            spec.load_balancer_ip = request.load_balancer_ip.clone().filter(|s| !s.is_empty());
        }
        if let Some(a) = request
            .session_affinity
            .as_deref()
            .filter(|s| !s.is_empty())
        {
            spec.session_affinity = Some(match a {
                "None" => ServiceAffinity::None,
                "ClientIP" => ServiceAffinity::ClientIP,
                other => {
                    return Err(ExposeError::Flag(format!(
                        "unknown session affinity: {other}"
                    )));
                }
            });
        }
        if let Some(ip) = request.cluster_ip.as_deref().filter(|s| !s.is_empty()) {
            spec.cluster_ip = Some(ip.to_owned());
        }
        Ok(Service {
            metadata: ObjectMeta {
                name: Some(name),
                namespace: Some(namespace),
                labels,
                ..ObjectMeta::default()
            },
            spec,
            ..Service::default()
        })
    }

    /// [`expose`](Self::expose), then applies the Service (admission
    /// allocates its cluster IP and node ports); returns it as stored.
    ///
    /// ```
    /// use svcroute::api::{Kind, Object};
    /// use svcroute::cluster::{Cluster, ClusterConfig, ExposeRequest};
    /// let mut c = Cluster::new(ClusterConfig::default())?;
    /// let pod: Object = serde_json::from_str(r#"{"apiVersion": "v1", "kind": "Pod",
    ///   "metadata": {"name": "web", "labels": {"run": "web"}},
    ///   "spec": {"containers": [{"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]}]}}"#).unwrap();
    /// c.apply(pod)?;
    /// let svc = c.expose_and_apply(&ExposeRequest::new(Kind::Pod, "default", "web")).unwrap();
    /// assert!(svc.spec.cluster_ip.is_some());
    /// # Ok::<(), svcroute::cluster::ClusterError>(())
    /// ```
    pub fn expose_and_apply(&mut self, request: &ExposeRequest) -> Result<Service, ExposeError> {
        let svc = self.expose(request)?;
        let key = ObjectKey {
            kind: Kind::Service,
            namespace: svc.metadata.namespace.clone(),
            name: svc.metadata.name.clone().unwrap_or_default(),
        };
        if self.get(&key).is_some() {
            return Err(ExposeError::AlreadyExists(key.name));
        }
        self.apply(Object::Service(svc))?;
        match self.get(&key).as_deref() {
            Some(Object::Service(s)) => Ok(s.clone()),
            _ => Err(ExposeError::NotFound {
                resource: "services".into(),
                name: key.name,
            }),
        }
    }
}
