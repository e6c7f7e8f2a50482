//! The changes a door call returned, back from their JSON shape to the
//! core's [`Changes`], for patching the routing tables and the DNS index.

use serde_json::Value;
use svcroute::api::{Kind, ObjectKey};
use svcroute::cluster::Changes;

/// The core's [`Changes`] from `{"created": [key…], "updated": [key…],
/// "deleted": [key…]}` (keys `{apiVersion, kind, namespace?, name}`);
/// keys of unknown kinds are left out.
// Field by field, so that fields the core may add keep their defaults.
#[allow(clippy::field_reassign_with_default)]
pub(crate) fn from_json(changes: &Value) -> Changes {
    let keys = |field: &str| -> Vec<ObjectKey> {
        changes[field]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(key_from_json)
            .collect()
    };
    let mut out = Changes::default();
    out.created = keys("created");
    out.updated = keys("updated");
    out.deleted = keys("deleted");
    out
}

fn key_from_json(key: &Value) -> Option<ObjectKey> {
    let text = |k: &str| key.get(k).and_then(Value::as_str);
    Some(ObjectKey {
        kind: Kind::from_type(text("apiVersion")?, text("kind")?)?,
        namespace: text("namespace").map(str::to_owned),
        name: text("name")?.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use svcroute::api::Kind;

    #[test]
    fn keys_come_back_with_their_kind_and_namespace() {
        let c = super::from_json(&json!({
            "created": [{"apiVersion": "v1", "kind": "Service", "namespace": "shop", "name": "web"}],
            "updated": [{"apiVersion": "v1", "kind": "Node", "name": "n1"}],
            "deleted": [{"apiVersion": "x/v9", "kind": "Nope", "name": "z"}],
            "skipped": []
        }));
        assert_eq!(c.created[0].kind, Kind::Service);
        assert_eq!(c.created[0].namespace.as_deref(), Some("shop"));
        assert_eq!(c.updated[0].namespace, None);
        assert!(c.deleted.is_empty());
    }
}
