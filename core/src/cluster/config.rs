//! [`ClusterConfig`]: the flags of the control plane and of kube-proxy that
//! the cluster engine models, with upstream defaults.

use std::net::IpAddr;

use crate::ipam::{IpFamily, IpNet, PortRange};

use super::error::{ClusterError, ClusterProblem, ProblemKind};

/// kube-proxy's mode (`--proxy-mode`).
///
/// ```
/// use svcroute::cluster::ProxyMode;
/// assert_eq!(ProxyMode::default(), ProxyMode::Iptables);
/// assert_eq!("nftables".parse::<ProxyMode>(), Ok(ProxyMode::Nftables));
/// assert_eq!(ProxyMode::Ipvs.as_str(), "ipvs");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ProxyMode {
    /// `iptables` (the upstream default).
    #[default]
    Iptables,
    /// `nftables` (GA since v1.33).
    Nftables,
    /// `ipvs` (deprecated in v1.35).
    Ipvs,
}

impl ProxyMode {
    /// Every mode, in the order the conformance runner uses.
    pub const ALL: [ProxyMode; 3] = [ProxyMode::Iptables, ProxyMode::Nftables, ProxyMode::Ipvs];

    /// The flag spelling (`iptables`, `nftables`, `ipvs`).
    pub fn as_str(self) -> &'static str {
        match self {
            ProxyMode::Iptables => "iptables",
            ProxyMode::Nftables => "nftables",
            ProxyMode::Ipvs => "ipvs",
        }
    }
}

impl std::str::FromStr for ProxyMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ProxyMode::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| format!("unknown proxy mode `{s}`; expected iptables, nftables or ipvs"))
    }
}

/// kube-proxy's `--detect-local-mode`: which sources count as local pods.
///
/// ```
/// use svcroute::cluster::DetectLocalMode;
/// assert_eq!(DetectLocalMode::default(), DetectLocalMode::ClusterCIDR);
/// assert_eq!("NodeCIDR".parse::<DetectLocalMode>(), Ok(DetectLocalMode::NodeCIDR));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[allow(clippy::upper_case_acronyms)]
pub enum DetectLocalMode {
    /// A source is local iff it lies in the cluster CIDRs (default).
    #[default]
    ClusterCIDR,
    /// A source is local iff it lies in the node's pod CIDRs.
    NodeCIDR,
    /// No source is local.
    None,
}

impl DetectLocalMode {
    /// The flag spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DetectLocalMode::ClusterCIDR => "ClusterCIDR",
            DetectLocalMode::NodeCIDR => "NodeCIDR",
            DetectLocalMode::None => "None",
        }
    }
}

impl std::str::FromStr for DetectLocalMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            DetectLocalMode::ClusterCIDR,
            DetectLocalMode::NodeCIDR,
            DetectLocalMode::None,
        ]
        .into_iter()
        .find(|m| m.as_str() == s)
        .ok_or_else(|| {
            format!("unknown detect-local mode `{s}`; expected ClusterCIDR, NodeCIDR or None")
        })
    }
}

/// kube-proxy options that depend on the mode.
///
/// ```
/// let p = svcroute::cluster::ProxyConfig::default();
/// assert!(p.localhost_node_ports && !p.masquerade_all);
/// assert_eq!(p.ipvs_scheduler, "rr");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyConfig {
    /// `--proxy-mode`.
    pub mode: ProxyMode,
    /// `--masquerade-all`.
    pub masquerade_all: bool,
    /// `--iptables-localhost-nodeports` (iptables mode only; default `true`).
    pub localhost_node_ports: bool,
    /// `--nodeport-addresses`: `None` = the mode's default (iptables/ipvs:
    /// every node address; nftables: the node's primary address per family).
    pub node_port_addresses: Option<Vec<IpNet>>,
    /// `--ipvs-scheduler` (default `rr`).
    pub ipvs_scheduler: String,
    /// `--detect-local-mode`.
    pub detect_local_mode: DetectLocalMode,
}

impl Default for ProxyConfig {
    fn default() -> Self {
        ProxyConfig {
            mode: ProxyMode::Iptables,
            masquerade_all: false,
            localhost_node_ports: true,
            node_port_addresses: None,
            ipvs_scheduler: "rr".to_owned(),
            detect_local_mode: DetectLocalMode::ClusterCIDR,
        }
    }
}

/// Which address `default/kubernetes` gets, and the ClusterIP allocator
/// reserves.
///
/// ```
/// use svcroute::cluster::{ClusterConfig, KubernetesServiceIp};
/// let c = ClusterConfig { kubernetes_service_ip: KubernetesServiceIp::None, ..Default::default() };
/// assert_eq!(c.kubernetes_ip(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KubernetesServiceIp {
    /// The first usable address of the primary service CIDR (`10.96.0.1`).
    #[default]
    FirstUsable,
    /// This address.
    Address(IpAddr),
    /// Nothing reserved (conformance `kubernetesServiceIP: null`).
    None,
}

/// The load-balancer controller a cluster has: what a LoadBalancer
/// Service's `status.loadBalancer` becomes.
///
/// * [`None`](Self::None) (default): no controller; the status stays
///   empty, the Service is pending (kubectl's `<pending>`).
/// * [`Pool`](Self::Pool): an address pool handed out the way MetalLB's
///   layer-2 mode does: the next free address of the pool (CIDRs in order,
///   every address of each CIDR, lowest first), one per IP family of the
///   Service that the pool has, as `status.loadBalancer.ingress[].ip`
///   (`ipMode: VIP`). Addresses asked for with the annotation
///   `metallb.io/loadBalancerIPs` (comma-separated) or the deprecated
///   `spec.loadBalancerIP` are given when they are in the pool and free
///   (else the Service stays pending). Released when the Service is deleted
///   or stops being a LoadBalancer. An exhausted pool leaves the Service
///   pending.
/// * [`Aws`](Self::Aws): the AWS cloud provider's classic ELB, as EKS
///   gives it: `status.loadBalancer.ingress[].hostname` =
///   `<elb-name>-<digits>.<region>.elb.amazonaws.com`, where `<elb-name>`
///   is `a` followed by 31 hex digits (the Service's `metadata.uid` without
///   dashes, as the provider names ELBs, or a hash of namespace/name and
///   the cluster seed when there is no uid) and `<digits>` ten digits of
///   that hash. With the annotation
///   `service.beta.kubernetes.io/aws-load-balancer-scheme: internal` (or
///   the legacy `service.beta.kubernetes.io/aws-load-balancer-internal`
///   set to anything but `false`) the hostname starts with `internal-`.
///
/// A status already set on the applied object is kept in every mode.
///
/// ```
/// use svcroute::cluster::{ClusterConfig, LoadBalancerProvider};
/// assert_eq!(ClusterConfig::default().load_balancer, LoadBalancerProvider::None);
/// let pool = LoadBalancerProvider::Pool(vec!["192.168.10.0/24".parse()?]);
/// assert!(matches!(LoadBalancerProvider::aws(), LoadBalancerProvider::Aws { region } if region == "us-east-1"));
/// # let _ = pool;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum LoadBalancerProvider {
    /// No load-balancer controller: LoadBalancer Services stay pending.
    #[default]
    None,
    /// A MetalLB-style address pool (`--lb-pool CIDR`, repeatable).
    Pool(Vec<IpNet>),
    /// The AWS cloud provider (`--cloud aws`), in `region`.
    Aws {
        /// The AWS region of the hostnames (`us-east-1` by default).
        region: String,
    },
}

impl LoadBalancerProvider {
    /// AWS in the default region, `us-east-1`.
    ///
    /// ```
    /// use svcroute::cluster::LoadBalancerProvider;
    /// assert_eq!(LoadBalancerProvider::aws(), LoadBalancerProvider::Aws { region: "us-east-1".into() });
    /// ```
    pub fn aws() -> LoadBalancerProvider {
        LoadBalancerProvider::Aws {
            region: "us-east-1".to_owned(),
        }
    }
}

/// The configuration of a [`Cluster`](super::Cluster): control-plane flags
/// (kube-apiserver, kube-controller-manager), kube-proxy's, and the seed of
/// everything random. [`Default`] is upstream's defaults.
///
/// ```
/// use svcroute::cluster::ClusterConfig;
/// let c = ClusterConfig::default();
/// assert_eq!(c.cluster_domain, "cluster.local");
/// assert_eq!(c.service_cidrs[0].to_string(), "10.96.0.0/16");
/// assert_eq!(c.cluster_cidrs[0].to_string(), "10.244.0.0/16");
/// assert_eq!((c.node_cidr_mask_size_ipv4, c.node_cidr_mask_size_ipv6), (24, 64));
/// assert_eq!((c.node_port_range.first(), c.node_port_range.last()), (30000, 32767));
/// assert_eq!(c.max_endpoints_per_slice, 100);
/// assert!(c.endpoint_slice_controller && c.bootstrap);
/// assert!(c.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterConfig {
    /// The DNS zone of the cluster (`--cluster-domain`, `cluster.local`).
    pub cluster_domain: String,
    /// `--service-cluster-ip-range`: one block per family, the first is the
    /// primary family.
    pub service_cidrs: Vec<IpNet>,
    /// `--cluster-cidr`: pod addresses (node IPAM, local-traffic detection).
    pub cluster_cidrs: Vec<IpNet>,
    /// `--node-cidr-mask-size-ipv4` (24).
    pub node_cidr_mask_size_ipv4: u8,
    /// `--node-cidr-mask-size-ipv6` (64).
    pub node_cidr_mask_size_ipv6: u8,
    /// `--service-node-port-range` (30000-32767).
    pub node_port_range: PortRange,
    /// The EndpointSlice controller's `--max-endpoints-per-slice` (100, at most 1000).
    pub max_endpoints_per_slice: u32,
    /// The mirroring controller's `--mirroring-max-endpoints-per-subset` (1000).
    pub mirroring_max_endpoints_per_subset: u32,
    /// kube-proxy.
    pub proxy: ProxyConfig,
    /// The address reserved for `default/kubernetes`.
    pub kubernetes_service_ip: KubernetesServiceIp,
    /// The seed of every random choice (allocation starts, slice names).
    pub seed: u64,
    /// Run the EndpointSlice and mirroring controllers (`true`). `false`:
    /// stored EndpointSlices are the complete endpoint data, nothing is
    /// derived from Pods or Endpoints.
    pub endpoint_slice_controller: bool,
    /// Start as a fresh cluster does: namespaces `default`, `kube-system`,
    /// `kube-public`, `kube-node-lease` and the `default/kubernetes`
    /// Service (`true`).
    pub bootstrap: bool,
    /// Run the workload controllers and the scheduler (`true`): Deployments,
    /// ReplicaSets, StatefulSets and DaemonSets make Pods, and submitted
    /// Pods (no status) are scheduled and started. `false`: workload
    /// objects are only stored, as for a `kubectl get -o json` dump whose
    /// Pods are already in the input.
    pub workloads: bool,
    /// Run the v1 Endpoints controller (`true`): an `Endpoints` object for
    /// every Service with a selector. Off also when
    /// `endpoint_slice_controller` is off (nothing is derived from Pods).
    pub endpoints_controller: bool,
    /// The load-balancer controller (none by default).
    pub load_balancer: LoadBalancerProvider,
    /// Objects per cluster and labels per object (issue 13).
    pub limits: super::ClusterLimits,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        let net = |s: &str| IpNet::parse_truncating(s).expect("literal CIDR");
        ClusterConfig {
            cluster_domain: "cluster.local".to_owned(),
            service_cidrs: vec![net("10.96.0.0/16")],
            cluster_cidrs: vec![net("10.244.0.0/16")],
            node_cidr_mask_size_ipv4: 24,
            node_cidr_mask_size_ipv6: 64,
            node_port_range: PortRange::default(),
            max_endpoints_per_slice: 100,
            mirroring_max_endpoints_per_subset: 1000,
            proxy: ProxyConfig::default(),
            kubernetes_service_ip: KubernetesServiceIp::FirstUsable,
            seed: 0,
            endpoint_slice_controller: true,
            bootstrap: true,
            workloads: true,
            endpoints_controller: true,
            load_balancer: LoadBalancerProvider::None,
            limits: super::ClusterLimits::default(),
        }
    }
}

impl ClusterConfig {
    /// The primary IP family: that of the first service CIDR (IPv4 when
    /// none is configured).
    ///
    /// ```
    /// use svcroute::{cluster::ClusterConfig, ipam::IpFamily};
    /// assert_eq!(ClusterConfig::default().primary_family(), IpFamily::V4);
    /// ```
    pub fn primary_family(&self) -> IpFamily {
        self.service_cidrs
            .first()
            .map_or(IpFamily::V4, IpNet::family)
    }

    /// The address of `default/kubernetes`, if one is reserved.
    ///
    /// ```
    /// use svcroute::cluster::ClusterConfig;
    /// assert_eq!(ClusterConfig::default().kubernetes_ip().unwrap().to_string(), "10.96.0.1");
    /// ```
    pub fn kubernetes_ip(&self) -> Option<IpAddr> {
        match self.kubernetes_service_ip {
            KubernetesServiceIp::FirstUsable => self.service_cidrs.first()?.first_usable(),
            KubernetesServiceIp::Address(ip) => Some(ip),
            KubernetesServiceIp::None => None,
        }
    }

    /// Checks the configuration as the components would at start, reporting
    /// every problem: at most one service CIDR and one cluster CIDR per
    /// family, `maxEndpointsPerSlice` in `1..=1000`, an empty cluster domain.
    ///
    /// ```
    /// use svcroute::cluster::ClusterConfig;
    /// let mut c = ClusterConfig::default();
    /// c.max_endpoints_per_slice = 0;
    /// c.service_cidrs.push(c.service_cidrs[0]);
    /// let err = c.validate().unwrap_err();
    /// assert_eq!(err.problems().len(), 2);
    /// assert_eq!(err.kind(), svcroute::ErrorKind::Invalid);
    /// ```
    pub fn validate(&self) -> Result<(), ClusterError> {
        let mut problems = Vec::new();
        let mut bad = |field: String, message: String| {
            problems.push(ClusterProblem::config(ProblemKind::Invalid, field, message));
        };
        for (name, list) in [
            ("serviceCIDRs", &self.service_cidrs),
            ("clusterCIDRs", &self.cluster_cidrs),
        ] {
            if list.len() > 2 {
                bad(name.to_owned(), "at most one CIDR per IP family".to_owned());
            } else if list.len() == 2 && list[0].family() == list[1].family() {
                bad(
                    format!("{name}[1]"),
                    "the two CIDRs must be of different IP families".to_owned(),
                );
            }
        }
        if !(1..=1000).contains(&self.max_endpoints_per_slice) {
            bad(
                "maxEndpointsPerSlice".to_owned(),
                format!("{} is not in 1..=1000", self.max_endpoints_per_slice),
            );
        }
        if self.mirroring_max_endpoints_per_subset == 0 {
            bad(
                "mirroringMaxEndpointsPerSubset".to_owned(),
                "must be at least 1".to_owned(),
            );
        }
        if self.cluster_domain.is_empty() {
            bad("clusterDomain".to_owned(), "must not be empty".to_owned());
        }
        match &self.load_balancer {
            LoadBalancerProvider::Pool(cidrs) if cidrs.is_empty() => {
                bad(
                    "loadBalancer.pool".to_owned(),
                    "an address pool needs at least one CIDR".to_owned(),
                );
            }
            LoadBalancerProvider::Aws { region } if region.is_empty() => {
                bad(
                    "loadBalancer.region".to_owned(),
                    "must not be empty".to_owned(),
                );
            }
            _ => {}
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ClusterError::new(problems))
        }
    }
}
