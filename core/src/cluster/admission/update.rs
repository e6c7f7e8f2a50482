//! Service update: the API server's `BeginUpdate` (patching allocated
//! values, IP-family changes, cluster IP upgrade/downgrade, node-port and
//! health-check-port changes), `PrepareForUpdate` and `ValidateServiceUpdate`.

use std::collections::BTreeSet;

use super::error::{AdmissionError, FieldError, FieldReason};
use super::service::{
    ServiceAdmission, Taken, apply_defaults, held_ips, invalid, ipam_family, normalize_cluster_ips,
    other,
};
use super::validate::{
    cluster_ip, cluster_ips, externally_accessible, is_headless, needs_health_check, parse_ip,
    validate_service,
};
use crate::api::{IPFamily, IPFamilyPolicy, Service, ServiceType};
use crate::ipam::{IpRequest, IpamError};

fn needs_cluster_ip(svc: &Service) -> bool {
    svc.service_type() != ServiceType::ExternalName
}

fn needs_node_port(svc: &Service) -> bool {
    matches!(
        svc.service_type(),
        ServiceType::NodePort | ServiceType::LoadBalancer
    )
}

fn same_cluster_ips(a: &Service, b: &Service) -> bool {
    cluster_ips(a) == cluster_ips(b)
}

fn same_families(a: &Service, b: &Service) -> bool {
    a.spec.ip_families == b.spec.ip_families
}

fn node_port_numbers(svc: &Service) -> Vec<i32> {
    svc.spec
        .ports
        .iter()
        .filter_map(|p| p.node_port)
        .filter(|n| *n != 0)
        .collect()
}

fn hc(svc: &Service) -> i32 {
    svc.spec.health_check_node_port.unwrap_or(0)
}

fn policy_text(policy: Option<IPFamilyPolicy>) -> String {
    policy.map_or("null".to_string(), |p| format!("{:?}", p.as_str()))
}

/// `isMatchingPreferDualStackClusterIPFields`: an update of a
/// PreferDualStack Service that changes none of its IP fields leaves them
/// alone, even if the cluster's dual-stackness changed (ALLOC-7).
pub(super) fn is_matching_prefer_dual_stack(svc: &Service, old: Option<&Service>) -> bool {
    let Some(old) = old else { return false };
    let Some(policy) = svc.spec.ip_family_policy else {
        return false;
    };
    svc.spec.type_ == old.spec.type_
        && needs_cluster_ip(svc)
        && policy == IPFamilyPolicy::PreferDualStack
        && old
            .spec
            .ip_family_policy
            .is_none_or(|p| p == IPFamilyPolicy::PreferDualStack)
        && same_cluster_ips(old, svc)
        && same_families(old, svc)
}

/// The update-only part of `initIPFamilyFields`: SingleStack trims a
/// dual-stack Service to its primary IP and family; any other policy may
/// not drop them (ALLOC-7).
pub(super) fn downgrade_problems(
    svc: &mut Service,
    old: &Service,
    policy: IPFamilyPolicy,
) -> Vec<FieldError> {
    let mut out = Vec::new();
    if policy == IPFamilyPolicy::SingleStack {
        if same_cluster_ips(old, svc)
            && let Some(ips) = svc.spec.cluster_ips.as_mut()
            && ips.len() > 1
        {
            ips.truncate(1);
        }
        if same_families(old, svc) && svc.spec.ip_families.len() > 1 {
            svc.spec.ip_families.truncate(1);
        }
    } else {
        let reduced_ips =
            !cluster_ips(svc).is_empty() && cluster_ips(svc).len() < cluster_ips(old).len();
        let reduced_families = !svc.spec.ip_families.is_empty()
            && svc.spec.ip_families.len() < old.spec.ip_families.len();
        for (reduced, what) in [
            (reduced_ips, "secondary cluster IP"),
            (reduced_families, "secondary IP family"),
        ] {
            if reduced {
                out.push(FieldError::new(
                    "spec.ipFamilyPolicy",
                    FieldReason::Invalid,
                    format!(
                        "{}: must be 'SingleStack' to release the {what}",
                        policy_text(Some(policy))
                    ),
                ));
            }
        }
    }
    out
}

impl ServiceAdmission {
    /// Updates a stored Service (`old`, as stored) to `new` (as the user
    /// submits it), the way the API server does, all or nothing:
    ///
    /// * values the server allocated and the user left out (cluster IPs,
    ///   node ports by port name, the health-check port) are kept;
    /// * IP families (ALLOC-7): the policy is inherited when not given;
    ///   SingleStack → dual-stack adds the missing family's IP; dual →
    ///   SingleStack keeps only `clusterIPs[0]` and releases the other;
    ///   the primary IP and family never change; PreferDualStack Services
    ///   whose IP fields are unchanged are left alone;
    /// * type changes: to ExternalName releases the cluster IPs, from
    ///   ExternalName allocates them; to ClusterIP or ExternalName releases
    ///   the node ports (and clears them if unchanged); new node ports are
    ///   allocated, dropped ones released;
    /// * the health-check node port (ALLOC-15) is allocated when the Service
    ///   starts needing one, released when it stops, and may not change
    ///   while needed.
    ///
    /// Releases happen only when the update succeeds.
    ///
    /// ```
    /// use svcroute::cluster::admission::{ServiceAdmission, ServiceAdmissionConfig};
    /// let config = ServiceAdmissionConfig {
    ///     service_cidrs: vec!["10.96.0.0/16".parse()?, "fd00:10:96::/112".parse()?],
    ///     ..ServiceAdmissionConfig::default()
    /// };
    /// let mut admission = ServiceAdmission::new(&config)?;
    /// let v1 = admission.create(serde_json::from_str(r#"{"metadata": {"name": "web"},
    ///     "spec": {"ports": [{"port": 80}]}}"#)?)?;
    /// assert_eq!(v1.spec.cluster_ips.as_ref().unwrap().len(), 1);
    /// // Switch to dual-stack: the IPv6 address is added, the IPv4 one kept.
    /// let v2 = admission.update(&v1, serde_json::from_str(r#"{"metadata": {"name": "web"},
    ///     "spec": {"ipFamilyPolicy": "RequireDualStack", "ports": [{"port": 80}]}}"#)?)?;
    /// let ips = v2.spec.cluster_ips.clone().unwrap();
    /// assert_eq!(ips[0], v1.spec.cluster_ips.as_ref().unwrap()[0]);
    /// assert!(ips[1].contains(':'));
    /// // And back: the secondary address is released.
    /// let v3 = admission.update(&v2, serde_json::from_str(r#"{"metadata": {"name": "web"},
    ///     "spec": {"ipFamilyPolicy": "SingleStack", "ports": [{"port": 80}]}}"#)?)?;
    /// assert_eq!(v3.spec.cluster_ips.unwrap(), [ips[0].clone()]);
    /// assert!(!admission.ip_allocator().is_allocated(ips[1].parse()?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn update(&mut self, old: &Service, new: Service) -> Result<Service, AdmissionError> {
        let mut old = old.clone();
        self.default_on_read(&mut old);
        let mut svc = new;
        apply_defaults(&mut svc);
        if svc.metadata.namespace.as_deref().is_none_or(str::is_empty) {
            svc.metadata.namespace = old.metadata.namespace.clone();
        }
        let saved = (self.ips.rng_states(), self.ports.rng().clone());
        patch_allocated_values(&mut svc, &old);
        normalize_cluster_ips_update(&mut svc, &old);
        let mut taken = Taken::default();
        let mut give_back = Taken::default();
        match self.update_steps(&mut svc, &old, &mut taken, &mut give_back) {
            Ok(()) => {
                let keep_ips = held_ips(&svc);
                for ip in give_back.ips {
                    if !keep_ips.contains(&ip) {
                        self.ips.release(ip);
                    }
                }
                let mut keep_ports = node_port_numbers(&svc);
                keep_ports.push(hc(&svc));
                for port in give_back.ports {
                    if !keep_ports.contains(&i32::from(port)) {
                        self.ports.release(port);
                    }
                }
                Ok(svc)
            }
            Err(err) => {
                for ip in taken.ips {
                    self.ips.release(ip);
                }
                for port in taken.ports {
                    self.ports.release(port);
                }
                self.ips.restore_rng_states(saved.0);
                self.ports.set_rng(saved.1);
                Err(err)
            }
        }
    }

    /// `defaultOnReadService`: stored objects written before `clusterIPs`
    /// and `ipFamilies` existed read as if they had them.
    pub(super) fn default_on_read(&self, old: &mut Service) {
        normalize_cluster_ips(old);
        if !needs_cluster_ip(old) || !old.spec.ip_families.is_empty() {
            return;
        }
        let primary = self.families()[0];
        if cluster_ip(old) == "None" {
            if old
                .spec
                .selector
                .as_ref()
                .is_none_or(std::collections::BTreeMap::is_empty)
            {
                old.spec.ip_family_policy = Some(IPFamilyPolicy::RequireDualStack);
                old.spec.ip_families = vec![primary, other(primary)];
            } else {
                old.spec.ip_family_policy = Some(IPFamilyPolicy::SingleStack);
                old.spec.ip_families = vec![primary];
            }
        } else {
            old.spec.ip_families = cluster_ips(old)
                .iter()
                .map(|ip| {
                    if ip.contains(':') {
                        IPFamily::IPv6
                    } else {
                        IPFamily::IPv4
                    }
                })
                .collect();
            old.spec.ip_family_policy = match old.spec.ip_families.len() {
                1 => Some(IPFamilyPolicy::SingleStack),
                2 => Some(IPFamilyPolicy::RequireDualStack),
                _ => old.spec.ip_family_policy,
            };
        }
    }

    fn update_steps(
        &mut self,
        svc: &mut Service,
        old: &Service,
        taken: &mut Taken,
        give_back: &mut Taken,
    ) -> Result<(), AdmissionError> {
        if svc.metadata.name != old.metadata.name
            || svc.metadata.namespace != old.metadata.namespace
        {
            return Err(invalid(
                svc,
                vec![FieldError::new(
                    "metadata.name",
                    FieldReason::Invalid,
                    "the name and namespace of an object may not change",
                )],
            ));
        }
        self.init_ip_families(svc, Some(old))?;
        self.update_cluster_ips(svc, old, taken, give_back)?;
        self.update_node_ports(svc, old, taken, give_back)?;
        // PrepareForUpdate: the status is the stored one; fields the new
        // type does not use are wiped when the user did not touch them.
        svc.status = old.status.clone();
        drop_type_dependent_fields(svc, old);
        let mut errors = validate_update(old, svc);
        errors.extend(validate_service(svc));
        if errors.is_empty() {
            Ok(())
        } else {
            Err(invalid(svc, errors))
        }
    }

    /// `updateClusterIPs`: type changes to/from ExternalName, upgrade to
    /// and downgrade from dual-stack.
    fn update_cluster_ips(
        &mut self,
        svc: &mut Service,
        old: &Service,
        taken: &mut Taken,
        give_back: &mut Taken,
    ) -> Result<(), AdmissionError> {
        if is_matching_prefer_dual_stack(svc, Some(old)) {
            return Ok(());
        }
        if !needs_cluster_ip(old) && needs_cluster_ip(svc) {
            return self.allocate_cluster_ips(svc, taken);
        }
        if cluster_ips(old).first().is_some_and(|ip| ip == "None") {
            return Ok(());
        }
        if needs_cluster_ip(old) && !needs_cluster_ip(svc) {
            give_back.ips.extend(held_ips(old));
            return Ok(());
        }
        let (before, after) = (old.spec.ip_families.len(), svc.spec.ip_families.len());
        if before == 1 && after == 2 {
            let ips = svc.spec.cluster_ips.get_or_insert_with(Vec::new);
            if ips.len() < 2 {
                ips.resize(2, String::new());
            }
            let text = ips[1].clone();
            let family = svc.spec.ip_families[1];
            let request = if text.is_empty() {
                IpRequest::Next(ipam_family(family))
            } else {
                let ip = parse_ip(&text).map_err(|msg| {
                    invalid(
                        svc,
                        vec![FieldError::new(
                            "spec.clusterIPs[1]",
                            FieldReason::Invalid,
                            format!("{text:?}: {msg}"),
                        )],
                    )
                })?;
                IpRequest::Specific(ip)
            };
            let got = self.ips.allocate_service(&[request]).map_err(|e| {
                let field = match e {
                    IpamError::IpRangeFull { .. } => None,
                    _ => Some("spec.clusterIPs[1]".to_string()),
                };
                AdmissionError::allocation(field, e)
            })?;
            taken.ips.extend(&got);
            if text.is_empty()
                && let Some(ips) = svc.spec.cluster_ips.as_mut()
            {
                ips[1] = got[0].to_string();
            }
        } else if before == 2 && after == 1 {
            if let Some(ip) = cluster_ips(old).get(1).and_then(|t| parse_ip(t).ok()) {
                give_back.ips.push(ip);
            }
        }
        Ok(())
    }

    /// `txnUpdateNodePorts`: node ports and the health-check port.
    fn update_node_ports(
        &mut self,
        svc: &mut Service,
        old: &Service,
        taken: &mut Taken,
        give_back: &mut Taken,
    ) -> Result<(), AdmissionError> {
        let range = self.ports.range();
        let to_u16 = |field: String, n: i32| {
            u16::try_from(n).map_err(|_| AdmissionError::PortNotInRange {
                field,
                port: i64::from(n),
                range,
            })
        };
        let old_numbers = node_port_numbers(old);
        if needs_node_port(old) && !needs_node_port(svc) {
            give_back
                .ports
                .extend(old_numbers.iter().filter_map(|n| u16::try_from(*n).ok()));
        }
        if needs_node_port(svc) {
            let allocate_missing = svc.service_type() == ServiceType::NodePort
                || svc.spec.allocate_load_balancer_node_ports != Some(false);
            let mut now = BTreeSet::new();
            let mut seen = BTreeSet::new();
            for i in 0..svc.spec.ports.len() {
                let field = format!("spec.ports[{i}].nodePort");
                let np = svc.spec.ports[i].node_port.unwrap_or(0);
                if np == 0 && !allocate_missing {
                    continue;
                }
                let np = if np != 0 {
                    if !old_numbers.contains(&np) && !now.contains(&np) {
                        let port = to_u16(field.clone(), np)?;
                        self.ports
                            .allocate(port)
                            .map_err(|e| AdmissionError::allocation(Some(field.clone()), e))?;
                        taken.ports.push(port);
                        now.insert(np);
                    }
                    np
                } else {
                    let port = self
                        .ports
                        .allocate_next()
                        .map_err(|e| AdmissionError::allocation(None, e))?;
                    taken.ports.push(port);
                    svc.spec.ports[i].node_port = Some(i32::from(port));
                    i32::from(port)
                };
                let protocol = svc.spec.ports[i].protocol.unwrap_or_default();
                if !seen.insert((protocol, np)) {
                    return Err(invalid(
                        svc,
                        vec![FieldError::new(
                            field,
                            FieldReason::Duplicate,
                            np.to_string(),
                        )],
                    ));
                }
            }
            let new_numbers = node_port_numbers(svc);
            give_back.ports.extend(
                old_numbers
                    .iter()
                    .filter(|n| !new_numbers.contains(n))
                    .filter_map(|n| u16::try_from(*n).ok()),
            );
        }
        match (needs_health_check(old), needs_health_check(svc)) {
            (false, true) => {
                let field = "spec.healthCheckNodePort".to_string();
                let requested = match hc(svc) {
                    0 => None,
                    n => Some(to_u16(field.clone(), n)?),
                };
                let port = self
                    .ports
                    .allocate_health_check(requested)
                    .map_err(|e| AdmissionError::allocation(Some(field), e))?;
                taken.ports.push(port);
                svc.spec.health_check_node_port = Some(i32::from(port));
            }
            (true, false) => {
                if let Ok(port) = u16::try_from(hc(old)) {
                    give_back.ports.push(port);
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// `patchAllocatedValues`: what the server allocated and the user left out
/// is kept (cluster IPs; node ports by port name, unless that number is
/// used by another port; the health-check port).
fn patch_allocated_values(svc: &mut Service, old: &Service) {
    if needs_cluster_ip(old) && needs_cluster_ip(svc) {
        if cluster_ip(svc).is_empty() {
            svc.spec.cluster_ip = old.spec.cluster_ip.clone();
        }
        if cluster_ips(svc).is_empty() && !cluster_ips(old).is_empty() {
            svc.spec.cluster_ips = old.spec.cluster_ips.clone();
        }
    }
    if needs_node_port(old) && needs_node_port(svc) {
        let new_numbers = node_port_numbers(svc);
        let used: BTreeSet<i32> = node_port_numbers(old)
            .into_iter()
            .filter(|n| new_numbers.contains(n))
            .collect();
        let by_name: std::collections::BTreeMap<&str, i32> = old
            .spec
            .ports
            .iter()
            .map(|p| (p.name.as_str(), p.node_port.unwrap_or(0)))
            .collect();
        for port in &mut svc.spec.ports {
            if port.node_port.unwrap_or(0) == 0 {
                let value = by_name.get(port.name.as_str()).copied().unwrap_or(0);
                if value != 0 && !used.contains(&value) {
                    port.node_port = Some(value);
                }
            }
        }
    }
    if needs_health_check(old) && needs_health_check(svc) && hc(svc) == 0 {
        svc.spec.health_check_node_port = old.spec.health_check_node_port;
    }
}

/// `normalizeClusterIPs` on update.
fn normalize_cluster_ips_update(svc: &mut Service, old: &Service) {
    if svc.spec.cluster_ips.as_ref().is_some_and(Vec::is_empty) {
        svc.spec.cluster_ips = None;
    }
    if svc.spec.cluster_ip.as_deref() == Some("") {
        svc.spec.cluster_ip = None;
    }
    if !cluster_ips(old).is_empty()
        && cluster_ips(svc).is_empty()
        && cluster_ip(old) == cluster_ip(svc)
    {
        svc.spec.cluster_ips = old.spec.cluster_ips.clone();
    }
    if cluster_ip(old) != cluster_ip(svc) {
        if !cluster_ip(old).is_empty() && cluster_ip(svc).is_empty() {
            if same_cluster_ips(old, svc) {
                svc.spec.cluster_ips = None;
            }
        } else if same_cluster_ips(old, svc) {
            svc.spec.cluster_ips = svc.spec.cluster_ip.clone().map(|ip| vec![ip]);
        }
    }
}

/// `dropTypeDependentFields` (PrepareForUpdate).
fn drop_type_dependent_fields(svc: &mut Service, old: &Service) {
    if needs_cluster_ip(old) && !needs_cluster_ip(svc) {
        if same_cluster_ips(old, svc) {
            svc.spec.cluster_ip = None;
            svc.spec.cluster_ips = None;
        }
        if same_families(old, svc) {
            svc.spec.ip_families.clear();
        }
        if old.spec.ip_family_policy == svc.spec.ip_family_policy {
            svc.spec.ip_family_policy = None;
        }
    }
    if needs_node_port(old) && !needs_node_port(svc) {
        let same = old.spec.ports.len() == svc.spec.ports.len()
            && old
                .spec
                .ports
                .iter()
                .zip(&svc.spec.ports)
                .all(|(a, b)| a.node_port.unwrap_or(0) == b.node_port.unwrap_or(0));
        if same {
            for port in &mut svc.spec.ports {
                port.node_port = None;
            }
        }
    }
    if needs_health_check(old) && !needs_health_check(svc) && hc(old) == hc(svc) {
        svc.spec.health_check_node_port = None;
    }
    if svc.service_type() != ServiceType::LoadBalancer {
        if svc.spec.allocate_load_balancer_node_ports.is_some()
            && svc.spec.allocate_load_balancer_node_ports
                == old.spec.allocate_load_balancer_node_ports
        {
            svc.spec.allocate_load_balancer_node_ports = None;
        }
        if svc.spec.load_balancer_class.is_some()
            && svc.spec.load_balancer_class == old.spec.load_balancer_class
        {
            svc.spec.load_balancer_class = None;
        }
        svc.status.load_balancer = Default::default();
    }
    if !externally_accessible(svc)
        && externally_accessible(old)
        && svc.spec.external_traffic_policy == old.spec.external_traffic_policy
    {
        svc.spec.external_traffic_policy = None;
    }
}

/// The update-only rules of `ValidateServiceUpdate`: the primary cluster
/// IP and family never change; releasing the secondary needs SingleStack;
/// `loadBalancerClass` and `healthCheckNodePort` are immutable.
fn validate_update(old: &Service, svc: &Service) -> Vec<FieldError> {
    let mut out = Vec::new();
    let changed = |field: String| {
        FieldError::new(
            field,
            FieldReason::Invalid,
            "may not change once set".to_string(),
        )
    };
    let single = svc.spec.ip_family_policy == Some(IPFamilyPolicy::SingleStack);
    let external_name = !needs_cluster_ip(svc) || !needs_cluster_ip(old);
    let both_headless = is_headless(old) && is_headless(svc);
    if !(external_name || both_headless) {
        let (o, n) = (cluster_ips(old), cluster_ips(svc));
        if o.len() == n.len() {
            for (i, (a, b)) in o.iter().zip(n).enumerate() {
                if a != b {
                    out.push(changed(format!("spec.clusterIPs[{i}]")));
                }
            }
        } else if o.len() > n.len() {
            if n.is_empty() {
                out.push(FieldError::new(
                    "spec.clusterIPs[0]",
                    FieldReason::Invalid,
                    "primary clusterIP can not be unset",
                ));
            } else if n[0] != o[0] {
                out.push(changed("spec.clusterIPs[0]".into()));
            }
            if n.len() == 1 && !single {
                out.push(FieldError::new(
                    "spec.ipFamilyPolicy",
                    FieldReason::Invalid,
                    "must be set to 'SingleStack' when releasing the secondary clusterIP",
                ));
            }
        } else if !o.is_empty() && n[0] != o[0] {
            out.push(changed("spec.clusterIPs[0]".into()));
        }
    }
    if !external_name && is_headless(old) == is_headless(svc) && !is_headless(svc) {
        let (o, n) = (&old.spec.ip_families, &svc.spec.ip_families);
        if o.len() == n.len() {
            if o != n {
                out.push(changed("spec.ipFamilies[0]".into()));
            }
        } else if o.len() > n.len() {
            if n.is_empty() {
                out.push(FieldError::new(
                    "spec.ipFamilies[0]",
                    FieldReason::Invalid,
                    "primary ipFamily can not be unset",
                ));
            } else if n[0] != o[0] {
                out.push(changed("spec.ipFamilies[0]".into()));
            }
            if n.len() == 1 && !single {
                out.push(FieldError::new(
                    "spec.ipFamilyPolicy",
                    FieldReason::Invalid,
                    "must be set to 'SingleStack' when releasing the secondary ipFamily",
                ));
            }
        } else if !o.is_empty() && n[0] != o[0] {
            out.push(changed("spec.ipFamilies[0]".into()));
        }
    }
    let lb = |s: &Service| s.service_type() == ServiceType::LoadBalancer;
    if lb(old) && lb(svc) && old.spec.load_balancer_class != svc.spec.load_balancer_class {
        out.push(changed("spec.loadBalancerClass".into()));
    }
    if needs_health_check(old) && needs_health_check(svc) && hc(old) != hc(svc) {
        out.push(FieldError::new(
            "spec.healthCheckNodePort",
            FieldReason::Forbidden,
            "field is immutable",
        ));
    }
    out
}
