//! The cluster layer: what the control plane holds and does; for now its admission step.
pub mod admission;
