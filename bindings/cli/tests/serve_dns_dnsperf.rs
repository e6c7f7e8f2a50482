//! `svcroute serve-dns` under `dnsperf` (issue 13, "A DNS server under
//! load"): the built binary serves a generated cluster (200 Services, 2,000
//! ready Pods) on a free loopback port; `dnsperf` sends at least 100,000
//! queries of a realistic mix (A, AAAA, SRV, PTR, headless A, NXDOMAIN)
//! over UDP, then 20,000 over TCP. dnsperf runs with `-v`, so every
//! query's rcode (NXDOMAIN exactly for the names that do not exist) and
//! latency are checked and turned into percentiles; the summary must say
//! 0 lost. Meanwhile a thread sends malformed packets (truncated headers,
//! bad label lengths, compression loops, oversized messages) and checks
//! that each is answered FORMERR or dropped and that a good query right
//! after it is answered. Afterwards a sample of answers is checked for
//! correctness with our own client, and the server's memory (VmRSS, and
//! RssAnon without the binary's code pages, from `/proc/PID/status`) is
//! compared with a server over an empty cluster.
//! At 2,200 Pods and Services the server's fixed costs still weigh, so a
//! second server then serves a cluster ten times larger (2,000 Services,
//! 20,000 Pods) and dnsperf asks it every name once (every Service's A,
//! AAAA, SRV and PTR, every headless name, every Pod IP's PTR, a missing
//! name per Service): its memory above the empty server per Pod+Service,
//! and the slope between the two clusters, are printed next to CoreDNS's
//! published 0.86 KB per Pod+Service (its whole process at scale). Speed
//! and memory are printed, never asserted (DECISIONS D11).
//!
//! Skipped with a notice when `dnsperf` is not installed, unless
//! `SVCROUTE_REQUIRE_TOOLS=1` (then it fails). Run it with
//! `cargo test -p svcroute-cli --test serve_dns_dnsperf -- --nocapture`.
//! `SVCROUTE_SERVE_DNS_ARGS` adds flags to every server started (e.g.
//! `--cache 0`, to measure what the response cache is worth).

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use svcroute::dns::wire::{self, Message};
use svcroute::dns::{RData, RecordType};

const NAMESPACES: usize = 5;
const SERVICES: usize = 200;
/// The larger cluster, for memory at scale.
const LARGE_SERVICES: usize = 2_000;
/// Every tenth Service is headless (its name answers the pods' IPs).
const HEADLESS_EVERY: usize = 10;
const PODS_PER_SERVICE: usize = 10;
/// Lines in the query file; dnsperf runs through it `RUNS` times.
const QUERY_LINES: usize = 10_000;
const RUNS: usize = 12;

fn service_ip(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(10, 96, 1 + (i / 250) as u8, 1 + (i % 250) as u8)
}

/// Pod `k` of Service `i`: distinct for up to 6,000 Services, inside the
/// node's 10.244.0.0/16.
fn pod_ip(i: usize, k: usize) -> Ipv4Addr {
    let n = u32::try_from(256 + i * PODS_PER_SERVICE + k).expect("small");
    Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 244, 0, 0)) + n)
}

fn ns(i: usize) -> String {
    format!("ns-{}", i % NAMESPACES)
}

fn headless(i: usize) -> bool {
    i % HEADLESS_EVERY == 0
}

fn fq(i: usize) -> String {
    format!("svc-{i}.{}.svc.cluster.local.", ns(i))
}

/// The cluster as one List: a Node, the namespaces, `services` Services
/// and `PODS_PER_SERVICE` ready Pods behind each.
fn manifests(services: usize) -> serde_json::Value {
    let mut items = vec![serde_json::json!({"apiVersion": "v1", "kind": "Node",
        "metadata": {"name": "node-0"},
        "spec": {"podCIDR": "10.244.0.0/16", "podCIDRs": ["10.244.0.0/16"]},
        "status": {"addresses": [{"type": "InternalIP", "address": "192.168.0.10"}],
                   "conditions": [{"type": "Ready", "status": "True"}]}})];
    for n in 0..NAMESPACES {
        items.push(serde_json::json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": ns(n)}}));
    }
    for i in 0..services {
        let app = format!("svc-{i}");
        let spec = if headless(i) {
            serde_json::json!({"clusterIP": "None", "selector": {"app": app},
                "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]})
        } else {
            let ip = service_ip(i).to_string();
            serde_json::json!({"clusterIP": ip, "clusterIPs": [ip], "selector": {"app": app},
                "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]})
        };
        items.push(serde_json::json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": app, "namespace": ns(i)}, "spec": spec}));
        for k in 0..PODS_PER_SERVICE {
            let ip = pod_ip(i, k).to_string();
            items.push(serde_json::json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": format!("{app}-{k}"), "namespace": ns(i), "labels": {"app": app}},
                "spec": {"nodeName": "node-0", "containers": [{"name": "c", "image": "x",
                          "ports": [{"name": "http", "containerPort": 8080}]}]},
                "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                           "conditions": [{"type": "Ready", "status": "True"}]}}));
        }
    }
    serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items})
}

/// One question and what the cluster must answer to it.
#[derive(Debug, Clone)]
struct Case {
    name: String,
    qtype: RecordType,
    rcode: u16,
    /// The answer records' data, sorted by text.
    answer: Vec<RData>,
}

fn sorted(mut v: Vec<RData>) -> Vec<RData> {
    v.sort_by_key(|d| d.to_string());
    v
}

/// The `n`th query of the mix.
fn case(n: u64) -> Case {
    let r = (n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 33) as usize;
    // A Service with a cluster IP (never a multiple of HEADLESS_EVERY).
    let i = match r % SERVICES {
        x if headless(x) => x + 1,
        x => x,
    };
    let (name, qtype, rcode, answer) = match r % 20 {
        // 45% A of a ClusterIP Service.
        0..=8 => (fq(i), RecordType::A, 0, vec![RData::A(service_ip(i))]),
        // 10% AAAA of an IPv4-only Service: NODATA.
        9 | 10 => (fq(i), RecordType::Aaaa, 0, vec![]),
        // 10% SRV of the named port.
        11 | 12 => (
            format!("_http._tcp.{}", fq(i)),
            RecordType::Srv,
            0,
            vec![RData::Srv {
                priority: 0,
                weight: 100,
                port: 80,
                target: fq(i),
            }],
        ),
        // 10% PTR of a cluster IP.
        13 | 14 => {
            let o = service_ip(i).octets();
            (
                format!("{}.{}.{}.{}.in-addr.arpa.", o[3], o[2], o[1], o[0]),
                RecordType::Ptr,
                0,
                vec![RData::Ptr(fq(i))],
            )
        }
        // 10% A of a headless Service: one record per ready pod.
        15 | 16 => {
            let h = (r / 20) % (SERVICES / HEADLESS_EVERY) * HEADLESS_EVERY;
            let a = (0..PODS_PER_SERVICE)
                .map(|k| RData::A(pod_ip(h, k)))
                .collect();
            (fq(h), RecordType::A, 0, sorted(a))
        }
        // 15% names that do not exist (search-path misses look like this).
        _ => (
            format!("nope-{r}.{}.svc.cluster.local.", ns(i)),
            RecordType::A,
            3,
            vec![],
        ),
    };
    Case {
        name,
        qtype,
        rcode,
        answer,
    }
}

/// Every name of the cluster with `services` Services once, as a dnsperf
/// query file: A, AAAA, SRV and PTR of each ClusterIP Service, A of each
/// headless one, PTR of each Pod IP, and one missing name per Service.
fn every_name(services: usize) -> String {
    let mut lines = String::new();
    let ptr = |ip: Ipv4Addr| {
        let o = ip.octets();
        format!("{}.{}.{}.{}.in-addr.arpa. PTR\n", o[3], o[2], o[1], o[0])
    };
    for i in 0..services {
        let name = fq(i);
        lines += &format!("{name} A\nnope-{i}.{}.svc.cluster.local. A\n", ns(i));
        if !headless(i) {
            lines += &format!("{name} AAAA\n_http._tcp.{name} SRV\n");
            lines += &ptr(service_ip(i));
        }
        for k in 0..PODS_PER_SERVICE {
            lines += &ptr(pod_ip(i, k));
        }
    }
    lines
}

fn qtype_text(t: RecordType) -> &'static str {
    match t {
        RecordType::A => "A",
        RecordType::Aaaa => "AAAA",
        RecordType::Srv => "SRV",
        RecordType::Ptr => "PTR",
        _ => unreachable!("not in the mix"),
    }
}

/// Why a response is wrong, if it is.
fn check(case: &Case, id: u16, bytes: &[u8]) -> Result<(), String> {
    let m = wire::decode(bytes).map_err(|e| format!("{}: undecodable: {e}", case.name))?;
    let h = &m.header;
    if h.id != id || !h.qr || h.tc {
        return Err(format!("{}: bad header {h:?}", case.name));
    }
    if m.questions.len() != 1 || m.questions[0].name != case.name {
        return Err(format!("{}: question not echoed", case.name));
    }
    if h.rcode != case.rcode {
        return Err(format!(
            "{}: rcode {} not {}",
            case.name, h.rcode, case.rcode
        ));
    }
    let got = sorted(m.answers.iter().map(|r| r.data.clone()).collect());
    if got != case.answer {
        return Err(format!(
            "{}: answer {got:?} not {:?}",
            case.name, case.answer
        ));
    }
    Ok(())
}

struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(dir: &Path, name: &str, services: usize) -> Server {
        let file = dir.join(name);
        std::fs::write(&file, manifests(services).to_string()).expect("write manifests");
        let extra = std::env::var("SVCROUTE_SERVE_DNS_ARGS").unwrap_or_default();
        let mut child = Command::new(env!("CARGO_BIN_EXE_svcroute"))
            .arg("serve-dns")
            .arg("-f")
            .arg(&file)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra.split_whitespace())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start serve-dns");
        let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
        let mut line = String::new();
        let addr = loop {
            line.clear();
            assert!(
                stderr.read_line(&mut line).expect("stderr") > 0,
                "serve-dns exited before serving"
            );
            if let Some(rest) = line.strip_prefix("serving ") {
                break rest
                    .split_whitespace()
                    .nth(3)
                    .expect("address")
                    .parse()
                    .expect("address");
            }
        };
        std::thread::spawn(move || {
            let mut rest = String::new();
            while stderr.read_line(&mut rest).is_ok_and(|n| n > 0) {}
        });
        Server { child, addr }
    }

    /// Resident memory in KiB: VmRSS (all of it, the binary's code pages
    /// included) and RssAnon (the heap, stacks and buffers).
    fn rss_kib(&self) -> Rss {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc/PID/status");
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("no {name}"))
        };
        Rss {
            all: field("VmRSS:"),
            anon: field("RssAnon:"),
        }
    }
}

/// A server's resident memory in KiB.
#[derive(Debug, Clone, Copy)]
struct Rss {
    all: u64,
    anon: u64,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn header(id: u16, qdcount: u16) -> Vec<u8> {
    let mut h = id.to_be_bytes().to_vec();
    h.extend_from_slice(&[0x01, 0x00]);
    h.extend_from_slice(&qdcount.to_be_bytes());
    h.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    h
}

fn query(id: u16, name: &str, qtype: RecordType) -> Vec<u8> {
    wire::encode(&Message::query(id, name, qtype)).expect("encode")
}

/// Malformed messages: `(what, bytes)`; each must be answered FORMERR or
/// dropped.
fn malformed(id: u16) -> Vec<(&'static str, Vec<u8>)> {
    let good = query(id, &fq(1), RecordType::A);
    let mut out: Vec<(&'static str, Vec<u8>)> = (0..12)
        .map(|len| ("truncated header", good[..len].to_vec()))
        .collect();
    let with = |tail: &[u8]| {
        let mut m = header(id, 1);
        m.extend_from_slice(tail);
        m
    };
    out.push(("question missing", header(id, 1)));
    out.push((
        "label longer than the message",
        with(&[40, b'a', b'b', b'c']),
    ));
    out.push(("unknown label type", with(&[0x80, b'a', 0, 0, 1, 0, 1])));
    out.push((
        "compression pointer to itself",
        with(&[0xC0, 12, 0, 1, 0, 1]),
    ));
    out.push(("compression loop", with(&[0xC0, 14, 0xC0, 12, 0, 1, 0, 1])));
    let mut long = header(id, 1);
    for _ in 0..5 {
        long.push(63);
        long.extend_from_slice(&[b'x'; 63]);
    }
    long.extend_from_slice(&[0, 0, 1, 0, 1]);
    out.push(("name over 255 octets", long));
    let mut big = good.clone();
    big.resize(60_000, 0xAB);
    out.push(("oversized message", big));
    out
}

/// Sends malformed packets until `stop`, each followed by a good query
/// that must be answered correctly. Returns (packets sent, problems).
fn hostile(addr: SocketAddr, stop: Arc<AtomicBool>) -> (u64, Vec<String>) {
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.connect(addr).expect("connect");
    sock.set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let mut buf = vec![0u8; 65_535];
    let mut problems = Vec::new();
    let mut sent = 0u64;
    let mut id: u16 = 0x4000;
    let mut round = 0u64;
    while !stop.load(Ordering::Relaxed) && problems.len() < 20 {
        for (what, mut bytes) in malformed(0) {
            if bytes.len() >= 2 {
                bytes[..2].copy_from_slice(&id.to_be_bytes());
            }
            sock.send(&bytes).expect("send");
            sent += 1;
            // The good query that follows tells a late FORMERR from its answer.
            let c = case(round);
            round += 1;
            let gid = id.wrapping_add(1);
            sock.send(&query(gid, &c.name, c.qtype)).expect("send");
            loop {
                match sock.recv(&mut buf) {
                    Ok(len) if len >= 12 => {
                        let rid = u16::from_be_bytes([buf[0], buf[1]]);
                        if rid == gid {
                            if let Err(e) = check(&c, gid, &buf[..len]) {
                                problems.push(format!("after {what}: {e}"));
                            }
                            break;
                        }
                        let rcode = buf[3] & 0x0F;
                        if rid != id || rcode != 1 {
                            problems.push(format!("{what}: reply id {rid} rcode {rcode}"));
                        }
                    }
                    Ok(len) => problems.push(format!("{what}: {len}-octet reply")),
                    Err(e) => {
                        problems.push(format!("after {what}: good query unanswered: {e}"));
                        break;
                    }
                }
            }
            id = id.wrapping_add(2);
        }
        // Interleaved, not a flood: the load figures are dnsperf's.
        std::thread::sleep(Duration::from_millis(5));
    }
    (sent, problems)
}

/// A number following `label` in dnsperf's summary.
fn stat(out: &str, label: &str) -> Option<f64> {
    out.lines()
        .find_map(|l| l.trim().strip_prefix(label))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// What one dnsperf run reported.
struct Run {
    text: String,
    sent: f64,
    completed: f64,
    lost: f64,
    qps: f64,
    /// Per-query latencies in seconds, sorted (from `-v`).
    latencies: Vec<f64>,
    /// Queries whose rcode is not the one the mix expects.
    wrong_rcodes: Vec<String>,
}

/// Runs dnsperf over `file` `runs` times in `mode` (udp or tcp) with `-v`,
/// so that every query's rcode and latency is printed.
fn dnsperf(addr: SocketAddr, file: &Path, runs: usize, mode: &str) -> Run {
    let out = Command::new("dnsperf")
        .args([
            "-s",
            "127.0.0.1",
            "-p",
            &addr.port().to_string(),
            "-m",
            mode,
        ])
        .arg("-d")
        .arg(file)
        .args(["-n", &runs.to_string(), "-t", "5", "-v"])
        .output()
        .expect("run dnsperf");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "dnsperf failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut latencies = Vec::new();
    let mut wrong_rcodes = Vec::new();
    for line in text.lines().filter_map(|l| l.strip_prefix("> ")) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let [rcode, name, _qtype, secs] = f[..] else {
            wrong_rcodes.push(line.to_owned());
            continue;
        };
        let want = if name.starts_with("nope-") {
            "NXDOMAIN"
        } else {
            "NOERROR"
        };
        if rcode != want {
            wrong_rcodes.push(line.to_owned());
        }
        latencies.push(secs.parse().unwrap_or(f64::MAX));
    }
    latencies.sort_by(f64::total_cmp);
    let summary = |label| stat(&text, label).unwrap_or_else(|| panic!("no {label}"));
    Run {
        sent: summary("Queries sent:"),
        completed: summary("Queries completed:"),
        lost: summary("Queries lost:"),
        qps: summary("Queries per second:"),
        latencies,
        wrong_rcodes,
        text,
    }
}

impl Run {
    fn percentile_us(&self, p: f64) -> f64 {
        let v = &self.latencies;
        let i = ((v.len() as f64 * p) as usize).min(v.len().saturating_sub(1));
        v.get(i).map_or(0.0, |s| s * 1e6)
    }

    fn report(&self, what: &str, extra: &str) {
        eprintln!(
            "dnsperf {what} against serve-dns (test build): {} sent, {} completed, {} lost, \
             {} wrong rcodes, {:.0} q/s, latency p50 {:.0} µs p99 {:.0} µs p99.9 {:.0} µs \
             max {:.0} µs; {extra}",
            self.sent,
            self.completed,
            self.lost,
            self.wrong_rcodes.len(),
            self.qps,
            self.percentile_us(0.5),
            self.percentile_us(0.99),
            self.percentile_us(0.999),
            self.percentile_us(1.0),
        );
    }

    fn assert_clean(&self) {
        let summary = self
            .text
            .lines()
            .skip_while(|l| !l.starts_with("Statistics"))
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(self.lost, 0.0, "lost queries:\n{summary}");
        assert_eq!(self.completed, self.sent, "not all completed:\n{summary}");
        assert_eq!(
            self.latencies.len() as f64,
            self.completed,
            "-v lines:\n{summary}"
        );
        assert!(
            self.wrong_rcodes.is_empty(),
            "{} wrong rcodes, first: {:?}",
            self.wrong_rcodes.len(),
            &self.wrong_rcodes[..self.wrong_rcodes.len().min(5)]
        );
    }
}

#[test]
fn serve_dns_under_dnsperf_loses_nothing() {
    let have = Command::new("dnsperf")
        .arg("-h")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !have {
        assert!(
            std::env::var("SVCROUTE_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "dnsperf is missing and SVCROUTE_REQUIRE_TOOLS=1"
        );
        eprintln!("skipped: dnsperf is not installed (apt-get install dnsperf)");
        return;
    }
    let dir = std::env::temp_dir().join(format!("svcroute-dnsperf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let dir = TempDir(dir);

    let empty = Server::start(&dir.0, "empty.json", 0);
    let server = Server::start(&dir.0, "cluster.json", SERVICES);

    let queries: String = (0..QUERY_LINES as u64)
        .map(|n| {
            let c = case(n);
            format!("{} {}\n", c.name, qtype_text(c.qtype))
        })
        .collect();
    let qfile = dir.0.join("queries.txt");
    std::fs::write(&qfile, queries).expect("write queries");

    let stop = Arc::new(AtomicBool::new(false));
    let hostile_thread = {
        let stop = Arc::clone(&stop);
        let addr = server.addr;
        std::thread::spawn(move || hostile(addr, stop))
    };
    let udp = dnsperf(server.addr, &qfile, RUNS, "udp");
    stop.store(true, Ordering::Relaxed);
    let (hostile_sent, problems) = hostile_thread.join().expect("hostile thread");
    udp.report(
        "UDP",
        &format!("{hostile_sent} malformed packets interleaved"),
    );
    assert!(
        udp.sent >= 100_000.0,
        "dnsperf sent only {} queries",
        udp.sent
    );
    udp.assert_clean();
    // TCP too (a shorter run: one connection per dnsperf client).
    let tcp = dnsperf(server.addr, &qfile, 2, "tcp");
    tcp.report("TCP", "");
    tcp.assert_clean();
    assert!(problems.is_empty(), "malformed input: {problems:#?}");

    // A sample of answers, checked against the cluster we generated.
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.connect(server.addr).expect("connect");
    sock.set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let mut buf = vec![0u8; 65_535];
    let mut wrong = Vec::new();
    for n in (0..QUERY_LINES as u64).step_by(7) {
        let c = case(n);
        let id = n as u16;
        sock.send(&query(id, &c.name, c.qtype)).expect("send");
        match sock.recv(&mut buf) {
            Ok(len) => {
                if let Err(e) = check(&c, id, &buf[..len]) {
                    wrong.push(e);
                }
            }
            Err(e) => wrong.push(format!("{}: unanswered: {e}", c.name)),
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong answers: {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(5)]
    );

    let (rss, base) = (server.rss_kib(), empty.rss_kib());
    let objects = SERVICES + SERVICES * PODS_PER_SERVICE;
    report_memory(rss, base, objects);
    drop(server);

    // Memory at scale: a cluster ten times larger, every name asked once.
    let large = Server::start(&dir.0, "large.json", LARGE_SERVICES);
    let every = dir.0.join("every-name.txt");
    std::fs::write(&every, every_name(LARGE_SERVICES)).expect("write queries");
    let asked = dnsperf(large.addr, &every, 1, "udp");
    asked.report("UDP, every name of the larger cluster once", "");
    asked.assert_clean();
    let large_rss = large.rss_kib();
    let large_objects = LARGE_SERVICES + LARGE_SERVICES * PODS_PER_SERVICE;
    report_memory(large_rss, base, large_objects);
    eprintln!(
        "serve-dns memory slope from {objects} to {large_objects} Pods+Services: {:.2} KB per \
         Pod+Service (anonymous {:.2} KB); CoreDNS publishes 0.86 KB per Pod+Service",
        large_rss.all.saturating_sub(rss.all) as f64 * 1.024 / (large_objects - objects) as f64,
        large_rss.anon.saturating_sub(rss.anon) as f64 * 1.024 / (large_objects - objects) as f64,
    );
}

/// Prints a server's memory per Pod+Service, above the empty server's and
/// all in.
fn report_memory(rss: Rss, base: Rss, objects: usize) {
    let per = |kib: u64| kib as f64 * 1.024 / objects as f64;
    eprintln!(
        "serve-dns memory after load: VmRSS {} KiB with {objects} Pods+Services, {} KiB over \
         an empty cluster: {:.2} KB per Pod+Service above the empty server ({:.2} KB all in; \
         anonymous memory {:.2} KB above the empty server); CoreDNS publishes 0.86 KB per \
         Pod+Service",
        rss.all,
        base.all,
        per(rss.all.saturating_sub(base.all)),
        per(rss.all),
        per(rss.anon.saturating_sub(base.anon)),
    );
}
