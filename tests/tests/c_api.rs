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
              svcroute_flow flow = {};\n\
              flow.protocol = SVCROUTE_PROTOCOL_TCP;\n\
              flow.source_kind = SVCROUTE_SOURCE_KIND_PACKET;\n\
              flow.node = \"n1\";\n\
              svcroute_route_result r = {};\n\
              svcroute_status t = svcroute_route(nullptr, &flow, 0, &r);\n\
              unsigned char buf[SVCROUTE_ENDPOINT_TEXT_SIZE];\n\
              size_t n = 0;\n\
              (void)svcroute_dns_answer(nullptr, buf, sizeof buf, buf, sizeof buf, &n);\n\
              return s == SVCROUTE_STATUS_OK && t == SVCROUTE_STATUS_NULL_ARGUMENT &&\n\
                     r.outcome != SVCROUTE_OUTCOME_FORWARD && svcroute_version() != nullptr ? 0 : 1; }\n",
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

/// Compiles `bindings/c/examples/NAME.c` against the shared library.
fn compile_example(name: &str) -> PathBuf {
    let lib_dir = library_dir();
    let out_dir = lib_dir.join("c-tests");
    std::fs::create_dir_all(&out_dir).expect("create c-tests dir");
    let exe = out_dir.join(format!("example-{name}"));
    run(Command::new("gcc")
        .args(C_FLAGS)
        .arg("-I")
        .arg(workspace_root().join("bindings/c/include"))
        .arg(workspace_root().join(format!("bindings/c/examples/{name}.c")))
        .arg("-o")
        .arg(&exe)
        .arg("-L")
        .arg(lib_dir)
        .arg("-lsvcroute_c")
        .arg(format!("-Wl,-rpath,{}", lib_dir.display())));
    exe
}

/// An echo server on `addr`: greets with `backend NAME`, then echoes until
/// the client closes its side. Runs for the rest of the test process.
fn echo_backend(listener: std::net::TcpListener, name: &'static str) {
    use std::io::{Read, Write};
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let _ = writeln!(stream, "backend {name}");
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 || stream.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
}

/// Three backends on 127.0.0.2-4 sharing one free port.
fn three_backends() -> u16 {
    use std::net::TcpListener;
    for _ in 0..20 {
        let first = TcpListener::bind("127.0.0.2:0").expect("bind 127.0.0.2");
        let port = first.local_addr().expect("local addr").port();
        let (Ok(second), Ok(third)) = (
            TcpListener::bind(("127.0.0.3", port)),
            TcpListener::bind(("127.0.0.4", port)),
        ) else {
            continue;
        };
        echo_backend(first, "a");
        echo_backend(second, "b");
        echo_backend(third, "c");
        return port;
    }
    panic!("no port free on 127.0.0.2-4");
}

/// `bindings/c/examples/tcp_proxy.c` end to end with real sockets: a
/// Service over three ready pods whose IPs are loopback addresses where
/// echo servers listen, and a Service whose only pod is not ready. The
/// proxy relays every connection to the first to one of the three
/// (uniform spread, kube-proxy iptables mode) and refuses connections to
/// the second (KP-12: no ready endpoint, reject).
#[test]
fn tcp_proxy_example_places_and_relays_real_connections() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{Shutdown, TcpStream};
    use std::time::Duration;

    let exe = compile_example("tcp_proxy");
    let port = three_backends();
    let pod = |name: &str, app: &str, ip: &str, ready: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: demo, labels: {{app: {app}}}}}\n\
             spec: {{nodeName: n1}}\nstatus: {{phase: Running, podIPs: [{{ip: {ip}}}], \
             conditions: [{{type: Ready, status: \"{ready}\"}}]}}\n---\n"
        )
    };
    let manifest = format!(
        "apiVersion: v1\nkind: Node\nmetadata: {{name: n1}}\n\
         status: {{addresses: [{{type: InternalIP, address: 127.0.0.1}}]}}\n---\n\
         {}{}{}{}\
         apiVersion: v1\nkind: Service\nmetadata: {{name: echo, namespace: demo}}\n\
         spec: {{clusterIP: 10.96.0.50, selector: {{app: echo}}, ports: [{{port: 80, targetPort: {port}}}]}}\n---\n\
         apiVersion: v1\nkind: Service\nmetadata: {{name: down, namespace: demo}}\n\
         spec: {{clusterIP: 10.96.0.51, selector: {{app: down}}, ports: [{{port: 80, targetPort: {port}}}]}}\n",
        pod("echo-a", "echo", "127.0.0.2", "True"),
        pod("echo-b", "echo", "127.0.0.3", "True"),
        pod("echo-c", "echo", "127.0.0.4", "True"),
        pod("down-a", "down", "127.0.0.2", "False"),
    );
    let dir = library_dir().join("c-tests");
    let manifest_path = dir.join("tcp_proxy-demo.yaml");
    std::fs::write(&manifest_path, manifest).expect("write manifest");

    let mut proxy = Command::new(&exe)
        .arg(&manifest_path)
        .arg("n1")
        .arg("0=10.96.0.50:80")
        .arg("0=10.96.0.51:80")
        .arg("0=[fd00::50]:80")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tcp_proxy");
    let mut stdout = BufReader::new(proxy.stdout.take().expect("stdout"));
    let mut ports = Vec::new();
    loop {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).expect("read proxy stdout") > 0,
            "tcp_proxy exited before ready"
        );
        if line.trim() == "ready" {
            break;
        }
        // "listening 127.0.0.1:P for VIP:PORT", "listening [::1]:P for [VIP]:PORT"
        let addr = line.split_whitespace().nth(1).expect("listening line");
        let v6 = ports.len() == 2;
        assert_eq!(addr.starts_with("[::1]:"), v6, "{line}");
        ports.push(addr.rsplit(':').next().unwrap().parse::<u16>().unwrap());
    }
    assert_eq!(ports.len(), 3);

    let mut counts = std::collections::BTreeMap::new();
    for i in 0..300 {
        let mut c = TcpStream::connect(("127.0.0.1", ports[0])).expect("connect to proxy");
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        writeln!(c, "ping {i}").unwrap();
        c.shutdown(Shutdown::Write).unwrap();
        let mut answer = String::new();
        c.read_to_string(&mut answer).expect("read answer");
        let mut lines = answer.lines();
        let backend = lines.next().unwrap_or_default().to_owned();
        assert!(backend.starts_with("backend "), "{answer:?}");
        assert_eq!(
            lines.next(),
            Some(format!("ping {i}").as_str()),
            "{answer:?}"
        );
        *counts.entry(backend).or_insert(0) += 1;
    }
    println!("spread over the backends: {counts:?}");
    assert_eq!(counts.len(), 3, "{counts:?}");
    for (backend, n) in &counts {
        // Uniform: 100 each expected; 50 is more than 5 standard deviations away.
        assert!(*n >= 50, "{backend} got only {n} of 300: {counts:?}");
    }

    // No ready endpoint: refused (reset or closed without a byte).
    for _ in 0..3 {
        let mut c = TcpStream::connect(("127.0.0.1", ports[1])).expect("connect to proxy");
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let _ = c.write_all(b"hello?\n");
        let mut got = Vec::new();
        match c.read_to_end(&mut got) {
            Ok(_) => assert!(got.is_empty(), "{got:?}"),
            Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
        }
    }

    // IPv6: a listener on [::1] for an IPv6 address no Service has: refused.
    let mut c = TcpStream::connect(("::1", ports[2])).expect("connect to proxy over IPv6");
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = c.write_all(b"hello?\n");
    let mut got = Vec::new();
    match c.read_to_end(&mut got) {
        Ok(_) => assert!(got.is_empty(), "{got:?}"),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
    }

    run(Command::new("kill")
        .arg("-TERM")
        .arg(proxy.id().to_string()));
    let out = proxy.wait_with_output().expect("wait for tcp_proxy");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{}\n{log}", out.status);
    assert!(log.contains("10.96.0.51:80: reject, refused"), "{log}");
    assert!(
        log.contains("[fd00::50]:80: no-such-service, refused"),
        "{log}"
    );
    assert!(log.contains("10.96.0.50:80 -> 127.0.0.3:"), "{log}");
    assert!(log.ends_with("tcp_proxy: stopped\n"), "{log}");
}
