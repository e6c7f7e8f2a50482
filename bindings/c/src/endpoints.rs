//! The endpoints of a Service per port, as kube-proxy reads them from the
//! EndpointSlices (rule EP-13: slice port matched by name and protocol,
//! `addresses[0]` only, duplicates collapsed, sorted by `ip:port`).

use std::collections::BTreeMap;

use serde_json::{Value, json};
use svcroute::ErrorKind;
use svcroute::api::{Kind, Object, ObjectKey, Protocol};
use svcroute::cluster::Cluster;

use crate::door::DoorError;

/// The endpoints of Service `namespace/name` as JSON (the shape is
/// documented on `svcroute_cluster_endpoints_json`).
///
/// ```
/// let c = svcroute_c::door::new_cluster(None).unwrap();
/// let e = svcroute_c::endpoints::service_endpoints(&c, "default", "kubernetes").unwrap();
/// assert_eq!(e["ports"][0]["port"], 443);
/// assert!(e["ports"][0]["endpoints"].as_array().unwrap().is_empty());
/// ```
pub fn service_endpoints(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
) -> Result<Value, DoorError> {
    let key = ObjectKey {
        kind: Kind::Service,
        namespace: Some(namespace.to_owned()),
        name: name.to_owned(),
    };
    let object = cluster.get(&key);
    let Some(Object::Service(svc)) = object.as_deref() else {
        return Err(DoorError::new(
            ErrorKind::NotFound,
            format!("Service {namespace}/{name}: not found"),
        ));
    };
    let slices = cluster.endpoint_slices(namespace, name);
    let ports: Vec<Value> = svc
        .spec
        .ports
        .iter()
        .map(|sp| {
            let protocol = sp.protocol.unwrap_or(Protocol::TCP);
            // `ip:port` text → the endpoint, sorted by that text (EP-13).
            let mut eps: BTreeMap<String, Value> = BTreeMap::new();
            for slice in &slices {
                let Some(port) = slice.ports.iter().find(|p| {
                    p.name.as_deref().unwrap_or("") == sp.name
                        && p.protocol.unwrap_or(Protocol::TCP) == protocol
                }) else {
                    continue;
                };
                let Some(number) = port.port else { continue };
                for ep in &slice.endpoints {
                    let Some(address) = ep.addresses.first() else {
                        continue;
                    };
                    let text = if address.contains(':') {
                        format!("[{address}]:{number}")
                    } else {
                        format!("{address}:{number}")
                    };
                    eps.entry(text).or_insert_with(|| {
                        json!({
                            "address": address,
                            "port": number,
                            "ready": ep.conditions.is_ready(),
                            "serving": ep.conditions.is_serving(),
                            "terminating": ep.conditions.is_terminating(),
                            "nodeName": ep.node_name,
                            "zone": ep.zone,
                        })
                    });
                }
            }
            json!({
                "name": sp.name,
                "port": sp.port,
                "protocol": protocol.as_str(),
                "endpoints": eps.into_values().collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(json!({"namespace": namespace, "name": name, "ports": ports}))
}
