//! Reading `-f` input into objects: every source through the core's loader,
//! namespaces defaulted as `kubectl apply -n` does (DECISIONS D15), and the
//! kinds svcroute does not model summed up in one notice (DECISIONS D1).

use std::collections::BTreeMap;

use svcroute::ErrorKind;
use svcroute::api::{self, Object};
use svcroute::cluster::{Cluster, ClusterConfig};

use crate::context::Context;
use crate::exit::CliError;

/// Loads every `-f` input. Objects of namespaced kinds that name no namespace
/// get the command's namespace. Every problem of every source is reported.
pub fn objects(ctx: &mut Context<'_>) -> Result<Vec<Object>, CliError> {
    let sources = ctx.sources()?;
    let namespace = ctx.namespace().to_string();
    let mut objects = Vec::new();
    let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
    let mut problems = Vec::new();
    let mut kind = ErrorKind::Parse;
    for source in &sources {
        match api::load(&source.text) {
            Ok(loaded) => {
                for (meta, count) in &loaded.skipped {
                    *skipped.entry(meta.kind.clone()).or_default() += count;
                }
                for event in &loaded.events {
                    if let Some(object) = event.value.object() {
                        objects.push(object.clone());
                    }
                }
                objects.extend(loaded.into_objects());
            }
            Err(err) => {
                kind = err.kind();
                for problem in err.problems() {
                    problems.push(format!("{}: {problem}", source.name));
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(CliError::of_kind(kind, problems.join("\n")));
    }
    for object in &mut objects {
        if object.kind().is_namespaced() && object.namespace().is_none() {
            object.metadata_mut().namespace = Some(namespace.clone());
        }
    }
    if !skipped.is_empty() {
        let total: usize = skipped.values().sum();
        let kinds: Vec<String> = skipped.iter().map(|(k, n)| format!("{k} ({n})")).collect();
        writeln!(
            ctx.stderr,
            "skipped {total} object{} of kinds svcroute does not model: {}",
            if total == 1 { "" } else { "s" },
            kinds.join(", ")
        )?;
    }
    Ok(objects)
}

/// The cluster the `-f` input describes: it starts as a real cluster does
/// (namespaces `default`, `kube-system`, `kube-public`, `kube-node-lease`
/// and the `default/kubernetes` Service, DECISIONS D7), then takes every
/// object in one atomic batch; the controllers settle (EndpointSlices).
pub fn cluster(ctx: &mut Context<'_>) -> Result<Cluster, CliError> {
    let objects = objects(ctx)?;
    let mut cluster = Cluster::new(ClusterConfig::default())
        .map_err(|e| CliError::from(svcroute::Error::from(e)))?;
    cluster
        .apply_batch(objects)
        .map_err(|e| CliError::from(svcroute::Error::from(e)))?;
    Ok(cluster)
}
