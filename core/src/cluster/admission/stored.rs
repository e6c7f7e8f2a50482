//! Admission of a stored Service (D7): what is set is kept and occupied,
//! what is absent is allocated.

use super::error::AdmissionError;
use super::service::{ServiceAdmission, Taken, apply_defaults, normalize_cluster_ips};
use super::validate::{cluster_ip, cluster_ips, needs_health_check, parse_ip};
use crate::api::{Service, ServiceType};
use crate::ipam::{IpFamily, IpamError, ServicePortRequest};

impl ServiceAdmission {
    /// Takes `service` as the API server stored it (a dump's object, or a
    /// manifest that names its cluster IP): defaults are filled in, the IP
    /// families are read from the addresses when absent (as the API server
    /// reads old objects), and then
    ///
    /// * every cluster IP, node port and health-check node port that is set
    ///   and lies in its range is occupied; one already held by another
    ///   Service is an `already-allocated` error naming the field
    ///   (`spec.clusterIPs[0]`, `spec.ports[1].nodePort`,
    ///   `spec.healthCheckNodePort`);
    /// * values outside the configured ranges are kept as they are (stored
    ///   state is not re-validated);
    /// * what is absent is allocated: node ports of NodePort and
    ///   LoadBalancer ports that have none (unless
    ///   `allocateLoadBalancerNodePorts: false`), the health-check node port
    ///   of a LoadBalancer with `externalTrafficPolicy: Local` (ALLOC-15).
    ///
    /// The status is kept. On error nothing changes.
    ///
    /// ```
    /// use svcroute::cluster::admission::{ServiceAdmission, ServiceAdmissionConfig};
    /// let mut admission = ServiceAdmission::new(&ServiceAdmissionConfig::default())?;
    /// let dumped = serde_json::from_str(r#"{"metadata": {"name": "web", "namespace": "shop"},
    ///     "spec": {"type": "NodePort", "clusterIP": "10.96.0.20", "ports": [{"port": 80}]}}"#)?;
    /// let stored = admission.admit_stored(dumped)?;
    /// assert_eq!(stored.spec.cluster_ip.as_deref(), Some("10.96.0.20")); // kept
    /// assert!(stored.spec.ports[0].node_port.is_some()); // allocated
    /// assert_eq!(stored.spec.ip_families[0].as_str(), "IPv4");
    /// let twin = serde_json::from_str(r#"{"metadata": {"name": "twin", "namespace": "shop"},
    ///     "spec": {"clusterIP": "10.96.0.20", "ports": [{"port": 80}]}}"#)?;
    /// let err = admission.admit_stored(twin).unwrap_err();
    /// assert_eq!((err.code(), err.field()), ("already-allocated", Some("spec.clusterIPs[0]")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn admit_stored(&mut self, service: Service) -> Result<Service, AdmissionError> {
        let mut svc = service;
        apply_defaults(&mut svc);
        if svc.metadata.namespace.as_deref().is_none_or(str::is_empty) {
            svc.metadata.namespace = Some("default".into());
        }
        normalize_cluster_ips(&mut svc);
        // The API server writes both fields; a stored object with the list
        // only reads as if it had the singular one too.
        if svc.spec.cluster_ip.is_none()
            && let Some(first) = svc.spec.cluster_ips.as_ref().and_then(|ips| ips.first())
        {
            svc.spec.cluster_ip = Some(first.clone());
        }
        self.default_on_read(&mut svc);
        let saved = (self.ips.rng_states(), self.ports.rng().clone());
        let mut taken = Taken::default();
        let result = self
            .occupy_cluster_ips(&svc, &mut taken)
            .and_then(|()| self.stored_node_ports(&mut svc, &mut taken));
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
                Err(err)
            }
        }
    }

    /// Occupies the cluster IPs that are set and in range; a taken one is
    /// an error.
    fn occupy_cluster_ips(
        &mut self,
        svc: &Service,
        taken: &mut Taken,
    ) -> Result<(), AdmissionError> {
        if svc.service_type() == ServiceType::ExternalName {
            return Ok(());
        }
        let texts: Vec<String> = match cluster_ips(svc) {
            [] => vec![cluster_ip(svc).to_owned()],
            ips => ips.to_vec(),
        };
        for (i, text) in texts.iter().enumerate() {
            if text.is_empty() || text == "None" {
                continue;
            }
            let field = format!("spec.clusterIPs[{i}]");
            let ip = parse_ip(text).map_err(|msg| {
                super::service::invalid(
                    svc,
                    vec![super::FieldError::new(
                        field.clone(),
                        super::FieldReason::Invalid,
                        format!("{text:?}: {msg}"),
                    )],
                )
            })?;
            let in_range = self
                .ips
                .get(IpFamily::of(&ip))
                .is_some_and(|a| a.in_range(ip));
            if !in_range || taken.ips.contains(&ip) {
                continue;
            }
            match self.ips.allocate(ip) {
                Ok(()) => taken.ips.push(ip),
                Err(e @ IpamError::IpAlreadyAllocated { .. }) => {
                    return Err(AdmissionError::allocation(Some(field), e));
                }
                // Reserved addresses of the range (network, broadcast) are
                // kept as stored.
                Err(_) => {}
            }
        }
        Ok(())
    }

    /// Node ports and the health-check node port of a stored Service.
    fn stored_node_ports(
        &mut self,
        svc: &mut Service,
        taken: &mut Taken,
    ) -> Result<(), AdmissionError> {
        let range = self.ports.range();
        let in_range = |n: i32| u16::try_from(n).is_ok_and(|p| range.contains(p));
        let ty = svc.service_type();
        if matches!(ty, ServiceType::NodePort | ServiceType::LoadBalancer) {
            let allocate_missing = ty == ServiceType::NodePort
                || svc.spec.allocate_load_balancer_node_ports != Some(false);
            // Entries whose node port is set but outside the range are
            // kept as stored and left out of the request.
            let mut index = Vec::with_capacity(svc.spec.ports.len());
            let mut requests = Vec::with_capacity(svc.spec.ports.len());
            for (i, port) in svc.spec.ports.iter().enumerate() {
                let request = ServicePortRequest::new(port.port);
                match port.node_port.unwrap_or(0) {
                    0 => requests.push(request),
                    np if in_range(np) => {
                        requests.push(request.with_node_port(u16::try_from(np).unwrap_or(0)));
                    }
                    _ => continue,
                }
                index.push(i);
            }
            let got = self
                .ports
                .allocate_service_ports(&requests, allocate_missing)
                .map_err(|err| match err {
                    IpamError::ServicePort { index: at, source } => {
                        let i = index.get(at).copied().unwrap_or(at);
                        AdmissionError::allocation(
                            Some(format!("spec.ports[{i}].nodePort")),
                            *source,
                        )
                    }
                    other => AdmissionError::allocation(None, other),
                })?;
            for (&i, np) in index.iter().zip(&got) {
                if let Some(np) = np {
                    svc.spec.ports[i].node_port = Some(i32::from(*np));
                    if !taken.ports.contains(np) {
                        taken.ports.push(*np);
                    }
                }
            }
        }
        if needs_health_check(svc) {
            let requested = match svc.spec.health_check_node_port.unwrap_or(0) {
                0 => None,
                hc if in_range(hc) => u16::try_from(hc).ok(),
                _ => return Ok(()),
            };
            let hc = self.ports.allocate_health_check(requested).map_err(|e| {
                AdmissionError::allocation(Some("spec.healthCheckNodePort".into()), e)
            })?;
            taken.ports.push(hc);
            svc.spec.health_check_node_port = Some(i32::from(hc));
        }
        Ok(())
    }
}
