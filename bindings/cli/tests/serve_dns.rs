//! `svcroute serve-dns` asked by the real `dig` (Debian's dnsutils): every
//! answer checked from dig's own output. Skipped, with a notice, where dig
//! is not installed.
//!
//! Rules: `shared/reference/dns.md` (Kubernetes DNS specification and the
//! CoreDNS `kubernetes` plugin); wire behaviour RFC 1035 / RFC 7766.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// The cluster: a dual-stack ClusterIP Service, a headless Service of two
/// pods, an ExternalName Service, and a headless Service of 40 pods whose
/// A answer does not fit 512 octets.
fn manifests() -> serde_json::Value {
    let mut items = vec![
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
        serde_json::json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-0"},
            "spec": {"podCIDR": "10.244.0.0/16", "podCIDRs": ["10.244.0.0/16"]},
            "status": {"addresses": [{"type": "InternalIP", "address": "192.168.0.10"}],
                       "conditions": [{"type": "Ready", "status": "True"}]}}),
        serde_json::json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"clusterIPs": ["10.96.0.20", "fd00::20"], "ipFamilyPolicy": "PreferDualStack",
                     "ipFamilies": ["IPv4", "IPv6"], "selector": {"app": "web"},
                     "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}}),
        serde_json::json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "ext", "namespace": "shop"},
            "spec": {"type": "ExternalName", "externalName": "db.example.com"}}),
    ];
    for (svc, pods) in [("db", 2), ("big", 40)] {
        items.push(serde_json::json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": svc, "namespace": "shop"},
            "spec": {"clusterIP": "None", "selector": {"app": svc},
                     "ports": [{"name": "sql", "port": 5432, "protocol": "TCP"}]}}));
        for k in 0..pods {
            let ip = format!("10.244.{}.{}", if svc == "db" { 1 } else { 2 }, 10 + k);
            items.push(serde_json::json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": format!("{svc}-{k}"), "namespace": "shop", "labels": {"app": svc}},
                "spec": {"nodeName": "node-0", "containers": [{"name": "c", "image": "x",
                         "ports": [{"name": "sql", "containerPort": 5432}]}]},
                "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                           "conditions": [{"type": "Ready", "status": "True"}]}}));
        }
    }
    serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items})
}

/// A running `serve-dns`; killed if the test ends early.
struct Server {
    child: Child,
    port: u16,
    _dir: TempDir,
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Server {
    fn start(manifests: &serde_json::Value, extra: &[&str]) -> Server {
        let dir = std::env::temp_dir().join(format!(
            "svcroute-serve-dns-{}-{}",
            std::process::id(),
            extra.join("")
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("cluster.json");
        std::fs::write(&file, manifests.to_string()).expect("write manifests");
        let mut child = Command::new(env!("CARGO_BIN_EXE_svcroute"))
            .arg("serve-dns")
            .arg("-f")
            .arg(&file)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start svcroute serve-dns");
        let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
        let mut line = String::new();
        let port = loop {
            line.clear();
            let n = stderr.read_line(&mut line).expect("read stderr");
            assert!(n > 0, "serve-dns exited before serving");
            if let Some(rest) = line.strip_prefix("serving ") {
                let addr = rest.split_whitespace().nth(3).expect("address");
                break addr.rsplit(':').next().unwrap().parse().expect("port");
            }
        };
        // Keep reading stderr in the background so the server never blocks.
        std::thread::spawn(move || {
            let mut rest = String::new();
            while stderr.read_line(&mut rest).is_ok_and(|n| n > 0) {}
        });
        Server {
            child,
            port,
            _dir: TempDir(dir),
        }
    }

    /// SIGTERM, and the exit status.
    fn terminate(mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        self.child.wait().expect("wait")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What dig printed, by section.
#[derive(Debug, Default)]
struct Dig {
    status: String,
    flags: Vec<String>,
    answer: Vec<String>,
    authority: Vec<String>,
    additional: Vec<String>,
    raw: String,
}

fn have_dig() -> bool {
    let ok = Command::new("dig")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipped: `dig` is not installed (Debian package dnsutils)");
    }
    ok
}

fn dig(port: u16, args: &[&str]) -> Dig {
    let out = Command::new("dig")
        .args(["@127.0.0.1", "-p", &port.to_string(), "+time=2", "+tries=1"])
        .args(args)
        .output()
        .expect("run dig");
    let raw = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "dig {args:?} failed:\n{raw}");
    let mut d = Dig {
        raw: raw.clone(),
        ..Dig::default()
    };
    let mut section = None;
    for line in raw.lines() {
        if let Some(i) = line.find("status: ") {
            d.status = line[i + 8..]
                .split(',')
                .next()
                .unwrap_or("")
                .trim()
                .to_owned();
        }
        if let Some(i) = line.find(";; flags: ") {
            let flags = line[i + 10..].split(';').next().unwrap_or("");
            d.flags = flags.split_whitespace().map(str::to_owned).collect();
        }
        if line.starts_with(";; ANSWER SECTION") {
            section = Some(1);
        } else if line.starts_with(";; AUTHORITY SECTION") {
            section = Some(2);
        } else if line.starts_with(";; ADDITIONAL SECTION") {
            section = Some(3);
        } else if line.trim().is_empty() || line.starts_with(';') {
            section = None;
        } else if let Some(s) = section {
            let rec = line.split_whitespace().collect::<Vec<_>>().join(" ");
            match s {
                1 => d.answer.push(rec),
                2 => d.authority.push(rec),
                _ => d.additional.push(rec),
            }
        }
    }
    d
}

#[test]
fn dig_gets_cluster_answers_over_udp_and_tcp() {
    if !have_dig() {
        return;
    }
    let server = Server::start(&manifests(), &[]);
    let p = server.port;

    // A and AAAA of a dual-stack ClusterIP Service (dns.md: ClusterIP A/AAAA).
    let a = dig(p, &["web.shop.svc.cluster.local", "A"]);
    assert_eq!(a.status, "NOERROR", "{}", a.raw);
    assert!(a.flags.contains(&"aa".to_owned()), "{}", a.raw);
    assert_eq!(a.answer, ["web.shop.svc.cluster.local. 5 IN A 10.96.0.20"]);
    let aaaa = dig(p, &["web.shop.svc.cluster.local", "AAAA"]);
    assert_eq!(
        aaaa.answer,
        ["web.shop.svc.cluster.local. 5 IN AAAA fd00::20"]
    );

    // Case is kept in the owner name, matched without it.
    let upper = dig(p, &["WEB.Shop.svc.cluster.local", "A"]);
    assert_eq!(
        upper.answer,
        ["WEB.Shop.svc.cluster.local. 5 IN A 10.96.0.20"]
    );

    // SRV of a named port: ClusterIP form, addresses in the additional section.
    let srv = dig(p, &["_http._tcp.web.shop.svc.cluster.local", "SRV"]);
    assert_eq!(
        srv.answer,
        ["_http._tcp.web.shop.svc.cluster.local. 5 IN SRV 0 50 80 web.shop.svc.cluster.local."]
    );
    assert!(
        srv.additional
            .contains(&"web.shop.svc.cluster.local. 5 IN A 10.96.0.20".to_owned()),
        "{}",
        srv.raw
    );

    // Headless: one A per ready endpoint; SRV per endpoint with its name.
    let db = dig(p, &["db.shop.svc.cluster.local", "A"]);
    let mut got = db.answer.clone();
    got.sort();
    assert_eq!(
        got,
        [
            "db.shop.svc.cluster.local. 5 IN A 10.244.1.10",
            "db.shop.svc.cluster.local. 5 IN A 10.244.1.11"
        ]
    );
    let db_srv = dig(p, &["_sql._tcp.db.shop.svc.cluster.local", "SRV"]);
    assert_eq!(db_srv.answer.len(), 2, "{}", db_srv.raw);
    assert!(
        db_srv.answer.contains(
            &"_sql._tcp.db.shop.svc.cluster.local. 5 IN SRV 0 50 5432 10-244-1-10.db.shop.svc.cluster.local."
                .to_owned()
        ),
        "{}",
        db_srv.raw
    );

    // PTR of a cluster IP and of an endpoint address.
    let ptr = dig(p, &["-x", "10.96.0.20"]);
    assert_eq!(
        ptr.answer,
        ["20.0.96.10.in-addr.arpa. 5 IN PTR web.shop.svc.cluster.local."]
    );
    let ep_ptr = dig(p, &["-x", "10.244.1.11"]);
    assert_eq!(
        ep_ptr.answer,
        ["11.1.244.10.in-addr.arpa. 5 IN PTR 10-244-1-11.db.shop.svc.cluster.local."]
    );

    // ExternalName: a CNAME; the target is outside the cluster and not chased.
    let ext = dig(p, &["ext.shop.svc.cluster.local", "A"]);
    assert_eq!(ext.status, "NOERROR", "{}", ext.raw);
    assert_eq!(
        ext.answer,
        ["ext.shop.svc.cluster.local. 5 IN CNAME db.example.com."]
    );

    // NXDOMAIN with the zone SOA in the authority section.
    let nx = dig(p, &["nope.shop.svc.cluster.local", "A"]);
    assert_eq!(nx.status, "NXDOMAIN", "{}", nx.raw);
    assert!(nx.answer.is_empty());
    assert_eq!(
        nx.authority,
        [
            "cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5"
        ]
    );
    // NODATA: the name exists, not with this type.
    let nodata = dig(p, &["db.shop.svc.cluster.local", "AAAA"]);
    assert_eq!(nodata.status, "NOERROR", "{}", nodata.raw);
    assert!(nodata.answer.is_empty());
    assert_eq!(nodata.authority.len(), 1);

    // Outside the cluster zone: no upstream, REFUSED.
    let outside = dig(p, &["example.com", "A"]);
    assert_eq!(outside.status, "REFUSED", "{}", outside.raw);

    // The same over TCP, several queries on one connection (dig +keepopen).
    let tcp = dig(
        p,
        &[
            "+tcp",
            "+keepopen",
            "web.shop.svc.cluster.local",
            "A",
            "db.shop.svc.cluster.local",
            "A",
        ],
    );
    assert!(
        tcp.raw.contains("(TCP)"),
        "dig did not use TCP:\n{}",
        tcp.raw
    );
    assert_eq!(
        tcp.answer.len(),
        3,
        "web (1) then db (2) over one connection:\n{}",
        tcp.raw
    );

    let status = server.terminate();
    assert!(status.success(), "exit on SIGTERM: {status:?}");
}

#[test]
fn a_truncated_udp_answer_is_retried_over_tcp() {
    if !have_dig() {
        return;
    }
    let server = Server::start(&manifests(), &["--threads", "1"]);
    let p = server.port;
    // 40 A records need 12 + 31 + 40 * 16 octets: over 512 without EDNS.
    let ignored = dig(
        p,
        &["+noedns", "+ignore", "big.shop.svc.cluster.local", "A"],
    );
    assert!(
        ignored.flags.contains(&"tc".to_owned()),
        "TC expected:\n{}",
        ignored.raw
    );
    assert!(
        !ignored.answer.is_empty() && ignored.answer.len() < 40,
        "{}",
        ignored.raw
    );
    // dig's default: on TC it asks again over TCP and gets every record.
    let full = dig(p, &["+noedns", "big.shop.svc.cluster.local", "A"]);
    assert!(
        full.raw.contains("Truncated, retrying in TCP mode"),
        "{}",
        full.raw
    );
    assert!(!full.flags.contains(&"tc".to_owned()), "{}", full.raw);
    assert_eq!(full.answer.len(), 40, "{}", full.raw);
    // With a large enough EDNS size, UDP carries them all.
    let edns = dig(
        p,
        &[
            "+bufsize=4096",
            "+ignore",
            "big.shop.svc.cluster.local",
            "A",
        ],
    );
    assert!(!edns.flags.contains(&"tc".to_owned()), "{}", edns.raw);
    assert_eq!(edns.answer.len(), 40, "{}", edns.raw);
    assert!(server.terminate().success());
}

#[test]
fn udp_only_and_tcp_only() {
    if !have_dig() {
        return;
    }
    let udp = Server::start(&manifests(), &["--udp"]);
    assert_eq!(
        dig(udp.port, &["web.shop.svc.cluster.local"]).answer.len(),
        1
    );
    let tcp_fails = Command::new("dig")
        .args([
            "@127.0.0.1",
            "-p",
            &udp.port.to_string(),
            "+tcp",
            "+time=1",
            "+tries=1",
        ])
        .arg("web.shop.svc.cluster.local")
        .output()
        .expect("dig");
    assert!(
        !String::from_utf8_lossy(&tcp_fails.stdout).contains("10.96.0.20"),
        "TCP answered on a --udp server"
    );
    assert!(udp.terminate().success());

    let tcp = Server::start(&manifests(), &["--tcp"]);
    assert_eq!(
        dig(tcp.port, &["+tcp", "web.shop.svc.cluster.local"])
            .answer
            .len(),
        1
    );
    assert!(tcp.terminate().success());
}
