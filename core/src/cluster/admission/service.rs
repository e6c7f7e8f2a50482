//! Service admission: defaulting, IP-family initialisation, cluster IP,
//! node port and health-check port allocation, validation.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::error::{AdmissionError, FieldError};
use super::validate::{
    cluster_ip, cluster_ips, externally_accessible, family_policy_problems, needs_health_check,
    parse_ip, validate_cluster_ips_related, validate_service,
};
use crate::api::{
    ClientIPConfig, IPFamily, IPFamilyPolicy, IntOrString, ObjectMeta, Protocol, Service,
    ServiceAffinity, ServiceExternalTrafficPolicy, ServiceInternalTrafficPolicy, ServicePort,
    ServiceSpec, ServiceStatus, ServiceType, SessionAffinityConfig,
};
use crate::balance::Rng;
use crate::ipam::{
    DualStackIpAllocator, IpFamily, IpNet, IpRequest, IpamError, NodePortAllocator, PortRange,
    ServicePortRequest,
};

/// The default `sessionAffinityConfig.clientIP.timeoutSeconds` (ALLOC-17).
pub const DEFAULT_CLIENT_IP_TIMEOUT_SECONDS: i32 = 10800;

/// The characters `generateName` suffixes are drawn from (upstream's
/// `SimpleNameGenerator`: no vowels, no confusable digits).
const NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// The API server's allocation settings for Services.
///
/// ```
/// use svcroute::cluster::admission::ServiceAdmissionConfig;
/// let c = ServiceAdmissionConfig::default();
/// assert_eq!(c.service_cidrs[0].to_string(), "10.96.0.0/16");
/// assert_eq!(c.node_port_range.to_string(), "30000-32767");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAdmissionConfig {
    /// `--service-cluster-ip-range`: one CIDR, or two of different
    /// families; the first is the primary family (ALLOC-1).
    pub service_cidrs: Vec<IpNet>,
    /// `--service-node-port-range` (ALLOC-8).
    pub node_port_range: PortRange,
    /// Seed of every random choice (dynamic IPs and ports, generated
    /// names): the same seed and the same calls give the same results.
    pub seed: u64,
}

impl Default for ServiceAdmissionConfig {
    /// `10.96.0.0/16`, `30000-32767`, seed 0.
    fn default() -> ServiceAdmissionConfig {
        ServiceAdmissionConfig {
            service_cidrs: vec![
                IpNet::new(IpAddr::from([10, 96, 0, 0]), 16).expect("a valid literal CIDR"),
            ],
            node_port_range: PortRange::default(),
            seed: 0,
        }
    }
}

/// What kube-apiserver does when a Service is created: defaulting,
/// IP-family initialisation, allocation of cluster IPs, node ports and the
/// health-check node port, then validation, all or nothing (rules
/// `ALLOC-1` … `ALLOC-17`).
///
/// It holds the allocators only; the object store is the caller's. Stored
/// Services (loaded from a dump, or created earlier) are
/// [`occupy`](Self::occupy)-ed, deleted ones [`release`](Self::release)d.
///
/// The steps of [`create`](Self::create) follow the API server's order:
///
/// 1. defaulting ([`apply_defaults`]): `type` ClusterIP, port `protocol`
///    TCP, `targetPort` = `port`, `sessionAffinity` None (ClientIP timeout
///    10800), `externalTrafficPolicy` Cluster when externally accessible,
///    `internalTrafficPolicy` Cluster, `allocateLoadBalancerNodePorts`
///    true for LoadBalancer; an absent namespace becomes `default`, and a
///    `generateName` gets its random suffix;
/// 2. `clusterIPs` from `clusterIP`, then the IP families and policy
///    (ALLOC-7) with the cluster-IP field checks;
/// 3. allocation: cluster IPs (ALLOC-1 … ALLOC-6), node ports (ALLOC-8 …
///    ALLOC-12), the health-check node port (ALLOC-15);
/// 4. validation of the whole object; a failure releases what step 3 took.
///
/// ```
/// use svcroute::cluster::admission::{ServiceAdmission, ServiceAdmissionConfig};
/// let mut admission = ServiceAdmission::new(&ServiceAdmissionConfig::default())?;
/// admission.reserve_kubernetes_service_ip()?; // 10.96.0.1 (ALLOC-3)
/// let svc = serde_json::from_str(r#"{"metadata": {"name": "web", "namespace": "shop"},
///     "spec": {"type": "NodePort", "selector": {"app": "web"}, "ports": [{"port": 80}]}}"#)?;
/// let stored = admission.create(svc)?;
/// let ip: std::net::IpAddr = stored.spec.cluster_ip.as_deref().unwrap().parse()?;
/// assert!(admission.ip_allocator().primary().dynamic_band().unwrap().contains(ip));
/// let node_port = stored.spec.ports[0].node_port.unwrap();
/// assert!((30086..=32767).contains(&node_port));
/// assert_eq!(stored.spec.ip_family_policy.unwrap().as_str(), "SingleStack");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct ServiceAdmission {
    pub(super) ips: DualStackIpAllocator,
    pub(super) ports: NodePortAllocator,
    pub(super) names: Rng,
}

/// Addresses and ports one call took (to undo on failure) or must give
/// back (on success).
#[derive(Default)]
pub(super) struct Taken {
    pub(super) ips: Vec<IpAddr>,
    pub(super) ports: Vec<u16>,
}

impl ServiceAdmission {
    /// Allocators for `config`. Fails with `invalid-config` when the API
    /// server would refuse the flags (no service CIDR, two of one family,
    /// an IPv6 prefix shorter than /64).
    ///
    /// ```
    /// use svcroute::cluster::admission::{ServiceAdmission, ServiceAdmissionConfig};
    /// let config = ServiceAdmissionConfig {
    ///     service_cidrs: vec!["fd00::/48".parse()?],
    ///     ..ServiceAdmissionConfig::default()
    /// };
    /// assert_eq!(ServiceAdmission::new(&config).unwrap_err().code(), "invalid-config");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(config: &ServiceAdmissionConfig) -> Result<ServiceAdmission, AdmissionError> {
        let ips = DualStackIpAllocator::new(&config.service_cidrs, config.seed)
            .map_err(|source| AdmissionError::Config { source })?;
        let ports =
            NodePortAllocator::new(config.node_port_range, config.seed ^ 0x6e6f_6465_706f_7274);
        Ok(ServiceAdmission {
            ips,
            ports,
            names: Rng::new(config.seed ^ 0x6e61_6d65),
        })
    }

    /// The cluster IP allocators.
    ///
    /// ```
    /// # use svcroute::cluster::admission::{ServiceAdmission, ServiceAdmissionConfig};
    /// let admission = ServiceAdmission::new(&ServiceAdmissionConfig::default())?;
    /// assert!(!admission.ip_allocator().is_dual_stack());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ip_allocator(&self) -> &DualStackIpAllocator {
        &self.ips
    }

    /// The cluster IP allocators, mutable (e.g. to pre-allocate ranges).
    ///
    /// ```
    /// # use svcroute::cluster::admission::{ServiceAdmission, ServiceAdmissionConfig};
    /// let mut admission = ServiceAdmission::new(&ServiceAdmissionConfig::default())?;
    /// admission.ip_allocator_mut().allocate_range("10.96.0.2-10.96.0.9".parse()?)?;
    /// assert!(admission.ip_allocator().is_allocated("10.96.0.5".parse()?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ip_allocator_mut(&mut self) -> &mut DualStackIpAllocator {
        &mut self.ips
    }

    /// The node port allocator.
    ///
    /// ```
    /// # use svcroute::cluster::admission::{ServiceAdmission, ServiceAdmissionConfig};
    /// let admission = ServiceAdmission::new(&ServiceAdmissionConfig::default())?;
    /// assert_eq!(admission.node_port_allocator().used(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn node_port_allocator(&self) -> &NodePortAllocator {
        &self.ports
    }

    /// The node port allocator, mutable (e.g. to pre-allocate ranges).
    ///
    /// ```
    /// # use svcroute::cluster::admission::{ServiceAdmission, ServiceAdmissionConfig};
    /// let mut admission = ServiceAdmission::new(&ServiceAdmissionConfig::default())?;
    /// admission.node_port_allocator_mut().allocate_range("30000-30008".parse()?)?;
    /// assert_eq!(admission.node_port_allocator().used(), 9);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn node_port_allocator_mut(&mut self) -> &mut NodePortAllocator {
        &mut self.ports
    }

    /// The address of the `default/kubernetes` Service: the first usable
    /// address of the primary service CIDR (ALLOC-3).
    ///
    /// ```
    /// # use svcroute::cluster::admission::{ServiceAdmission, ServiceAdmissionConfig};
    /// let admission = ServiceAdmission::new(&ServiceAdmissionConfig::default())?;
    /// assert_eq!(admission.kubernetes_service_ip(), Some("10.96.0.1".parse()?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn kubernetes_service_ip(&self) -> Option<IpAddr> {
        self.ips.kubernetes_service_ip()
    }

    /// Allocates the `default/kubernetes` address without creating the
    /// Service (the conformance default of `kubernetesServiceIP`).
    ///
    /// ```
    /// # use svcroute::cluster::admission::{ServiceAdmission, ServiceAdmissionConfig};
    /// let mut admission = ServiceAdmission::new(&ServiceAdmissionConfig::default())?;
    /// let ip = admission.reserve_kubernetes_service_ip()?;
    /// assert!(admission.ip_allocator().is_allocated(ip));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reserve_kubernetes_service_ip(&mut self) -> Result<IpAddr, AdmissionError> {
        let Some(ip) = self.kubernetes_service_ip() else {
            return Err(AdmissionError::Config {
                source: IpamError::InvalidConfig {
                    reason: "the primary service CIDR has no usable address".into(),
                },
            });
        };
        self.ips
            .allocate(ip)
            .map_err(|e| AdmissionError::allocation(Some("spec.clusterIPs[0]".into()), e))?;
        Ok(ip)
    }

    /// Creates the `default/kubernetes` Service of a fresh cluster, as
    /// kube-apiserver's bootstrap controller does: ClusterIP on the first
    /// usable address of the primary range (ALLOC-3), port 443 (`https`)
    /// to the API server's `secure_port`, no selector.
    ///
    /// ```
    /// # use svcroute::cluster::admission::{ServiceAdmission, ServiceAdmissionConfig};
    /// let mut admission = ServiceAdmission::new(&ServiceAdmissionConfig::default())?;
    /// let svc = admission.bootstrap_kubernetes_service(6443)?;
    /// assert_eq!(svc.spec.cluster_ip.as_deref(), Some("10.96.0.1"));
    /// // Requesting that address again is refused (ALLOC-3).
    /// let again = serde_json::from_str(r#"{"metadata": {"name": "x"},
    ///     "spec": {"clusterIP": "10.96.0.1", "ports": [{"port": 80}]}}"#)?;
    /// assert_eq!(admission.create(again).unwrap_err().code(), "already-allocated");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn bootstrap_kubernetes_service(
        &mut self,
        secure_port: i32,
    ) -> Result<Service, AdmissionError> {
        let Some(ip) = self.kubernetes_service_ip() else {
            return Err(AdmissionError::Config {
                source: IpamError::InvalidConfig {
                    reason: "the primary service CIDR has no usable address".into(),
                },
            });
        };
        self.create(kubernetes_service(ip, secure_port))
    }

    /// Creates `service`: defaulting, family initialisation, allocation,
    /// validation (see the type's documentation). Returns the Service as
    /// the API server stores it. On error nothing changes: whatever was
    /// allocated is released and the random state restored.
    ///
    /// ```
    /// use svcroute::cluster::admission::{ServiceAdmission, ServiceAdmissionConfig};
    /// let config = ServiceAdmissionConfig {
    ///     service_cidrs: vec!["10.96.0.0/16".parse()?, "fd00:10:96::/112".parse()?],
    ///     ..ServiceAdmissionConfig::default()
    /// };
    /// let mut admission = ServiceAdmission::new(&config)?;
    /// let svc = serde_json::from_str(r#"{"metadata": {"name": "web"},
    ///     "spec": {"ipFamilyPolicy": "PreferDualStack", "ipFamilies": ["IPv6"],
    ///              "ports": [{"port": 80}]}}"#)?;
    /// let stored = admission.create(svc)?;
    /// let families: Vec<&str> = stored.spec.ip_families.iter().map(|f| f.as_str()).collect();
    /// assert_eq!(families, ["IPv6", "IPv4"]); // ALLOC-7: the given family first
    /// assert_eq!(stored.spec.cluster_ips.as_ref().unwrap().len(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create(&mut self, service: Service) -> Result<Service, AdmissionError> {
        let mut svc = service;
        apply_defaults(&mut svc);
        if svc.metadata.namespace.as_deref().is_none_or(str::is_empty) {
            svc.metadata.namespace = Some("default".into());
        }
        let saved = (
            self.ips.rng_states(),
            self.ports.rng().clone(),
            self.names.clone(),
        );
        self.generate_name(&mut svc.metadata);
        normalize_cluster_ips(&mut svc);
        let mut taken = Taken::default();
        let result = self
            .init_ip_families(&mut svc, None)
            .and_then(|()| self.allocate_cluster_ips(&mut svc, &mut taken))
            .and_then(|()| self.allocate_node_ports(&mut svc, &mut taken))
            .and_then(|()| {
                // BeforeCreate: PrepareForCreate resets the status, then
                // the strategy validates the whole object.
                svc.status = ServiceStatus::default();
                let errors = validate_service(&svc);
                if errors.is_empty() {
                    Ok(())
                } else {
                    Err(invalid(&svc, errors))
                }
            });
        match result {
            Ok(()) => Ok(svc),
            Err(err) => {
                for ip in taken.ips {
                    self.ips.release(ip);
                }
                for port in taken.ports {
                    self.ports.release(port);
                }
                self.ips.restore_rng_states(saved.0);
                self.ports.set_rng(saved.1);
                self.names = saved.2;
                Err(err)
            }
        }
    }

    /// Marks what a stored Service holds as allocated: its cluster IPs
    /// (`clusterIPs`, else `clusterIP`), node ports and health-check node
    /// port. Stored objects are taken as they are: nothing is validated,
    /// and values outside the ranges or already taken are ignored.
    ///
    /// ```
    /// # use svcroute::cluster::admission::{ServiceAdmission, ServiceAdmissionConfig};
    /// let mut admission = ServiceAdmission::new(&ServiceAdmissionConfig::default())?;
    /// let stored = serde_json::from_str(r#"{"metadata": {"name": "old", "namespace": "a"},
    ///     "spec": {"type": "NodePort", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
    ///              "ports": [{"port": 80, "nodePort": 30080}]}}"#)?;
    /// admission.occupy(&stored);
    /// assert!(admission.ip_allocator().is_allocated("10.96.0.10".parse()?));
    /// assert!(admission.node_port_allocator().is_allocated(30080));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn occupy(&mut self, service: &Service) {
        for ip in held_ips(service) {
            let _ = self.ips.allocate(ip);
        }
        for port in held_ports(service) {
            let _ = self.ports.allocate(port);
        }
    }

    /// Releases what a deleted Service held (the inverse of
    /// [`occupy`](Self::occupy)); values it did not hold are ignored.
    ///
    /// ```
    /// # use svcroute::cluster::admission::{ServiceAdmission, ServiceAdmissionConfig};
    /// let mut admission = ServiceAdmission::new(&ServiceAdmissionConfig::default())?;
    /// let svc = serde_json::from_str(r#"{"metadata": {"name": "a"},
    ///     "spec": {"type": "NodePort", "ports": [{"port": 80}]}}"#)?;
    /// let stored = admission.create(svc)?;
    /// admission.release(&stored);
    /// assert_eq!(admission.node_port_allocator().used(), 0);
    /// assert_eq!(admission.ip_allocator().primary().used(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn release(&mut self, service: &Service) {
        for ip in held_ips(service) {
            self.ips.release(ip);
        }
        for port in held_ports(service) {
            self.ports.release(port);
        }
    }

    fn generate_name(&mut self, meta: &mut ObjectMeta) {
        if meta.name.as_deref().is_some_and(|n| !n.is_empty()) {
            return;
        }
        let Some(base) = meta.generate_name.as_deref().filter(|b| !b.is_empty()) else {
            return;
        };
        let mut name: String = base.chars().take(58).collect();
        for _ in 0..5 {
            let i = self.names.below(NAME_ALPHABET.len() as u64) as usize;
            name.push(char::from(NAME_ALPHABET[i]));
        }
        meta.name = Some(name);
    }

    pub(super) fn families(&self) -> Vec<IPFamily> {
        self.ips.families().into_iter().map(api_family).collect()
    }

    /// `initIPFamilyFields` on create (ALLOC-7).
    pub(super) fn init_ip_families(
        &self,
        svc: &mut Service,
        old: Option<&Service>,
    ) -> Result<(), AdmissionError> {
        if svc.service_type() == ServiceType::ExternalName {
            return Ok(());
        }
        if super::update::is_matching_prefer_dual_stack(svc, old) {
            return Ok(());
        }
        let selectorless = svc.spec.selector.as_ref().is_none_or(BTreeMap::is_empty);
        let headless = cluster_ip(svc) == "None";
        let inherited = old.and_then(|o| o.spec.ip_family_policy);
        let policy = *svc.spec.ip_family_policy.get_or_insert(match inherited {
            Some(p) => p,
            None if headless && selectorless => IPFamilyPolicy::RequireDualStack,
            None => IPFamilyPolicy::SingleStack,
        });
        let errors = validate_cluster_ips_related(svc);
        if !errors.is_empty() {
            return Err(invalid(svc, errors));
        }
        let mut errors = match old {
            Some(old) => super::update::downgrade_problems(svc, old, policy),
            None => Vec::new(),
        };
        let configured = self.families();
        let (more, mut families) = family_policy_problems(svc, policy, &configured);
        errors.extend(more);
        if !errors.is_empty() {
            return Err(invalid(svc, errors));
        }
        let primary = configured[0];
        if headless && selectorless {
            if families.is_empty() {
                families.push(primary);
            }
            if families.len() < 2 && policy != IPFamilyPolicy::SingleStack {
                families.push(other(families[0]));
            }
            svc.spec.ip_families = families;
            return Ok(());
        }
        let mut errors = Vec::new();
        if policy == IPFamilyPolicy::RequireDualStack && configured.len() < 2 {
            errors.push(FieldError::new(
                "spec.ipFamilyPolicy",
                super::FieldReason::Invalid,
                format!(
                    "{:?}: this cluster is not configured for dual-stack services",
                    policy.as_str()
                ),
            ));
        }
        for (i, family) in families.iter().enumerate() {
            if !configured.contains(family) {
                errors.push(FieldError::new(
                    format!("spec.ipFamilies[{i}]"),
                    super::FieldReason::Invalid,
                    format!("{:?}: not configured on this cluster", family.as_str()),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(invalid(svc, errors));
        }
        if families.is_empty() {
            families.push(primary);
        }
        if policy != IPFamilyPolicy::SingleStack && families.len() == 1 && configured.len() == 2 {
            families.push(other(families[0]));
        }
        svc.spec.ip_families = families;
        Ok(())
    }

    /// `allocClusterIPs` (ALLOC-1 … ALLOC-6): one address per family, the
    /// requested one or the next free one, atomically.
    pub(super) fn allocate_cluster_ips(
        &mut self,
        svc: &mut Service,
        taken: &mut Taken,
    ) -> Result<(), AdmissionError> {
        if svc.service_type() == ServiceType::ExternalName
            || cluster_ips(svc).first().is_some_and(|ip| ip == "None")
        {
            return Ok(());
        }
        let ips: Vec<String> = cluster_ips(svc).to_vec();
        let mut requests = Vec::with_capacity(svc.spec.ip_families.len());
        for (i, family) in svc.spec.ip_families.iter().enumerate() {
            match ips.get(i).filter(|ip| !ip.is_empty()) {
                Some(text) => {
                    let ip = parse_ip(text).map_err(|msg| {
                        invalid(
                            svc,
                            vec![FieldError::new(
                                format!("spec.clusterIPs[{i}]"),
                                super::FieldReason::Invalid,
                                format!("{text:?}: {msg}"),
                            )],
                        )
                    })?;
                    requests.push(IpRequest::Specific(ip));
                }
                None => requests.push(IpRequest::Next(ipam_family(*family))),
            }
        }
        let got = self.ips.allocate_service(&requests).map_err(|err| {
            let field = match &err {
                IpamError::IpNotInRange { ip, .. } | IpamError::IpAlreadyAllocated { ip } => ips
                    .iter()
                    .position(|t| parse_ip(t).is_ok_and(|p| p == *ip))
                    .map(|i| format!("spec.clusterIPs[{i}]")),
                _ => None,
            };
            AdmissionError::allocation(field, err)
        })?;
        let texts: Vec<String> = got
            .iter()
            .enumerate()
            .map(|(i, ip)| match ips.get(i).filter(|t| !t.is_empty()) {
                Some(text) => text.clone(),
                None => ip.to_string(),
            })
            .collect();
        taken.ips.extend(got);
        svc.spec.cluster_ip = texts.first().cloned();
        svc.spec.cluster_ips = Some(texts);
        Ok(())
    }

    /// `initNodePorts` and the health-check port (ALLOC-8 … ALLOC-12,
    /// ALLOC-15).
    fn allocate_node_ports(
        &mut self,
        svc: &mut Service,
        taken: &mut Taken,
    ) -> Result<(), AdmissionError> {
        let range = self.ports.range();
        let ty = svc.service_type();
        if matches!(ty, ServiceType::NodePort | ServiceType::LoadBalancer) {
            let allocate_missing = ty == ServiceType::NodePort
                || svc.spec.allocate_load_balancer_node_ports != Some(false);
            // A requested value that is not a port number at all is sent as
            // 0, which is outside any node-port range (when the range
            // starts above 0), so it fails where upstream's fails.
            let sentinel = !range.contains(0);
            let mut requests = Vec::with_capacity(svc.spec.ports.len());
            for (i, port) in svc.spec.ports.iter().enumerate() {
                let request = ServicePortRequest::new(port.port);
                requests.push(match port.node_port.unwrap_or(0) {
                    0 => request,
                    np => match u16::try_from(np) {
                        Ok(np) => request.with_node_port(np),
                        Err(_) if sentinel => request.with_node_port(0),
                        Err(_) => {
                            return Err(AdmissionError::PortNotInRange {
                                field: format!("spec.ports[{i}].nodePort"),
                                port: i64::from(np),
                                range,
                            });
                        }
                    },
                });
            }
            let ports = &svc.spec.ports;
            let got = self
                .ports
                .allocate_service_ports(&requests, allocate_missing)
                .map_err(|err| match err {
                    IpamError::ServicePort { index, source } => {
                        let field = format!("spec.ports[{index}].nodePort");
                        match *source {
                            IpamError::PortNotInRange { port: 0, range } => {
                                AdmissionError::PortNotInRange {
                                    port: unrepresentable_node_port(ports, index),
                                    field,
                                    range,
                                }
                            }
                            source => AdmissionError::allocation(Some(field), source),
                        }
                    }
                    other => AdmissionError::allocation(None, other),
                })?;
            for (port, np) in svc.spec.ports.iter_mut().zip(&got) {
                if let Some(np) = np {
                    port.node_port = Some(i32::from(*np));
                    if !taken.ports.contains(np) {
                        taken.ports.push(*np);
                    }
                }
            }
        }
        if needs_health_check(svc) {
            let field = || Some("spec.healthCheckNodePort".to_string());
            let requested = match svc.spec.health_check_node_port.unwrap_or(0) {
                0 => None,
                hc => Some(
                    u16::try_from(hc).map_err(|_| AdmissionError::PortNotInRange {
                        field: "spec.healthCheckNodePort".into(),
                        port: i64::from(hc),
                        range,
                    })?,
                ),
            };
            let hc = self
                .ports
                .allocate_health_check(requested)
                .map_err(|e| AdmissionError::allocation(field(), e))?;
            taken.ports.push(hc);
            svc.spec.health_check_node_port = Some(i32::from(hc));
        }
        Ok(())
    }
}

/// The non-port nodePort value that entry `index` asked for: its own, or
/// the one it shares with an entry of the same port number (ALLOC-10).
fn unrepresentable_node_port(ports: &[ServicePort], index: usize) -> i64 {
    let bad = |p: &ServicePort| p.node_port.filter(|n| u16::try_from(*n).is_err());
    let Some(entry) = ports.get(index) else {
        return 0;
    };
    bad(entry)
        .or_else(|| {
            ports
                .iter()
                .find(|p| p.port == entry.port && p.node_port.is_some_and(|n| n != 0))
                .and_then(bad)
        })
        .map_or(0, i64::from)
}

pub(super) fn invalid(svc: &Service, errors: Vec<FieldError>) -> AdmissionError {
    AdmissionError::invalid(
        "Service",
        svc.metadata.name.as_deref().unwrap_or(""),
        errors,
    )
}

pub(super) fn other(family: IPFamily) -> IPFamily {
    match family {
        IPFamily::IPv4 => IPFamily::IPv6,
        IPFamily::IPv6 => IPFamily::IPv4,
    }
}

fn api_family(family: IpFamily) -> IPFamily {
    match family {
        IpFamily::V4 => IPFamily::IPv4,
        IpFamily::V6 => IPFamily::IPv6,
    }
}

pub(super) fn ipam_family(family: IPFamily) -> IpFamily {
    match family {
        IPFamily::IPv4 => IpFamily::V4,
        IPFamily::IPv6 => IpFamily::V6,
    }
}

/// The cluster IPs a stored Service holds: `clusterIPs`, else `clusterIP`,
/// the ones that are addresses.
pub(super) fn held_ips(service: &Service) -> Vec<IpAddr> {
    let ips = cluster_ips(service);
    let texts: Vec<&str> = if ips.is_empty() {
        vec![cluster_ip(service)]
    } else {
        ips.iter().map(String::as_str).collect()
    };
    texts.iter().filter_map(|t| t.parse().ok()).collect()
}

/// The node ports and health-check node port a stored Service holds.
pub(super) fn held_ports(service: &Service) -> Vec<u16> {
    let mut ports: Vec<u16> = service
        .spec
        .ports
        .iter()
        .filter_map(|p| p.node_port)
        .chain(service.spec.health_check_node_port)
        .filter_map(|p| u16::try_from(p).ok())
        .filter(|p| *p != 0)
        .collect();
    crate::order::sort_unstable(&mut ports);
    ports.dedup();
    ports
}

/// `normalizeClusterIPs` on create: a `clusterIP` without `clusterIPs`
/// seeds `clusterIPs` (old clients set only the singular field).
pub(super) fn normalize_cluster_ips(svc: &mut Service) {
    if svc.spec.cluster_ips.as_ref().is_some_and(Vec::is_empty) {
        svc.spec.cluster_ips = None;
    }
    if svc.spec.cluster_ip.as_deref() == Some("") {
        svc.spec.cluster_ip = None;
    }
    if let Some(ip) = &svc.spec.cluster_ip
        && svc.spec.cluster_ips.is_none()
    {
        svc.spec.cluster_ips = Some(vec![ip.clone()]);
    }
}

/// The `v1` defaulting of a Service (upstream `SetDefaults_Service`),
/// what the API server does to every Service it decodes (ALLOC-11,
/// ALLOC-12, ALLOC-16, ALLOC-17):
///
/// * `sessionAffinity` None (and then no `sessionAffinityConfig`); with
///   ClientIP a missing timeout becomes 10800 s;
/// * `type` ClusterIP;
/// * every port: `protocol` TCP, `targetPort` = `port` when absent, 0 or "";
/// * `externalTrafficPolicy` Cluster for externally accessible Services
///   (NodePort, LoadBalancer, ClusterIP with `externalIPs`);
/// * `internalTrafficPolicy` Cluster (all types but ExternalName);
/// * `allocateLoadBalancerNodePorts` true for LoadBalancer.
///
/// ```
/// use svcroute::api::{IntOrString, Protocol, Service};
/// use svcroute::cluster::admission::apply_defaults;
/// let mut svc: Service = serde_json::from_str(r#"{"spec": {"type": "LoadBalancer",
///     "sessionAffinity": "ClientIP", "ports": [{"port": 53, "protocol": "UDP"}]}}"#)?;
/// apply_defaults(&mut svc);
/// assert_eq!(svc.spec.ports[0].target_port, Some(IntOrString::Int(53)));
/// assert_eq!(svc.spec.ports[0].protocol, Some(Protocol::UDP));
/// assert_eq!(svc.spec.allocate_load_balancer_node_ports, Some(true));
/// let timeout = svc.spec.session_affinity_config.unwrap().client_ip.unwrap().timeout_seconds;
/// assert_eq!(timeout, Some(10800));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn apply_defaults(service: &mut Service) {
    let spec = &mut service.spec;
    let affinity = *spec.session_affinity.get_or_insert(ServiceAffinity::None);
    match affinity {
        ServiceAffinity::None => spec.session_affinity_config = None,
        ServiceAffinity::ClientIP => {
            let has_timeout = spec
                .session_affinity_config
                .as_ref()
                .and_then(|c| c.client_ip.as_ref())
                .is_some_and(|c| c.timeout_seconds.is_some());
            if !has_timeout {
                spec.session_affinity_config = Some(SessionAffinityConfig {
                    client_ip: Some(ClientIPConfig {
                        timeout_seconds: Some(DEFAULT_CLIENT_IP_TIMEOUT_SECONDS),
                    }),
                });
            }
        }
    }
    let ty = *spec.type_.get_or_insert(ServiceType::ClusterIP);
    for port in &mut spec.ports {
        port.protocol.get_or_insert(Protocol::TCP);
        let unset = match &port.target_port {
            None => true,
            Some(IntOrString::Int(n)) => *n == 0,
            Some(IntOrString::String(s)) => s.is_empty(),
        };
        if unset {
            port.target_port = Some(IntOrString::Int(port.port));
        }
    }
    if externally_accessible(service) && service.spec.external_traffic_policy.is_none() {
        service.spec.external_traffic_policy = Some(ServiceExternalTrafficPolicy::Cluster);
    }
    let spec = &mut service.spec;
    if spec.internal_traffic_policy.is_none() && ty != ServiceType::ExternalName {
        spec.internal_traffic_policy = Some(ServiceInternalTrafficPolicy::Cluster);
    }
    if ty == ServiceType::LoadBalancer && spec.allocate_load_balancer_node_ports.is_none() {
        spec.allocate_load_balancer_node_ports = Some(true);
    }
}

/// The `default/kubernetes` Service as kube-apiserver's bootstrap
/// controller submits it: labels `component: apiserver`, `provider:
/// kubernetes`; ClusterIP `cluster_ip`; one port `https` 443/TCP to
/// `secure_port` (6443 by default); no selector (its endpoints are the API
/// servers, managed by the API server itself). Pass it to
/// [`ServiceAdmission::create`] to admit it, or use
/// [`ServiceAdmission::bootstrap_kubernetes_service`].
///
/// ```
/// use svcroute::cluster::admission::kubernetes_service;
/// let svc = kubernetes_service("10.96.0.1".parse()?, 6443);
/// assert_eq!(svc.metadata.namespace.as_deref(), Some("default"));
/// assert_eq!(svc.metadata.name.as_deref(), Some("kubernetes"));
/// assert_eq!(svc.spec.ports[0].port, 443);
/// assert!(svc.spec.selector.is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn kubernetes_service(cluster_ip: IpAddr, secure_port: i32) -> Service {
    Service {
        metadata: ObjectMeta {
            name: Some("kubernetes".into()),
            namespace: Some("default".into()),
            labels: BTreeMap::from([
                ("component".to_string(), "apiserver".to_string()),
                ("provider".to_string(), "kubernetes".to_string()),
            ]),
            ..ObjectMeta::default()
        },
        spec: ServiceSpec {
            type_: Some(ServiceType::ClusterIP),
            ports: vec![ServicePort {
                name: "https".into(),
                protocol: Some(Protocol::TCP),
                port: 443,
                target_port: Some(IntOrString::Int(secure_port)),
                ..ServicePort::default()
            }],
            cluster_ip: Some(cluster_ip.to_string()),
            session_affinity: Some(ServiceAffinity::None),
            ..ServiceSpec::default()
        },
        status: ServiceStatus::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(json: &str) -> Service {
        serde_json::from_str(json).unwrap()
    }

    fn admission(cidrs: &[&str]) -> ServiceAdmission {
        ServiceAdmission::new(&ServiceAdmissionConfig {
            service_cidrs: cidrs.iter().map(|c| c.parse().unwrap()).collect(),
            ..ServiceAdmissionConfig::default()
        })
        .unwrap()
    }

    // ALLOC-7: headless without selector on a single-stack cluster gets
    // RequireDualStack and both families.
    #[test]
    fn headless_selectorless_single_stack() {
        let mut a = admission(&["10.96.0.0/16"]);
        let out = a
            .create(svc(
                r#"{"metadata": {"name": "h"}, "spec": {"clusterIP": "None"}}"#,
            ))
            .unwrap();
        assert_eq!(
            out.spec.ip_family_policy,
            Some(IPFamilyPolicy::RequireDualStack)
        );
        assert_eq!(out.spec.ip_families, vec![IPFamily::IPv4, IPFamily::IPv6]);
        assert_eq!(out.spec.cluster_ips, Some(vec!["None".to_string()]));
    }

    // ALLOC-7: RequireDualStack on a single-stack cluster is refused.
    #[test]
    fn require_dual_stack_on_single_stack() {
        let mut a = admission(&["10.96.0.0/16"]);
        let err = a
            .create(svc(r#"{"metadata": {"name": "a"},
                "spec": {"ipFamilyPolicy": "RequireDualStack", "ports": [{"port": 80}]}}"#))
            .unwrap_err();
        assert_eq!(
            (err.code(), err.field()),
            ("invalid", Some("spec.ipFamilyPolicy"))
        );
        assert_eq!(a.ip_allocator().primary().used(), 0);
    }

    // Rollback: validation failing after allocation releases everything.
    #[test]
    fn rollback_after_validation() {
        let mut a = admission(&["10.96.0.0/16"]);
        let before = a.clone();
        let err = a
            .create(svc(r#"{"metadata": {"name": "Bad"},
                "spec": {"type": "LoadBalancer", "externalTrafficPolicy": "Local",
                         "ports": [{"port": 80}]}}"#))
            .unwrap_err();
        assert_eq!(err.field(), Some("metadata.name"));
        assert_eq!(a.ips, before.ips);
        assert_eq!(a.ports, before.ports);
        assert_eq!(a.names, before.names);
    }

    #[test]
    fn generate_name() {
        let mut a = admission(&["10.96.0.0/16"]);
        let out = a
            .create(svc(
                r#"{"metadata": {"generateName": "web-"}, "spec": {"ports": [{"port": 80}]}}"#,
            ))
            .unwrap();
        let name = out.metadata.name.unwrap();
        assert!(name.starts_with("web-") && name.len() == 9, "{name}");
    }
}
