//! `svcroute serve-dns` reloads its manifests on SIGHUP without dropping a
//! query (issue 13, "A DNS server under load"): a client keeps asking over
//! UDP while the file changes, a reload adds a Service, a broken file is
//! refused and the previous cluster keeps being served.

use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use svcroute::dns::RecordType;
use svcroute::dns::wire::{self, Message};

fn manifests(with_api: bool) -> String {
    let mut items = vec![
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
        serde_json::json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"clusterIP": "10.96.0.20", "ports": [{"name": "http", "port": 80}]}}),
    ];
    if with_api {
        items.push(serde_json::json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "api", "namespace": "shop"},
            "spec": {"clusterIP": "10.96.0.30", "ports": [{"name": "http", "port": 80}]}}));
    }
    serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items}).to_string()
}

/// One UDP question; the response, or `None` after two seconds.
fn ask(sock: &UdpSocket, id: u16, name: &str) -> Option<Message> {
    let q = wire::encode(&Message::query(id, name, RecordType::A)).expect("encode");
    sock.send(&q).expect("send");
    let mut buf = [0u8; 1024];
    loop {
        let n = sock.recv(&mut buf).ok()?;
        let m = wire::decode(&buf[..n]).expect("response decodes");
        if m.header.id == id {
            return Some(m);
        }
    }
}

fn client(port: u16) -> UdpSocket {
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.connect(("127.0.0.1", port)).expect("connect");
    sock.set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    sock
}

fn answer_ips(m: &Message) -> Vec<String> {
    m.answers
        .iter()
        .map(|r| r.data.to_string())
        .collect::<Vec<_>>()
}

#[test]
fn sighup_reloads_without_dropping_queries() {
    let dir =
        std::env::temp_dir().join(format!("svcroute-serve-dns-reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("cluster.json");
    std::fs::write(&file, manifests(false)).expect("write");
    let mut child = Command::new(env!("CARGO_BIN_EXE_svcroute"))
        .arg("serve-dns")
        .arg("-f")
        .arg(&file)
        .args(["--listen", "127.0.0.1:0", "--udp"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start serve-dns");
    let pid = child.id().to_string();
    let (lines_tx, lines) = mpsc::channel::<String>();
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    std::thread::spawn(move || {
        let mut line = String::new();
        while stderr.read_line(&mut line).is_ok_and(|n| n > 0) {
            let _ = lines_tx.send(std::mem::take(&mut line));
        }
    });
    let wait_for = |prefix: &str| -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no `{prefix}` line from serve-dns"));
            if line.starts_with(prefix) {
                return line;
            }
        }
    };
    let serving = wait_for("serving ");
    let port: u16 = serving
        .split_whitespace()
        .nth(4)
        .and_then(|a| a.rsplit(':').next())
        .and_then(|p| p.parse().ok())
        .expect("port");
    let hup = || {
        let ok = Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .expect("kill");
        assert!(ok.success());
    };

    // A client asks for web all along: every query must be answered right.
    let stop = Arc::new(AtomicBool::new(false));
    let (answered, lost) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let asker = {
        let (stop, answered, lost) = (Arc::clone(&stop), Arc::clone(&answered), Arc::clone(&lost));
        std::thread::spawn(move || {
            let sock = client(port);
            let mut id = 0u16;
            while !stop.load(Ordering::Relaxed) {
                id = id.wrapping_add(1);
                match ask(&sock, id, "web.shop.svc.cluster.local.") {
                    Some(m) => {
                        assert_eq!(m.header.rcode, 0);
                        assert_eq!(answer_ips(&m), ["10.96.0.20"]);
                        answered.fetch_add(1, Ordering::Relaxed);
                    }
                    None => {
                        lost.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        })
    };

    let sock = client(port);
    let api = "api.shop.svc.cluster.local.";
    let before = ask(&sock, 1, api).expect("answered");
    assert_eq!(before.header.rcode, 3, "NXDOMAIN before the reload");

    // The file gains a Service; SIGHUP serves it.
    std::fs::write(&file, manifests(true)).expect("rewrite");
    hup();
    let reloaded = wait_for("reloaded");
    assert!(reloaded.contains("names"), "{reloaded}");
    let after = ask(&sock, 2, api).expect("answered");
    assert_eq!(after.header.rcode, 0);
    assert_eq!(answer_ips(&after), ["10.96.0.30"]);

    // A broken file is refused; the last good cluster stays served.
    std::fs::write(&file, "{ not json").expect("break");
    hup();
    let failed = wait_for("reload failed");
    assert!(failed.contains("previous cluster"), "{failed}");
    let still = ask(&sock, 3, api).expect("answered");
    assert_eq!(answer_ips(&still), ["10.96.0.30"]);

    // Reloads while the client asks.
    std::fs::write(&file, manifests(true)).expect("rewrite");
    for _ in 0..5 {
        hup();
        wait_for("reloaded");
    }
    stop.store(true, Ordering::Relaxed);
    asker.join().expect("asker");
    assert!(answered.load(Ordering::Relaxed) > 0);
    assert_eq!(
        lost.load(Ordering::Relaxed),
        0,
        "queries lost across reloads"
    );

    let ok = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(ok.success());
    assert!(child.wait().expect("wait").success());
    let _ = std::fs::remove_dir_all(&dir);
}
