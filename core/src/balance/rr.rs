//! Plain round robin.

use super::{Backend, BalanceError, Balancer, Request};

/// Round robin over the eligible (weight > 0) backends, in list order,
/// ignoring weight values otherwise. Any `n` consecutive picks over a static
/// set of `n` eligible backends hit each exactly once.
///
/// On [`set_backends`](Balancer::set_backends) the cursor continues after the
/// last picked backend if it survives (by key), so a change does not restart
/// the rotation at the first backend.
///
/// ```
/// use svcroute::balance::{Backend, Balancer, Request, RoundRobin};
/// let mut lb = RoundRobin::new(&[Backend::new("a", 1), Backend::new("b", 0), Backend::new("c", 5)]);
/// let picks: Vec<_> = (0..4).map(|_| lb.pick(&Request::none()).unwrap()).collect();
/// assert_eq!(picks, [0, 2, 0, 2]);
/// ```
#[derive(Debug, Clone)]
pub struct RoundRobin {
    eligible: Vec<u32>,
    keys: Vec<String>,
    len: usize,
    cursor: usize,
}

impl RoundRobin {
    /// A round robin over `backends`, starting at the first eligible one.
    ///
    /// ```
    /// use svcroute::balance::{Backend, RoundRobin};
    /// let mut lb = RoundRobin::new(&Backend::list(["x"]));
    /// assert_eq!(lb.next(), Some(0));
    /// ```
    pub fn new(backends: &[Backend]) -> RoundRobin {
        let mut rr = RoundRobin {
            eligible: Vec::new(),
            keys: Vec::new(),
            len: 0,
            cursor: 0,
        };
        rr.rebuild(backends);
        rr
    }

    fn rebuild(&mut self, backends: &[Backend]) {
        self.eligible = backends
            .iter()
            .enumerate()
            .filter(|(_, b)| b.weight > 0)
            .map(|(i, _)| i as u32)
            .collect();
        self.keys = backends.iter().map(|b| b.key.clone()).collect();
        self.len = backends.len();
    }

    /// The next backend index (the pick, without a request).
    ///
    /// ```
    /// use svcroute::balance::{Backend, RoundRobin};
    /// let mut lb = RoundRobin::new(&Backend::list(["a", "b"]));
    /// assert_eq!((lb.next(), lb.next(), lb.next()), (Some(0), Some(1), Some(0)));
    /// ```
    #[inline]
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<usize> {
        // `cursor < eligible.len()` whenever the list is non-empty, so one
        // bounds check covers both the empty case and the index.
        let c = self.cursor;
        let i = *self.eligible.get(c)?;
        let c = c + 1;
        self.cursor = if c == self.eligible.len() { 0 } else { c };
        Some(i as usize)
    }
}

impl Balancer for RoundRobin {
    #[inline]
    fn pick(&mut self, _req: &Request) -> Option<usize> {
        self.next()
    }

    fn set_backends(&mut self, backends: &[Backend]) -> Result<(), BalanceError> {
        // The backend that would have been picked next, if it survives,
        // stays next; otherwise the first survivor after it in the old order.
        let old_order: Vec<String> = (0..self.eligible.len())
            .map(|k| {
                let idx = self.eligible[(self.cursor + k) % self.eligible.len()] as usize;
                self.keys[idx].clone()
            })
            .collect();
        self.rebuild(backends);
        self.cursor = 0;
        for key in &old_order {
            if let Some(pos) = self
                .eligible
                .iter()
                .position(|&i| self.keys[i as usize] == *key)
            {
                self.cursor = pos;
                break;
            }
        }
        Ok(())
    }

    fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_all_zero() {
        let mut lb = RoundRobin::new(&[]);
        assert_eq!(lb.next(), None);
        let mut lb = RoundRobin::new(&[Backend::new("a", 0)]);
        assert_eq!(lb.next(), None);
    }

    #[test]
    fn update_keeps_position() {
        let mut lb = RoundRobin::new(&Backend::list(["a", "b", "c", "d"]));
        assert_eq!(lb.next(), Some(0));
        assert_eq!(lb.next(), Some(1));
        // "c" would be next; remove "b", add "e".
        lb.set_backends(&Backend::list(["a", "c", "d", "e"]))
            .unwrap();
        assert_eq!(lb.next(), Some(1)); // "c"
        assert_eq!(lb.next(), Some(2)); // "d"
        assert_eq!(lb.next(), Some(3)); // "e"
    }
}
