//! API validation of a Service (upstream `ValidateService` and
//! `ValidateServiceClusterIPsRelatedFields`), on the object as defaulted
//! and allocated.

use std::collections::BTreeSet;
use std::net::IpAddr;

use super::error::{FieldError, FieldReason};
use crate::api::{
    IPFamily, IPFamilyPolicy, IntOrString, ObjectMeta, Protocol, Service, ServiceAffinity,
    ServiceType,
};
use crate::ipam::IpNet;
use crate::labels;

/// `ClientIP` affinity timeout bounds (ALLOC-17): `0 < t <= 86400`.
pub(crate) const MAX_CLIENT_IP_AFFINITY_SECONDS: i32 = 86400;
/// The annotations' total size limit (`TotalAnnotationSizeLimitB`).
const TOTAL_ANNOTATION_SIZE: usize = 256 * 1024;
const TOPOLOGY_MODE: &str = "service.kubernetes.io/topology-mode";
const TOPOLOGY_HINTS: &str = "service.kubernetes.io/topology-aware-hints";
const LB_SOURCE_RANGES: &str = "service.beta.kubernetes.io/load-balancer-source-ranges";
/// `trafficDistribution` values with the v1.35 default gates.
const TRAFFIC_DISTRIBUTIONS: [&str; 3] = ["PreferClose", "PreferSameNode", "PreferSameZone"];

fn invalid(field: impl Into<String>, value: impl std::fmt::Display, msg: &str) -> FieldError {
    FieldError::new(field, FieldReason::Invalid, format!("{value}: {msg}"))
}

fn quoted(s: &str) -> String {
    format!("{s:?}")
}

/// `clusterIPs`, absent read as empty.
pub(crate) fn cluster_ips(service: &Service) -> &[String] {
    service.spec.cluster_ips.as_deref().unwrap_or(&[])
}

/// `clusterIP`, absent read as `""`.
pub(crate) fn cluster_ip(service: &Service) -> &str {
    service.spec.cluster_ip.as_deref().unwrap_or("")
}

/// Validation's notion of headless: `clusterIPs == ["None"]`.
pub(crate) fn is_headless(service: &Service) -> bool {
    matches!(cluster_ips(service), [only] if only == "None")
}

/// `ExternallyAccessible` (ALLOC-16): NodePort, LoadBalancer, or ClusterIP
/// with external IPs.
pub(crate) fn externally_accessible(service: &Service) -> bool {
    match service.service_type() {
        ServiceType::NodePort | ServiceType::LoadBalancer => true,
        ServiceType::ClusterIP => !service.spec.external_ips.is_empty(),
        ServiceType::ExternalName => false,
    }
}

/// `NeedsHealthCheck` (ALLOC-15): LoadBalancer with `externalTrafficPolicy: Local`.
pub(crate) fn needs_health_check(service: &Service) -> bool {
    service.service_type() == ServiceType::LoadBalancer
        && service.spec.external_traffic_policy
            == Some(crate::api::ServiceExternalTrafficPolicy::Local)
}

/// An IP in text form as new objects must write it (`IsValidIP`): a plain
/// IPv4 or IPv6 address, no IPv4-mapped IPv6 form.
pub(crate) fn parse_ip(text: &str) -> Result<IpAddr, &'static str> {
    let ip: IpAddr = text
        .parse()
        .map_err(|_| "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")?;
    if let IpAddr::V6(v6) = ip
        && v6.to_ipv4_mapped().is_some()
    {
        return Err("must not be an IPv4-mapped IPv6 address");
    }
    Ok(ip)
}

pub(crate) fn family_of(ip: &IpAddr) -> IPFamily {
    match ip {
        IpAddr::V4(_) => IPFamily::IPv4,
        IpAddr::V6(_) => IPFamily::IPv6,
    }
}

fn port_num_errors(field: String, port: i32, out: &mut Vec<FieldError>) {
    if !(1..=65535).contains(&port) {
        out.push(invalid(
            field,
            port,
            "must be between 1 and 65535, inclusive",
        ));
    }
}

/// `IsValidPortName` (IANA_SVC_NAME): 1-15 of `a-z 0-9 -`, at least one
/// letter, no `--`, no hyphen at either end.
fn port_name_problem(name: &str) -> Option<&'static str> {
    let b = name.as_bytes();
    if b.is_empty() || b.len() > 15 {
        return Some("must be no more than 15 characters");
    }
    if !b
        .iter()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
    {
        return Some("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
    }
    if !b.iter().any(u8::is_ascii_lowercase) {
        return Some("must contain at least one letter (a-z)");
    }
    if name.contains("--") {
        return Some("must not contain consecutive hyphens");
    }
    if b[0] == b'-' || b[b.len() - 1] == b'-' {
        return Some("must not begin or end with a hyphen");
    }
    None
}

/// `ValidateObjectMeta` for a namespaced object whose name is a DNS-1035
/// label (Services).
pub(crate) fn validate_meta(meta: &ObjectMeta, out: &mut Vec<FieldError>) {
    match meta.name.as_deref() {
        None | Some("") => out.push(FieldError::new(
            "metadata.name",
            FieldReason::Required,
            "name or generateName is required",
        )),
        Some(name) => {
            if let Err(e) = labels::validate_dns1035_label(name) {
                out.push(invalid("metadata.name", quoted(name), &e.to_string()));
            }
        }
    }
    match meta.namespace.as_deref() {
        None | Some("") => out.push(FieldError::new(
            "metadata.namespace",
            FieldReason::Required,
            "",
        )),
        Some(ns) => {
            if let Err(e) = labels::validate_dns1123_label(ns) {
                out.push(invalid("metadata.namespace", quoted(ns), &e.to_string()));
            }
        }
    }
    for (k, v) in &meta.labels {
        if let Err(e) = labels::validate_label_key(k) {
            out.push(invalid("metadata.labels", quoted(k), &e.to_string()));
        }
        if let Err(e) = labels::validate_label_value(v) {
            out.push(invalid("metadata.labels", quoted(v), &e.to_string()));
        }
    }
    let mut total = 0usize;
    for (k, v) in &meta.annotations {
        if let Err(e) = labels::validate_label_key(&k.to_ascii_lowercase()) {
            out.push(invalid("metadata.annotations", quoted(k), &e.to_string()));
        }
        total += k.len() + v.len();
    }
    if total > TOTAL_ANNOTATION_SIZE {
        out.push(FieldError::new(
            "metadata.annotations",
            FieldReason::Invalid,
            format!("may not have more than {TOTAL_ANNOTATION_SIZE} bytes in total"),
        ));
    }
}

/// `ValidateServiceClusterIPsRelatedFields`: `clusterIP`/`clusterIPs`
/// agreement, IP syntax, families, policy values (ALLOC-7).
pub(crate) fn validate_cluster_ips_related(service: &Service) -> Vec<FieldError> {
    let mut out = Vec::new();
    if service.service_type() == ServiceType::ExternalName {
        return out;
    }
    let ips = cluster_ips(service);
    let single = cluster_ip(service);
    let list = || format!("{ips:?}");
    if !single.is_empty() {
        match ips.first() {
            None => out.push(FieldError::new(
                "spec.clusterIPs",
                FieldReason::Required,
                "",
            )),
            Some(first) if first != single => out.push(invalid(
                "spec.clusterIPs",
                list(),
                "first value must match `clusterIP`",
            )),
            Some(_) => {}
        }
    } else if !ips.is_empty() {
        out.push(invalid(
            "spec.clusterIPs",
            list(),
            "must be empty when `clusterIP` is not specified",
        ));
    }
    let mut seen = BTreeSet::new();
    for (i, family) in service.spec.ip_families.iter().enumerate() {
        if !seen.insert(*family) {
            out.push(FieldError::new(
                format!("spec.ipFamilies[{i}]"),
                FieldReason::Duplicate,
                quoted(family.as_str()),
            ));
        }
    }
    let mut bad_ips = false;
    let mut parsed = Vec::with_capacity(ips.len());
    for (i, ip) in ips.iter().enumerate() {
        if i == 0 && ip == "None" {
            if ips.len() > 1 {
                bad_ips = true;
                out.push(invalid(
                    "spec.clusterIPs",
                    list(),
                    "'None' must be the first and only value",
                ));
            }
            continue;
        }
        match parse_ip(ip) {
            Ok(addr) => parsed.push(addr),
            Err(msg) => {
                bad_ips = true;
                out.push(invalid(format!("spec.clusterIPs[{i}]"), quoted(ip), msg));
            }
        }
    }
    if ips.len() > 2 {
        out.push(invalid(
            "spec.clusterIPs",
            list(),
            "may only hold up to 2 values",
        ));
    }
    if bad_ips {
        return out;
    }
    if ips.len() > 1 && !(parsed.len() == 2 && family_of(&parsed[0]) != family_of(&parsed[1])) {
        out.push(invalid(
            "spec.clusterIPs",
            list(),
            "may specify no more than one IP for each IP family",
        ));
    }
    if !is_headless(service) && !ips.is_empty() {
        for (i, (ip, family)) in parsed.iter().zip(&service.spec.ip_families).enumerate() {
            if family_of(ip) != *family {
                let want = if *family == IPFamily::IPv4 {
                    "IPv4"
                } else {
                    "IPv6"
                };
                out.push(invalid(
                    format!("spec.clusterIPs[{i}]"),
                    quoted(&ips[i]),
                    &format!("expected an {want} value as indicated by `ipFamilies[{i}]`"),
                ));
            }
        }
    }
    out
}

/// `ValidateService` (create): every rule, in upstream order.
pub(crate) fn validate_service(service: &Service) -> Vec<FieldError> {
    let mut out = Vec::new();
    let spec = &service.spec;
    let meta = &service.metadata;
    validate_meta(meta, &mut out);
    if let (Some(mode), Some(hints)) = (
        meta.annotations.get(TOPOLOGY_MODE),
        meta.annotations.get(TOPOLOGY_HINTS),
    ) && mode != hints
    {
        out.push(invalid(
            format!("metadata.annotations[{TOPOLOGY_MODE}]"),
            quoted(mode),
            &format!("must match annotations[{TOPOLOGY_HINTS}] when both are specified"),
        ));
    }
    let ty = service.service_type();
    let headless = is_headless(service);
    if spec.ports.is_empty() && !headless && ty != ServiceType::ExternalName {
        out.push(FieldError::new("spec.ports", FieldReason::Required, ""));
    }
    match ty {
        ServiceType::LoadBalancer | ServiceType::NodePort if headless => {
            out.push(invalid(
                "spec.clusterIPs[0]",
                quoted("None"),
                &format!("may not be set to 'None' for {} services", ty.as_str()),
            ));
        }
        ServiceType::ExternalName => {
            let forbidden = |f: &str| {
                FieldError::new(
                    f,
                    FieldReason::Forbidden,
                    "may not be set for ExternalName services",
                )
            };
            if !cluster_ips(service).is_empty() {
                out.push(forbidden("spec.clusterIPs"));
            }
            if !spec.ip_families.is_empty() {
                out.push(forbidden("spec.ipFamilies"));
            }
            if spec.ip_family_policy.is_some() {
                out.push(forbidden("spec.ipFamilyPolicy"));
            }
            let name = spec.external_name.as_deref().unwrap_or("");
            let cname = name.strip_suffix('.').unwrap_or(name);
            if cname.is_empty() {
                out.push(FieldError::new(
                    "spec.externalName",
                    FieldReason::Required,
                    "",
                ));
            } else if let Err(e) = labels::validate_dns1123_subdomain(cname) {
                out.push(invalid("spec.externalName", quoted(cname), &e.to_string()));
            }
        }
        _ => {}
    }
    let mut names = BTreeSet::new();
    let require_name = spec.ports.len() > 1;
    for (i, port) in spec.ports.iter().enumerate() {
        let path = format!("spec.ports[{i}]");
        if require_name && port.name.is_empty() {
            out.push(FieldError::new(
                format!("{path}.name"),
                FieldReason::Required,
                "",
            ));
        } else if !port.name.is_empty() {
            if let Err(e) = labels::validate_dns1123_label(&port.name) {
                out.push(invalid(
                    format!("{path}.name"),
                    quoted(&port.name),
                    &e.to_string(),
                ));
            }
            if !names.insert(port.name.as_str()) {
                out.push(FieldError::new(
                    format!("{path}.name"),
                    FieldReason::Duplicate,
                    quoted(&port.name),
                ));
            }
        }
        port_num_errors(format!("{path}.port"), port.port, &mut out);
        if port.protocol.is_none() {
            out.push(FieldError::new(
                format!("{path}.protocol"),
                FieldReason::Required,
                "",
            ));
        }
        match &port.target_port {
            None => out.push(FieldError::new(
                format!("{path}.targetPort"),
                FieldReason::Required,
                "",
            )),
            Some(IntOrString::Int(n)) => {
                port_num_errors(format!("{path}.targetPort"), *n, &mut out);
            }
            Some(IntOrString::String(name)) => {
                if let Some(msg) = port_name_problem(name) {
                    out.push(invalid(format!("{path}.targetPort"), quoted(name), msg));
                }
            }
        }
        if let Some(app) = &port.app_protocol
            && let Err(e) = labels::validate_label_key(app)
        {
            out.push(invalid(
                format!("{path}.appProtocol"),
                quoted(app),
                &e.to_string(),
            ));
        }
    }
    if let Some(selector) = &spec.selector {
        for (k, v) in selector {
            if let Err(e) = labels::validate_label_key(k) {
                out.push(invalid("spec.selector", quoted(k), &e.to_string()));
            }
            if let Err(e) = labels::validate_label_value(v) {
                out.push(invalid("spec.selector", quoted(v), &e.to_string()));
            }
        }
    }
    match spec.session_affinity {
        None => out.push(FieldError::new(
            "spec.sessionAffinity",
            FieldReason::Required,
            "",
        )),
        Some(ServiceAffinity::ClientIP) => validate_client_ip_config(service, &mut out),
        Some(ServiceAffinity::None) => {
            if spec.session_affinity_config.is_some() {
                out.push(FieldError::new(
                    "spec.sessionAffinityConfig",
                    FieldReason::Forbidden,
                    "must not be set when session affinity is None",
                ));
            }
        }
    }
    out.extend(validate_cluster_ips_related(service));
    for (i, ip) in spec.external_ips.iter().enumerate() {
        let path = format!("spec.externalIPs[{i}]");
        match parse_ip(ip) {
            Err(msg) => out.push(invalid(path, quoted(ip), msg)),
            Ok(addr) => {
                if let Some(msg) = special_ip_problem(&addr) {
                    out.push(invalid(path, quoted(ip), msg));
                }
            }
        }
    }
    if spec.type_.is_none() {
        out.push(FieldError::new("spec.type", FieldReason::Required, ""));
    }
    if ty == ServiceType::ClusterIP {
        for (i, port) in spec.ports.iter().enumerate() {
            if port.node_port.is_some_and(|n| n != 0) {
                out.push(FieldError::new(
                    format!("spec.ports[{i}].nodePort"),
                    FieldReason::Forbidden,
                    "may not be used when `type` is 'ClusterIP'",
                ));
            }
        }
    }
    let mut node_ports: BTreeSet<(Protocol, i32)> = BTreeSet::new();
    for (i, port) in spec.ports.iter().enumerate() {
        let Some(np) = port.node_port.filter(|n| *n != 0) else {
            continue;
        };
        if !node_ports.insert((port.protocol.unwrap_or_default(), np)) {
            out.push(FieldError::new(
                format!("spec.ports[{i}].nodePort"),
                FieldReason::Duplicate,
                np.to_string(),
            ));
        }
    }
    let mut ports: BTreeSet<(Protocol, i32)> = BTreeSet::new();
    for (i, port) in spec.ports.iter().enumerate() {
        let protocol = port.protocol.unwrap_or_default();
        if !ports.insert((protocol, port.port)) {
            out.push(FieldError::new(
                format!("spec.ports[{i}]"),
                FieldReason::Duplicate,
                format!("{{port: {}, protocol: {}}}", port.port, protocol.as_str()),
            ));
        }
    }
    validate_source_ranges(service, &mut out);
    if spec.allocate_load_balancer_node_ports.is_some() && ty != ServiceType::LoadBalancer {
        out.push(FieldError::new(
            "spec.allocateLoadBalancerNodePorts",
            FieldReason::Forbidden,
            "may only be used when `type` is 'LoadBalancer'",
        ));
    }
    if ty == ServiceType::LoadBalancer && spec.allocate_load_balancer_node_ports.is_none() {
        out.push(FieldError::new(
            "spec.allocateLoadBalancerNodePorts",
            FieldReason::Required,
            "",
        ));
    }
    if let Some(class) = &spec.load_balancer_class {
        if ty == ServiceType::LoadBalancer {
            if let Err(e) = labels::validate_label_key(class) {
                out.push(invalid(
                    "spec.loadBalancerClass",
                    quoted(class),
                    &e.to_string(),
                ));
            }
        } else {
            out.push(FieldError::new(
                "spec.loadBalancerClass",
                FieldReason::Forbidden,
                "may only be used when `type` is 'LoadBalancer'",
            ));
        }
    }
    validate_traffic_policies(service, &mut out);
    if let Some(td) = &spec.traffic_distribution
        && !TRAFFIC_DISTRIBUTIONS.contains(&td.as_str())
    {
        out.push(FieldError::new(
            "spec.trafficDistribution",
            FieldReason::NotSupported,
            format!("{td:?}: supported values: {TRAFFIC_DISTRIBUTIONS:?}"),
        ));
    }
    out
}

fn validate_client_ip_config(service: &Service, out: &mut Vec<FieldError>) {
    let path = "spec.sessionAffinityConfig";
    let required = |p: String| {
        FieldError::new(
            p,
            FieldReason::Required,
            "when session affinity type is ClientIP",
        )
    };
    let Some(config) = &service.spec.session_affinity_config else {
        out.push(required(path.to_string()));
        return;
    };
    let Some(client_ip) = &config.client_ip else {
        out.push(required(format!("{path}.clientIP")));
        return;
    };
    let Some(t) = client_ip.timeout_seconds else {
        out.push(required(format!("{path}.clientIP.timeoutSeconds")));
        return;
    };
    if t <= 0 || t > MAX_CLIENT_IP_AFFINITY_SECONDS {
        out.push(invalid(
            format!("{path}.clientIP.timeoutSeconds"),
            t,
            &format!("must be greater than 0 and less than {MAX_CLIENT_IP_AFFINITY_SECONDS}"),
        ));
    }
}

/// `ValidateNonSpecialIP`: no unspecified, loopback, link-local unicast or
/// link-local multicast addresses.
fn special_ip_problem(ip: &IpAddr) -> Option<&'static str> {
    if ip.is_unspecified() {
        return Some("may not be unspecified (0.0.0.0)");
    }
    if ip.is_loopback() {
        return Some("may not be in the loopback range (127.0.0.0/8, ::1/128)");
    }
    let (link_local, link_local_multicast) = match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            (
                o[0] == 169 && o[1] == 254,
                o[0] == 224 && o[1] == 0 && o[2] == 0,
            )
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            (s[0] & 0xffc0 == 0xfe80, s[0] & 0xff0f == 0xff02)
        }
    };
    if link_local {
        return Some("may not be in the link-local range (169.254.0.0/16, fe80::/10)");
    }
    if link_local_multicast {
        return Some("may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)");
    }
    None
}

fn validate_source_ranges(service: &Service, out: &mut Vec<FieldError>) {
    let is_lb = service.service_type() == ServiceType::LoadBalancer;
    let forbidden = |p: &str| {
        FieldError::new(
            p,
            FieldReason::Forbidden,
            "may only be used when `type` is 'LoadBalancer'",
        )
    };
    let check = |p: String, value: &str, out: &mut Vec<FieldError>| {
        if IpNet::parse_truncating(value).is_err() {
            out.push(invalid(
                p,
                quoted(value),
                "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
            ));
        }
    };
    let ranges = &service.spec.load_balancer_source_ranges;
    if !ranges.is_empty() {
        // Upstream spells this path with a capital L.
        let path = "spec.LoadBalancerSourceRanges";
        if !is_lb {
            out.push(forbidden(path));
        }
        for (i, value) in ranges.iter().enumerate() {
            check(format!("{path}[{i}]"), value.trim(), out);
        }
    } else if let Some(value) = service.metadata.annotations.get(LB_SOURCE_RANGES) {
        let path = format!("metadata.annotations[{LB_SOURCE_RANGES}]");
        if !is_lb {
            out.push(forbidden(&path));
        }
        let value = value.trim();
        if !value.is_empty() {
            for part in value.split(',') {
                check(path.clone(), part.trim(), out);
            }
        }
    }
}

fn validate_traffic_policies(service: &Service, out: &mut Vec<FieldError>) {
    let spec = &service.spec;
    if !externally_accessible(service) {
        if let Some(p) = spec.external_traffic_policy {
            out.push(invalid(
                "spec.externalTrafficPolicy",
                quoted(p.as_str()),
                "may only be set for externally-accessible services",
            ));
        }
    } else if spec.external_traffic_policy.is_none() {
        out.push(FieldError::new(
            "spec.externalTrafficPolicy",
            FieldReason::Required,
            "",
        ));
    }
    let hc = spec.health_check_node_port.unwrap_or(0);
    if !needs_health_check(service) {
        if hc != 0 {
            out.push(invalid(
                "spec.healthCheckNodePort",
                hc,
                "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
            ));
        }
    } else if hc == 0 {
        out.push(FieldError::new(
            "spec.healthCheckNodePort",
            FieldReason::Required,
            "",
        ));
    } else {
        port_num_errors("spec.healthCheckNodePort".to_string(), hc, out);
    }
    if spec.internal_traffic_policy.is_none() && service.service_type() != ServiceType::ExternalName
    {
        out.push(FieldError::new(
            "spec.internalTrafficPolicy",
            FieldReason::Required,
            "",
        ));
    }
}

/// The policy-related problems `initIPFamilyFields` finds before it
/// defaults the families (ALLOC-7); `configured` are the cluster's families.
pub(crate) fn family_policy_problems(
    service: &Service,
    policy: IPFamilyPolicy,
    configured: &[IPFamily],
) -> (Vec<FieldError>, Vec<IPFamily>) {
    let mut out = Vec::new();
    let ips = cluster_ips(service);
    let mut families = service.spec.ip_families.clone();
    if policy == IPFamilyPolicy::SingleStack {
        let msg = |what: &str| {
            invalid(
                "spec.ipFamilyPolicy",
                quoted(policy.as_str()),
                &format!(
                    "must be 'RequireDualStack' or 'PreferDualStack' when multiple {what} are specified"
                ),
            )
        };
        if ips.len() == 2 {
            out.push(msg("cluster IPs"));
        }
        if families.len() == 2 {
            out.push(msg("IP families"));
        }
    }
    for (i, ip) in ips.iter().enumerate() {
        if ip == "None" {
            break;
        }
        let Ok(addr) = parse_ip(ip) else { break };
        let family = family_of(&addr);
        if i >= families.len() {
            if configured.contains(&family) {
                families.push(family);
            } else {
                out.push(invalid(
                    format!("spec.clusterIPs[{i}]"),
                    format!("{ips:?}"),
                    &format!("{} is not configured on this cluster", family.as_str()),
                ));
            }
        }
    }
    (out, families)
}
