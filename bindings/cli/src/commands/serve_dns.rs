//! `svcroute serve-dns`: cluster DNS as a real server, over UDP and TCP.
//!
//! The manifests given with `-f` are loaded once into a cluster (as every
//! command does), indexed into [`svcroute::dns::Dns`], and every query is
//! answered by [`Dns::answer_wire_into`]: the server itself only moves
//! bytes.
//!
//! * UDP: `--threads` workers, each with its own socket on the shared
//!   port (`SO_REUSEPORT`, so no worker waits on another). Each keeps its
//!   receive and response buffers from query to query, and up to `--cache`
//!   responses it has encoded (keyed by the query less its ID): a repeated
//!   question costs a hash probe and a copy and allocates nothing.
//!   Responses over the client's size (512 octets, or its EDNS size) come
//!   back truncated (TC) and the client retries over TCP.
//! * TCP: one thread accepts; each connection gets a thread that answers
//!   any number of queries (two-octet length prefix, RFC 1035 4.2.2 and RFC
//!   7766), and is closed after 10 s without a query. At most 256
//!   connections are served at once; more are closed at accept.
//! * Malformed messages get FORMERR or nothing (the core decides); nothing
//!   a client sends stops a worker.
//! * Nothing is logged per query. SIGINT or SIGTERM stops the server: the
//!   workers finish the query in hand, and the process exits 0.
//! * SIGHUP reloads: the `-f` files are read again and a new index is built
//!   off to the side while the old one keeps answering; then it is swapped
//!   in whole (`Served`). Each worker picks the new index up before its
//!   next query (and forgets its cached responses), so no query is dropped
//!   and none sees half of a change. A reload that fails (a bad manifest)
//!   is reported on stderr and the previous cluster keeps being served.
//!   Standard input (`-f -`) cannot be read twice: with it, SIGHUP is
//!   refused with a message.
//! * Memory: the cluster is dropped once indexed; the index is copied,
//!   packed, onto a thread of its own (its own malloc arena) and the freed
//!   heap is given back to the system (module `memory`), after the first load
//!   and after each reload. What the server holds beyond the index is a
//!   fixed cost: the bounded caches, buffers and threads.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use clap::Args;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use svcroute::dns::{Dns, DnsConfig, Transport};

use crate::context::Context;
use crate::exit::{CliError, Outcome};
use crate::load;

mod cache;
mod memory;

use cache::AnswerCache;
use memory::{IndexHome, release_freed_memory};

/// How often a blocked worker looks at the stop flag.
const POLL: Duration = Duration::from_millis(200);

/// A TCP connection without a query for this long is closed.
const TCP_IDLE: Duration = Duration::from_secs(10);

/// TCP connections served at once.
const MAX_TCP_CONNECTIONS: usize = 256;

/// Flags of `svcroute serve-dns`.
#[derive(Debug, Clone, Args)]
#[command(after_help = "\
Answers as the CoreDNS `kubernetes` plugin would for the cluster the -f manifests \
describe (zone cluster.local, TTL 5). Names outside the cluster zone and the reverse \
zones are REFUSED (there is no upstream to forward to).

SIGHUP reloads the -f files without dropping a query: the new cluster is indexed \
while the old one keeps answering, then swapped in whole; if the new files do not \
load, the error is printed and the old cluster stays served. Input from stdin (-f -) \
cannot be reloaded. Nothing is logged per query. SIGINT or SIGTERM stops it (exit 0).")]
pub struct ServeDnsArgs {
    /// Address and port to listen on, for UDP and TCP alike (port 0: any
    /// free port; the one chosen is printed)
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:5353")]
    pub listen: SocketAddr,

    /// Serve UDP (with --tcp: both; neither flag: both)
    #[arg(long)]
    pub udp: bool,

    /// Serve TCP (with --udp: both; neither flag: both)
    #[arg(long)]
    pub tcp: bool,

    /// UDP worker threads, one socket each [default: the number of CPUs]
    #[arg(long, value_name = "N")]
    pub threads: Option<NonZeroUsize>,

    /// Responses each UDP worker keeps encoded for questions asked again
    /// (0: none): a fixed cost, whatever the cluster's size, of about 256
    /// octets a response at most
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CACHE)]
    pub cache: usize,
}

/// Responses kept per UDP worker unless `--cache` says otherwise (at most
/// 2 MiB each; CoreDNS's cache plugin keeps 10,000 by default). More than a
/// dnsperf run's distinct questions: measured, 8,192 answers as fast as
/// 65,536 does.
pub const DEFAULT_CACHE: usize = 8192;

impl ServeDnsArgs {
    /// Which transports to serve: `(udp, tcp)`.
    fn transports(&self) -> (bool, bool) {
        if self.udp || self.tcp {
            (self.udp, self.tcp)
        } else {
            (true, true)
        }
    }
}

/// Loads the manifests into a cluster and indexes it; the cluster itself is
/// dropped (the index holds all that is answered).
fn load_dns(ctx: &mut Context<'_>, home: &IndexHome) -> Result<Dns, CliError> {
    let built = {
        let cluster = load::cluster(ctx)?;
        Dns::new(&cluster, DnsConfig::for_cluster(cluster.config()))
            .map_err(|e| CliError::from(svcroute::Error::from(e)))?
    };
    let dns = home.copy(built);
    release_freed_memory();
    Ok(dns)
}

/// Loads the cluster, binds, prints `serving N names on ADDR` on stderr and
/// answers until SIGINT or SIGTERM; SIGHUP reloads.
pub fn run(args: &ServeDnsArgs, ctx: &mut Context<'_>) -> Result<Outcome, CliError> {
    let home = IndexHome::start()?;
    let dns = load_dns(ctx, &home)?;
    // Before the first answer: a signal must never kill the server uncleanly.
    let mut signals = Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    let (udp, tcp) = args.transports();
    let threads = args
        .threads
        .or_else(|| std::thread::available_parallelism().ok())
        .map_or(1, NonZeroUsize::get);
    let names = dns.name_count();
    let server = Server::bind(args.listen, if udp { threads.max(1) } else { 0 }, tcp)?;
    let addr = server.local_addr;
    let served = Arc::new(Served::new(dns));
    let running = server.start(Arc::clone(&served), args.cache)?;
    let protocols = match (udp, tcp) {
        (true, true) => "udp+tcp",
        (true, false) => "udp",
        _ => "tcp",
    };
    writeln!(ctx.stderr, "serving {names} names on {addr} ({protocols})")?;
    ctx.stderr.flush()?;
    let mut signal = None;
    for sig in signals.forever() {
        if sig != SIGHUP {
            signal = Some(sig);
            break;
        }
        reload(ctx, &served, &home)?;
    }
    running.stop();
    let why = match signal {
        Some(SIGINT) => "SIGINT",
        Some(SIGTERM) => "SIGTERM",
        _ => "end of signals",
    };
    writeln!(ctx.stderr, "stopped ({why})")?;
    Ok(Outcome::Positive)
}

/// Reads the `-f` files again and swaps the new index in; a failure is
/// reported and leaves the served index as it was.
fn reload(ctx: &mut Context<'_>, served: &Served, home: &IndexHome) -> Result<(), CliError> {
    if ctx.global.filenames.iter().any(|f| f.as_os_str() == "-") {
        writeln!(
            ctx.stderr,
            "reload refused: standard input (-f -) cannot be read again; still serving the previous cluster"
        )?;
        return Ok(());
    }
    match load_dns(ctx, home) {
        Ok(dns) => {
            let names = dns.name_count();
            let old = served.swap(dns);
            writeln!(ctx.stderr, "reloaded: serving {names} names")?;
            ctx.stderr.flush()?;
            // Freed once the workers let go of it (each does before its next
            // query, or within POLL when idle; a TCP connection waiting for
            // its next query may hold it longer): then its pages go back.
            let deadline = Instant::now() + POLL * 3;
            while Arc::strong_count(&old) > 1 && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            drop(old);
            release_freed_memory();
        }
        Err(e) => writeln!(
            ctx.stderr,
            "reload failed, still serving the previous cluster: {e}"
        )?,
    }
    ctx.stderr.flush()?;
    Ok(())
}

/// The index being served, replaced whole on reload. Workers keep their
/// own `Arc` and compare [`Served::generation`] before each query: one
/// relaxed atomic load on the hot path, the lock only taken after a swap.
struct Served {
    dns: RwLock<Arc<Dns>>,
    generation: AtomicU64,
}

impl Served {
    fn new(dns: Dns) -> Served {
        Served {
            dns: RwLock::new(Arc::new(dns)),
            generation: AtomicU64::new(0),
        }
    }

    /// The current index and its generation.
    fn current(&self) -> (Arc<Dns>, u64) {
        let guard = self.dns.read().unwrap_or_else(PoisonError::into_inner);
        (Arc::clone(&guard), self.generation.load(Ordering::Acquire))
    }

    /// Publishes a new index and returns the old one, which is freed when
    /// the last worker lets go of it.
    fn swap(&self, dns: Dns) -> Arc<Dns> {
        let mut guard = self.dns.write().unwrap_or_else(PoisonError::into_inner);
        let old = std::mem::replace(&mut *guard, Arc::new(dns));
        self.generation.fetch_add(1, Ordering::Release);
        old
    }

    /// Whether the index changed since `generation`.
    fn changed_since(&self, generation: u64) -> bool {
        self.generation.load(Ordering::Acquire) != generation
    }
}

/// A worker's view of the served index, refreshed between queries.
struct View {
    dns: Arc<Dns>,
    generation: u64,
}

impl View {
    fn of(served: &Served) -> View {
        let (dns, generation) = served.current();
        View { dns, generation }
    }

    /// Picks up a new index if one was swapped in; `true` when it did.
    fn refresh(&mut self, served: &Served) -> bool {
        if !served.changed_since(self.generation) {
            return false;
        }
        *self = View::of(served);
        true
    }
}

/// The bound sockets, not yet served.
struct Server {
    /// One UDP socket per worker, all on the same port (`SO_REUSEPORT`:
    /// the kernel spreads clients over them, no worker waits on another).
    udp: Vec<UdpSocket>,
    tcp: Option<TcpListener>,
    local_addr: SocketAddr,
}

/// The receive buffer asked for each UDP socket: room for a burst of a few
/// thousand queries (the kernel may grant less).
const UDP_RECV_BUFFER: usize = 4 << 20;

/// A UDP socket on `addr` that shares its port with the other workers'.
fn udp_socket(addr: SocketAddr) -> io::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let sock = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    sock.set_reuse_port(true)?;
    // Best effort: a smaller buffer only means drops sooner under a flood.
    let _ = sock.set_recv_buffer_size(UDP_RECV_BUFFER);
    let _ = sock.set_send_buffer_size(UDP_RECV_BUFFER);
    sock.bind(&addr.into())?;
    Ok(sock.into())
}

impl Server {
    /// Binds `udp_sockets` UDP sockets and/or a TCP listener on `addr`.
    /// With port 0, UDP picks the port and TCP takes the same one (tried
    /// a few times should it be taken).
    fn bind(addr: SocketAddr, udp_sockets: usize, tcp: bool) -> io::Result<Server> {
        let mut last = None;
        for _ in 0..16 {
            let mut udp = Vec::new();
            let mut port_addr = addr;
            for _ in 0..udp_sockets {
                let u = udp_socket(port_addr)?;
                port_addr = u.local_addr()?;
                udp.push(u);
            }
            let t = if tcp {
                match TcpListener::bind(port_addr) {
                    Ok(t) => Some(t),
                    Err(e) if addr.port() == 0 && e.kind() == io::ErrorKind::AddrInUse => {
                        last = Some(e);
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            } else {
                None
            };
            let local_addr = match (udp.first(), &t) {
                (Some(u), _) => u.local_addr()?,
                (None, Some(t)) => t.local_addr()?,
                (None, None) => addr,
            };
            return Ok(Server {
                udp,
                tcp: t,
                local_addr,
            });
        }
        Err(last.unwrap_or_else(|| io::Error::other("no port")))
    }

    /// Starts the workers: one per UDP socket, one TCP acceptor.
    fn start(self, dns: Arc<Served>, cache: usize) -> io::Result<Running> {
        let stop = Arc::new(AtomicBool::new(false));
        let tcp = self.tcp.is_some();
        let connections = Arc::new(AtomicUsize::new(0));
        let mut workers = Vec::new();
        for (i, sock) in self.udp.into_iter().enumerate() {
            sock.set_read_timeout(Some(POLL))?;
            let (dns, stop) = (Arc::clone(&dns), Arc::clone(&stop));
            workers.push(
                std::thread::Builder::new()
                    .name(format!("dns-udp-{i}"))
                    .spawn(move || serve_udp(&sock, &dns, &stop, cache))?,
            );
        }
        if let Some(listener) = self.tcp {
            let (dns, stop, conns) = (
                Arc::clone(&dns),
                Arc::clone(&stop),
                Arc::clone(&connections),
            );
            workers.push(
                std::thread::Builder::new()
                    .name("dns-tcp-accept".to_owned())
                    .spawn(move || accept_tcp(&listener, &dns, &stop, &conns))?,
            );
        }
        Ok(Running {
            stop,
            connections,
            workers,
            local_addr: self.local_addr,
            tcp,
        })
    }
}

/// A server being served.
struct Running {
    stop: Arc<AtomicBool>,
    connections: Arc<AtomicUsize>,
    workers: Vec<JoinHandle<()>>,
    local_addr: SocketAddr,
    tcp: bool,
}

impl Running {
    /// Stops every worker: the flag is set, the acceptor woken with a
    /// connection of our own, the UDP workers see the flag within [`POLL`],
    /// connection threads within [`POLL`] of their current query.
    fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        if self.tcp {
            let _ = TcpStream::connect_timeout(&self.local_addr, POLL);
        }
        for w in self.workers {
            let _ = w.join();
        }
        let deadline = Instant::now() + POLL * 5;
        while self.connections.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

fn serve_udp(sock: &UdpSocket, served: &Served, stop: &AtomicBool, cache: usize) {
    // One datagram of any size fits; over-long ones are FORMERR anyway.
    let mut buf = vec![0u8; 65_535];
    let mut out = Vec::with_capacity(4096);
    let mut cache = AnswerCache::new(cache);
    let mut view = View::of(served);
    while !stop.load(Ordering::Relaxed) {
        let got = sock.recv_from(&mut buf);
        // Before the answer, and on every timeout too: an idle worker lets
        // go of a replaced index within POLL, so its memory is freed.
        if view.refresh(served) {
            cache.clear();
        }
        let (n, peer) = match got {
            Ok(got) => got,
            // Timeouts (the stop poll), ICMP errors of earlier sends,
            // interrupted calls: nothing to answer.
            Err(_) => continue,
        };
        out.clear();
        if cache.answer(&view.dns, &buf[..n], &mut out) {
            let _ = sock.send_to(&out, peer);
        }
    }
}

fn accept_tcp(
    listener: &TcpListener,
    dns: &Arc<Served>,
    stop: &Arc<AtomicBool>,
    conns: &Arc<AtomicUsize>,
) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        if conns.fetch_add(1, Ordering::SeqCst) >= MAX_TCP_CONNECTIONS {
            conns.fetch_sub(1, Ordering::SeqCst);
            continue;
        }
        let (dns, stop, conns2) = (Arc::clone(dns), Arc::clone(stop), Arc::clone(conns));
        let spawned = std::thread::Builder::new()
            .name("dns-tcp".to_owned())
            .spawn(move || {
                let _ = serve_tcp(stream, &dns, &stop);
                conns2.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            conns.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Answers the queries of one connection until it closes, goes idle, sends
/// something unreadable, or the server stops.
fn serve_tcp(mut stream: TcpStream, served: &Served, stop: &AtomicBool) -> io::Result<()> {
    let mut view = View::of(served);
    stream.set_read_timeout(Some(POLL))?;
    stream.set_write_timeout(Some(TCP_IDLE))?;
    stream.set_nodelay(true)?;
    let mut buf = vec![0u8; 65_535];
    let mut out = Vec::with_capacity(4096);
    loop {
        let mut prefix = [0u8; 2];
        if !read_full(&mut stream, &mut prefix, stop)? {
            return Ok(());
        }
        let len = usize::from(u16::from_be_bytes(prefix));
        if !read_full(&mut stream, &mut buf[..len], stop)? {
            return Ok(());
        }
        out.clear();
        out.extend_from_slice(&[0, 0]);
        view.refresh(served);
        if !view
            .dns
            .answer_wire_into(&buf[..len], Transport::Tcp, &mut out)
        {
            // Not a query (too short, or a response): RFC 7766 lets the
            // server close.
            return Ok(());
        }
        let Ok(n) = u16::try_from(out.len() - 2) else {
            return Ok(());
        };
        out[..2].copy_from_slice(&n.to_be_bytes());
        stream.write_all(&out)?;
    }
}

/// Fills `buf` from the stream; `false` when the peer closed, went idle for
/// [`TCP_IDLE`], or the server is stopping.
fn read_full(stream: &mut TcpStream, buf: &mut [u8], stop: &AtomicBool) -> io::Result<bool> {
    let mut filled = 0;
    let mut idle_since = Instant::now();
    while filled < buf.len() {
        match stream.read(&mut buf[filled..]) {
            Ok(0) => return Ok(false),
            Ok(n) => {
                filled += n;
                idle_since = Instant::now();
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                if stop.load(Ordering::Relaxed) || idle_since.elapsed() >= TCP_IDLE {
                    return Ok(false);
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_transports_unless_one_is_named() {
        let args = |udp, tcp| ServeDnsArgs {
            listen: "127.0.0.1:0".parse().unwrap(),
            udp,
            tcp,
            threads: None,
            cache: DEFAULT_CACHE,
        };
        assert_eq!(args(false, false).transports(), (true, true));
        assert_eq!(args(true, false).transports(), (true, false));
        assert_eq!(args(false, true).transports(), (false, true));
        assert_eq!(args(true, true).transports(), (true, true));
    }

    #[test]
    fn a_swapped_index_is_seen_by_every_view_once() {
        let cluster = svcroute::cluster::Cluster::new(Default::default()).unwrap();
        let served = Served::new(Dns::new(&cluster, DnsConfig::default()).unwrap());
        let (mut a, mut b) = (View::of(&served), View::of(&served));
        assert!(!a.refresh(&served));
        let ttl9 = DnsConfig {
            ttl: 9,
            ..DnsConfig::default()
        };
        let _old = served.swap(Dns::new(&cluster, ttl9).unwrap());
        assert!(a.refresh(&served));
        assert!(!a.refresh(&served));
        assert_eq!(a.dns.config().ttl, 9);
        assert_eq!(
            b.dns.config().ttl,
            5,
            "the old index stays whole until refresh"
        );
        assert!(b.refresh(&served));
        assert_eq!(b.dns.config().ttl, 9);
    }

    #[test]
    fn port_zero_gives_udp_and_tcp_the_same_port() {
        let server = Server::bind("127.0.0.1:0".parse().unwrap(), 3, true).unwrap();
        let port = server.local_addr.port();
        assert_ne!(port, 0);
        assert_eq!(server.udp.len(), 3);
        for u in &server.udp {
            assert_eq!(u.local_addr().unwrap().port(), port);
        }
        assert_eq!(
            server.tcp.as_ref().unwrap().local_addr().unwrap().port(),
            port
        );
    }
}
