//! The WASM package in Node.
//!
//! Builds the package with `wasm/build.sh --no-opt` (cargo for
//! wasm32-unknown-unknown, the import check, wasm-bindgen for web and
//! nodejs) and runs `node --test wasm/tests/*.test.mjs` over it: the
//! package's functions and `Cluster` class, and `tsc --noEmit` over a typed
//! program (`wasm/tests/types/`; TypeScript from `npm ci` in `wasm/`), and
//! the playground in headless Chromium (`wasm/tests/browser.test.mjs`:
//! Debian's chromium driven by playwright-core; skipped with a notice when
//! chromium is missing, except under `SVCROUTE_REQUIRE_TOOLS=1`).
//!
//! Skipped with a notice when a tool is missing (the wasm32 target,
//! wasm-bindgen 0.2.130, node), unless `SVCROUTE_REQUIRE_TOOLS=1` (as in
//! CI), which makes that a failure. `.ci/test` also runs the full build
//! (with `wasm-opt`) and the same Node tests over the optimized module.

use std::path::Path;
use std::process::{Command, Stdio};

fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace root")
}

fn require_tools() -> bool {
    std::env::var_os("SVCROUTE_REQUIRE_TOOLS").is_some_and(|v| v == "1")
}

fn skip(why: &str) {
    assert!(!require_tools(), "SVCROUTE_REQUIRE_TOOLS=1 but {why}");
    println!("NOTICE: WASM Node tests skipped: {why}");
}

#[test]
fn wasm_package_passes_its_node_tests() {
    let root = workspace_root();
    if Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .map(|s| !s.success())
        .unwrap_or(true)
    {
        return skip("node is not installed");
    }

    let build = Command::new("bash")
        .arg(root.join("wasm/build.sh"))
        .arg("--no-opt")
        .current_dir(root)
        .stdin(Stdio::null())
        .output()
        .expect("run wasm/build.sh");
    let build_log = format!(
        "{}{}",
        String::from_utf8_lossy(&build.stdout),
        String::from_utf8_lossy(&build.stderr)
    );
    match build.status.code() {
        Some(0) => println!("{build_log}"),
        Some(3) => return skip(build_log.trim()),
        _ => panic!(
            "wasm/build.sh --no-opt failed ({}):\n{build_log}",
            build.status
        ),
    }

    let mut tests: Vec<_> = std::fs::read_dir(root.join("wasm/tests"))
        .expect("wasm/tests")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.to_string_lossy().ends_with(".test.mjs"))
        .collect();
    tests.sort();
    assert!(!tests.is_empty(), "no wasm/tests/*.test.mjs");
    let out = Command::new("node")
        .arg("--test")
        .args(&tests)
        .current_dir(root)
        .stdin(Stdio::null())
        .output()
        .expect("run node --test");
    let report = String::from_utf8_lossy(&out.stdout);
    println!("{report}");
    assert!(
        out.status.success(),
        "node --test failed:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("# fail 0"), "{report}");
}
