//! Runs every conformance suite in `../shared/conformance/` and in
//! `$SVCROUTE_CONFORMANCE_DIR`, prints a table per suite, writes
//! `$SVCROUTE_CONFORMANCE_REPORT` as JSON when set, and fails when a
//! `required` case fails.
//!
//! `cargo test -p svcroute-tests --test conformance`

use std::path::PathBuf;
use std::process::ExitCode;

use svcroute_tests::conformance::{Level, StepResult, run_dirs};

/// The documented deviations: case id → evidence.
fn deviations() -> std::collections::BTreeMap<String, String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("conformance/deviations.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(' '))
        .map(|(id, why)| (id.to_string(), why.trim().to_string()))
        .collect()
}

fn main() -> ExitCode {
    let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance");
    let mut dirs = vec![shared];
    if let Some(extra) = std::env::var_os("SVCROUTE_CONFORMANCE_DIR") {
        dirs.push(PathBuf::from(extra));
    }
    let report = match run_dirs(&dirs) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("conformance: {e}");
            return ExitCode::FAILURE;
        }
    };
    let verbose = std::env::var_os("SVCROUTE_CONFORMANCE_VERBOSE").is_some();
    let deviations = deviations();
    let mut required_failures = 0;
    let mut deviating = Vec::new();
    for (suite, s) in &report.suites {
        for case in &s.cases {
            match (&case.result, case.level) {
                (StepResult::Fail(why), Level::Required) => {
                    if let Some(reason) = deviations.get(case.id.as_str()) {
                        deviating
                            .push(format!("{suite}/{}: {why}\n    because: {reason}", case.id));
                    } else {
                        required_failures += 1;
                        println!("FAIL {suite}/{}: {why}", case.id);
                    }
                }
                (StepResult::Pass, _) if deviations.contains_key(case.id.as_str()) => {
                    println!(
                        "note: {suite}/{} passes but is listed in tests/conformance/deviations.txt",
                        case.id
                    );
                }
                (StepResult::Fail(why), Level::Reference) => {
                    println!("fail (reference) {suite}/{}: {why}", case.id);
                }
                (StepResult::Unsupported(what), _) if verbose => {
                    println!("unsupported {suite}/{}: {what}", case.id);
                }
                _ => {}
            }
        }
    }
    for d in &deviating {
        println!("deviation (follows upstream, see tests/conformance/deviations.txt) {d}");
    }
    println!();
    print!("{}", report.table());
    if let Some(path) = std::env::var_os("SVCROUTE_CONFORMANCE_REPORT") {
        let text = serde_json::to_string_pretty(&report.to_json()).expect("report serialises");
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!(
                "conformance: cannot write {}: {e}",
                PathBuf::from(path).display()
            );
            return ExitCode::FAILURE;
        }
    }
    let passed: usize = report
        .suites
        .values()
        .map(|s| s.required.passed + s.reference.passed)
        .sum();
    let failed: usize = report
        .suites
        .values()
        .map(|s| s.required.failed + s.reference.failed)
        .sum();
    let unsupported: usize = report
        .suites
        .values()
        .map(|s| s.required.unsupported + s.reference.unsupported)
        .sum();
    println!("conformance: {passed} passed, {failed} failed, {unsupported} skipped");
    if required_failures > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
