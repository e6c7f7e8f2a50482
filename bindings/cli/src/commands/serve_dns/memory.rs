//! Keeping the server's resident memory to what it serves: the index, packed
//! on a thread of its own, and freed heap handed back to the system.

use std::io;
use std::sync::mpsc;

use svcroute::dns::Dns;

/// A job for the index thread: an index to copy, and where to send the copy
/// and the original back.
type Job = (Dns, mpsc::Sender<(Dns, Dns)>);

/// A thread that lives as long as the server and only copies indexes.
///
/// An index is built among the parsed manifests and the cluster, many times
/// its size; once those are freed, the index's small allocations are spread
/// over pages that are otherwise free, and no trim can give those pages
/// back (measured: 40 MB resident for 16 MB in use, 22,000 Pods and
/// Services). A copy made on another thread lands in that thread's own
/// malloc arena (glibc gives each thread one), packed, and at exactly the
/// size of each string and table; the original and everything around it
/// are then freed whole. The thread stays alive so that its arena is never
/// handed to a worker thread: it holds indexes only.
pub(super) struct IndexHome {
    jobs: mpsc::Sender<Job>,
}

impl IndexHome {
    /// Starts the thread.
    pub(super) fn start() -> io::Result<IndexHome> {
        let (jobs, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("dns-index".to_owned())
            .spawn(move || {
                for (built, reply) in rx {
                    let copy = built.clone();
                    let _ = reply.send((copy, built));
                }
            })?;
        Ok(IndexHome { jobs })
    }

    /// A packed copy of `built`, made on the index thread; `built` is freed
    /// on the calling thread. Should the index thread be gone, `built`
    /// itself.
    pub(super) fn copy(&self, built: Dns) -> Dns {
        let (tx, rx) = mpsc::channel();
        if let Err(mpsc::SendError((built, _))) = self.jobs.send((built, tx)) {
            return built;
        }
        // The thread replies to every job it takes; it only ends when
        // `jobs` is dropped, and a panic there (out of memory) would end
        // the process.
        let (copy, built) = rx
            .recv()
            .unwrap_or_else(|_| unreachable!("the index thread replies to every job"));
        drop(built);
        copy
    }
}

/// Gives the heap freed since the last call (the parsed manifests and the
/// cluster, many times the size of the index) back to the system: glibc
/// keeps freed pages in its arenas otherwise, and they would count in the
/// server's resident size for as long as it runs.
pub(super) fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointer and only walks glibc's own free
    // lists, under glibc's own locks; any thread may call it at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use svcroute::dns::wire::{self, Message};
    use svcroute::dns::{DnsConfig, RecordType, Transport};

    #[test]
    fn the_copy_answers_as_the_original() {
        let cluster = svcroute::cluster::Cluster::new(Default::default()).unwrap();
        let config = DnsConfig {
            ttl: 9,
            ..DnsConfig::default()
        };
        let built = Dns::new(&cluster, config.clone()).unwrap();
        let reference = Dns::new(&cluster, config).unwrap();
        let home = IndexHome::start().unwrap();
        let copy = home.copy(built);
        assert_eq!(copy.config().ttl, 9);
        assert_eq!(copy.name_count(), reference.name_count());
        for name in [
            "kubernetes.default.svc.cluster.local.",
            "_https._tcp.kubernetes.default.svc.cluster.local.",
            "nope.default.svc.cluster.local.",
        ] {
            for qtype in [RecordType::A, RecordType::Srv, RecordType::Aaaa] {
                let q = wire::encode(&Message::query(5, name, qtype)).unwrap();
                let (mut a, mut b) = (Vec::new(), Vec::new());
                assert_eq!(
                    copy.answer_wire_into(&q, Transport::Udp, &mut a),
                    reference.answer_wire_into(&q, Transport::Udp, &mut b)
                );
                assert_eq!(a, b, "{name} {qtype:?}");
            }
        }
        // A second job on the same thread.
        let again = home.copy(copy);
        assert_eq!(again.name_count(), reference.name_count());
    }
}
