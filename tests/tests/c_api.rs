//! The C door as C sees it.
//!
//! Builds `svcroute-c` (a nested `cargo build`, a no-op when it is fresh),
//! compiles every `bindings/c/tests/*.c` with the machine's gcc in strict C11
//! against the static and the shared library, and runs them; checks that the
//! header compiles as C++17; and checks that the committed header is what the
//! pinned cbindgen generates now.
//!
//! The compiled C programs are left in `target/<profile>/c-tests/`
//! (`NAME-static`, `NAME-shared`), where `.ci/test` runs them under valgrind.
//!
//! When cbindgen 0.29.4 is missing the header check is skipped with a notice,
//! unless `SVCROUTE_REQUIRE_TOOLS=1` (as in CI), which makes it a failure.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// Strict flags for every C compile.
const C_FLAGS: &[&str] = &[
    "-std=c11",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-pedantic",
    "-pthread",
];

/// What a program linked to the static library needs besides it (the list
/// `rustc --print native-static-libs` gives on Linux with glibc).
const STATIC_SYSTEM_LIBS: &[&str] = &["-lgcc_s", "-lutil", "-lrt", "-lpthread", "-lm", "-ldl"];

fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace root")
}

/// `target/<profile>`: this test binary lives in `target/<profile>/deps/`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("path of the test binary");
    exe.parent()
        .and_then(Path::parent)
        .expect("test binary in target/<profile>/deps")
        .to_path_buf()
}

fn require_tools() -> bool {
    std::env::var_os("SVCROUTE_REQUIRE_TOOLS").is_some_and(|v| v == "1")
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    if !out.status.success() {
        panic!(
            "{cmd:?} failed ({})\n--- stdout\n{}\n--- stderr\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

/// Builds `svcroute-c` for this test's profile, once per test binary, and
/// returns the folder holding `libsvcroute_c.a` and `libsvcroute_c.so`.
fn library_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let profile_dir = profile_dir();
        let target_dir = profile_dir.parent().expect("target dir").to_path_buf();
        let profile = profile_dir
            .file_name()
            .and_then(|n| n.to_str())
            .expect("profile dir name")
            .to_owned();
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
        let mut cmd = Command::new(cargo);
        cmd.current_dir(workspace_root())
            .args(["build", "--quiet", "-p", "svcroute-c", "--target-dir"])
            .arg(&target_dir);
        match profile.as_str() {
            "debug" => {}
            "release" => {
                cmd.arg("--release");
            }
            other => {
                cmd.args(["--profile", other]);
            }
        }
        run(&mut cmd);
        for lib in ["libsvcroute_c.a", "libsvcroute_c.so"] {
            assert!(
                profile_dir.join(lib).is_file(),
                "{lib} missing in {}",
                profile_dir.display()
            );
        }
        profile_dir
    })
}

/// The C test programs in `bindings/c/tests/`, sorted.
fn c_tests() -> Vec<PathBuf> {
    let dir = workspace_root().join("bindings/c/tests");
    let mut tests: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "c"))
        .collect();
    tests.sort();
    assert!(!tests.is_empty(), "no C tests in {}", dir.display());
    tests
}

#[derive(Clone, Copy)]
enum Linkage {
    Static,
    Shared,
}

/// Compiles one C test against the library; returns the executable's path.
fn compile(source: &Path, linkage: Linkage) -> PathBuf {
    let lib_dir = library_dir();
    let out_dir = lib_dir.join("c-tests");
    std::fs::create_dir_all(&out_dir).expect("create c-tests dir");
    let stem = source
        .file_stem()
        .and_then(|s| s.to_str())
        .expect("file name");
    let suffix = match linkage {
        Linkage::Static => "static",
        Linkage::Shared => "shared",
    };
    let exe = out_dir.join(format!("{stem}-{suffix}"));
    let mut cmd = Command::new("gcc");
    cmd.args(C_FLAGS)
        .arg(format!(
            "-DSVCROUTE_EXPECTED_VERSION=\"{}\"",
            env!("CARGO_PKG_VERSION")
        ))
        .arg(format!(
            "-DSVCROUTE_TEST_DATA_DIR=\"{}\"",
            workspace_root().join("bindings/c/tests/data").display()
        ))
        .arg("-I")
        .arg(workspace_root().join("bindings/c/include"))
        .arg(source)
        .arg("-o")
        .arg(&exe);
    match linkage {
        Linkage::Static => {
            cmd.arg(lib_dir.join("libsvcroute_c.a"))
                .args(STATIC_SYSTEM_LIBS);
        }
        Linkage::Shared => {
            cmd.arg("-L")
                .arg(lib_dir)
                .arg("-lsvcroute_c")
                .arg(format!("-Wl,-rpath,{}", lib_dir.display()));
        }
    }
    run(&mut cmd);
    exe
}

fn compile_and_run_all(linkage: Linkage) {
    for source in c_tests() {
        let exe = compile(&source, linkage);
        let out = run(&mut Command::new(&exe));
        let stdout = String::from_utf8_lossy(&out.stdout);
        println!("{}: {}", exe.display(), stdout.trim());
        assert!(stdout.contains(" 0 failed"), "{stdout}");
    }
}

#[test]
fn c_tests_pass_against_the_static_library() {
    compile_and_run_all(Linkage::Static);
}

#[test]
fn c_tests_pass_against_the_shared_library() {
    compile_and_run_all(Linkage::Shared);
}

#[test]
fn shared_library_exports_exactly_the_header_functions() {
    let lib = library_dir().join("libsvcroute_c.so");
    let out = match Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&lib)
        .output()
    {
        Ok(out) if out.status.success() => out,
        _ if !require_tools() => {
            println!("NOTICE: nm not available; export list not checked");
            return;
        }
        other => panic!("nm failed: {other:?}"),
    };
    let mut exported: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains(" T "))
        .filter_map(|l| l.split_whitespace().last())
        .filter(|s| s.starts_with("svcroute_"))
        .map(str::to_owned)
        .collect();
    exported.sort();
    let header = std::fs::read_to_string(workspace_root().join("bindings/c/include/svcroute.h"))
        .expect("read header");
    // Declarations are the lines that are not comments and name a function.
    let mut declared: Vec<String> = header
        .lines()
        .filter(|l| !l.trim_start().starts_with("//") && !l.trim_start().starts_with('*'))
        .filter_map(|l| {
            let before_paren = &l[..l.find('(')?];
            let name = before_paren
                .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .next()?;
            name.starts_with("svcroute_").then(|| name.to_owned())
        })
        .collect();
    declared.sort();
    assert!(!declared.is_empty(), "no functions found in svcroute.h");
    assert_eq!(
        exported, declared,
        "exported symbols vs header declarations"
    );
}

#[test]
fn header_compiles_as_cxx17() {
    let mut child = Command::new("g++")
        .args([
            "-std=c++17",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-pedantic",
            "-fsyntax-only",
            "-x",
            "c++",
            "-I",
        ])
        .arg(workspace_root().join("bindings/c/include"))
        .arg("-")
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run g++");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(
            b"#include \"svcroute.h\"\n\
              int main() { svcroute_status s = svcroute_last_error_status();\n\
              return s == SVCROUTE_STATUS_OK && svcroute_version() != nullptr ? 0 : 1; }\n",
        )
        .expect("write to g++");
    let out = child.wait_with_output().expect("g++");
    assert!(
        out.status.success(),
        "g++ rejected svcroute.h:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn committed_header_matches_a_fresh_generation() {
    let out = Command::new("bash")
        .arg(workspace_root().join("bindings/c/gen-header.sh"))
        .arg("--check")
        .stdin(Stdio::null())
        .output()
        .expect("run gen-header.sh");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.code() == Some(3) && !require_tools() {
        println!("NOTICE: header drift check skipped: {}", text.trim());
        return;
    }
    assert!(out.status.success(), "{text}");
}
