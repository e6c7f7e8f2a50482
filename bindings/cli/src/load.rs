//! Reading `-f` input into a cluster: every source through the core's
//! loader, watch events folded into the state they leave, namespaces
//! defaulted as `kubectl apply -n` does (DECISIONS D15), the kinds svcroute
//! does not model summed up in one notice (DECISIONS D1), the cluster
//! settings from `--config` and the input ([`crate::config`]), and errors
//! that name file, document, object and field.

use std::collections::{BTreeMap, HashMap};

use svcroute::ErrorKind;
use svcroute::api::{self, Object, ObjectKey, WatchEvent};
use svcroute::cluster::{
    Cluster, ClusterConfig, ClusterError, InputTally, LoadBalancerProvider, LoadSummary,
};

use crate::config::{self, LoadBalancerSettings, Settings};
use crate::context::Context;
use crate::exit::CliError;
use crate::input::{self, Source};
use crate::{alb, nodes, pod_state};

/// Where an object was read: the input's name, its document (0-based, as
/// the core counts) and the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The file (or `-`).
    pub source: String,
    /// 0-based document index.
    pub document: usize,
    /// 0-based item of a List, if the object was one.
    pub item: Option<usize>,
    /// 1-based line, when known.
    pub line: Option<usize>,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: document {}", self.source, self.document)?;
        if let Some(i) = self.item {
            write!(f, ", item {i}")?;
        }
        if let Some(l) = self.line {
            write!(f, " (line {l})")?;
        }
        Ok(())
    }
}

/// The objects of the input, in the state the input leaves them (a watch
/// stream's last event wins; `DELETED` removes), each with its origin.
#[derive(Debug, Clone, Default)]
pub struct Input {
    /// The objects, in input order.
    pub objects: Vec<Object>,
    /// Where each object was read (same order).
    pub origins: Vec<Origin>,
    /// Objects of kinds svcroute does not model, by kind.
    pub skipped: BTreeMap<String, usize>,
}

impl Input {
    /// Folds loaded sources into one input; `namespace` is given to
    /// namespaced objects that name none.
    ///
    /// ```
    /// use svcroute_cli::{input::Source, load::Input};
    /// let src = Source { name: "a.yaml".into(), text: "kind: ConfigMap\napiVersion: v1\nmetadata: {name: c}\n---\n\
    ///     apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n".into() };
    /// let input = Input::from_sources(&[src], "shop").unwrap();
    /// assert_eq!(input.objects[0].namespace(), Some("shop"));
    /// assert_eq!(input.origins[0].to_string(), "a.yaml: document 1 (line 5)");
    /// assert_eq!(input.skipped["ConfigMap"], 1);
    /// ```
    pub fn from_sources(sources: &[Source], namespace: &str) -> Result<Input, CliError> {
        let mut problems = Vec::new();
        let mut kind = ErrorKind::Parse;
        let mut state: Vec<Option<(Object, Origin)>> = Vec::new();
        let mut index: HashMap<ObjectKey, usize> = HashMap::new();
        let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
        for source in sources {
            let loaded = match api::load(&source.text) {
                Ok(loaded) => loaded,
                Err(err) => {
                    kind = err.kind();
                    for problem in err.problems() {
                        problems.push(format!("{}: {problem}", source.name));
                    }
                    continue;
                }
            };
            for (meta, count) in &loaded.skipped {
                *skipped.entry(meta.kind.clone()).or_default() += count;
            }
            // Plain objects and watch events, in input order.
            let mut entries: Vec<(Position, Option<usize>, Entry)> = Vec::new();
            for o in loaded.objects {
                entries.push(((o.document, o.item), o.line, Entry::Put(o.value)));
            }
            for e in loaded.events {
                let entry = match e.value {
                    WatchEvent::Added(o) | WatchEvent::Modified(o) => Entry::Put(o),
                    WatchEvent::Deleted(o) => Entry::Delete(o),
                    _ => continue,
                };
                entries.push(((e.document, e.item), e.line, entry));
            }
            entries.sort_by_key(|(pos, _, _)| *pos);
            for ((document, item), line, entry) in entries {
                let origin = Origin {
                    source: source.name.clone(),
                    document,
                    item,
                    line,
                };
                match entry {
                    Entry::Put(mut object) => {
                        default_namespace(&mut object, namespace);
                        let key = object.key();
                        match index.get(&key) {
                            Some(&i) => state[i] = Some((object, origin)),
                            None => {
                                index.insert(key, state.len());
                                state.push(Some((object, origin)));
                            }
                        }
                    }
                    Entry::Delete(mut object) => {
                        default_namespace(&mut object, namespace);
                        if let Some(i) = index.remove(&object.key()) {
                            state[i] = None;
                        }
                    }
                }
            }
        }
        if !problems.is_empty() {
            return Err(CliError::of_kind(kind, problems.join("\n")));
        }
        let (objects, origins) = state.into_iter().flatten().unzip();
        Ok(Input {
            objects,
            origins,
            skipped,
        })
    }

    /// Applies the objects to `cluster` in one atomic batch and says what
    /// that did: read, generated, skipped, and the namespaces a real API
    /// server would not have found.
    ///
    /// ```
    /// use svcroute::cluster::{Cluster, ClusterConfig};
    /// use svcroute_cli::{input::Source, load::Input};
    /// let src = Source { name: "a.yaml".into(), text: "apiVersion: v1\nkind: Service\n\
    ///     metadata: {name: web, namespace: shop}\nspec: {ports: [{port: 80}]}\n".into() };
    /// let input = Input::from_sources(&[src], "default").unwrap();
    /// let mut cluster = Cluster::new(ClusterConfig::default()).unwrap();
    /// let summary = input.apply(&mut cluster).unwrap();
    /// assert_eq!(summary.to_string(), "read 1 object (1 Service)");
    /// assert_eq!(summary.namespace_warnings()[0].namespace, "shop");
    /// ```
    pub fn apply(&self, cluster: &mut Cluster) -> Result<LoadSummary, CliError> {
        let mut tally = InputTally::of(&self.objects);
        for (kind, n) in &self.skipped {
            tally.skipped(kind, *n);
        }
        let changes = cluster
            .apply_batch(self.objects.clone())
            .map_err(|e| self.locate(&e))?;
        Ok(tally.finish(&changes, cluster))
    }

    /// A refused batch as an error naming, for each problem, the file and
    /// document the object came from, the object and the field.
    pub fn locate(&self, err: &ClusterError) -> CliError {
        let lines: Vec<String> = err
            .problems()
            .iter()
            .map(|p| {
                let mut line = String::new();
                if let Some(origin) = p.index.and_then(|i| self.origins.get(i)) {
                    line.push_str(&format!("{origin}: "));
                }
                if let Some(o) = &p.object {
                    line.push_str(&format!("{o}: "));
                }
                if let Some(f) = &p.field {
                    line.push_str(&format!("{f}: "));
                }
                line.push_str(&p.message);
                line
            })
            .collect();
        CliError::of_kind(err.kind(), lines.join("\n"))
    }
}

/// (document, List item): the order of objects in one input.
type Position = (usize, Option<usize>);

enum Entry {
    Put(Object),
    Delete(Object),
}

fn default_namespace(object: &mut Object, namespace: &str) {
    if object.kind().is_namespaced() && object.namespace().is_none() {
        object.metadata_mut().namespace = Some(namespace.to_owned());
    }
}

/// Loads every `-f` input (the D1 count of skipped kinds is in
/// [`Input::skipped`], said in the summary line of [`cluster`]).
pub fn input(ctx: &mut Context<'_>) -> Result<Input, CliError> {
    let sources = ctx.sources()?;
    Input::from_sources(&sources, ctx.namespace())
}

/// The objects of the `-f` input (see [`Input`]).
pub fn objects(ctx: &mut Context<'_>) -> Result<Vec<Object>, CliError> {
    Ok(input(ctx)?.objects)
}

/// The cluster configuration for `input`: `--config`, then inference, each
/// inference said on stderr.
pub fn config_for(ctx: &mut Context<'_>, input: &Input) -> Result<ClusterConfig, CliError> {
    let mut settings = match &ctx.global.config {
        Some(path) => {
            let source = input::read_file(path)?;
            Some((source.name.clone(), Settings::read(&source)?))
        }
        None => None,
    };
    flags_over(ctx, &mut settings);
    let mut notices = Vec::new();
    let config = config::cluster_config(
        settings.as_ref().map(|(f, s)| (f.as_str(), s)),
        &input.objects,
        &mut notices,
    )?;
    for n in notices {
        writeln!(ctx.stderr, "{n}")?;
    }
    Ok(config)
}

/// The cluster flags (`--lb-pool`, `--cloud`, `--region`) over the
/// settings file's keys: a flag given replaces the file's whole
/// `loadBalancer` section.
fn flags_over(ctx: &Context<'_>, settings: &mut Option<(String, Settings)>) {
    let g = ctx.global;
    if g.lb_pool.is_empty() && g.cloud.is_none() && g.region.is_none() {
        return;
    }
    let (_, s) = settings.get_or_insert_with(|| ("command line".to_owned(), Settings::default()));
    s.load_balancer = Some(LoadBalancerSettings {
        pool: (!g.lb_pool.is_empty()).then(|| g.lb_pool.clone()),
        cloud: g.cloud.clone(),
        region: g.region.clone(),
        aws: None,
    });
}

/// The cluster the `-f` input describes, as a real cluster would run it:
/// it starts as a fresh cluster does (namespaces `default`, `kube-system`,
/// `kube-public`, `kube-node-lease` and the `default/kubernetes` Service,
/// DECISIONS D7), gets `--nodes` default nodes when the input has none and
/// something to place ([`nodes`]), then takes every object in one atomic
/// batch: the workload controllers make ReplicaSets and Pods, the
/// scheduler places them, the endpoint controllers settle. Then
/// `--not-ready` and `--terminating` ([`pod_state`]). On stderr: the
/// inferred settings, the default nodes, a warning per namespace a real
/// API server would refuse and one summary line (both the core's
/// [`LoadSummary`]).
pub fn cluster(ctx: &mut Context<'_>) -> Result<Cluster, CliError> {
    let input = input(ctx)?;
    let config = config_for(ctx, &input)?;
    let mut cluster =
        Cluster::new(config.clone()).map_err(|e| CliError::from(svcroute::Error::from(e)))?;
    if config.workloads && nodes::needs_default_nodes(&input.objects) {
        let n = ctx.global.nodes.unwrap_or(nodes::DEFAULT_NODE_COUNT);
        if n > 0 {
            let defaults = nodes::default_nodes_for(n, &config);
            cluster
                .apply_batch(defaults.into_iter().map(Object::Node).collect())
                .map_err(|e| CliError::from(svcroute::Error::from(e)))?;
            writeln!(ctx.stderr, "{}", nodes::notice(n))?;
        }
    }
    let summary = input.apply(&mut cluster)?;
    for warning in summary.namespace_warnings() {
        writeln!(ctx.stderr, "{warning}")?;
    }
    writeln!(ctx.stderr, "{summary}")?;
    pod_state::apply(
        &mut cluster,
        &ctx.global.not_ready,
        &ctx.global.terminating,
        ctx.namespace(),
    )?;
    if let LoadBalancerProvider::Aws { region } = &config.load_balancer {
        let writes = alb::controller_writes(&cluster, region);
        if writes.iter().any(|o| matches!(o, Object::IngressClass(_))) {
            writeln!(
                ctx.stderr,
                "no IngressClass \"{}\" in the input: added it (controller {}), as the AWS Load Balancer Controller's install does",
                alb::CLASS,
                alb::CONTROLLER
            )?;
        }
        if !writes.is_empty() {
            cluster
                .apply_batch(writes)
                .map_err(|e| CliError::from(svcroute::Error::from(e)))?;
        }
    }
    Ok(cluster)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(name: &str, text: &str) -> Source {
        Source {
            name: name.into(),
            text: text.into(),
        }
    }

    #[test]
    fn watch_streams_leave_the_last_state() {
        let text = r#"{"type": "ADDED", "object": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}}
{"type": "ADDED", "object": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "b"}}}
{"type": "MODIFIED", "object": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a", "labels": {"x": "1"}}}}
{"type": "DELETED", "object": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "b"}}}
"#;
        let input = Input::from_sources(&[src("w.json", text)], "default").unwrap();
        assert_eq!(input.objects.len(), 1);
        assert_eq!(input.objects[0].name(), Some("a"));
        assert_eq!(input.objects[0].metadata().labels["x"], "1");
        assert_eq!(input.origins[0].document, 2);
    }

    #[test]
    fn a_later_file_replaces_an_object() {
        let a = src(
            "a.yaml",
            "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n",
        );
        let b = src(
            "b.yaml",
            "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {ports: [{port: 81}]}\n",
        );
        let input = Input::from_sources(&[a, b], "shop").unwrap();
        assert_eq!(input.objects.len(), 1);
        assert_eq!(input.origins[0].source, "b.yaml");
    }

    #[test]
    fn load_errors_name_every_file() {
        let e = Input::from_sources(
            &[
                src("a.yaml", "kind: [\n"),
                src("b.json", "{\"kind\": \"Pod\"}"),
            ],
            "default",
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with("parse: a.yaml: document 0"), "{text}");
        assert!(text.contains("\nb.json: document 0"), "{text}");
    }
}
