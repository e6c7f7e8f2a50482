//! Reading a cluster's current [`View`] without taking a lock.
//!
//! A write publishes a new view (an `Arc`, see [`crate::engine`]) and then
//! bumps the cluster's generation. Each thread caches the view it last
//! read, with the cluster's id and the generation it read it at; while the
//! generation has not moved, a read is one atomic load and a thread-local
//! access: no lock, no shared write, so router threads never contend. After
//! a write, each thread's next read fetches the new view once (under the
//! cluster's read lock).
//!
//! Guarantees: a reader sees one whole view (never half a batch); after a
//! write returns on a thread, that thread's next read sees it (and so does
//! any thread that synchronised with it afterwards). A thread keeps its
//! last view alive until it reads another cluster, reads this one after a
//! write, or exits; `svcroute_cluster_free` drops the freeing thread's copy.
//!
//! Ids are never reused, so a cluster allocated where a freed one was never
//! meets the freed one's cached view.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::engine::View;

/// The next cluster id (0 is never used).
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The view this thread read last, and of which cluster and generation.
struct Cached {
    id: u64,
    generation: u64,
    view: Arc<View>,
}

thread_local! {
    static CACHE: RefCell<Option<Cached>> = const { RefCell::new(None) };
}

/// A cluster's identity and write generation, for the per-thread caches.
///
/// ```
/// use std::sync::Arc;
/// use svcroute_c::engine::Engine;
/// use svcroute_c::snapshot::Published;
/// let engine = Engine::new(svcroute_c::door::new_cluster(None).unwrap()).unwrap();
/// let published = Published::new();
/// let n = published.read(|| Arc::clone(&engine.view), |v| v.dataplane.service_count());
/// assert_eq!(n, 1);
/// ```
#[derive(Debug)]
pub struct Published {
    id: u64,
    generation: AtomicU64,
}

impl Default for Published {
    fn default() -> Published {
        Published::new()
    }
}

impl Published {
    /// A fresh identity (unique for the life of the process), generation 0.
    pub fn new() -> Published {
        Published {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            generation: AtomicU64::new(0),
        }
    }

    /// Marks the view as replaced. Call it after the new view is in place
    /// (and the write lock released), so that every later read fetches it.
    pub fn changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Runs `f` on the current view: this thread's cached one while the
    /// generation has not moved, else the one `load` returns (which is then
    /// cached).
    pub fn read<R>(&self, load: impl Fn() -> Arc<View>, f: impl FnOnce(&View) -> R) -> R {
        let generation = self.generation.load(Ordering::Acquire);
        let mut f = Some(f);
        let cached = CACHE.try_with(|cache| {
            let mut cache = cache.try_borrow_mut().ok()?;
            let fresh = matches!(&*cache, Some(c) if c.id == self.id && c.generation == generation);
            if !fresh {
                *cache = Some(Cached {
                    id: self.id,
                    generation,
                    view: load(),
                });
            }
            let view = &cache.as_ref()?.view;
            Some(f.take()?(view))
        });
        if let Ok(Some(r)) = cached {
            return r;
        }
        // No cache (the thread is exiting, or a read inside a read): read
        // straight through. `f` has not run: it runs only where it returns.
        match f.take() {
            Some(f) => f(&load()),
            None => unreachable!("f ran without returning"),
        }
    }

    /// Drops this thread's cached view if it is this cluster's (when the
    /// cluster is freed).
    pub fn forget(&self) {
        let _ = CACHE.try_with(|cache| {
            if let Ok(mut cache) = cache.try_borrow_mut()
                && cache.as_ref().is_some_and(|c| c.id == self.id)
            {
                *cache = None;
            }
        });
    }
}
