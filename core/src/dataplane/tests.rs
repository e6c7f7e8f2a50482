//! Unit tests of the dataplane's small pieces.

use super::Render;
use super::render::render;
use crate::cluster::ProxyMode;

#[test]
fn iptables_probabilities() {
    let eps: Vec<std::net::SocketAddr> = (1..=3)
        .map(|i| format!("10.0.0.{i}:80").parse().unwrap())
        .collect();
    let Render::Iptables { probabilities, .. } = render(ProxyMode::Iptables, &eps, "rr") else {
        panic!("iptables");
    };
    assert_eq!(
        probabilities,
        vec![
            Some("0.3333333333".into()),
            Some("0.5000000000".into()),
            None
        ]
    );
}
