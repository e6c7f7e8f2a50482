//! Replays what the fuzzers found: every minimised crash input under
//! `tests/fuzz-regressions/TARGET/`, and the committed corpus of every
//! target under `fuzz/corpus/TARGET/`, through the same checks the fuzz
//! targets run (`fuzz/src/checks.rs`, included here by path). A replay
//! that panics is a regression.

#[path = "../../fuzz/src/checks.rs"]
#[allow(dead_code)]
mod checks;

use std::path::{Path, PathBuf};

fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.file_name().is_none_or(|n| n != ".keep"))
        .collect();
    files.sort();
    files
}

fn replay(root: &str) -> usize {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(root);
    let mut count = 0;
    for target in checks::TARGETS {
        for file in inputs(&base.join(target)) {
            let data = std::fs::read(&file).unwrap();
            let outcome = std::panic::catch_unwind(|| checks::run(target, &data));
            assert!(
                matches!(outcome, Ok(true)),
                "{target}: {} fails its check",
                file.display()
            );
            count += 1;
        }
    }
    count
}

#[test]
fn minimised_crashes_stay_fixed() {
    replay("tests/fuzz-regressions");
}

#[test]
fn the_committed_corpus_replays_clean() {
    // The seeds alone are well over a hundred inputs; an empty replay
    // means the corpus went missing.
    assert!(replay("fuzz/corpus") > 100);
}

#[test]
fn every_target_has_a_corpus_and_a_dictionary() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    for target in checks::TARGETS {
        assert!(
            !inputs(&fuzz.join("corpus").join(target)).is_empty(),
            "{target}: no corpus"
        );
        assert!(
            fuzz.join("dicts").join(format!("{target}.dict")).is_file(),
            "{target}: no dictionary"
        );
        assert!(
            fuzz.join("fuzz_targets")
                .join(format!("{target}.rs"))
                .is_file(),
            "{target}: no target"
        );
    }
}
