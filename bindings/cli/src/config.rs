//! The cluster settings: `--config FILE` and what the input tells.
//!
//! This is the one place where the command line builds a
//! [`ClusterConfig`]: [`cluster_config`] starts from upstream's defaults,
//! applies the `--config` file ([`Settings`]), then infers what the file
//! does not set from the objects (a dump of a real cluster carries its
//! service CIDR in the `default/kubernetes` Service, its cluster CIDR and
//! node mask in the nodes' `podCIDRs`), and says what it inferred.
//!
//! A command-line flag that sets the cluster (a node count, a load-balancer
//! pool, a cloud) belongs here too: a key of [`Settings`] that the flag
//! fills before [`cluster_config`] runs, so that the file, the flag and the
//! inference meet in one place.
//!
//! A settings file (YAML or JSON; every key optional, unknown keys are an
//! error):
//!
//! ```yaml
//! clusterDomain: cluster.local
//! serviceCIDRs: [10.100.0.0/16]        # --service-cluster-ip-range
//! clusterCIDRs: [192.168.0.0/16]       # --cluster-cidr (pod addresses)
//! nodeCIDRMaskSizeIPv4: 24
//! nodeCIDRMaskSizeIPv6: 64
//! nodePortRange: 30000-32767
//! seed: 0
//! proxy:
//!   mode: nftables                     # iptables | nftables | ipvs
//!   masqueradeAll: false
//!   localhostNodePorts: true
//!   nodePortAddresses: [192.168.10.0/24]
//!   ipvsScheduler: rr
//!   detectLocalMode: ClusterCIDR
//! loadBalancer:                        # none by default: LoadBalancers stay <pending>
//!   pool: [192.0.2.0/28]               # --lb-pool: MetalLB-style addresses
//!   cloud: aws                         # --cloud aws: ELB hostnames, as EKS gives them
//!   region: eu-west-1                  # --region (default us-east-1)
//!   # or, as the C and WASM loaders say it: aws: {region: eu-west-1}
//! ```

use std::net::IpAddr;

use serde::Deserialize;
use svcroute::ErrorKind;
use svcroute::api::Object;
use svcroute::cluster::{ClusterConfig, ClusterLimits, KubernetesServiceIp, LoadBalancerProvider};
use svcroute::ipam::{IpFamily, IpNet};

use crate::exit::CliError;
use crate::input::Source;

/// The keys of a `--config` file: the control plane's and kube-proxy's
/// flags that svcroute models. Every key is optional.
///
/// ```
/// let s: svcroute_cli::config::Settings =
///     serde_json::from_str(r#"{"serviceCIDRs": ["10.100.0.0/16"], "proxy": {"mode": "ipvs"}}"#).unwrap();
/// assert_eq!(s.service_cidrs.unwrap(), ["10.100.0.0/16"]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Settings {
    /// `--cluster-domain`.
    pub cluster_domain: Option<String>,
    /// `--service-cluster-ip-range`, one CIDR per family.
    #[serde(rename = "serviceCIDRs", alias = "serviceCidrs")]
    pub service_cidrs: Option<Vec<String>>,
    /// `--cluster-cidr`: pod addresses, one CIDR per family.
    #[serde(rename = "clusterCIDRs", alias = "podCIDRs", alias = "clusterCidrs")]
    pub cluster_cidrs: Option<Vec<String>>,
    /// `--node-cidr-mask-size-ipv4`.
    #[serde(rename = "nodeCIDRMaskSizeIPv4", alias = "nodeCIDRMaskSize")]
    pub node_cidr_mask_size_ipv4: Option<u8>,
    /// `--node-cidr-mask-size-ipv6`.
    #[serde(rename = "nodeCIDRMaskSizeIPv6")]
    pub node_cidr_mask_size_ipv6: Option<u8>,
    /// `--service-node-port-range` (`30000-32767`).
    pub node_port_range: Option<String>,
    /// The seed of every random choice of the control plane.
    pub seed: Option<u64>,
    /// kube-proxy.
    pub proxy: Option<ProxySettings>,
    /// The load-balancer controller (`--lb-pool`, `--cloud`, `--region`).
    pub load_balancer: Option<LoadBalancerSettings>,
    /// Input limits (issue 13); absent keys keep the defaults.
    pub limits: Option<LimitSettings>,
}

/// The `limits` section of a settings file: the core's
/// [`ClusterLimits`] and
/// [`LoadLimits`](svcroute::api::LoadLimits), under the names their errors
/// give.
///
/// ```
/// let l: svcroute_cli::config::LimitSettings =
///     serde_json::from_str(r#"{"maxDocuments": 10, "maxStringBytes": 4096}"#).unwrap();
/// let limits = l.over(Default::default());
/// assert_eq!((limits.load.max_documents, limits.max_objects), (10, 1_000_000));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LimitSettings {
    /// Objects per cluster.
    pub max_objects: Option<usize>,
    /// Labels per object.
    pub max_labels_per_object: Option<usize>,
    /// Bytes per input file.
    pub max_input_bytes: Option<usize>,
    /// Documents per input file.
    pub max_documents: Option<usize>,
    /// Nesting depth (at most 128).
    pub max_depth: Option<usize>,
    /// Bytes per string.
    pub max_string_bytes: Option<usize>,
}

impl LimitSettings {
    /// `limits` with the keys that are set replaced.
    pub fn over(&self, mut limits: ClusterLimits) -> ClusterLimits {
        let set = |to: &mut usize, v: Option<usize>| {
            if let Some(v) = v {
                *to = v;
            }
        };
        set(&mut limits.max_objects, self.max_objects);
        set(
            &mut limits.max_labels_per_object,
            self.max_labels_per_object,
        );
        set(&mut limits.load.max_input_bytes, self.max_input_bytes);
        set(&mut limits.load.max_documents, self.max_documents);
        set(&mut limits.load.max_depth, self.max_depth);
        set(&mut limits.load.max_string_bytes, self.max_string_bytes);
        limits
    }
}

/// The `loadBalancer` section of a settings file: which load-balancer
/// controller the cluster has. Nothing set: none (LoadBalancer Services
/// stay `<pending>`); `pool` and `cloud` exclude each other.
///
/// ```
/// let l: svcroute_cli::config::LoadBalancerSettings =
///     serde_json::from_str(r#"{"cloud": "aws", "region": "eu-west-1"}"#).unwrap();
/// assert_eq!(l.cloud.as_deref(), Some("aws"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoadBalancerSettings {
    /// `--lb-pool`: address blocks handed out as MetalLB does.
    pub pool: Option<Vec<String>>,
    /// `--cloud`: `aws` (ELB hostnames, as EKS gives them).
    pub cloud: Option<String>,
    /// `--region` of the cloud (`us-east-1` by default).
    pub region: Option<String>,
    /// `aws: {region: R}`: the C and WASM loaders' spelling of `cloud: aws`.
    pub aws: Option<AwsSettings>,
}

/// `loadBalancer.aws`, as the C and WASM loaders spell it.
///
/// ```
/// let a: svcroute_cli::config::AwsSettings = serde_json::from_str(r#"{"region": "eu-west-1"}"#).unwrap();
/// assert_eq!(a.region.as_deref(), Some("eu-west-1"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AwsSettings {
    /// The region (`us-east-1` by default).
    pub region: Option<String>,
}

impl LoadBalancerSettings {
    /// The provider these settings describe; errors name the key.
    ///
    /// ```
    /// use svcroute::cluster::LoadBalancerProvider;
    /// use svcroute_cli::config::LoadBalancerSettings;
    /// let l = LoadBalancerSettings { pool: Some(vec!["192.0.2.0/28".into()]), ..Default::default() };
    /// assert!(matches!(l.provider().unwrap(), LoadBalancerProvider::Pool(p) if p.len() == 1));
    /// let l = LoadBalancerSettings { cloud: Some("gcp".into()), ..Default::default() };
    /// assert!(l.provider().unwrap_err().starts_with("loadBalancer.cloud: "));
    /// ```
    pub fn provider(&self) -> Result<LoadBalancerProvider, String> {
        if let Some(aws) = &self.aws {
            if self.pool.is_some() || self.cloud.is_some() || self.region.is_some() {
                return Err(
                    "loadBalancer.aws: give either aws: {region: R} or cloud: aws, region: R, alone"
                        .to_owned(),
                );
            }
            return Ok(match &aws.region {
                Some(region) => LoadBalancerProvider::Aws {
                    region: region.clone(),
                },
                None => LoadBalancerProvider::aws(),
            });
        }
        match (&self.pool, self.cloud.as_deref()) {
            (Some(_), Some(_)) => {
                Err("loadBalancer: an address pool and a cloud exclude each other".to_owned())
            }
            (Some(pool), None) => {
                if self.region.is_some() {
                    return Err("loadBalancer.region: a region needs a cloud".to_owned());
                }
                let nets = pool
                    .iter()
                    .map(|s| {
                        s.parse::<IpNet>()
                            .map_err(|e| format!("loadBalancer.pool: {s}: {e}"))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(LoadBalancerProvider::Pool(nets))
            }
            (None, Some("aws")) => Ok(match &self.region {
                Some(region) => LoadBalancerProvider::Aws {
                    region: region.clone(),
                },
                None => LoadBalancerProvider::aws(),
            }),
            (None, Some(other)) => Err(format!(
                "loadBalancer.cloud: unknown cloud `{other}`; expected aws"
            )),
            (None, None) if self.region.is_some() => {
                Err("loadBalancer.region: a region needs a cloud (--cloud aws)".to_owned())
            }
            (None, None) => Ok(LoadBalancerProvider::None),
        }
    }
}

/// The `proxy` section of a settings file.
///
/// ```
/// let p: svcroute_cli::config::ProxySettings = serde_json::from_str(r#"{"mode": "nftables"}"#).unwrap();
/// assert_eq!(p.mode.as_deref(), Some("nftables"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProxySettings {
    /// `--proxy-mode`: `iptables`, `nftables` or `ipvs`.
    pub mode: Option<String>,
    /// `--masquerade-all`.
    pub masquerade_all: Option<bool>,
    /// `--iptables-localhost-nodeports`.
    pub localhost_node_ports: Option<bool>,
    /// `--nodeport-addresses`.
    pub node_port_addresses: Option<Vec<String>>,
    /// `--ipvs-scheduler`.
    pub ipvs_scheduler: Option<String>,
    /// `--detect-local-mode`.
    pub detect_local_mode: Option<String>,
}

impl Settings {
    /// Reads a settings file (YAML, of which JSON is a subset); errors name
    /// the file and the key.
    ///
    /// ```
    /// use svcroute_cli::{config::Settings, input::Source};
    /// let src = Source { name: "c.yaml".into(), text: "clusterDomain: corp.example\n".into() };
    /// assert_eq!(Settings::read(&src).unwrap().cluster_domain.as_deref(), Some("corp.example"));
    /// let bad = Source { name: "c.yaml".into(), text: "clusterDomian: x\n".into() };
    /// assert!(Settings::read(&bad).unwrap_err().to_string().contains("c.yaml"));
    /// ```
    pub fn read(source: &Source) -> Result<Settings, CliError> {
        if source.text.trim().is_empty() {
            return Ok(Settings::default());
        }
        serde_saphyr::from_str(&source.text).map_err(|e| {
            CliError::of_kind(
                ErrorKind::Parse,
                format!("{}: cluster settings: {e}", source.name),
            )
        })
    }

    /// Applies the settings that are set over `config`; errors name the
    /// file and the key.
    ///
    /// ```
    /// use svcroute::cluster::{ClusterConfig, ProxyMode};
    /// use svcroute_cli::config::{ProxySettings, Settings};
    /// let s = Settings { proxy: Some(ProxySettings { mode: Some("ipvs".into()), ..Default::default() }), ..Default::default() };
    /// let mut c = ClusterConfig::default();
    /// s.apply("c.yaml", &mut c).unwrap();
    /// assert_eq!(c.proxy.mode, ProxyMode::Ipvs);
    /// ```
    pub fn apply(&self, file: &str, config: &mut ClusterConfig) -> Result<(), CliError> {
        let bad = |key: &str, message: String| {
            CliError::of_kind(ErrorKind::Invalid, format!("{file}: {key}: {message}"))
        };
        let nets = |key: &str, list: &[String]| -> Result<Vec<IpNet>, CliError> {
            list.iter()
                .map(|s| s.parse::<IpNet>().map_err(|e| bad(key, e.to_string())))
                .collect()
        };
        if let Some(l) = &self.limits {
            config.limits = l.over(config.limits);
        }
        if let Some(d) = &self.cluster_domain {
            config.cluster_domain = d.trim_end_matches('.').to_owned();
        }
        if let Some(list) = &self.service_cidrs {
            config.service_cidrs = nets("serviceCIDRs", list)?;
        }
        if let Some(list) = &self.cluster_cidrs {
            config.cluster_cidrs = nets("clusterCIDRs", list)?;
        }
        if let Some(m) = self.node_cidr_mask_size_ipv4 {
            config.node_cidr_mask_size_ipv4 = m;
        }
        if let Some(m) = self.node_cidr_mask_size_ipv6 {
            config.node_cidr_mask_size_ipv6 = m;
        }
        if let Some(r) = &self.node_port_range {
            config.node_port_range = r
                .parse()
                .map_err(|e| bad("nodePortRange", format!("{e}")))?;
        }
        if let Some(seed) = self.seed {
            config.seed = seed;
        }
        if let Some(l) = &self.load_balancer {
            config.load_balancer = l
                .provider()
                .map_err(|e| CliError::of_kind(ErrorKind::Invalid, format!("{file}: {e}")))?;
        }
        if let Some(p) = &self.proxy {
            if let Some(m) = &p.mode {
                config.proxy.mode = m.parse().map_err(|e| bad("proxy.mode", e))?;
            }
            if let Some(v) = p.masquerade_all {
                config.proxy.masquerade_all = v;
            }
            if let Some(v) = p.localhost_node_ports {
                config.proxy.localhost_node_ports = v;
            }
            if let Some(list) = &p.node_port_addresses {
                config.proxy.node_port_addresses = Some(nets("proxy.nodePortAddresses", list)?);
            }
            if let Some(s) = &p.ipvs_scheduler {
                config.proxy.ipvs_scheduler = s.clone();
            }
            if let Some(m) = &p.detect_local_mode {
                config.proxy.detect_local_mode =
                    m.parse().map_err(|e| bad("proxy.detectLocalMode", e))?;
            }
        }
        Ok(())
    }
}

/// The configuration for the objects read: defaults, then the `--config`
/// file, then what the objects tell about what the file leaves unset (each
/// inference is one line in `notices`). The result is validated.
///
/// ```
/// use svcroute::api::Object;
/// let objects: Vec<Object> = serde_json::from_str(r#"[{"apiVersion": "v1", "kind": "Service",
///   "metadata": {"name": "kubernetes", "namespace": "default"},
///   "spec": {"clusterIP": "10.100.0.1", "ports": [{"port": 443}]}}]"#).unwrap();
/// let mut notices = Vec::new();
/// let c = svcroute_cli::config::cluster_config(None, &objects, &mut notices).unwrap();
/// assert_eq!(c.service_cidrs[0].to_string(), "10.100.0.0/16");
/// assert_eq!(notices, ["inferred service CIDR 10.100.0.0/16 from default/kubernetes"]);
/// ```
pub fn cluster_config(
    settings: Option<(&str, &Settings)>,
    objects: &[Object],
    notices: &mut Vec<String>,
) -> Result<ClusterConfig, CliError> {
    let mut config = ClusterConfig::default();
    let set = settings.map(|(_, s)| s.clone()).unwrap_or_default();
    if let Some((file, s)) = settings {
        s.apply(file, &mut config)?;
    }
    if set.service_cidrs.is_none() {
        infer_service_cidrs(&mut config, objects, notices);
    }
    if set.cluster_cidrs.is_none() {
        infer_cluster_cidrs(&mut config, objects, notices, &set);
    }
    config.validate().map_err(|e| {
        let file = settings.map_or("cluster settings", |(f, _)| f);
        CliError::of_kind(e.kind(), format!("{file}: {e}"))
    })?;
    Ok(config)
}

/// The service CIDR of a dump: the `kubernetes` Service holds the first
/// usable address of the primary range; the range is taken as the /16
/// around it, widened until it holds every cluster IP of the input.
fn infer_service_cidrs(config: &mut ClusterConfig, objects: &[Object], notices: &mut Vec<String>) {
    let kubernetes_ip = objects.iter().find_map(|o| match o {
        Object::Service(s)
            if s.metadata.name.as_deref() == Some("kubernetes")
                && s.metadata.namespace.as_deref() == Some("default") =>
        {
            s.spec.cluster_ip.as_deref().and_then(|ip| ip.parse().ok())
        }
        _ => None,
    });
    let cluster_ips: Vec<IpAddr> = objects
        .iter()
        .filter_map(|o| match o {
            Object::Service(s) => Some(s),
            _ => None,
        })
        .flat_map(|s| {
            s.spec
                .cluster_ips
                .clone()
                .unwrap_or_default()
                .into_iter()
                .chain(s.spec.cluster_ip.clone())
        })
        .filter_map(|ip| ip.parse().ok())
        .collect();
    for i in 0..config.service_cidrs.len() {
        let current = config.service_cidrs[i];
        let family = current.family();
        let anchor = kubernetes_ip.filter(|ip| IpFamily::of(ip) == family);
        let ips: Vec<IpAddr> = cluster_ips
            .iter()
            .copied()
            .filter(|ip| IpFamily::of(ip) == family)
            .collect();
        let moved = anchor.is_some_and(|ip| config.kubernetes_ip() != Some(ip));
        let outside = ips.iter().any(|ip| !current.contains(*ip));
        if !moved && !outside {
            continue;
        }
        let start = match family {
            IpFamily::V4 => 16,
            IpFamily::V6 => 112,
        };
        // Without the kubernetes Service, the bootstrap one keeps the
        // configured range's first address: the range must hold it.
        let keep = if anchor.is_none() {
            Some(current.network())
        } else {
            None
        };
        let start = if anchor.is_none() {
            start.min(current.prefix_len())
        } else {
            start
        };
        let seeds: Vec<IpAddr> = anchor
            .into_iter()
            .chain(keep)
            .chain(ips.iter().copied())
            .collect();
        let Some(net) = supernet(&seeds, start) else {
            continue;
        };
        config.service_cidrs[i] = net;
        if i == 0 {
            config.kubernetes_service_ip = match anchor {
                Some(ip) => KubernetesServiceIp::Address(ip),
                None => KubernetesServiceIp::FirstUsable,
            };
        }
        let from = if anchor.is_some() {
            "default/kubernetes".to_owned()
        } else {
            "the Services' cluster IPs".to_owned()
        };
        notices.push(format!("inferred service CIDR {net} from {from}"));
    }
}

/// The cluster CIDR of a dump: the smallest block (at most a /16 for
/// IPv4, /48 for IPv6) holding every node's podCIDRs; the node mask is
/// their prefix when they all share one.
fn infer_cluster_cidrs(
    config: &mut ClusterConfig,
    objects: &[Object],
    notices: &mut Vec<String>,
    set: &Settings,
) {
    let mut pod_cidrs: Vec<IpNet> = Vec::new();
    for o in objects {
        if let Object::Node(n) = o {
            for c in n.spec.pod_cidrs.iter().chain(n.spec.pod_cidr.as_ref()) {
                if let Ok(net) = c.parse::<IpNet>()
                    && !pod_cidrs.contains(&net)
                {
                    pod_cidrs.push(net);
                }
            }
        }
    }
    for family in [IpFamily::V4, IpFamily::V6] {
        let of_family: Vec<IpNet> = pod_cidrs
            .iter()
            .copied()
            .filter(|n| n.family() == family)
            .collect();
        if of_family.is_empty() {
            continue;
        }
        let masks: Vec<u8> = of_family.iter().map(IpNet::prefix_len).collect();
        let mask_set = match family {
            IpFamily::V4 => set.node_cidr_mask_size_ipv4.is_some(),
            IpFamily::V6 => set.node_cidr_mask_size_ipv6.is_some(),
        };
        if !mask_set && masks.iter().all(|m| *m == masks[0]) {
            let slot = match family {
                IpFamily::V4 => &mut config.node_cidr_mask_size_ipv4,
                IpFamily::V6 => &mut config.node_cidr_mask_size_ipv6,
            };
            if *slot != masks[0] {
                *slot = masks[0];
                notices.push(format!(
                    "inferred node CIDR mask /{} from the nodes' podCIDRs",
                    masks[0]
                ));
            }
        }
        let slot = config
            .cluster_cidrs
            .iter()
            .position(|c| c.family() == family);
        if let Some(i) = slot
            && of_family
                .iter()
                .all(|n| config.cluster_cidrs[i].contains_net(n))
        {
            continue;
        }
        let start = match family {
            IpFamily::V4 => 16,
            IpFamily::V6 => 48,
        };
        let seeds: Vec<IpAddr> = of_family
            .iter()
            .flat_map(|n| [n.network(), n.last_address()])
            .collect();
        let Some(net) = supernet(&seeds, start) else {
            continue;
        };
        match slot {
            Some(i) => config.cluster_cidrs[i] = net,
            None => config.cluster_cidrs.push(net),
        }
        notices.push(format!(
            "inferred cluster CIDR {net} from the nodes' podCIDRs"
        ));
    }
}

/// The longest prefix of at most `start` bits that holds every address.
fn supernet(ips: &[IpAddr], start: u8) -> Option<IpNet> {
    let first = *ips.first()?;
    let mut prefix = start;
    loop {
        let net = IpNet::new_truncating(first, prefix).ok()?;
        if ips.iter().all(|ip| net.contains(*ip)) {
            return Some(net);
        }
        prefix = prefix.checked_sub(1)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objects(json: &str) -> Vec<Object> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn defaults_need_no_notice() {
        let mut notices = Vec::new();
        let c = cluster_config(None, &[], &mut notices).unwrap();
        assert_eq!(c, ClusterConfig::default());
        assert!(notices.is_empty());
    }

    #[test]
    fn the_service_range_widens_to_hold_every_cluster_ip() {
        // kubeadm's default serviceSubnet is 10.96.0.0/12.
        let objs = objects(
            r#"[{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "a"},
                 "spec": {"clusterIP": "10.104.3.7", "ports": [{"port": 80}]}}]"#,
        );
        let mut notices = Vec::new();
        let c = cluster_config(None, &objs, &mut notices).unwrap();
        assert_eq!(c.service_cidrs[0].to_string(), "10.96.0.0/12");
        assert_eq!(c.kubernetes_ip().unwrap().to_string(), "10.96.0.1");
        assert_eq!(
            notices,
            ["inferred service CIDR 10.96.0.0/12 from the Services' cluster IPs"]
        );
    }

    #[test]
    fn pod_cidrs_give_cluster_cidr_and_mask() {
        let objs = objects(
            r#"[{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "a"}, "spec": {"podCIDR": "192.168.0.0/26"}},
                {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "b"}, "spec": {"podCIDRs": ["192.168.0.64/26"]}}]"#,
        );
        let mut notices = Vec::new();
        let c = cluster_config(None, &objs, &mut notices).unwrap();
        assert_eq!(c.cluster_cidrs[0].to_string(), "192.168.0.0/16");
        assert_eq!(c.node_cidr_mask_size_ipv4, 26);
        assert_eq!(
            notices,
            [
                "inferred node CIDR mask /26 from the nodes' podCIDRs",
                "inferred cluster CIDR 192.168.0.0/16 from the nodes' podCIDRs"
            ]
        );
    }

    #[test]
    fn the_file_wins_over_inference_and_errors_name_the_key() {
        let objs = objects(
            r#"[{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "kubernetes", "namespace": "default"},
                 "spec": {"clusterIP": "10.100.0.1", "ports": [{"port": 443}]}}]"#,
        );
        let s = Settings {
            service_cidrs: Some(vec!["10.100.0.0/24".into()]),
            ..Settings::default()
        };
        let mut notices = Vec::new();
        let c = cluster_config(Some(("c.yaml", &s)), &objs, &mut notices).unwrap();
        assert_eq!(c.service_cidrs[0].to_string(), "10.100.0.0/24");
        assert!(notices.is_empty());

        let s = Settings {
            node_port_range: Some("3-".into()),
            ..Settings::default()
        };
        let e = cluster_config(Some(("c.yaml", &s)), &[], &mut notices).unwrap_err();
        assert!(e.message().starts_with("c.yaml: nodePortRange: "), "{e}");
        let s = Settings {
            proxy: Some(ProxySettings {
                mode: Some("userspace".into()),
                ..ProxySettings::default()
            }),
            ..Settings::default()
        };
        let e = cluster_config(Some(("c.yaml", &s)), &[], &mut notices).unwrap_err();
        assert!(e.message().contains("proxy.mode"), "{e}");
    }

    // The loadBalancer section: none by default, a pool, or AWS in either
    // spelling; a wrong combination names the key.
    #[test]
    fn load_balancer_settings() {
        let read = |text: &str| {
            let src = Source {
                name: "c.yaml".into(),
                text: text.into(),
            };
            let s = Settings::read(&src).unwrap();
            let mut notices = Vec::new();
            cluster_config(Some(("c.yaml", &s)), &[], &mut notices).map(|c| c.load_balancer)
        };
        assert_eq!(read("{}").unwrap(), LoadBalancerProvider::None);
        assert!(matches!(
            read("loadBalancer: {pool: [192.0.2.0/28]}").unwrap(),
            LoadBalancerProvider::Pool(p) if p[0].to_string() == "192.0.2.0/28"
        ));
        let eu = LoadBalancerProvider::Aws {
            region: "eu-west-1".into(),
        };
        assert_eq!(
            read("loadBalancer: {cloud: aws, region: eu-west-1}").unwrap(),
            eu
        );
        assert_eq!(
            read("loadBalancer: {aws: {region: eu-west-1}}").unwrap(),
            eu
        );
        let e = read("loadBalancer: {pool: [192.0.2.0/28], cloud: aws}").unwrap_err();
        assert!(e.message().starts_with("c.yaml: loadBalancer: "), "{e}");
        let e = read("loadBalancer: {cloud: gcp}").unwrap_err();
        assert!(e.message().contains("unknown cloud `gcp`"), "{e}");
    }
}
