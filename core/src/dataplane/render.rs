//! How kube-proxy writes an endpoint set (rules KP-16, KP-17, KP-18).
//! A small local renderer: `crate::balance` will own the shared chains.

use std::net::SocketAddr;

use super::Render;
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
    let order: Vec<String> = endpoints.iter().map(ToString::to_string).collect();
    match mode {
        ProxyMode::Iptables => {
            let n = order.len();
            let probabilities = (0..n)
                .map(|i| (i + 1 < n).then(|| format!("{:.10}", 1.0 / (n - i) as f64)))
                .collect();
            Render::Iptables {
                endpoint_order: order,
                probabilities,
            }
        }
        ProxyMode::Nftables => Render::Nftables {
            numgen_mod: order.len(),
            vmap_order: order,
        },
        ProxyMode::Ipvs => Render::Ipvs {
            scheduler: ipvs_scheduler.to_owned(),
            real_server_weights: order.into_iter().map(|e| (e, 1)).collect(),
        },
    }
}
