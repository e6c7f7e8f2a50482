//! One enum over every balancer, built from a declarative [`Algorithm`].

use super::{
    Backend, BalanceError, Balancer, Event, FlowHash, IptablesChain, Ipvs, IpvsScheduler, JumpHash,
    Ketama, KetamaConfig, LeastRequest, Maglev, MaglevConfig, NftablesNumgen, PeakEwma,
    PeakEwmaConfig, Random, Rendezvous, Request, RoundRobin, SmoothWeighted, WeightedRandom,
};

/// Which algorithm to build, with its parameters.
///
/// ```
/// use svcroute::balance::{Algorithm, Backend, Balancer, Request};
/// let mut lb = Algorithm::SmoothWeighted.build(&[Backend::new("a", 2), Backend::new("b", 1)])?;
/// assert_eq!(lb.pick(&Request::none()), Some(0));
/// assert_eq!(Algorithm::SmoothWeighted.name(), "smooth-weighted");
/// # Ok::<(), svcroute::balance::BalanceError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Algorithm {
    /// [`RoundRobin`].
    RoundRobin,
    /// [`SmoothWeighted`] (nginx).
    SmoothWeighted,
    /// [`Random`].
    Random {
        /// Seed.
        seed: u64,
    },
    /// [`WeightedRandom`].
    WeightedRandom {
        /// Seed.
        seed: u64,
    },
    /// [`IptablesChain`] (kube-proxy iptables mode).
    Iptables {
        /// Seed.
        seed: u64,
    },
    /// [`NftablesNumgen`] (kube-proxy nftables mode).
    Nftables {
        /// Seed.
        seed: u64,
    },
    /// [`Ipvs`] with a scheduler.
    Ipvs {
        /// The scheduler.
        scheduler: IpvsScheduler,
        /// Seed for keyless hashing picks.
        seed: u64,
    },
    /// [`LeastRequest`].
    LeastRequest {
        /// Random choices per pick (2 = P2C).
        choice_count: u32,
        /// Seed.
        seed: u64,
    },
    /// [`PeakEwma`].
    PeakEwma(PeakEwmaConfig),
    /// [`Maglev`].
    Maglev(MaglevConfig),
    /// [`Ketama`].
    Ketama(KetamaConfig),
    /// [`JumpHash`].
    Jump {
        /// Flow hashing.
        flow_hash: FlowHash,
        /// Seed for keyless picks.
        seed: u64,
    },
    /// [`Rendezvous`].
    Rendezvous {
        /// Flow hashing.
        flow_hash: FlowHash,
        /// Seed for keyless picks.
        seed: u64,
    },
}

impl Algorithm {
    /// Every name [`from_name`](Algorithm::from_name) accepts (and
    /// [`name`](Algorithm::name) returns), one per variant.
    ///
    /// ```
    /// use svcroute::balance::Algorithm;
    /// for name in Algorithm::NAMES {
    ///     assert_eq!(Algorithm::from_name(name, 0)?.name(), *name);
    /// }
    /// # Ok::<(), svcroute::balance::BalanceError>(())
    /// ```
    pub const NAMES: &'static [&'static str] = &[
        "round-robin",
        "smooth-weighted",
        "random",
        "weighted-random",
        "iptables",
        "nftables",
        "ipvs",
        "least-request",
        "peak-ewma",
        "maglev",
        "ketama",
        "jump",
        "rendezvous",
    ];

    /// The algorithm called `name` with its defaults and `seed`: the one
    /// name table of the C door and the WASM `simulate`. Defaults: IPVS
    /// `rr`, two choices for least request, Maglev M = 65537 with Envoy's
    /// layout, nginx ketama points, [`FlowHash::Fast`] for every flow key.
    ///
    /// Errors: [`BalanceError::UnknownAlgorithm`] for any other name
    /// (including `"kube-proxy"`, which is not an algorithm of this module
    /// but kube-proxy's own placement; callers handle it first).
    ///
    /// ```
    /// use svcroute::balance::{Algorithm, BalanceError, IpvsScheduler};
    /// let a = Algorithm::from_name("ipvs", 7)?;
    /// assert_eq!(a, Algorithm::Ipvs { scheduler: IpvsScheduler::Rr, seed: 7 });
    /// let err = Algorithm::from_name("fastest", 0).unwrap_err();
    /// assert!(matches!(err, BalanceError::UnknownAlgorithm { .. }));
    /// assert_eq!(err.kind(), svcroute::ErrorKind::NotFound);
    /// # Ok::<(), BalanceError>(())
    /// ```
    pub fn from_name(name: &str, seed: u64) -> Result<Algorithm, BalanceError> {
        let flow_hash = FlowHash::Fast;
        Ok(match name {
            "round-robin" => Algorithm::RoundRobin,
            "smooth-weighted" => Algorithm::SmoothWeighted,
            "random" => Algorithm::Random { seed },
            "weighted-random" => Algorithm::WeightedRandom { seed },
            "iptables" => Algorithm::Iptables { seed },
            "nftables" => Algorithm::Nftables { seed },
            "ipvs" => Algorithm::Ipvs {
                scheduler: IpvsScheduler::default(),
                seed,
            },
            "least-request" => Algorithm::LeastRequest {
                choice_count: 2,
                seed,
            },
            "peak-ewma" => Algorithm::PeakEwma(PeakEwmaConfig {
                seed,
                ..PeakEwmaConfig::default()
            }),
            "maglev" => Algorithm::Maglev(MaglevConfig {
                seed,
                ..MaglevConfig::default()
            }),
            "ketama" => Algorithm::Ketama(KetamaConfig {
                flow_hash,
                seed,
                ..KetamaConfig::default()
            }),
            "jump" => Algorithm::Jump { flow_hash, seed },
            "rendezvous" => Algorithm::Rendezvous { flow_hash, seed },
            _ => {
                return Err(BalanceError::UnknownAlgorithm {
                    name: name.to_string(),
                });
            }
        })
    }

    /// A short stable name.
    ///
    /// ```
    /// use svcroute::balance::{Algorithm, MaglevConfig};
    /// assert_eq!(Algorithm::Maglev(MaglevConfig::default()).name(), "maglev");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            Algorithm::RoundRobin => "round-robin",
            Algorithm::SmoothWeighted => "smooth-weighted",
            Algorithm::Random { .. } => "random",
            Algorithm::WeightedRandom { .. } => "weighted-random",
            Algorithm::Iptables { .. } => "iptables",
            Algorithm::Nftables { .. } => "nftables",
            Algorithm::Ipvs { .. } => "ipvs",
            Algorithm::LeastRequest { .. } => "least-request",
            Algorithm::PeakEwma(_) => "peak-ewma",
            Algorithm::Maglev(_) => "maglev",
            Algorithm::Ketama(_) => "ketama",
            Algorithm::Jump { .. } => "jump",
            Algorithm::Rendezvous { .. } => "rendezvous",
        }
    }

    /// Build the balancer over `backends`.
    ///
    /// ```
    /// use svcroute::balance::{Algorithm, Backend, Balancer};
    /// let lb = Algorithm::Random { seed: 1 }.build(&Backend::list(["a"]))?;
    /// assert_eq!(lb.len(), 1);
    /// # Ok::<(), svcroute::balance::BalanceError>(())
    /// ```
    pub fn build(&self, backends: &[Backend]) -> Result<AnyBalancer, BalanceError> {
        Ok(match self {
            Algorithm::RoundRobin => AnyBalancer::RoundRobin(RoundRobin::new(backends)),
            Algorithm::SmoothWeighted => AnyBalancer::SmoothWeighted(SmoothWeighted::new(backends)),
            Algorithm::Random { seed } => AnyBalancer::Random(Random::new(backends, *seed)),
            Algorithm::WeightedRandom { seed } => {
                AnyBalancer::WeightedRandom(WeightedRandom::new(backends, *seed))
            }
            Algorithm::Iptables { seed } => {
                AnyBalancer::Iptables(IptablesChain::new(backends, *seed))
            }
            Algorithm::Nftables { seed } => {
                AnyBalancer::Nftables(NftablesNumgen::new(backends, *seed))
            }
            Algorithm::Ipvs { scheduler, seed } => {
                AnyBalancer::Ipvs(Ipvs::new(backends, *scheduler, *seed))
            }
            Algorithm::LeastRequest { choice_count, seed } => {
                AnyBalancer::LeastRequest(LeastRequest::new(backends, *choice_count, *seed))
            }
            Algorithm::PeakEwma(c) => AnyBalancer::PeakEwma(PeakEwma::new(backends, c)),
            Algorithm::Maglev(c) => AnyBalancer::Maglev(Maglev::new(backends, c)?),
            Algorithm::Ketama(c) => AnyBalancer::Ketama(Ketama::new(backends, c)?),
            Algorithm::Jump { flow_hash, seed } => {
                super::check_unique(backends)?;
                AnyBalancer::Jump(JumpHash::new(backends, *flow_hash, *seed))
            }
            Algorithm::Rendezvous { flow_hash, seed } => {
                AnyBalancer::Rendezvous(Rendezvous::new(backends, *flow_hash, *seed)?)
            }
        })
    }
}

/// Any balancer of this module, behind one type.
///
/// ```
/// use svcroute::balance::{Algorithm, AnyBalancer, Backend, Balancer, Request};
/// let mut lb: AnyBalancer = Algorithm::RoundRobin.build(&Backend::list(["a", "b"]))?;
/// assert_eq!(lb.pick(&Request::none()), Some(0));
/// # Ok::<(), svcroute::balance::BalanceError>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
#[allow(missing_docs)]
pub enum AnyBalancer {
    RoundRobin(RoundRobin),
    SmoothWeighted(SmoothWeighted),
    Random(Random),
    WeightedRandom(WeightedRandom),
    Iptables(IptablesChain),
    Nftables(NftablesNumgen),
    Ipvs(Ipvs),
    LeastRequest(LeastRequest),
    PeakEwma(PeakEwma),
    Maglev(Maglev),
    Ketama(Ketama),
    Jump(JumpHash),
    Rendezvous(Rendezvous),
}

macro_rules! each {
    ($self:ident, $b:ident => $e:expr) => {
        match $self {
            AnyBalancer::RoundRobin($b) => $e,
            AnyBalancer::SmoothWeighted($b) => $e,
            AnyBalancer::Random($b) => $e,
            AnyBalancer::WeightedRandom($b) => $e,
            AnyBalancer::Iptables($b) => $e,
            AnyBalancer::Nftables($b) => $e,
            AnyBalancer::Ipvs($b) => $e,
            AnyBalancer::LeastRequest($b) => $e,
            AnyBalancer::PeakEwma($b) => $e,
            AnyBalancer::Maglev($b) => $e,
            AnyBalancer::Ketama($b) => $e,
            AnyBalancer::Jump($b) => $e,
            AnyBalancer::Rendezvous($b) => $e,
        }
    };
}

impl Balancer for AnyBalancer {
    #[inline]
    fn pick(&mut self, req: &Request) -> Option<usize> {
        each!(self, b => b.pick(req))
    }

    fn observe(&mut self, event: Event) {
        each!(self, b => b.observe(event))
    }

    fn set_backends(&mut self, backends: &[Backend]) -> Result<(), BalanceError> {
        each!(self, b => b.set_backends(backends))
    }

    fn len(&self) -> usize {
        each!(self, b => b.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_build() {
        assert_eq!(Algorithm::NAMES.len(), 13);
        for name in Algorithm::NAMES {
            let a = Algorithm::from_name(name, 3).unwrap();
            assert_eq!(a.name(), *name);
            let lb = a
                .build(&Backend::list(["10.0.0.1:80", "10.0.0.2:80"]))
                .unwrap();
            assert_eq!(lb.len(), 2);
        }
        let err = Algorithm::from_name("kube-proxy", 0).unwrap_err();
        assert!(err.to_string().contains("round-robin, smooth-weighted"));
        assert!(Algorithm::from_name("Maglev", 0).is_err());
    }
}
