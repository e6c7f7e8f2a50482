//! `svcroute describe service|endpoints|pod|ingress NAME [-n NS]`: kubectl's
//! describe layouts ([`crate::describe`]); without NAME, every object of
//! the type in the namespace, separated by a blank line as kubectl does.
//! `-o json|yaml` gives the objects themselves, as `get` does.

use clap::Args;
use svcroute::ErrorKind;
use svcroute::api::{Kind, Object};
use svcroute::labels::Selector;

use crate::cli::OutputFormat;
use crate::context::{Context, Scope};
use crate::describe;
use crate::exit::{CliError, Outcome};
use crate::{load, output};

/// Flags of `svcroute describe`.
#[derive(Debug, Clone, Default, Args)]
#[command(after_help = "\
Examples:
  svcroute describe service frontend -n shop -f shop.yaml
  svcroute describe endpoints backend -n shop -f shop.yaml
  svcroute describe pod/backend-7d4b9c-x2k9p -n shop -f shop.yaml")]
pub struct DescribeArgs {
    /// `service` (svc), `endpoints` (ep), `pod` (po) or `ingress` (ing), or TYPE/NAME
    pub resource: String,
    /// The object's name [default: every object of the type]
    pub name: Option<String>,
}

/// Describes the objects.
pub fn run(args: &DescribeArgs, ctx: &mut Context<'_>) -> Result<Outcome, CliError> {
    let format = ctx.output_format("describe", &[OutputFormat::Json, OutputFormat::Yaml])?;
    let (resource, name) = match args.resource.split_once('/') {
        Some((r, n)) => (r, Some(n.to_owned())),
        None => (args.resource.as_str(), args.name.clone()),
    };
    let kind = match resource.to_ascii_lowercase().as_str() {
        "svc" | "service" | "services" => Kind::Service,
        "ep" | "endpoints" => Kind::Endpoints,
        "po" | "pod" | "pods" => Kind::Pod,
        "ing" | "ingress" | "ingresses" => Kind::Ingress,
        other => {
            return Err(CliError::usage(format!(
                "describe shows service, endpoints, pod and ingress objects (got \"{other}\")"
            )));
        }
    };
    let selector = match ctx.selector() {
        Some(text) => Selector::parse(text).map_err(|e| {
            CliError::of_kind(ErrorKind::Parse, format!("invalid -l selector: {e}"))
        })?,
        None => Selector::everything(),
    };
    let cluster = load::cluster(ctx)?;
    let namespace = ctx.namespace().to_owned();
    let ns = match ctx.scope() {
        Scope::All => None,
        Scope::Namespace(n) => Some(n.to_owned()),
    };
    let listed = cluster.list(kind, ns.as_deref(), &selector);
    let found: Vec<&Object> = listed
        .iter()
        .map(AsRef::as_ref)
        .filter(|o| name.is_none() || o.name() == name.as_deref())
        .collect();
    if found.is_empty() {
        if let Some(name) = &name {
            let res = crate::commands::get::resource_of(kind);
            let res = match kind {
                Kind::Service => "services".to_owned(),
                Kind::Pod => "pods".to_owned(),
                Kind::Ingress => "ingresses.networking.k8s.io".to_owned(),
                _ => res,
            };
            return Err(CliError::of_kind(
                ErrorKind::NotFound,
                format!("{res} \"{name}\" not found"),
            ));
        }
        writeln!(ctx.stderr, "No resources found in {namespace} namespace.")?;
        return Ok(Outcome::Positive);
    }
    if let Some(f) = format {
        // Machine-readable: the objects as stored, as `get -o json` gives them.
        let value = if name.is_some() && found.len() == 1 {
            serde_json::to_value(found[0])
        } else {
            serde_json::to_value(&found).map(|items| {
                serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items,
                                   "metadata": {"resourceVersion": ""}})
            })
        }
        .map_err(|e| CliError::of_kind(ErrorKind::Invalid, format!("cannot encode object: {e}")))?;
        output::write_structured(ctx.stdout, f, &value)?;
        return Ok(Outcome::Positive);
    }
    for (i, o) in found.iter().enumerate() {
        if i > 0 {
            writeln!(ctx.stdout)?;
            writeln!(ctx.stdout)?;
        }
        let text = match o {
            Object::Service(s) => describe::describe_service(&cluster, s),
            Object::Endpoints(e) => describe::describe_endpoints(e),
            Object::Pod(p) => describe::describe_pod(p, node_ip(&cluster, p).as_deref()),
            Object::Ingress(i) => describe::describe_ingress(&cluster, i),
            _ => continue,
        };
        write!(ctx.stdout, "{text}")?;
    }
    Ok(Outcome::Positive)
}

/// The InternalIP of the pod's node.
fn node_ip(cluster: &svcroute::cluster::Cluster, pod: &svcroute::api::Pod) -> Option<String> {
    let key = svcroute::api::ObjectKey {
        kind: Kind::Node,
        namespace: None,
        name: pod.spec.node_name.clone()?,
    };
    match cluster.get(&key).as_deref() {
        Some(Object::Node(n)) => n
            .status
            .addresses
            .iter()
            .find(|a| a.type_ == "InternalIP")
            .map(|a| a.address.clone()),
        _ => None,
    }
}
