//! `svcroute explain service NAME [-n NS]`: which pods back the Service and,
//! for every pod that does not, why — the answer to "why does my Service
//! have no endpoints?". Exit 1 when it has no ready endpoint (DECISIONS D5).

use std::io::Write;

use clap::Args;
use serde_json::{Value, json};
use svcroute::ErrorKind;
use svcroute::cluster::{PodVerdict, ServiceExplanation, SkipReason, explain_service};

use crate::cli::OutputFormat;
use crate::context::Context;
use crate::exit::{CliError, Outcome};
use crate::{load, output};

/// Flags of `svcroute explain`.
#[derive(Debug, Clone, Default, Args)]
pub struct ExplainArgs {
    /// What to explain: `service` (or `svc`), or `service/NAME`
    pub resource: String,
    /// The Service's name (unless given as `service/NAME`)
    pub name: Option<String>,
}

/// Explains one Service.
pub fn run(args: &ExplainArgs, ctx: &mut Context<'_>) -> Result<Outcome, CliError> {
    let format = ctx.output_format("explain", &[OutputFormat::Json, OutputFormat::Yaml])?;
    let (resource, name) = match args.resource.split_once('/') {
        Some((r, n)) => (r, Some(n.to_string())),
        None => (args.resource.as_str(), args.name.clone()),
    };
    if !matches!(resource, "service" | "services" | "svc") {
        return Err(CliError::usage(format!(
            "explain answers for Services: `svcroute explain service NAME` (got \"{resource}\")"
        )));
    }
    let name = name.ok_or_else(|| CliError::usage("explain service needs a NAME"))?;
    let cluster = load::cluster(ctx)?;
    let namespace = ctx.namespace().to_string();
    let why = explain_service(&cluster, &namespace, &name).ok_or_else(|| {
        CliError::of_kind(
            ErrorKind::NotFound,
            format!("services \"{name}\" not found in namespace \"{namespace}\""),
        )
    })?;
    match format {
        Some(f) => output::write_structured(ctx.stdout, f, &to_json(&why))?,
        None => write_text(ctx.stdout, &why)?,
    }
    Ok(if why.ready_endpoints() > 0 {
        Outcome::Positive
    } else {
        Outcome::Negative
    })
}

fn write_text(out: &mut dyn Write, why: &ServiceExplanation) -> Result<(), CliError> {
    writeln!(
        out,
        "Service {}/{} ({:?})",
        why.namespace, why.name, why.service_type
    )?;
    if let Some(target) = &why.external_name {
        writeln!(
            out,
            "ExternalName: a DNS alias for {target}; it has no endpoints and kube-proxy installs no rules for it."
        )?;
        return Ok(());
    }
    let Some(selector) = &why.selector else {
        writeln!(
            out,
            "Selector: <none>: the Service selects no pods; its endpoints come from EndpointSlices \
             or an Endpoints object that someone else writes."
        )?;
        return Ok(());
    };
    writeln!(out, "Selector: {selector}")?;
    for p in &why.ports {
        let name = if p.name.is_empty() {
            "<unnamed>"
        } else {
            &p.name
        };
        writeln!(
            out,
            "Port {name}: {}/{} -> targetPort {}",
            p.port, p.protocol, p.target
        )?;
    }
    let ready = why.ready_endpoints();
    writeln!(out, "Ready endpoints: {ready}")?;
    if why.pods.is_empty() {
        writeln!(
            out,
            "No pod in namespace {} carries any of the selector's labels.",
            why.namespace
        )?;
    }
    for pod in &why.pods {
        let mut line = format!("  {}", pod.name);
        if pod.namespace != why.namespace {
            line = format!("  {}/{}", pod.namespace, pod.name);
        }
        if let Some(ip) = &pod.ip {
            line.push_str(&format!("  {ip}"));
        }
        if let Some(node) = &pod.node {
            line.push_str(&format!("  on {node}"));
        }
        line.push_str(&format!(": {}", pod.verdict));
        writeln!(out, "{line}")?;
        for (port, resolved) in &pod.ports {
            let port = if port.is_empty() { "<unnamed>" } else { port };
            match resolved {
                Some(n) => writeln!(out, "      port {port} -> {n}")?,
                None => writeln!(
                    out,
                    "      port {port}: the pod has no container port of that name and protocol, \
                     so this port is left out for this pod"
                )?,
            }
        }
    }
    Ok(())
}

fn to_json(why: &ServiceExplanation) -> Value {
    json!({
        "service": {"namespace": why.namespace, "name": why.name},
        "type": why.service_type.to_string(),
        "selector": why.selector,
        "externalName": why.external_name,
        "ports": why.ports.iter().map(|p| json!({
            "name": p.name, "port": p.port, "protocol": p.protocol, "targetPort": p.target,
        })).collect::<Vec<_>>(),
        "readyEndpoints": why.ready_endpoints(),
        "pods": why.pods.iter().map(|p| json!({
            "namespace": p.namespace, "name": p.name, "ip": p.ip, "node": p.node,
            "verdict": verdict_code(&p.verdict),
            "reason": p.verdict.to_string(),
            "labelMisses": match &p.verdict {
                PodVerdict::NotSelected(misses) => misses.iter().map(|m| json!({
                    "key": m.key, "wanted": m.wanted, "found": m.found,
                })).collect::<Vec<_>>(),
                _ => Vec::new(),
            },
            "ports": p.ports.iter().map(|(n, r)| json!({"name": n, "targetPort": r})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// A stable code per verdict for `-o json` (the words are in `reason`).
fn verdict_code(v: &PodVerdict) -> &'static str {
    match v {
        PodVerdict::Ready => "ready",
        PodVerdict::NotReady => "not-ready",
        PodVerdict::Terminating { serving: true } => "terminating-serving",
        PodVerdict::Terminating { serving: false } => "terminating",
        PodVerdict::Skipped(SkipReason::NoIp) => "no-ip",
        PodVerdict::Skipped(SkipReason::Terminal(_)) => "finished",
        PodVerdict::Skipped(SkipReason::NodeMissing(_)) => "node-missing",
        PodVerdict::NotSelected(_) => "not-selected",
        PodVerdict::OtherNamespace => "other-namespace",
        #[allow(unreachable_patterns)]
        PodVerdict::Skipped(_) => "skipped",
        #[allow(unreachable_patterns)]
        _ => "other",
    }
}
