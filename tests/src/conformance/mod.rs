//! The conformance runner: reads `svcroute-conformance/1` suites and runs
//! each case through svcroute's public API.
//!
//! The format is specified in `shared/conformance/README.md`. A case passes
//! when every execution (one per kube-proxy mode for cases that route) passes
//! every step; it is *unsupported* when a step needs something svcroute does
//! not offer yet (never counted as passed), and *failed* otherwise.

pub mod allocation;
pub mod cluster;
pub mod dns;
pub mod route;
pub mod selectors;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

/// What one step (or one case) came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepResult {
    /// Every checked expectation held.
    Pass,
    /// An expectation did not hold; the text says which.
    Fail(String),
    /// The query needs something svcroute does not offer yet; the text names it.
    Unsupported(String),
}

/// The format tag every suite file must carry.
pub const FORMAT: &str = "svcroute-conformance/1";

/// The three kube-proxy modes, in the order cases run them.
pub const MODES: [&str; 3] = ["iptables", "nftables", "ipvs"];

/// A case's level (README section 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Behaviour Kubernetes or a protocol requires.
    Required,
    /// Behaviour of one reference implementation.
    Reference,
}

/// Pass/fail/unsupported counts of one level of one suite.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed.
    pub failed: usize,
    /// Cases that need something not implemented yet.
    pub unsupported: usize,
}

impl Counts {
    fn add(&mut self, result: &StepResult) {
        match result {
            StepResult::Pass => self.passed += 1,
            StepResult::Fail(_) => self.failed += 1,
            StepResult::Unsupported(_) => self.unsupported += 1,
        }
    }
}

/// The outcome of one case.
#[derive(Debug, Clone)]
pub struct CaseOutcome {
    /// The case id.
    pub id: String,
    /// Its level.
    pub level: Level,
    /// What it came to (the first failure or missing feature, with mode and step).
    pub result: StepResult,
}

/// The results of one suite.
#[derive(Debug, Clone, Default)]
pub struct SuiteReport {
    /// `required` counts.
    pub required: Counts,
    /// `reference` counts.
    pub reference: Counts,
    /// Every case outcome, in file order.
    pub cases: Vec<CaseOutcome>,
}

/// The results of every suite, keyed by suite name.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Per suite.
    pub suites: BTreeMap<String, SuiteReport>,
}

/// A part of svcroute that keeps state across the steps of one execution
/// (allocators, the cluster). Each is built from the case's `config` and
/// `objects` the first time a step needs state.
pub trait Handler {
    /// Runs a query this handler knows; `None` when it does not know `kind`.
    fn query(&mut self, kind: &str, query: &Value, expect: &Value) -> Option<StepResult>;
    /// An `apply` step: create or replace these objects.
    fn apply(&mut self, objects: &[Value]) -> StepResult;
    /// A `delete` step: `{apiVersion, kind, namespace?, name}` references.
    fn delete(&mut self, refs: &[Value]) -> StepResult;
    /// A `mutate` step (README section 9); `None` when this handler does not
    /// model it.
    fn mutate(&mut self, mutation: &Value) -> Option<StepResult> {
        let _ = mutation;
        None
    }
    /// Told the index of the step about to run (0-based, as the case lists
    /// its steps), before any of the calls above. The default ignores it.
    fn begin_step(&mut self, index: usize) {
        let _ = index;
    }
}

/// What a handler may need to know about the execution it serves.
#[derive(Debug, Clone, Copy)]
pub struct CaseContext {
    /// The case's level: `required` cases skip reference-only fields
    /// (README section 4).
    pub level: Level,
    /// The kube-proxy mode of this execution, for cases that route.
    pub mode: Option<&'static str>,
}

/// One execution of a case: a fresh state for one mode.
pub struct Execution<'a> {
    /// The case's `config` (absent = `{}`).
    pub config: &'a Value,
    /// The case's initial `objects`.
    pub objects: &'a [Value],
    /// The kube-proxy mode of this execution, when the case routes.
    pub mode: Option<&'static str>,
    /// The case's level.
    pub level: Level,
    /// The stateful handlers, built on first use (`Err` = the case's state
    /// could not be built: every later stateful step reports it).
    handlers: Option<Result<Vec<Box<dyn Handler>>, StepResult>>,
    /// The index of the step being run (told to the handlers).
    index: usize,
}

impl Execution<'_> {
    /// Runs one step.
    fn step(&mut self, index: usize, step: &Value) -> StepResult {
        let Some(map) = step.as_object() else {
            return StepResult::Fail(format!("step {index} is not an object"));
        };
        self.index = index;
        if let Some(query) = map.get("query") {
            let expect = map.get("expect").unwrap_or(&Value::Null);
            let Some((kind, body)) = query.as_object().and_then(|q| q.iter().next()) else {
                return StepResult::Fail(format!("step {index}: empty query"));
            };
            if let Some(result) = selectors::run_query(kind, body, expect) {
                return result;
            }
            let handlers = match self.handlers() {
                Ok(h) => h,
                Err(e) => return e,
            };
            for handler in handlers.iter_mut() {
                if let Some(result) = handler.query(kind, body, expect) {
                    return result;
                }
            }
            return StepResult::Unsupported(format!("query `{kind}`"));
        }
        let Some((kind, body)) = map.iter().next() else {
            return StepResult::Fail(format!("step {index}: empty step"));
        };
        let list: &[Value] = body.as_array().map_or(&[], Vec::as_slice);
        match kind.as_str() {
            "apply" | "delete" => {
                let handlers = match self.handlers() {
                    Ok(h) => h,
                    Err(e) => return e,
                };
                if kind == "apply" {
                    for handler in handlers.iter_mut() {
                        let result = handler.apply(list);
                        if result != StepResult::Pass {
                            return result;
                        }
                    }
                    return StepResult::Pass;
                }
                // Until admission lives inside the cluster, an object may be
                // known to one handler only (a Node made by `addNode`): the
                // delete passes when a handler that holds it deleted it.
                let mut first_failure = None;
                for handler in handlers.iter_mut() {
                    match handler.delete(list) {
                        StepResult::Pass => first_failure = Some(StepResult::Pass),
                        other => {
                            if first_failure.is_none() {
                                first_failure = Some(other);
                            }
                        }
                    }
                }
                first_failure.unwrap_or(StepResult::Pass)
            }
            "mutate" => {
                let handlers = match self.handlers() {
                    Ok(h) => h,
                    Err(e) => return e,
                };
                for handler in handlers.iter_mut() {
                    if let Some(result) = handler.mutate(body) {
                        return result;
                    }
                }
                StepResult::Unsupported("step `mutate`".into())
            }
            other => StepResult::Fail(format!("step {index}: unknown step {other:?}")),
        }
    }

    fn handlers(&mut self) -> Result<&mut Vec<Box<dyn Handler>>, StepResult> {
        let (config, objects) = (self.config, self.objects);
        let ctx = CaseContext {
            level: self.level,
            mode: self.mode,
        };
        let index = self.index;
        let built = self.handlers.get_or_insert_with(|| {
            let alloc = allocation::State::new(config, objects)?;
            let cluster = cluster::State::new(config, objects)?;
            let dns = dns::State::new(config, objects, ctx)?;
            let route = route::State::new(config, objects, ctx)?;
            Ok(vec![
                Box::new(alloc) as Box<dyn Handler>,
                Box::new(cluster),
                Box::new(dns),
                Box::new(route),
            ])
        });
        let handlers = built.as_mut().map_err(|e| e.clone())?;
        for handler in handlers.iter_mut() {
            handler.begin_step(index);
        }
        Ok(handlers)
    }
}

fn case_routes(case: &Value) -> bool {
    case["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|s| s["query"].get("route").is_some())
}

/// Runs one case in every applicable mode.
pub fn run_case(case: &Value, level: Level) -> StepResult {
    let empty = json!({});
    let config = case.get("config").unwrap_or(&empty);
    let objects: &[Value] = case["objects"].as_array().map_or(&[], Vec::as_slice);
    let steps: &[Value] = case["steps"].as_array().map_or(&[], Vec::as_slice);
    let modes: Vec<Option<&'static str>> = if case_routes(case) {
        let listed: Option<Vec<&str>> = case["modes"]
            .as_array()
            .map(|m| m.iter().filter_map(Value::as_str).collect());
        MODES
            .iter()
            .filter(|m| listed.as_ref().is_none_or(|l| l.contains(m)))
            .map(|m| Some(*m))
            .collect()
    } else {
        vec![None]
    };
    for mode in modes {
        let mut exec = Execution {
            config,
            objects,
            mode,
            level,
            handlers: None,
            index: 0,
        };
        for (index, step) in steps.iter().enumerate() {
            let where_ = match mode {
                Some(m) => format!("[{m}] step {index}"),
                None => format!("step {index}"),
            };
            match exec.step(index, step) {
                StepResult::Pass => {}
                StepResult::Fail(why) => return StepResult::Fail(format!("{where_}: {why}")),
                StepResult::Unsupported(what) => {
                    return StepResult::Unsupported(format!("{where_}: {what}"));
                }
            }
        }
    }
    StepResult::Pass
}

/// Runs one suite file's parsed JSON. Fails loudly on a wrong `format`.
pub fn run_suite(doc: &Value) -> Result<(String, SuiteReport), String> {
    if doc["format"] != FORMAT {
        return Err(format!("format is {}, expected {FORMAT:?}", doc["format"]));
    }
    let name = doc["suite"]
        .as_str()
        .ok_or("suite has no `suite` name")?
        .to_string();
    let mut report = SuiteReport::default();
    for case in doc["cases"].as_array().ok_or("suite has no `cases`")? {
        let id = case["id"].as_str().unwrap_or("<no id>").to_string();
        let level = match case["level"].as_str() {
            Some("required") => Level::Required,
            Some("reference") => Level::Reference,
            other => return Err(format!("case {id}: bad level {other:?}")),
        };
        let result = run_case(case, level);
        match level {
            Level::Required => report.required.add(&result),
            Level::Reference => report.reference.add(&result),
        }
        report.cases.push(CaseOutcome { id, level, result });
    }
    Ok((name, report))
}

/// The suite files of a directory: its `*.json` files except the schema.
pub fn suite_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n != "conformance.schema.json")
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Runs every suite in the given directories.
pub fn run_dirs(dirs: &[PathBuf]) -> Result<Report, String> {
    let mut report = Report::default();
    for dir in dirs {
        for file in suite_files(dir)? {
            let text =
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let doc: Value =
                serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
            let (name, suite) = run_suite(&doc).map_err(|e| format!("{}: {e}", file.display()))?;
            if report.suites.insert(name.clone(), suite).is_some() {
                return Err(format!("suite {name} appears twice"));
            }
        }
    }
    Ok(report)
}

impl Report {
    /// The table printed after a run: one row per suite.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<16} {:>26}   {:>26}",
            "suite", "required pass/fail/unsup", "reference pass/fail/unsup"
        );
        let mut total = (Counts::default(), Counts::default());
        for (name, s) in &self.suites {
            let _ = writeln!(
                out,
                "{:<16} {:>26}   {:>26}",
                name,
                format!(
                    "{} / {} / {}",
                    s.required.passed, s.required.failed, s.required.unsupported
                ),
                format!(
                    "{} / {} / {}",
                    s.reference.passed, s.reference.failed, s.reference.unsupported
                ),
            );
            for (t, c) in [(&mut total.0, s.required), (&mut total.1, s.reference)] {
                t.passed += c.passed;
                t.failed += c.failed;
                t.unsupported += c.unsupported;
            }
        }
        let _ = writeln!(
            out,
            "{:<16} {:>26}   {:>26}",
            "TOTAL",
            format!(
                "{} / {} / {}",
                total.0.passed, total.0.failed, total.0.unsupported
            ),
            format!(
                "{} / {} / {}",
                total.1.passed, total.1.failed, total.1.unsupported
            ),
        );
        out
    }

    /// The JSON report (`SVCROUTE_CONFORMANCE_REPORT`).
    pub fn to_json(&self) -> Value {
        let counts = |c: &Counts| json!({"passed": c.passed, "failed": c.failed, "unsupported": c.unsupported});
        let suites: serde_json::Map<String, Value> = self
            .suites
            .iter()
            .map(|(name, s)| {
                let failures: Vec<&str> = s
                    .cases
                    .iter()
                    .filter(|c| matches!(c.result, StepResult::Fail(_)))
                    .map(|c| c.id.as_str())
                    .collect();
                (
                    name.clone(),
                    json!({"required": counts(&s.required), "reference": counts(&s.reference),
                           "failures": failures}),
                )
            })
            .collect();
        json!({ "suites": suites })
    }
}
