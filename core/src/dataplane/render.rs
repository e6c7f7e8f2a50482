//! How kube-proxy writes an endpoint set (rules KP-16, KP-17, KP-18): the
//! renderings of [`crate::balance::kube`] in the dataplane's vocabulary. The
//! picks use the same chains (the iptables chain's distribution with one
//! draw per pick, [`crate::balance::kube::pick_numgen`],
//! [`crate::balance::Ipvs`]), so what is printed is what is picked.

use std::net::SocketAddr;

use super::Render;
use crate::balance::{IpvsScheduler, kube};
use crate::cluster::ProxyMode;

/// Renders the (already `ip:port`-sorted) endpoint set for `mode`.
///
/// ```
/// use svcroute::cluster::ProxyMode;
/// use svcroute::dataplane::{Render, render};
/// let eps: Vec<std::net::SocketAddr> = vec!["10.0.0.1:80".parse().unwrap(), "10.0.0.2:80".parse().unwrap()];
/// match render(ProxyMode::Iptables, &eps, "rr") {
///     Render::Iptables { probabilities, .. } => {
///         assert_eq!(probabilities, vec![Some("0.5000000000".to_string()), None]);
///     }
///     _ => unreachable!(),
/// }
/// ```
pub fn render(mode: ProxyMode, endpoints: &[SocketAddr], ipvs_scheduler: &str) -> Render {
    let keys: Vec<String> = endpoints.iter().map(ToString::to_string).collect();
    match mode {
        ProxyMode::Iptables => {
            let r = kube::render_iptables(&keys);
            Render::Iptables {
                endpoint_order: r.endpoint_order,
                probabilities: r.probabilities,
            }
        }
        ProxyMode::Nftables => {
            let r = kube::render_nftables(&keys);
            Render::Nftables {
                numgen_mod: r.numgen_mod,
                vmap_order: r.vmap_order,
            }
        }
        ProxyMode::Ipvs => {
            let sched = IpvsScheduler::parse(ipvs_scheduler).unwrap_or_default();
            let r = kube::render_ipvs(&keys, &[], sched);
            Render::Ipvs {
                // The configured name, even one svcroute schedules as rr.
                scheduler: ipvs_scheduler.to_owned(),
                real_server_weights: r.real_server_weights,
            }
        }
    }
}
