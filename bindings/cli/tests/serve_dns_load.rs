//! `svcroute serve-dns` under load, with hostile packets mixed in (issue
//! 13, "A DNS server under load"): a client of our own sends a realistic
//! mix (A, AAAA, SRV, PTR, headless A, NXDOMAIN) from several threads for a
//! few seconds, a window of queries in flight each, and checks every
//! response against the cluster it built: 0 lost, 0 wrong. Meanwhile
//! another thread sends malformed messages (truncated headers, bad label
//! lengths, compression loops, oversized messages, random bytes) over UDP
//! and TCP; each is answered FORMERR or dropped, and the server keeps
//! answering. Speed is printed, never asserted (DECISIONS D11).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use svcroute::dns::wire::{self, Message};
use svcroute::dns::{RData, RecordType};

const NAMESPACES: usize = 5;
const SERVICES: usize = 200;
const HEADLESS: usize = 4;
const PODS: usize = 3;
const CLIENTS: usize = 4;
/// Queries in flight per client: small enough that the server's socket
/// buffer never overflows (a drop there would be a loss we caused).
const WINDOW: usize = 16;
const LOAD_FOR: Duration = Duration::from_secs(3);

fn service_ip(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(10, 96, 1 + (i / 250) as u8, 1 + (i % 250) as u8)
}

fn pod_ip(j: usize, k: usize) -> Ipv4Addr {
    Ipv4Addr::new(10, 244, 1 + j as u8, 10 + k as u8)
}

fn ns(i: usize) -> String {
    format!("ns-{}", i % NAMESPACES)
}

fn manifests() -> serde_json::Value {
    let mut items = vec![
        serde_json::json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-0"},
            "spec": {"podCIDR": "10.244.0.0/16", "podCIDRs": ["10.244.0.0/16"]},
            "status": {"addresses": [{"type": "InternalIP", "address": "192.168.0.10"}],
                       "conditions": [{"type": "Ready", "status": "True"}]}}),
    ];
    for n in 0..NAMESPACES {
        items.push(serde_json::json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": ns(n)}}));
    }
    for i in 0..SERVICES {
        let ip = service_ip(i).to_string();
        items.push(serde_json::json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": format!("svc-{i}"), "namespace": ns(i)},
            "spec": {"clusterIP": ip, "clusterIPs": [ip], "selector": {"app": format!("svc-{i}")},
                     "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}}));
    }
    for j in 0..HEADLESS {
        let app = format!("hl-{j}");
        items.push(serde_json::json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": app, "namespace": ns(j)},
            "spec": {"clusterIP": "None", "selector": {"app": app},
                     "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}}));
        for k in 0..PODS {
            let ip = pod_ip(j, k).to_string();
            items.push(serde_json::json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": format!("{app}-{k}"), "namespace": ns(j), "labels": {"app": app}},
                "spec": {"nodeName": "node-0", "containers": [{"name": "c", "image": "x"}]},
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
    /// The rcode and the answer records' data, sorted.
    rcode: u16,
    answer: Vec<RData>,
}

fn case(n: u64) -> Case {
    let r = (n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 33) as usize;
    let i = r % SERVICES;
    let fq = |i: usize| format!("svc-{i}.{}.svc.cluster.local.", ns(i));
    let (name, qtype, rcode, answer) = match r % 20 {
        // 55% A of a ClusterIP Service.
        0..=10 => (fq(i), RecordType::A, 0, vec![RData::A(service_ip(i))]),
        // 10% AAAA: NODATA.
        11 | 12 => (fq(i), RecordType::Aaaa, 0, vec![]),
        // 10% SRV of the named port.
        13 | 14 => (
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
        // 5% PTR of a cluster IP.
        15 => {
            let o = service_ip(i).octets();
            (
                format!("{}.{}.{}.{}.in-addr.arpa.", o[3], o[2], o[1], o[0]),
                RecordType::Ptr,
                0,
                vec![RData::Ptr(fq(i))],
            )
        }
        // 10% A of a headless Service: one per pod.
        16 | 17 => {
            let j = i % HEADLESS;
            let mut a: Vec<RData> = (0..PODS).map(|k| RData::A(pod_ip(j, k))).collect();
            a.sort_by_key(|d| d.to_string());
            (
                format!("hl-{j}.{}.svc.cluster.local.", ns(j)),
                RecordType::A,
                0,
                a,
            )
        }
        // 10% names that do not exist.
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

/// Why a response is wrong, if it is.
fn check(case: &Case, id: u16, bytes: &[u8]) -> Result<(), String> {
    let m = wire::decode(bytes).map_err(|e| format!("{}: undecodable: {e}", case.name))?;
    let h = &m.header;
    if h.id != id || !h.qr || !h.aa || h.tc {
        return Err(format!("{}: bad header {h:?}", case.name));
    }
    if m.questions.len() != 1
        || m.questions[0].name != case.name
        || m.questions[0].qtype != case.qtype
    {
        return Err(format!(
            "{}: question not echoed: {:?}",
            case.name, m.questions
        ));
    }
    if h.rcode != case.rcode {
        return Err(format!(
            "{}: rcode {} not {}",
            case.name, h.rcode, case.rcode
        ));
    }
    let mut got: Vec<RData> = m.answers.iter().map(|r| r.data.clone()).collect();
    got.sort_by_key(|d| d.to_string());
    if got != case.answer {
        return Err(format!(
            "{}: answer {got:?} not {:?}",
            case.name, case.answer
        ));
    }
    if m.answers.iter().any(|r| r.name != case.name || r.ttl != 5) {
        return Err(format!(
            "{}: owner or TTL wrong: {:?}",
            case.name, m.answers
        ));
    }
    if case.answer.is_empty() && m.authority.len() != 1 {
        return Err(format!("{}: no SOA on a negative answer", case.name));
    }
    Ok(())
}

struct Server {
    child: Child,
    addr: SocketAddr,
    dir: PathBuf,
}

impl Server {
    fn start() -> Server {
        let dir = std::env::temp_dir().join(format!("svcroute-dns-load-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("cluster.json");
        std::fs::write(&file, manifests().to_string()).expect("write");
        let mut child = Command::new(env!("CARGO_BIN_EXE_svcroute"))
            .arg("serve-dns")
            .arg("-f")
            .arg(&file)
            .args(["--listen", "127.0.0.1:0"])
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
        Server { child, addr, dir }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[derive(Debug, Default)]
struct Tally {
    sent: u64,
    answered: u64,
    lost: u64,
    wrong: Vec<String>,
    latencies_us: Vec<u64>,
}

/// One client: a window of queries in flight until `LOAD_FOR` is over,
/// then waits for the stragglers.
fn client(addr: SocketAddr, seed: u64) -> Tally {
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.connect(addr).expect("connect");
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let mut inflight: Vec<Option<(Case, Instant)>> = vec![None; 1 << 16];
    let mut outstanding = 0usize;
    let mut next_id: u16 = 0;
    let mut n = seed;
    let mut t = Tally::default();
    let mut buf = vec![0u8; 65_535];
    let start = Instant::now();
    let mut last_answer = Instant::now();
    loop {
        let sending = start.elapsed() < LOAD_FOR;
        while sending && outstanding < WINDOW {
            let c = case(n);
            n += 1;
            let q = wire::encode(&Message::query(next_id, &c.name, c.qtype)).expect("encode");
            sock.send(&q).expect("send");
            inflight[usize::from(next_id)] = Some((c, Instant::now()));
            next_id = next_id.wrapping_add(1);
            outstanding += 1;
            t.sent += 1;
        }
        if !sending && outstanding == 0 {
            break;
        }
        match sock.recv(&mut buf) {
            Ok(len) => {
                last_answer = Instant::now();
                let id = u16::from_be_bytes([buf[0], buf[1]]);
                match inflight[usize::from(id)].take() {
                    Some((c, sent_at)) => {
                        outstanding -= 1;
                        t.answered += 1;
                        t.latencies_us.push(sent_at.elapsed().as_micros() as u64);
                        if let Err(e) = check(&c, id, &buf[..len]) {
                            t.wrong.push(e);
                        }
                    }
                    None => t.wrong.push(format!("unexpected response id {id}")),
                }
            }
            Err(_) if !sending && last_answer.elapsed() > Duration::from_secs(2) => break,
            Err(_) => {}
        }
    }
    t.lost = outstanding as u64;
    t
}

/// A valid query message for `name`.
fn query(id: u16, name: &str) -> Vec<u8> {
    wire::encode(&Message::query(id, name, RecordType::A)).expect("encode")
}

fn header(id: u16, qdcount: u16) -> Vec<u8> {
    let mut h = id.to_be_bytes().to_vec();
    h.extend_from_slice(&[0x01, 0x00]);
    h.extend_from_slice(&qdcount.to_be_bytes());
    h.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    h
}

/// Malformed messages: `(what, bytes, answered)`; `answered` false means
/// the server must drop it, true that it must answer FORMERR.
fn malformed() -> Vec<(String, Vec<u8>, bool)> {
    let mut out = Vec::new();
    let good = query(0x7000, "svc-1.ns-1.svc.cluster.local.");
    for len in 0..12 {
        out.push((format!("header cut at {len}"), good[..len].to_vec(), false));
    }
    let mut id = 0x7100u16;
    let mut next = |what: &str, body: &dyn Fn(u16) -> Vec<u8>, answered: bool| {
        id += 1;
        out.push((what.to_owned(), body(id), answered));
    };
    next("question missing", &|id| header(id, 1), true);
    next(
        "label longer than the message",
        &|id| {
            let mut m = header(id, 1);
            m.extend_from_slice(&[40, b'a', b'b', b'c', b'd', b'e']);
            m
        },
        true,
    );
    next(
        "unknown label type",
        &|id| {
            let mut m = header(id, 1);
            m.extend_from_slice(&[0x80, b'a', 0, 0, 1, 0, 1]);
            m
        },
        true,
    );
    next(
        "compression pointer to itself",
        &|id| {
            let mut m = header(id, 1);
            m.extend_from_slice(&[0xC0, 12, 0, 1, 0, 1]);
            m
        },
        true,
    );
    next(
        "compression loop of two pointers",
        &|id| {
            let mut m = header(id, 1);
            m.extend_from_slice(&[0xC0, 14, 0xC0, 12, 0, 1, 0, 1]);
            m
        },
        true,
    );
    next(
        "name over 255 octets",
        &|id| {
            let mut m = header(id, 1);
            for _ in 0..5 {
                m.push(63);
                m.extend_from_slice(&[b'x'; 63]);
            }
            m.extend_from_slice(&[0, 0, 1, 0, 1]);
            m
        },
        true,
    );
    next(
        "two questions",
        &|id| {
            let mut m = query(id, "svc-1.ns-1.svc.cluster.local.");
            let question = m[12..].to_vec();
            m[5] = 2;
            m.extend_from_slice(&question);
            m
        },
        true,
    );
    next(
        "bytes after the question",
        &|id| {
            let mut m = query(id, "svc-1.ns-1.svc.cluster.local.");
            m.extend_from_slice(&[1, 2, 3]);
            m
        },
        true,
    );
    next(
        "answer count with no answer",
        &|id| {
            let mut m = query(id, "svc-1.ns-1.svc.cluster.local.");
            m[7] = 3;
            m
        },
        true,
    );
    next(
        "oversized message (60,000 octets)",
        &|id| {
            let mut m = query(id, "svc-1.ns-1.svc.cluster.local.");
            m.resize(60_000, 0xAB);
            m
        },
        true,
    );
    next(
        "a response (QR set)",
        &|id| {
            let mut m = query(id, "svc-1.ns-1.svc.cluster.local.");
            m[2] |= 0x80;
            m
        },
        false,
    );
    // Random bytes behind a query header (opcode QUERY, QR clear).
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    for k in 0..200 {
        id += 1;
        let len = 12 + (k * 37) % 600;
        let mut m = Vec::with_capacity(len);
        for _ in 0..len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            m.push(x as u8);
        }
        m[..2].copy_from_slice(&id.to_be_bytes());
        m[2] = 0x01;
        m[3] = 0x00;
        if m[4] == 0 && m[5] == 0 {
            m[5] = 1;
        }
        out.push((format!("random bytes #{k}"), m, true));
    }
    out
}

/// Sends every malformed message over UDP and checks the reply (or its
/// absence). Returns the problems found.
fn hostile_udp(addr: SocketAddr) -> Vec<String> {
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.connect(addr).expect("connect");
    let mut problems = Vec::new();
    let mut dropped_ids = BTreeSet::new();
    let mut buf = vec![0u8; 65_535];
    for (what, bytes, answered) in malformed() {
        sock.send(&bytes).expect("send");
        let wait = if answered { 2000 } else { 100 };
        sock.set_read_timeout(Some(Duration::from_millis(wait)))
            .expect("timeout");
        let id = (bytes.len() >= 2).then(|| u16::from_be_bytes([bytes[0], bytes[1]]));
        if !answered {
            if let Some(id) = id {
                dropped_ids.insert(id);
            }
        }
        loop {
            match sock.recv(&mut buf) {
                Ok(len) => {
                    let reply = &buf[..len];
                    let rid = u16::from_be_bytes([reply[0], reply[1]]);
                    if dropped_ids.contains(&rid) {
                        problems.push(format!("answered what must be dropped (id {rid})"));
                        continue;
                    }
                    if !answered || Some(rid) != id {
                        problems.push(format!("{what}: stray reply id {rid}"));
                        continue;
                    }
                    match wire::decode(reply) {
                        Ok(m) if m.header.qr && m.header.rcode == 1 => {}
                        Ok(m) => problems.push(format!("{what}: not FORMERR: {:?}", m.header)),
                        Err(e) => problems.push(format!("{what}: reply undecodable: {e}")),
                    }
                    break;
                }
                Err(_) => {
                    if answered {
                        problems.push(format!("{what}: no FORMERR within {wait} ms"));
                    }
                    break;
                }
            }
        }
    }
    problems
}

/// Malformed TCP streams: garbage in a frame (FORMERR), a frame cut short
/// (closed), an oversized length prefix with little behind it (closed).
fn hostile_tcp(addr: SocketAddr) -> Vec<String> {
    let mut problems = Vec::new();
    let connect = || {
        let s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(3)))
            .expect("timeout");
        s
    };
    // Garbage in a frame, then a good query on the same connection.
    let mut s = connect();
    let mut frame = vec![0, 13];
    frame.extend_from_slice(&header(0x0101, 1));
    frame.push(0xC0);
    let good = query(0x0102, "svc-2.ns-2.svc.cluster.local.");
    frame.extend_from_slice(&(good.len() as u16).to_be_bytes());
    frame.extend_from_slice(&good);
    s.write_all(&frame).expect("write");
    for (want_id, want_rcode) in [(0x0101u16, 1u16), (0x0102, 0)] {
        let mut len = [0u8; 2];
        if s.read_exact(&mut len).is_err() {
            problems.push(format!("tcp: no reply for id {want_id:#x}"));
            break;
        }
        let mut body = vec![0u8; usize::from(u16::from_be_bytes(len))];
        s.read_exact(&mut body).expect("body");
        match wire::decode(&body) {
            Ok(m) if m.header.id == want_id && m.header.rcode == want_rcode => {}
            other => problems.push(format!("tcp: id {want_id:#x}: {other:?}")),
        }
    }
    // A frame cut short, and an oversized prefix with 10 octets behind it.
    for bytes in [
        &[0u8, 40, 1, 2, 3][..],
        &[0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0][..],
    ] {
        let mut s = connect();
        s.write_all(bytes).expect("write");
        drop(s);
    }
    problems
}

#[test]
fn serve_dns_loses_nothing_under_load_and_survives_malformed_packets() {
    let server = Server::start();
    let addr = server.addr;

    let hostile = std::thread::spawn(move || {
        let mut p = hostile_udp(addr);
        p.extend(hostile_tcp(addr));
        p
    });
    let started = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| std::thread::spawn(move || client(addr, (c as u64) << 40)))
        .collect();
    let mut total = Tally::default();
    for c in clients {
        let t = c.join().expect("client");
        total.sent += t.sent;
        total.answered += t.answered;
        total.lost += t.lost;
        total.wrong.extend(t.wrong);
        total.latencies_us.extend(t.latencies_us);
    }
    let elapsed = started.elapsed();
    let hostile = hostile.join().expect("hostile client");

    total.latencies_us.sort_unstable();
    let pct = |p: f64| {
        let v = &total.latencies_us;
        v.get(((v.len() as f64 * p) as usize).min(v.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    eprintln!(
        "serve-dns (test build) under load: {} queries, {} answered, {} lost, {} wrong, \
         {:.0} q/s, latency p50 {} µs p99 {} µs max {} µs",
        total.sent,
        total.answered,
        total.lost,
        total.wrong.len(),
        total.answered as f64 / elapsed.as_secs_f64(),
        pct(0.5),
        pct(0.99),
        pct(1.0),
    );
    assert!(total.sent >= 1000, "too little load to mean anything");
    assert_eq!(total.lost, 0, "lost queries");
    assert!(
        total.wrong.is_empty(),
        "{} wrong answers, first: {:?}",
        total.wrong.len(),
        &total.wrong[..total.wrong.len().min(5)]
    );
    assert!(hostile.is_empty(), "malformed input: {hostile:#?}");

    // Still serving, over UDP and TCP.
    let c = case(0);
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    sock.send_to(
        &wire::encode(&Message::query(9, &c.name, c.qtype)).expect("q"),
        addr,
    )
    .expect("send");
    let mut buf = [0u8; 4096];
    let (len, _) = sock.recv_from(&mut buf).expect("still answering over UDP");
    check(&c, 9, &buf[..len]).expect("right answer after the storm");
    let mut s = TcpStream::connect(addr).expect("still accepting TCP");
    s.set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let q = wire::encode(&Message::query(10, &c.name, c.qtype)).expect("q");
    s.write_all(&(q.len() as u16).to_be_bytes()).expect("write");
    s.write_all(&q).expect("write");
    let mut len = [0u8; 2];
    s.read_exact(&mut len).expect("TCP reply");
    let mut body = vec![0u8; usize::from(u16::from_be_bytes(len))];
    s.read_exact(&mut body).expect("TCP reply");
    check(&c, 10, &body).expect("right answer over TCP");
}
