//! Where the hops of a decision go: a [`Tracer`]. [`Dataplane::route`]
//! records them ([`Vec<Hop>`]); [`Dataplane::decide`] passes [`NoTrace`],
//! which formats nothing and allocates nothing. Both run the same decision
//! code, so they cannot disagree.
//!
//! [`Dataplane::route`]: super::Dataplane::route
//! [`Dataplane::decide`]: super::Dataplane::decide

use std::fmt;

use super::Hop;

/// A sink for the hops of a decision.
///
/// ```
/// use svcroute::dataplane::{Hop, NoTrace, Tracer};
/// let mut hops: Vec<Hop> = Vec::new();
/// hops.hop(Some("KP-7"), format_args!("drop on {}", "n1"));
/// assert_eq!(hops[0].to_string(), "[KP-7] drop on n1");
/// let mut none = NoTrace;
/// none.hop(None, format_args!("never formatted"));
/// assert!(!none.enabled());
/// ```
pub trait Tracer {
    /// Whether hops are kept (details that cost work are skipped otherwise).
    fn enabled(&self) -> bool;
    /// Records one hop; `detail` is formatted only if the tracer keeps it.
    fn hop(&mut self, rule: Option<&'static str>, detail: fmt::Arguments<'_>);
}

/// The tracer that keeps nothing: the decision without its trace.
///
/// ```
/// use svcroute::dataplane::{NoTrace, Tracer};
/// assert!(!NoTrace.enabled());
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTrace;

impl Tracer for NoTrace {
    #[cfg_attr(not(feature = "compact"), inline(always))]
    fn enabled(&self) -> bool {
        false
    }

    #[cfg_attr(not(feature = "compact"), inline(always))]
    fn hop(&mut self, _rule: Option<&'static str>, _detail: fmt::Arguments<'_>) {}
}

impl Tracer for Vec<Hop> {
    fn enabled(&self) -> bool {
        true
    }

    fn hop(&mut self, rule: Option<&'static str>, detail: fmt::Arguments<'_>) {
        self.push(Hop {
            rule,
            detail: detail.to_string(),
        });
    }
}
